// Running blocking code off the loop: aio::to_thread(), loop.run_in_executor(),
// aio::ThreadPoolExecutor, and aio::run_coroutine_threadsafe() for the opposite
// direction (another thread handing a coroutine to a loop).
//
//   std::string text = co_await aio::to_thread(read_whole_file, path);
//
// A blocking call inside a coroutine stops the whole loop; to_thread runs it on
// the loop's default thread pool and suspends only the calling task. As in
// asyncio, cancelling the awaiting task cannot interrupt a call that is already
// running in its thread: the call finishes and its result is dropped; a call
// that has not started yet never starts.
//
// Thread-safety: ThreadPoolExecutor and ConcurrentFuture are thread-safe; the
// functions that touch a loop (to_thread, run_in_executor) must be called on the
// loop's thread; run_coroutine_threadsafe is meant for other threads.
#ifndef AIO_ASYNC_EXECUTOR_H_
#define AIO_ASYNC_EXECUTOR_H_

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "async/coro.h"
#include "async/errors.h"
#include "async/future.h"
#include "async/internal/unique_function.h"
#include "async/loop.h"
#include "async/task.h"
#include "async/internal/loop_access.h"

namespace aio {

// Something that runs jobs on other threads (concurrent.futures.Executor).
class Executor {
 public:
  virtual ~Executor() = default;
  // Queues `job`. Throws aio::RuntimeError after shutdown(). Thread-safe.
  virtual void submit(internal::UniqueFunction job) = 0;
};

// A bounded pool of named threads (concurrent.futures.ThreadPoolExecutor).
// Threads start on demand, up to `max_workers`, and are named
// "<prefix>_<n>" (visible in top -H, gdb and /proc). Jobs run in FIFO order.
class ThreadPoolExecutor final : public Executor {
 public:
  // asyncio's default: min(32, cores + 4), enough for blocking I/O without
  // letting a flood of jobs start hundreds of threads.
  static std::size_t default_max_workers();

  // Throws aio::ValueError if max_workers is 0.
  explicit ThreadPoolExecutor(std::size_t max_workers = default_max_workers(),
                              std::string thread_name_prefix = "aio-pool");
  // shutdown(/*wait=*/true).
  ~ThreadPoolExecutor() override;
  ThreadPoolExecutor(const ThreadPoolExecutor&) = delete;
  ThreadPoolExecutor& operator=(const ThreadPoolExecutor&) = delete;

  void submit(internal::UniqueFunction job) override;
  // Refuses new jobs; the queued ones still run (or, with cancel_pending, are
  // dropped). With `wait`, returns once every thread has finished. Idempotent.
  void shutdown(bool wait = true, bool cancel_pending = false);

  std::size_t max_workers() const noexcept { return max_workers_; }
  // Threads started so far (never more than max_workers()).
  std::size_t thread_count() const;

 private:
  void work(std::size_t index);

  const std::size_t max_workers_;
  const std::string thread_name_prefix_;
  mutable std::mutex mutex_;
  std::condition_variable wake_worker_;
  std::deque<internal::UniqueFunction> jobs_;
  std::vector<std::thread> threads_;
  std::size_t idle_workers_ = 0;
  bool shut_down_ = false;
};

template <class Function>
auto EventLoop::run_in_executor(Executor* executor, Function function)
    -> Future<std::invoke_result_t<Function&>> {
  using Result = std::invoke_result_t<Function&>;
  throw_if_closed();
  if (executor == nullptr) executor = &default_executor();
  Future<Result> future(*this);
  ThreadsafeSetter<Result> setter = future.threadsafe_setter();
  auto skip = std::make_shared<std::atomic<bool>>(false);
  future.add_done_callback([skip](const Future<Result>& done) {
    if (done.cancelled()) skip->store(true);
  });
  executor->submit([setter = std::move(setter), skip, function = std::move(function)]() mutable {
    if (skip->load()) return;  // cancelled before it started
    try {
      if constexpr (std::is_void_v<Result>) {
        function();
        setter.set_result();
      } else {
        setter.set_result(function());
      }
    } catch (...) {
      setter.set_exception(std::current_exception());
    }
  });
  return future;
}

// Runs `function(arguments...)` on the running loop's default thread pool and
// returns its result (asyncio.to_thread). The arguments are copied (moved) into
// the job, so references do not dangle. Throws what the function throws.
namespace internal {
template <class Job>
Coro<std::invoke_result_t<Job&>> run_in_default_pool(Job job) {
  co_return co_await get_running_loop().run_in_executor(nullptr, std::move(job));
}
}  // namespace internal

template <class Function, class... Arguments>
auto to_thread(Function function, Arguments... arguments) -> Coro<std::invoke_result_t<Function&, Arguments&...>> {
  // Not a coroutine itself: GCC 12 miscompiles a coroutine whose parameters
  // include a pack (a std::string argument kept pointing into the coroutine
  // frame after being moved). The arguments are packed into the job here, in a
  // plain function, and the coroutine gets one parameter.
  return internal::run_in_default_pool(
      [function = std::move(function), arguments = std::make_tuple(std::move(arguments)...)]() mutable {
        return std::apply(function, arguments);
      });
}

// The thread-safe result of run_coroutine_threadsafe (concurrent.futures.Future
// with std::future's waiting calls). Copyable; every member is thread-safe.
template <class T>
class ConcurrentFuture {
 public:
  // Blocks until the task is done and returns its value, or rethrows its
  // exception (CancelledError if it was cancelled).
  T get() {
    std::unique_lock lock(state_->mutex);
    state_->done_changed.wait(lock, [&] { return state_->done; });
    if (state_->error) std::rethrow_exception(state_->error);
    if constexpr (!std::is_void_v<T>) {
      if constexpr (std::is_copy_constructible_v<T>) {
        return *state_->value;
      } else {
        return std::move(*state_->value);
      }
    }
  }
  void wait() const {
    std::unique_lock lock(state_->mutex);
    state_->done_changed.wait(lock, [&] { return state_->done; });
  }
  // True once done; false if `timeout` passed first.
  template <class Rep, class Period>
  bool wait_for(std::chrono::duration<Rep, Period> timeout) const {
    std::unique_lock lock(state_->mutex);
    return state_->done_changed.wait_for(lock, timeout, [&] { return state_->done; });
  }
  bool done() const {
    std::lock_guard lock(state_->mutex);
    return state_->done;
  }
  bool cancelled() const {
    std::lock_guard lock(state_->mutex);
    return state_->cancelled;
  }
  // Asks the loop to cancel the task (Task.cancel, so the coroutine may clean
  // up). Returns false if it is already done or the loop is gone.
  bool cancel() {
    {
      std::lock_guard lock(state_->mutex);
      if (state_->done) return false;
    }
    // The id is read on the loop's thread, after the task was created there
    // (the mailbox keeps posts in order).
    internal::UniqueFunction request = [state = state_] {
      if (auto* task = static_cast<internal::FutureStateBase*>(internal::LoopAccess::find_held(*state->loop, state->id))) {
        task->cancel({});
      }
    };
    return state_->mailbox->post(request);
  }

  struct State {
    std::mutex mutex;
    std::condition_variable done_changed;
    bool done = false;
    bool cancelled = false;
    std::optional<std::conditional_t<std::is_void_v<T>, bool, T>> value;
    std::exception_ptr error;
    std::shared_ptr<internal::Mailbox> mailbox;
    EventLoop* loop = nullptr;  // dereferenced only on the loop's thread
    std::uint64_t id = 0;
  };
  explicit ConcurrentFuture(std::shared_ptr<State> state) : state_(std::move(state)) {}

 private:
  std::shared_ptr<State> state_;
};

// Submits `coro` to `loop` from another thread (asyncio.run_coroutine_threadsafe)
// and returns a thread-safe handle to its result. The task is created on the
// loop's thread. Throws aio::RuntimeError if the loop is closed. Never call
// get() on the loop's own thread: it would wait for itself.
template <class T>
ConcurrentFuture<T> run_coroutine_threadsafe(Coro<T> coro, EventLoop& loop) {
  using State = typename ConcurrentFuture<T>::State;
  auto state = std::make_shared<State>();
  state->mailbox = internal::LoopAccess::mailbox(loop);
  state->loop = &loop;
  internal::UniqueFunction start = [state, coro = std::move(coro)]() mutable {
    EventLoop& loop = *state->loop;
    Task<T> task = create_task(loop, std::move(coro));
    {
      std::lock_guard lock(state->mutex);
      state->id = internal::LoopAccess::hold(loop, internal::HandleAccess::state(task));
    }
    // Completes the handle if the task never reports (its loop was destroyed
    // with it pending): get() must not wait forever.
    struct Abandoned {
      explicit Abandoned(std::shared_ptr<State> state) : state(std::move(state)) {}
      Abandoned(const Abandoned&) = delete;
      std::shared_ptr<State> state;
      bool reported = false;
      ~Abandoned() {
        if (reported) return;
        std::lock_guard lock(state->mutex);
        if (state->done) return;
        state->cancelled = true;
        state->error = std::make_exception_ptr(CancelledError("the event loop was destroyed before the task finished"));
        state->done = true;
        state->done_changed.notify_all();
      }
    };
    auto abandoned = std::make_shared<Abandoned>(state);
    task.add_done_callback([state, abandoned](const Task<T>& done) {
      abandoned->reported = true;
      internal::LoopAccess::take_held(*state->loop, state->id);
      std::optional<std::conditional_t<std::is_void_v<T>, bool, T>> value;
      std::exception_ptr error;
      try {
        if constexpr (std::is_void_v<T>) {
          done.result();
          value.emplace(true);
        } else {
          value.emplace(done.result());
        }
      } catch (...) {
        error = std::current_exception();
      }
      std::lock_guard lock(state->mutex);
      state->cancelled = done.cancelled();
      state->value = std::move(value);
      state->error = error;
      state->done = true;
      state->done_changed.notify_all();
    });
  };
  if (!state->mailbox->post(start)) throw RuntimeError("run_coroutine_threadsafe: the event loop is closed");
  return ConcurrentFuture<T>(std::move(state));
}

}  // namespace aio

#endif  // AIO_ASYNC_EXECUTOR_H_
