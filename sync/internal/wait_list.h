// The waiting room shared by aio's primitives (Lock, Semaphore, Event,
// Condition, the queues): an intrusive FIFO of parked tasks.
//
// A task parks with `co_await Parking(list)`; the node lives in the waiting
// coroutine's frame, so parking allocates nothing. wake_first() wakes the first
// node still waiting (asyncio's _wake_up_first looks at the head only, and does
// nothing if the head was already woken); a woken node stays in the list until
// its task runs, which is how "a wake-up not yet consumed" blocks newcomers from
// barging. A cancel removes the node at once and ends the wait with
// CancelledError; a cancel that arrives after the wake-up ends it with
// CancelledError too, and `woken()` tells the primitive to pass the wake-up on.
//
// A primitive destroyed while tasks wait on it (a Queue local to a coroutine
// that returned with its workers still parked) orphans its nodes: each forgets
// the list, and from then on the awaiter must not touch the primitive at all.
// A later cancel still ends the wait with CancelledError (so asyncio.run's
// final cancellation of leftover tasks stays quiet, as in Python); a wait that
// was already woken ends with RuntimeError, since what it was woken for is gone.
// In debug mode the destruction is reported: "Queue destroyed while 2 tasks wait
// on it".
#ifndef AIO_SYNC_INTERNAL_WAIT_LIST_H_
#define AIO_SYNC_INTERNAL_WAIT_LIST_H_

#include <coroutine>
#include <cstddef>
#include <string>

#include "async/errors.h"
#include "async/future.h"
#include "async/internal/task_base.h"

namespace aio::internal {

class Parking;

class WaitList {
 public:
  // `owner` names the primitive in reports ("Queue", "Lock"); `operation`
  // names the wait in call graphs ("Queue.get"; the owner if null). String
  // literals.
  explicit WaitList(const char* owner = "an aio primitive", const char* operation = nullptr) noexcept
      : owner_(owner), operation_(operation != nullptr ? operation : owner) {}
  WaitList(const WaitList&) = delete;
  WaitList& operator=(const WaitList&) = delete;
  // Forgets parked nodes still listed (their tasks are being destroyed with a
  // loop that is going away), so that their destructors do not touch this list.
  ~WaitList();

  bool empty() const noexcept { return first_ == nullptr; }
  std::size_t size() const noexcept { return size_; }
  // Wakes the head if it is still waiting. Returns whether it did.
  bool wake_first() noexcept;
  // Wakes up to `count` waiting nodes, in order, skipping ones already woken.
  std::size_t wake(std::size_t count) noexcept;
  // True if a node in the list is still waiting (not yet woken).
  bool has_waiting() const noexcept;

 private:
  friend class Parking;
  // The destructor's slow path (see the file comment), kept out of line.
  [[gnu::cold, gnu::noinline]] void orphan_waiters() noexcept;
  void push_back(Parking* node) noexcept;
  void remove(Parking* node) noexcept;

  Parking* first_ = nullptr;
  Parking* last_ = nullptr;
  std::size_t size_ = 0;
  const char* owner_;
  const char* operation_;
};

class Parking final : private Cancellable {
 public:
  explicit Parking(WaitList& list) noexcept : list_(&list) {}
  Parking(const Parking&) = delete;
  Parking& operator=(const Parking&) = delete;
  ~Parking() {
    if (linked_) list_->remove(this);
  }

  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> resume_point) {
    task_ = &current_task_or_throw("waiting on an aio primitive");
    list_->push_back(this);
    task_->suspend(resume_point, this);
  }
  // Leaves the list; throws CancelledError if the wait was cancelled (before or
  // after the wake-up), RuntimeError if the primitive was destroyed after
  // waking this waiter.
  void await_resume() {
    if (linked_) list_->remove(this);
    if (state_ == State::kCancelled) throw CancelledError(task_->cancel_message());
    if (orphaned()) [[unlikely]] throw_orphaned(orphaned_by_);
    task_->throw_if_cancel_requested();
  }

  // Whether this waiter was woken (possibly then cancelled). False once the
  // primitive is gone: there is nobody to pass the wake-up on to.
  bool woken() const noexcept { return state_ == State::kWoken && !orphaned(); }
  // The primitive was destroyed while this node waited (see the file comment):
  // after the wait, the awaiter must not touch the primitive.
  bool orphaned() const noexcept { return list_ == nullptr; }

  // Before the task resumes after a wake-up, asks `ready(owner)`; if it says no,
  // the node goes back to the end of the list and the task keeps waiting, as
  // asyncio's `while self.empty(): await getter` loop does, without a frame.
  void recheck_with(bool (*ready)(void* owner), void* owner) noexcept {
    ready_ = ready;
    owner_ = owner;
    recheck_before_resume = true;
  }

 private:
  friend class WaitList;
  enum class State { kWaiting, kWoken, kCancelled };

  // Out of line and cold: the error's text must not weigh on the inlined
  // fast path of every acquire, get and wait.
  [[noreturn, gnu::cold, gnu::noinline]] static void throw_orphaned(const char* owner) {
    throw RuntimeError(std::string(owner) + " was destroyed while a task waited on it");
  }

  Description describe_wait() const noexcept override {
    return {orphaned() ? orphaned_by_ : list_->operation_, nullptr};
  }
  bool cancel_wait(const std::string& message) override {
    if (linked_) list_->remove(this);
    state_ = State::kCancelled;
    task_->set_cancel_message(message);
    task_->wake();
    return true;
  }
  void wake() noexcept {
    state_ = State::kWoken;
    task_->wake();
  }
  bool still_ready() override {
    if (state_ != State::kWoken || orphaned() || ready_(owner_)) return true;
    if (linked_) list_->remove(this);
    state_ = State::kWaiting;
    list_->push_back(this);
    task_->wait_again(this);
    return false;
  }

  WaitList* list_;  // null once the list was destroyed (orphaned)
  const char* orphaned_by_ = nullptr;
  TaskBase* task_ = nullptr;
  Parking* previous_ = nullptr;
  Parking* next_ = nullptr;
  bool linked_ = false;
  State state_ = State::kWaiting;
  bool (*ready_)(void*) = nullptr;
  void* owner_ = nullptr;
};

inline void WaitList::push_back(Parking* node) noexcept {
  node->previous_ = last_;
  node->next_ = nullptr;
  if (last_) {
    last_->next_ = node;
  } else {
    first_ = node;
  }
  last_ = node;
  node->linked_ = true;
  ++size_;
}

inline void WaitList::remove(Parking* node) noexcept {
  if (node->previous_) {
    node->previous_->next_ = node->next_;
  } else {
    first_ = node->next_;
  }
  if (node->next_) {
    node->next_->previous_ = node->previous_;
  } else {
    last_ = node->previous_;
  }
  node->previous_ = node->next_ = nullptr;
  node->linked_ = false;
  --size_;
}

inline WaitList::~WaitList() {
  if (first_ != nullptr) [[unlikely]] orphan_waiters();
}

inline bool WaitList::wake_first() noexcept {
  if (first_ == nullptr || first_->state_ != Parking::State::kWaiting) return false;
  first_->wake();
  return true;
}

inline std::size_t WaitList::wake(std::size_t count) noexcept {
  std::size_t woken = 0;
  for (Parking* node = first_; node != nullptr && woken < count; node = node->next_) {
    if (node->state_ == Parking::State::kWaiting) {
      node->wake();
      ++woken;
    }
  }
  return woken;
}

inline bool WaitList::has_waiting() const noexcept {
  for (Parking* node = first_; node != nullptr; node = node->next_) {
    if (node->state_ == Parking::State::kWaiting) return true;
  }
  return false;
}

}  // namespace aio::internal

#endif  // AIO_SYNC_INTERNAL_WAIT_LIST_H_
