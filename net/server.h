// aio::Server: listening sockets and the connections accepted from them
// (asyncio.Server), returned by create_server, start_server and their Unix
// forms.
//
//   aio::Server server = co_await aio::start_server(handle_client, "127.0.0.1", 8888);
//   std::printf("serving on %s\n", server.sockets()[0].to_string().c_str());
//   co_await server.serve_forever();   // until cancelled; then closes
//
// Closing a server stops listening; connections already accepted stay open
// (close_clients / abort_clients end them), and wait_closed() returns once the
// server is closed and every one of its connections has ended (Python 3.12+).
//
// A Server is a move-only owner: destroying it closes the listening sockets,
// but neither the connections nor their handlers. Not thread-safe.
//
// Accept errors: EMFILE/ENFILE/ENOBUFS/ENOMEM (out of descriptors or memory)
// are reported to the loop's exception handler and accepting pauses for one
// second, as asyncio does, so a server out of file descriptors keeps serving
// once some are freed. ECONNABORTED and similar per-connection errors are skipped.
#ifndef AIO_NET_SERVER_H_
#define AIO_NET_SERVER_H_

#include <memory>
#include <vector>

#include "async/coro.h"
#include "net/address.h"

namespace aio {

namespace internal {
class ServerState;
class ServerAccess;  // net/internal/server_state.h: makes the Server of a ServerState
}  // namespace internal

// [[nodiscard]]: a dropped Server closes at once (asyncio keeps serving one
// nobody holds; aio keeps RAII ownership, docs/design/asyncio_rules.md rule-36).
class [[nodiscard("a dropped aio::Server closes at once: keep it, aio::Server server = co_await ...")]] Server {
 public:
  Server(Server&&) noexcept = default;
  Server& operator=(Server&&) noexcept;
  ~Server();

  // The addresses it listens on (with the port picked when 0 was asked for).
  // Empty once closed.
  std::vector<SocketAddress> sockets() const;
  bool is_serving() const;
  // Starts accepting (for servers made with start_serving = false). Idempotent.
  // Throws aio::RuntimeError if the server is closed.
  Coro<void> start_serving();
  // Accepts connections until the awaiting task is cancelled or close() is
  // called, then closes the server, waits for wait_closed(), and throws
  // CancelledError (as asyncio's serve_forever, in both cases). Throws
  // aio::RuntimeError if the server is closed or already being served forever.
  Coro<void> serve_forever();
  // Stops listening and closes the listening sockets; accepted connections stay
  // open. Idempotent.
  void close();
  // Closes every accepted connection (their transports' close()).
  void close_clients();
  // Aborts every accepted connection (buffered data is dropped).
  void abort_clients();
  // Returns once the server is closed and every accepted connection has ended.
  Coro<void> wait_closed();

 private:
  friend class internal::ServerAccess;
  explicit Server(std::shared_ptr<internal::ServerState> state);

  std::shared_ptr<internal::ServerState> state_;
};

}  // namespace aio

#endif  // AIO_NET_SERVER_H_
