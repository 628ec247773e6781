// DatagramSocket: a datagram socket for coroutines (read net/datagram.h).
//
// Design. Every call first tries the system call and suspends only when the
// kernel says EAGAIN. DatagramSocketState owns the descriptor and is its
// readiness watcher, with one slot for a task waiting to receive and one for
// a task waiting to send, so that both can wait on one descriptor at once (the
// loop takes one watcher per descriptor, which internal::WaitForIo occupies
// alone). The descriptor is in epoll only while a task waits, so a socket that
// never waits costs no epoll call. The state lives on the heap so that the
// loop's pointer to it survives moves of the DatagramSocket.
#include <sys/epoll.h>
#include <sys/socket.h>

#include <cerrno>
#include <coroutine>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>

#include "async/errors.h"
#include "async/future.h"
#include "async/internal/loop_access.h"
#include "async/loop.h"
#include "async/task.h"
#include "net/datagram.h"
#include "net/internal/datagram_setup.h"
#include "net/internal/socket.h"

namespace aio {

using internal::describe_socket;
using internal::FileDescriptor;
using internal::local_address_of;
using internal::os_error;

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
    Description describe_wait() const noexcept override { return {operation_, nullptr}; }

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
      throw RuntimeError(std::string(wait.operation_) +
                         "() called while another task is already waiting on this socket for the same");
    }
    if (registered_ != 0 && loop_ != &loop) {
      throw RuntimeError(std::string(wait.operation_) + ": the socket is in use by another event loop");
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
    internal::LoopAccess::watch_io(loop, fd_.get(), this, wanted, registered_ != 0);
    registered_ = wanted;
    loop_ = &loop;
  }
  void unwatch() noexcept {
    if (registered_ != 0 && fd_) internal::LoopAccess::unwatch_io(*loop_, fd_.get());
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
    throw RuntimeError(std::string(operation) + "() called while another task is already " +
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
  Coro<internal::OpenedSocket> opening = internal::open_datagram_socket(std::move(options), "DatagramSocket");
  internal::OpenedSocket opened = co_await std::move(opening);
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
  if (host.empty()) throw ValueError("DatagramSocket::connect: host must be given");
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
  if (max_size == 0) throw ValueError("recvfrom: max_size must be at least 1");
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
  if (max_size == 0) throw ValueError("recv: max_size must be at least 1");
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
  if (address.empty()) throw ValueError("sendto: empty address");
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
