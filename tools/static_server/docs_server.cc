// docs_server: serves a directory (the documentation site) on loopback with
// aio's HTTP server. `./bazelw run //docs:serve` runs it on the built site.
//
//   docs_server --root=DIR [--port=8000] [--host=127.0.0.1]
//
// Prints the URL once it listens (--port=0 picks a free port). Ctrl-C or
// SIGTERM stop it: it stops listening, closes the open connections and exits 0.
// Requests are bounded to their 8 KiB head (no bodies).
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "aio.h"
#include "tools/static_server/static_server.h"

namespace {

struct Flags {
  std::string root;
  std::string host = "127.0.0.1";
  long port = 8000;
};

// Parses --name=value and --name value; nullopt (after a message) on a bad flag.
std::optional<Flags> parse_flags(int argc, char** argv) {
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    std::string_view argument = argv[i];
    std::string_view name = argument.substr(0, argument.find('='));
    std::string value;
    if (name.size() < argument.size()) {
      value = std::string(argument.substr(name.size() + 1));
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      std::fprintf(stderr, "docs_server: %s needs a value\n", argv[i]);
      return std::nullopt;
    }
    if (name == "--root") {
      flags.root = value;
    } else if (name == "--host") {
      flags.host = value;
    } else if (name == "--port") {
      char* end = nullptr;
      flags.port = std::strtol(value.c_str(), &end, 10);
      if (value.empty() || *end != '\0' || flags.port < 0 || flags.port > 65535) {
        std::fprintf(stderr, "docs_server: --port wants a number from 0 to 65535, not '%s'\n", value.c_str());
        return std::nullopt;
      }
    } else {
      std::fprintf(stderr, "docs_server: unknown flag %s\n", argv[i]);
      return std::nullopt;
    }
  }
  if (flags.root.empty()) {
    std::fprintf(stderr, "docs_server: --root=DIR is required\n");
    return std::nullopt;
  }
  return flags;
}

aio::Coro<int> serve(Flags flags) {
  // GET and HEAD carry no body: a request is its head, at most 8 KiB (431
  // beyond), and a body gets 413. A client gets 10 s to send a request and may
  // stay idle 60 s between requests (tools/http's defaults).
  aio::http::ServerOptions options;
  options.max_header_bytes = 8 * 1024;
  options.max_body_bytes = 0;
  aio::static_files::StaticServer server = co_await aio::static_files::StaticServer::start(
      flags.root, flags.host, static_cast<std::uint16_t>(flags.port), options);
  std::printf("Serving %s at http://%s:%u/ (Ctrl-C stops)\n", flags.root.c_str(), flags.host.c_str(),
              server.port());
  std::fflush(stdout);
  bool stopping = false;
  auto stop = [&] {
    stopping = true;
    server.http().close();
    server.http().close_clients();
  };
  aio::EventLoop& loop = aio::get_running_loop();
  loop.add_signal_handler(SIGTERM, stop);
  try {
    co_await server.http().serve_forever();
  } catch (const aio::CancelledError&) {
    // serve_forever ends with CancelledError after close(), as asyncio's; a
    // cancellation that is not ours (Ctrl-C) goes on.
    if (!stopping) {
      server.http().close_clients();
      throw;
    }
  }
  loop.remove_signal_handler(SIGTERM);
  std::printf("stopped\n");
  co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::optional<Flags> flags = parse_flags(argc, argv);
  if (!flags) {
    std::fprintf(stderr, "usage: docs_server --root=DIR [--port=8000] [--host=127.0.0.1]\n");
    return 2;
  }
  try {
    return aio::run(serve(*flags));
  } catch (const aio::KeyboardInterrupt&) {
    std::printf("stopped\n");
    return 0;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "docs_server: %s\n", error.what());
    return 1;
  }
}
