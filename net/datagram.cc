// Datagram endpoints and sockets: opening the socket (resolve, bind, connect),
// the datagram transport (asyncio's _SelectorDatagramTransport), and the
// awaitable DatagramSocket with its readiness watcher.
//
// Read net/datagram.h first. Three parts below:
//
// - open_datagram_socket(): resolves local_addr / remote_addr off the loop's
//   thread, pairs them by address family (one attempt per family, as asyncio),
//   and returns a bound and/or connected non-blocking socket.
// - DatagramTransportImpl: the loop's IoWatcher for its socket. Same lifetime
//   rules as the stream transport: `self_` is the loop's reference while the
//   endpoint is open, connection_lost runs from call_soon, on_io ignores
//   events once closed.
// - DatagramSocketState: what a DatagramSocket owns: the descriptor and a
//   watcher with one slot for a receiving task and one for a sending task, so
//   that both can wait on one descriptor at once (the loop takes one watcher
//   per descriptor, which internal::WaitForIo occupies alone).
#include "net/datagram.h"

#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <coroutine>
#include <cstdio>
#include <deque>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "async/future.h"
#include "async/loop.h"
#include "async/task.h"
#include "net/dns.h"
#include "net/internal/socket.h"
#include "net/internal/transport_core.h"

namespace aio {
namespace {

using internal::FileDescriptor;
using internal::kTransportReadBufferSize;
using internal::local_address_of;
using internal::os_error;
using internal::transport_read_buffer;

// --- opening the socket --------------------------------------------------------

struct OpenedSocket {
  FileDescriptor fd;
  std::optional<SocketAddress> remote;
};

bool is_ip_family(int family) noexcept { return family == AF_INET || family == AF_INET6; }

void check_family(int family, const char* who) {
  if (family != AF_UNSPEC && family != AF_INET && family != AF_INET6 && family != AF_UNIX) {
    throw std::invalid_argument(std::string(who) + ": unsupported address family " + std::to_string(family) +
                                " (use AF_INET, AF_INET6, AF_UNIX or AF_UNSPEC)");
  }
}

// The wildcard address of each family `family` allows, IPv4 first.
std::vector<SocketAddress> wildcard_addresses(int family, std::uint16_t port) {
  std::vector<SocketAddress> addresses;
  if (family == AF_UNSPEC || family == AF_INET) addresses.push_back(SocketAddress::parse("0.0.0.0", port));
  if (family == AF_UNSPEC || family == AF_INET6) addresses.push_back(SocketAddress::parse("::", port));
  return addresses;
}

// IP addresses for one side. A local address with an empty host is the
// wildcard, answered here without a resolver call.
Coro<std::vector<SocketAddress>> resolve(HostAndPort endpoint, int family, bool local) {
  if (local && endpoint.host.empty()) co_return wildcard_addresses(family, endpoint.port);
  AddressHints hints;
  hints.family = family;
  hints.type = SOCK_DGRAM;
  // asyncio passes no flags; AI_PASSIVE only matters for a null host, which a
  // local address never reaches here.
  hints.flags = 0;
  Coro<std::vector<AddressInfo>> resolving = getaddrinfo(std::move(endpoint.host), endpoint.port, hints);
  std::vector<AddressInfo> infos = co_await std::move(resolving);
  std::vector<SocketAddress> addresses;
  for (const AddressInfo& info : infos) {
    if (is_ip_family(info.family)) addresses.push_back(info.address);
  }
  co_return addresses;
}

// A stale socket file at `path` (left by a process that did not unlink it) is
// removed before binding, as asyncio does for Unix datagram endpoints; any other
// kind of file there is left alone and bind() reports EADDRINUSE.
void remove_stale_unix_socket(const SocketAddress& address) {
  std::string path = address.host();
  if (path.empty() || path[0] == '\0') return;  // abstract: nothing on disk
  struct stat status {};
  if (::stat(path.c_str(), &status) == 0 && S_ISSOCK(status.st_mode)) ::unlink(path.c_str());
}

void set_flag(int fd, int option, const char* name) {
  int one = 1;
  if (::setsockopt(fd, SOL_SOCKET, option, &one, sizeof one) < 0) {
    throw os_error(errno, std::string("setsockopt(") + name + ")");
  }
}

// One attempt: a socket of `family`, bound to `local` and connected to `remote`
// when given.
OpenedSocket open_one(int family, const std::optional<SocketAddress>& local, const std::optional<SocketAddress>& remote,
                      const DatagramOptions& options) {
  const std::optional<SocketAddress>& named = remote ? remote : local;
  FileDescriptor fd(::socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) throw os_error(errno, "socket for " + (named ? named->to_string() : std::string("a datagram endpoint")));
  if (options.reuse_port) set_flag(fd.get(), SO_REUSEPORT, "SO_REUSEPORT");
  if (options.allow_broadcast) set_flag(fd.get(), SO_BROADCAST, "SO_BROADCAST");
  if (local) {
    if (family == AF_UNIX) remove_stale_unix_socket(*local);
    if (::bind(fd.get(), local->data(), local->size()) < 0) {
      throw os_error(errno, "error while attempting to bind on address " + local->to_string());
    }
  }
  if (remote && ::connect(fd.get(), remote->data(), remote->size()) < 0) {
    // A datagram connect only records the peer: it never waits (no EINPROGRESS).
    throw os_error(errno, "connect to " + remote->to_string());
  }
  return OpenedSocket{std::move(fd), remote};
}

SocketAddress unix_address(const HostAndPort& endpoint, const char* who) {
  if (endpoint.port != 0) {
    throw std::invalid_argument(std::string(who) + ": an AF_UNIX address is a path; its port must be 0, not " +
                                std::to_string(endpoint.port));
  }
  return SocketAddress::unix_path(endpoint.host);
}

Coro<OpenedSocket> open_datagram_socket(DatagramOptions options, const char* who) {
  check_family(options.family, who);
  if (options.remote_addr && options.remote_addr->host.empty()) {
    throw std::invalid_argument(std::string(who) + ": remote_addr needs a host");
  }
  if (options.family == AF_UNIX) {
    if (options.reuse_port || options.allow_broadcast) {
      throw std::invalid_argument(std::string(who) + ": reuse_port and allow_broadcast apply to IP sockets only");
    }
    std::optional<SocketAddress> local;
    std::optional<SocketAddress> remote;
    if (options.local_addr) local = unix_address(*options.local_addr, who);
    if (options.remote_addr) remote = unix_address(*options.remote_addr, who);
    co_return open_one(AF_UNIX, local, remote, options);
  }
  if (!options.local_addr && !options.remote_addr) {
    if (options.family == AF_UNSPEC) {
      throw std::invalid_argument(std::string(who) +
                                  ": unexpected address family: give local_addr, remote_addr or a family");
    }
    co_return open_one(options.family, std::nullopt, std::nullopt, options);
  }

  std::vector<SocketAddress> locals;
  std::vector<SocketAddress> remotes;
  // Each Coro is made before its co_await: GCC 12 may destroy temporaries with
  // non-trivial members made inside a co_await expression twice.
  if (options.local_addr) {
    Coro<std::vector<SocketAddress>> resolving = resolve(*options.local_addr, options.family, /*local=*/true);
    locals = co_await std::move(resolving);
  }
  if (options.remote_addr) {
    Coro<std::vector<SocketAddress>> resolving = resolve(*options.remote_addr, options.family, /*local=*/false);
    remotes = co_await std::move(resolving);
  }

  // One (local, remote) pair per family, the first address of each, in the
  // order the resolver gave (asyncio keys its attempts by family the same way).
  struct Attempt {
    int family;
    std::optional<SocketAddress> local;
    std::optional<SocketAddress> remote;
  };
  std::vector<Attempt> attempts;
  auto tried = [&attempts](int family) {
    for (const Attempt& attempt : attempts) {
      if (attempt.family == family) return true;
    }
    return false;
  };
  if (options.remote_addr) {
    for (const SocketAddress& remote : remotes) {
      if (tried(remote.family())) continue;
      if (!options.local_addr) {
        attempts.push_back(Attempt{remote.family(), std::nullopt, remote});
        continue;
      }
      for (const SocketAddress& local : locals) {
        if (local.family() == remote.family()) {
          attempts.push_back(Attempt{remote.family(), local, remote});
          break;
        }
      }
    }
  } else {
    for (const SocketAddress& local : locals) {
      if (!tried(local.family())) attempts.push_back(Attempt{local.family(), local, std::nullopt});
    }
  }
  if (attempts.empty()) {
    throw std::invalid_argument(std::string(who) +
                                ": can not get address information: local_addr and remote_addr have no address "
                                "family in common");
  }
  std::exception_ptr first_error;
  for (const Attempt& attempt : attempts) {
    try {
      co_return open_one(attempt.family, attempt.local, attempt.remote, options);
    } catch (const std::system_error&) {
      if (!first_error) first_error = std::current_exception();
    }
  }
  std::rethrow_exception(first_error);
}

// --- the transport -------------------------------------------------------------

// Datagrams read per readiness before the loop moves on to other descriptors
// and tasks: under load one epoll_wait serves many datagrams; the bound keeps
// one busy socket from starving the rest of the loop.
constexpr int kMaxDatagramsPerReadiness = 32;
// asyncio counts each queued datagram as its size plus 8 bytes (its
// _header_size), so that queued empty datagrams still count toward the limits.
constexpr std::size_t kQueuedDatagramOverhead = 8;

bool is_retry(int error) noexcept { return error == EAGAIN || error == EWOULDBLOCK || error == EINTR; }

// "127.0.0.1:5000", or "127.0.0.1:5000 connected to 127.0.0.1:53": for error
// messages, which must say which socket failed (and, on a connected socket,
// which peer the error came from).
std::string describe_socket(int fd, const std::optional<SocketAddress>& remote) {
  std::optional<SocketAddress> address = local_address_of(fd);
  std::string text = address ? address->to_string() : std::string();
  if (text.empty()) text = "an unnamed socket";
  if (remote) text += " connected to " + remote->to_string();
  return text;
}

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
      throw std::invalid_argument("sendto: no address given, and the endpoint has no remote_addr to send to");
    }
    send_datagram(data, nullptr);
  }

  void sendto(std::string_view data, const SocketAddress& address) override {
    if (remote_) {
      if (!(address == *remote_)) {
        throw std::invalid_argument("sendto: invalid address " + address.to_string() + ": must be absent or " +
                                    remote_->to_string() + " (the endpoint's remote_addr)");
      }
      send_datagram(data, nullptr);
      return;
    }
    if (address.empty()) throw std::invalid_argument("sendto: empty address");
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
    if (!protocol) throw std::invalid_argument("set_protocol: null protocol");
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

Coro<DatagramEndpoint<DatagramProtocol>> create_datagram_endpoint(DatagramProtocolFactory factory,
                                                                  DatagramOptions options) {
  if (!factory) throw std::invalid_argument("create_datagram_endpoint: empty protocol factory");
  EventLoop& loop = get_running_loop();
  Coro<OpenedSocket> opening = open_datagram_socket(std::move(options), "create_datagram_endpoint");
  OpenedSocket opened = co_await std::move(opening);
  // asyncio makes the protocol once the socket is ready.
  std::shared_ptr<DatagramProtocol> protocol = factory();
  if (!protocol) throw std::invalid_argument("create_datagram_endpoint: the protocol factory returned null");
  auto transport =
      std::make_shared<DatagramTransportImpl>(loop, std::move(opened.fd), protocol, std::move(opened.remote));
  transport->start();
  co_return DatagramEndpoint<DatagramProtocol>{std::move(transport), std::move(protocol)};
}

// --- DatagramSocket --------------------------------------------------------------

namespace internal {

// The descriptor of a DatagramSocket and its readiness watcher: one slot for a
// task waiting to receive, one for a task waiting to send. The descriptor is in
// epoll only while a task waits (so a socket that never waits costs no epoll
// call, and one with no waiter can move to another loop).
class DatagramSocketState final : private IoWatcher {
 public:
  enum class Direction { kReceive, kSend };

  // The awaiter a DatagramSocket call suspends on (a local of the calling
  // coroutine, like internal::WaitForIo): no allocation per wait.
  class Wait final : private Cancellable {
   public:
    Wait(DatagramSocketState& socket, Direction direction, const char* operation) noexcept
        : socket_(&socket), direction_(direction), operation_(operation) {}
    Wait(const Wait&) = delete;
    Wait& operator=(const Wait&) = delete;
    ~Wait() {
      if (socket_ != nullptr) socket_->forget(*this);
    }

    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> resume_point) {
      task_ = &current_task_or_throw(operation_);
      socket_->park(*this, task_->loop());
      task_->suspend(resume_point, this);
    }
    void await_resume() {
      if (outcome_ == Outcome::kCancelled) throw CancelledError(task_->cancel_message());
      if (outcome_ == Outcome::kClosed) {
        throw os_error(EBADF, std::string(operation_) + ": the socket was closed while this task waited on it");
      }
      task_->throw_if_cancel_requested();
    }

   private:
    friend class DatagramSocketState;
    enum class Outcome { kReady, kCancelled, kClosed };

    // The socket ended the wait (it is out of the slot already).
    void finish(Outcome outcome) noexcept {
      socket_ = nullptr;
      outcome_ = outcome;
      task_->wake();
    }
    bool cancel_wait(const std::string& message) override {
      if (socket_ == nullptr) return false;  // already woken
      socket_->forget(*this);
      socket_ = nullptr;
      outcome_ = Outcome::kCancelled;
      task_->set_cancel_message(message);
      task_->wake();
      return true;
    }

    DatagramSocketState* socket_;
    const Direction direction_;
    const char* const operation_;
    TaskBase* task_ = nullptr;
    Outcome outcome_ = Outcome::kReady;
  };

  DatagramSocketState(FileDescriptor fd, std::optional<SocketAddress> remote) noexcept
      : fd_(std::move(fd)), remote_(std::move(remote)) {}
  DatagramSocketState(const DatagramSocketState&) = delete;
  DatagramSocketState& operator=(const DatagramSocketState&) = delete;
  ~DatagramSocketState() { close(); }

  int fd() const noexcept { return fd_.get(); }
  bool is_open() const noexcept { return static_cast<bool>(fd_); }
  const std::optional<SocketAddress>& remote() const noexcept { return remote_; }
  bool busy(Direction direction) const noexcept { return slot(direction) != nullptr; }

  void close() noexcept {
    Wait* receiver = std::exchange(receiver_, nullptr);
    Wait* sender = std::exchange(sender_, nullptr);
    unwatch();
    fd_.reset();
    if (receiver) receiver->finish(Wait::Outcome::kClosed);
    if (sender) sender->finish(Wait::Outcome::kClosed);
  }

 private:
  Wait* const& slot(Direction direction) const noexcept {
    return direction == Direction::kReceive ? receiver_ : sender_;
  }
  Wait*& slot(Direction direction) noexcept { return direction == Direction::kReceive ? receiver_ : sender_; }

  void park(Wait& wait, EventLoop& loop) {
    if (!fd_) throw os_error(EBADF, std::string(wait.operation_) + ": the socket is closed");
    Wait*& place = slot(wait.direction_);
    if (place != nullptr) {
      throw std::runtime_error(std::string(wait.operation_) +
                               "() called while another task is already waiting on this socket for the same");
    }
    if (registered_ != 0 && loop_ != &loop) {
      throw std::runtime_error(std::string(wait.operation_) + ": the socket is in use by another event loop");
    }
    place = &wait;
    try {
      watch(loop);
    } catch (...) {
      place = nullptr;
      throw;
    }
  }

  void forget(Wait& wait) noexcept {
    Wait*& place = slot(wait.direction_);
    if (place != &wait) return;
    place = nullptr;
    rewatch_or_wake_all();
  }

  // Watches for what the parked tasks wait on; leaves epoll when none waits.
  void watch(EventLoop& loop) {
    const std::uint32_t wanted = (receiver_ ? EPOLLIN : 0u) | (sender_ ? EPOLLOUT : 0u);
    if (wanted == registered_) return;
    if (wanted == 0) {
      unwatch();
      return;
    }
    loop.watch_io(fd_.get(), this, wanted, registered_ != 0);
    registered_ = wanted;
    loop_ = &loop;
  }
  void unwatch() noexcept {
    if (registered_ != 0 && fd_) loop_->unwatch_io(fd_.get());
    registered_ = 0;
    loop_ = nullptr;
  }
  // After a waiter left: epoll refuses to narrow the interest only for a
  // descriptor it cannot watch. Then wake whoever still waits: each retries its
  // call, and a new wait reports epoll's error to its own task.
  void rewatch_or_wake_all() noexcept {
    if (loop_ == nullptr) return;
    try {
      watch(*loop_);
    } catch (...) {
      Wait* receiver = std::exchange(receiver_, nullptr);
      Wait* sender = std::exchange(sender_, nullptr);
      unwatch();
      if (receiver) receiver->finish(Wait::Outcome::kReady);
      if (sender) sender->finish(Wait::Outcome::kReady);
    }
  }

  void on_io(std::uint32_t events) override {
    if (registered_ == 0) return;  // nobody waits any more (cancelled earlier in this poll)
    // Errors and hang-ups wake both sides: each finds out by retrying its call.
    constexpr std::uint32_t kAlways = EPOLLERR | EPOLLHUP;
    Wait* receiver = (events & (EPOLLIN | kAlways)) ? std::exchange(receiver_, nullptr) : nullptr;
    Wait* sender = (events & (EPOLLOUT | kAlways)) ? std::exchange(sender_, nullptr) : nullptr;
    rewatch_or_wake_all();
    if (receiver) receiver->finish(Wait::Outcome::kReady);
    if (sender) sender->finish(Wait::Outcome::kReady);
  }

  FileDescriptor fd_;
  const std::optional<SocketAddress> remote_;
  Wait* receiver_ = nullptr;
  Wait* sender_ = nullptr;
  EventLoop* loop_ = nullptr;  // where the descriptor is watched, while it is
  std::uint32_t registered_ = 0;
};

}  // namespace internal

namespace {

using internal::DatagramSocketState;
using Direction = DatagramSocketState::Direction;

// DatagramSocket receives into this buffer, then copies only the datagram into
// the string it returns: a default max_size of 64 KiB costs no 64 KiB string.
// Separate from the transports' buffer, which a protocol callback may still be
// reading while a task started eagerly from it receives.
constexpr std::size_t kSocketReceiveBufferSize = DatagramSocket::kMaxUdpDatagramSize;

char* socket_receive_buffer() {
  thread_local std::unique_ptr<char[]> buffer(new char[kSocketReceiveBufferSize]);
  return buffer.get();
}

DatagramSocketState& open_state(const std::unique_ptr<DatagramSocketState>& state, const char* operation) {
  if (!state || !state->is_open()) throw os_error(EBADF, std::string(operation) + ": the socket is closed");
  return *state;
}

void check_not_busy(const DatagramSocketState& socket, Direction direction, const char* operation) {
  if (socket.busy(direction)) {
    throw std::runtime_error(std::string(operation) + "() called while another task is already " +
                             (direction == Direction::kReceive ? "receiving" : "sending") + " on this socket");
  }
}

// One receive attempt: the datagram, or nullopt when there is none yet.
std::optional<Datagram> try_receive(DatagramSocketState& socket, std::size_t max_size, const char* operation) {
  for (;;) {
    SocketAddress from;
    socklen_t length = SocketAddress::capacity();
    std::string large;
    char* buffer = socket_receive_buffer();
    if (max_size > kSocketReceiveBufferSize) {
      large.resize(max_size);
      buffer = large.data();
    }
    // MSG_TRUNC makes the result the datagram's real size.
    ssize_t received = ::recvfrom(socket.fd(), buffer, max_size, MSG_TRUNC, from.data(), &length);
    if (received < 0) {
      const int error = errno;
      if (error == EINTR) continue;
      if (error == EAGAIN || error == EWOULDBLOCK) return std::nullopt;
      throw os_error(error, std::string(operation) + " on " + describe_socket(socket.fd(), socket.remote()));
    }
    from.set_size(length);
    const std::size_t size = static_cast<std::size_t>(received);
    if (size > max_size) {
      throw os_error(EMSGSIZE, std::string(operation) + " on " + describe_socket(socket.fd(), socket.remote()) +
                                   ": the " + std::to_string(size) + "-byte datagram from " + from.to_string() +
                                   " is longer than max_size (" + std::to_string(max_size) + ") and was discarded");
    }
    Datagram datagram;
    if (buffer == large.data()) {
      large.resize(size);
      datagram.data = std::move(large);
    } else {
      datagram.data.assign(buffer, size);
    }
    datagram.from = from;
    return datagram;
  }
}

// One send attempt: true once sent, false when the kernel has no room yet.
bool try_send(DatagramSocketState& socket, std::string_view data, const SocketAddress* address) {
  for (;;) {
    ssize_t sent = address
                       ? ::sendto(socket.fd(), data.data(), data.size(), MSG_NOSIGNAL, address->data(), address->size())
                       : ::send(socket.fd(), data.data(), data.size(), MSG_NOSIGNAL);
    if (sent >= 0) return true;
    const int error = errno;
    if (error == EINTR) continue;
    if (error == EAGAIN || error == EWOULDBLOCK) return false;
    if (address) throw os_error(error, "sendto " + address->to_string());
    const std::optional<SocketAddress>& remote = socket.remote();
    throw os_error(error, "send to " + (remote ? remote->to_string() : std::string("an unconnected socket")));
  }
}

}  // namespace

DatagramSocket::DatagramSocket() noexcept = default;
DatagramSocket::DatagramSocket(std::unique_ptr<internal::DatagramSocketState> state) noexcept
    : state_(std::move(state)) {}
DatagramSocket::DatagramSocket(DatagramSocket&& other) noexcept = default;
DatagramSocket& DatagramSocket::operator=(DatagramSocket&& other) noexcept = default;
DatagramSocket::~DatagramSocket() = default;

Coro<DatagramSocket> DatagramSocket::open(DatagramOptions options) {
  Coro<OpenedSocket> opening = open_datagram_socket(std::move(options), "DatagramSocket");
  OpenedSocket opened = co_await std::move(opening);
  co_return DatagramSocket(std::make_unique<DatagramSocketState>(std::move(opened.fd), std::move(opened.remote)));
}

Coro<DatagramSocket> DatagramSocket::bind(std::string host, std::uint16_t port, DatagramSocketOptions options) {
  DatagramOptions general;
  general.local_addr = HostAndPort{std::move(host), port};
  general.family = options.family;
  general.reuse_port = options.reuse_port;
  general.allow_broadcast = options.allow_broadcast;
  Coro<DatagramSocket> opening = open(std::move(general));
  co_return co_await std::move(opening);
}

Coro<DatagramSocket> DatagramSocket::connect(std::string host, std::uint16_t port, DatagramSocketOptions options) {
  if (host.empty()) throw std::invalid_argument("DatagramSocket::connect: host must be given");
  DatagramOptions general;
  general.remote_addr = HostAndPort{std::move(host), port};
  general.family = options.family;
  general.reuse_port = options.reuse_port;
  general.allow_broadcast = options.allow_broadcast;
  Coro<DatagramSocket> opening = open(std::move(general));
  co_return co_await std::move(opening);
}

Coro<Datagram> DatagramSocket::recvfrom(std::size_t max_size) {
  // The state, not `this`: the state stays put if the socket object moves.
  DatagramSocketState& socket = open_state(state_, "recvfrom");
  if (max_size == 0) throw std::invalid_argument("recvfrom: max_size must be at least 1");
  check_not_busy(socket, Direction::kReceive, "recvfrom");
  for (;;) {
    std::optional<Datagram> datagram = try_receive(socket, max_size, "recvfrom");
    if (datagram) co_return std::move(*datagram);
    DatagramSocketState::Wait readable(socket, Direction::kReceive, "recvfrom");
    co_await readable;
  }
}

Coro<std::string> DatagramSocket::recv(std::size_t max_size) {
  DatagramSocketState& socket = open_state(state_, "recv");
  if (max_size == 0) throw std::invalid_argument("recv: max_size must be at least 1");
  check_not_busy(socket, Direction::kReceive, "recv");
  for (;;) {
    std::optional<Datagram> datagram = try_receive(socket, max_size, "recv");
    if (datagram) co_return std::move(datagram->data);
    DatagramSocketState::Wait readable(socket, Direction::kReceive, "recv");
    co_await readable;
  }
}

Coro<void> DatagramSocket::sendto(std::string_view data, SocketAddress address) {
  DatagramSocketState& socket = open_state(state_, "sendto");
  if (address.empty()) throw std::invalid_argument("sendto: empty address");
  check_not_busy(socket, Direction::kSend, "sendto");
  while (!try_send(socket, data, &address)) {
    DatagramSocketState::Wait writable(socket, Direction::kSend, "sendto");
    co_await writable;
  }
}

Coro<void> DatagramSocket::send(std::string_view data) {
  DatagramSocketState& socket = open_state(state_, "send");
  check_not_busy(socket, Direction::kSend, "send");
  while (!try_send(socket, data, nullptr)) {
    DatagramSocketState::Wait writable(socket, Direction::kSend, "send");
    co_await writable;
  }
}

SocketAddress DatagramSocket::local_address() const {
  const DatagramSocketState& socket = open_state(state_, "local_address");
  std::optional<SocketAddress> address = local_address_of(socket.fd());
  if (!address) throw os_error(errno, "getsockname");
  return *address;
}

std::optional<SocketAddress> DatagramSocket::remote_address() const { return state_ ? state_->remote() : std::nullopt; }

int DatagramSocket::fileno() const noexcept { return state_ ? state_->fd() : -1; }

bool DatagramSocket::is_open() const noexcept { return state_ && state_->is_open(); }

void DatagramSocket::close() noexcept {
  if (state_) state_->close();
}

}  // namespace aio
