// The glue between the file rules and the HTTP server: one Answer per request,
// its headers copied, and for HEAD and 304 a body of the right length that
// the HTTP layer does not send (it uses the length for Content-Length). That
// body is a view of one shared buffer of zeros, grown to the largest length
// seen, so a HEAD or a 304 does not read or allocate the file.
#include "tools/static_server/static_server.h"

#include <string_view>
#include <utility>

namespace aio::static_files {
namespace {

std::string_view placeholder_body(std::size_t length) {
  static thread_local std::string zeros;
  if (zeros.size() < length) zeros.resize(length);
  return std::string_view(zeros.data(), length);
}

}  // namespace

http::Handler make_handler(std::shared_ptr<const StaticFiles> files) {
  return [files = std::move(files)](const http::Request& request, http::Response& response) {
    Answer answer = files->answer(request.method(), request.target(), request.header("If-Modified-Since"));
    for (const auto& [name, value] : answer.headers) response.add_header(name, value);
    std::string_view body = answer.body;
    if (body.size() != answer.content_length) body = placeholder_body(answer.content_length);
    response.send(answer.status, body, answer.content_type);
  };
}

Coro<StaticServer> StaticServer::start(std::string root, std::string host, std::uint16_t port,
                                       http::ServerOptions options) {
  auto files = std::make_shared<const StaticFiles>(root);
  http::Handler handler = make_handler(std::move(files));
  http::HttpServer http = co_await http::HttpServer::start(std::move(handler), std::move(host), port, std::move(options));
  co_return StaticServer(std::move(http));
}

}  // namespace aio::static_files
