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
#include <memory>
#include <optional>
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

// The tag for gather's return_exceptions mode.
struct ReturnExceptions {};
inline constexpr ReturnExceptions return_exceptions{};

namespace internal {

// asyncio's _GatheringFuture: completes when gather is over, and its cancel()
// cancels the children instead of itself (the gather then ends with
// CancelledError once they are done).
class GatheringState final : public FutureStateBase {
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

  ResultSlot<void>& slot() noexcept { return slot_; }

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
  ResultSlot<void> slot_;
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

// Waits on the gathering state; the tasks stay alive in the caller's frame.
inline Coro<void> await_gathering(Ref<GatheringState> state) {
  co_await FutureAwaiter<GatheringState>(state);
}

template <class... T>
Coro<std::tuple<StoredResult<T>...>> gather_tuple(std::tuple<Task<T>...> tasks, bool return_exceptions_mode) {
  std::vector<TaskBase*> children;
  std::apply([&](auto&... task) { (children.push_back(internal::HandleAccess::state(task).get()), ...); }, tasks);
  Ref<GatheringState> state(new GatheringState(get_running_loop(), std::move(children), return_exceptions_mode));
  co_await await_gathering(state);
  co_return std::apply([](auto&... task) { return std::tuple<StoredResult<T>...>(result_of(task)...); }, tasks);
}

template <class... T>
Coro<std::tuple<Outcome<T>...>> gather_tuple_outcomes(std::tuple<Task<T>...> tasks) {
  std::vector<TaskBase*> children;
  std::apply([&](auto&... task) { (children.push_back(internal::HandleAccess::state(task).get()), ...); }, tasks);
  Ref<GatheringState> state(new GatheringState(get_running_loop(), std::move(children), true));
  co_await await_gathering(state);
  co_return std::apply([](auto&... task) { return std::tuple<Outcome<T>...>(outcome_of(task)...); }, tasks);
}

template <class T>
Coro<std::vector<StoredResult<T>>> gather_vector(std::vector<Task<T>> tasks) {
  std::vector<TaskBase*> children;
  children.reserve(tasks.size());
  for (Task<T>& task : tasks) children.push_back(internal::HandleAccess::state(task).get());
  Ref<GatheringState> state(new GatheringState(get_running_loop(), std::move(children), false));
  co_await await_gathering(state);
  std::vector<StoredResult<T>> results;
  results.reserve(tasks.size());
  for (Task<T>& task : tasks) results.push_back(result_of(task));
  co_return results;
}

template <class T>
Coro<std::vector<Outcome<T>>> gather_vector_outcomes(std::vector<Task<T>> tasks) {
  std::vector<TaskBase*> children;
  for (Task<T>& task : tasks) children.push_back(internal::HandleAccess::state(task).get());
  Ref<GatheringState> state(new GatheringState(get_running_loop(), std::move(children), true));
  co_await await_gathering(state);
  std::vector<Outcome<T>> outcomes;
  outcomes.reserve(tasks.size());
  for (Task<T>& task : tasks) outcomes.push_back(outcome_of(task));
  co_return outcomes;
}

}  // namespace internal

// gather(a, b, ...) of Coro<T> and Task<T>: a tuple of the results (a void
// result is std::monostate). Not a coroutine itself: the arguments become
// tasks here, at the call (asyncio wraps coroutines at the call too).
// The tasks are created in argument order (a braced list is evaluated left to
// right; function arguments are not), so they start in that order too.
template <class... Awaitables>
auto gather(Awaitables... awaitables) {
  return internal::gather_tuple(
      std::tuple<typename internal::TaskOf<Awaitables>::type...>{internal::as_task(std::move(awaitables))...}, false);
}

// gather(return_exceptions, a, b, ...): a tuple of Outcome<T>.
template <class... Awaitables>
auto gather(ReturnExceptions, Awaitables... awaitables) {
  return internal::gather_tuple_outcomes(
      std::tuple<typename internal::TaskOf<Awaitables>::type...>{internal::as_task(std::move(awaitables))...});
}

// gather over a vector of Coro<T> or Task<T>: a vector of results, in order.
template <class Awaitable>
auto gather(std::vector<Awaitable> awaitables) {
  using TaskType = typename internal::TaskOf<Awaitable>::type;
  std::vector<TaskType> tasks;
  tasks.reserve(awaitables.size());
  for (Awaitable& awaitable : awaitables) tasks.push_back(internal::as_task(std::move(awaitable)));
  return internal::gather_vector(std::move(tasks));
}

template <class Awaitable>
auto gather(ReturnExceptions, std::vector<Awaitable> awaitables) {
  using TaskType = typename internal::TaskOf<Awaitable>::type;
  std::vector<TaskType> tasks;
  tasks.reserve(awaitables.size());
  for (Awaitable& awaitable : awaitables) tasks.push_back(internal::as_task(std::move(awaitable)));
  return internal::gather_vector_outcomes(std::move(tasks));
}

namespace internal {
template <class Handle, class T = typename Handle::value_type>
Coro<T> shield_handle(Handle inner) {
  if (inner.done()) co_return co_await inner;  // already done: as is
  Future<T> outer(inner.get_loop());
  inner.add_done_callback([outer](const Handle& done) mutable {
    if (outer.cancelled()) {
      if (!done.cancelled()) done.exception();  // nobody else will look
      return;
    }
    if (done.cancelled()) {
      outer.cancel();
    } else if (std::exception_ptr error = done.exception()) {
      outer.set_exception(error);
    } else if constexpr (std::is_void_v<T>) {
      outer.set_result();
    } else {
      outer.set_result(done.result());
    }
  });
  co_return co_await outer;
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
template <class T>
Coro<T> shield(Coro<T> coro) {
  return internal::shield_handle(create_task(std::move(coro)));
}

}  // namespace aio

#endif  // AIO_ASYNC_GATHER_H_
