// ChildProcess: the loop's side of one child. It watches the child's pidfd
// with the loop's poll (the pidfd turns readable when the child exits), reaps
// it with waitid(P_PIDFD) and records the returncode, and tells the waiters.
//
// Why a pidfd: the exit is seen by the loop's own epoll, with no SIGCHLD
// handler (process-wide, fought over by libraries) and no thread per child; it
// is race-free, since a pidfd names one process and never a later one reusing
// its pid, so send_signal through it cannot hit a stranger; and reaping one
// pidfd never reaps anyone else's child. Kernels older than 5.4 (no pidfd_open
// or waitid(P_PIDFD)) make create_subprocess_exec throw ENOSYS; the fallback
// for them would be asyncio's ThreadedChildWatcher: a thread per child blocked
// in waitid(P_PID, pid, WEXITED | WNOWAIT), handing the exit to the loop with
// call_soon_threadsafe, the loop then reaping it (so that a kill() from the
// loop can never reach a reused pid: the pid stays a zombie until the loop
// itself reaps it). It is not built: every kernel aio supports has pidfds.
//
// wait() finishes, as in asyncio 3.12 and later, once the child has exited
// *and* every pipe to it has closed (its transport saw EOF or was closed): by
// then the output is complete and nothing of the child is left on the loop.
// returncode() is known as soon as the exit is seen.
//
// Ownership: shared by the Process handles (through their ProcessOwner) and by
// the pipes' close callbacks. When the last Process handle goes, orphan()
// stops the watch and hands a still running child to the reaper thread
// (internal/reaper.h). Loop thread only.
#ifndef AIO_SUBPROCESS_INTERNAL_CHILD_PROCESS_H_
#define AIO_SUBPROCESS_INTERNAL_CHILD_PROCESS_H_

#include <sys/types.h>

#include <cstdint>
#include <optional>

#include "async/internal/ref.h"
#include "async/loop.h"
#include "net/internal/socket.h"
#include "sync/event.h"

namespace aio::internal {

class ChildProcess final : private IoWatcher {
 public:
  // `pidfd` refers to the unreaped child `pid`; `open_pipes` is how many
  // pipe_closed() calls to expect before wait() may finish.
  ChildProcess(EventLoop& loop, pid_t pid, FileDescriptor pidfd, int open_pipes);
  // Orphans the child if nobody did (see orphan()).
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Starts watching the pidfd on the loop. Throws std::system_error if epoll
  // refuses (no memory).
  void start_watching();

  pid_t pid() const noexcept { return pid_; }
  // None until the loop has seen the exit.
  const std::optional<int>& returncode() const noexcept { return returncode_; }
  // Set once the child has exited and every pipe has closed.
  Event& finished() noexcept { return finished_; }

  // One of the pipes' transports has closed.
  void pipe_closed() noexcept;

  // Sends `signal` through the pidfd. A no-op once the child was reaped (its
  // pid may belong to another process by now) or if it exited meanwhile.
  // Throws std::system_error for an invalid signal number (EINVAL) or EPERM.
  void send_signal(int signal);

  // The last Process handle is gone: stop watching on the loop; if the child
  // still runs, kill it first when `kill` is set, and hand it to the reaper.
  // Idempotent. Never throws.
  void orphan(bool kill) noexcept;

 private:
  void on_io(std::uint32_t events) override;
  // waitid(WNOHANG): records the returncode and releases the pidfd if the
  // child has exited. Returns whether it has.
  bool try_reap() noexcept;
  void stop_watching() noexcept;
  bool loop_open() const noexcept;
  void finish_if_done() noexcept;

  EventLoop* loop_;
  Ref<LoopAnchor> anchor_;  // tells whether the loop still exists
  pid_t pid_;
  FileDescriptor pidfd_;
  int open_pipes_;
  bool watching_ = false;
  std::optional<int> returncode_;
  Event finished_;
};

}  // namespace aio::internal

#endif  // AIO_SUBPROCESS_INTERNAL_CHILD_PROCESS_H_
