// A waiter on a future that calls back inline when it completes. Used by the
// combinators (gather, wait, as_completed): their bookkeeping only sets other
// futures, which itself only schedules, so rule 4 (never run user code inline)
// holds. Owned by the combinator; unlinks itself when destroyed first.
//
// Rule numbers cited here are those of docs/design/asyncio_rules.md.
#ifndef AIO_ASYNC_INTERNAL_COMPLETION_NODE_H_
#define AIO_ASYNC_INTERNAL_COMPLETION_NODE_H_

#include <cstddef>

#include "async/internal/future_state.h"
#include "async/internal/ref.h"

namespace aio::internal {

class CompletionNode final : public FutureWaiter {
 public:
  using Callback = void (*)(void* owner, std::size_t index, FutureStateBase& completed);

  CompletionNode() = default;
  CompletionNode(const CompletionNode&) = delete;
  CompletionNode& operator=(const CompletionNode&) = delete;
  ~CompletionNode() { detach(); }

  // Calls callback(owner, index, future) when `future` completes (at once if done).
  void watch(FutureStateBase* future, Callback callback, void* owner, std::size_t index) {
    future_ = Ref<FutureStateBase>(future);
    callback_ = callback;
    owner_ = owner;
    index_ = index;
    on_done = &CompletionNode::fire;
    if (future->done()) {
      callback_(owner_, index_, *future_);
    } else {
      future->add_waiter(this);
    }
  }
  void detach() noexcept {
    if (future_) future_->remove_waiter(this);
  }

 private:
  static void fire(FutureWaiter* waiter) noexcept {
    auto* self = static_cast<CompletionNode*>(waiter);
    self->callback_(self->owner_, self->index_, *self->future_);
  }

  Ref<FutureStateBase> future_;
  Callback callback_ = nullptr;
  void* owner_ = nullptr;
  std::size_t index_ = 0;
};

}  // namespace aio::internal

#endif  // AIO_ASYNC_INTERNAL_COMPLETION_NODE_H_
