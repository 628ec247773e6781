// Opening a datagram socket for create_datagram_endpoint and DatagramSocket:
// the options checked, local_addr / remote_addr resolved off the loop's
// thread, and a bound and/or connected non-blocking socket returned.
#ifndef AIO_NET_INTERNAL_DATAGRAM_SETUP_H_
#define AIO_NET_INTERNAL_DATAGRAM_SETUP_H_

#include <optional>
#include <string>

#include "async/coro.h"
#include "net/address.h"
#include "net/datagram.h"
#include "net/internal/socket.h"

namespace aio::internal {

struct OpenedSocket {
  FileDescriptor fd;
  // The connected peer (remote_addr), if any.
  std::optional<SocketAddress> remote;
};

// Resolves and pairs the addresses by family, then makes, binds and connects
// the socket. `who` is the public call, named in every error message. Throws
// aio::ValueError for options that cannot work together,
// aio::ResolveError when a name does not resolve, std::system_error (the
// first family's) when every attempt fails.
Coro<OpenedSocket> open_datagram_socket(DatagramOptions options, const char* who);

// "127.0.0.1:5000", or "127.0.0.1:5000 connected to 127.0.0.1:53", for error
// messages about the socket `fd`.
std::string describe_socket(int fd, const std::optional<SocketAddress>& remote);

}  // namespace aio::internal

#endif  // AIO_NET_INTERNAL_DATAGRAM_SETUP_H_
