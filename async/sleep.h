// aio::sleep(delay): suspends the current task for `delay` (asyncio.sleep).
//
//   co_await aio::sleep(100ms);
//   int x = co_await aio::sleep(1s, 42);   // returns 42 after a second
//
// sleep(0) (or any delay <= 0) yields to the loop for exactly one iteration: the
// task runs again after everything that is ready now. Cancelling a sleeping task
// removes its timer at once and the sleep throws CancelledError. A sleep costs no
// allocation: its timer node lives inside the awaiter.
#ifndef AIO_ASYNC_SLEEP_H_
#define AIO_ASYNC_SLEEP_H_

#include <coroutine>
#include <string>
#include <utility>

#include "async/future.h"
#include "async/internal/task_base.h"
#include "async/internal/timer_heap.h"
#include "async/loop.h"
#include "async/internal/loop_access.h"

namespace aio {
namespace internal {

class SleepAwaiter final : private TimerNode, private Cancellable {
 public:
  explicit SleepAwaiter(Duration delay) noexcept : delay_(delay) {}
  SleepAwaiter(SleepAwaiter&& other) noexcept : delay_(other.delay_) {}
  ~SleepAwaiter() {
    if (task_ != nullptr) internal::LoopAccess::remove_timer(task_->loop(), this);
  }

  bool await_ready() const noexcept { return false; }

  void await_suspend(std::coroutine_handle<> resume_point) {
    TaskBase& task = current_task_or_throw("aio::sleep()");
    task_ = &task;
    if (delay_ <= Duration::zero()) {
      // A bare yield: nothing to abort, so cancel() sets must_cancel instead.
      task.suspend(resume_point, nullptr);
      task.wake();
      return;
    }
    EventLoop& loop = task.loop();
    deadline = loop.time() + delay_;
    fire = &SleepAwaiter::fire_timer;
    internal::LoopAccess::add_timer(loop, this);
    task.suspend(resume_point, this);
  }

  void await_resume() {
    task_->throw_if_cancel_requested();
    if (cancelled_) throw CancelledError(task_->cancel_message());
  }

 private:
  static void fire_timer(TimerNode* node) noexcept { static_cast<SleepAwaiter*>(node)->task_->wake(); }

  Description describe_wait() const noexcept override { return {"sleep", nullptr}; }
  bool cancel_wait(const std::string& message) override {
    internal::LoopAccess::remove_timer(task_->loop(), this);
    cancelled_ = true;
    task_->set_cancel_message(message);
    task_->wake();
    return true;
  }

  Duration delay_;
  TaskBase* task_ = nullptr;
  bool cancelled_ = false;
};

}  // namespace internal

// What aio::sleep(delay) returns: await it (once). Also a valid argument of
// create_task, TaskGroup::create_task and timeout().
using SleepAwaiter = internal::SleepAwaiter;

// Suspends the current task for `delay`. Throws aio::RuntimeError when awaited
// outside a task, and CancelledError if the task is cancelled meanwhile.
template <class Rep, class Period>
SleepAwaiter sleep(std::chrono::duration<Rep, Period> delay) noexcept {
  return internal::SleepAwaiter(std::chrono::duration_cast<Duration>(delay));
}

// Same, then returns `result`.
template <class Rep, class Period, class T>
Coro<T> sleep(std::chrono::duration<Rep, Period> delay, T result) {
  co_await sleep(delay);
  co_return result;
}

}  // namespace aio

#endif  // AIO_ASYNC_SLEEP_H_
