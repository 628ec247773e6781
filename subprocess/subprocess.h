// Subprocesses: asyncio's create_subprocess_exec / create_subprocess_shell
// and Process, on aio's loop and streams.
//
//   aio::SubprocessOptions options;
//   options.std_out = aio::subprocess::PIPE;
//   std::vector<std::string> args = {"-l", "/tmp"};
//   aio::Process process = co_await aio::create_subprocess_exec("ls", args, options);
//   auto [out, err] = co_await process.communicate();   // *out is ls's output
//   int status = *process.returncode();                   // 0, or -9 if killed
//
// (Name the arguments and options before the co_await: GCC 12 cannot compile a
// braced list of strings inside a co_await expression, and miscompiles
// aggregate temporaries there; see options.h.)
//
// How a child starts: posix_spawn (clone with CLONE_VM | CLONE_VFORK, so the
// parent's memory is never copied, however large it is), then a pidfd for it;
// a program that cannot be run is a std::system_error thrown by
// create_subprocess_exec (internal/spawn.h). The loop watches the pidfd and
// reaps the child the moment it exits, with no signal handler and no thread
// (internal/child_process.h).
//
// Process is a cheap copyable handle, like a Python reference: copies share the
// child, its streams and its returncode. When the last handle goes away while
// the child still runs, the child is *not* killed (asyncio behaves the same:
// its child watcher keeps the transport alive until the child exits; set
// SubprocessOptions::kill_on_drop to kill it). Its stdin closes unless a copy
// of the StreamWriter lives on; stdout and stderr keep being read into their
// StreamReaders until EOF (or until the readers' buffers are full, when the
// child blocks: read what you pipe, or use DEVNULL). A helper thread reaps the
// child when it exits (internal/reaper.h), so no zombie is left, even if the
// loop closes first; when the loop closes, it closes the pipes still open.
// Cancelling a task that awaits wait() or communicate() leaves the child
// running too (asyncio's rule 63, docs/design/asyncio_rules.md#rule-63); kill
// it in the handler if that is wanted.
//
// SIGPIPE: the first stdin PIPE makes this process ignore SIGPIPE if it had
// the default action (which would kill the whole program when a child exits
// without reading its input), so that the write fails with EPIPE instead, as
// Python and Rust programs do from the start. Children get the default action
// back (internal/spawn.h). A handler the application installed is left alone.
//
// Not thread-safe: use a Process on the loop that created it. Everything that
// starts a child must run inside a task on a running loop.
#ifndef AIO_SUBPROCESS_SUBPROCESS_H_
#define AIO_SUBPROCESS_SUBPROCESS_H_

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "async/coro.h"
#include "net/streams.h"
#include "subprocess/options.h"

namespace aio {

namespace internal {
struct ProcessOwner;
class ProcessAccess;  // subprocess/subprocess.cc: the Process of a started child
}  // namespace internal

// What communicate() returns: each output, or nullopt when that stream is not
// a PIPE (asyncio's (stdout, stderr) tuple with None). Structured bindings
// work: `auto [out, err] = co_await process.communicate();`.
struct CommunicateResult {
  std::optional<std::string> std_out;
  std::optional<std::string> std_err;
};

class Process {
 public:
  // An empty handle; only assignment and valid() may be used on it.
  Process() = default;
  bool valid() const noexcept { return static_cast<bool>(owner_); }

  pid_t pid() const noexcept;
  // nullopt while the child runs (as far as the loop has seen); then its exit
  // status, or -N if signal N ended it. Set as soon as the loop sees the exit,
  // which may be before wait() returns (wait() also waits for the pipes).
  std::optional<int> returncode() const noexcept;

  // The streams: a StreamWriter to the child's stdin and StreamReaders from
  // its stdout and stderr for each stream that was a PIPE, nullopt otherwise
  // (asyncio's None). The handles are shared with every copy of this Process;
  // close std_in() to send EOF to the child.
  std::optional<StreamWriter>& std_in() const noexcept;
  std::optional<StreamReader>& std_out() const noexcept;
  std::optional<StreamReader>& std_err() const noexcept;

  // Waits until the child has exited and its pipes have closed (their
  // readers saw EOF, or the streams were closed), then returns the
  // returncode. Any number of tasks may wait at once; cancelling one wait
  // throws CancelledError into that task only and leaves the child running.
  // A child that writes more into a PIPE than the pipe and the reader's buffer
  // hold blocks until someone reads it: read the output (or use communicate()
  // or DEVNULL) rather than only wait().
  Coro<int> wait() const;

  // asyncio's communicate(input): writes `input` to stdin (if given), closes
  // stdin, and reads stdout and stderr to EOF, all at the same time, then
  // waits for the exit. A broken pipe on stdin (a child that exits without
  // reading everything) is ignored. Throws aio::ValueError if `input` is
  // given but stdin is not a PIPE. If the awaiting task is cancelled, the reads
  // and the write stop and the child keeps running.
  Coro<CommunicateResult> communicate(std::optional<std::string> input = std::nullopt) const;

  // Send a signal through the child's pidfd. After the child was reaped they do
  // nothing (its pid may belong to a new process by then: a pidfd never does).
  // Throw std::system_error for an invalid signal number.
  void send_signal(int signal) const;
  void terminate() const;  // SIGTERM
  void kill() const;       // SIGKILL

 private:
  friend class internal::ProcessAccess;
  explicit Process(std::shared_ptr<internal::ProcessOwner> owner) : owner_(std::move(owner)) {}

  std::shared_ptr<internal::ProcessOwner> owner_;
};

// asyncio.create_subprocess_exec(program, *args, ...): runs `program` with
// `args` (argv[0] is `program`); a program without '/' is searched in PATH.
// Never blocks the loop for longer than the kernel takes to start the child.
// Throws, when awaited:
//  - std::system_error with the errno and the path when the program cannot be
//    run ("create_subprocess_exec: 'nosuch': No such file or directory") or the
//    working directory cannot be entered (its message names the directory);
//    also EMFILE and such. No child is left behind.
//  - aio::ValueError for impossible options (STDOUT for stdin or stdout,
//    limit 0, a variable name with '=').
// Must be awaited inside a task on a running loop (aio::RuntimeError
// otherwise).
Coro<Process> create_subprocess_exec(std::string program, std::vector<std::string> args = {},
                                     SubprocessOptions options = {});

// asyncio.create_subprocess_shell(cmd, ...): `/bin/sh -c command`. The caller
// quotes what needs quoting. returncode() is the shell's exit status.
Coro<Process> create_subprocess_shell(std::string command, SubprocessOptions options = {});

}  // namespace aio

#endif  // AIO_SUBPROCESS_SUBPROCESS_H_
