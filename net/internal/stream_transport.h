// The transport behind TCP, Unix-socket and pipe streams: asyncio's
// _SelectorSocketTransport (and its pipe transports) on aio's loop.
//
// Design. The transport is the loop's IoWatcher for its descriptor: epoll
// reports readiness straight to on_io() (level-triggered, registered once).
// A readable socket is read once per readiness into a per-thread 256 KiB buffer
// (asyncio's max_size) and handed to data_received; a short read means the
// socket is drained, so there is no second read that would only see EAGAIN.
// write() sends at once when nothing is buffered; only what the kernel did not
// take is copied into the write buffer, and only then is EPOLLOUT watched. An
// echo round trip therefore costs what a hand-written epoll server pays: one
// epoll_wait, one recv, one send.
//
// The interest set follows the state: EPOLLIN while reading, EPOLLOUT while
// data is buffered; with neither, the descriptor leaves epoll (epoll would
// otherwise keep reporting a hang-up nobody listens for).
//
// Flow control and the close path (force_close, connection_lost from the
// loop, on_loop_close) are the ones every aio transport shares:
// net/internal/transport_core.h.
#ifndef AIO_NET_INTERNAL_STREAM_TRANSPORT_H_
#define AIO_NET_INTERNAL_STREAM_TRANSPORT_H_

#include <memory>
#include <optional>

#include "async/loop.h"
#include "net/address.h"
#include "net/transport.h"

namespace aio::internal {

class ServerState;

struct StreamTransportOptions {
  // A socket (recv/send, peername, shutdown for write_eof) or a pipe (read/write).
  bool socket = true;
  // Start reading at once. False leaves reading paused (TLS attaches first).
  bool start_reading = true;
  // Call protocol->connection_made at once (false: the caller does it later).
  bool call_connection_made = true;
  // The server that accepted the connection, told when it ends.
  std::shared_ptr<ServerState> server;
  // The peer's address when the caller knows it (accept, connect).
  std::optional<SocketAddress> peer;
};

// Takes ownership of `fd` (non-blocking already) and starts the transport. The
// loop keeps it alive until connection_lost has run. Throws std::system_error
// if epoll refuses the descriptor (the descriptor is closed then).
std::shared_ptr<Transport> make_stream_transport(EventLoop& loop, int fd, std::shared_ptr<BaseProtocol> protocol,
                                                 StreamTransportOptions options = {});

}  // namespace aio::internal

#endif  // AIO_NET_INTERNAL_STREAM_TRANSPORT_H_
