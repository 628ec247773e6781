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
//
// Nothing about a Future is thread-safe, not even copying or destroying the
// handle (its reference count is not atomic, for speed). To settle a future
// from another thread, take a ThreadsafeSetter on the loop's thread and hand
// that over:
//   auto setter = future.threadsafe_setter();
//   std::thread([setter] { setter.set_result(42); }).detach();
//
// Rule numbers cited here are those of docs/design/asyncio_rules.md.
#ifndef AIO_ASYNC_FUTURE_H_
#define AIO_ASYNC_FUTURE_H_

#include <coroutine>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "async/errors.h"
#include "async/internal/future_state.h"
#include "async/internal/ref.h"
#include "async/internal/task_base.h"
#include "async/loop.h"
#include "async/internal/loop_access.h"

namespace aio {
namespace internal {

// A future's state with its result: Future<T>'s, and the states of waits that
// also describe themselves to call graphs (shield's, a TaskGroup's exit).
template <class T>
class ValueFutureState : public FutureStateBase {
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

template <class T>
class FutureState final : public ValueFutureState<T> {
 public:
  using ValueFutureState<T>::ValueFutureState;
};

// The task currently running on this thread's loop; throws if there is none.
inline TaskBase& current_task_or_throw(const char* what) {
  EventLoop* loop = running_loop_or_null();
  TaskBase* task = loop ? TaskBase::current(*loop) : nullptr;
  if (task == nullptr) {
    throw RuntimeError(std::string(what) + " must be awaited inside a task (aio::run, create_task)");
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
      throw RuntimeError("Task cannot await on itself");
    }
    if (&task.loop() != &state_->loop()) {
      throw RuntimeError(state_->describe() + " is attached to a different loop");
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
  Description describe_wait() const noexcept override { return {nullptr, state_.get()}; }

  Ref<State> state_;
  TaskBase* task_ = nullptr;
};

}  // namespace internal

template <class T>
class ThreadsafeSetter;

template <class T = void>
class Future {
 public:
  using value_type = T;

  // A pending future on the running loop. Throws aio::RuntimeError outside one.
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
    internal::DoneCallback<Future>::add(*state_, *this, std::move(callback), &Future::from_state);
  }

  EventLoop& get_loop() const noexcept { return state_->loop(); }

  // A thread-safe way to settle this future from another thread (see the file
  // comment). Call it on the loop's thread. Throws aio::RuntimeError if the loop
  // is closed.
  ThreadsafeSetter<T> threadsafe_setter() const;

  auto operator co_await() const noexcept { return internal::FutureAwaiter<internal::FutureState<T>>(state_); }

  friend bool operator==(const Future& a, const Future& b) noexcept { return a.state_ == b.state_; }

 private:
  friend class internal::HandleAccess;  // aio's combinators reach the state
  static Future from_state(internal::FutureStateBase* state) {
    return Future(internal::Ref<internal::FutureState<T>>(static_cast<internal::FutureState<T>*>(state)));
  }
  explicit Future(internal::Ref<internal::FutureState<T>> state) : state_(std::move(state)) {}
  internal::Ref<internal::FutureState<T>> state_;
};

// Settles a Future from any thread: copyable, and every member is thread-safe.
// The value travels to the loop's thread through its mailbox and is set there;
// the future itself is never touched off its thread. A cancelled future ignores
// the value (asyncio's "set unless cancelled"); setting twice is reported to the
// loop's exception handler. When the last copy goes away the loop lets go of the
// future.
template <class T>
class ThreadsafeSetter {
 public:
  // Returns false if the loop is closed (then nothing is set).
  template <class... U>
  bool set_result(U&&... value) const {
    using Stored = std::conditional_t<std::is_void_v<T>, bool, T>;
    std::optional<Stored> stored;
    if constexpr (std::is_void_v<T>) {
      stored.emplace(true);
    } else {
      stored.emplace(std::forward<U>(value)...);
    }
    return post([stored = std::move(stored)](internal::FutureState<T>& state) mutable {
      if constexpr (std::is_void_v<T>) {
        state.set_result();
      } else {
        state.set_result(std::move(*stored));
      }
    });
  }
  bool set_exception(std::exception_ptr error) const {
    return post([error](internal::FutureState<T>& state) { state.set_exception(error); });
  }
  template <class E, class = std::enable_if_t<!std::is_same_v<std::decay_t<E>, std::exception_ptr>>>
  bool set_exception(E error) const {
    return set_exception(std::make_exception_ptr(std::move(error)));
  }

 private:
  friend class Future<T>;
  struct Link {
    std::shared_ptr<internal::Mailbox> mailbox;
    EventLoop* loop;  // dereferenced only on the loop's thread
    std::uint64_t id;
    ~Link() {
      internal::UniqueFunction release = [loop = loop, id = id] { internal::LoopAccess::take_held(*loop, id); };
      mailbox->post(release);  // a closed loop already let go
    }
  };
  explicit ThreadsafeSetter(std::shared_ptr<Link> link) : link_(std::move(link)) {}

  template <class Settle>
  bool post(Settle settle) const {
    internal::UniqueFunction job = [loop = link_->loop, id = link_->id, settle = std::move(settle)]() mutable {
      auto* state = static_cast<internal::FutureStateBase*>(internal::LoopAccess::find_held(*loop, id));
      if (state == nullptr || state->cancelled()) return;
      if (state->done()) {
        loop->call_exception_handler({.message = "ThreadsafeSetter: the future is already done",
                                      .future = state->describe()});
        return;
      }
      settle(*static_cast<internal::FutureState<T>*>(state));
    };
    return link_->mailbox->post(job);
  }

  std::shared_ptr<Link> link_;
};

template <class T>
ThreadsafeSetter<T> Future<T>::threadsafe_setter() const {
  EventLoop& loop = state_->loop();
  internal::LoopAccess::throw_if_closed(loop);
  using Link = typename ThreadsafeSetter<T>::Link;
  return ThreadsafeSetter<T>(std::shared_ptr<Link>(
      new Link{internal::LoopAccess::mailbox(loop), &loop, internal::LoopAccess::hold(loop, state_)}));
}

}  // namespace aio

#endif  // AIO_ASYNC_FUTURE_H_
