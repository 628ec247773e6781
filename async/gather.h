// aio::gather() and aio::shield(): asyncio's gather and shield (rules 32-35).
//
//   auto [a, b] = co_await aio::gather(fetch("a"), fetch("b"));      // a tuple
//   std::vector<int> all = co_await aio::gather(std::move(tasks));    // a vector
//   auto outcomes = co_await aio::gather(aio::return_exceptions, f(), g());
//
// Coroutines are wrapped in tasks; results come in argument order. Without
// return_exceptions the first error propagates at once and the other children
// are *not* cancelled (they run on; their later errors are marked retrieved).
// With it, every child's value or error comes back as an aio::Outcome<T>, and
// the gather ends when every child has. Cancelling the awaiting task cancels
// every child that is not done and raises CancelledError once they have
// finished; a child that is cancelled on its own makes the gather raise
// CancelledError (without return_exceptions).
//
// shield(task) protects a task from the cancellation of its awaiter: the
// awaiter gets CancelledError, the task runs on.
//
// Rule numbers cited here are those of docs/design/asyncio_rules.md.
#ifndef AIO_ASYNC_GATHER_H_
#define AIO_ASYNC_GATHER_H_

#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "async/coro.h"
#include "async/errors.h"
#include "async/future.h"
#include "async/internal/completion_node.h"
#include "async/task.h"
#include "async/timeouts.h"

namespace aio {

// A value or the exception that took its place (gather's return_exceptions).
template <class T>
class Outcome {
 public:
  explicit Outcome(std::exception_ptr error) : error_(std::move(error)) {}
  template <class U = T, class = std::enable_if_t<!std::is_void_v<U>>>
  explicit Outcome(U value) : value_(std::move(value)) {}
  Outcome() = default;  // void success

  bool has_value() const noexcept { return !error_; }
  // The exception (CancelledError for a cancelled child), or null.
  const std::exception_ptr& exception() const noexcept { return error_; }
  // The value; rethrows the exception if there is one.
  decltype(auto) value() const& {
    if (error_) std::rethrow_exception(error_);
    if constexpr (!std::is_void_v<T>) return (*value_);
  }
  decltype(auto) value() && {
    if (error_) std::rethrow_exception(error_);
    if constexpr (!std::is_void_v<T>) return std::move(*value_);
  }

 private:
  std::optional<std::conditional_t<std::is_void_v<T>, bool, T>> value_;
  std::exception_ptr error_;
};

template <class Result>
class GatheringFuture;

// The tag for gather's return_exceptions mode.
struct ReturnExceptions {};
inline constexpr ReturnExceptions return_exceptions{};

namespace internal {

// asyncio's _GatheringFuture: completes when gather is over, and its cancel()
// cancels the children instead of itself (the gather then ends with
// CancelledError once they are done).
class GatheringState : public FutureStateBase {
 public:
  GatheringState(EventLoop& loop, std::vector<TaskBase*> children, bool return_exceptions)
      : FutureStateBase(loop),
        children_(std::move(children)),
        nodes_(children_.size()),
        pending_(children_.size()),
        return_exceptions_(return_exceptions) {
    for (std::size_t i = 0; i < children_.size(); ++i) {
      nodes_[i].watch(children_[i], &GatheringState::on_child_done, this, i);
    }
    if (children_.empty()) finish_now();
  }
  std::string describe() const override { return "_GatheringFuture"; }
  const char* call_graph_kind() const noexcept override { return "gather"; }
  void awaited_futures(std::vector<const FutureStateBase*>& out) const override {
    for (const TaskBase* child : children_) {
      if (!child->done()) out.push_back(child);
    }
  }
  ~GatheringState() override {
    // Children still running after an early error: nobody will read their
    // results, so their errors are marked as seen when they come, as asyncio's
    // gather does (no "never retrieved" reports for them).
    for (TaskBase* child : children_) {
      if (!child->done()) {
        child->add_done_callback([](AnyTask task) {
          if (!task.cancelled()) task.exception();
        });
      }
    }
  }


  bool cancel(std::string message) override {
    if (done()) return false;
    bool any = false;
    for (TaskBase* child : children_) {
      if (child->cancel(message)) any = true;
    }
    if (any) {
      cancel_requested_ = true;
      cancel_message_ = std::move(message);
    }
    return any;
  }

 private:
  static void on_child_done(void* owner, std::size_t, FutureStateBase& child) {
    auto* self = static_cast<GatheringState*>(owner);
    --self->pending_;
    if (self->done()) {
      if (!child.cancelled()) child.exception();  // retrieved: no "never retrieved" report
      return;
    }
    if (!self->return_exceptions_) {
      if (child.cancelled()) {
        self->set_exception(child.error_for_result());
        return;
      }
      if (std::exception_ptr error = child.exception()) {
        self->set_exception(error);
        return;
      }
    }
    if (self->pending_ == 0) self->finish_now();
  }
  void finish_now() {
    if (cancel_requested_) {
      set_exception(std::make_exception_ptr(CancelledError(cancel_message_)));
    } else {
      finish();
    }
  }

  std::vector<TaskBase*> children_;  // alive: each node holds a reference
  std::vector<CompletionNode> nodes_;
  std::size_t pending_;
  bool return_exceptions_;
  bool cancel_requested_ = false;
  std::string cancel_message_;
};

template <class T>
Task<T> as_task(Coro<T> coro) {
  return create_task(std::move(coro));
}
template <class T>
Task<T> as_task(Task<T> task) {
  return task;
}

template <class Awaiter, class = std::enable_if_t<IsAwaiter<Awaiter>::value>>
auto as_task(Awaiter awaiter) {
  return create_task(await_owned(std::move(awaiter)));
}
// A Future becomes a task that awaits it (asyncio's ensure_future keeps the
// future itself; the results and the cancellation are the same: cancelling the
// task cancels the future it awaits).
template <class T>
Coro<T> await_future(Future<T> future) {
  co_return co_await future;
}
template <class T>
Task<T> as_task(Future<T> future) {
  return create_task(await_future(std::move(future)));
}
template <class R>
Coro<R> await_gathering_future(GatheringFuture<R> gathering) {
  co_return co_await gathering;
}
template <class R>
Task<R> as_task(GatheringFuture<R> gathering) {
  return create_task(await_gathering_future(std::move(gathering)));
}

template <class Awaitable, class = void>
struct TaskOf {
  // Any awaiter object: a task of what it returns.
  using type = Task<decltype(std::declval<Awaitable&>().await_resume())>;
};
template <class T>
struct TaskOf<Coro<T>, void> {
  using type = Task<T>;
};
template <class T>
struct TaskOf<Task<T>, void> {
  using type = Task<T>;
};
template <class T>
struct TaskOf<Future<T>, void> {
  using type = Task<T>;
};
template <class R>
struct TaskOf<GatheringFuture<R>, void> {
  using type = Task<R>;
};

template <class T>
using StoredResult = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

template <class T>
StoredResult<T> result_of(const Task<T>& task) {
  if constexpr (std::is_void_v<T>) {
    task.result();
    return {};
  } else {
    return task.result();
  }
}

template <class T>
Outcome<T> outcome_of(const Task<T>& task) {
  try {
    if constexpr (std::is_void_v<T>) {
      task.result();
      return Outcome<T>();
    } else {
      return Outcome<T>(task.result());
    }
  } catch (...) {
    return Outcome<T>(std::current_exception());
  }
}

// The gathering state of one gather call, with the children's handles and
// what makes the gather's result from them (a tuple or a vector, of values or
// Outcomes). GatheringFuture's state.
template <class Result>
class GatheringOf : public GatheringState {
 public:
  using GatheringState::GatheringState;
  // The result, once every child is done (read only then).
  virtual Result build() const = 0;
  struct Slot {
    const GatheringOf* state;
    Result get() const { return state->build(); }
  };
  Slot slot() const noexcept { return Slot{this}; }
};

template <class Result, class Tasks, bool kOutcomes>
class GatheringOfTasks final : public GatheringOf<Result> {
 public:
  GatheringOfTasks(EventLoop& loop, Tasks tasks, std::vector<TaskBase*> children)
      : GatheringOf<Result>(loop, std::move(children), kOutcomes), tasks_(std::move(tasks)) {}

  Result build() const override {
    if constexpr (requires { std::tuple_size<Tasks>::value; }) {
      return std::apply(
          [](const auto&... task) {
            if constexpr (kOutcomes) {
              return Result(outcome_of(task)...);
            } else {
              return Result(result_of(task)...);
            }
          },
          tasks_);
    } else {
      Result results;
      results.reserve(tasks_.size());
      for (const auto& task : tasks_) {
        if constexpr (kOutcomes) {
          results.push_back(outcome_of(task));
        } else {
          results.push_back(result_of(task));
        }
      }
      return results;
    }
  }

 private:
  Tasks tasks_;
};

template <class Result, bool kOutcomes, class Tasks>
GatheringFuture<Result> gather_tasks(Tasks tasks);

}  // namespace internal

// What gather() returns: asyncio's _GatheringFuture. Awaiting it gives the
// results (a tuple or a vector, in argument order); it is also a future:
// done(), cancelled(), result(), exception(), add_done_callback(), and
// cancel(), which cancels the children that are not done (true if any was) and
// returns false once the gather is done. When a child is cancelled (without
// return_exceptions), or after cancel(), the gather ends with a CancelledError
// *exception*: cancelled() stays false, as asyncio's. Awaiting it from a task
// that is then cancelled cancels the children (rule 10). A cheap copyable
// handle, awaitable by any number of tasks; loop thread only.
template <class Result>
class [[nodiscard]] GatheringFuture {
 public:
  using value_type = Result;

  bool done() const noexcept { return state_->done(); }
  bool cancelled() const noexcept { return state_->cancelled(); }
  bool cancel(std::string message = {}) { return state_->cancel(std::move(message)); }
  // The results. Throws the error the gather ended with (CancelledError for a
  // cancelled child), or InvalidStateError while it runs.
  Result result() const {
    if (std::exception_ptr error = state_->error_for_result()) std::rethrow_exception(error);
    return state_->build();
  }
  // Null when it succeeded, the error otherwise; InvalidStateError while it runs.
  std::exception_ptr exception() const { return state_->exception(); }
  EventLoop& get_loop() const noexcept { return state_->loop(); }
  // Schedules `callback(*this)` once the gather is done (at once if it is).
  void add_done_callback(std::function<void(GatheringFuture)> callback) {
    internal::DoneCallback<GatheringFuture>::add(*state_, *this, std::move(callback), &GatheringFuture::from_state);
  }
  auto operator co_await() const noexcept { return internal::FutureAwaiter<internal::GatheringOf<Result>>(state_); }
  friend bool operator==(const GatheringFuture& a, const GatheringFuture& b) noexcept { return a.state_ == b.state_; }

 private:
  template <class R, bool kOutcomes, class Tasks>
  friend GatheringFuture<R> internal::gather_tasks(Tasks tasks);
  friend class internal::HandleAccess;  // shield reaches the state
  explicit GatheringFuture(internal::Ref<internal::GatheringOf<Result>> state) : state_(std::move(state)) {}
  static GatheringFuture from_state(internal::FutureStateBase* state) {
    return GatheringFuture(internal::Ref<internal::GatheringOf<Result>>(static_cast<internal::GatheringOf<Result>*>(state)));
  }
  internal::Ref<internal::GatheringOf<Result>> state_;
};

namespace internal {
template <class Result, bool kOutcomes, class Tasks>
GatheringFuture<Result> gather_tasks(Tasks tasks) {
  std::vector<TaskBase*> children;
  if constexpr (requires { std::tuple_size<Tasks>::value; }) {
    std::apply([&](auto&... task) { (children.push_back(HandleAccess::state(task).get()), ...); }, tasks);
  } else {
    children.reserve(tasks.size());
    for (auto& task : tasks) children.push_back(HandleAccess::state(task).get());
  }
  Ref<GatheringOf<Result>> state(
      new GatheringOfTasks<Result, Tasks, kOutcomes>(get_running_loop(), std::move(tasks), std::move(children)));
  return GatheringFuture<Result>(std::move(state));
}
}  // namespace internal

// gather(a, b, ...) of Coro<T>, Task<T>, Future<T> and awaiters: a
// GatheringFuture of the tuple of results (a void result is std::monostate).
// The arguments become tasks here, at the call (asyncio wraps coroutines at the
// call too), created in argument order (a braced list is evaluated left to
// right; function arguments are not), so they start in that order too.
template <class... Awaitables>
auto gather(Awaitables... awaitables) {
  using Tasks = std::tuple<typename internal::TaskOf<Awaitables>::type...>;
  using Result = std::tuple<internal::StoredResult<typename internal::TaskOf<Awaitables>::type::value_type>...>;
  return internal::gather_tasks<Result, false>(Tasks{internal::as_task(std::move(awaitables))...});
}

// gather(return_exceptions, a, b, ...): a tuple of Outcome<T>.
template <class... Awaitables>
auto gather(ReturnExceptions, Awaitables... awaitables) {
  using Tasks = std::tuple<typename internal::TaskOf<Awaitables>::type...>;
  using Result = std::tuple<Outcome<typename internal::TaskOf<Awaitables>::type::value_type>...>;
  return internal::gather_tasks<Result, true>(Tasks{internal::as_task(std::move(awaitables))...});
}

// gather over a vector of Coro<T>, Task<T> or Future<T>: a vector of results,
// in order.
template <class Awaitable>
auto gather(std::vector<Awaitable> awaitables) {
  using TaskType = typename internal::TaskOf<Awaitable>::type;
  std::vector<TaskType> tasks;
  tasks.reserve(awaitables.size());
  for (Awaitable& awaitable : awaitables) tasks.push_back(internal::as_task(std::move(awaitable)));
  using Result = std::vector<internal::StoredResult<typename TaskType::value_type>>;
  return internal::gather_tasks<Result, false>(std::move(tasks));
}

template <class Awaitable>
auto gather(ReturnExceptions, std::vector<Awaitable> awaitables) {
  using TaskType = typename internal::TaskOf<Awaitable>::type;
  std::vector<TaskType> tasks;
  tasks.reserve(awaitables.size());
  for (Awaitable& awaitable : awaitables) tasks.push_back(internal::as_task(std::move(awaitable)));
  using Result = std::vector<Outcome<typename TaskType::value_type>>;
  return internal::gather_tasks<Result, true>(std::move(tasks));
}

// A GatheringFuture wherever an awaitable goes: wait_for, timeout, shield, and
// inside another gather (asyncio's gather of a gather).
template <class R>
Coro<R> wait_for(GatheringFuture<R> gathering, std::optional<Duration> delay) {
  return internal::wait_for_handle(std::move(gathering), delay);
}
template <class R, class Rep, class Period>
Coro<R> wait_for(GatheringFuture<R> gathering, std::chrono::duration<Rep, Period> delay) {
  return internal::wait_for_handle(std::move(gathering), std::chrono::duration_cast<Duration>(delay));
}
template <class R, class Rep, class Period>
Coro<R> timeout(std::chrono::duration<Rep, Period> delay, GatheringFuture<R> gathering) {
  return timeout(delay, internal::await_handle(std::move(gathering)));
}

namespace internal {
// The future shield's awaiter waits on: a plain future that also names what it
// shields, for call graphs. `inner` is not owned: it is read only while the
// shielding coroutine (which holds the inner handle) waits on this state.
template <class T>
class ShieldState final : public ValueFutureState<T> {
 public:
  ShieldState(EventLoop& loop, const FutureStateBase* inner) : ValueFutureState<T>(loop), inner_(inner) {}
  const char* call_graph_kind() const noexcept override { return "shield"; }
  void awaited_futures(std::vector<const FutureStateBase*>& out) const override {
    if (!inner_->done()) out.push_back(inner_);
  }

 private:
  const FutureStateBase* inner_;
};

template <class Handle, class T = typename Handle::value_type>
Coro<T> shield_handle(Handle inner) {
  if (inner.done()) co_return co_await inner;  // already done: as is
  Ref<ShieldState<T>> outer(new ShieldState<T>(inner.get_loop(), HandleAccess::state(inner).get()));
  inner.add_done_callback([outer](const Handle& done) {
    if (outer->cancelled()) {
      if (!done.cancelled()) done.exception();  // nobody else will look
      return;
    }
    if (done.cancelled()) {
      outer->cancel(std::string());
    } else if (std::exception_ptr error = done.exception()) {
      outer->set_exception(error);
    } else if constexpr (std::is_void_v<T>) {
      outer->set_result();
    } else {
      outer->set_result(done.result());
    }
  });
  FutureAwaiter<ShieldState<T>> awaiter(outer);
  co_return co_await awaiter;
}
}  // namespace internal

// Awaits `task` (or a task made of `coro`, or a `future`) so that cancelling
// the awaiter does not cancel it: the awaiter gets CancelledError and the task
// runs on (the future stays pending). If the task or future itself is
// cancelled, the awaiter gets CancelledError too.
template <class T>
Coro<T> shield(Task<T> task) {
  return internal::shield_handle(std::move(task));
}
template <class T>
Coro<T> shield(Future<T> future) {
  return internal::shield_handle(std::move(future));
}
template <class R>
Coro<R> shield(GatheringFuture<R> gathering) {
  return internal::shield_handle(std::move(gathering));
}
template <class T>
Coro<T> shield(Coro<T> coro) {
  return internal::shield_handle(create_task(std::move(coro)));
}

}  // namespace aio

#endif  // AIO_ASYNC_GATHER_H_
