// WaitList's slow path, out of line: a primitive destroyed while tasks wait on
// it (see wait_list.h). Kept out of the header so that the destructor every
// primitive inlines is one comparison.
#include "sync/internal/wait_list.h"

#include <string>

#include "async/loop.h"

namespace aio::internal {

void WaitList::orphan_waiters() noexcept {
  std::size_t waiting = 0;
  EventLoop* loop = nullptr;
  for (Parking* node = first_; node != nullptr; node = node->next_) {
    node->linked_ = false;
    node->list_ = nullptr;
    node->orphaned_by_ = owner_;
    if (node->state_ == Parking::State::kWaiting) ++waiting;
    if (loop == nullptr && node->task_ != nullptr) loop = node->task_->loop_if_alive();
  }
  if (waiting > 0 && loop != nullptr && loop->get_debug() && !loop->is_closed()) {
    loop->call_exception_handler(
        {.message = std::string(owner_) + " destroyed while " + std::to_string(waiting) +
                    (waiting == 1 ? " task waits on it" : " tasks wait on it")});
  }
}

}  // namespace aio::internal
