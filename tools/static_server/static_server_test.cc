// The docs server over real loopback connections, on the virtual-time test
// loop: keep-alive, HEAD, 304, traversal attempts sent raw on the wire,
// error pages, oversize requests, slow clients. Every test counts the process's
// descriptors before and after (server, connections and the root's).
#include "tools/static_server/static_server.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <string>

#include "async/testing.h"
#include "gtest/gtest.h"
#include "net/streams.h"

namespace aio::static_files {
namespace {

using namespace std::chrono_literals;

int open_fd_count() {
  int count = 0;
  DIR* dir = ::opendir("/proc/self/fd");
  while (dirent* entry = ::readdir(dir)) count += entry->d_name[0] != '.';
  ::closedir(dir);
  return count - 1;  // the directory stream's own
}

// A site in a temporary directory, with a file and a directory outside it
// that nothing may reach, removed when it goes away.
struct Tree {
  Tree() {
    const char* tmp = std::getenv("TEST_TMPDIR");
    base = std::string(tmp ? tmp : "/tmp") + "/static_server_XXXXXX";
    if (::mkdtemp(base.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    root = base + "/site";
    ::mkdir(root.c_str(), 0755);
    ::mkdir((root + "/api").c_str(), 0755);
    write(root + "/index.html", "<h1>aio</h1>");
    write(root + "/api/index.html", "<h1>api</h1>");
    write(root + "/style.css", "body{}");
    write(base + "/outside.txt", "SECRET outside the root");
    if (::symlink((base + "/outside.txt").c_str(), (root + "/leak.txt").c_str()) != 0 ||
        ::symlink("..", (root + "/up").c_str()) != 0) {
      throw std::runtime_error("symlink failed");
    }
  }
  ~Tree() {
    std::string command = "rm -rf '" + base + "'";
    if (std::system(command.c_str()) != 0) ADD_FAILURE() << "could not remove " << base;
  }
  static void write(const std::string& path, const std::string& content) {
    std::ofstream(path, std::ios::binary) << content;
  }
  std::string base, root;
};

struct Reply {
  int status = 0;
  std::string head;
  std::string body;
  std::string header(const std::string& name) const {
    std::size_t at = head.find("\r\n" + name + ": ");
    if (at == std::string::npos) return "";
    at += name.size() + 4;
    return head.substr(at, head.find("\r\n", at) - at);
  }
};

// Reads one response; with `head_only` (HEAD, 304) no body follows the head.
Coro<Reply> read_reply(StreamReader& reader, bool head_only = false) {
  Reply reply;
  reply.head = co_await reader.readuntil("\r\n\r\n");
  reply.status = std::stoi(reply.head.substr(9, 3));
  std::string length = reply.header("Content-Length");
  if (!head_only && !length.empty() && std::stoul(length) > 0) {
    reply.body = co_await reader.readexactly(std::stoul(length));
  }
  co_return reply;
}

// Sends `request` on a new connection and returns the reply.
Coro<Reply> fetch(std::uint16_t port, std::string request, bool head_only = false) {
  Streams s = co_await open_connection("127.0.0.1", port);
  s.writer.write(request);
  Reply reply = co_await read_reply(s.reader, head_only);
  s.writer.close();
  co_await s.writer.wait_closed();
  co_return reply;
}

using Body = std::function<Coro<void>(const Tree&, StaticServer&)>;

// Runs `body` against a server on a fresh tree, then checks that closing it
// leaves no descriptor behind.
Coro<void> with_server(Body body, http::ServerOptions options) {
  int before = open_fd_count();
  {
    Tree tree;
    StaticServer server = co_await StaticServer::start(tree.root, "127.0.0.1", 0, options);
    co_await body(tree, server);
    server.http().close();
    server.http().close_clients();
    co_await server.http().wait_closed();
  }
  co_await aio::testing::let_other_tasks_run();
  EXPECT_EQ(open_fd_count(), before) << "descriptors leaked";
}

AIO_TEST(StaticServer, KeepAliveServesSeveralFilesOnOneConnection) {
  Body body = [](const Tree&, StaticServer& server) -> Coro<void> {
    Streams s = co_await open_connection("127.0.0.1", server.port());
    s.writer.write("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    Reply index = co_await read_reply(s.reader);
    EXPECT_EQ(index.status, 200);
    EXPECT_EQ(index.body, "<h1>aio</h1>");
    EXPECT_EQ(index.header("Content-Type"), "text/html; charset=utf-8");
    EXPECT_EQ(index.header("Content-Length"), "12");
    EXPECT_FALSE(index.header("Last-Modified").empty());
    s.writer.write("GET /style.css HTTP/1.1\r\nHost: t\r\n\r\nGET /nope HTTP/1.1\r\nHost: t\r\n\r\n");  // pipelined
    Reply css = co_await read_reply(s.reader);
    EXPECT_EQ(css.status, 200);
    EXPECT_EQ(css.body, "body{}");
    EXPECT_EQ(css.header("Content-Type"), "text/css; charset=utf-8");
    Reply missing = co_await read_reply(s.reader);
    EXPECT_EQ(missing.status, 404);
    EXPECT_EQ(missing.header("Content-Type"), "text/html; charset=utf-8");
    EXPECT_NE(missing.body.find("404 Not Found"), std::string::npos);
    EXPECT_EQ(server.http().stats().connections_accepted.load(), 1u);
    EXPECT_EQ(server.http().stats().requests.load(), 3u);
    s.writer.close();
    co_await s.writer.wait_closed();
  };
  co_await with_server(body, http::ServerOptions());
}

AIO_TEST(StaticServer, HeadSendsTheLengthAndNoBody) {
  Body body = [](const Tree&, StaticServer& server) -> Coro<void> {
    Streams s = co_await open_connection("127.0.0.1", server.port());
    s.writer.write("HEAD /style.css HTTP/1.1\r\nHost: t\r\n\r\nGET /style.css HTTP/1.1\r\nHost: t\r\n\r\n");
    Reply head = co_await read_reply(s.reader, /*head_only=*/true);
    EXPECT_EQ(head.status, 200);
    EXPECT_EQ(head.header("Content-Length"), "6");
    EXPECT_EQ(head.header("Content-Type"), "text/css; charset=utf-8");
    // Had the HEAD response carried a body, this would read it as a status line.
    Reply get = co_await read_reply(s.reader);
    EXPECT_EQ(get.status, 200);
    EXPECT_EQ(get.body, "body{}");
    s.writer.close();
    co_await s.writer.wait_closed();
  };
  co_await with_server(body, http::ServerOptions());
}

AIO_TEST(StaticServer, IfModifiedSinceGives304WithoutABody) {
  Body body = [](const Tree&, StaticServer& server) -> Coro<void> {
    Reply first = co_await fetch(server.port(), "GET /index.html HTTP/1.1\r\n\r\n");
    std::string modified = first.header("Last-Modified");
    EXPECT_FALSE(modified.empty());
    Streams s = co_await open_connection("127.0.0.1", server.port());
    s.writer.write("GET /index.html HTTP/1.1\r\nIf-Modified-Since: " + modified +
                   "\r\n\r\nGET /index.html HTTP/1.1\r\nIf-Modified-Since: Sat, 01 Jan 2000 00:00:00 GMT\r\n\r\n");
    Reply not_modified = co_await read_reply(s.reader, /*head_only=*/true);
    EXPECT_EQ(not_modified.status, 304);
    EXPECT_EQ(not_modified.header("Content-Length"), "12");  // the file's, as RFC 9110 8.6 asks
    EXPECT_EQ(not_modified.header("Last-Modified"), modified);
    Reply changed = co_await read_reply(s.reader);  // an older date: the file
    EXPECT_EQ(changed.status, 200);
    EXPECT_EQ(changed.body, "<h1>aio</h1>");
    s.writer.close();
    co_await s.writer.wait_closed();
  };
  co_await with_server(body, http::ServerOptions());
}

AIO_TEST(StaticServer, TraversalAttemptsOnTheWireAreRefused) {
  Body body = [](const Tree& tree, StaticServer& server) -> Coro<void> {
    struct Attempt {
      std::string target;
      int status;
    };
    std::vector<Attempt> attempts;
    attempts.push_back({"/../outside.txt", 403});
    attempts.push_back({"/api/../../outside.txt", 403});
    attempts.push_back({"/%2e%2e/outside.txt", 403});
    attempts.push_back({"/%2E%2e%2Foutside.txt", 403});
    attempts.push_back({"/..%2f..%2fetc%2fpasswd", 403});
    attempts.push_back({"/leak.txt", 403});        // a symlink out of the root
    attempts.push_back({"/up/outside.txt", 403});  // a symlink to the root's parent
    attempts.push_back({"//etc/passwd", 404});     // root/etc/passwd: not there
    attempts.push_back({"/" + tree.base + "/outside.txt", 404});
    attempts.push_back({"/a%zz", 400});
    attempts.push_back({"/index.html%00.css", 400});
    for (const Attempt& attempt : attempts) {
      Reply reply = co_await fetch(server.port(), "GET " + attempt.target + " HTTP/1.1\r\nHost: t\r\n\r\n");
      EXPECT_EQ(reply.status, attempt.status) << attempt.target;
      EXPECT_EQ(reply.body.find("SECRET"), std::string::npos) << attempt.target;
      EXPECT_EQ(reply.header("Content-Type"), "text/html; charset=utf-8") << attempt.target;
    }
    // Not origin-form (an absolute URI, '*'): refused as malformed.
    Reply absolute = co_await fetch(server.port(), "GET http://t/index.html HTTP/1.1\r\nHost: t\r\n\r\n");
    EXPECT_EQ(absolute.status, 400);
  };
  co_await with_server(body, http::ServerOptions());
}

AIO_TEST(StaticServer, DirectoriesRedirectsAndMethods) {
  Body body = [](const Tree&, StaticServer& server) -> Coro<void> {
    Reply api = co_await fetch(server.port(), "GET /api/ HTTP/1.1\r\n\r\n");
    EXPECT_EQ(api.status, 200);
    EXPECT_EQ(api.body, "<h1>api</h1>");
    Reply redirect = co_await fetch(server.port(), "GET /api HTTP/1.1\r\n\r\n");
    EXPECT_EQ(redirect.status, 301);
    EXPECT_EQ(redirect.header("Location"), "/api/");
    Reply post = co_await fetch(server.port(), "POST /index.html HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi");
    EXPECT_EQ(post.status, 405);
    EXPECT_EQ(post.header("Allow"), "GET, HEAD");
  };
  co_await with_server(body, http::ServerOptions());
}

AIO_TEST(StaticServer, OversizeRequestsAreRefusedAndClosed) {
  http::ServerOptions options;
  options.max_header_bytes = 1024;
  Body body = [](const Tree&, StaticServer& server) -> Coro<void> {
    Streams s = co_await open_connection("127.0.0.1", server.port());
    s.writer.write("GET /" + std::string(4000, 'a') + " HTTP/1.1\r\n\r\n");
    Reply reply = co_await read_reply(s.reader);
    EXPECT_EQ(reply.status, 431);
    EXPECT_EQ(co_await s.reader.read(), "");  // and the connection is closed
    s.writer.close();
    co_await s.writer.wait_closed();
  };
  co_await with_server(body, options);
}

AIO_TEST(StaticServer, SlowClientsTimeOut) {
  http::ServerOptions options;
  options.request_timeout = 5s;
  options.idle_timeout = 30s;
  Body body = [](const Tree&, StaticServer& server) -> Coro<void> {
    Streams slow = co_await open_connection("127.0.0.1", server.port());
    TimePoint start = get_running_loop().time();
    slow.writer.write("GET /index.html HTTP/1.1\r\nHost: t\r\n");  // and never the blank line
    Reply reply = co_await read_reply(slow.reader);
    EXPECT_EQ(reply.status, 408);
    EXPECT_GE(get_running_loop().time() - start, 5s);
    EXPECT_EQ(co_await slow.reader.read(), "");
    slow.writer.close();
    // A client that connects and sends nothing is closed after idle_timeout.
    Streams silent = co_await open_connection("127.0.0.1", server.port());
    start = get_running_loop().time();
    EXPECT_EQ(co_await silent.reader.read(), "");
    EXPECT_GE(get_running_loop().time() - start, 30s);
    silent.writer.close();
    EXPECT_EQ(server.http().stats().timeouts.load(), 2u);
  };
  co_await with_server(body, options);
}

AIO_TEST(StaticServer, AMissingRootIsAClearError) {
  int before = open_fd_count();
  bool threw = false;
  try {
    StaticServer server = co_await StaticServer::start("/nonexistent/aio-site", "127.0.0.1", 0);
  } catch (const std::system_error& error) {
    threw = true;
    EXPECT_NE(std::string(error.what()).find("/nonexistent/aio-site"), std::string::npos);
  }
  EXPECT_TRUE(threw);
  EXPECT_EQ(open_fd_count(), before);
}

}  // namespace
}  // namespace aio::static_files
