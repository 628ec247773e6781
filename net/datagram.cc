// create_datagram_endpoint: opens the socket (internal/datagram_setup.cc) and
// starts the transport on it (internal/datagram_transport.cc). The awaitable
// DatagramSocket is in datagram_socket.cc. Read net/datagram.h first.
#include "net/datagram.h"

#include <memory>
#include <stdexcept>
#include <utility>

#include "async/errors.h"
#include "async/loop.h"
#include "net/internal/datagram_setup.h"
#include "net/internal/datagram_transport.h"

namespace aio {

Coro<DatagramEndpoint<DatagramProtocol>> create_datagram_endpoint(DatagramProtocolFactory factory,
                                                                  DatagramOptions options) {
  if (!factory) throw ValueError("create_datagram_endpoint: empty protocol factory");
  EventLoop& loop = get_running_loop();
  Coro<internal::OpenedSocket> opening = internal::open_datagram_socket(std::move(options), "create_datagram_endpoint");
  internal::OpenedSocket opened = co_await std::move(opening);
  // asyncio makes the protocol once the socket is ready.
  std::shared_ptr<DatagramProtocol> protocol = factory();
  if (!protocol) throw ValueError("create_datagram_endpoint: the protocol factory returned null");
  std::shared_ptr<DatagramTransport> transport =
      internal::make_datagram_transport(loop, std::move(opened.fd), protocol, std::move(opened.remote));
  co_return DatagramEndpoint<DatagramProtocol>{std::move(transport), std::move(protocol)};
}

}  // namespace aio
