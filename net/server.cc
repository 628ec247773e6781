#include "net/server.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <stdexcept>
#include <string>
#include <utility>

#include "async/errors.h"
#include "async/errors.h"
#include "async/future.h"
#include "async/internal/loop_access.h"
#include "net/internal/server_state.h"
#include "net/internal/socket.h"

namespace aio {
namespace internal {
namespace {

// After running out of descriptors or memory, accepting pauses this long
// (asyncio's constants.ACCEPT_RETRY_DELAY): retrying at once would spin on an
// error that only closing connections can fix.
constexpr auto kAcceptRetryDelay = std::chrono::seconds(1);

bool is_resource_exhaustion(int error) {
  return error == EMFILE || error == ENFILE || error == ENOBUFS || error == ENOMEM;
}

}  // namespace

struct ServerState::Listener final : IoWatcher {
  Listener(ServerState& server, int fd, SocketAddress address) : server(server), fd(fd), address(std::move(address)) {}
  void on_io(std::uint32_t) override {
    if (watching) server.accept_ready(*this);
  }
  ServerState& server;
  int fd;
  SocketAddress address;
  bool watching = false;
};

ServerState::ServerState(EventLoop& loop, int backlog, bool keep_alive)
    : loop_(loop), backlog_(backlog), keep_alive_(keep_alive) {
  internal::LoopAccess::track_resource(loop_, this);
}

ServerState::~ServerState() {
  if (!tracked_by_loop()) return;  // the loop closed (and may be gone): nothing left to release
  resume_accepting_.cancel();
  close_listeners();
  internal::LoopAccess::untrack_resource(loop_, this);
}

void ServerState::close_listeners() noexcept {
  for (auto& listener : listeners_) {
    if (listener->watching) internal::LoopAccess::unwatch_io(loop_, listener->fd);
    listener->watching = false;
    if (listener->fd >= 0) ::close(listener->fd);
    listener->fd = -1;
  }
}

void ServerState::on_loop_close() noexcept {
  closed_ = true;
  serving_ = false;
  close_listeners();
  idle_waiters_.clear();  // their tasks are being torn down with the loop
  serving_forever_future.reset();
}

void ServerState::add_listener(int fd, SocketAddress address) {
  listeners_.push_back(std::make_unique<Listener>(*this, fd, std::move(address)));
}

std::vector<SocketAddress> ServerState::addresses() const {
  std::vector<SocketAddress> result;
  if (closed_) return result;
  for (const auto& listener : listeners_) result.push_back(listener->address);
  return result;
}

void ServerState::start_serving() {
  if (closed_) throw RuntimeError("Server.start_serving: the server is closed");
  if (serving_) return;
  serving_ = true;
  for (auto& listener : listeners_) {
    if (!listener->watching) {
      internal::LoopAccess::watch_io(loop_, listener->fd, listener.get(), EPOLLIN, false);
      listener->watching = true;
    }
  }
}

void ServerState::accept_ready(Listener& listener) {
  const std::shared_ptr<ServerState> keep = shared_from_this();
  // Up to `backlog` connections per readiness, as asyncio's _accept_connection.
  for (int i = 0; i < backlog_ && listener.watching; ++i) {
    SocketAddress peer;
    socklen_t length = SocketAddress::capacity();
    int fd = ::accept4(listener.fd, peer.data(), &length, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      int error = errno;
      if (error == EAGAIN || error == EINTR || error == ECONNABORTED || error == EPROTO) return;
      ExceptionContext context;
      context.message = "socket.accept() out of system resource";
      context.exception = std::make_exception_ptr(os_error(error, "accept on " + listener.address.to_string()));
      loop_.call_exception_handler(context);
      if (is_resource_exhaustion(error)) pause_accepting_after_error();
      return;
    }
    peer.set_size(length);
    if (peer.family() == AF_INET || peer.family() == AF_INET6) {
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      if (keep_alive_) ::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
    }
    try {
      accept_handler_(fd, peer);
    } catch (...) {
      ExceptionContext context;
      context.message = "Error on transport creation for incoming connection";
      context.exception = std::current_exception();
      loop_.call_exception_handler(context);
    }
  }
}

void ServerState::pause_accepting_after_error() {
  for (auto& listener : listeners_) {
    if (listener->watching) internal::LoopAccess::unwatch_io(loop_, listener->fd);
    listener->watching = false;
  }
  std::weak_ptr<ServerState> weak = weak_from_this();
  resume_accepting_ = loop_.call_later(kAcceptRetryDelay, [weak] {
    std::shared_ptr<ServerState> self = weak.lock();
    if (!self || self->closed_ || !self->serving_) return;
    for (auto& listener : self->listeners_) {
      if (!listener->watching) {
        internal::LoopAccess::watch_io(self->loop_, listener->fd, listener.get(), EPOLLIN, false);
        listener->watching = true;
      }
    }
  });
}

void ServerState::close() {
  if (closed_) return;
  closed_ = true;
  serving_ = false;
  resume_accepting_.cancel();
  close_listeners();
  if (serving_forever_future && !serving_forever_future->done()) serving_forever_future->cancel();
  wake_if_idle();
}

void ServerState::detach(Transport* transport) {
  connections_.erase(transport);
  wake_if_idle();
}

void ServerState::close_clients() {
  // close() may end a connection (and detach it) later, never inside the call.
  std::vector<Transport*> snapshot(connections_.begin(), connections_.end());
  for (Transport* transport : snapshot) transport->close();
}

void ServerState::abort_clients() {
  std::vector<Transport*> snapshot(connections_.begin(), connections_.end());
  for (Transport* transport : snapshot) transport->abort();
}

Future<void> ServerState::closed_and_idle() {
  Future<void> waiter(loop_);
  if (closed_ && connections_.empty()) {
    waiter.set_result();
  } else {
    idle_waiters_.push_back(waiter);
  }
  return waiter;
}

void ServerState::wake_if_idle() {
  if (!closed_ || !connections_.empty()) return;
  std::vector<Future<void>> waiters = std::move(idle_waiters_);
  for (Future<void>& waiter : waiters) {
    if (!waiter.done()) waiter.set_result();
  }
}

}  // namespace internal

Server::Server(std::shared_ptr<internal::ServerState> state) : state_(std::move(state)) {}

Server& Server::operator=(Server&& other) noexcept {
  if (this != &other) {
    if (state_) state_->close();
    state_ = std::move(other.state_);
  }
  return *this;
}

Server::~Server() {
  if (state_) state_->close();
}

std::vector<SocketAddress> Server::sockets() const { return state_->addresses(); }
bool Server::is_serving() const { return state_->is_serving(); }

Coro<void> Server::start_serving() {
  state_->start_serving();
  co_return;
}

Coro<void> Server::serve_forever() {
  std::shared_ptr<internal::ServerState> state = state_;
  if (state->serving_forever) throw RuntimeError("Server.serve_forever: the server is already being awaited on serve_forever()");
  if (state->closed()) throw RuntimeError("Server.serve_forever: the server is closed");
  state->start_serving();
  state->serving_forever = true;
  bool cancelled = false;
  std::string message;
  try {
    // Settled only by a cancellation: of this task, or by close() (asyncio's
    // _serving_forever_fut).
    Future<void> forever(state->loop());
    state->serving_forever_future = forever;
    co_await forever;
  } catch (const CancelledError& error) {
    cancelled = true;
    message = error.message();
  }
  state->serving_forever = false;
  state->serving_forever_future.reset();
  if (cancelled) {
    state->close();
    co_await state->closed_and_idle();
    throw CancelledError(message);
  }
}

void Server::close() { state_->close(); }
void Server::close_clients() { state_->close_clients(); }
void Server::abort_clients() { state_->abort_clients(); }

Coro<void> Server::wait_closed() {
  std::shared_ptr<internal::ServerState> state = state_;
  co_await state->closed_and_idle();
}

}  // namespace aio
