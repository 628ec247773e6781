// Small socket helpers shared by aio's transports: an owning descriptor and
// errno-carrying exceptions that name the call and the address.
#ifndef AIO_NET_INTERNAL_SOCKET_H_
#define AIO_NET_INTERNAL_SOCKET_H_

#include <unistd.h>

#include <string>
#include <system_error>
#include <utility>

namespace aio::internal {

// Closes the descriptor it holds unless released.
class FileDescriptor {
 public:
  FileDescriptor() = default;
  explicit FileDescriptor(int fd) noexcept : fd_(fd) {}
  FileDescriptor(FileDescriptor&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  FileDescriptor& operator=(FileDescriptor&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  ~FileDescriptor() { reset(); }
  int get() const noexcept { return fd_; }
  int release() noexcept { return std::exchange(fd_, -1); }
  void reset() noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  explicit operator bool() const noexcept { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

// std::system_error(error, "<what>: <strerror>"), e.g. "connect to 127.0.0.1:9: Connection refused".
inline std::system_error os_error(int error, const std::string& what) {
  return std::system_error(error, std::generic_category(), what);
}

// True for the errors that mean "the peer went away" (asyncio's
// _FATAL_ERROR_IGNORE: BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
// they end a connection without a report to the exception handler.
inline bool is_connection_error(int error) noexcept {
  return error == EPIPE || error == ECONNRESET || error == ECONNABORTED || error == ESHUTDOWN ||
         error == ETIMEDOUT || error == EHOSTUNREACH || error == ENETUNREACH;
}

}  // namespace aio::internal

#endif  // AIO_NET_INTERNAL_SOCKET_H_
