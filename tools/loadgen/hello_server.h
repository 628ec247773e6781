// The load generator's embedded "hello" server: aio's HTTP/1.1 server
// (tools/http) answering "hello world\n" on its own thread and event loop,
// with knobs that make it misbehave on purpose, for trying the tool and for
// its accuracy and fault tests.
//
// Knobs (all off by default):
//   delay        answer each request after this long (a timer, not a sleep)
//   stall_every  / stall_for: the last `stall_for` of every `stall_every`
//                (from the server's start) the server stops answering;
//                requests arriving meanwhile are answered when the stall ends
//                (a GC pause, a lock convoy)
//   close_every  every Nth request is answered with `Connection: close`
//   reset_every  every Nth request gets a TCP reset instead of an answer
//   garbage_every every Nth request gets a malformed status line
//   silent_every every Nth request is never answered (the connection stays)
// "Every Nth" counts over the whole server.
//
// Thread-safety: start() and stop() from one thread (the owner); requests()
// from any. Destroying a running server stops it.
#ifndef AIO_TOOLS_LOADGEN_HELLO_SERVER_H_
#define AIO_TOOLS_LOADGEN_HELLO_SERVER_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

namespace aio::loadgen {

struct HelloOptions {
  HelloOptions() {}
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;  // 0: an ephemeral port
  std::chrono::nanoseconds delay{0};
  std::chrono::nanoseconds stall_every{0};
  std::chrono::nanoseconds stall_for{std::chrono::milliseconds(100)};
  std::uint64_t close_every = 0;
  std::uint64_t reset_every = 0;
  std::uint64_t garbage_every = 0;
  std::uint64_t silent_every = 0;
  std::string body = "hello world\n";
};

class HelloServer {
 public:
  HelloServer();
  ~HelloServer();
  HelloServer(const HelloServer&) = delete;
  HelloServer& operator=(const HelloServer&) = delete;

  // Starts the server's thread and returns once it listens. Throws what
  // listening throws (std::system_error: EADDRINUSE, ...) and
  // std::logic_error if already started.
  void start(const HelloOptions& options);
  // Stops serving, closes every connection, joins the thread. Idempotent.
  void stop();
  // Runs the server on the calling thread until SIGINT/SIGTERM (--serve).
  static void serve_until_signal(const HelloOptions& options);

  std::uint16_t port() const { return port_; }
  // Requests the server has received so far.
  std::uint64_t requests() const;

  struct State;

 private:
  std::shared_ptr<State> state_;
  std::thread thread_;
  std::uint16_t port_ = 0;
};

}  // namespace aio::loadgen

#endif  // AIO_TOOLS_LOADGEN_HELLO_SERVER_H_
