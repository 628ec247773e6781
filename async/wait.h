// aio::wait() and aio::as_completed(): asyncio's wait and as_completed (rules
// 36-37), for tasks.
//
//   auto [done, pending] = co_await aio::wait(tasks, aio::FIRST_COMPLETED, 5s);
//
//   aio::AsCompleted<int> completed(tasks, 10s);
//   while (std::optional<aio::Task<int>> next = co_await completed.next()) {
//     use(next->result());
//   }
//
// wait() never raises TimeoutError and never cancels anything: it returns
// (done, pending), each in the order the tasks were given. as_completed yields
// the tasks in the order they finish and raises TimeoutError once its deadline
// passes with tasks still pending. Both take Task<T> (asyncio 3.11+ refuses bare
// coroutines in wait() too): create the tasks first.
#ifndef AIO_ASYNC_WAIT_H_
#define AIO_ASYNC_WAIT_H_

#include <cstddef>
#include <deque>
#include <memory>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

#include "async/coro.h"
#include "async/future.h"
#include "async/internal/completion_node.h"
#include "async/task.h"
#include "async/timeouts.h"

namespace aio {

enum class ReturnWhen { kFirstCompleted, kFirstException, kAllCompleted };
// asyncio's names for the three conditions.
inline constexpr ReturnWhen FIRST_COMPLETED = ReturnWhen::kFirstCompleted;
inline constexpr ReturnWhen FIRST_EXCEPTION = ReturnWhen::kFirstException;
inline constexpr ReturnWhen ALL_COMPLETED = ReturnWhen::kAllCompleted;

// What wait() returns: the handles it was given, split. `Handle` is Task<T>,
// or Future<T> for a wait on futures.
template <class T, class Handle = Task<T>>
struct WaitResult {
  std::vector<Handle> done;
  std::vector<Handle> pending;
};

namespace internal {

// Counts completions and settles `ready` when the wait condition holds.
struct WaitCounter {
  Future<> ready;
  std::size_t remaining;
  ReturnWhen when;
  static void on_done(void* owner, std::size_t, FutureStateBase& task) {
    auto* self = static_cast<WaitCounter*>(owner);
    --self->remaining;
    if (self->ready.done()) return;
    const bool failed = !task.cancelled() && task.status() == FutureStateBase::Status::kFinished &&
                        task.error_for_result_peek();
    if (self->when == ReturnWhen::kFirstCompleted || self->remaining == 0 ||
        (self->when == ReturnWhen::kFirstException && failed)) {
      self->ready.set_result();
    }
  }
};

}  // namespace internal

namespace internal {
template <class T, class Handle>
Coro<WaitResult<T, Handle>> wait_handles(std::vector<Handle> tasks, ReturnWhen when, std::optional<Duration> timeout);
}  // namespace internal

// Waits until `when` holds for `tasks` (or `futures`), or `timeout` passes (no
// timeout when empty), and returns (done, pending). Throws aio::ValueError for
// an empty set. FIRST_EXCEPTION behaves as ALL_COMPLETED when nothing fails.
template <class T>
Coro<WaitResult<T>> wait(std::vector<Task<T>> tasks, ReturnWhen when = ALL_COMPLETED,
                         std::optional<Duration> timeout = std::nullopt) {
  return internal::wait_handles<T, Task<T>>(std::move(tasks), when, timeout);
}
template <class T>
Coro<WaitResult<T, Future<T>>> wait(std::vector<Future<T>> futures, ReturnWhen when = ALL_COMPLETED,
                                    std::optional<Duration> timeout = std::nullopt) {
  return internal::wait_handles<T, Future<T>>(std::move(futures), when, timeout);
}

namespace internal {
template <class T, class Handle>
Coro<WaitResult<T, Handle>> wait_handles(std::vector<Handle> tasks, ReturnWhen when, std::optional<Duration> timeout) {
  if (tasks.empty()) throw ValueError("aio::wait: the set of Tasks/Futures is empty");
  EventLoop& loop = get_running_loop();
  internal::WaitCounter counter{Future<>(loop), tasks.size(), when};
  std::vector<internal::CompletionNode> nodes(tasks.size());
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    nodes[i].watch(internal::HandleAccess::state(tasks[i]).get(), &internal::WaitCounter::on_done, &counter, i);
  }
  TimerHandle timer;
  if (timeout && !counter.ready.done()) {
    timer = loop.call_later(*timeout, [ready = counter.ready]() mutable {
      if (!ready.done()) ready.set_result();
    });
  }
  if (!counter.ready.done()) co_await counter.ready;
  timer.cancel();
  WaitResult<T, Handle> result;
  for (Handle& task : tasks) (task.done() ? result.done : result.pending).push_back(std::move(task));
  co_return result;
}
}  // namespace internal

// Yields tasks in the order they finish (asyncio.as_completed as an async
// iterator, 3.13). Must be used from the loop's thread; the tasks keep running
// if it is dropped early.
template <class T>
class AsCompleted {
 public:
  // The deadline is `timeout` from now (none when empty). Tasks already done
  // come out first, in the order given.
  explicit AsCompleted(std::vector<Task<T>> tasks, std::optional<Duration> timeout = std::nullopt)
      : tasks_(std::move(tasks)), nodes_(tasks_.size()) {
    EventLoop& loop = get_running_loop();
    if (timeout) deadline_ = loop.time() + *timeout;
    for (std::size_t i = 0; i < tasks_.size(); ++i) {
      nodes_[i].watch(internal::HandleAccess::state(tasks_[i]).get(), &AsCompleted::on_done, this, i);
    }
  }
  AsCompleted(const AsCompleted&) = delete;
  AsCompleted& operator=(const AsCompleted&) = delete;

  // The next task to finish, or nothing once every task was yielded. Throws
  // TimeoutError when the deadline passes first.
  Coro<std::optional<Task<T>>> next() {
    if (finished_.empty() && yielded_ < tasks_.size()) {
      arrived_.emplace(get_running_loop());
      co_await timeout_at(deadline_, wait_for_arrival());
    }
    if (finished_.empty()) co_return std::nullopt;
    std::size_t index = finished_.front();
    finished_.pop_front();
    ++yielded_;
    co_return tasks_[index];
  }

  // Tasks not yielded yet.
  std::size_t remaining() const noexcept { return tasks_.size() - yielded_; }

 private:
  Coro<void> wait_for_arrival() { co_await *arrived_; }
  static void on_done(void* owner, std::size_t index, internal::FutureStateBase&) {
    auto* self = static_cast<AsCompleted*>(owner);
    self->finished_.push_back(index);
    if (self->arrived_ && !self->arrived_->done()) self->arrived_->set_result();
  }

  std::vector<Task<T>> tasks_;
  std::vector<internal::CompletionNode> nodes_;
  std::deque<std::size_t> finished_;
  std::size_t yielded_ = 0;
  std::optional<TimePoint> deadline_;
  std::optional<Future<>> arrived_;
};

namespace internal {
template <class T>
Coro<T> next_result(std::shared_ptr<AsCompleted<T>> completion) {
  std::optional<Task<T>> finished = co_await completion->next();
  if (!finished) throw InvalidStateError("as_completed: every awaitable was already consumed");
  Task<T> task = std::move(*finished);
  co_return co_await task;
}
}  // namespace internal

// What aio::as_completed returns: both of asyncio's forms.
//   // for aw in as_completed(tasks): result = await aw
//   for (aio::Coro<int> next : aio::as_completed(tasks, 5s)) int result = co_await std::move(next);
//   // async for task in as_completed(tasks)  (3.13)
//   auto completion = aio::as_completed(tasks);
//   while (std::optional<aio::Task<int>> task = co_await completion.next()) ...
// Each awaitable of the plain form gives the next result to arrive (or raises
// its exception); either form raises TimeoutError once the deadline passes with
// tasks pending. The tasks keep running if it is dropped early. A cheap
// copyable handle; loop thread only.
template <class T>
class AsCompletion {
 public:
  AsCompletion(std::vector<Task<T>> tasks, std::optional<Duration> timeout)
      : state_(std::make_shared<AsCompleted<T>>(std::move(tasks), timeout)) {}

  // The async-iteration form: the next task to finish, or nothing at the end.
  Coro<std::optional<Task<T>>> next() { return state_->next(); }
  std::size_t remaining() const noexcept { return state_->remaining(); }

  // The plain form: as many awaitables as tasks, each giving the next result.
  class iterator {
   public:
    using value_type = Coro<T>;
    using difference_type = std::ptrdiff_t;
    iterator() = default;
    Coro<T> operator*() const { return internal::next_result(state_); }
    iterator& operator++() {
      ++index_;
      return *this;
    }
    iterator operator++(int) {
      iterator before = *this;
      ++index_;
      return before;
    }
    friend bool operator==(const iterator& a, const iterator& b) noexcept { return a.index_ == b.index_; }

   private:
    friend class AsCompletion;
    iterator(std::shared_ptr<AsCompleted<T>> state, std::size_t index) : state_(std::move(state)), index_(index) {}
    std::shared_ptr<AsCompleted<T>> state_;
    std::size_t index_ = 0;
  };
  iterator begin() const { return iterator(state_, 0); }
  iterator end() const { return iterator(state_, state_->remaining()); }

 private:
  std::shared_ptr<AsCompleted<T>> state_;
};

// asyncio.as_completed(aws, timeout=): tasks (or coroutines, made tasks at the
// call) in the order they finish, in both of asyncio's forms (AsCompletion).
// The deadline is `timeout` from now (none when empty).
template <class T>
AsCompletion<T> as_completed(std::vector<Task<T>> tasks, std::optional<Duration> timeout = std::nullopt) {
  return AsCompletion<T>(std::move(tasks), timeout);
}
template <class T>
AsCompletion<T> as_completed(std::vector<Coro<T>> coros, std::optional<Duration> timeout = std::nullopt) {
  std::vector<Task<T>> tasks;
  tasks.reserve(coros.size());
  for (Coro<T>& coro : coros) tasks.push_back(create_task(std::move(coro)));
  return AsCompletion<T>(std::move(tasks), timeout);
}

}  // namespace aio

#endif  // AIO_ASYNC_WAIT_H_
