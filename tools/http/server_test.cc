#include "tools/http/server.h"

#include <dirent.h>

#include <chrono>
#include <string>
#include <vector>

#include "async/gather.h"
#include "async/testing.h"
#include "async/timeouts.h"
#include "gtest/gtest.h"
#include "net/streams.h"

namespace aio::http {
namespace {

using namespace std::chrono_literals;

int open_fd_count() {
  int count = 0;
  DIR* dir = ::opendir("/proc/self/fd");
  while (dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  ::closedir(dir);
  return count - 1;  // the directory's own descriptor
}

// Echoes the method and target; "/big" answers 20,000 bytes.
void echo_handler(const Request& request, Response& response) {
  if (request.path() == "/big") return response.send(200, std::string(20000, 'x'));
  std::string body = std::string(request.method()) + " " + std::string(request.target());
  if (!request.body().empty()) body += " body=" + std::string(request.body());
  response.add_header("X-Test", "1");
  response.send(200, body, "text/plain");
}

struct Reply {
  std::string head;  // status line and headers, with the final CRLFCRLF
  std::string body;
  int status = 0;
};

std::size_t content_length(const std::string& head) {
  std::size_t at = head.find("Content-Length: ");
  if (at == std::string::npos) return 0;
  return std::stoul(head.substr(at + 16));
}

// Reads one response (Content-Length framed; no body when `head_only`).
Coro<Reply> read_reply(StreamReader& reader, bool head_only = false) {
  Reply reply;
  reply.head = co_await reader.readuntil("\r\n\r\n");
  reply.status = std::stoi(reply.head.substr(9, 3));
  std::size_t length = content_length(reply.head);
  if (!head_only && length > 0) reply.body = co_await reader.readexactly(length);
  co_return reply;
}

Coro<HttpServer> start(Handler handler = echo_handler, ServerOptions options = {}) {
  HttpServer server = co_await HttpServer::start(std::move(handler), "127.0.0.1", 0, std::move(options));
  co_return server;
}

AIO_TEST(HttpServer, KeepAliveServesSeveralRequestsOnOneConnection) {
  HttpServer server = co_await start();
  Streams s = co_await open_connection("127.0.0.1", server.port());
  for (int i = 0; i < 3; ++i) {
    s.writer.write("GET /a?x=" + std::to_string(i) + " HTTP/1.1\r\nHost: t\r\n\r\n");
    Reply reply = co_await read_reply(s.reader);
    EXPECT_EQ(reply.status, 200);
    EXPECT_EQ(reply.body, "GET /a?x=" + std::to_string(i));
    EXPECT_NE(reply.head.find("X-Test: 1\r\n"), std::string::npos);
    EXPECT_NE(reply.head.find("Date: "), std::string::npos);
    EXPECT_EQ(reply.head.find("Connection:"), std::string::npos);
  }
  EXPECT_EQ(server.stats().connections_accepted.load(), 1u);
  EXPECT_EQ(server.stats().requests.load(), 3u);
  s.writer.close();
  co_await s.writer.wait_closed();
  server.close();
  co_await server.wait_closed();
}

AIO_TEST(HttpServer, PipelinedRequestsAreAnsweredInOrder) {
  HttpServer server = co_await start();
  Streams s = co_await open_connection("127.0.0.1", server.port());
  std::string requests;
  for (int i = 0; i < 10; ++i) requests += "GET /" + std::to_string(i) + " HTTP/1.1\r\nHost: t\r\n\r\n";
  // Split mid-request, to cover a request spanning two reads.
  s.writer.write(requests.substr(0, 100));
  co_await aio::testing::let_other_tasks_run();
  s.writer.write(requests.substr(100));
  for (int i = 0; i < 10; ++i) {
    Reply reply = co_await read_reply(s.reader);
    EXPECT_EQ(reply.body, "GET /" + std::to_string(i));
  }
  s.writer.close();
  server.close();
  co_await server.wait_closed();
}

AIO_TEST(HttpServer, ConnectionCloseAndHttp10CloseAfterTheResponse) {
  HttpServer server = co_await start();
  for (std::string request : {std::string("GET / HTTP/1.1\r\nConnection: close\r\n\r\n"),
                              std::string("GET / HTTP/1.0\r\n\r\n")}) {
    Streams s = co_await open_connection("127.0.0.1", server.port());
    s.writer.write(request);
    Reply reply = co_await read_reply(s.reader);
    EXPECT_EQ(reply.status, 200);
    EXPECT_NE(reply.head.find("Connection: close\r\n"), std::string::npos);
    std::string rest = co_await s.reader.read();
    EXPECT_EQ(rest, "");
    EXPECT_TRUE(s.reader.at_eof());
    s.writer.close();
  }
  // HTTP/1.0 with keep-alive stays open and says so.
  Streams s = co_await open_connection("127.0.0.1", server.port());
  s.writer.write("GET /1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /2 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  Reply first = co_await read_reply(s.reader);
  Reply second = co_await read_reply(s.reader);
  EXPECT_NE(first.head.find("Connection: keep-alive\r\n"), std::string::npos);
  EXPECT_EQ(second.body, "GET /2");
  s.writer.close();
  server.close();
  co_await server.wait_closed();
}

AIO_TEST(HttpServer, HeadSendsHeadersWithTheLengthButNoBody) {
  HttpServer server = co_await start();
  Streams s = co_await open_connection("127.0.0.1", server.port());
  s.writer.write("HEAD /x HTTP/1.1\r\n\r\nGET /y HTTP/1.1\r\n\r\n");
  Reply head = co_await read_reply(s.reader, /*head_only=*/true);
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(content_length(head.head), 7u);  // "HEAD /x"
  // The next bytes are the GET's response, so no body came with the HEAD.
  Reply get = co_await read_reply(s.reader);
  EXPECT_EQ(get.body, "GET /y");
  s.writer.close();
  server.close();
  co_await server.wait_closed();
}

AIO_TEST(HttpServer, RequestBodiesByContentLength) {
  HttpServer server = co_await start();
  Streams s = co_await open_connection("127.0.0.1", server.port());
  s.writer.write("POST /p HTTP/1.1\r\nContent-Length: 11\r\n\r\nhello");
  co_await aio::testing::let_other_tasks_run();
  s.writer.write(" worldGET /n HTTP/1.1\r\n\r\n");
  Reply post = co_await read_reply(s.reader);
  EXPECT_EQ(post.body, "POST /p body=hello world");
  Reply get = co_await read_reply(s.reader);
  EXPECT_EQ(get.body, "GET /n");
  // A large body goes out beside the head.
  s.writer.write("GET /big HTTP/1.1\r\n\r\n");
  Reply big = co_await read_reply(s.reader);
  EXPECT_EQ(big.body, std::string(20000, 'x'));
  s.writer.close();
  server.close();
  co_await server.wait_closed();
}

// Sends `request` on a new connection; returns the status of the one response
// and checks that the server closed the connection after it.
Coro<int> status_then_close(std::uint16_t port, std::string request) {
  Streams s = co_await open_connection("127.0.0.1", port);
  s.writer.write(request);
  Reply reply = co_await read_reply(s.reader);
  std::string rest = co_await s.reader.read();
  EXPECT_EQ(rest, "") << request;
  EXPECT_NE(reply.head.find("Connection: close"), std::string::npos) << request;
  s.writer.close();
  co_return reply.status;
}

AIO_TEST(HttpServer, MalformedRequestsGet400AndAreClosed) {
  HttpServer server = co_await start();
  std::uint16_t port = server.port();
  EXPECT_EQ(co_await status_then_close(port, "GARBAGE\r\n\r\n"), 400);
  EXPECT_EQ(co_await status_then_close(port, "GET /\r\n\r\n"), 400);
  EXPECT_EQ(co_await status_then_close(port, "GET  / HTTP/1.1\r\n\r\n"), 400);
  EXPECT_EQ(co_await status_then_close(port, "GET / HTTP/1.1\r\nNoColon\r\n\r\n"), 400);
  EXPECT_EQ(co_await status_then_close(port, "GET / HTTP/1.1\r\nBad Name: x\r\n\r\n"), 400);
  EXPECT_EQ(co_await status_then_close(port, "GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n"), 400);
  EXPECT_EQ(co_await status_then_close(port, "GET / HTTP/1.1\r\nContent-Length: 5x\r\n\r\n"), 400);
  EXPECT_EQ(co_await status_then_close(port, "GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"),
            400);
  EXPECT_EQ(co_await status_then_close(port, "GET / HTTP/2.0\r\n\r\n"), 505);
  EXPECT_EQ(co_await status_then_close(port, "GET / HTTX/1.1\r\n\r\n"), 400);
  EXPECT_EQ(co_await status_then_close(port, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"), 501);
  // Binary garbage with no head end is refused at once, not after a timeout.
  TimePoint before = get_running_loop().time();
  EXPECT_EQ(co_await status_then_close(port, std::string("\x16\x03\x01\x02\x00", 5)), 400);
  EXPECT_LT(get_running_loop().time() - before, 1s);
  EXPECT_EQ(server.stats().bad_requests.load(), 12u);
  EXPECT_EQ(server.stats().requests.load(), 0u);
  server.close();
  co_await server.wait_closed();
}

AIO_TEST(HttpServer, OversizeHeadsAndBodiesAreRefused) {
  ServerOptions options;
  options.max_header_bytes = 1024;
  options.max_body_bytes = 100;
  HttpServer server = co_await start(echo_handler, options);
  std::uint16_t port = server.port();
  std::string big_header = "GET / HTTP/1.1\r\nX-Big: " + std::string(2000, 'a') + "\r\n\r\n";
  EXPECT_EQ(co_await status_then_close(port, big_header), 431);
  // Refused before the head ends, once it is over the limit.
  EXPECT_EQ(co_await status_then_close(port, "GET / HTTP/1.1\r\nX-Big: " + std::string(2000, 'a')), 431);
  std::string many;
  for (int i = 0; i < 70; ++i) many += "H" + std::to_string(i) + ": v\r\n";
  EXPECT_EQ(co_await status_then_close(port, "GET / HTTP/1.1\r\n" + many + "\r\n"), 431);
  EXPECT_EQ(co_await status_then_close(port, "POST / HTTP/1.1\r\nContent-Length: 101\r\n\r\n"), 413);
  server.close();
  co_await server.wait_closed();
}

AIO_TEST(HttpServer, SlowClientGets408AtTheRequestTimeout) {
  ServerOptions options;
  options.request_timeout = 5s;
  HttpServer server = co_await start(echo_handler, options);
  Streams s = co_await open_connection("127.0.0.1", server.port());
  TimePoint start_time = get_running_loop().time();
  s.writer.write("GET / HTTP/1.1\r\nHost: slow\r\n");  // and never the blank line
  Reply reply = co_await read_reply(s.reader);
  Duration waited = get_running_loop().time() - start_time;
  EXPECT_EQ(reply.status, 408);
  EXPECT_GE(waited, 5s);
  EXPECT_LT(waited, 6s);
  std::string rest = co_await s.reader.read();
  EXPECT_EQ(rest, "");
  EXPECT_EQ(server.stats().timeouts.load(), 1u);
  s.writer.close();
  server.close();
  co_await server.wait_closed();
}

AIO_TEST(HttpServer, IdleConnectionsAreClosedAfterIdleTimeoutButActiveOnesStay) {
  ServerOptions options;
  options.idle_timeout = 30s;
  HttpServer server = co_await start(echo_handler, options);
  Streams s = co_await open_connection("127.0.0.1", server.port());
  // Requests every 20 s keep it open past several idle timeouts' worth of time.
  for (int i = 0; i < 4; ++i) {
    co_await sleep(20s);
    s.writer.write("GET / HTTP/1.1\r\n\r\n");
    Reply reply = co_await read_reply(s.reader);
    EXPECT_EQ(reply.status, 200);
  }
  TimePoint start_time = get_running_loop().time();
  std::string rest = co_await s.reader.read();
  EXPECT_EQ(rest, "");
  Duration waited = get_running_loop().time() - start_time;
  EXPECT_GE(waited, 29s);
  EXPECT_LE(waited, 31s);
  EXPECT_EQ(server.stats().timeouts.load(), 1u);
  s.writer.close();
  server.close();
  co_await server.wait_closed();
}

AIO_TEST(HttpServer, DeferredResponsesKeepPipelinedOrder) {
  auto handler = [](const Request& request, Response& response) {
    std::string path(request.path());
    if (path == "/slow") {
      auto later = std::make_shared<DeferredResponse>(response.defer());
      get_running_loop().call_later(2ms, [later] {
        if (later->connected()) later->send(200, "slow");
      });
      return;
    }
    response.send(200, path);
  };
  HttpServer server = co_await start(handler);
  Streams s = co_await open_connection("127.0.0.1", server.port());
  TimePoint start_time = get_running_loop().time();
  s.writer.write("GET /slow HTTP/1.1\r\n\r\nGET /fast HTTP/1.1\r\n\r\nGET /slow HTTP/1.1\r\n\r\n");
  Reply a = co_await read_reply(s.reader);
  Reply b = co_await read_reply(s.reader);
  Reply c = co_await read_reply(s.reader);
  EXPECT_EQ(a.body, "slow");
  EXPECT_EQ(b.body, "/fast");
  EXPECT_EQ(c.body, "slow");
  EXPECT_GE(get_running_loop().time() - start_time, 4ms);
  s.writer.close();
  server.close();
  co_await server.wait_closed();
}

AIO_TEST(HttpServer, HandlerErrorsBecome500) {
  auto handler = [](const Request& request, Response& response) {
    if (request.path() == "/throw") throw std::runtime_error("boom");
    if (request.path() == "/silent") return;  // answers nothing
    if (request.path() == "/drop") {
      DeferredResponse dropped = response.defer();  // destroyed unsent: the connection closes
      return;
    }
    response.send(200, "ok");
  };
  HttpServer server = co_await start(handler);
  EXPECT_EQ(co_await status_then_close(server.port(), "GET /throw HTTP/1.1\r\n\r\n"), 500);
  Streams s = co_await open_connection("127.0.0.1", server.port());
  s.writer.write("GET /silent HTTP/1.1\r\n\r\nGET /ok HTTP/1.1\r\n\r\n");
  Reply silent = co_await read_reply(s.reader);
  Reply ok = co_await read_reply(s.reader);
  EXPECT_EQ(silent.status, 500);
  EXPECT_EQ(ok.status, 200);
  s.writer.write("GET /drop HTTP/1.1\r\n\r\n");
  std::string rest = co_await s.reader.read();
  EXPECT_EQ(rest, "");
  s.writer.close();
  server.close();
  co_await server.wait_closed();
}

AIO_TEST(HttpServer, FaultInjectionResetsAndRawBytes) {
  auto handler = [](const Request& request, Response& response) {
    if (request.path() == "/reset") return response.reset_connection();
    response.send_raw("NOT HTTP\r\n");
  };
  HttpServer server = co_await start(handler);
  Streams s = co_await open_connection("127.0.0.1", server.port());
  s.writer.write("GET /raw HTTP/1.1\r\n\r\n");
  std::string line = co_await s.reader.readline();
  EXPECT_EQ(line, "NOT HTTP\r\n");
  s.writer.write("GET /reset HTTP/1.1\r\n\r\n");
  bool reset = false;
  try {
    co_await s.reader.read();
  } catch (const std::system_error& e) {
    reset = e.code().value() == ECONNRESET;
  }
  EXPECT_TRUE(reset);
  s.writer.close();
  server.close();
  co_await server.wait_closed();
}

AIO_TEST(HttpServer, NoDescriptorIsLeftBehind) {
  int before = open_fd_count();
  {
    HttpServer server = co_await start();
    std::vector<Streams> clients;
    for (int i = 0; i < 20; ++i) {
      clients.push_back(co_await open_connection("127.0.0.1", server.port()));
      clients.back().writer.write(i % 2 ? "GET / HTTP/1.1\r\n\r\n" : "GET / HTTP/1.1\r\nHost: x\r\n");
    }
    for (int i = 1; i < 20; i += 2) {
      Reply reply = co_await read_reply(clients[i].reader);
      EXPECT_EQ(reply.status, 200);
    }
    EXPECT_EQ(server.stats().connections_open.load(), 20u);
    for (Streams& c : clients) {
      c.writer.close();
      co_await c.writer.wait_closed();
    }
    server.close();
    co_await server.wait_closed();
    EXPECT_EQ(server.stats().connections_open.load(), 0u);
  }
  co_await aio::testing::let_other_tasks_run();
  EXPECT_EQ(open_fd_count(), before);
}

}  // namespace
}  // namespace aio::http
