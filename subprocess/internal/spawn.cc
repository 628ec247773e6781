// posix_spawn with aio's options; see spawn.h for what the child starts with.
#include "subprocess/internal/spawn.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "async/errors.h"
#include "subprocess/internal/pidfd.h"

extern char** environ;

namespace aio::internal {
namespace {

constexpr const char* kCaller = "create_subprocess_exec: ";

// The first descriptor that is not a standard stream: every descriptor the
// child's streams are copied from is moved to at least this number, so that
// copying onto 0, 1 and 2 in turn never overwrites a source a later copy needs
// (a pipe end that came out as 1 because this process had closed its stdout).
constexpr int kFirstNonStandardDescriptor = 3;

void check(int error, const std::string& what) {
  if (error != 0) throw os_error(error, kCaller + what);
}

// posix_spawn_file_actions_t and posix_spawnattr_t, destroyed on every path.
class FileActions {
 public:
  FileActions() { check(posix_spawn_file_actions_init(&actions_), "posix_spawn_file_actions_init"); }
  ~FileActions() { posix_spawn_file_actions_destroy(&actions_); }
  FileActions(const FileActions&) = delete;
  FileActions& operator=(const FileActions&) = delete;
  posix_spawn_file_actions_t* get() { return &actions_; }

 private:
  posix_spawn_file_actions_t actions_;
};

class Attributes {
 public:
  Attributes() { check(posix_spawnattr_init(&attributes_), "posix_spawnattr_init"); }
  ~Attributes() { posix_spawnattr_destroy(&attributes_); }
  Attributes(const Attributes&) = delete;
  Attributes& operator=(const Attributes&) = delete;
  posix_spawnattr_t* get() { return &attributes_; }

 private:
  posix_spawnattr_t attributes_;
};

// "NAME=value" strings and the null-terminated array execve wants.
class Environment {
 public:
  // `environ` itself when the child simply inherits it (nothing to build).
  char** build(const SubprocessOptions& options) {
    if (!options.env && options.extra_env.empty()) return environ;
    if (options.env) {
      for (const auto& [name, value] : *options.env) {
        if (!options.extra_env.contains(name)) add(name, value);
      }
    } else {
      for (char** entry = environ; *entry != nullptr; ++entry) {
        std::string_view variable(*entry);
        std::string_view name = variable.substr(0, variable.find('='));
        if (!options.extra_env.contains(std::string(name))) strings_.emplace_back(variable);
      }
    }
    for (const auto& [name, value] : options.extra_env) add(name, value);
    pointers_.reserve(strings_.size() + 1);
    for (std::string& variable : strings_) pointers_.push_back(variable.data());
    pointers_.push_back(nullptr);
    return pointers_.data();
  }

 private:
  void add(const std::string& name, const std::string& value) {
    if (name.empty() || name.find('=') != std::string::npos) {
      throw ValueError(kCaller + std::string("invalid environment variable name '") + name + "'");
    }
    strings_.push_back(name + "=" + value);
  }
  std::vector<std::string> strings_;
  std::vector<char*> pointers_;
};

bool usable_directory(const std::string& path) {
  struct stat info;
  return ::stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

// posix_spawn returns one errno for every step of the child's setup; tell the
// caller which path it is about. The working directory is changed first, so a
// directory that cannot be entered is the culprit even if the program is
// missing too.
[[noreturn]] void throw_spawn_error(int error, const std::string& program, const SubprocessOptions& options) {
  if (options.cwd && !usable_directory(*options.cwd)) {
    throw os_error(error, kCaller + std::string("working directory '") + *options.cwd + "' for '" + program + "'");
  }
  if (options.process_group && (error == EPERM || error == ESRCH || error == EINVAL)) {
    throw os_error(error, kCaller + std::string("setpgid(0, ") + std::to_string(*options.process_group) +
                              ") for '" + program + "'");
  }
  throw os_error(error, kCaller + std::string("'") + program + "'");
}

FileDescriptor make_pipe_end(int pipe_fds[2], int keep) {
  if (::pipe2(pipe_fds, O_CLOEXEC) < 0) throw os_error(errno, kCaller + std::string("pipe2"));
  return FileDescriptor(pipe_fds[keep]);
}

}  // namespace

SpawnedChild spawn(const std::string& program, const std::vector<std::string>& arguments,
                   const SubprocessOptions& options) {
  const Stdio streams[3] = {options.std_in, options.std_out, options.std_err};
  if (streams[0].kind() == Stdio::Kind::kStdout || streams[1].kind() == Stdio::Kind::kStdout) {
    throw ValueError(kCaller + std::string("STDOUT can only be used for stderr"));
  }
  if (program.empty()) throw ValueError(kCaller + std::string("empty program name"));

  SpawnedChild child;
  // The child's ends of the pipes and the low-numbered copies: the child has
  // its own copies once posix_spawn returns; the parent's close here.
  std::vector<FileDescriptor> child_side;
  int sources[3] = {-1, -1, -1};
  for (int stream = 0; stream < 3; ++stream) {
    switch (streams[stream].kind()) {
      case Stdio::Kind::kPipe: {
        int pipe_fds[2];
        // stdin: the child reads (pipe_fds[0]); stdout/stderr: the child writes.
        const int parent_index = stream == 0 ? 1 : 0;
        child.pipes[stream] = make_pipe_end(pipe_fds, parent_index);
        child_side.emplace_back(pipe_fds[1 - parent_index]);
        sources[stream] = pipe_fds[1 - parent_index];
        break;
      }
      case Stdio::Kind::kDescriptor:
        if (streams[stream].fd() < 0) {
          throw ValueError(kCaller + std::string("Stdio::from_fd of a negative descriptor"));
        }
        sources[stream] = streams[stream].fd();
        break;
      case Stdio::Kind::kInherit:
      case Stdio::Kind::kDevNull:
      case Stdio::Kind::kStdout:
        break;
    }
  }
  for (int& source : sources) {
    if (source >= 0 && source < kFirstNonStandardDescriptor) {
      int copy = ::fcntl(source, F_DUPFD_CLOEXEC, kFirstNonStandardDescriptor);
      if (copy < 0) throw os_error(errno, kCaller + std::string("fcntl(F_DUPFD_CLOEXEC)"));
      child_side.emplace_back(copy);
      source = copy;
    }
  }

  FileActions actions;
  for (int stream = 0; stream < 3; ++stream) {
    switch (streams[stream].kind()) {
      case Stdio::Kind::kPipe:
      case Stdio::Kind::kDescriptor:
        // dup2 clears close-on-exec on the copy, so the child keeps it.
        check(posix_spawn_file_actions_adddup2(actions.get(), sources[stream], stream), "adddup2");
        break;
      case Stdio::Kind::kDevNull:
        check(posix_spawn_file_actions_addopen(actions.get(), stream, "/dev/null", stream == 0 ? O_RDONLY : O_WRONLY,
                                               0),
              "addopen");
        break;
      case Stdio::Kind::kStdout:
        check(posix_spawn_file_actions_adddup2(actions.get(), STDOUT_FILENO, STDERR_FILENO), "adddup2");
        break;
      case Stdio::Kind::kInherit:
        break;
    }
  }
  if (options.close_fds) {
    check(posix_spawn_file_actions_addclosefrom_np(actions.get(), kFirstNonStandardDescriptor), "addclosefrom_np");
  }
  if (options.cwd) check(posix_spawn_file_actions_addchdir_np(actions.get(), options.cwd->c_str()), "addchdir_np");

  Attributes attributes;
  short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
  sigset_t signals;
  sigemptyset(&signals);
  check(posix_spawnattr_setsigmask(attributes.get(), &signals), "posix_spawnattr_setsigmask");
  sigaddset(&signals, SIGPIPE);
  sigaddset(&signals, SIGXFSZ);
  check(posix_spawnattr_setsigdefault(attributes.get(), &signals), "posix_spawnattr_setsigdefault");
  if (options.start_new_session) flags |= POSIX_SPAWN_SETSID;
  if (options.process_group) {
    flags |= POSIX_SPAWN_SETPGROUP;
    check(posix_spawnattr_setpgroup(attributes.get(), *options.process_group), "posix_spawnattr_setpgroup");
  }
  check(posix_spawnattr_setflags(attributes.get(), flags), "posix_spawnattr_setflags");

  std::vector<char*> argv;
  argv.reserve(arguments.size() + 2);
  argv.push_back(const_cast<char*>(program.c_str()));
  for (const std::string& argument : arguments) argv.push_back(const_cast<char*>(argument.c_str()));
  argv.push_back(nullptr);
  Environment environment;
  char** envp = environment.build(options);

  // posix_spawnp: a name without '/' is searched in PATH, a path is used as is.
  int error = posix_spawnp(&child.pid, program.c_str(), actions.get(), attributes.get(), argv.data(), envp);
  if (error != 0) throw_spawn_error(error, program, options);

  // The child cannot be reaped by anyone but us before this (unless the
  // application reaps children it does not own: a SIGCHLD handler calling
  // waitpid(-1), or SIGCHLD ignored), so the pid still names it.
  int pidfd = pidfd_open(child.pid, 0);
  if (pidfd < 0) {
    const int open_error = errno;
    // Gone already: it exited and the application's own reaping took it (see
    // above). Its pid may be reused by now, so it must not be signalled; the
    // caller finds no pidfd and reports the lost status.
    if (open_error == ESRCH) return child;
    // Without a pidfd the child could not be watched: do not leave it running
    // or as a zombie. SIGKILL ends it at once, so the wait is short.
    ::kill(child.pid, SIGKILL);
    while (::waitpid(child.pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    throw os_error(open_error, kCaller + std::string("pidfd_open (Linux 5.4 or later is needed)"));
  }
  child.pidfd = FileDescriptor(pidfd);
  return child;
}

int returncode_from(int code, int status) noexcept {
  if (code == CLD_KILLED || code == CLD_DUMPED) return -status;
  return status;
}

}  // namespace aio::internal
