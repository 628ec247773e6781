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
// Ctrl-C works as in asyncio 3.11: when run() is called on the main thread and
// SIGINT has its default disposition, the first SIGINT cancels the main task; if
// the main task then ends cancelled, run() throws aio::KeyboardInterrupt (main()
// can catch it and return 130). The first SIGINT also restores the default
// disposition, so a second one ends the process at once, even if the loop is
// stuck in a callback that never yields.
//
// A Runner keeps one loop for several run() calls (asyncio.Runner), for code
// that needs a loop to live across calls.
//
// run_main(coro) is run() for a program's main(), with what `python3 prog.py`
// gives a script: an exception escaping the main coroutine is printed on stderr
// as Python's last traceback line ("aio::TimeoutError: timed out") and the exit
// status is 1; Ctrl-C prints "KeyboardInterrupt" and the status is 130; no
// exception reaches std::terminate.
//   int main() { return aio::run_main(amain()); }
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
  // Serve this process's tasks to `ps PID` / `pstree PID` (an InspectServer,
  // async/inspect.h; also on with AIO_INSPECT=1). Explicitly asked for, a
  // socket that cannot be created throws; through the environment it is
  // reported on stderr and the program runs on.
  bool inspect = false;
};

class InspectServer;

class Runner {
 public:
  explicit Runner(RunOptions options = {});
  // Closes the runner (see close()).
  ~Runner();
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;

  // Runs `coro` as a task on the runner's loop until it completes and returns
  // its value (or rethrows its exception). Throws aio::RuntimeError if called
  // from a running loop or after close().
  // Throws aio::KeyboardInterrupt when Ctrl-C ended the main task (see the file
  // comment).
  template <class T>
  T run(Coro<T> coro) {
    throw_if_unusable();
    Task<T> task = create_task(*loop_, std::move(coro));
    SigintHandling sigint(*loop_, task);
    try {
      return run_until_complete(*loop_, task);
    } catch (const CancelledError&) {
      if (sigint.interrupted() && task.uncancel() == 0) throw KeyboardInterrupt();
      throw;
    }
  }

  // Cancels the tasks left on the loop, waits for them, reports their errors,
  // and closes the loop. Idempotent.
  void close();

  // The runner's loop. Throws aio::RuntimeError after close().
  EventLoop& get_loop();

 private:
  // Installs the Ctrl-C behaviour for one run() when it applies (main thread,
  // default SIGINT disposition) and removes it afterwards.
  class SigintHandling {
   public:
    SigintHandling(EventLoop& loop, AnyTask main_task);
    ~SigintHandling();
    SigintHandling(const SigintHandling&) = delete;
    SigintHandling& operator=(const SigintHandling&) = delete;
    bool interrupted() const noexcept { return interrupts_ > 0; }

   private:
    EventLoop& loop_;
    AnyTask main_task_;
    bool installed_ = false;
    int interrupts_ = 0;
  };

  void throw_if_unusable() const;
  void cancel_remaining_tasks();

  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<InspectServer> inspect_;  // only with RunOptions::inspect or AIO_INSPECT=1
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

namespace internal {
// Prints the exception in flight as run_main does and returns the exit status
// (130 for KeyboardInterrupt, 1 otherwise). Call it from a catch block.
int report_uncaught_exception() noexcept;
}  // namespace internal

// Runs `coro` with run() and returns the process exit status: the coroutine's
// value when it returns an int (as `sys.exit(main())`), 0 for any other value,
// 1 after printing an uncaught exception, 130 after Ctrl-C (see the file
// comment). Never throws.
template <class T>
int run_main(Coro<T> coro, RunOptions options = {}) noexcept {
  try {
    if constexpr (std::is_same_v<T, int>) {
      return run(std::move(coro), options);
    } else {
      run(std::move(coro), options);
      return 0;
    }
  } catch (...) {
    return internal::report_uncaught_exception();
  }
}

}  // namespace aio

#endif  // AIO_ASYNC_RUN_H_
