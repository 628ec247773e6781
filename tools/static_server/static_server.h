// aio::static_files::StaticServer: a directory served over HTTP/1.1, the file
// rules of static_files.h carried by aio's HTTP server (//tools/http:server,
// the one the load generator's embedded target uses).
//
//   aio::static_files::StaticServer server =
//       co_await aio::static_files::StaticServer::start("/srv/site", "127.0.0.1", 8000);
//   co_await server.http().serve_forever();
//
// What the HTTP layer does (tools/http/server.h): keep-alive and pipelining,
// HEAD without a body, request heads above ServerOptions::max_header_bytes
// refused with 431, malformed requests 400, a client slower than
// request_timeout 408, idle keep-alive connections closed after idle_timeout.
// What this layer adds: the files, their types and dates, 304, 301/403/404/405
// with HTML pages (static_files.h). Requests may not carry a body (a GET with
// one is answered, the body ignored; the server's max_body_bytes bounds it).
//
// Files are read on the loop's thread (pread of local files): a documentation
// server, not a CDN. Not thread-safe; the server belongs to the loop it was
// started on.
#ifndef AIO_TOOLS_STATIC_SERVER_STATIC_SERVER_H_
#define AIO_TOOLS_STATIC_SERVER_STATIC_SERVER_H_

#include <cstdint>
#include <memory>
#include <string>

#include "async/coro.h"
#include "tools/static_server/static_files.h"
#include "tools/http/server.h"

namespace aio::static_files {

// The HTTP handler that answers from `files` (kept alive by the handler).
http::Handler make_handler(std::shared_ptr<const StaticFiles> files);

class StaticServer {
 public:
  // Serves `root` on host:port (0 picks a port). Throws std::system_error if
  // the root cannot be opened or the address cannot be listened on.
  static Coro<StaticServer> start(std::string root, std::string host, std::uint16_t port,
                                  http::ServerOptions options = {});
  StaticServer(StaticServer&&) noexcept = default;
  StaticServer& operator=(StaticServer&&) noexcept = default;

  std::uint16_t port() const { return http_.port(); }
  http::HttpServer& http() { return http_; }

 private:
  explicit StaticServer(http::HttpServer http) : http_(std::move(http)) {}
  http::HttpServer http_;
};

}  // namespace aio::static_files

#endif  // AIO_TOOLS_STATIC_SERVER_STATIC_SERVER_H_
