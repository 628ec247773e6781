#include "net/internal/stream_transport.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>

#include "async/errors.h"
#include "net/internal/server_state.h"
#include "net/internal/socket.h"
#include "net/internal/transport_core.h"

namespace aio::internal {
namespace {

// Vectors handed to one writev (Linux's UIO_MAXIOV is 1024).
constexpr std::size_t kMaxWritevChunks = 64;

class StreamTransport final : public Transport, public TransportCore<StreamTransport, BaseProtocol> {
 public:
  StreamTransport(EventLoop& loop, int fd, std::shared_ptr<BaseProtocol> protocol, StreamTransportOptions options)
      : TransportCore(loop, fd, nullptr),
        is_socket_(options.socket),
        reading_paused_(!options.start_reading),
        watch_peer_close_(!options.socket && !options.start_reading),
        server_(std::move(options.server)),
        peer_(std::move(options.peer)) {
    attach_protocol(std::move(protocol));
  }

  ~StreamTransport() override {
    if (server_) server_->detach(this);
  }

  void start(bool call_connection_made) {
    start_tracking(std::static_pointer_cast<StreamTransport>(shared_from_this()));
    if (server_) server_->attach(this);
    try {
      update_interest();
    } catch (...) {
      abandon_start();
      if (server_) server_->detach(this);
      throw;
    }
    if (call_connection_made) {
      try {
        protocol_->connection_made(shared_from_this());
      } catch (...) {
        fatal_error(std::current_exception(), "Fatal error: protocol.connection_made() call failed.");
      }
    }
  }

  // --- BaseTransport ---------------------------------------------------------
  bool is_closing() const override { return closing_; }

  void close() override {
    if (closing_) return;
    closing_ = true;
    update_interest_quietly();
    if (write_size() == 0 && lost_count_ == 0) finish_close();
  }

  void set_protocol(std::shared_ptr<BaseProtocol> protocol) override {
    // The old protocol may be the caller (set_protocol from data_received):
    // keep it alive until the transport is done with it.
    previous_protocol_ = std::move(protocol_);
    attach_protocol(std::move(protocol));
  }
  std::shared_ptr<BaseProtocol> get_protocol() const override { return protocol_; }

  std::any get_extra_info(std::string_view name) const override {
    if (name == "socket") return fd_ >= 0 && is_socket_ ? std::any(fd_) : std::any();
    if (name == "pipe") return fd_ >= 0 && !is_socket_ ? std::any(fd_) : std::any();
    if (!is_socket_) return {};
    if (name == "peername") {
      if (!peer_ && fd_ >= 0) peer_ = peer_address_of(fd_);
      return peer_ ? std::any(*peer_) : std::any();
    }
    if (name == "sockname") {
      if (!sockname_ && fd_ >= 0) sockname_ = local_address_of(fd_);
      return sockname_ ? std::any(*sockname_) : std::any();
    }
    return {};
  }

  // --- ReadTransport ---------------------------------------------------------
  // As asyncio's: still true after a half-close EOF (nothing is read then).
  bool is_reading() const override { return !reading_paused_ && !closing_; }
  void pause_reading() override {
    if (!is_reading()) return;
    reading_paused_ = true;
    update_interest_quietly();
  }
  void resume_reading() override {
    if (closing_ || !reading_paused_ || eof_received_) return;  // nothing more to read after EOF
    reading_paused_ = false;
    update_interest_quietly();
  }

  // --- WriteTransport --------------------------------------------------------
  void write(std::string_view data) override {
    if (eof_requested_) throw RuntimeError("Cannot call write() after write_eof()");
    if (data.empty()) return;
    if (lost_count_ > 0) {
      note_write_after_loss();
      return;
    }
    if (write_size() == 0) {
      ssize_t sent = send_bytes(data.data(), data.size());
      if (sent < 0) {
        if (errno != EAGAIN && errno != EINTR) {
          fatal_os_error(errno, write_error_message());
          return;
        }
        sent = 0;
      }
      data.remove_prefix(static_cast<std::size_t>(sent));
      if (data.empty()) return;
      write_buffer_.append(data);
      update_interest_quietly();
    } else {
      write_buffer_.append(data);
    }
    maybe_pause_protocol(write_size());
  }

  void writelines(std::span<const std::string_view> chunks) override {
    if (eof_requested_) throw RuntimeError("Cannot call writelines() after write_eof()");
    if (lost_count_ > 0) {
      note_write_after_loss();
      return;
    }
    std::size_t first_unsent = 0;
    std::size_t offset_in_first = 0;
    if (write_size() == 0) {
      // One writev for as many chunks as fit; the rest is buffered.
      iovec vectors[kMaxWritevChunks];
      std::size_t count = 0;
      std::size_t total = 0;
      for (; count < chunks.size() && count < kMaxWritevChunks; ++count) {
        vectors[count].iov_base = const_cast<char*>(chunks[count].data());
        vectors[count].iov_len = chunks[count].size();
        total += chunks[count].size();
      }
      if (total == 0 && count == chunks.size()) return;
      ssize_t sent;
      if (is_socket_) {
        msghdr message{};
        message.msg_iov = vectors;
        message.msg_iovlen = count;
        sent = ::sendmsg(fd_, &message, MSG_NOSIGNAL);  // EPIPE, not SIGPIPE, for a closed peer
      } else {
        sent = ::writev(fd_, vectors, static_cast<int>(count));
      }
      if (sent < 0) {
        if (errno != EAGAIN && errno != EINTR) {
          fatal_os_error(errno, write_error_message());
          return;
        }
        sent = 0;
      }
      std::size_t left = static_cast<std::size_t>(sent);
      while (first_unsent < chunks.size() && left >= chunks[first_unsent].size()) {
        left -= chunks[first_unsent].size();
        ++first_unsent;
      }
      offset_in_first = left;
    }
    const bool was_empty = write_size() == 0;
    for (std::size_t i = first_unsent; i < chunks.size(); ++i) {
      write_buffer_.append(chunks[i].substr(i == first_unsent ? offset_in_first : 0));
    }
    if (write_size() == 0) return;
    if (was_empty) update_interest_quietly();
    maybe_pause_protocol(write_size());
  }

  void write_eof() override {
    if (closing_ || eof_requested_) return;
    if (!is_socket_) {
      close();  // a pipe's EOF is its close (asyncio's write pipe transport does the same)
      return;
    }
    eof_requested_ = true;
    if (write_size() == 0) ::shutdown(fd_, SHUT_WR);
  }
  bool can_write_eof() const override { return true; }

  void abort() override { force_close(nullptr); }

  std::size_t get_write_buffer_size() const override { return write_size(); }

  void set_write_buffer_limits(std::optional<std::size_t> high, std::optional<std::size_t> low) override {
    set_write_buffer_limits_to(high, low, write_size());
  }
  std::pair<std::size_t, std::size_t> get_write_buffer_limits() const override { return write_buffer_limits(); }

 private:
  friend class TransportCore<StreamTransport, BaseProtocol>;

  std::size_t write_size() const noexcept { return write_buffer_.size() - write_offset_; }
  const char* read_error_message() const noexcept {
    return is_socket_ ? "Fatal read error on socket transport" : "Fatal read error on pipe transport";
  }
  const char* write_error_message() const noexcept {
    return is_socket_ ? "Fatal write error on socket transport" : "Fatal write error on pipe transport";
  }

  void attach_protocol(std::shared_ptr<BaseProtocol> protocol) {
    protocol_ = std::move(protocol);
    stream_protocol_ = dynamic_cast<Protocol*>(protocol_.get());
    buffered_protocol_ = stream_protocol_ ? nullptr : dynamic_cast<BufferedProtocol*>(protocol_.get());
  }

  ssize_t send_bytes(const char* data, std::size_t size) {
    return is_socket_ ? ::send(fd_, data, size, MSG_NOSIGNAL) : ::write(fd_, data, size);
  }

  // --- readiness -------------------------------------------------------------
  void on_io(std::uint32_t events) override {
    if (!watching()) return;  // closed earlier in this poll
    // No reference is taken here: the transport cannot be freed inside the
    // callbacks below. Closing it only schedules connection_lost (call_soon,
    // which holds the loop's reference), and the loop's own reference is
    // dropped only there or when the loop closes.
    if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && is_reading() && !eof_received_) read_ready();
    if ((events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) && write_size() > 0 && lost_count_ == 0) {
      write_ready();
    }
    if (watch_peer_close_ && (events & (EPOLLHUP | EPOLLERR)) && fd_ >= 0 && lost_count_ == 0 &&
        write_size() == 0) {
      force_close(nullptr);  // the reading end closed while nothing was pending
    }
  }

  void read_ready() {
    if (buffered_protocol_) {
      std::span<char> buffer;
      try {
        buffer = buffered_protocol_->get_buffer(0);
        if (buffer.empty()) throw RuntimeError("BufferedProtocol.get_buffer() returned an empty buffer");
      } catch (...) {
        fatal_error(std::current_exception(), "Fatal error: protocol.get_buffer() call failed.");
        return;
      }
      ssize_t received = receive(buffer.data(), buffer.size());
      if (received <= 0) return finish_read(received);
      try {
        buffered_protocol_->buffer_updated(static_cast<std::size_t>(received));
      } catch (...) {
        fatal_error(std::current_exception(), "Fatal error: protocol.buffer_updated() call failed.");
      }
      return;
    }
    char* buffer = transport_read_buffer();
    ssize_t received = receive(buffer, kTransportReadBufferSize);
    if (received <= 0) return finish_read(received);
    if (stream_protocol_ == nullptr) return;  // a placeholder protocol: drop
    try {
      stream_protocol_->data_received(std::string_view(buffer, static_cast<std::size_t>(received)));
    } catch (...) {
      fatal_error(std::current_exception(), "Fatal error: protocol.data_received() call failed.");
    }
  }

  ssize_t receive(char* buffer, std::size_t size) {
    return is_socket_ ? ::recv(fd_, buffer, size, 0) : ::read(fd_, buffer, size);
  }

  // A read that returned no data: EOF, "try again", or an error.
  void finish_read(ssize_t received) {
    if (received < 0) {
      if (errno == EAGAIN || errno == EINTR) return;
      fatal_os_error(errno, read_error_message());
      return;
    }
    eof_received_ = true;
    bool keep_open = false;
    try {
      if (stream_protocol_) keep_open = stream_protocol_->eof_received();
      if (buffered_protocol_) keep_open = buffered_protocol_->eof_received();
    } catch (...) {
      fatal_error(std::current_exception(), "Fatal error: protocol.eof_received() call failed.");
      return;
    }
    // A pipe has no half-close: its transport closes at EOF whatever the
    // protocol answers, as asyncio's _UnixReadPipeTransport does.
    if (keep_open && is_socket_) {
      // Half-closed: stop reading (the descriptor would stay readable forever).
      update_interest_quietly();
    } else {
      close();
    }
  }

  void write_ready() {
    ssize_t sent = send_bytes(write_buffer_.data() + write_offset_, write_size());
    if (sent < 0) {
      if (errno == EAGAIN || errno == EINTR) return;
      fatal_os_error(errno, write_error_message());
      return;
    }
    write_offset_ += static_cast<std::size_t>(sent);
    if (write_offset_ == write_buffer_.size()) {
      write_buffer_.clear();
      write_offset_ = 0;
    } else if (write_offset_ > write_buffer_.size() / 2) {
      write_buffer_.erase(0, write_offset_);  // keep the buffer from growing without bound
      write_offset_ = 0;
    }
    maybe_resume_protocol(write_size());
    if (write_size() > 0) return;
    update_interest_quietly();
    if (closing_) {
      if (lost_count_ == 0) finish_close();
    } else if (eof_requested_) {
      ::shutdown(fd_, SHUT_WR);
    }
  }

  // --- interest --------------------------------------------------------------
  void update_interest() {
    std::uint32_t wanted = 0;
    if (!closing_ && !reading_paused_ && !eof_received_) wanted |= EPOLLIN;
    if (write_size() > 0 && lost_count_ == 0) wanted |= EPOLLOUT;
    // A write pipe stays registered with no events: epoll still reports
    // EPOLLERR when the reading end closes, which is how a child that exited
    // is noticed (asyncio's write pipe transport watches for this too).
    set_interest(wanted, /*keep_registered=*/watch_peer_close_ && lost_count_ == 0);
  }

  // --- errors and closing ----------------------------------------------------
  void note_write_after_loss() {
    note_dropped_write(lost_count_, "aio: socket.send() raised exception (writes to a lost connection are dropped).");
  }

  void fatal_os_error(int error, const char* message) {
    std::exception_ptr exception = std::make_exception_ptr(os_error(error, message));
    // asyncio reports OS errors other than "the peer went away" only in debug.
    if (loop_.get_debug() && !is_connection_error(error)) report(exception, message);
    force_close(exception);
  }

  // TransportCore's hooks.
  void drop_write_buffer() noexcept {
    write_buffer_.clear();
    write_offset_ = 0;
  }
  void release_references() noexcept {
    previous_protocol_.reset();
    stream_protocol_ = nullptr;
    buffered_protocol_ = nullptr;
    if (server_) {
      server_->detach(this);
      server_.reset();
    }
  }

  const bool is_socket_;
  bool reading_paused_;
  const bool watch_peer_close_;  // a write pipe: notice the reader going away
  bool eof_requested_ = false;
  bool eof_received_ = false;  // the peer's EOF was read: no more reading
  std::string write_buffer_;
  std::size_t write_offset_ = 0;
  std::shared_ptr<BaseProtocol> previous_protocol_;  // see set_protocol
  Protocol* stream_protocol_ = nullptr;
  BufferedProtocol* buffered_protocol_ = nullptr;
  std::shared_ptr<ServerState> server_;
  mutable std::optional<SocketAddress> peer_;
  mutable std::optional<SocketAddress> sockname_;
};

}  // namespace

std::shared_ptr<Transport> make_stream_transport(EventLoop& loop, int fd, std::shared_ptr<BaseProtocol> protocol,
                                                 StreamTransportOptions options) {
  const bool call_connection_made = options.call_connection_made;
  auto transport = std::make_shared<StreamTransport>(loop, fd, std::move(protocol), std::move(options));
  transport->start(call_connection_made);
  return transport;
}

}  // namespace aio::internal

namespace aio {

void Transport::writelines(std::span<const std::string_view> chunks) {
  for (std::string_view chunk : chunks) write(chunk);
}

}  // namespace aio
