// aio::Event: asyncio.Event. set() wakes every task waiting now, and later
// wait() calls return at once until clear(). A clear() right after set() does
// not take the wake-up back from tasks already notified. Not thread-safe.
#ifndef AIO_SYNC_EVENT_H_
#define AIO_SYNC_EVENT_H_

#include <coroutine>

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
  // Parks itself in the waiters list: no coroutine frame.
  class Wait {
   public:
    explicit Wait(Event& event) noexcept : event_(event), parking_(event.waiters_) {}
    Wait(Wait&& other) noexcept : event_(other.event_), parking_(other.event_.waiters_) {}
    bool await_ready() const noexcept { return event_.set_; }
    void await_suspend(std::coroutine_handle<> caller) {
      parked_ = true;
      parking_.await_suspend(caller);
    }
    bool await_resume() {
      if (parked_) parking_.await_resume();
      return true;
    }

   private:
    Event& event_;
    internal::Parking parking_;
    bool parked_ = false;
  };

  bool set_ = false;
  internal::WaitList waiters_{"Event", "Event.wait"};
};

}  // namespace aio

#endif  // AIO_SYNC_EVENT_H_
