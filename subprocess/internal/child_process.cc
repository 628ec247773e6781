// Watching and reaping one child on the loop; see child_process.h.
#include "subprocess/internal/child_process.h"
#include "async/internal/loop_access.h"

#include <signal.h>
#include <sys/epoll.h>
#include <sys/wait.h>

#include <cerrno>
#include <string>
#include <system_error>
#include <utility>

#include "subprocess/internal/pidfd.h"
#include "subprocess/internal/reaper.h"
#include "subprocess/internal/spawn.h"

namespace aio::internal {
namespace {

// What asyncio reports for a child someone else reaped (its
// ThreadedChildWatcher says "Unknown child process pid %d, will report
// returncode 255").
constexpr int kUnknownReturncode = 255;

}  // namespace

ChildProcess::ChildProcess(EventLoop& loop, pid_t pid, FileDescriptor pidfd, int open_pipes)
    : loop_(&loop), anchor_(internal::LoopAccess::anchor(loop)), pid_(pid), pidfd_(std::move(pidfd)), open_pipes_(open_pipes) {}

ChildProcess::~ChildProcess() { orphan(/*kill=*/false); }

void ChildProcess::start_watching() {
  if (!pidfd_) {
    try_reap();  // reaped behind our back before spawn could open a pidfd
    return;
  }
  internal::LoopAccess::watch_io(*loop_, pidfd_.get(), this, EPOLLIN, /*registered=*/false);
  // The exit comes in real time: a test loop must not jump its clock past it.
  internal::LoopAccess::hold_real_time(*loop_);
  watching_ = true;
}

bool ChildProcess::loop_open() const noexcept { return anchor_->loop != nullptr && !anchor_->loop->is_closed(); }

void ChildProcess::stop_watching() noexcept {
  // A closed loop has closed its epoll descriptor (its number may be reused
  // by now): nothing to remove.
  if (watching_ && loop_open()) {
    internal::LoopAccess::unwatch_io(*loop_, pidfd_.get());
    internal::LoopAccess::release_real_time(*loop_);
  }
  watching_ = false;
}

void ChildProcess::on_io(std::uint32_t) {
  // Readable means exited; a wake-up without an exit (none is known) would
  // simply keep the watch.
  try_reap();
}

bool ChildProcess::try_reap() noexcept {
  if (returncode_) return true;
  siginfo_t info{};
  int result = -1;
  int error = ESRCH;  // no pidfd: spawn found the child reaped already
  if (pidfd_) {
    do {
      result = ::waitid(P_PIDFD, static_cast<id_t>(pidfd_.get()), &info, WEXITED | WNOHANG);
    } while (result < 0 && errno == EINTR);
    error = errno;
  }
  if (result == 0 && info.si_pid == 0) return false;  // still running
  if (result == 0) {
    returncode_ = returncode_from(info.si_code, info.si_status);
  } else {
    // ECHILD (or ESRCH): the application reaped it behind our back (SIGCHLD
    // set to SIG_IGN, or a waitpid(-1) somewhere). The status is lost.
    returncode_ = kUnknownReturncode;
    if (loop_open()) {
      try {
        loop_->call_exception_handler(
            {.message = "Unknown child process pid " + std::to_string(pid_) +
                        " (reaped elsewhere), will report returncode 255",
             .exception = std::make_exception_ptr(std::system_error(error, std::system_category(), "waitid"))});
      } catch (...) {
        // A handler that throws cannot stop the bookkeeping below.
      }
    }
  }
  stop_watching();
  pidfd_.reset();
  finish_if_done();
  return true;
}

void ChildProcess::pipe_closed() noexcept {
  --open_pipes_;
  finish_if_done();
}

void ChildProcess::finish_if_done() noexcept {
  // Event::set only schedules the waiting tasks, so this is safe from the
  // loop's poll.
  if (returncode_ && open_pipes_ <= 0) finished_.set();
}

void ChildProcess::send_signal(int signal) {
  if (returncode_ || !pidfd_) return;
  if (pidfd_send_signal(pidfd_.get(), signal, nullptr, 0) == 0) return;
  // ESRCH: it exited and was reaped (not by us: a foreign reaper), nothing to signal.
  if (errno == ESRCH) return;
  throw os_error(errno, "send_signal " + std::to_string(signal) + " to process " + std::to_string(pid_));
}

void ChildProcess::orphan(bool kill) noexcept {
  stop_watching();
  if (!pidfd_ || try_reap()) return;
  if (kill) pidfd_send_signal(pidfd_.get(), SIGKILL, nullptr, 0);
  reap_when_exited(std::move(pidfd_));
}

}  // namespace aio::internal
