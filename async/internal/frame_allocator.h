// A per-thread pool for coroutine frames and task states.
//
// Every create_task allocates a frame and a task state, and every awaited Coro a
// frame; through the general-purpose allocator that is most of the cost of a
// short task. Freed blocks go to a free list per size class (32-byte steps up to
// 1 KiB) on the freeing thread and are reused by the next allocation of that
// class, so a steady state allocates nothing. Each list is capped so that a
// burst (a million tasks) returns its memory afterwards; bigger blocks use
// ::operator new directly.
//
// Under AddressSanitizer or ThreadSanitizer the pool is bypassed: reusing blocks
// would hide use-after-free and races from them.
#ifndef AIO_ASYNC_INTERNAL_FRAME_ALLOCATOR_H_
#define AIO_ASYNC_INTERNAL_FRAME_ALLOCATOR_H_

#include <cstddef>
#include <new>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define AIO_FRAME_POOL 0
#else
#define AIO_FRAME_POOL 1
#endif

namespace aio::internal {

class FramePool {
 public:
  static constexpr std::size_t kGranularity = 32;          // little waste per frame
  static constexpr std::size_t kClasses = 32;              // up to 1 KiB
  static constexpr std::size_t kMaxBlocksPerClass = 4096;  // a few MiB per thread at most

  static void* allocate(std::size_t size) {
#if AIO_FRAME_POOL
    const std::size_t size_class = (size - 1) / kGranularity;
    if (size_class < kClasses) {
      FreeList& list = lists()[size_class];
      if (Block* block = list.head) {
        list.head = block->next;
        --list.count;
        return block;
      }
      release_at_thread_exit();
      return ::operator new((size_class + 1) * kGranularity);
    }
#endif
    return ::operator new(size);
  }

  static void deallocate(void* pointer, std::size_t size) noexcept {
#if AIO_FRAME_POOL
    const std::size_t size_class = (size - 1) / kGranularity;
    if (size_class < kClasses) {
      FreeList& list = lists()[size_class];
      if (list.count < kMaxBlocksPerClass) {
        auto* block = static_cast<Block*>(pointer);
        block->next = list.head;
        list.head = block;
        ++list.count;
        return;
      }
      ::operator delete(pointer, (size_class + 1) * kGranularity);
      return;
    }
#endif
    ::operator delete(pointer, size);
  }

 private:
  struct Block {
    Block* next;
  };
  struct FreeList {
    Block* head;
    std::size_t count;
  };

  // Trivially constructible and destructible, so every access is a plain
  // thread-local load with no initialization guard: this is the hot path.
  static FreeList* lists() noexcept {
    thread_local FreeList free_lists[kClasses];
    return free_lists;
  }

  // Frees the thread's blocks when it exits. Set up on the slow path (the first
  // allocation a list cannot serve), so the hot path never touches it.
  static void release_at_thread_exit() {
    struct Releaser {
      ~Releaser() {
        FreeList* free_lists = lists();
        for (std::size_t i = 0; i < kClasses; ++i) {
          while (Block* block = free_lists[i].head) {
            free_lists[i].head = block->next;
            ::operator delete(block, (i + 1) * kGranularity);
          }
          free_lists[i].count = 0;
        }
      }
    };
    thread_local Releaser releaser;
    (void)releaser;
  }
};

}  // namespace aio::internal

#endif  // AIO_ASYNC_INTERNAL_FRAME_ALLOCATOR_H_
