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

#include <algorithm>
#include <coroutine>
#include <cstddef>
#include <deque>
#include <functional>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

#include "async/errors.h"
#include "sync/internal/wait_list.h"

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

  // Awaitable: waits while the queue is full, then adds `item`. Completes
  // without suspending when there is room. Throws QueueShutDown if the queue is
  // (or gets) shut down, CancelledError if cancelled (the item is not added then).
  auto put(T item) { return Put(*this, std::move(item)); }

  // Adds `item` without waiting. Throws QueueFull or QueueShutDown.
  void put_nowait(T item) {
    if (shut_down_) throw QueueShutDown();
    if (full()) throw QueueFull();
    items_.push(std::move(item));
    ++unfinished_tasks_;
    getters_.wake(1);
  }

  // Awaitable: waits while the queue is empty, then removes and returns an item.
  // Completes without suspending when an item is there. Throws QueueShutDown
  // once the queue is shut down and empty, CancelledError if cancelled (no item
  // is lost then).
  auto get() { return Get(*this); }

  // Removes and returns an item without waiting. Throws QueueEmpty, or
  // QueueShutDown when the queue is shut down and empty.
  T get_nowait() {
    if (empty()) {
      if (shut_down_) throw QueueShutDown();
      throw QueueEmpty();
    }
    T item = items_.pop();
    putters_.wake(1);
    return item;
  }

  // Marks one item taken by get() as processed. Throws aio::ValueError
  // when called more times than items were put.
  void task_done() {
    if (unfinished_tasks_ == 0) throw ValueError("Queue::task_done() called too many times");
    if (--unfinished_tasks_ == 0) wake_all_joiners();
  }

  // Awaitable: waits until every item put has been marked task_done().
  auto join() { return Join(*this); }

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
      if (unfinished_tasks_ == 0) joiners_.wake(joiners_.size());
    }
    // Everyone blocked re-checks: getters find the queue empty (or keep
    // draining it), putters find it shut down.
    getters_.wake(getters_.size());
    putters_.wake(putters_.size());
  }

 private:
  // put(): adds at once when there is room; otherwise parks among the putters
  // and, each time it is woken, rechecks before resuming (asyncio's loop).
  class Put {
   public:
    Put(BasicQueue& queue, T item) : queue_(queue), item_(std::move(item)), parking_(queue.putters_) {}
    Put(Put&& other) : queue_(other.queue_), item_(std::move(other.item_)), parking_(other.queue_.putters_) {}
    bool await_ready() {
      if (queue_.full()) return false;
      queue_.put_nowait(std::move(*item_));
      return true;
    }
    void await_suspend(std::coroutine_handle<> caller) {
      if (queue_.shut_down_) throw QueueShutDown();
      parked_ = true;
      parking_.recheck_with(&Put::room_or_shut_down, &queue_);
      parking_.await_suspend(caller);
    }
    void await_resume() {
      if (!parked_) return;
      try {
        parking_.await_resume();
      } catch (...) {
        // Woken, then cancelled: the room it was woken for goes to the next one
        // (unless the queue is gone: then it must not be touched).
        if (parking_.woken() && !queue_.full()) queue_.putters_.wake(1);
        throw;
      }
      queue_.put_nowait(std::move(*item_));  // QueueShutDown if it was shut down meanwhile
    }

   private:
    static bool room_or_shut_down(void* queue) {
      auto* self = static_cast<BasicQueue*>(queue);
      return !self->full() || self->shut_down_;
    }
    BasicQueue& queue_;
    std::optional<T> item_;
    internal::Parking parking_;
    bool parked_ = false;
  };

  // get(): takes an item at once when there is one; otherwise parks among the
  // getters and, each time it is woken, rechecks before resuming.
  class Get {
   public:
    explicit Get(BasicQueue& queue) noexcept : queue_(queue), parking_(queue.getters_) {}
    Get(Get&& other) noexcept : queue_(other.queue_), parking_(other.queue_.getters_) {}
    bool await_ready() const noexcept { return !queue_.empty(); }
    void await_suspend(std::coroutine_handle<> caller) {
      if (queue_.shut_down_) throw QueueShutDown();
      parked_ = true;
      parking_.recheck_with(&Get::item_or_shut_down, &queue_);
      parking_.await_suspend(caller);
    }
    T await_resume() {
      if (parked_) {
        try {
          parking_.await_resume();
        } catch (...) {
          // Woken, then cancelled: the item it was woken for goes to the next one
          // (unless the queue is gone: then it must not be touched).
          if (parking_.woken() && !queue_.empty()) queue_.getters_.wake(1);
          throw;
        }
      }
      return queue_.get_nowait();  // QueueShutDown if shut down and empty
    }

   private:
    static bool item_or_shut_down(void* queue) {
      auto* self = static_cast<BasicQueue*>(queue);
      return !self->empty() || self->shut_down_;
    }
    BasicQueue& queue_;
    internal::Parking parking_;
    bool parked_ = false;
  };

  // join(): parks among the joiners until the unfinished count reaches zero.
  class Join {
   public:
    explicit Join(BasicQueue& queue) noexcept : queue_(queue), parking_(queue.joiners_) {}
    Join(Join&& other) noexcept : queue_(other.queue_), parking_(other.queue_.joiners_) {}
    bool await_ready() const noexcept { return queue_.unfinished_tasks_ == 0; }
    void await_suspend(std::coroutine_handle<> caller) {
      parked_ = true;
      parking_.await_suspend(caller);
    }
    void await_resume() {
      if (parked_) parking_.await_resume();
    }

   private:
    BasicQueue& queue_;
    internal::Parking parking_;
    bool parked_ = false;
  };

  void wake_all_joiners() noexcept { joiners_.wake(joiners_.size()); }

  std::size_t maxsize_;
  Items items_;
  internal::WaitList getters_{"Queue", "Queue.get"};
  internal::WaitList putters_{"Queue", "Queue.put"};
  internal::WaitList joiners_{"Queue", "Queue.join"};
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
