// aio::Barrier: asyncio.Barrier, a meeting point for `parties` tasks.
//
//   aio::Barrier barrier(3);
//   ...                                            // in each of three tasks:
//   std::size_t index = co_await barrier.wait();   // 0, 1 or 2, once all three arrive
//
// wait() blocks until `parties` tasks wait, then releases them all (the barrier
// drains) and gives each a distinct index. Tasks that arrive while it drains
// wait for the next cycle; the barrier is reusable. Cancelling a waiter while
// the barrier fills lowers n_waiting(). reset() makes the current waiters raise
// BrokenBarrierError and returns the barrier to filling (not broken); abort()
// breaks it for good: every current and future wait() raises
// BrokenBarrierError. The same algorithm as asyncio's, on aio::Condition.
#ifndef AIO_SYNC_BARRIER_H_
#define AIO_SYNC_BARRIER_H_

#include <cstddef>
#include <stdexcept>
#include <memory>
#include <string>

#include "async/coro.h"
#include "async/errors.h"
#include "sync/condition.h"

namespace aio {

// The barrier was aborted, or reset while this task waited.
class BrokenBarrierError : public Error {
 public:
  using Error::Error;
};

class Barrier {
 public:
  // Throws aio::ValueError if parties < 1.
  explicit Barrier(long parties) : parties_(parties) {
    if (parties < 1) throw ValueError("Barrier: parties must be > 0, got " + std::to_string(parties));
  }
  Barrier(const Barrier&) = delete;
  Barrier& operator=(const Barrier&) = delete;
  // A task still waiting (then cancelled) must not touch a destroyed barrier.
  ~Barrier() { *alive_ = false; }

  // Waits for the other parties; returns this task's index (0 .. parties-1).
  // Throws BrokenBarrierError if the barrier is or gets broken or reset.
  Coro<std::size_t> wait() {
    std::shared_ptr<bool> alive = alive_;
    LockGuard held = co_await condition_.scoped_acquire();
    std::exception_ptr error;
    try {
      co_await block();  // while the barrier drains or resets
    } catch (...) {
      error = std::current_exception();
    }
    if (!*alive) held.dismiss();  // destroyed while this task waited: touch nothing
    if (error) std::rethrow_exception(error);
    const std::size_t index = count_++;
    try {
      if (static_cast<long>(index) + 1 == parties_) {
        release_all();
      } else {
        co_await wait_for_release();
      }
    } catch (...) {
      error = std::current_exception();
    }
    if (!*alive) {
      held.dismiss();
      std::rethrow_exception(error);
    }
    --count_;
    exit();
    if (error) std::rethrow_exception(error);
    co_return index;
  }

  // Waiters raise BrokenBarrierError; the barrier goes back to filling.
  Coro<void> reset() {
    LockGuard held = co_await condition_.scoped_acquire();
    if (count_ > 0) {
      state_ = State::kResetting;
    } else {
      state_ = State::kFilling;
    }
    condition_.notify_all();
  }

  // Breaks the barrier for good.
  Coro<void> abort() {
    LockGuard held = co_await condition_.scoped_acquire();
    state_ = State::kBroken;
    condition_.notify_all();
  }

  long parties() const noexcept { return parties_; }
  // Tasks waiting in the filling phase.
  std::size_t n_waiting() const noexcept { return state_ == State::kFilling ? count_ : 0; }
  bool broken() const noexcept { return state_ == State::kBroken; }

 private:
  enum class State { kFilling, kDraining, kResetting, kBroken };

  Coro<void> block() {
    co_await condition_.wait_for([this] { return state_ != State::kDraining && state_ != State::kResetting; });
    if (state_ == State::kBroken) throw BrokenBarrierError("Barrier aborted");
  }
  void release_all() {
    state_ = State::kDraining;
    condition_.notify_all();
  }
  Coro<void> wait_for_release() {
    co_await condition_.wait_for([this] { return state_ != State::kFilling; });
    if (state_ == State::kBroken || state_ == State::kResetting) {
      throw BrokenBarrierError("Abort or reset of barrier");
    }
  }
  void exit() {
    if (count_ == 0) {
      if (state_ == State::kResetting || state_ == State::kDraining) state_ = State::kFilling;
      condition_.notify_all();
    }
  }

  Condition condition_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  long parties_;
  std::size_t count_ = 0;
  State state_ = State::kFilling;
};

}  // namespace aio

#endif  // AIO_SYNC_BARRIER_H_
