// aio::Condition: asyncio.Condition, a condition variable over an aio::Lock.
//
//   {
//     aio::LockGuard held = co_await condition.scoped_acquire();
//     co_await condition.wait_for([&] { return !items.empty(); });
//     ...
//   }
//
// wait() requires the lock, releases it while waiting, and re-acquires it before
// returning, even when cancelled (it retries the acquire). A waiter that fails or
// is cancelled after being notified passes the notification on. notify(n) and
// notify_all() require the lock and wake waiters in FIFO order. Spurious
// wake-ups are allowed: use wait_for(predicate). Not thread-safe.
#ifndef AIO_SYNC_CONDITION_H_
#define AIO_SYNC_CONDITION_H_

#include <cstddef>
#include <memory>
#include <exception>
#include <stdexcept>
#include <utility>

#include "async/coro.h"
#include "sync/internal/wait_list.h"
#include "sync/lock.h"

namespace aio {

class Condition {
 public:
  // A condition with its own lock.
  Condition() : own_lock_(std::make_unique<Lock>()), lock_(own_lock_.get()) {}
  // A condition over `lock`, which must outlive it.
  explicit Condition(Lock& lock) : lock_(&lock) {}
  Condition(const Condition&) = delete;
  Condition& operator=(const Condition&) = delete;

  // The lock's operations.
  auto acquire() { return lock_->acquire(); }
  auto scoped_acquire() { return lock_->scoped_acquire(); }
  void release() { lock_->release(); }
  bool locked() const noexcept { return lock_->locked(); }

  // Waits for a notification and gives true (as asyncio's wait()); see the file
  // comment. Throws aio::RuntimeError if the lock is not held.
  Coro<bool> wait() {
    if (!lock_->locked()) throw RuntimeError("Condition::wait: cannot wait on un-acquired lock");
    lock_->release();
    std::exception_ptr error;
    {
      internal::Parking parking(waiters_);
      try {
        co_await parking;
      } catch (...) {
        if (parking.orphaned()) throw;  // the condition is gone: touch nothing
        error = std::current_exception();
        // Notified, then cancelled: the notification goes to someone else.
        if (parking.woken()) waiters_.wake(1);
      }
    }
    // Must re-acquire the lock even if cancelled; keep the latest cancellation.
    for (;;) {
      try {
        co_await lock_->acquire();
        break;
      } catch (const CancelledError&) {
        error = std::current_exception();
      }
    }
    if (error) std::rethrow_exception(error);
    co_return true;
  }

  // Waits until predicate() is true (checked first, then after each wake-up)
  // and returns its last value. The lock must be held.
  template <class Predicate>
  Coro<bool> wait_for(Predicate predicate) {
    bool result = predicate();
    while (!result) {
      co_await wait();
      result = predicate();
    }
    co_return result;
  }

  // Wakes up to `n` waiters. Throws aio::RuntimeError if the lock is not held.
  void notify(std::size_t n = 1) {
    if (!lock_->locked()) throw RuntimeError("Condition::notify: cannot notify on un-acquired lock");
    waiters_.wake(n);
  }
  void notify_all() { notify(waiters_.size()); }

 private:
  std::unique_ptr<Lock> own_lock_;
  Lock* lock_;
  internal::WaitList waiters_{"Condition", "Condition.wait"};
};

}  // namespace aio

#endif  // AIO_SYNC_CONDITION_H_
