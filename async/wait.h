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

template <class T>
struct WaitResult {
  std::vector<Task<T>> done;
  std::vector<Task<T>> pending;
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

// Waits until `when` holds for `tasks`, or `timeout` passes (no timeout when
// empty), and returns (done, pending). Throws aio::ValueError for an
// empty `tasks`. FIRST_EXCEPTION behaves as ALL_COMPLETED when nothing fails.
template <class T>
Coro<WaitResult<T>> wait(std::vector<Task<T>> tasks, ReturnWhen when = ALL_COMPLETED,
                         std::optional<Duration> timeout = std::nullopt) {
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
  WaitResult<T> result;
  for (Task<T>& task : tasks) (task.done() ? result.done : result.pending).push_back(std::move(task));
  co_return result;
}

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

}  // namespace aio

#endif  // AIO_ASYNC_WAIT_H_
