// internal::LoopAccess: the one door to EventLoop's private machinery, for
// aio's own awaiters, tasks, transports and tools (abseil's access-class
// pattern). Users never need it: what they may call is EventLoop's public
// section. It is the //async:loop_internal target, visible inside aio only, so
// a dependency on it is a visible statement that code works below the public
// API.
//
// Everything here runs on the loop's thread, except what Mailbox says.
#ifndef AIO_ASYNC_INTERNAL_LOOP_ACCESS_H_
#define AIO_ASYNC_INTERNAL_LOOP_ACCESS_H_

#include <cstdint>
#include <memory>

#include "async/internal/loop_task.h"
#include "async/internal/ready_queue.h"
#include "async/internal/ref.h"
#include "async/internal/timer_heap.h"
#include "async/loop.h"

namespace aio::internal {

class LoopAccess {
 public:
  // --- the run queue and timers (every leaf awaiter) ------------------------
  static void schedule(EventLoop& loop, ReadyNode* node) noexcept { loop.ready_.push_back(node); }
  static void add_timer(EventLoop& loop, TimerNode* node) { loop.timers_.push(node); }
  static void remove_timer(EventLoop& loop, TimerNode* node) noexcept {
    if (node->in_heap()) loop.timers_.remove(node);
  }
  // Throws RuntimeError("Event loop is closed") once the loop is closed.
  static void throw_if_closed(const EventLoop& loop) { loop.throw_if_closed(); }

  // --- tasks (internal/task_base.h) -----------------------------------------
  // The task whose step is running, or null between steps.
  static LoopTask* current_task(const EventLoop& loop) noexcept { return loop.current_task_; }
  static void set_current_task(EventLoop& loop, LoopTask* task) noexcept { loop.current_task_ = task; }
  // The loop holds a reference to each pending task until it finishes.
  static void register_task(EventLoop& loop, LoopTask* task) noexcept { loop.register_task(task); }
  static void unregister_task(EventLoop& loop, LoopTask* task) noexcept { loop.unregister_task(task); }
  // Task-N numbering, unique in the process (see loop.cc).
  static std::uint64_t next_task_number() noexcept { return EventLoop::next_task_number(); }
  static AnyTask any_task(LoopTask* task) noexcept { return AnyTask(task); }
  static LoopTask* task_of(const AnyTask& task) noexcept { return task.task_; }
  static Ref<LoopAnchor> anchor(const EventLoop& loop) { return loop.anchor_; }

  // --- other threads (async/executor.h) -------------------------------------
  static const std::shared_ptr<Mailbox>& mailbox(const EventLoop& loop) noexcept { return loop.mailbox_; }
  static std::uint64_t hold(EventLoop& loop, Ref<RefCounted> state) { return loop.hold(std::move(state)); }
  static Ref<RefCounted> take_held(EventLoop& loop, std::uint64_t id) { return loop.take_held(id); }
  static RefCounted* find_held(const EventLoop& loop, std::uint64_t id) { return loop.find_held(id); }

  // --- file descriptors (net/, subprocess/: transports, pidfds) -------------
  static void watch_io(EventLoop& loop, int fd, IoWatcher* watcher, std::uint32_t events, bool registered) {
    loop.watch_io(fd, watcher, events, registered);
  }
  static void unwatch_io(EventLoop& loop, int fd) noexcept { loop.unwatch_io(fd); }
  static void track_resource(EventLoop& loop, LoopResource* resource) noexcept { loop.track_resource(resource); }
  static void untrack_resource(EventLoop& loop, LoopResource* resource) noexcept {
    loop.untrack_resource(resource);
  }

  // --- another event system on the same thread (async/asio.h) --------------
  static ExternalPoller* external_poller(const EventLoop& loop) noexcept { return loop.external_poller(); }
  static void set_external_poller(EventLoop& loop, std::unique_ptr<ExternalPoller> poller) {
    loop.set_external_poller(std::move(poller));
  }
  static int epoll_descriptor(const EventLoop& loop) noexcept { return loop.epoll_fd_; }
};

}  // namespace aio::internal

#endif  // AIO_ASYNC_INTERNAL_LOOP_ACCESS_H_
