// aio::Semaphore and aio::BoundedSemaphore: asyncio's, for the tasks of one
// loop.
//
//   aio::Semaphore slots(10);
//   {
//     aio::SemaphoreGuard slot = co_await slots.scoped_acquire();  // async with slots:
//     ...
//   }
//
// Strict FIFO with no barging: locked() is true while the value is 0 or tasks
// wait, and acquire() then queues behind them. A waiter that was granted a
// permit and cancelled before it ran gives the permit back, so none is lost.
// release() may raise the value above its initial value (use BoundedSemaphore
// to forbid that). Not thread-safe.
#ifndef AIO_SYNC_SEMAPHORE_H_
#define AIO_SYNC_SEMAPHORE_H_

#include <coroutine>
#include <exception>
#include <stdexcept>
#include <string>
#include <utility>

#include "async/errors.h"
#include "sync/internal/wait_list.h"

namespace aio {

class Semaphore;

// Holds one permit until destroyed (or release()d earlier). Movable.
class SemaphoreGuard {
 public:
  explicit SemaphoreGuard(Semaphore& semaphore) noexcept : semaphore_(&semaphore) {}
  SemaphoreGuard(SemaphoreGuard&& other) noexcept : semaphore_(std::exchange(other.semaphore_, nullptr)) {}
  SemaphoreGuard& operator=(SemaphoreGuard&&) = delete;
  ~SemaphoreGuard();
  void release();

 private:
  Semaphore* semaphore_;
};

class Semaphore {
 public:
  // Throws aio::ValueError for a negative value.
  explicit Semaphore(long value = 1) : value_(value) {
    if (value < 0) throw ValueError("Semaphore: initial value must be >= 0, got " + std::to_string(value));
  }
  Semaphore(const Semaphore&) = delete;
  Semaphore& operator=(const Semaphore&) = delete;
  virtual ~Semaphore() = default;

  // True if acquire() would wait: no permit left, or tasks already waiting.
  bool locked() const noexcept { return value_ == 0 || waiters_.has_waiting(); }
  long value() const noexcept { return value_; }

  // Awaitable: takes a permit, waiting in FIFO order if needed.
  auto acquire() { return Acquire(*this); }
  // Awaitable: acquire(), then a guard that releases the permit.
  auto scoped_acquire() { return ScopedAcquire(*this); }

  // Returns a permit and wakes the first waiter.
  virtual void release() {
    ++value_;
    wake_up_next();
  }

 protected:
  long value_;

 private:
  bool wake_up_next() noexcept {
    if (!waiters_.has_waiting()) return false;
    --value_;  // the permit goes to the woken task
    waiters_.wake(1);
    return true;
  }

  // Parks itself in the waiters list (no coroutine frame), as Lock does.
  class Acquire {
   public:
    explicit Acquire(Semaphore& semaphore) noexcept : semaphore_(semaphore), parking_(semaphore.waiters_) {}
    Acquire(Acquire&& other) noexcept : semaphore_(other.semaphore_), parking_(other.semaphore_.waiters_) {}
    bool await_ready() noexcept {
      if (semaphore_.locked()) return false;
      --semaphore_.value_;
      return true;
    }
    void await_suspend(std::coroutine_handle<> caller) {
      parked_ = true;
      parking_.await_suspend(caller);
    }
    // True, as asyncio's acquire() returns.
    bool await_resume() {
      if (!parked_) return true;
      std::exception_ptr error;
      try {
        parking_.await_resume();
      } catch (const CancelledError&) {
        if (parking_.orphaned()) throw;  // the semaphore is gone: touch nothing
        // Granted a permit (woken) but not about to use it: give it back.
        if (parking_.woken()) ++semaphore_.value_;
        error = std::current_exception();
      }
      // New waiters may have queued behind this one: wake as many as permits allow.
      while (semaphore_.value_ > 0) {
        if (!semaphore_.wake_up_next()) break;
      }
      if (error) std::rethrow_exception(error);
      return true;
    }

   protected:
    Semaphore& semaphore_;
    internal::Parking parking_;
    bool parked_ = false;
  };

  class ScopedAcquire : public Acquire {
   public:
    using Acquire::Acquire;
    SemaphoreGuard await_resume() {
      Acquire::await_resume();
      return SemaphoreGuard(semaphore_);
    }
  };

  internal::WaitList waiters_{"Semaphore", "Semaphore.acquire"};
};

// A Semaphore whose release() refuses to go above the initial value.
class BoundedSemaphore final : public Semaphore {
 public:
  explicit BoundedSemaphore(long value = 1) : Semaphore(value), bound_(value) {}
  // Throws aio::ValueError("BoundedSemaphore released too many times").
  void release() override {
    if (value_ >= bound_) throw ValueError("BoundedSemaphore released too many times");
    Semaphore::release();
  }

 private:
  long bound_;
};

inline SemaphoreGuard::~SemaphoreGuard() {
  if (semaphore_) semaphore_->release();
}
inline void SemaphoreGuard::release() {
  if (semaphore_) std::exchange(semaphore_, nullptr)->release();
}

}  // namespace aio

#endif  // AIO_SYNC_SEMAPHORE_H_
