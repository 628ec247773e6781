// Starting a child process: the synchronous part of create_subprocess_exec,
// with no event loop involved.
//
// spawn() makes the pipes, runs glibc's posix_spawn (a clone(CLONE_VM |
// CLONE_VFORK): the parent's memory is shared, never copied, so starting a
// child costs the same from a 10 MB or a 10 GB process, and the caller's thread
// is held only until the child has called execve) and opens a pidfd for the
// child. posix_spawn reports a failed chdir or execve as its return value (the
// child writes the errno into memory it shares with the parent, then exits and
// is reaped by glibc), so a missing program or a bad working directory is an
// exception here, never a child that exits with 127.
//
// The child starts in a clean state, as Rust's std::process does: an empty
// signal mask (the loop thread may block signals it handles elsewhere) and
// SIGPIPE and SIGXFSZ at their default action (Python's restore_signals, since
// a parent that ignores SIGPIPE would otherwise pass that on through execve).
//
// Every descriptor made here is close-on-exec in the parent, so a child that
// another thread starts at the same moment inherits none of them.
#ifndef AIO_SUBPROCESS_INTERNAL_SPAWN_H_
#define AIO_SUBPROCESS_INTERNAL_SPAWN_H_

#include <sys/types.h>

#include <array>
#include <string>
#include <vector>

#include "net/internal/socket.h"
#include "subprocess/options.h"

namespace aio::internal {

struct SpawnedChild {
  pid_t pid = -1;
  // Refers to the child until it is reaped; readable (EPOLLIN) once it exited.
  // Empty if the application reaped the child before aio could open it (it
  // ignores SIGCHLD, or reaps with waitpid(-1)): its status is lost.
  FileDescriptor pidfd;
  // The parent's end of each pipe, for the streams that are Stdio::pipe(),
  // blocking and close-on-exec: [0] writes to the child's stdin, [1] and [2]
  // read from its stdout and stderr. Empty for the other streams.
  std::array<FileDescriptor, 3> pipes;
};

// Starts `program` with `arguments` (argv[1]...; argv[0] is `program`).
// `program` without a '/' is searched in PATH (posix_spawnp; PATH is read
// from this process's environment, as execvp does). Throws
// aio::ValueError for options that make no sense (STDOUT for stdin or
// stdout) and std::system_error with the errno for anything the system
// refuses, naming the path involved: "create_subprocess_exec: 'prog': No such
// file or directory", "... working directory '/x': Not a directory". On a
// throw no child runs and no descriptor is left open.
SpawnedChild spawn(const std::string& program, const std::vector<std::string>& arguments,
                   const SubprocessOptions& options);

// The returncode of a child from waitid's report: the exit status, or -N when
// signal N killed it (asyncio's convention).
int returncode_from(int code, int status) noexcept;

}  // namespace aio::internal

#endif  // AIO_SUBPROCESS_INTERNAL_SPAWN_H_
