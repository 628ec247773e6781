// The embedded hello server: tools/http's server with a handler that answers
// at once (the fast path: one response appended to the connection's output
// buffer) unless a knob says otherwise, in which case it defers the answer to
// a timer or injects the fault. Stopping from another thread goes through
// call_soon_threadsafe, the only thread-safe way into a loop.
#include "tools/loadgen/hello_server.h"

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <future>
#include <stdexcept>

#include "async/errors.h"
#include "async/loop.h"
#include "async/run.h"
#include "async/sleep.h"
#include "async/task.h"
#include "tools/http/server.h"

namespace aio::loadgen {

struct HelloServer::State {
  HelloOptions options;
  std::atomic<std::uint64_t> requests{0};
  std::chrono::steady_clock::time_point started;
  EventLoop* loop = nullptr;  // set on the server's thread before `ready`
  std::promise<std::uint16_t> ready;
  std::atomic<bool> stop_requested{false};
  std::optional<Task<void>> serving;
  bool announce = false;  // print where it listens (--serve)
};

namespace {

using Clock = std::chrono::steady_clock;

http::Handler make_handler(std::shared_ptr<HelloServer::State> state) {
  return [state](const http::Request&, http::Response& response) {
    const HelloOptions& o = state->options;
    std::uint64_t n = state->requests.fetch_add(1, std::memory_order_relaxed) + 1;
    if (o.reset_every && n % o.reset_every == 0) return response.reset_connection();
    if (o.garbage_every && n % o.garbage_every == 0) return response.send_raw("HTTX/9.9 what\r\n\r\n");
    if (o.silent_every && n % o.silent_every == 0) {
      // Never answered: the handle lives as long as the connection's client
      // does not give up (it is dropped with the loop).
      auto forgotten = std::make_shared<http::DeferredResponse>(response.defer());
      get_running_loop().call_later(std::chrono::hours(1), [forgotten] {});
      return;
    }
    if (o.close_every && n % o.close_every == 0) response.close_after();
    Clock::time_point now = Clock::now();
    Clock::time_point answer_at = now;
    if (o.stall_every.count() > 0) {
      auto since = now - state->started;
      // The stall closes each period, so a run that starts with the server
      // sees whole stalls.
      auto phase = since % o.stall_every;
      auto stall_start = o.stall_every - std::min<Clock::duration>(o.stall_for, o.stall_every);
      if (phase >= stall_start) answer_at = now + (o.stall_every - phase);
    }
    if (o.delay.count() > 0) answer_at = std::max(answer_at, now + o.delay);
    if (answer_at == now) return response.send(200, o.body, "text/plain");
    auto later = std::make_shared<http::DeferredResponse>(response.defer());
    get_running_loop().call_at(answer_at, [later, state] {
      if (later->connected()) later->send(200, state->options.body, "text/plain");
    });
  };
}

Coro<void> serve(std::shared_ptr<HelloServer::State> state) {
  http::ServerOptions options;
  options.backlog = 4096;
  options.idle_timeout = std::chrono::minutes(10);
  http::HttpServer server = co_await http::HttpServer::start(make_handler(state), state->options.host,
                                                             state->options.port, options);
  state->started = Clock::now();
  state->loop = &get_running_loop();
  state->ready.set_value(server.port());
  if (state->announce) {
    std::printf("loadgen: serving http://%s:%u/ (Ctrl-C to stop)\n", state->options.host.c_str(),
                static_cast<unsigned>(server.port()));
    std::fflush(stdout);
  }
  // Accepting runs by itself (start_serving); wait here for the stop, then
  // close the connections too, also those whose answer is still deferred.
  try {
    co_await sleep(std::chrono::hours(24 * 365));
  } catch (const CancelledError&) {
  }
  server.close();
  server.close_clients();
  co_await server.wait_closed();
}

}  // namespace

HelloServer::HelloServer() = default;

HelloServer::~HelloServer() { stop(); }

void HelloServer::start(const HelloOptions& options) {
  if (thread_.joinable()) throw std::logic_error("HelloServer::start: already started");
  state_ = std::make_shared<State>();
  state_->options = options;
  std::future<std::uint16_t> ready = state_->ready.get_future();
  std::shared_ptr<State> state = state_;
  thread_ = std::thread([state] {
    try {
      aio::run([](std::shared_ptr<State> s) -> Coro<void> {
        Task<void> task = create_task(serve(s));
        s->serving = task;
        co_await task;
      }(state));
    } catch (const CancelledError&) {
    } catch (...) {
      try {
        state->ready.set_exception(std::current_exception());
      } catch (const std::future_error&) {
      }
    }
  });
  try {
    port_ = ready.get();
  } catch (...) {
    thread_.join();
    throw;
  }
}

void HelloServer::stop() {
  if (!thread_.joinable()) return;
  std::shared_ptr<State> state = state_;
  state->loop->call_soon_threadsafe([state] {
    if (state->serving) state->serving->cancel();
  });
  thread_.join();
}

std::uint64_t HelloServer::requests() const { return state_ ? state_->requests.load() : 0; }

void HelloServer::serve_until_signal(const HelloOptions& options) {
  auto state = std::make_shared<State>();
  state->options = options;
  state->announce = true;
  try {
    aio::run([](std::shared_ptr<State> s) -> Coro<void> {
      Task<void> task = create_task(serve(s));
      s->serving = task;
      get_running_loop().add_signal_handler(SIGTERM, [s] { s->serving->cancel(); });
      co_await task;
    }(state));
  } catch (const CancelledError&) {
  } catch (const KeyboardInterrupt&) {
  }
}

}  // namespace aio::loadgen
