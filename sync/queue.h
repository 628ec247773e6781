// aio::Queue<T>, PriorityQueue<T, Compare>, LifoQueue<T>: asyncio's queues for
// coroutines of one loop, with asyncio 3.13's shutdown().
//
//   aio::Queue<std::string> queue(/*maxsize=*/100);
//   co_await queue.put("job");          // waits while the queue is full
//   std::string job = co_await queue.get();   // waits while it is empty
//   queue.task_done();
//   co_await queue.join();              // until every item put was task_done()
//
// Blocked getters and putters are woken in FIFO order. A get() cancelled just
// after it was woken never loses an item: the wake-up passes to the next getter.
// shutdown() makes put() raise QueueShutDown at once and get() once the queue is
// empty; shutdown(true) also drops the queued items. Not thread-safe: use it
// from its loop's thread only. Move-only item types work.
#ifndef AIO_SYNC_QUEUE_H_
#define AIO_SYNC_QUEUE_H_

#include <cstddef>
#include <algorithm>
#include <deque>
#include <functional>
#include <queue>
#include <stdexcept>
#include <utility>
#include <vector>

#include "async/coro.h"
#include "async/errors.h"
#include "async/future.h"

namespace aio {

// get_nowait() on an empty queue.
class QueueEmpty : public Error {
 public:
  QueueEmpty() : Error("the queue is empty") {}
};

// put_nowait() on a full queue.
class QueueFull : public Error {
 public:
  QueueFull() : Error("the queue is full") {}
};

// put on a shut-down queue, or get on a shut-down queue that is empty.
class QueueShutDown : public Error {
 public:
  QueueShutDown() : Error("the queue is shut down") {}
};

namespace internal {

// How each queue kind stores its items.
template <class T>
struct FifoItems {
  std::deque<T> items;
  void push(T item) { items.push_back(std::move(item)); }
  T pop() {
    T item = std::move(items.front());
    items.pop_front();
    return item;
  }
  std::size_t size() const { return items.size(); }
  void clear() { items.clear(); }
};

template <class T>
struct LifoItems {
  std::vector<T> items;
  void push(T item) { items.push_back(std::move(item)); }
  T pop() {
    T item = std::move(items.back());
    items.pop_back();
    return item;
  }
  std::size_t size() const { return items.size(); }
  void clear() { items.clear(); }
};

// Smallest first (as Python's heapq), by `Compare` (std::less by default).
template <class T, class Compare>
struct PriorityItems {
  std::vector<T> items;
  Compare compare;
  // Reversed, because the std heap functions keep the largest on top.
  bool later(const T& a, const T& b) const { return compare(b, a); }
  void push(T item) {
    items.push_back(std::move(item));
    std::push_heap(items.begin(), items.end(), [this](const T& a, const T& b) { return later(a, b); });
  }
  T pop() {
    std::pop_heap(items.begin(), items.end(), [this](const T& a, const T& b) { return later(a, b); });
    T item = std::move(items.back());
    items.pop_back();
    return item;
  }
  std::size_t size() const { return items.size(); }
  void clear() { items.clear(); }
};

}  // namespace internal

template <class T, class Items>
class BasicQueue {
 public:
  // maxsize 0 (or less) means unbounded.
  explicit BasicQueue(std::ptrdiff_t maxsize = 0) : maxsize_(maxsize > 0 ? static_cast<std::size_t>(maxsize) : 0) {}
  BasicQueue(const BasicQueue&) = delete;
  BasicQueue& operator=(const BasicQueue&) = delete;

  std::size_t qsize() const { return items_.size(); }
  std::size_t maxsize() const { return maxsize_; }
  bool empty() const { return items_.size() == 0; }
  bool full() const { return maxsize_ > 0 && items_.size() >= maxsize_; }

  // Waits while the queue is full, then adds `item`. Throws QueueShutDown if the
  // queue is (or gets) shut down, CancelledError if cancelled (the item is not
  // added then).
  Coro<void> put(T item) {
    while (full()) {
      if (shut_down_) throw QueueShutDown();
      Future<> putter;
      putters_.push_back(putter);
      try {
        co_await putter;
      } catch (...) {
        putter.cancel();  // in case it was not done yet
        erase(putters_, putter);
        if (!full() && !putter.cancelled()) wake_next(putters_);
        throw;
      }
    }
    put_nowait(std::move(item));
  }

  // Adds `item` without waiting. Throws QueueFull or QueueShutDown.
  void put_nowait(T item) {
    if (shut_down_) throw QueueShutDown();
    if (full()) throw QueueFull();
    items_.push(std::move(item));
    ++unfinished_tasks_;
    wake_next(getters_);
  }

  // Waits while the queue is empty, then removes and returns an item. Throws
  // QueueShutDown once the queue is shut down and empty, CancelledError if
  // cancelled (no item is lost then).
  Coro<T> get() {
    while (empty()) {
      if (shut_down_) throw QueueShutDown();
      Future<> getter;
      getters_.push_back(getter);
      try {
        co_await getter;
      } catch (...) {
        getter.cancel();
        erase(getters_, getter);
        // Woken but cancelled: hand the wake-up on so the item is not stranded.
        if (!empty() && !getter.cancelled()) wake_next(getters_);
        throw;
      }
    }
    co_return get_nowait();
  }

  // Removes and returns an item without waiting. Throws QueueEmpty, or
  // QueueShutDown when the queue is shut down and empty.
  T get_nowait() {
    if (empty()) {
      if (shut_down_) throw QueueShutDown();
      throw QueueEmpty();
    }
    T item = items_.pop();
    wake_next(putters_);
    return item;
  }

  // Marks one item taken by get() as processed. Throws std::invalid_argument
  // when called more times than items were put.
  void task_done() {
    if (unfinished_tasks_ == 0) throw std::invalid_argument("task_done() called too many times");
    if (--unfinished_tasks_ == 0) wake_all_joiners();
  }

  // Waits until every item put has been marked task_done().
  Coro<void> join() {
    if (unfinished_tasks_ > 0) {
      Future<> joiner;
      joiners_.push_back(joiner);
      co_await joiner;
    }
  }

  // Shuts the queue down: put() raises QueueShutDown at once and blocked putters
  // are woken to raise it; get() raises it once the queue is empty. With
  // `immediate`, the queued items are dropped (each counts as task_done(), which
  // may release join()) and blocked getters raise QueueShutDown too.
  void shutdown(bool immediate = false) {
    shut_down_ = true;
    if (immediate) {
      while (!empty()) {
        items_.pop();
        if (unfinished_tasks_ > 0) --unfinished_tasks_;
      }
      if (unfinished_tasks_ == 0) wake_all_joiners();
    }
    // Everyone blocked re-checks: getters find the queue empty (or keep
    // draining it), putters find it shut down.
    while (!getters_.empty()) wake_next(getters_);
    while (!putters_.empty()) wake_next(putters_);
  }

 private:
  static void wake_next(std::deque<Future<>>& waiters) {
    while (!waiters.empty()) {
      Future<> waiter = std::move(waiters.front());
      waiters.pop_front();
      if (!waiter.done()) {
        waiter.set_result();
        return;
      }
    }
  }
  static void erase(std::deque<Future<>>& waiters, const Future<>& waiter) {
    for (auto it = waiters.begin(); it != waiters.end(); ++it) {
      if (*it == waiter) {
        waiters.erase(it);
        return;
      }
    }
  }
  void wake_all_joiners() {
    for (Future<>& joiner : joiners_) {
      if (!joiner.done()) joiner.set_result();
    }
    joiners_.clear();
  }

  std::size_t maxsize_;
  Items items_;
  std::deque<Future<>> getters_;
  std::deque<Future<>> putters_;
  std::vector<Future<>> joiners_;
  std::size_t unfinished_tasks_ = 0;
  bool shut_down_ = false;
};

// First in, first out (asyncio.Queue).
template <class T>
using Queue = BasicQueue<T, internal::FifoItems<T>>;

// Last in, first out (asyncio.LifoQueue).
template <class T>
using LifoQueue = BasicQueue<T, internal::LifoItems<T>>;

// Smallest item first by `Compare` (asyncio.PriorityQueue; use a pair or tuple of
// (priority, item) as in Python).
template <class T, class Compare = std::less<T>>
using PriorityQueue = BasicQueue<T, internal::PriorityItems<T, Compare>>;

}  // namespace aio

#endif  // AIO_SYNC_QUEUE_H_
