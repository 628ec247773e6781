// The datagram transport (asyncio's _SelectorDatagramTransport).
//
// Design. The transport is the loop's IoWatcher for its socket, like the
// stream transport, and shares its flow control and close path
// (transport_core.h): `self_` is the loop's reference while the endpoint is
// open, connection_lost runs from call_soon, on_io ignores events once closed.
// sendto() sends at once; only what the kernel refuses for now (EAGAIN) is
// copied, with its address, into a queue, and only then is EPOLLOUT watched.
// On readiness up to kMaxDatagramsPerReadiness datagrams are read, each handed
// to datagram_received() straight from the per-thread read buffer. OS errors
// on a send or a receive go to error_received() and the endpoint stays open
// (UDP has no connection to lose); an exception from a protocol callback is
// fatal for the endpoint.
#include "net/internal/datagram_transport.h"

#include <sys/epoll.h>
#include <sys/socket.h>

#include <cerrno>
#include <deque>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>

#include "async/errors.h"
#include "net/internal/datagram_setup.h"
#include "net/internal/transport_core.h"

namespace aio::internal {
namespace {

// Datagrams read per readiness before the loop moves on to other descriptors
// and tasks: under load one epoll_wait serves many datagrams; the bound keeps
// one busy socket from starving the rest of the loop.
constexpr int kMaxDatagramsPerReadiness = 32;
// asyncio counts each queued datagram as its size plus 8 bytes (its
// _header_size), so that queued empty datagrams still count toward the limits.
constexpr std::size_t kQueuedDatagramOverhead = 8;

bool is_retry(int error) noexcept { return error == EAGAIN || error == EWOULDBLOCK || error == EINTR; }

class DatagramTransportImpl final : public DatagramTransport,
                                    public std::enable_shared_from_this<DatagramTransportImpl>,
                                    public internal::TransportCore<DatagramTransportImpl, DatagramProtocol> {
 public:
  DatagramTransportImpl(EventLoop& loop, FileDescriptor fd, std::shared_ptr<DatagramProtocol> protocol,
                        std::optional<SocketAddress> remote)
      : TransportCore(loop, fd.release(), std::move(protocol)),
        remote_(std::move(remote)),
        sockname_(local_address_of(fd_)) {}

  void start() {
    start_tracking(shared_from_this());
    try {
      update_interest();
    } catch (...) {
      abandon_start();
      throw;
    }
    try {
      protocol_->connection_made(shared_from_this());
    } catch (...) {
      fatal_error(std::current_exception(), "Fatal error: protocol.connection_made() call failed.");
    }
  }

  // --- sending ---------------------------------------------------------------
  void sendto(std::string_view data) override {
    if (!remote_) {
      throw ValueError("sendto: no address given, and the endpoint has no remote_addr to send to");
    }
    send_datagram(data, nullptr);
  }

  void sendto(std::string_view data, const SocketAddress& address) override {
    if (remote_) {
      if (!(address == *remote_)) {
        throw ValueError("sendto: invalid address " + address.to_string() + ": must be absent or " +
                         remote_->to_string() + " (the endpoint's remote_addr)");
      }
      send_datagram(data, nullptr);
      return;
    }
    if (address.empty()) throw ValueError("sendto: empty address");
    send_datagram(data, &address);
  }

  // --- BaseTransport ---------------------------------------------------------
  bool is_closing() const override { return closing_; }

  void close() override {
    if (closing_) return;
    closing_ = true;
    update_interest_quietly();
    if (queue_.empty() && lost_count_ == 0) finish_close();
  }

  void abort() override { force_close(nullptr); }

  std::any get_extra_info(std::string_view name) const override {
    if (name == "socket") return fd_ >= 0 ? std::any(fd_) : std::any();
    if (name == "peername") return remote_ ? std::any(*remote_) : std::any();
    if (name == "sockname") return sockname_ ? std::any(*sockname_) : std::any();
    return {};
  }

  void set_protocol(std::shared_ptr<DatagramProtocol> protocol) override {
    if (!protocol) throw ValueError("DatagramTransport.set_protocol: the protocol is null");
    protocol_ = std::move(protocol);
  }
  std::shared_ptr<DatagramProtocol> get_protocol() const override { return protocol_; }

  std::size_t get_write_buffer_size() const override { return queued_bytes_; }

  void set_write_buffer_limits(std::optional<std::size_t> high, std::optional<std::size_t> low) override {
    set_write_buffer_limits_to(high, low, queued_bytes_);
  }
  std::pair<std::size_t, std::size_t> get_write_buffer_limits() const override { return write_buffer_limits(); }

 private:
  friend class internal::TransportCore<DatagramTransportImpl, DatagramProtocol>;

  struct QueuedDatagram {
    std::string data;
    SocketAddress address;  // empty on a connected endpoint
  };

  // --- sending ---------------------------------------------------------------
  void send_datagram(std::string_view data, const SocketAddress* address) {
    if (closing_) {
      note_dropped_write(dropped_sends_,
                         "aio: socket.send() raised exception (sends on a closed datagram transport are dropped).");
      return;
    }
    const bool was_empty = queue_.empty();
    if (was_empty) {
      // Try at once; queue only what the kernel refuses for now. (Behind a
      // queue, the datagram waits its turn: datagrams leave in sendto order.)
      if (send_now(data, address) >= 0) return;
      const int error = errno;
      if (!is_retry(error)) {
        deliver_error(send_error(error, address));
        return;
      }
    }
    queue_.push_back(QueuedDatagram{std::string(data), address ? *address : SocketAddress()});
    queued_bytes_ += data.size() + kQueuedDatagramOverhead;
    if (was_empty) update_interest_quietly();  // watch EPOLLOUT until the queue is empty
    maybe_pause_protocol(queued_bytes_);
  }

  ssize_t send_now(std::string_view data, const SocketAddress* address) {
    // MSG_NOSIGNAL: a Unix datagram peer that went away must be an EPIPE error, not a SIGPIPE.
    if (address == nullptr) return ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    return ::sendto(fd_, data.data(), data.size(), MSG_NOSIGNAL, address->data(), address->size());
  }

  std::exception_ptr send_error(int error, const SocketAddress* address) const {
    const SocketAddress* target = address ? address : (remote_ ? &*remote_ : nullptr);
    return std::make_exception_ptr(
        os_error(error, "sendto " + (target ? target->to_string() : std::string("(no address)"))));
  }

  // --- receiving -------------------------------------------------------------
  void read_ready() {
    char* buffer = transport_read_buffer();
    for (int count = 0; count < kMaxDatagramsPerReadiness && !closing_; ++count) {
      SocketAddress from;
      socklen_t length = SocketAddress::capacity();
      // MSG_TRUNC: the result is the datagram's real size, so an oversized one
      // is detected instead of delivered cut short.
      ssize_t received = ::recvfrom(fd_, buffer, kTransportReadBufferSize, MSG_TRUNC, from.data(), &length);
      if (received < 0) {
        const int error = errno;
        if (error == EINTR) continue;
        if (error == EAGAIN || error == EWOULDBLOCK) return;
        // A pending socket error (ECONNREFUSED after an ICMP port unreachable,
        // ...): the protocol hears of it, the endpoint stays open.
        deliver_error(std::make_exception_ptr(os_error(error, "recvfrom on " + describe_socket(fd_, remote_))));
        return;
      }
      from.set_size(length);
      const std::size_t size = static_cast<std::size_t>(received);
      if (size > kTransportReadBufferSize) {
        deliver_error(std::make_exception_ptr(
            os_error(EMSGSIZE, "recvfrom on " + describe_socket(fd_, remote_) + ": a " + std::to_string(size) +
                                   "-byte datagram from " + from.to_string() + " exceeds the " +
                                   std::to_string(kTransportReadBufferSize) + "-byte limit and was discarded")));
        continue;
      }
      // A copy of the handle: the callback may replace the protocol or close us.
      std::shared_ptr<DatagramProtocol> protocol = protocol_;
      try {
        protocol->datagram_received(std::string_view(buffer, size), from);
      } catch (...) {
        fatal_error(std::current_exception(), "Fatal error: protocol.datagram_received() call failed.");
        return;
      }
    }
  }

  void deliver_error(std::exception_ptr error) {
    std::shared_ptr<DatagramProtocol> protocol = protocol_;
    if (!protocol) return;
    try {
      protocol->error_received(std::move(error));
    } catch (...) {
      fatal_error(std::current_exception(), "Fatal error: protocol.error_received() call failed.");
    }
  }

  // --- readiness -------------------------------------------------------------
  void on_io(std::uint32_t events) override {
    if (!watching()) return;  // closed earlier in this poll
    // No reference is taken here: closing only schedules connection_lost
    // (call_soon holds the loop's reference), so the transport outlives the
    // callbacks below (as in the stream transport).
    if ((events & (EPOLLIN | EPOLLERR | EPOLLHUP)) && !closing_) read_ready();
    if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) && !queue_.empty() && lost_count_ == 0) flush_queue();
  }

  void flush_queue() {
    while (!queue_.empty()) {
      QueuedDatagram& front = queue_.front();
      const SocketAddress* address = front.address.empty() ? nullptr : &front.address;
      int error = 0;
      if (send_now(front.data, address) < 0) {
        error = errno;
        if (is_retry(error)) break;  // still full: wait for the next EPOLLOUT
      }
      std::exception_ptr failure = error != 0 ? send_error(error, address) : nullptr;
      queued_bytes_ -= front.data.size() + kQueuedDatagramOverhead;
      queue_.pop_front();
      if (failure) {
        deliver_error(std::move(failure));
        if (lost_count_ > 0) return;  // the protocol aborted us
      }
    }
    maybe_resume_protocol(queued_bytes_);  // resume_writing() may queue more
    if (!queue_.empty() || lost_count_ > 0) return;
    update_interest_quietly();
    if (closing_ && lost_count_ == 0) finish_close();
  }

  // --- interest --------------------------------------------------------------
  void update_interest() {
    std::uint32_t wanted = 0;
    if (!closing_) wanted |= EPOLLIN;
    if (!queue_.empty() && lost_count_ == 0) wanted |= EPOLLOUT;
    set_interest(wanted, /*keep_registered=*/false);
  }

  // TransportCore's hooks.
  void drop_write_buffer() noexcept {
    queue_.clear();
    queued_bytes_ = 0;
  }
  void release_references() noexcept {}

  const std::optional<SocketAddress> remote_;
  const std::optional<SocketAddress> sockname_;
  std::deque<QueuedDatagram> queue_;
  std::size_t queued_bytes_ = 0;
  int dropped_sends_ = 0;
};

}  // namespace

std::shared_ptr<DatagramTransport> make_datagram_transport(EventLoop& loop, FileDescriptor fd,
                                                           std::shared_ptr<DatagramProtocol> protocol,
                                                           std::optional<SocketAddress> remote) {
  auto transport = std::make_shared<DatagramTransportImpl>(loop, std::move(fd), std::move(protocol), std::move(remote));
  transport->start();
  return transport;
}

}  // namespace aio::internal
