// Helpers for net's tests: counting open descriptors (leak checks).
#ifndef AIO_NET_INTERNAL_NET_TESTING_H_
#define AIO_NET_INTERNAL_NET_TESTING_H_

#include <dirent.h>

#include <cstddef>

namespace aio::testing {

// How many descriptors this process has open (entries of /proc/self/fd, less
// the one opendir uses).
inline std::size_t open_descriptor_count() {
  DIR* directory = opendir("/proc/self/fd");
  if (directory == nullptr) return 0;
  std::size_t count = 0;
  while (readdir(directory) != nullptr) ++count;
  closedir(directory);
  return count - 3;  // ".", "..", and the directory's own descriptor
}

}  // namespace aio::testing

#endif  // AIO_NET_INTERNAL_NET_TESTING_H_
