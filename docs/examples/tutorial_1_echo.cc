// The tutorial, step 1 (docs/tutorial/echo.md): a line echo server. One
// coroutine per connection, started by start_server for each client.
#include <cstdio>
#include <optional>
#include <string>

#include "aio.h"
#include "docs/examples/tutorial.h"

// [START handle]
aio::Coro<void> handle_client(aio::StreamReader reader, aio::StreamWriter writer) {
  while (std::optional<std::string> line = co_await reader.next_line()) {
    writer.write(*line);      // buffered at once
    co_await writer.drain();  // waits while the client is slow to read
  }
  // EOF: the client closed its side.
  writer.close();
  co_await writer.wait_closed();
}
// [END handle]

// [START serve]
aio::Coro<void> serve(std::uint16_t port) {
  aio::Server server = co_await aio::start_server(handle_client, "127.0.0.1", port);
  std::printf("echo server on %s\n", server.sockets()[0].to_string().c_str());
  std::fflush(stdout);
  co_await server.serve_forever();  // until Ctrl-C cancels the main task
}
// [END serve]

// [START demo]
aio::Coro<void> demo() {
  aio::Server server = co_await aio::start_server(handle_client, "127.0.0.1", 0);
  std::uint16_t port = server.sockets()[0].port();  // the one the kernel picked
  auto [reader, writer] = co_await aio::open_connection("127.0.0.1", port);
  writer.write("hello\n");
  co_await tutorial::expect_line(reader, "client");
  writer.write("world\n");
  co_await tutorial::expect_line(reader, "client");
  writer.write_eof();  // no more lines: the server's next_line() returns nullopt
  co_await tutorial::expect_line(reader, "client");
  writer.close();
  server.close();
  co_await server.wait_closed();
}
// [END demo]

int main(int argc, char** argv) { return tutorial::main(argc, argv, serve, demo); }
