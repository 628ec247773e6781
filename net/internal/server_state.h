// The shared state behind aio::Server: its listening sockets (each the loop's
// IoWatcher for its descriptor), the connections it accepted, and the tasks
// waiting in wait_closed / serve_forever.
#ifndef AIO_NET_INTERNAL_SERVER_STATE_H_
#define AIO_NET_INTERNAL_SERVER_STATE_H_

#include <functional>
#include <memory>
#include <optional>
#include <unordered_set>
#include <vector>

#include "async/future.h"
#include "async/loop.h"
#include "net/address.h"
#include "net/server.h"
#include "net/transport.h"

namespace aio::internal {

class ServerState : public std::enable_shared_from_this<ServerState>, private LoopResource {
 public:
  // What to do with each accepted descriptor (already non-blocking): make the
  // protocol and the transport. May throw; the server reports it and goes on.
  using AcceptHandler = std::function<void(int fd, const SocketAddress& peer)>;

  ServerState(EventLoop& loop, int backlog, bool keep_alive);
  ~ServerState();

  // Takes ownership of a bound, listening, non-blocking descriptor.
  void add_listener(int fd, SocketAddress address);
  void set_accept_handler(AcceptHandler handler) { accept_handler_ = std::move(handler); }
  void start_serving();
  void close();
  bool is_serving() const noexcept { return serving_; }
  bool closed() const noexcept { return closed_; }
  std::vector<SocketAddress> addresses() const;
  EventLoop& loop() const noexcept { return loop_; }

  void attach(Transport* transport) { connections_.insert(transport); }
  void detach(Transport* transport);
  void close_clients();
  void abort_clients();

  // Settled once the server is closed and has no connections.
  Future<void> closed_and_idle();
  bool serving_forever = false;
  // What serve_forever() awaits; close() cancels it.
  std::optional<Future<void>> serving_forever_future;

 private:
  struct Listener;
  void accept_ready(Listener& listener);
  void on_loop_close() noexcept override;
  void close_listeners() noexcept;
  void pause_accepting_after_error();
  void wake_if_idle();

  EventLoop& loop_;
  const int backlog_;
  const bool keep_alive_;
  bool serving_ = false;
  bool closed_ = false;
  std::vector<std::unique_ptr<Listener>> listeners_;
  AcceptHandler accept_handler_;
  std::unordered_set<Transport*> connections_;
  std::vector<Future<void>> idle_waiters_;
  TimerHandle resume_accepting_;
};

// The Server handle of a state: Server's constructor from it is private
// (users get servers from create_server / start_server).
class ServerAccess {
 public:
  static Server server(std::shared_ptr<ServerState> state) { return Server(std::move(state)); }
};

}  // namespace aio::internal

#endif  // AIO_NET_INTERNAL_SERVER_STATE_H_
