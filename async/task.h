// aio::Task<T>: a coroutine running on the loop (asyncio.Task), and
// create_task(), current_task(), all_tasks().
//
//   aio::Task<int> task = aio::create_task(compute(), "compute");
//   ...                                 // compute() starts at the next iteration
//   int value = co_await task;          // any number of tasks may await it
//
// A Task is a cheap copyable handle. The loop owns every pending task: a task
// whose handles were all dropped still runs to completion, and an exception
// nobody retrieved is then reported ("Task exception was never retrieved").
// This deliberately differs from CPython, where the loop holds tasks weakly and a
// forgotten task can vanish mid-flight (docs/async.md explains why).
//
// Cancellation follows asyncio exactly: cancel(message) asks the task to stop by
// throwing aio::CancelledError at its current or next suspension point, aborting
// what it waits on (a cancelled task awaiting another task cancels that one too).
// The coroutine may catch CancelledError, clean up (awaiting if it needs to),
// and rethrow. A task cancelled before its first step never runs its body.
#ifndef AIO_ASYNC_TASK_H_
#define AIO_ASYNC_TASK_H_

#include <coroutine>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "async/coro.h"
#include "async/errors.h"
#include "async/future.h"
#include "async/internal/task_base.h"
#include "async/loop.h"
#include "async/internal/loop_access.h"

namespace aio {
namespace internal {

template <class T>
class TaskState final : public TaskBase {
 public:
  TaskState(EventLoop& loop, std::coroutine_handle<CoroPromise<T>> root, std::string_view name, std::uint64_t number)
      : TaskBase(loop, root, name, number) {}
  ResultSlot<T>& slot() noexcept { return slot_; }

 private:
  std::exception_ptr take_root_result() override {
    auto& promise = std::coroutine_handle<CoroPromise<T>>::from_address(root_.address()).promise();
    if (promise.exception) return promise.exception;
    if constexpr (!std::is_void_v<T>) slot_.emplace(std::move(*promise.value));
    return nullptr;
  }

  ResultSlot<T> slot_;
};

}  // namespace internal

// Options of create_task. Like every options type of aio (ServeOptions,
// ConnectOptions, DatagramOptions, SubprocessOptions, ...) it is not an
// aggregate: GCC 12 miscompiles aggregate temporaries inside co_await
// expressions (docs/async.md), so options are set on a named variable:
//   aio::TaskOptions options;
//   options.eager_start = true;
//   aio::Task<int> task = aio::create_task(compute(), options);
struct TaskOptions {
  TaskOptions() {}
  // "Task-N" when empty.
  std::string name;
  // asyncio 3.12's eager start: the coroutine runs at once, inside create_task,
  // up to its first suspension; a coroutine that never suspends is done before
  // create_task returns, without a trip through the loop.
  bool eager_start = false;
};

template <class T = void>
class Task {
 public:
  using value_type = T;

  // An empty handle; only assignment and valid() may be used on it.
  Task() = default;
  bool valid() const noexcept { return static_cast<bool>(state_); }

  bool done() const noexcept { return state_->done(); }
  bool cancelled() const noexcept { return state_->cancelled(); }
  // Requests cancellation (see the file comment). Returns false if the task is
  // already done; otherwise true, and cancelling() goes up by one.
  bool cancel(std::string message = {}) { return state_->cancel(std::move(message)); }
  // How many cancel() requests are pending (not withdrawn by uncancel()).
  int cancelling() const noexcept { return state_->cancelling(); }
  // Withdraws one cancel() request and returns the remaining count; at zero an
  // undelivered cancellation is withdrawn too.
  int uncancel() noexcept { return state_->uncancel(); }

  // The value. Throws InvalidStateError while pending, CancelledError if the task
  // was cancelled, or the exception that escaped the coroutine.
  T result() const {
    if (std::exception_ptr error = state_->error_for_result()) std::rethrow_exception(error);
    return state_->slot().get();
  }
  // Null on success; throws InvalidStateError while pending and CancelledError
  // if cancelled.
  std::exception_ptr exception() const { return state_->exception(); }

  const std::string& get_name() const noexcept { return state_->name(); }
  void set_name(std::string name) { state_->set_name(std::move(name)); }

  // Schedules `callback(*this)` once the task is done (at once if it is).
  void add_done_callback(std::function<void(Task)> callback) {
    internal::DoneCallback<Task>::add(*state_, *this, std::move(callback), &Task::from_state);
  }

  EventLoop& get_loop() const noexcept { return state_->loop(); }
  operator AnyTask() const { return internal::LoopAccess::any_task(state_.get()); }  // NOLINT: a Task is an AnyTask

  auto operator co_await() const noexcept { return internal::FutureAwaiter<internal::TaskState<T>>(state_); }

  // The shared state, for aio's own machinery.
  friend bool operator==(const Task& a, const Task& b) noexcept { return a.state_ == b.state_; }

 private:
  template <class U>
  friend Task<U> create_task(EventLoop& loop, Coro<U> coro, const TaskOptions& options);
  friend class internal::HandleAccess;  // aio's combinators reach the state
  static Task from_state(internal::FutureStateBase* state) {
    return Task(internal::Ref<internal::TaskState<T>>(static_cast<internal::TaskState<T>*>(state)));
  }
  explicit Task(internal::Ref<internal::TaskState<T>> state) : state_(std::move(state)) {}
  internal::Ref<internal::TaskState<T>> state_;
};


// Wraps `coro` in a task on `loop` and schedules its first step with call_soon:
// the caller keeps running until its next suspension point (unless
// options.eager_start). Throws aio::RuntimeError if the loop is closed and
// InvalidStateError if `coro` is empty; either way the coroutine is destroyed,
// never leaked.
template <class T>
Task<T> create_task(EventLoop& loop, Coro<T> coro, const TaskOptions& options) {
  if (loop.is_closed()) {
    coro.discard();  // asyncio closes the coroutine: no "never awaited" report
    internal::LoopAccess::throw_if_closed(loop);
  }
  if (!coro.valid()) throw InvalidStateError("create_task: the Coro is empty (already awaited or moved)");
  internal::Ref<internal::TaskState<T>> state(
      new internal::TaskState<T>(loop, coro.release(), options.name, internal::LoopAccess::next_task_number()));
  internal::LoopAccess::register_task(loop, state.get());
  if (options.eager_start) {
    state->step_eagerly();
  } else {
    internal::LoopAccess::schedule(loop, state.get());
  }
  return Task<T>(std::move(state));
}

// The common case, with no options: nothing but the task is built.
template <class T>
Task<T> create_task(EventLoop& loop, Coro<T> coro) {
  static const TaskOptions kDefaults;
  return create_task(loop, std::move(coro), kDefaults);
}

template <class T>
Task<T> create_task(EventLoop& loop, Coro<T> coro, std::string name) {
  TaskOptions options;
  options.name = std::move(name);
  return create_task(loop, std::move(coro), options);
}

// create_task on the running loop. Throws aio::RuntimeError outside one.
template <class T>
Task<T> create_task(Coro<T> coro) {
  return create_task(get_running_loop(), std::move(coro));
}

template <class T>
Task<T> create_task(Coro<T> coro, std::string name) {
  return create_task(get_running_loop(), std::move(coro), std::move(name));
}

template <class T>
Task<T> create_task(Coro<T> coro, const TaskOptions& options) {
  return create_task(get_running_loop(), std::move(coro), options);
}

namespace internal {
template <class T, class = void>
struct IsAwaiter : std::false_type {};
template <class T>
struct IsAwaiter<T, std::void_t<decltype(std::declval<T&>().await_ready())>> : std::true_type {};

template <class Awaiter>
auto await_owned(Awaiter awaiter) -> Coro<decltype(std::declval<Awaiter&>().await_resume())> {
  co_return co_await std::move(awaiter);
}
}  // namespace internal

// create_task of an awaiter object such as queue.get() or lock.acquire(), as
// asyncio allows create_task(queue.get()): it is awaited inside the new task.
template <class Awaiter, class = std::enable_if_t<internal::IsAwaiter<Awaiter>::value>>
auto create_task(Awaiter awaiter, std::string name = {}) {
  return create_task(internal::await_owned(std::move(awaiter)), std::move(name));
}

// The task running now, or nothing outside a task.
inline std::optional<AnyTask> current_task() {
  EventLoop* loop = running_loop_or_null();
  internal::LoopTask* task = loop ? internal::LoopAccess::current_task(*loop) : nullptr;
  if (task == nullptr) return std::nullopt;
  return internal::LoopAccess::any_task(task);
}

// The running loop's tasks that have not finished.
inline std::vector<AnyTask> all_tasks() { return get_running_loop().all_tasks(); }

// Runs `loop` until `task` is done and returns its result (or rethrows its
// exception). Throws aio::RuntimeError if the loop stops first.
template <class T>
T run_until_complete(EventLoop& loop, Task<T> task) {
  // The callback may outlive this call (the loop can stop early): it only
  // stops the loop while this call is still waiting.
  auto waiting = std::make_shared<bool>(true);
  task.add_done_callback([&loop, waiting](const Task<T>&) {
    if (*waiting) loop.stop();
  });
  struct StopWaiting {
    std::shared_ptr<bool> waiting;
    ~StopWaiting() { *waiting = false; }
  } stop_waiting{waiting};
  loop.run_forever();
  if (!task.done()) throw RuntimeError("Event loop stopped before the task completed.");
  return task.result();
}

template <class T>
T run_until_complete(EventLoop& loop, Coro<T> coro) {
  return run_until_complete(loop, create_task(loop, std::move(coro)));
}

template <class T>
T EventLoop::run_until_complete(Task<T> task) {
  return aio::run_until_complete(*this, std::move(task));
}

template <class T>
T EventLoop::run_until_complete(Coro<T> coro) {
  return aio::run_until_complete(*this, std::move(coro));
}

}  // namespace aio

#endif  // AIO_ASYNC_TASK_H_
