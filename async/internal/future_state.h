// The untyped core of Future and Task: status, stored exception, and the list of
// waiters to wake when the result arrives. Typed values live in FutureState<T>
// and TaskState<T>.
//
// Waking waiters follows asyncio rule 4: completion never runs a waiter's code
// inline, it only schedules (a task step or a call_soon callback). Waiters are
// intrusive nodes owned by whoever waits (an awaiter inside a coroutine frame, or
// a heap callback), so registering one allocates nothing, and a waiter that goes
// away first unlinks itself.
//
// Rule numbers cited here are those of docs/design/asyncio_rules.md.
#ifndef AIO_ASYNC_INTERNAL_FUTURE_STATE_H_
#define AIO_ASYNC_INTERNAL_FUTURE_STATE_H_

#include <cstdint>
#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "async/errors.h"
#include "async/internal/exceptions.h"
#include "async/internal/ref.h"
#include "async/loop.h"

namespace aio::internal {

struct FutureWaiter {
  // Called once when the future completes, after this node was unlinked. It must
  // only schedule work (rule 4), never run user code.
  void (*on_done)(FutureWaiter*) = nullptr;
  // For heap-allocated waiters (done callbacks): frees the node when the future
  // is destroyed before completing. Null for waiters owned by someone else.
  void (*dispose)(FutureWaiter*) = nullptr;
  FutureWaiter* previous = nullptr;
  FutureWaiter* next = nullptr;
  bool linked = false;
};

class FutureStateBase : public RefCounted {
 public:
  enum class Status : std::uint8_t { kPending, kFinished, kCancelled };

  explicit FutureStateBase(EventLoop& loop);

  EventLoop& loop() const noexcept { return *loop_; }
  // Null when the loop no longer exists.
  EventLoop* loop_if_alive() const noexcept { return anchor_->loop; }
  Status status() const noexcept { return status_; }
  bool done() const noexcept { return status_ != Status::kPending; }
  bool cancelled() const noexcept { return status_ == Status::kCancelled; }

  // Future::cancel; TaskBase overrides it with asyncio's Task.cancel.
  virtual bool cancel(std::string message);
  // "Future" or "Task 'name'", for reports.
  virtual std::string describe() const { return "Future"; }
  // For aio::capture_call_graph (cold): what a task awaiting this waits on
  // ("Future", "gather", "shield", "TaskGroup"; "Task" for a task), and the
  // futures this one is waiting for in turn (gather's children, shield's inner).
  virtual const char* call_graph_kind() const noexcept { return "Future"; }
  virtual void awaited_futures(std::vector<const FutureStateBase*>& out) const { (void)out; }

  void add_waiter(FutureWaiter* waiter) noexcept;
  void remove_waiter(FutureWaiter* waiter) noexcept;

  // What result() must throw, or null when it may return the value: the stored
  // exception (marked as retrieved), the CancelledError of a cancelled future, or
  // InvalidStateError while pending.
  std::exception_ptr error_for_result();
  // The stored exception without marking it retrieved (null if none).
  const std::exception_ptr& error_for_result_peek() const noexcept { return exception_; }
  // exception(): null on success, the exception otherwise; CancelledError is
  // thrown (asyncio: exception() of a cancelled future raises CancelledError).
  std::exception_ptr exception();

  // Throws InvalidStateError when already done.
  void set_exception(std::exception_ptr error);

 protected:
  ~FutureStateBase() override;
  // Reports "... exception was never retrieved" if so. Derived destructors call
  // it first, while describe() still sees their name.
  void report_if_unretrieved() noexcept;
  void throw_if_done(const char* operation) const;
  // Marks the state finished or cancelled and wakes the waiters.
  void finish();
  void finish_cancelled(std::exception_ptr cancelled_error);

  std::exception_ptr exception_;

 private:
  void wake_waiters() noexcept;

  EventLoop* loop_;
  Ref<LoopAnchor> anchor_;
  Status status_ = Status::kPending;
  bool exception_retrieved_ = false;
  FutureWaiter* first_waiter_ = nullptr;
  FutureWaiter* last_waiter_ = nullptr;
};

// A done callback: a heap node that schedules `callback(handle)` with call_soon.
template <class Handle>
class DoneCallback final : private FutureWaiter {
 public:
  // `to_handle` makes the handle again from the state when the future
  // completes: the node cannot hold a handle, which would keep the state alive.
  static void add(FutureStateBase& state, Handle handle, std::function<void(Handle)> callback,
                  Handle (*to_handle)(FutureStateBase*)) {
    if (state.done()) {
      state.loop().call_soon([handle, callback = std::move(callback)] { callback(handle); });
      return;
    }
    auto* node = new DoneCallback(std::move(callback));
    node->on_done = &DoneCallback::run;
    node->dispose = &DoneCallback::free;
    node->state_ = &state;
    node->to_handle_ = to_handle;
    state.add_waiter(node);
  }

 private:
  explicit DoneCallback(std::function<void(Handle)> callback) : callback_(std::move(callback)) {}
  static void run(FutureWaiter* waiter) noexcept {
    auto* self = static_cast<DoneCallback*>(waiter);
    FutureStateBase& state = *self->state_;
    Handle handle = self->to_handle_(&state);
    // The loop was alive when the future completed (it is completing now).
    try {
      state.loop().call_soon([handle, callback = std::move(self->callback_)] { callback(handle); });
    } catch (...) {
      // The loop is closed: asyncio drops such callbacks too.
    }
    delete self;
  }
  static void free(FutureWaiter* waiter) noexcept { delete static_cast<DoneCallback*>(waiter); }

  std::function<void(Handle)> callback_;
  FutureStateBase* state_ = nullptr;
  Handle (*to_handle_)(FutureStateBase*) = nullptr;
};


// Where a typed result is stored. For move-only types the value can be taken
// only once; later reads throw InvalidStateError.
template <class T>
class ResultSlot {
 public:
  template <class U>
  void emplace(U&& value) {
    value_.emplace(std::forward<U>(value));
  }
  T get() {
    if constexpr (std::is_copy_constructible_v<T>) {
      return *value_;
    } else {
      if (!value_) throw InvalidStateError("the result of this move-only type was already taken");
      T result = std::move(*value_);
      value_.reset();
      return result;
    }
  }
  const T& peek() const {
    if (!value_) throw InvalidStateError("the result of this move-only type was already taken");
    return *value_;
  }

 private:
  std::optional<T> value_;
};

template <>
class ResultSlot<void> {
 public:
  void get() {}
  void peek() const {}
};

}  // namespace aio::internal

#endif  // AIO_ASYNC_INTERNAL_FUTURE_STATE_H_
