// The loop's timers: a binary min-heap ordered by (deadline, sequence). Each node
// remembers its index so that cancelling a timer removes it at once in
// O(log n); a cancelled sleep leaves nothing behind in the heap, and a node can
// live inside the awaiter that owns it (no allocation per sleep). The sequence
// number makes timers with equal deadlines fire in the order they were set.
#ifndef AIO_ASYNC_INTERNAL_TIMER_HEAP_H_
#define AIO_ASYNC_INTERNAL_TIMER_HEAP_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace aio::internal {

struct TimerNode {
  static constexpr std::size_t kNotInHeap = static_cast<std::size_t>(-1);
  std::chrono::steady_clock::time_point deadline;
  std::uint64_t sequence = 0;
  std::size_t heap_index = kNotInHeap;
  void (*fire)(TimerNode*) = nullptr;

  bool in_heap() const noexcept { return heap_index != kNotInHeap; }
};

class TimerHeap {
 public:
  bool empty() const noexcept { return nodes_.empty(); }
  std::size_t size() const noexcept { return nodes_.size(); }
  TimerNode* top() const noexcept { return nodes_.front(); }

  void push(TimerNode* node) {
    node->sequence = next_sequence_++;
    node->heap_index = nodes_.size();
    nodes_.push_back(node);
    sift_up(node->heap_index);
  }

  void remove(TimerNode* node) noexcept {
    std::size_t index = node->heap_index;
    std::size_t last = nodes_.size() - 1;
    if (index != last) {
      place(index, nodes_[last]);
      nodes_.pop_back();
      sift_down(index);
      sift_up(index);
    } else {
      nodes_.pop_back();
    }
    node->heap_index = TimerNode::kNotInHeap;
  }

  TimerNode* pop() noexcept {
    TimerNode* node = nodes_.front();
    remove(node);
    return node;
  }

 private:
  static bool earlier(const TimerNode* a, const TimerNode* b) noexcept {
    return a->deadline != b->deadline ? a->deadline < b->deadline : a->sequence < b->sequence;
  }
  void place(std::size_t index, TimerNode* node) noexcept {
    nodes_[index] = node;
    node->heap_index = index;
  }
  void sift_up(std::size_t index) noexcept {
    TimerNode* node = nodes_[index];
    while (index > 0) {
      std::size_t parent = (index - 1) / 2;
      if (!earlier(node, nodes_[parent])) break;
      place(index, nodes_[parent]);
      index = parent;
    }
    place(index, node);
  }
  void sift_down(std::size_t index) noexcept {
    TimerNode* node = nodes_[index];
    const std::size_t count = nodes_.size();
    for (;;) {
      std::size_t child = 2 * index + 1;
      if (child >= count) break;
      if (child + 1 < count && earlier(nodes_[child + 1], nodes_[child])) ++child;
      if (!earlier(nodes_[child], node)) break;
      place(index, nodes_[child]);
      index = child;
    }
    place(index, node);
  }

  std::vector<TimerNode*> nodes_;
  std::uint64_t next_sequence_ = 0;
};

}  // namespace aio::internal

#endif  // AIO_ASYNC_INTERNAL_TIMER_HEAP_H_
