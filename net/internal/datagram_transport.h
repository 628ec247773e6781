// The datagram transport (asyncio's _SelectorDatagramTransport) behind
// create_datagram_endpoint. Read net/datagram.h for its contract.
#ifndef AIO_NET_INTERNAL_DATAGRAM_TRANSPORT_H_
#define AIO_NET_INTERNAL_DATAGRAM_TRANSPORT_H_

#include <memory>
#include <optional>

#include "async/loop.h"
#include "net/address.h"
#include "net/datagram.h"
#include "net/internal/socket.h"

namespace aio::internal {

// Takes `fd` (a bound and/or connected non-blocking datagram socket), starts
// watching it and calls protocol->connection_made. The loop keeps the
// transport alive until connection_lost has run. Throws std::system_error if
// epoll refuses the descriptor (which is closed then).
std::shared_ptr<DatagramTransport> make_datagram_transport(EventLoop& loop, FileDescriptor fd,
                                                           std::shared_ptr<DatagramProtocol> protocol,
                                                           std::optional<SocketAddress> remote);

}  // namespace aio::internal

#endif  // AIO_NET_INTERNAL_DATAGRAM_TRANSPORT_H_
