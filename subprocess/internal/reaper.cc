// One helper thread waiting on adopted pidfds; see reaper.h.
#include "subprocess/internal/reaper.h"

#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/wait.h>

#include <cerrno>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "subprocess/internal/pidfd.h"

namespace aio::internal {
namespace {

// Reaps the child behind `pidfd` if it has exited. True when it is gone: reaped
// now, or reaped by someone else already (ECHILD), so there is nothing to wait for.
bool reap_if_exited(int pidfd) noexcept {
  siginfo_t info{};
  int result;
  do {
    result = ::waitid(P_PIDFD, static_cast<id_t>(pidfd), &info, WEXITED | WNOHANG);
  } while (result < 0 && errno == EINTR);
  return result < 0 || info.si_pid != 0;
}

class Reaper {
 public:
  // Never destroyed: the thread may still wait in epoll_wait while the
  // program's static destructors run.
  static Reaper& instance() {
    static Reaper* reaper = new Reaper();
    return *reaper;
  }

  void adopt(FileDescriptor pidfd) noexcept {
    if (reap_if_exited(pidfd.get())) return;
    {
      std::lock_guard lock(mutex_);
      if (start_locked()) {
        epoll_event event{};
        event.events = EPOLLIN;
        event.data.fd = pidfd.get();
        if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, pidfd.get(), &event) == 0) {
          ++pending_;
          pidfd.release();  // the thread closes it
          return;
        }
      }
    }
    // Last resort (see reaper.h): better a short wait here than a zombie.
    pidfd_send_signal(pidfd.get(), SIGKILL, nullptr, 0);
    siginfo_t info{};
    while (::waitid(P_PIDFD, static_cast<id_t>(pidfd.get()), &info, WEXITED) < 0 && errno == EINTR) {
    }
  }

  void start() {
    std::lock_guard lock(mutex_);
    start_locked();
  }

  void wait_until_idle() {
    std::unique_lock lock(mutex_);
    idle_.wait(lock, [this] { return pending_ == 0; });
  }

  std::size_t pending() {
    std::lock_guard lock(mutex_);
    return pending_;
  }

 private:
  Reaper() = default;

  bool start_locked() noexcept {
    if (started_) return true;
    epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd_ < 0) return false;
    // The thread inherits the creating thread's signal mask: block everything
    // around its creation.
    sigset_t all;
    sigset_t previous;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &previous);
    try {
      std::thread([this] { run(); }).detach();
      started_ = true;
    } catch (...) {
      ::close(epoll_fd_);
      epoll_fd_ = -1;
    }
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    return started_;
  }

  void run() {
    constexpr int kEventsPerWait = 32;
    epoll_event events[kEventsPerWait];
    for (;;) {
      int count = epoll_wait(epoll_fd_, events, kEventsPerWait, -1);
      if (count < 0) continue;  // EINTR; nothing else can fail on a valid epoll descriptor
      std::size_t reaped = 0;
      for (int i = 0; i < count; ++i) {
        int pidfd = events[i].data.fd;
        if (!reap_if_exited(pidfd)) continue;
        epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, pidfd, nullptr);
        ::close(pidfd);
        ++reaped;
      }
      if (reaped == 0) continue;
      std::lock_guard lock(mutex_);
      pending_ -= reaped;
      if (pending_ == 0) idle_.notify_all();
    }
  }

  std::mutex mutex_;
  std::condition_variable idle_;
  std::size_t pending_ = 0;
  bool started_ = false;
  int epoll_fd_ = -1;
};

}  // namespace

void reap_when_exited(FileDescriptor pidfd) noexcept { Reaper::instance().adopt(std::move(pidfd)); }

void start_reaper() { Reaper::instance().start(); }

void wait_until_orphans_reaped() { Reaper::instance().wait_until_idle(); }

std::size_t orphan_count() { return Reaper::instance().pending(); }

}  // namespace aio::internal
