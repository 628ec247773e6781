// WaitForIo: suspends the current task until a file descriptor is ready, with
// no callback object and no coroutine frame (the awaiter lives in the awaiting
// frame). Used where a coroutine waits on a socket of its own: connect(), the
// awaitable datagram socket. The descriptor must not be watched otherwise
// while it waits (it is added to epoll for the wait and removed after).
//
// Cancelling the task ends the wait with CancelledError; the descriptor is then
// unwatched and left to its owner (who closes it or keeps it, as documented).
#ifndef AIO_NET_INTERNAL_FD_WAIT_H_
#define AIO_NET_INTERNAL_FD_WAIT_H_

#include <sys/epoll.h>

#include <coroutine>
#include <cstdint>
#include <string>

#include "async/errors.h"
#include "async/future.h"
#include "async/loop.h"
#include "async/internal/loop_access.h"

namespace aio::internal {

class WaitForIo final : private IoWatcher, private Cancellable {
 public:
  WaitForIo(int fd, std::uint32_t events) noexcept : fd_(fd), events_(events) {}
  WaitForIo(const WaitForIo&) = delete;
  WaitForIo& operator=(const WaitForIo&) = delete;
  ~WaitForIo() { unwatch(); }

  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> resume_point) {
    task_ = &current_task_or_throw("waiting on a socket");
    loop_ = &task_->loop();
    internal::LoopAccess::watch_io(*loop_, fd_, this, events_, /*registered=*/false);
    watching_ = true;
    task_->suspend(resume_point, this);
  }
  // The epoll events that ended the wait.
  std::uint32_t await_resume() {
    if (cancelled_) throw CancelledError(task_->cancel_message());
    task_->throw_if_cancel_requested();
    return ready_events_;
  }

 private:
  void unwatch() noexcept {
    if (watching_) internal::LoopAccess::unwatch_io(*loop_, fd_);
    watching_ = false;
  }
  void on_io(std::uint32_t events) override {
    if (!watching_) return;  // cancelled earlier in this poll
    unwatch();
    ready_events_ = events;
    task_->wake();
  }
  Description describe_wait() const noexcept override {
    return {(events_ & EPOLLOUT) != 0 ? "socket write" : "socket read", nullptr};
  }
  bool cancel_wait(const std::string& message) override {
    if (!watching_) return false;  // already woken
    unwatch();
    cancelled_ = true;
    task_->set_cancel_message(message);
    task_->wake();
    return true;
  }

  int fd_;
  std::uint32_t events_;
  std::uint32_t ready_events_ = 0;
  EventLoop* loop_ = nullptr;
  TaskBase* task_ = nullptr;
  bool watching_ = false;
  bool cancelled_ = false;
};

}  // namespace aio::internal

#endif  // AIO_NET_INTERNAL_FD_WAIT_H_
