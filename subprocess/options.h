// How create_subprocess_exec / create_subprocess_shell start a child:
// aio::Stdio for each standard stream and aio::SubprocessOptions for the rest
// (asyncio's keyword arguments, which are subprocess.Popen's).
//
//   aio::SubprocessOptions options;
//   options.std_out = aio::subprocess::PIPE;
//   options.std_err = aio::subprocess::STDOUT;
//   options.cwd = "/tmp";
//
// Set the fields on a named variable, as with net's options types: they have a
// constructor, so they are not aggregates, because GCC 12 miscompiles an
// aggregate temporary with a std::string member passed inside a co_await
// expression (`co_await f(Options{.cwd = "..."})` frees memory twice).
// The streams are named std_in / std_out / std_err rather than stdin ...:
// those three names are macros in the C library, and on some (musl) the macros
// do not expand to themselves, so a member called `stdin` would not compile.
// Plain values; nothing here is tied to a loop or a thread.
#ifndef AIO_SUBPROCESS_OPTIONS_H_
#define AIO_SUBPROCESS_OPTIONS_H_

#include <sys/types.h>

#include <cstddef>
#include <map>
#include <optional>
#include <string>

namespace aio {

// Where one of the child's standard streams goes (asyncio's stdin=/stdout=/
// stderr= arguments).
class Stdio {
 public:
  enum class Kind {
    kInherit,     // the parent's own stream (asyncio's None, the default)
    kPipe,        // a pipe to the Process: a StreamWriter or StreamReader (PIPE)
    kDevNull,     // /dev/null (DEVNULL)
    kStdout,      // stderr only: the same place as stdout (STDOUT)
    kDescriptor,  // a descriptor the caller owns; the child gets a copy
  };

  constexpr Stdio() = default;
  static constexpr Stdio inherit() { return Stdio(Kind::kInherit, -1); }
  static constexpr Stdio pipe() { return Stdio(Kind::kPipe, -1); }
  static constexpr Stdio devnull() { return Stdio(Kind::kDevNull, -1); }
  static constexpr Stdio same_as_stdout() { return Stdio(Kind::kStdout, -1); }
  // The child's stream becomes a copy of `fd` (asyncio accepts a file
  // descriptor too). The caller keeps `fd` open until create_subprocess_exec
  // returns and closes it when it likes: the child holds its own copy.
  static constexpr Stdio from_fd(int fd) { return Stdio(Kind::kDescriptor, fd); }

  constexpr Kind kind() const { return kind_; }
  // The descriptor of a Stdio::from_fd(), -1 otherwise.
  constexpr int fd() const { return fd_; }
  friend constexpr bool operator==(const Stdio&, const Stdio&) = default;

 private:
  constexpr Stdio(Kind kind, int fd) : kind_(kind), fd_(fd) {}
  Kind kind_ = Kind::kInherit;
  int fd_ = -1;
};

// asyncio.subprocess.PIPE, DEVNULL and STDOUT under the same names.
namespace subprocess {
inline constexpr Stdio PIPE = Stdio::pipe();
inline constexpr Stdio DEVNULL = Stdio::devnull();
inline constexpr Stdio STDOUT = Stdio::same_as_stdout();
}  // namespace subprocess

struct SubprocessOptions {
  SubprocessOptions() {}

  Stdio std_in;
  Stdio std_out;
  // May also be subprocess::STDOUT (merged into stdout, whatever that is).
  Stdio std_err;

  // The child's working directory; the parent's when empty. A relative program
  // path is looked up from it, as subprocess.Popen does.
  std::optional<std::string> cwd;

  // The environment. Without `env` the child inherits this process's
  // environment; with it, the child gets exactly these variables (Popen's
  // env=, a replacement). `extra_env` is then set on top of either, replacing
  // variables of the same name (the common "os.environ | {...}").
  std::optional<std::map<std::string, std::string>> env;
  std::map<std::string, std::string> extra_env;

  // The buffer limit of the stdout/stderr StreamReaders (asyncio's limit=; the
  // readers pause the pipe at twice this). 64 KiB, asyncio's default, the same
  // as aio::kDefaultStreamLimit. 0 throws aio::ValueError.
  std::size_t limit = 64 * 1024;

  // Popen's start_new_session: the child calls setsid(), leaving the parent's
  // session, process group and controlling terminal (a terminal's Ctrl-C no
  // longer reaches it).
  bool start_new_session = false;
  // Popen's process_group: the child calls setpgid(0, group); 0 makes a new
  // group led by the child (send_signal to -pid then reaches its whole tree).
  std::optional<pid_t> process_group;

  // Popen's close_fds (on by default there too): the child starts with only
  // descriptors 0, 1 and 2. With false it also inherits every descriptor of
  // this process that is not close-on-exec.
  bool close_fds = true;

  // What happens when the last Process handle goes away while the child still
  // runs. false (the default, as in asyncio and Tokio): the child runs on and
  // aio reaps it when it exits. true: it is sent SIGKILL first (Tokio's
  // Command::kill_on_drop).
  bool kill_on_drop = false;
};

}  // namespace aio

#endif  // AIO_SUBPROCESS_OPTIONS_H_
