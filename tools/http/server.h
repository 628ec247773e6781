// aio::http: a small, fast HTTP/1.1 server on aio's Protocol transports.
//
// Usage. Write a handler that looks at the Request and answers through the
// Response, then start a server on a running loop:
//
//   aio::http::Handler hello = [](const aio::http::Request& request, aio::http::Response& response) {
//     if (request.path() != "/") return response.send(404, "not found\n");
//     response.add_header("Cache-Control", "no-cache");
//     response.send(200, "hello world\n", "text/plain");
//   };
//   aio::http::HttpServer server = co_await aio::http::HttpServer::start(hello, "127.0.0.1", 8080);
//   co_await server.serve_forever();
//
// A handler that cannot answer at once calls response.defer() and answers
// later through the returned aio::http::DeferredResponse (from a timer, a
// task, ...); the connection reads no further request until then, so
// pipelined responses stay in order. HEAD requests reach the handler as
// themselves (request.method() == "HEAD"); send() then writes the headers
// with the body's Content-Length and no body. Depend on //tools/http:server.
//
// What the server does by itself: HTTP/1.0 and 1.1 keep-alive and
// `Connection: close`; pipelined requests (all the responses to one read go
// out in one write); request heads above ServerOptions::max_header_bytes get
// 431, bodies above max_body_bytes get 413, malformed requests 400, other
// versions than HTTP/1.x 505, request bodies in Transfer-Encoding 501 — each
// then closes the connection. A client that sends a request slower than
// request_timeout gets 408 and is closed; a keep-alive connection idle longer
// than idle_timeout is closed. Responses carry Content-Length, and Date and
// Server unless turned off in the options. Request parsing is in place (the
// Request's views point into the transport's read buffer, or the
// connection's own buffer when a request spans several reads); nothing is
// allocated per request once a connection's buffers have grown.
//
// Threads: a server and its connections belong to the loop that started them;
// nothing here is thread-safe except reading ServerStats, which are atomics.
#ifndef AIO_TOOLS_HTTP_SERVER_H_
#define AIO_TOOLS_HTTP_SERVER_H_

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "async/coro.h"
#include "async/loop.h"
#include "net/server.h"

namespace aio::http {

namespace internal {
class HttpConnection;
}  // namespace internal

// One request header: views into the request's bytes.
struct Header {
  std::string_view name;
  std::string_view value;  // without surrounding spaces
};

// A parsed request. Every view is valid only during the handler call (copy
// what you keep, e.g. into a DeferredResponse's callback).
class Request {
 public:
  static constexpr std::size_t kMaxHeaders = 64;

  std::string_view method() const { return method_; }
  // The request target as sent ("/a/b?x=1").
  std::string_view target() const { return target_; }
  // The target up to '?' ("/a/b"), and after it ("x=1"; empty when none).
  std::string_view path() const;
  std::string_view query() const;
  // 0 for HTTP/1.0, 1 for HTTP/1.1.
  int minor_version() const { return minor_version_; }
  // The first header with this name (case-insensitive), or empty.
  std::string_view header(std::string_view name) const;
  bool has_header(std::string_view name) const;
  std::size_t header_count() const { return header_count_; }
  const Header& header_at(std::size_t i) const { return headers_[i]; }
  std::string_view body() const { return body_; }
  // Whether the connection stays open after this request's response.
  bool keep_alive() const { return keep_alive_; }
  bool is_head() const { return method_ == "HEAD"; }

 private:
  friend class internal::HttpConnection;
  std::string_view method_, target_, body_;
  int minor_version_ = 1;
  bool keep_alive_ = true;
  std::size_t header_count_ = 0;
  std::array<Header, kMaxHeaders> headers_;
};

class DeferredResponse;

// How a handler answers: add headers, then send() once, or defer(). A
// handler that returns having done neither gets a 500 sent for it.
class Response {
 public:
  // Adds a response header (before send). Content-Length, Date, Server and
  // Connection are the server's; do not add them. Throws std::logic_error
  // after send().
  void add_header(std::string_view name, std::string_view value);
  // Sends the response: status line, headers, `body` (not for HEAD requests
  // nor 204/304, whose Content-Length is still the body's). Throws
  // std::logic_error if already sent or deferred.
  void send(int status, std::string_view body = {}, std::string_view content_type = "text/plain");
  // Answers later: the returned handle sends the response (and must outlive
  // this call). Throws std::logic_error if already sent or deferred.
  DeferredResponse defer();
  // Closes the connection after this response (adds `Connection: close`).
  void close_after() { close_after_ = true; }
  // Fault injection, for load-testing tools: resets the connection at once
  // (TCP RST, SO_LINGER 0), sending nothing of this response.
  void reset_connection();
  // Fault injection: writes `bytes` as they are instead of a response (e.g.
  // garbage, or half a response before reset_connection()).
  void send_raw(std::string_view bytes);
  bool sent() const { return state_ != State::kPending; }

 private:
  friend class internal::HttpConnection;
  friend class DeferredResponse;
  enum class State { kPending, kSent, kDeferred };
  explicit Response(internal::HttpConnection* connection) : connection_(connection) {}
  internal::HttpConnection* connection_;
  State state_ = State::kPending;
  bool close_after_ = false;
  bool head_ = false;
  std::string extra_headers_;
};

// A response still to be sent, made by Response::defer(). Move-only. If the
// connection is gone by then, send() does nothing. Destroying a handle that
// has not sent closes the connection (the request would never be answered).
class DeferredResponse {
 public:
  DeferredResponse() = default;
  DeferredResponse(DeferredResponse&&) noexcept = default;
  DeferredResponse& operator=(DeferredResponse&&) noexcept;
  ~DeferredResponse();
  void add_header(std::string_view name, std::string_view value);
  void send(int status, std::string_view body = {}, std::string_view content_type = "text/plain");
  void reset_connection();
  void send_raw(std::string_view bytes);
  // False once sent, and for a default-constructed handle.
  bool pending() const { return connection_ != nullptr; }
  // Whether the client is still connected.
  bool connected() const;

 private:
  friend class Response;
  friend class internal::HttpConnection;
  explicit DeferredResponse(std::shared_ptr<internal::HttpConnection> connection)
      : connection_(std::move(connection)) {}
  std::shared_ptr<internal::HttpConnection> connection_;
};

// Called for each request, on the loop's thread. An exception escaping it
// becomes a 500 response and the connection is closed.
using Handler = std::function<void(const Request&, Response&)>;

// Not an aggregate (see ConnectOptions in net/transport.h): set fields on a
// named variable.
struct ServerOptions {
  ServerOptions() {}
  // Request line + headers, in bytes; beyond: 431 and close.
  std::size_t max_header_bytes = 8 * 1024;
  // Request body (Content-Length); beyond: 413 and close.
  std::size_t max_body_bytes = 1024 * 1024;
  // From a request's first byte to its last; beyond: 408 and close.
  Duration request_timeout = std::chrono::seconds(10);
  // Between requests on an open connection (and before the first); beyond:
  // closed without a response.
  Duration idle_timeout = std::chrono::seconds(60);
  // The Server header's value; empty sends none.
  std::string server_name = "aio";
  // Send a Date header (RFC 9110 wants one from a server with a clock).
  bool date_header = true;
  // Listening options (net/transport.h).
  int backlog = 1024;
  bool reuse_port = false;
};

// Counters, updated on the server's loop and readable from any thread.
struct ServerStats {
  std::atomic<std::uint64_t> connections_accepted{0};
  std::atomic<std::uint64_t> connections_open{0};
  std::atomic<std::uint64_t> requests{0};  // requests handed to the handler
  std::atomic<std::uint64_t> bad_requests{0};  // answered 4xx/5xx by the server itself
  std::atomic<std::uint64_t> timeouts{0};  // connections closed for request_timeout or idle_timeout
};

// A listening HTTP server. Move-only; destroying it stops listening (open
// connections stay until they end or the loop closes, as aio::Server's).
class HttpServer {
 public:
  // Listens on host:port (port 0 picks one; see port()). Throws what
  // aio::create_server throws (std::system_error with EADDRINUSE, ...).
  // Must run on the loop that will serve.
  static Coro<HttpServer> start(Handler handler, std::string host, std::uint16_t port,
                                ServerOptions options = {});
  HttpServer(HttpServer&&) noexcept = default;
  HttpServer& operator=(HttpServer&&) noexcept = default;
  ~HttpServer();

  // The port it listens on.
  std::uint16_t port() const { return port_; }
  const ServerStats& stats() const { return *stats_; }
  std::shared_ptr<const ServerStats> shared_stats() const { return stats_; }
  // As aio::Server's.
  Coro<void> serve_forever();
  void close();
  void close_clients();
  Coro<void> wait_closed();
  aio::Server& server() { return server_; }

 private:
  HttpServer(aio::Server server, std::shared_ptr<ServerStats> stats, std::uint16_t port);
  aio::Server server_;
  std::shared_ptr<ServerStats> stats_;
  std::uint16_t port_ = 0;
};

// The reason phrase of a status code ("OK", "Not Found"; "Unknown" if none).
std::string_view reason_phrase(int status);

}  // namespace aio::http

#endif  // AIO_TOOLS_HTTP_SERVER_H_
