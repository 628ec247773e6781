// The main() shared by the tutorial's programs (docs/tutorial/): each step is a
// server with a scripted demo, so that the tutorial's test runs every step.
//
//   tutorial_N --port=8888   serves on 127.0.0.1:8888 until Ctrl-C (--port=0
//                            picks a free port); try it with `nc 127.0.0.1 8888`
//   tutorial_N               the demo: the server on a free port and scripted
//                            clients, printing what the clients see
#ifndef AIO_DOCS_EXAMPLES_TUTORIAL_H_
#define AIO_DOCS_EXAMPLES_TUTORIAL_H_

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <string_view>

#include "aio.h"

namespace tutorial {

// Runs `serve(port)` for --port=N, `demo()` without flags. Returns the exit
// status: 2 for a bad flag, 0 when Ctrl-C ended the server.
inline int main(int argc, char** argv, const std::function<aio::Coro<void>(std::uint16_t)>& serve,
                const std::function<aio::Coro<void>()>& demo) {
  if (argc == 1) {
    aio::run(demo());
    return 0;
  }
  std::string_view flag = argc == 2 ? argv[1] : "";
  char* end = nullptr;
  long port = flag.substr(0, 7) == "--port=" ? std::strtol(argv[1] + 7, &end, 10) : -1;
  if (port < 0 || port > 65535 || end == nullptr || *end != '\0' || flag.size() == 7) {
    std::fprintf(stderr, "usage: %s [--port=N]   (no flag: run the demo)\n", argv[0]);
    return 2;
  }
  try {
    aio::run(serve(static_cast<std::uint16_t>(port)));
  } catch (const aio::KeyboardInterrupt&) {
    std::printf("stopped\n");
  }
  return 0;
}

// Reads one line the server sent and prints it as "`who` sees: line".
inline aio::Coro<void> expect_line(aio::StreamReader& reader, const char* who) {
  std::string line = co_await reader.readline();
  if (line.empty()) {
    std::printf("%s sees: the connection closed\n", who);
  } else {
    std::printf("%s sees: %s", who, line.c_str());
  }
}

}  // namespace tutorial

#endif  // AIO_DOCS_EXAMPLES_TUTORIAL_H_
