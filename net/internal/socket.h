// Small socket helpers shared by aio's transports: an owning descriptor,
// errno-carrying exceptions that name the call and the address, the addresses
// of a socket, and the per-thread buffer transports read into.
#ifndef AIO_NET_INTERNAL_SOCKET_H_
#define AIO_NET_INTERNAL_SOCKET_H_

#include <sys/socket.h>
#include <unistd.h>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <utility>

#include "net/address.h"

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
  return std::system_error(error, std::system_category(), what);
}

// True for the errors that mean "the peer went away" (asyncio's
// _FATAL_ERROR_IGNORE: BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
// they end a connection without a report to the exception handler.
inline bool is_connection_error(int error) noexcept {
  return error == EPIPE || error == ECONNRESET || error == ECONNABORTED || error == ESHUTDOWN ||
         error == ETIMEDOUT || error == EHOSTUNREACH || error == ENETUNREACH;
}

// The address a socket is bound to (getsockname) or connected to
// (getpeername); nullopt if the kernel refuses (errno says why).
inline std::optional<SocketAddress> local_address_of(int fd) {
  SocketAddress address;
  socklen_t length = SocketAddress::capacity();
  if (::getsockname(fd, address.data(), &length) < 0) return std::nullopt;
  address.set_size(length);
  return address;
}
inline std::optional<SocketAddress> peer_address_of(int fd) {
  SocketAddress address;
  socklen_t length = SocketAddress::capacity();
  if (::getpeername(fd, address.data(), &length) < 0) return std::nullopt;
  address.set_size(length);
  return address;
}

// asyncio's selector transports read at most 256 KiB at a time (max_size):
// large enough that a bulk transfer needs few system calls, and more than any
// datagram.
inline constexpr std::size_t kTransportReadBufferSize = 256 * 1024;

// The buffer every transport of this thread reads into (stream, pipe and
// datagram transports, and the streams' protocol). One is enough: reads
// happen only in the loop's poll, one transport at a time, and what was read
// is handed to the protocol before the next read. Idle connections thus
// hold no read buffer.
inline char* transport_read_buffer() {
  thread_local std::unique_ptr<char[]> buffer(new char[kTransportReadBufferSize]);
  return buffer.get();
}

}  // namespace aio::internal

#endif  // AIO_NET_INTERNAL_SOCKET_H_
