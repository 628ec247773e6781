// aio::run(coro) and aio::Runner: the entry point of an aio program
// (asyncio.run / asyncio.Runner).
//
//   int main() { return aio::run(amain()); }
//
// run() creates a new event loop, runs `coro` as the main task until it is done,
// then cancels the tasks still pending and waits for them (their errors other
// than CancelledError are reported as 'unhandled exception during aio::run()
// shutdown'), and closes the loop. It returns the coroutine's value or rethrows
// its exception. It cannot be called while a loop runs on this thread.
//
// A Runner keeps one loop for several run() calls (asyncio.Runner), for code
// that needs a loop to live across calls.
#ifndef AIO_ASYNC_RUN_H_
#define AIO_ASYNC_RUN_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <utility>

#include "async/coro.h"
#include "async/loop.h"
#include "async/task.h"

namespace aio {

struct RunOptions {
  // asyncio's debug mode (also on with AIO_DEBUG=1).
  bool debug = false;
  // Virtual time (the test loop, see async/testing.h).
  bool virtual_time = false;
  // Shuffle mode (EventLoop::Options::shuffle_seed; also AIO_SHUFFLE).
  std::optional<std::uint64_t> shuffle_seed;
  // Never shuffle (EventLoop::Options::ordered).
  bool ordered = false;
};

class Runner {
 public:
  explicit Runner(RunOptions options = {});
  // Closes the runner (see close()).
  ~Runner();
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;

  // Runs `coro` as a task on the runner's loop until it completes and returns
  // its value (or rethrows its exception). Throws std::runtime_error if called
  // from a running loop or after close().
  template <class T>
  T run(Coro<T> coro) {
    throw_if_unusable();
    return run_until_complete(*loop_, create_task(*loop_, std::move(coro)));
  }

  // Cancels the tasks left on the loop, waits for them, reports their errors,
  // and closes the loop. Idempotent.
  void close();

  // The runner's loop. Throws std::runtime_error after close().
  EventLoop& get_loop();

 private:
  void throw_if_unusable() const;
  void cancel_remaining_tasks();

  std::unique_ptr<EventLoop> loop_;
};

// Runs `coro` on a new loop and returns its value; see the file comment.
template <class T>
T run(Coro<T> coro, RunOptions options = {}) {
  Runner runner(options);
  if constexpr (std::is_void_v<T>) {
    runner.run(std::move(coro));
    runner.close();
  } else {
    T value = runner.run(std::move(coro));
    runner.close();
    return value;
  }
}

}  // namespace aio

#endif  // AIO_ASYNC_RUN_H_
