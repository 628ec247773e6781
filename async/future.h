// aio::Future<T>: a result that arrives later (asyncio.Future), and the awaiting
// machinery that Task<T> shares.
//
//   aio::Future<int> future;                 // on the running loop
//   some_callback_api([future]() mutable { future.set_result(42); });
//   int value = co_await future;
//
// A Future is a cheap copyable handle (like a Python reference); all copies see
// one state. Any number of tasks may await it. Done callbacks are scheduled with
// call_soon when it completes, in registration order, never run inline.
// Nothing here is thread-safe: to settle a future from another thread, use
// loop.call_soon_threadsafe([future]() mutable { future.set_result(...); }).
#ifndef AIO_ASYNC_FUTURE_H_
#define AIO_ASYNC_FUTURE_H_

#include <coroutine>
#include <functional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "async/errors.h"
#include "async/internal/future_state.h"
#include "async/internal/ref.h"
#include "async/internal/task_base.h"
#include "async/loop.h"

namespace aio {
namespace internal {

template <class T>
class FutureState final : public FutureStateBase {
 public:
  using FutureStateBase::FutureStateBase;
  ResultSlot<T>& slot() noexcept { return slot_; }

  template <class... U>
  void set_result(U&&... value) {
    throw_if_done("set_result");
    if constexpr (!std::is_void_v<T>) slot_.emplace(std::forward<U>(value)...);
    finish();
  }

 private:
  ResultSlot<T> slot_;
};

// The task currently running on this thread's loop; throws if there is none.
inline TaskBase& current_task_or_throw(const char* what) {
  EventLoop* loop = running_loop_or_null();
  TaskBase* task = loop ? loop->current_task() : nullptr;
  if (task == nullptr) {
    throw std::runtime_error(std::string(what) + " must be awaited inside a task (aio::run, create_task)");
  }
  return *task;
}

// Suspends the current task until a Future or Task completes. If the task is
// cancelled meanwhile, the awaited future is cancelled too (asyncio rule 10).
template <class State>
class FutureAwaiter final : private FutureWaiter, private Cancellable {
 public:
  explicit FutureAwaiter(Ref<State> state) noexcept : state_(std::move(state)) {}
  FutureAwaiter(FutureAwaiter&& other) noexcept : state_(std::move(other.state_)) {}
  ~FutureAwaiter() {
    if (state_) state_->remove_waiter(this);
  }

  bool await_ready() const noexcept { return state_->done(); }

  void await_suspend(std::coroutine_handle<> resume_point) {
    TaskBase& task = current_task_or_throw("a Future");
    if (static_cast<FutureStateBase*>(&task) == static_cast<FutureStateBase*>(state_.get())) {
      throw std::runtime_error("Task cannot await on itself");
    }
    if (&task.loop() != &state_->loop()) {
      throw std::runtime_error(state_->describe() + " is attached to a different loop");
    }
    task_ = &task;
    on_done = &FutureAwaiter::wake_task;
    state_->add_waiter(this);
    task.suspend(resume_point, this);
  }

  auto await_resume() {
    // A cancel that arrived after the future completed, before this step, wins
    // (asyncio's __step checks _must_cancel first). Not suspending means no check.
    if (task_ != nullptr) task_->throw_if_cancel_requested();
    if (std::exception_ptr error = state_->error_for_result()) std::rethrow_exception(error);
    return state_->slot().get();
  }

 private:
  static void wake_task(FutureWaiter* waiter) noexcept {
    static_cast<FutureAwaiter*>(waiter)->task_->wake();
  }
  bool cancel_wait(const std::string& message) override { return state_->cancel(message); }

  Ref<State> state_;
  TaskBase* task_ = nullptr;
};

// A done callback: a heap node that schedules `callback(handle)` with call_soon.
template <class Handle>
class DoneCallback final : private FutureWaiter {
 public:
  static void add(FutureStateBase& state, Handle handle, std::function<void(Handle)> callback) {
    if (state.done()) {
      state.loop().call_soon([handle, callback = std::move(callback)] { callback(handle); });
      return;
    }
    auto* node = new DoneCallback(std::move(callback));
    node->on_done = &DoneCallback::run;
    node->dispose = &DoneCallback::free;
    node->state_ = &state;
    state.add_waiter(node);
  }

 private:
  explicit DoneCallback(std::function<void(Handle)> callback) : callback_(std::move(callback)) {}
  static void run(FutureWaiter* waiter) noexcept {
    auto* self = static_cast<DoneCallback*>(waiter);
    FutureStateBase& state = *self->state_;
    Handle handle = Handle::from_state(&state);
    // The loop was alive when the future completed (it is completing now).
    try {
      state.loop().call_soon([handle, callback = std::move(self->callback_)] { callback(handle); });
    } catch (...) {
      // The loop is closed: asyncio drops such callbacks too.
    }
    delete self;
  }
  static void free(FutureWaiter* waiter) noexcept { delete static_cast<DoneCallback*>(waiter); }

  std::function<void(Handle)> callback_;
  FutureStateBase* state_ = nullptr;
};

}  // namespace internal

template <class T = void>
class Future {
 public:
  using value_type = T;

  // A pending future on the running loop. Throws std::runtime_error outside one.
  Future() : Future(get_running_loop()) {}
  explicit Future(EventLoop& loop) : state_(new internal::FutureState<T>(loop)) {}

  bool done() const noexcept { return state_->done(); }
  bool cancelled() const noexcept { return state_->cancelled(); }
  // Cancels a pending future: its awaiters get CancelledError(message). Returns
  // false (and does nothing) if it is already done.
  bool cancel(std::string message = {}) { return state_->cancel(std::move(message)); }

  // The value. Throws InvalidStateError while pending, CancelledError if
  // cancelled, or the exception the future was given.
  T result() const {
    if (std::exception_ptr error = state_->error_for_result()) std::rethrow_exception(error);
    return state_->slot().get();
  }
  // Null if it finished with a value; throws InvalidStateError while pending and
  // CancelledError if cancelled.
  std::exception_ptr exception() const { return state_->exception(); }

  // Settles the future and schedules its awaiters and callbacks. Both throw
  // InvalidStateError if the future is already done.
  template <class... U>
  void set_result(U&&... value) {
    state_->set_result(std::forward<U>(value)...);
  }
  void set_exception(std::exception_ptr error) { state_->set_exception(std::move(error)); }
  template <class E, class = std::enable_if_t<!std::is_same_v<std::decay_t<E>, std::exception_ptr>>>
  void set_exception(E error) {
    state_->set_exception(std::make_exception_ptr(std::move(error)));
  }

  // Schedules `callback(*this)` once the future is done (at once if it is).
  void add_done_callback(std::function<void(Future)> callback) {
    internal::DoneCallback<Future>::add(*state_, *this, std::move(callback));
  }

  EventLoop& get_loop() const noexcept { return state_->loop(); }

  auto operator co_await() const noexcept { return internal::FutureAwaiter<internal::FutureState<T>>(state_); }

  static Future from_state(internal::FutureStateBase* state) {
    return Future(internal::Ref<internal::FutureState<T>>(static_cast<internal::FutureState<T>*>(state)));
  }
  friend bool operator==(const Future& a, const Future& b) noexcept { return a.state_ == b.state_; }

 private:
  explicit Future(internal::Ref<internal::FutureState<T>> state) : state_(std::move(state)) {}
  internal::Ref<internal::FutureState<T>> state_;
};

}  // namespace aio

#endif  // AIO_ASYNC_FUTURE_H_
