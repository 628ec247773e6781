// The untyped machinery of a Task: stepping its coroutine, asyncio's
// cancellation counting, names, and membership in the loop's task list.
//
// How a task runs. A task suspends only in "leaf" awaiters (a Future, a sleep, a
// yield); awaiting a Coro runs it inside the task without suspending it (coro.h:
// a plain call that returns to the awaiter when the callee finishes at once,
// not symmetric transfer, which GCC 12 compiles as a nested call at -O0). A leaf records where to resume (`resume_point`) and, if the wait can
// be aborted, a Cancellable. A step resumes that point with the task set as the
// loop's current task; when the root coroutine has finished, the task completes.
//
// How a task is cancelled (asyncio's Task.cancel, rules 10-15:
// docs/design/asyncio_rules.md#rule-10). cancel() counts
// the request; if the task waits on something cancellable it cancels that (the
// wait then ends with CancelledError); otherwise it sets must_cancel, and the
// next leaf to resume throws CancelledError instead of returning. uncancel()
// lowers the count and withdraws an undelivered must_cancel at zero.
// docs/design/cancellation.md explains the counting.
#ifndef AIO_ASYNC_INTERNAL_TASK_BASE_H_
#define AIO_ASYNC_INTERNAL_TASK_BASE_H_

#include <coroutine>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "async/internal/frame_allocator.h"
#include "async/internal/future_state.h"
#include "async/internal/loop_access.h"
#include "async/internal/loop_task.h"
#include "async/internal/ready_queue.h"

namespace aio::internal {

// Something a suspended task waits on that cancel() can abort.
class Cancellable {
 public:
  // Aborts the wait so that the task resumes with CancelledError(message).
  // Returns false if the wait can no longer be aborted (it already completed).
  virtual bool cancel_wait(const std::string& message) = 0;
  // For waits that set `recheck_before_resume`: called by the task's step right
  // before it would resume after a wake-up. Returning false means "waiting
  // again" (the wait re-registered itself with TaskBase::wait_again); the
  // coroutine is not resumed. This is how a queue's get() re-parks when another
  // task took the item first, without a coroutine frame for the loop.
  virtual bool still_ready() { return true; }
  bool recheck_before_resume = false;

  // What the task is suspended on, for aio::capture_call_graph (cold: read only
  // when someone asks). `what` is a static string ("sleep", "Queue.get") or
  // null when `future` says it all; `future` is the awaited future or task, if
  // any. Every wait already stores itself in its task (TaskBase::suspend), so
  // describing it costs the hot path nothing.
  struct Description {
    const char* what = nullptr;
    const FutureStateBase* future = nullptr;
  };
  virtual Description describe_wait() const noexcept { return {"a wait", nullptr}; }

 protected:
  ~Cancellable() = default;
};

// Reaches the internal state of aio's handles (Task, Future) for aio's own
// combinators (gather, wait, TaskGroup, the executor): the handles keep it
// private so that users never see internal types.
class HandleAccess {
 public:
  template <class Handle>
  static const auto& state(const Handle& handle) noexcept {
    return handle.state_;
  }
};

class TaskBase : public FutureStateBase, public LoopTask {
 public:
  static void* operator new(std::size_t size) { return FramePool::allocate(size); }
  static void operator delete(void* state, std::size_t size) noexcept { FramePool::deallocate(state, size); }

  // asyncio Task.cancel: see the file comment.
  bool cancel(std::string message) override;
  int cancelling() const noexcept { return cancel_requests_; }
  int uncancel() noexcept;

  // "Task-N" unless set: formatted on first use, so unnamed tasks cost no string.
  const std::string& name() const;
  void set_name(std::string name) { labels().name = std::move(name); }
  // The message of the cancellation being delivered (empty if none was given).
  const std::string& cancel_message() const noexcept;
  std::string describe() const override { return "Task '" + name() + "'"; }

  // LoopTask, for AnyTask and the loop.
  void add_task_reference() noexcept override { add_ref(); }
  void drop_task_reference() noexcept override { release_ref(); }
  const std::string& task_name() const override { return name(); }
  void set_task_name(std::string name) override { set_name(std::move(name)); }
  bool cancel_task(std::string message) override { return cancel(std::move(message)); }
  int task_cancelling() const noexcept override { return cancelling(); }
  int uncancel_task() noexcept override { return uncancel(); }
  bool task_done() const noexcept override { return done(); }
  bool task_cancelled() const noexcept override { return cancelled(); }
  std::exception_ptr task_exception() override { return exception(); }
  void add_done_callback(std::function<void(AnyTask)> callback) override;

  // The task whose step is running on `loop`, or null between steps.
  static TaskBase* current(const EventLoop& loop) noexcept {
    return static_cast<TaskBase*>(LoopAccess::current_task(loop));
  }
  static TaskBase* of(const AnyTask& task) noexcept { return static_cast<TaskBase*>(LoopAccess::task_of(task)); }

  // --- for leaf awaiters -----------------------------------------------------
  // Records where the task resumes and what a cancel() must abort meanwhile. A
  // cancellation requested while the task was running is delivered to the new
  // wait at once, as asyncio's __step does when a task yields a future while
  // _must_cancel is set.
  void suspend(std::coroutine_handle<> resume_point, Cancellable* wait) {
    resume_point_ = resume_point;
    wait_ = wait;
    if (must_cancel_ && wait != nullptr) deliver_pending_cancel();
  }
  // Schedules the next step: the wait ended.
  void wake() noexcept;
  // From Cancellable::still_ready(): the task keeps waiting on `wait`.
  void wait_again(Cancellable* wait) noexcept { wait_ = wait; }
  // Called by a leaf after it resumed: throws the pending CancelledError, if any.
  void throw_if_cancel_requested();
  // Records the message of a cancellation a leaf delivers itself (an aborted sleep).
  void set_cancel_message(std::string message);

  // --- for aio::capture_call_graph (call_graph.h; loop thread, cold) ---------
  // What the suspended task waits on, or null (running, scheduled, not started).
  const Cancellable* current_wait() const noexcept { return wait_; }
  std::uint64_t number() const noexcept { return number_; }
  // When the task was created, on the loop's clock, if creation times were
  // being recorded then (record_task_creation_times).
  std::optional<TimePoint> created_at() const noexcept {
    if (!has_created_at_) return std::nullopt;
    return TimePoint(Duration(created_at_));
  }
  const char* call_graph_kind() const noexcept override { return "Task"; }

  // Runs the first step now, inside create_task (eager start).
  void step_eagerly() { step(); }

  // --- for the loop ----------------------------------------------------------
  // Destroys the coroutine of a task that never finished (the loop is being
  // destroyed); the task stays pending.
  void destroy_coroutine() noexcept override;

 protected:
  // An empty `name` means "Task-<number>".
  TaskBase(EventLoop& loop, std::coroutine_handle<> root, std::string_view name, std::uint64_t number);
  ~TaskBase() override;

  // Moves the finished root coroutine's value into the typed slot, or returns
  // the exception it ended with.
  virtual std::exception_ptr take_root_result() = 0;

  std::coroutine_handle<> root_;

 private:
  static void run_step(ReadyNode* node);
  void deliver_pending_cancel();
  void step();
  void complete();

  std::coroutine_handle<> resume_point_;
  Cancellable* wait_ = nullptr;
  Cancellable* woken_from_ = nullptr;  // a wait to recheck before resuming
  int cancel_requests_ = 0;
  bool must_cancel_ = false;
  bool started_ = false;
  bool has_created_at_ = false;  // beside the other flags: initialized by the same store
  // Strings most tasks never need, allocated on first use: a million idle tasks
  // should not carry two empty std::strings each.
  struct Labels {
    std::string name;
    std::string cancel_message;
  };
  Labels& labels() const;
  mutable std::unique_ptr<Labels> labels_;
  std::uint64_t number_;
  // The loop's time since its epoch, left uninitialized unless recorded (a
  // TimePoint member would be zeroed): a task that does not record its
  // creation time pays no store for it.
  Duration::rep created_at_;
};

// Whether new tasks on this thread record their creation time (the age column
// of aio's task views). Off by default: reading the clock costs more than the
// rest of create_task; the REPL and AIO_INSPECT turn it on.
inline thread_local bool record_task_creation_times = false;

}  // namespace aio::internal

#endif  // AIO_ASYNC_INTERNAL_TASK_BASE_H_
