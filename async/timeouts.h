// aio::timeout(delay, body) / aio::timeout_at(when, body): asyncio.timeout in the
// shape C++ allows (there is no `async with`): the body is a Coro that runs
// inside the current task; if the deadline passes first, the task is cancelled,
// and the CancelledError this caused becomes aio::TimeoutError outside the scope.
//
//   try {
//     std::string line = co_await aio::timeout(2s, reader.readline());
//   } catch (const aio::TimeoutError&) { ... }
//
// Exactly asyncio 3.13's rules: only the cancellation the timeout caused turns
// into TimeoutError. If the task was also cancelled from outside (its
// cancelling() count stays above the value at entry), CancelledError goes on
// propagating; of nested timeouts that expire together only the outermost raises
// TimeoutError. A body that swallows the cancellation and returns a value
// returns it. A delay <= 0 expires on the next loop iteration.
#ifndef AIO_ASYNC_TIMEOUTS_H_
#define AIO_ASYNC_TIMEOUTS_H_

#include <exception>
#include <type_traits>
#include <utility>

#include "async/coro.h"
#include "async/errors.h"
#include "async/future.h"
#include "async/internal/task_base.h"
#include "async/internal/timer_heap.h"
#include "async/loop.h"

namespace aio {
namespace internal {

// The scope's bookkeeping: the timer, the task's cancelling() count at entry, and
// whether this timeout fired.
class TimeoutScope final : private TimerNode {
 public:
  explicit TimeoutScope(TimePoint when)
      : task_(&current_task_or_throw("aio::timeout()")), cancelling_at_entry_(task_->cancelling()) {
    deadline = when;
    fire = &TimeoutScope::expire;
    task_->loop().add_timer(this);
  }
  TimeoutScope(const TimeoutScope&) = delete;
  TimeoutScope& operator=(const TimeoutScope&) = delete;
  ~TimeoutScope() { task_->loop().remove_timer(this); }

  // Leaving with a value. Never throws.
  void leave() noexcept {
    task_->loop().remove_timer(this);
    if (expiring_) task_->uncancel();
  }

  // Leaving with `error`: throws TimeoutError if it is the cancellation this
  // timeout caused, otherwise rethrows `error`.
  [[noreturn]] void leave(std::exception_ptr error) {
    task_->loop().remove_timer(this);
    if (expiring_ && task_->uncancel() <= cancelling_at_entry_ && is_cancelled_error(error)) {
      throw TimeoutError();
    }
    std::rethrow_exception(error);
  }

 private:
  static void expire(TimerNode* node) {
    auto* self = static_cast<TimeoutScope*>(node);
    self->expiring_ = true;
    self->task_->cancel({});
  }

  TaskBase* task_;
  int cancelling_at_entry_;
  bool expiring_ = false;
};

}  // namespace internal

// Runs `body` in the current task with a deadline at `when` on the loop's clock.
// Throws std::runtime_error outside a task, TimeoutError when the deadline
// passes first, and whatever the body throws otherwise.
template <class T>
Coro<T> timeout_at(TimePoint when, Coro<T> body) {
  internal::TimeoutScope scope(when);
  std::exception_ptr error;
  try {
    if constexpr (std::is_void_v<T>) {
      co_await std::move(body);
      scope.leave();
      co_return;
    } else {
      T value = co_await std::move(body);
      scope.leave();
      co_return value;
    }
  } catch (...) {
    error = std::current_exception();
  }
  scope.leave(std::move(error));
}

// timeout_at(loop.time() + delay, body).
template <class T, class Rep, class Period>
Coro<T> timeout(std::chrono::duration<Rep, Period> delay, Coro<T> body) {
  EventLoop& loop = get_running_loop();
  return timeout_at(loop.time() + std::chrono::duration_cast<Duration>(delay), std::move(body));
}

}  // namespace aio

#endif  // AIO_ASYNC_TIMEOUTS_H_
