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
// returns it. A delay <= 0 expires on the next loop iteration. A body written
// as `[&](aio::Timeout& t) -> aio::Coro<T>` gets the Timeout, with when(),
// reschedule() and expired(). wait_for() is built on the same scope.
//
// Rule numbers cited here are those of docs/design/asyncio_rules.md.
#ifndef AIO_ASYNC_TIMEOUTS_H_
#define AIO_ASYNC_TIMEOUTS_H_

#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "async/coro.h"
#include "async/errors.h"
#include "async/future.h"
#include "async/internal/task_base.h"
#include "async/internal/timer_heap.h"
#include "async/loop.h"
#include "async/task.h"
#include "async/internal/loop_access.h"

namespace aio {

// What a Timeout's when() and expired() said when its scope ended, readable
// after the scope as asyncio's Timeout object is (`cm.expired()` after the
// `async with`): a cheap copyable handle from Timeout::view(), live while the
// scope runs and frozen after it.
class TimeoutView {
 public:
  std::optional<TimePoint> when() const noexcept { return record_->when; }
  bool expired() const noexcept { return record_->expired; }

 private:
  friend class Timeout;
  struct Record final : internal::RefCounted {
    std::optional<TimePoint> when;
    bool expired = false;
  };
  explicit TimeoutView(Record* record) : record_(record) {}
  internal::Ref<Record> record_;
};

// The scope of one timeout (asyncio.Timeout): what the body of
// timeout(delay, [](aio::Timeout& t) -> aio::Coro<T> {...}) receives. It lives
// exactly as long as the scope; view() outlives it.
class Timeout {
 public:
  Timeout(const Timeout&) = delete;
  Timeout& operator=(const Timeout&) = delete;
  ~Timeout() {
    internal::LoopAccess::remove_timer(*loop_, &timer_);
    if (record_ != nullptr) [[unlikely]] record_->release_ref();
  }

  // The deadline on the loop's clock; empty for "no deadline".
  std::optional<TimePoint> when() const noexcept { return when_; }
  // Moves the deadline (empty: none). A deadline in the past expires at the next
  // loop iteration. Throws aio::RuntimeError once the timeout has expired.
  void reschedule(std::optional<TimePoint> when) {
    if (state_ != State::kEntered) {
      throw RuntimeError("Timeout::reschedule: cannot change the state of an expiring or expired Timeout");
    }
    when_ = when;
    internal::LoopAccess::remove_timer(*loop_, &timer_);
    if (when) {
      timer_.deadline = *when;
      internal::LoopAccess::add_timer(*loop_, &timer_);
    }
    if (record_ != nullptr) [[unlikely]] update_record();
  }
  // True once the deadline passed (whatever the body did about it).
  bool expired() const noexcept { return state_ == State::kExpiring || state_ == State::kExpired; }
  // when() and expired(), readable after the scope ends (see TimeoutView).
  // The first call allocates the record; a timeout never viewed costs nothing.
  TimeoutView view() {
    if (record_ == nullptr) {
      record_ = new TimeoutView::Record;
      record_->add_ref();  // this scope's reference, dropped by ~Timeout
    }
    update_record();
    return TimeoutView(record_);
  }

  // --- used by timeout_at() -----------------------------------------------------
  explicit Timeout(std::optional<TimePoint> when)
      : task_(&internal::current_task_or_throw("aio::timeout()")),
        loop_(&task_->loop()),
        cancelling_at_entry_(task_->cancelling()) {
    timer_.owner = this;
    timer_.fire = &Timeout::expire;
    reschedule(when);
  }
  // Leaving with a value. Never throws.
  void leave() noexcept {
    internal::LoopAccess::remove_timer(*loop_, &timer_);
    if (state_ == State::kExpiring) {
      state_ = State::kExpired;
      task_->uncancel();
    }
    if (record_ != nullptr) [[unlikely]] update_record();
  }
  // Leaving with `error`: throws TimeoutError if it is the cancellation this
  // timeout caused (asyncio's __aexit__), otherwise rethrows `error`.
  [[noreturn]] void leave(std::exception_ptr error) {
    internal::LoopAccess::remove_timer(*loop_, &timer_);
    if (record_ != nullptr) [[unlikely]] record_->expired = expired();
    if (state_ == State::kExpiring) {
      state_ = State::kExpired;
      if (task_->uncancel() <= cancelling_at_entry_ && internal::is_cancelled_error(error)) throw TimeoutError();
    }
    std::rethrow_exception(error);
  }

 private:
  enum class State { kEntered, kExpiring, kExpired };
  struct Timer : internal::TimerNode {
    Timeout* owner = nullptr;
  };
  static void expire(internal::TimerNode* node) {
    Timeout* self = static_cast<Timer*>(node)->owner;
    self->state_ = State::kExpiring;
    if (self->record_ != nullptr) self->record_->expired = true;
    self->task_->cancel({});
  }
  void update_record() noexcept {
    record_->when = when_;
    record_->expired = expired();
  }

  internal::TaskBase* task_;
  EventLoop* loop_;
  int cancelling_at_entry_;
  std::optional<TimePoint> when_;
  Timer timer_;
  State state_ = State::kEntered;
  TimeoutView::Record* record_ = nullptr;  // only once view() was called (holds a reference)
};

namespace internal {

// One coroutine frame for the scope and the wait for its body: entering and
// leaving a timeout is on the hot path of every guarded call.
template <class T>
Coro<T> timeout_scope(std::optional<TimePoint> when, Coro<T> body) {
  Timeout scope(when);
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

template <class Body>
auto timeout_scope_with_object(std::optional<TimePoint> when, Body body)
    -> Coro<typename std::invoke_result_t<Body&, Timeout&>::value_type> {
  using T = typename std::invoke_result_t<Body&, Timeout&>::value_type;
  Timeout scope(when);
  std::exception_ptr error;
  try {
    if constexpr (std::is_void_v<T>) {
      co_await body(scope);
      scope.leave();
      co_return;
    } else {
      T value = co_await body(scope);
      scope.leave();
      co_return value;
    }
  } catch (...) {
    error = std::current_exception();
  }
  scope.leave(std::move(error));
}

// Awaits a Task or a Future (a copy of the handle lives in this frame).
template <class Handle>
Coro<typename Handle::value_type> await_handle(Handle handle) {
  co_return co_await handle;
}

inline std::optional<TimePoint> deadline_after(std::optional<Duration> delay) {
  if (!delay) return std::nullopt;
  return get_running_loop().time() + *delay;
}

}  // namespace internal

// Runs `body` in the current task with a deadline at `when` on the loop's clock
// (none when empty). Throws aio::RuntimeError outside a task, TimeoutError when
// the deadline passes first, and whatever the body throws otherwise.
template <class T>
Coro<T> timeout_at(std::optional<TimePoint> when, Coro<T> body) {
  return internal::timeout_scope(when, std::move(body));
}

// timeout_at(loop.time() + delay, body); an empty delay means no deadline.
template <class T>
Coro<T> timeout(std::optional<Duration> delay, Coro<T> body) {
  return internal::timeout_scope(internal::deadline_after(delay), std::move(body));
}
template <class T, class Rep, class Period>
Coro<T> timeout(std::chrono::duration<Rep, Period> delay, Coro<T> body) {
  return timeout(std::optional<Duration>(std::chrono::duration_cast<Duration>(delay)), std::move(body));
}

// Any awaiter object as the body (queue.get(), lock.acquire(), ...).
template <class Awaiter, class = std::enable_if_t<internal::IsAwaiter<Awaiter>::value>>
auto timeout(std::optional<Duration> delay, Awaiter body) {
  return timeout(delay, internal::await_owned(std::move(body)));
}
template <class Rep, class Period, class Awaiter, class = std::enable_if_t<internal::IsAwaiter<Awaiter>::value>>
auto timeout(std::chrono::duration<Rep, Period> delay, Awaiter body) {
  return timeout(std::chrono::duration_cast<Duration>(delay), internal::await_owned(std::move(body)));
}
// A Task or a Future as the body: awaited under the deadline; on expiry the
// awaiting is cancelled, which cancels the task or future (asyncio rule 10).
template <class T>
Coro<T> timeout(std::optional<Duration> delay, Task<T> task) {
  return timeout(delay, internal::await_handle(std::move(task)));
}
template <class T, class Rep, class Period>
Coro<T> timeout(std::chrono::duration<Rep, Period> delay, Task<T> task) {
  return timeout(delay, internal::await_handle(std::move(task)));
}
template <class T>
Coro<T> timeout(std::optional<Duration> delay, Future<T> future) {
  return timeout(delay, internal::await_handle(std::move(future)));
}
template <class T, class Rep, class Period>
Coro<T> timeout(std::chrono::duration<Rep, Period> delay, Future<T> future) {
  return timeout(delay, internal::await_handle(std::move(future)));
}
template <class T>
Coro<T> timeout_at(std::optional<TimePoint> when, Task<T> task) {
  return timeout_at(when, internal::await_handle(std::move(task)));
}
template <class T>
Coro<T> timeout_at(std::optional<TimePoint> when, Future<T> future) {
  return timeout_at(when, internal::await_handle(std::move(future)));
}

template <class Awaiter, class = std::enable_if_t<internal::IsAwaiter<Awaiter>::value>>
auto timeout_at(std::optional<TimePoint> when, Awaiter body) {
  return timeout_at(when, internal::await_owned(std::move(body)));
}

// The forms whose body receives the Timeout, to read or move its deadline:
//   co_await aio::timeout(10s, [&](aio::Timeout& t) -> aio::Coro<> {
//     ...
//     t.reschedule(aio::get_running_loop().time() + 10s);  // ten more seconds
//     ...
//   });
template <class Body, class = std::enable_if_t<std::is_invocable_v<Body&, Timeout&>>, class = void>
auto timeout_at(std::optional<TimePoint> when, Body body) {
  return internal::timeout_scope_with_object(when, std::move(body));
}
template <class Body, class = std::enable_if_t<std::is_invocable_v<Body&, Timeout&>>, class = void>
auto timeout(std::optional<Duration> delay, Body body) {
  return internal::timeout_scope_with_object(internal::deadline_after(delay), std::move(body));
}
template <class Rep, class Period, class Body, class = std::enable_if_t<std::is_invocable_v<Body&, Timeout&>>,
          class = void>
auto timeout(std::chrono::duration<Rep, Period> delay, Body body) {
  return timeout(std::optional<Duration>(std::chrono::duration_cast<Duration>(delay)), std::move(body));
}

namespace internal {


template <class T>
Coro<T> wait_for_coro(Coro<T> coro, std::optional<Duration> delay) {
  if (delay && *delay <= Duration::zero()) {
    coro.discard();  // rule 29: never started
    throw TimeoutError();
  }
  co_return co_await timeout(delay, std::move(coro));
}

// wait_for of a Task or a Future (rule 29: with a delay <= 0 one that is
// already done gives its result; one that is not is cancelled, and awaited).
template <class Handle>
Coro<typename Handle::value_type> wait_for_handle(Handle handle, std::optional<Duration> delay) {
  if (delay && *delay <= Duration::zero()) {
    if (!handle.done()) {
      handle.cancel();
      // Wait until it has really finished, without raising.
      try {
        co_await handle;
      } catch (...) {
      }
    }
    try {
      co_return handle.result();
    } catch (const CancelledError&) {
      throw TimeoutError();
    }
  }
  co_return co_await timeout(delay, await_handle(std::move(handle)));
}

}  // namespace internal

// asyncio.wait_for: awaits `coro` (in the current task), a `task` or a
// `future` with a timeout; an empty delay waits forever. On timeout the awaitable is cancelled
// and wait_for waits until it has actually finished, then raises TimeoutError
// (so it can take longer than the delay); a value returned by an awaitable that
// swallowed the cancellation is returned. With a delay <= 0: a task or future
// that is already done gives its result, a coroutine is never started.
template <class T>
Coro<T> wait_for(Coro<T> coro, std::optional<Duration> delay) {
  return internal::wait_for_coro(std::move(coro), delay);
}
template <class T, class Rep, class Period>
Coro<T> wait_for(Coro<T> coro, std::chrono::duration<Rep, Period> delay) {
  return internal::wait_for_coro(std::move(coro), std::chrono::duration_cast<Duration>(delay));
}
template <class T>
Coro<T> wait_for(Task<T> task, std::optional<Duration> delay) {
  return internal::wait_for_handle(std::move(task), delay);
}
template <class T, class Rep, class Period>
Coro<T> wait_for(Task<T> task, std::chrono::duration<Rep, Period> delay) {
  return internal::wait_for_handle(std::move(task), std::chrono::duration_cast<Duration>(delay));
}
template <class T>
Coro<T> wait_for(Future<T> future, std::optional<Duration> delay) {
  return internal::wait_for_handle(std::move(future), delay);
}
template <class T, class Rep, class Period>
Coro<T> wait_for(Future<T> future, std::chrono::duration<Rep, Period> delay) {
  return internal::wait_for_handle(std::move(future), std::chrono::duration_cast<Duration>(delay));
}
// Any awaiter object (queue.get(), lock.acquire(), ...).
template <class Awaiter, class Delay, class = std::enable_if_t<internal::IsAwaiter<Awaiter>::value>>
auto wait_for(Awaiter awaiter, Delay delay) {
  return wait_for(internal::await_owned(std::move(awaiter)), delay);
}

}  // namespace aio

#endif  // AIO_ASYNC_TIMEOUTS_H_
