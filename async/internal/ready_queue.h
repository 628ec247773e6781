// The loop's run queue: an intrusive FIFO of things ready to run (task steps,
// callbacks). Intrusive so that scheduling a task allocates nothing: the node
// lives inside the task.
#ifndef AIO_ASYNC_INTERNAL_READY_QUEUE_H_
#define AIO_ASYNC_INTERNAL_READY_QUEUE_H_

#include <cstddef>

namespace aio::internal {

struct ReadyNode {
  // Runs the node's work. Set once by the owner; called by the loop after the
  // node was popped (so `run` may schedule the same node again).
  void (*run)(ReadyNode*) = nullptr;
  ReadyNode* next_ready = nullptr;
  bool queued = false;
};

class ReadyQueue {
 public:
  bool empty() const noexcept { return head_ == nullptr; }
  std::size_t size() const noexcept { return size_; }

  void push_back(ReadyNode* node) noexcept {
    node->queued = true;
    node->next_ready = nullptr;
    if (tail_) {
      tail_->next_ready = node;
    } else {
      head_ = node;
    }
    tail_ = node;
    ++size_;
  }

  ReadyNode* pop_front() noexcept {
    ReadyNode* node = head_;
    head_ = node->next_ready;
    if (!head_) tail_ = nullptr;
    node->next_ready = nullptr;
    node->queued = false;
    --size_;
    return node;
  }

 private:
  ReadyNode* head_ = nullptr;
  ReadyNode* tail_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace aio::internal

#endif  // AIO_ASYNC_INTERNAL_READY_QUEUE_H_
