// A TCP echo server, in two styles: streams (a coroutine per connection) and
// a Protocol (callbacks, no coroutine). ../shared/bench/echo_compare.sh drives it
// to compare its CPU per request with a hand-written epoll server.
//
//   echo_server [--port=N] [--host=ADDRESS] [--mode=streams|protocol]
// (--port=0 takes a free port; the address is printed on the first line)
//
// The port defaults to $PORT, then 8888. Runs until Ctrl-C or SIGTERM.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "aio.h"
#include "net/streams.h"
#include "net/transport.h"

// [START streams_echo]
aio::Coro<void> echo(aio::StreamReader reader, aio::StreamWriter writer) {
  while (true) {
    std::string data = co_await reader.read(64 * 1024);
    if (data.empty()) break;  // EOF
    writer.write(data);
    co_await writer.drain();
  }
  writer.close();
  co_await writer.wait_closed();
}
// [END streams_echo]

// [START protocol_echo]
class EchoProtocol : public aio::Protocol {
 public:
  void connection_made(std::shared_ptr<aio::Transport> transport) override { transport_ = std::move(transport); }
  void data_received(std::string_view data) override { transport_->write(data); }
  void connection_lost(std::exception_ptr) override { transport_.reset(); }

 private:
  std::shared_ptr<aio::Transport> transport_;
};
// [END protocol_echo]

namespace {

struct Flags {
  std::string host = "127.0.0.1";
  int port = 8888;
  std::string mode = "streams";
};

Flags parse_flags(int argc, char** argv) {
  Flags flags;
  if (const char* port = std::getenv("PORT")) flags.port = std::atoi(port);
  for (int i = 1; i < argc; ++i) {
    std::string_view argument = argv[i];
    auto value = [&](std::string_view name) -> const char* {
      return argument.substr(0, name.size()) == name ? argv[i] + name.size() : nullptr;
    };
    if (const char* port = value("--port=")) {
      flags.port = std::atoi(port);
    } else if (const char* host = value("--host=")) {
      flags.host = host;
    } else if (const char* mode = value("--mode=")) {
      flags.mode = mode;
    } else {
      std::fprintf(stderr, "usage: %s [--port=N] [--host=ADDRESS] [--mode=streams|protocol]\n", argv[0]);
      std::exit(2);
    }
  }
  if (flags.mode != "streams" && flags.mode != "protocol") {
    std::fprintf(stderr, "--mode must be streams or protocol, not '%s'\n", flags.mode.c_str());
    std::exit(2);
  }
  if (flags.port < 0 || flags.port > 65535) {
    std::fprintf(stderr, "--port must be 0..65535 (0: a free port, printed)\n");
    std::exit(2);
  }
  return flags;
}

aio::Coro<void> serve(Flags flags) {
  aio::ServeOptions options;
  options.backlog = 1024;
  const auto port = static_cast<std::uint16_t>(flags.port);
  // [START serve]
  std::optional<aio::Server> server;
  if (flags.mode == "streams") {
    server.emplace(co_await aio::start_server(echo, flags.host, port, options));
  } else {
    auto factory = [] { return std::make_shared<EchoProtocol>(); };
    server.emplace(co_await aio::create_server(factory, flags.host, port, options));
  }
  // SIGTERM (kill, systemd) stops it like Ctrl-C: the serving task is
  // cancelled, the server closes and waits for its connections to end.
  aio::AnyTask serving = *aio::current_task();
  aio::get_running_loop().add_signal_handler(SIGTERM, [serving]() mutable { serving.cancel(); });
  std::printf("echo server (%s) on %s\n", flags.mode.c_str(), server->sockets()[0].to_string().c_str());
  std::fflush(stdout);
  co_await server->serve_forever();
  // [END serve]
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags = parse_flags(argc, argv);
  try {
    aio::run(serve(flags));
  } catch (const aio::KeyboardInterrupt&) {
    return 0;
  } catch (const aio::CancelledError&) {
    return 0;  // SIGTERM
  } catch (const std::exception& error) {
    std::fprintf(stderr, "echo_server: %s\n", error.what());
    return 1;
  }
}
