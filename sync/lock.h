// aio::Lock: asyncio.Lock, a mutual-exclusion lock for the tasks of one loop.
//
//   {
//     aio::LockGuard held = co_await lock.scoped_acquire();   // async with lock:
//     ...
//   }  // released here, also when an exception leaves the block
//
// Fair: tasks acquire in FIFO order and a newcomer cannot jump ahead of a task
// that was already woken. A waiter cancelled at the moment it is woken passes
// the wake-up on, so the lock is never stranded. Like asyncio's, the lock has
// no owner: any task may release it. Not thread-safe.
#ifndef AIO_SYNC_LOCK_H_
#define AIO_SYNC_LOCK_H_

#include <optional>
#include <stdexcept>
#include <utility>

#include "async/coro.h"
#include "async/errors.h"
#include "sync/internal/wait_list.h"

namespace aio {

class Lock;

// Holds a Lock until destroyed (or release()d earlier). Movable.
class LockGuard {
 public:
  explicit LockGuard(Lock& lock) noexcept : lock_(&lock) {}
  LockGuard(LockGuard&& other) noexcept : lock_(std::exchange(other.lock_, nullptr)) {}
  LockGuard& operator=(LockGuard&&) = delete;
  ~LockGuard();
  void release();
  // Forgets the lock without releasing it (the lock is gone, or was not
  // reacquired): for aio's own primitives built on Condition.
  void dismiss() noexcept { lock_ = nullptr; }

 private:
  Lock* lock_;
};

class Lock {
 public:
  Lock() = default;
  Lock(const Lock&) = delete;
  Lock& operator=(const Lock&) = delete;

  // Awaitable: acquires the lock, waiting in FIFO order if needed, and gives
  // true (as asyncio's acquire()). Completes without suspending when the lock
  // is free and nobody waits. Throws CancelledError if cancelled while waiting
  // (the lock is then not held).
  auto acquire() { return Acquire(*this); }
  // Awaitable: acquire(), then a LockGuard that releases it.
  auto scoped_acquire() { return ScopedAcquire(*this); }

  // Releases the lock and wakes the first waiter. Throws aio::RuntimeError("Lock
  // is not acquired.") if it is not held.
  void release() {
    if (!locked_) throw RuntimeError("Lock is not acquired.");
    locked_ = false;
    waiters_.wake_first();
  }

  bool locked() const noexcept { return locked_; }

 private:
  bool try_fast() noexcept {
    if (locked_ || !waiters_.empty()) return false;
    locked_ = true;
    return true;
  }

  // Parks in the waiters list itself (no coroutine frame): a contended lock
  // hands over at the cost of one task switch.
  class Acquire {
   public:
    explicit Acquire(Lock& lock) noexcept : lock_(lock), parking_(lock.waiters_) {}
    Acquire(Acquire&& other) noexcept : lock_(other.lock_), parking_(other.lock_.waiters_) {}
    bool await_ready() noexcept { return lock_.try_fast(); }
    void await_suspend(std::coroutine_handle<> caller) {
      parked_ = true;
      parking_.await_suspend(caller);
    }
    // True, as asyncio's acquire() returns.
    bool await_resume() {
      if (!parked_) return true;
      try {
        parking_.await_resume();
      } catch (const CancelledError&) {
        // Lock invariant: if the lock is free, the head waiter must be woken
        // (unless the lock is gone: then it must not be touched).
        if (!parking_.orphaned() && !lock_.locked_) lock_.waiters_.wake_first();
        throw;
      }
      lock_.locked_ = true;
      return true;
    }

   protected:
    Lock& lock_;
    internal::Parking parking_;
    bool parked_ = false;
  };

  class ScopedAcquire : public Acquire {
   public:
    using Acquire::Acquire;
    LockGuard await_resume() {
      Acquire::await_resume();
      return LockGuard(lock_);
    }
  };

  bool locked_ = false;
  internal::WaitList waiters_{"Lock", "Lock.acquire"};
};

inline LockGuard::~LockGuard() {
  if (lock_) lock_->release();
}
inline void LockGuard::release() {
  if (lock_) std::exchange(lock_, nullptr)->release();
}

}  // namespace aio

#endif  // AIO_SYNC_LOCK_H_
