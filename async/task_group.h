// aio::task_group(): asyncio's TaskGroup (3.11+, with 3.13's semantics) in the
// shape C++ allows. There is no `async with`, so the group's scope is a
// coroutine body that receives the group:
//
//   co_await aio::task_group([&](aio::TaskGroup& group) -> aio::Coro<> {
//     group.create_task(fetch("a"));
//     group.create_task(fetch("b"));
//     co_return;
//   });  // here every child has finished
//
// The scope cannot be left without awaiting the children: task_group() awaits
// every child before it returns, including children created while it waits.
// The first child that fails cancels the other children and, once, the body
// (the group absorbs that cancellation); all the errors then come out together
// as aio::ExceptionGroup (a nested group's ExceptionGroup is one member). A
// cancel from outside cancels the children and propagates as CancelledError,
// unless children failed: then the ExceptionGroup wins and the task stays
// cancelled-requested, so its next suspension raises CancelledError again.
// create_task on a group that is finished or shutting down throws
// aio::RuntimeError and destroys the coroutine without running it.
//
// Lifetimes: the body lambda may capture by reference (the scope outlives every
// child). Because of a GCC 12 bug, do not give it captures with destructors
// (std::string, shared_ptr) by value when it is written inside the co_await
// expression; name it first (docs/async.md, "Pitfalls with GCC 12").
#ifndef AIO_ASYNC_TASK_GROUP_H_
#define AIO_ASYNC_TASK_GROUP_H_

#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "async/coro.h"
#include "async/errors.h"
#include "async/future.h"
#include "async/internal/frame_allocator.h"
#include "async/task.h"

namespace aio {

// Several errors at once: what a TaskGroup raises (Python's ExceptionGroup).
class ExceptionGroup : public Error {
 public:
  ExceptionGroup(std::string message, std::vector<std::exception_ptr> exceptions);

  // The errors, in the order they happened.
  const std::vector<std::exception_ptr>& exceptions() const noexcept { return exceptions_; }
  // The message without the list: "unhandled errors in a TaskGroup".
  const std::string& message() const noexcept { return message_; }

  // The first error of type E, searching inside nested groups (which are
  // searched, not matched themselves); null if none. The pointer stays valid as
  // long as this group does.
  template <class E>
  const E* find() const {
    for (const std::exception_ptr& error : exceptions_) {
      try {
        std::rethrow_exception(error);
      } catch (const ExceptionGroup& nested) {
        if (const E* match = nested.template find<E>()) return match;
      } catch (const E& match) {
        return &match;
      } catch (...) {
      }
    }
    return nullptr;
  }

 private:
  std::string message_;
  std::vector<std::exception_ptr> exceptions_;
};

namespace internal {
// What a task_group body returns: a Coro<T> (a coroutine body), or nothing (a
// plain function that only creates tasks).
template <class Result>
struct TaskGroupBody {
  static constexpr bool kValid = false;
  using Value = void;  // so that task_group's static_assert, not overload resolution, says what is wrong
};
template <class T>
struct TaskGroupBody<Coro<T>> {
  static constexpr bool kValid = true;
  using Value = T;
};
template <>
struct TaskGroupBody<void> {
  static constexpr bool kValid = true;
  using Value = void;
};
}  // namespace internal

// A TaskGroup's state, readable after its scope ended (a REPL or a test keeps
// the group object, as Python code keeps `tg` after the `async with`): a cheap
// copyable handle from TaskGroup::view().
class TaskGroupView {
 public:
  // True once the scope ended: create_task is refused ("TaskGroup is finished").
  bool finished() const noexcept { return record_->finished; }
  // True once a child failed or the scope was cancelled: new tasks are refused.
  bool shutting_down() const noexcept { return record_->shutting_down; }

 private:
  friend class TaskGroup;
  struct Record {
    bool finished = false;
    bool shutting_down = false;
  };
  explicit TaskGroupView(std::shared_ptr<Record> record) : record_(std::move(record)) {}
  std::shared_ptr<Record> record_;
};

class TaskGroup;

namespace internal {
// What the scope's exit awaits until the last child is done: a void future that
// also lists the group's children, for call graphs.
class TaskGroupWait final : public ValueFutureState<void> {
 public:
  TaskGroupWait(EventLoop& loop, const TaskGroup* group) : ValueFutureState<void>(loop), group_(group) {}
  const char* call_graph_kind() const noexcept override { return "TaskGroup"; }
  void awaited_futures(std::vector<const FutureStateBase*>& out) const override;

 private:
  const TaskGroup* group_;
};
}  // namespace internal

class TaskGroup {
 public:
  TaskGroup(const TaskGroup&) = delete;
  TaskGroup& operator=(const TaskGroup&) = delete;
  ~TaskGroup();

  // Starts `coro` as a child task of the group. Throws aio::RuntimeError
  // ("TaskGroup is finished" / "is shutting down") without running `coro`.
  // Takes what aio::create_task takes: a Coro with a name or TaskOptions, or
  // any awaiter (group.create_task(aio::sleep(1s))).
  template <class T>
  Task<T> create_task(Coro<T> coro, const TaskOptions& options) {
    throw_unless_accepting(coro);
    Task<T> task = aio::create_task(*loop_, std::move(coro), options);
    add(internal::HandleAccess::state(task).get());
    return task;
  }
  template <class T>
  Task<T> create_task(Coro<T> coro, std::string name = {}) {
    TaskOptions options;
    options.name = std::move(name);
    return create_task(std::move(coro), options);
  }
  template <class Awaiter, class = std::enable_if_t<internal::IsAwaiter<Awaiter>::value>>
  auto create_task(Awaiter awaiter, std::string name = {}) {
    return create_task(internal::await_owned(std::move(awaiter)), std::move(name));
  }

  // Whether the group refuses new tasks (asyncio's "TaskGroup is finished" /
  // "is shutting down"), now and, through view(), after the scope.
  bool finished() const noexcept { return exiting_ && member_count_ == 0; }
  bool shutting_down() const noexcept { return aborting_; }
  TaskGroupView view() {
    if (!record_) record_ = std::make_shared<TaskGroupView::Record>();
    record_->finished = finished();
    record_->shutting_down = shutting_down();
    return TaskGroupView(record_);
  }

  // Implementation, used by task_group(): leaving the scope.
  Coro<void> exit(std::exception_ptr body_error);

 private:
  template <class Body>
  friend auto task_group(Body body)
      -> Coro<typename internal::TaskGroupBody<std::invoke_result_t<Body&, TaskGroup&>>::Value>;
  friend class internal::TaskGroupWait;

  // A child's membership: a waiter on the child and the scheduled callback that
  // runs when it finishes (asyncio's _on_task_done, scheduled like any done
  // callback). One pooled allocation per child.
  struct Member final : internal::FutureWaiter, internal::ReadyNode {
    static void* operator new(std::size_t size) { return internal::FramePool::allocate(size); }
    static void operator delete(void* member, std::size_t size) noexcept {
      internal::FramePool::deallocate(member, size);
    }
    TaskGroup* group;
    internal::Ref<internal::TaskBase> task;
    Member* previous_member = nullptr;
    Member* next_member = nullptr;
  };

  TaskGroup();
  void add(internal::TaskBase* task);
  template <class T>
  void throw_unless_accepting(Coro<T>& coro) {
    if (const char* refusal = refusal_reason()) {
      coro.discard();  // asyncio closes the coroutine: it never runs
      throw RuntimeError(refusal);
    }
  }
  const char* refusal_reason() const noexcept;
  void abort();
  void on_task_done(Member* member);
  static void member_finished(internal::FutureWaiter* waiter) noexcept;
  static void run_member_callback(internal::ReadyNode* node);

  EventLoop* loop_;
  internal::TaskBase* parent_;
  Member* first_member_ = nullptr;
  std::size_t member_count_ = 0;
  internal::Ref<internal::TaskGroupWait> on_completed_;
  std::vector<std::exception_ptr> errors_;
  bool exiting_ = false;
  bool aborting_ = false;
  std::shared_ptr<TaskGroupView::Record> record_;  // only once view() was called
  bool parent_cancel_requested_ = false;
};

// Runs `body(group)` as a TaskGroup's scope in the current task and returns its
// value once every child has finished; see the file comment. The body is
// either a coroutine returning aio::Coro<T> (it may await), or a plain function
// returning void that only creates tasks:
//   co_await aio::task_group([&](aio::TaskGroup& group) { group.create_task(work()); });
// Throws aio::RuntimeError outside a task, aio::ExceptionGroup when children
// (or the body) failed, CancelledError when cancelled from outside.
//
// A body declared `-> aio::Coro<>` must contain a co_await or co_return to be
// a coroutine; without one it is an ordinary function that falls off its end
// (undefined behaviour, which GCC reports with -Wreturn-type: build with
// -Werror=return-type, as docs/async.md recommends, or drop the `-> aio::Coro<>`).
template <class Body>
auto task_group(Body body)
    -> Coro<typename internal::TaskGroupBody<std::invoke_result_t<Body&, TaskGroup&>>::Value> {
  using Result = std::invoke_result_t<Body&, TaskGroup&>;
  static_assert(internal::TaskGroupBody<Result>::kValid,
                "aio::task_group: the body must be a coroutine returning aio::Coro<T> "
                "(`[&](aio::TaskGroup& group) -> aio::Coro<> { ...; co_return; }`) or a plain "
                "function returning void (`[&](aio::TaskGroup& group) { group.create_task(...); }`)");
  using T = typename internal::TaskGroupBody<Result>::Value;
  TaskGroup group;
  std::exception_ptr body_error;
  std::optional<std::conditional_t<std::is_void_v<T>, bool, T>> value;
  try {
    if constexpr (std::is_void_v<Result>) {
      body(group);
      value.emplace(true);
    } else if constexpr (std::is_void_v<T>) {
      co_await body(group);
      value.emplace(true);
    } else {
      value.emplace(co_await body(group));
    }
  } catch (...) {
    body_error = std::current_exception();
  }
  co_await group.exit(body_error);
  if constexpr (!std::is_void_v<T>) co_return std::move(*value);
}

}  // namespace aio

#endif  // AIO_ASYNC_TASK_GROUP_H_
