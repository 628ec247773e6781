// aio::Event: asyncio.Event. set() wakes every task waiting now, and later
// wait() calls return at once until clear(). A clear() right after set() does
// not take the wake-up back from tasks already notified. Not thread-safe.
#ifndef AIO_SYNC_EVENT_H_
#define AIO_SYNC_EVENT_H_

#include <optional>

#include "async/coro.h"
#include "sync/internal/wait_list.h"

namespace aio {

class Event {
 public:
  Event() = default;
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;

  bool is_set() const noexcept { return set_; }
  // Sets the flag and wakes every waiter.
  void set() noexcept {
    if (set_) return;
    set_ = true;
    waiters_.wake(waiters_.size());
  }
  void clear() noexcept { set_ = false; }

  // Awaitable: returns at once if the flag is set, otherwise when set() is
  // called. Throws CancelledError if cancelled while waiting.
  auto wait() { return Wait(*this); }

 private:
  Coro<void> wait_slowly() {
    internal::Parking parking(waiters_);
    co_await parking;
  }

  class Wait {
   public:
    explicit Wait(Event& event) noexcept : event_(event) {}
    bool await_ready() {
      if (event_.set_) return true;
      slow_.emplace(event_.wait_slowly().operator co_await());
      return false;
    }
    bool await_suspend(std::coroutine_handle<> caller) { return slow_->await_suspend(caller); }
    bool await_resume() {
      if (slow_) slow_->await_resume();
      return true;
    }

   private:
    Event& event_;
    std::optional<Coro<void>::Awaiter> slow_;
  };

  bool set_ = false;
  internal::WaitList waiters_;
};

}  // namespace aio

#endif  // AIO_SYNC_EVENT_H_
