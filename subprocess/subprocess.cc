// create_subprocess_exec/shell and Process: spawning (internal/spawn.h), the
// exit watch (internal/child_process.h) and the pipes as aio streams
// (net/internal/pipe_streams.h's open_read_pipe / open_write_pipe).
#include "subprocess/subprocess.h"

#include <fcntl.h>
#include <signal.h>

#include <cerrno>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "async/errors.h"
#include "async/gather.h"
#include "async/loop.h"
#include "async/task.h"
#include "net/internal/pipe_streams.h"
#include "net/internal/socket.h"
#include "subprocess/internal/child_process.h"
#include "subprocess/internal/pidfd.h"
#include "subprocess/internal/reaper.h"
#include "subprocess/internal/spawn.h"

namespace aio {

// SubprocessOptions::limit (options.h) repeats this default as a literal, to
// keep that header free of the streams.
static_assert(kDefaultStreamLimit == 64 * 1024, "update SubprocessOptions::limit's default too");

namespace internal {

// What the Process handles share. Its destructor is the "last handle gone"
// moment: it lets go of the streams (stdin closes unless the application kept
// a copy of its writer), then orphans the child (ChildProcess::orphan).
struct ProcessOwner {
  std::shared_ptr<ChildProcess> child;
  std::optional<StreamWriter> std_in;
  std::optional<StreamReader> std_out;
  std::optional<StreamReader> std_err;
  // Starts true: a Process that fails half-way through its construction kills
  // the child it started, since nobody could ever wait for it.
  bool kill_on_drop = true;

  ~ProcessOwner() {
    std_in.reset();
    std_out.reset();
    std_err.reset();
    if (child) child->orphan(kill_on_drop);
  }
};

// Process's constructor from its owner is private: users get processes from
// create_subprocess_exec / create_subprocess_shell.
class ProcessAccess {
 public:
  static Process process(std::shared_ptr<ProcessOwner> owner) { return Process(std::move(owner)); }
};

namespace {

// See "SIGPIPE" in subprocess.h. Once per process; thread-safe (a static's
// initialization).
void ignore_sigpipe_if_default() {
  static const bool checked = [] {
    struct sigaction current {};
    if (::sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL &&
        !(current.sa_flags & SA_SIGINFO)) {
      struct sigaction ignore {};
      ignore.sa_handler = SIG_IGN;
      ::sigaction(SIGPIPE, &ignore, nullptr);
    }
    return true;
  }();
  (void)checked;
}

void make_non_blocking(int fd) {
  // A fresh pipe has no other status flags, so no F_GETFL is needed.
  if (::fcntl(fd, F_SETFL, O_NONBLOCK) < 0) throw os_error(errno, "create_subprocess_exec: fcntl(O_NONBLOCK)");
}

Process start_process(const std::string& program, const std::vector<std::string>& arguments,
                      const SubprocessOptions& options) {
  if (options.limit == 0) throw ValueError("create_subprocess_exec: limit must be > 0");
  EventLoop& loop = get_running_loop();
  SpawnedChild spawned = spawn(program, arguments, options);
  int open_pipes = 0;
  for (const FileDescriptor& pipe : spawned.pipes) open_pipes += pipe ? 1 : 0;

  std::shared_ptr<ProcessOwner> owner;
  try {
    owner = std::make_shared<ProcessOwner>();
    owner->child = std::make_shared<ChildProcess>(loop, spawned.pid, std::move(spawned.pidfd), open_pipes);
  } catch (...) {
    // No memory for the bookkeeping: the child must not run on unwatched.
    if (spawned.pidfd) {
      pidfd_send_signal(spawned.pidfd.get(), SIGKILL, nullptr, 0);
      reap_when_exited(std::move(spawned.pidfd));
    }
    throw;
  }
  // From here on, a throw destroys `owner`, which kills and reaps the child.
  owner->child->start_watching();
  auto on_closed = [child = owner->child] { child->pipe_closed(); };
  if (FileDescriptor& pipe = spawned.pipes[0]) {
    ignore_sigpipe_if_default();
    make_non_blocking(pipe.get());
    owner->std_in = open_write_pipe(pipe.release(), on_closed);
  }
  if (FileDescriptor& pipe = spawned.pipes[1]) {
    make_non_blocking(pipe.get());
    owner->std_out = open_read_pipe(pipe.release(), options.limit, on_closed);
  }
  if (FileDescriptor& pipe = spawned.pipes[2]) {
    make_non_blocking(pipe.get());
    owner->std_err = open_read_pipe(pipe.release(), options.limit, on_closed);
  }
  owner->kill_on_drop = options.kill_on_drop;
  return ProcessAccess::process(std::move(owner));
}

// asyncio's _feed_stdin: write, drain, close; a child that went away early is
// not an error for communicate().
Coro<void> feed_stdin(std::optional<StreamWriter> writer, std::optional<std::string> input) {
  if (!writer) co_return;
  try {
    if (input) writer->write(*input);
    co_await writer->drain();
  } catch (const std::system_error& error) {
    const int code = error.code().value();
    if (code != EPIPE && code != ECONNRESET) throw;
  }
  writer->close();
}

Coro<std::optional<std::string>> read_to_end(std::optional<StreamReader> reader) {
  if (!reader) co_return std::nullopt;
  std::string data = co_await reader->read(-1);
  co_return data;
}

}  // namespace
}  // namespace internal

pid_t Process::pid() const noexcept { return owner_->child->pid(); }

std::optional<int> Process::returncode() const noexcept { return owner_->child->returncode(); }

std::optional<StreamWriter>& Process::std_in() const noexcept { return owner_->std_in; }
std::optional<StreamReader>& Process::std_out() const noexcept { return owner_->std_out; }
std::optional<StreamReader>& Process::std_err() const noexcept { return owner_->std_err; }

Coro<int> Process::wait() const {
  // The frame holds the Process: a wait in progress keeps the child watched.
  std::shared_ptr<internal::ProcessOwner> owner = owner_;
  co_await owner->child->finished().wait();
  co_return *owner->child->returncode();
}

Coro<CommunicateResult> Process::communicate(std::optional<std::string> input) const {
  std::shared_ptr<internal::ProcessOwner> owner = owner_;
  if (input && !owner->std_in) throw ValueError("communicate: input given, but stdin is not a PIPE");
  auto [fed, out, err] = co_await gather(internal::feed_stdin(owner->std_in, std::move(input)),
                                         internal::read_to_end(owner->std_out),
                                         internal::read_to_end(owner->std_err));
  co_await owner->child->finished().wait();
  CommunicateResult result;
  result.std_out = std::move(out);
  result.std_err = std::move(err);
  co_return result;
}

void Process::send_signal(int signal) const { owner_->child->send_signal(signal); }
void Process::terminate() const { send_signal(SIGTERM); }
void Process::kill() const { send_signal(SIGKILL); }

Coro<Process> create_subprocess_exec(std::string program, std::vector<std::string> args,
                                     SubprocessOptions options) {
  co_return internal::start_process(program, args, options);
}

Coro<Process> create_subprocess_shell(std::string command, SubprocessOptions options) {
  std::vector<std::string> arguments;
  arguments.push_back("-c");
  arguments.push_back(std::move(command));
  co_return internal::start_process("/bin/sh", arguments, options);
}

}  // namespace aio
