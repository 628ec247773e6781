// The layer under Process: spawn() with each option (errors, descriptors,
// environment, groups, the child's signal state), the pidfd watch on the loop,
// and the reaper that takes dropped children. No streams here; see
// subprocess_test.cc for the asyncio-level behaviour.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "async/run.h"
#include "async/task.h"
#include "async/testing.h"
#include "gtest/gtest.h"
#include "subprocess/internal/child_process.h"
#include "subprocess/internal/pidfd.h"
#include "subprocess/internal/reaper.h"
#include "subprocess/internal/spawn.h"
#include "subprocess/internal/subprocess_testing.h"

namespace aio {
namespace {

using internal::ChildProcess;
using internal::FileDescriptor;
using internal::SpawnedChild;
using internal::spawn;
using testing::has_unreaped_children;
using testing::open_descriptors;
using testing::read_to_eof;
using testing::with_streams;

// Waits for a spawned child without a loop (blocking), and returns its returncode.
int wait_blocking(SpawnedChild& child) {
  siginfo_t info{};
  while (::waitid(P_PIDFD, static_cast<id_t>(child.pidfd.get()), &info, WEXITED) < 0) {
    if (errno != EINTR) return -1000;
  }
  child.pidfd.reset();
  return internal::returncode_from(info.si_code, info.si_status);
}

// A pipe whose ends close themselves.
struct Pipe {
  Pipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe2");
    read_end = FileDescriptor(fds[0]);
    write_end = FileDescriptor(fds[1]);
  }
  FileDescriptor read_end;
  FileDescriptor write_end;
};

// Runs `program` with its stdout (and stderr) into a pipe, and returns what
// it printed; `status` gets the returncode.
std::string output_of(const std::string& program, const std::vector<std::string>& arguments,
                      SubprocessOptions options, int* status = nullptr) {
  Pipe pipe;
  options.std_out = Stdio::from_fd(pipe.write_end.get());
  if (options.std_err == Stdio::inherit()) options.std_err = subprocess::STDOUT;
  SpawnedChild child = spawn(program, arguments, options);
  pipe.write_end.reset();  // the child holds the only write end: EOF when it exits
  std::string output = read_to_eof(pipe.read_end.get());
  int returncode = wait_blocking(child);
  if (status != nullptr) *status = returncode;
  return output;
}

std::string error_text(const std::exception& error) { return error.what(); }

TEST(Spawn, AMissingProgramThrowsItsErrnoAndPathAndLeavesNothingBehind) {
  const std::size_t descriptors = open_descriptors();
  for (const std::string program : {"/no/such/program", "aio-no-such-program-in-path"}) {
    try {
      spawn(program, {}, with_streams(Stdio::inherit(), subprocess::PIPE));
      ADD_FAILURE() << "no exception for " << program;
    } catch (const std::system_error& error) {
      EXPECT_EQ(error.code().value(), ENOENT);
      EXPECT_NE(error_text(error).find("'" + program + "'"), std::string::npos) << error.what();
    }
  }
  EXPECT_EQ(open_descriptors(), descriptors);  // the pipe was closed
  EXPECT_FALSE(has_unreaped_children());       // glibc reaped the failed child
}

TEST(Spawn, AFileWithoutExecutePermissionIsEacces) {
  char path[] = "/tmp/aio_spawn_test_XXXXXX";
  int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ::close(fd);
  try {
    spawn(path, {}, {});
    ADD_FAILURE() << "no exception";
  } catch (const std::system_error& error) {
    EXPECT_EQ(error.code().value(), EACCES);
  }
  ::unlink(path);
}

TEST(Spawn, ABadWorkingDirectoryThrowsNamingTheDirectory) {
  SubprocessOptions options;
  options.cwd = "/no/such/directory";
  try {
    spawn("/bin/true", {}, options);
    ADD_FAILURE() << "no exception";
  } catch (const std::system_error& error) {
    EXPECT_EQ(error.code().value(), ENOENT);
    EXPECT_NE(error_text(error).find("working directory '/no/such/directory'"), std::string::npos) << error.what();
  }
  options.cwd = "/etc/passwd";  // a file
  try {
    spawn("/bin/true", {}, options);
    ADD_FAILURE() << "no exception";
  } catch (const std::system_error& error) {
    EXPECT_EQ(error.code().value(), ENOTDIR);
    EXPECT_NE(error_text(error).find("/etc/passwd"), std::string::npos) << error.what();
  }
  EXPECT_FALSE(has_unreaped_children());
}

TEST(Spawn, ImpossibleOptionsAreInvalidArguments) {
  EXPECT_THROW(spawn("/bin/true", {}, with_streams(subprocess::STDOUT)), aio::ValueError);
  EXPECT_THROW(spawn("/bin/true", {}, with_streams(Stdio::inherit(), subprocess::STDOUT)), aio::ValueError);
  EXPECT_THROW(spawn("", {}, {}), aio::ValueError);
  SubprocessOptions bad_name;
  bad_name.extra_env["A=B"] = "c";
  EXPECT_THROW(spawn("/bin/true", {}, bad_name), aio::ValueError);
  EXPECT_FALSE(has_unreaped_children());
}

TEST(Spawn, ArgumentsExitStatusAndStderrIntoStdout) {
  int status = 0;
  EXPECT_EQ(output_of("/bin/sh", {"-c", "echo \"$0 $1\"; echo to-stderr >&2; exit 7", "first", "second two"}, {},
                      &status),
            "first second two\nto-stderr\n");
  EXPECT_EQ(status, 7);
}

TEST(Spawn, DevNullAndInheritedStreams) {
  // stdin from /dev/null reads EOF at once; stderr to /dev/null is dropped.
  EXPECT_EQ(output_of("/bin/sh", {"-c", "cat; echo done; echo hidden >&2"},
                      with_streams(subprocess::DEVNULL, Stdio::inherit(), subprocess::DEVNULL)),
            "done\n");
}

TEST(Spawn, ASourceDescriptorBelowThreeIsNotOverwrittenByAnEarlierCopy) {
  // Put a pipe's write end on descriptor 0 (as if this process had no stdin),
  // and ask for it as the child's stdout while its stdin is /dev/null: copying
  // /dev/null onto 0 first must not lose the pipe.
  const int saved_stdin = ::dup(STDIN_FILENO);
  ASSERT_GE(saved_stdin, 0);
  Pipe pipe;
  ASSERT_EQ(::dup2(pipe.write_end.get(), STDIN_FILENO), STDIN_FILENO);
  pipe.write_end.reset();
  SpawnedChild child = spawn("/bin/sh", {"-c", "echo through-zero"},
                             with_streams(subprocess::DEVNULL, Stdio::from_fd(0)));
  ::dup2(saved_stdin, STDIN_FILENO);  // our write end on 0 goes away: EOF once the child exits
  ::close(saved_stdin);
  EXPECT_EQ(read_to_eof(pipe.read_end.get()), "through-zero\n");
  EXPECT_EQ(wait_blocking(child), 0);
}

TEST(Spawn, WorkingDirectoryAppliesToTheChildAndToARelativeProgram) {
  SubprocessOptions options;
  options.cwd = "/";
  EXPECT_EQ(output_of("/bin/sh", {"-c", "pwd"}, options), "/\n");
  options.cwd = "/bin";
  int status = -1;
  output_of("./true", {}, options, &status);  // found relative to the new directory
  EXPECT_EQ(status, 0);
}

TEST(Spawn, EnvironmentIsInheritedReplacedOrExtended) {
  ::setenv("AIO_SPAWN_TEST_INHERITED", "from-parent", 1);
  const std::vector<std::string> show = {"-c", "echo \"[$AIO_SPAWN_TEST_INHERITED][$AIO_EXTRA][$AIO_ONLY]\""};
  EXPECT_EQ(output_of("/bin/sh", show, {}), "[from-parent][][]\n");

  SubprocessOptions extend;
  extend.extra_env["AIO_EXTRA"] = "extra";
  extend.extra_env["AIO_SPAWN_TEST_INHERITED"] = "overridden";
  EXPECT_EQ(output_of("/bin/sh", show, extend), "[overridden][extra][]\n");

  SubprocessOptions replace;
  replace.env = std::map<std::string, std::string>{{"AIO_ONLY", "only"}};
  EXPECT_EQ(output_of("/bin/sh", show, replace), "[][][only]\n");
  EXPECT_EQ(output_of("/bin/sh", {"-c", "env | grep -c AIO_SPAWN_TEST || true"}, replace), "0\n");

  replace.extra_env["AIO_EXTRA"] = "both";
  EXPECT_EQ(output_of("/bin/sh", show, replace), "[][both][only]\n");
  ::unsetenv("AIO_SPAWN_TEST_INHERITED");
}

TEST(Spawn, InheritedDescriptorsAreClosedUnlessAskedOtherwise) {
  // A descriptor without close-on-exec, as a careless library might leave one.
  Pipe pipe;
  const int leaky = ::dup(pipe.read_end.get());
  ASSERT_GE(leaky, 3);
  const std::vector<std::string> probe = {"-c", "test -e /proc/self/fd/" + std::to_string(leaky)};
  int status = -1;
  output_of("/bin/sh", probe, {}, &status);
  EXPECT_EQ(status, 1) << "close_fds (the default) should have closed it";
  SubprocessOptions inherit_all;
  inherit_all.close_fds = false;
  output_of("/bin/sh", probe, inherit_all, &status);
  EXPECT_EQ(status, 0) << "close_fds = false inherits it";
  ::close(leaky);
}

TEST(Spawn, ProcessGroupAndNewSession) {
  // A child that waits for EOF on its stdin, so that it stays alive while the
  // test reads its /proc entry.
  for (bool new_session : {false, true}) {
    Pipe hold;
    SubprocessOptions options = with_streams(Stdio::from_fd(hold.read_end.get()));
    if (new_session) {
      options.start_new_session = true;
    } else {
      options.process_group = 0;
    }
    SpawnedChild child = spawn("/bin/cat", {}, options);
    EXPECT_EQ(testing::proc_stat_field(child.pid, 5), child.pid) << "its own process group";
    if (new_session) {
      EXPECT_EQ(testing::proc_stat_field(child.pid, 6), child.pid) << "its own session";
    } else {
      EXPECT_EQ(testing::proc_stat_field(child.pid, 6), ::getsid(0)) << "still our session";
    }
    hold.write_end.reset();
    EXPECT_EQ(wait_blocking(child), 0);
  }
}

TEST(Spawn, TheChildStartsWithNoBlockedSignalsAndDefaultSigpipe) {
  // What an event loop's thread may well have: SIGPIPE ignored, a signal blocked.
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  struct sigaction previous_pipe {};
  ::sigaction(SIGPIPE, &ignore, &previous_pipe);
  sigset_t block;
  sigset_t previous_mask;
  sigemptyset(&block);
  sigaddset(&block, SIGUSR1);
  ::pthread_sigmask(SIG_BLOCK, &block, &previous_mask);

  std::string status = output_of("/bin/grep", {"-E", "^Sig(Blk|Ign)", "/proc/self/status"}, {});

  ::pthread_sigmask(SIG_SETMASK, &previous_mask, nullptr);
  ::sigaction(SIGPIPE, &previous_pipe, nullptr);
  EXPECT_NE(status.find("SigBlk:\t0000000000000000"), std::string::npos) << status;
  // SIGPIPE is signal 13: bit 12 of the mask, the 0x1000 of the last word.
  const std::size_t ignored = status.find("SigIgn:\t");
  ASSERT_NE(ignored, std::string::npos) << status;
  const unsigned long long mask = std::stoull(status.substr(ignored + 8, 16), nullptr, 16);
  EXPECT_EQ(mask & (1ULL << (SIGPIPE - 1)), 0u) << status;
}

// --- the pidfd watch on the loop ---

std::shared_ptr<ChildProcess> start(const std::string& program, const std::vector<std::string>& arguments,
                                    const SubprocessOptions& options = {}) {
  SpawnedChild spawned = spawn(program, arguments, options);
  auto child = std::make_shared<ChildProcess>(get_running_loop(), spawned.pid, std::move(spawned.pidfd), 0);
  child->start_watching();
  return child;
}

Coro<int> wait_for(std::shared_ptr<ChildProcess> child) {
  co_await child->finished().wait();
  co_return *child->returncode();
}

AIO_TEST(ChildProcess, TheLoopSeesTheExitAndReapsTheChild) {
  const std::size_t descriptors = open_descriptors();
  std::shared_ptr<ChildProcess> child = start("/bin/sh", {"-c", "exit 3"});
  EXPECT_FALSE(child->returncode().has_value());
  EXPECT_EQ(co_await wait_for(child), 3);
  EXPECT_EQ(child->returncode(), 3);
  EXPECT_EQ(open_descriptors(), descriptors);  // the pidfd is closed at the reap
  EXPECT_FALSE(has_unreaped_children());
}

AIO_TEST(ChildProcess, ASignalGivesANegativeReturncodeAndIsANoOpAfterTheReap) {
  std::shared_ptr<ChildProcess> child = start("/bin/sleep", {"1000"});
  child->send_signal(SIGTERM);
  EXPECT_EQ(co_await wait_for(child), -SIGTERM);
  child->send_signal(SIGKILL);  // reaped: nothing to signal, and no error
  EXPECT_EQ(child->returncode(), -SIGTERM);

  std::shared_ptr<ChildProcess> second = start("/bin/sleep", {"1000"});
  EXPECT_THROW(second->send_signal(12345), std::system_error);  // EINVAL
  second->send_signal(SIGKILL);
  EXPECT_EQ(co_await wait_for(second), -SIGKILL);
}

AIO_TEST(ChildProcess, DroppedWhileRunningWithKillTheReaperReapsIt) {
  std::shared_ptr<ChildProcess> child = start("/bin/sleep", {"1000"});
  const pid_t pid = child->pid();
  child->orphan(/*kill=*/true);
  child.reset();
  internal::wait_until_orphans_reaped();
  siginfo_t info{};
  EXPECT_EQ(::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);  // reaped by the reaper, not a zombie
  co_return;
}

AIO_TEST(ChildProcess, DroppedWhileRunningWithoutKillTheChildRunsOnAndIsReapedAtItsExit) {
  const std::size_t descriptors = open_descriptors();
  Pipe hold;
  std::shared_ptr<ChildProcess> child =
      start("/bin/cat", {}, with_streams(Stdio::from_fd(hold.read_end.get())));
  hold.read_end.reset();
  const pid_t pid = child->pid();
  child.reset();  // the destructor orphans it
  EXPECT_EQ(::kill(pid, 0), 0) << "still running";
  EXPECT_EQ(internal::orphan_count(), 1u);
  hold.write_end.reset();  // EOF: cat exits by itself
  internal::wait_until_orphans_reaped();
  EXPECT_EQ(internal::orphan_count(), 0u);
  EXPECT_FALSE(has_unreaped_children());
  EXPECT_EQ(open_descriptors(), descriptors);
  co_return;
}

// SIGCHLD ignored makes the kernel reap children itself: the status is lost,
// the loop reports it and says 255 (asyncio's "Unknown child process").
TEST(ChildProcess, AChildReapedBehindOurBackReports255) {
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  struct sigaction previous {};
  ::sigaction(SIGCHLD, &ignore, &previous);
  std::vector<std::string> reports;
  const int returncode = aio::run(invoke([&]() -> Coro<int> {
    get_running_loop().set_exception_handler(
        [&](EventLoop&, const ExceptionContext& context) { reports.push_back(context.message); });
    std::vector<std::string> args = {"-c", "exit 3"};
    co_return co_await wait_for(start("/bin/sh", args));
  }));
  ::sigaction(SIGCHLD, &previous, nullptr);
  EXPECT_EQ(returncode, 255);
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_NE(reports[0].find("Unknown child process"), std::string::npos) << reports[0];
}

TEST(ChildProcess, AChildOutlivingItsLoopIsStillReaped) {
  Pipe hold;
  std::shared_ptr<ChildProcess> child;
  aio::run(invoke([&]() -> Coro<> {
    child = start("/bin/cat", {}, with_streams(Stdio::from_fd(hold.read_end.get())));
    co_return;
  }));
  // The loop is closed and gone; the child still runs and is watched by nobody.
  child.reset();
  hold.write_end.reset();
  EXPECT_FALSE(has_unreaped_children());
}

}  // namespace
}  // namespace aio
