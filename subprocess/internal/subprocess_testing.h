// Helpers for subprocess's tests: leak checks for descriptors and children.
#ifndef AIO_SUBPROCESS_INTERNAL_SUBPROCESS_TESTING_H_
#define AIO_SUBPROCESS_INTERNAL_SUBPROCESS_TESTING_H_

#include <dirent.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "net/internal/net_testing.h"
#include "subprocess/internal/reaper.h"
#include "subprocess/options.h"

namespace aio::testing {

// How many descriptors this process has open. Starts the reaper thread first,
// whose epoll descriptor stays open for good once it exists, so that counts
// taken before and after a child was orphaned compare.
inline std::size_t open_descriptors() {
  internal::start_reaper();
  return open_descriptor_count();
}

// Options with the three streams set (SubprocessOptions is not an aggregate).
inline SubprocessOptions with_streams(Stdio in, Stdio out = Stdio::inherit(), Stdio err = Stdio::inherit()) {
  SubprocessOptions options;
  options.std_in = in;
  options.std_out = out;
  options.std_err = err;
  return options;
}

// True if this process has a child that was not reaped (running or zombie).
// Waits for the reaper thread's orphans first, so that only children someone
// forgot count.
inline bool has_unreaped_children() {
  internal::wait_until_orphans_reaped();
  siginfo_t info{};
  return ::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) == 0;
}

// Reads a blocking descriptor to EOF.
inline std::string read_to_eof(int fd) {
  std::string data;
  char buffer[4096];
  for (;;) {
    ssize_t count = ::read(fd, buffer, sizeof buffer);
    if (count < 0 && errno == EINTR) continue;
    if (count <= 0) return data;
    data.append(buffer, static_cast<std::size_t>(count));
  }
}

// Field `index` (1-based, as in proc(5): 5 is the process group, 6 the
// session) of /proc/<pid>/stat.
inline long proc_stat_field(pid_t pid, int index) {
  std::ifstream file("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  // The command name (field 2) is in parentheses and may hold spaces.
  std::istringstream rest(text.substr(text.rfind(')') + 2));
  std::string field;
  for (int i = 3; i <= index; ++i) rest >> field;
  return std::stol(field);
}

}  // namespace aio::testing

#endif  // AIO_SUBPROCESS_INTERNAL_SUBPROCESS_TESTING_H_
