// Datagrams (UDP, and Unix-domain datagram sockets) on aio's loop, in the two
// forms asyncio users know:
//
// 1. Transport and protocol (asyncio's loop.create_datagram_endpoint): the
//    transport reads each datagram as it arrives and calls the protocol; no
//    coroutine per datagram, no copy of the received bytes. The fast way to
//    write a server.
//
//      struct Echo : aio::DatagramProtocol {
//        void connection_made(std::shared_ptr<aio::DatagramTransport> transport) override {
//          transport_ = std::move(transport);
//        }
//        void datagram_received(std::string_view data, const aio::SocketAddress& from) override {
//          transport_->sendto(data, from);
//        }
//        std::shared_ptr<aio::DatagramTransport> transport_;
//      };
//      aio::DatagramOptions options;  // not an aggregate (GCC 12, docs/async.md)
//      options.local_addr = aio::HostAndPort{"127.0.0.1", 9999};
//      auto [transport, protocol] = co_await aio::create_datagram_endpoint(
//          [] { return std::make_shared<Echo>(); }, options);
//
// 2. An awaitable socket for coroutines (asyncio's loop.sock_recvfrom /
//    sock_sendto on a non-blocking socket, with the socket owned for you):
//
//      aio::DatagramSocket socket = co_await aio::DatagramSocket::connect("127.0.0.1", 9999);
//      co_await socket.send("ping");
//      std::string reply = co_await socket.recv();
//
// How the transport works (asyncio's _SelectorDatagramTransport). It is the
// loop's IoWatcher for its socket, like the stream transport
// (net/internal/stream_transport.h). sendto() sends at once; only when the
// kernel says EAGAIN is the datagram (with its address) copied into a queue,
// and only then is EPOLLOUT watched, until the queue is empty. On readiness the
// transport reads up to kMaxDatagramsPerReadiness datagrams, each handed to
// datagram_received() straight from a per-thread buffer.
//
// Callback order: connection_made once (before create_datagram_endpoint
// returns), then datagram_received / error_received any number of times, then
// connection_lost once, always in a later loop iteration than the close() or
// abort() that caused it. pause_writing / resume_writing come in pairs between
// them. UDP has no connection: error_received() reports the errors a datagram
// socket gets (ECONNREFUSED after an ICMP "port unreachable" on a connected
// endpoint, EMSGSIZE for a datagram too large to send, ...) and the transport
// stays open, as in asyncio. An exception escaping a protocol callback is a
// fatal error instead: the loop's exception handler reports it ("Fatal error:
// protocol.datagram_received() call failed.") and the transport is aborted,
// connection_lost receiving the exception.
//
// Lifetimes. The loop keeps an open transport alive; the transport keeps its
// protocol alive until connection_lost has run. A protocol may hold a
// shared_ptr to its transport: the cycle ends when the connection is lost.
// DatagramSocket is a move-only owner of its descriptor.
//
// Errors. OS failures are std::system_error carrying the errno, with the call
// and the address in the message ("error while attempting to bind on address
// 127.0.0.1:53: Address already in use"). Names that do not resolve throw
// aio::ResolveError (net/dns.h). Invalid arguments throw aio::ValueError
// (asyncio's ValueError). Nothing here is thread-safe.
#ifndef AIO_NET_DATAGRAM_H_
#define AIO_NET_DATAGRAM_H_

#include <sys/socket.h>

#include <any>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "async/coro.h"
#include "net/address.h"

namespace aio {

class DatagramTransport;

// A (host, port) pair, as asyncio's local_addr / remote_addr tuples. `host` is
// a numeric address or a name (resolved with aio::getaddrinfo, off the loop's
// thread). For a local address an empty host means the wildcard address
// (0.0.0.0, or :: for IPv6). For family AF_UNIX, `host` is the socket's path
// (a leading '\0' names an abstract socket) and `port` must be 0.
struct HostAndPort {
  std::string host;
  std::uint16_t port = 0;
};

// Options of create_datagram_endpoint (asyncio's keyword arguments). Not an
// aggregate, on purpose: see ConnectOptions in net/transport.h (a GCC 12 bug
// with aggregate temporaries inside co_await expressions).
struct DatagramOptions {
  DatagramOptions() {}
  // Bind to this address (asyncio's local_addr). Port 0 picks a free port: read
  // it back from get_extra_info("sockname").
  std::optional<HostAndPort> local_addr;
  // Connect to this address (asyncio's remote_addr): the socket then sends only
  // there (sendto() without an address) and receives only from there, and the
  // kernel reports ICMP errors for it (error_received, ECONNREFUSED).
  std::optional<HostAndPort> remote_addr;
  // AF_INET or AF_INET6 to use only that family, AF_UNIX for Unix-domain
  // datagram sockets, AF_UNSPEC to follow the addresses. With neither
  // local_addr nor remote_addr, the family must be given.
  int family = AF_UNSPEC;
  // SO_REUSEPORT: several sockets (processes, loops) share the port; the
  // kernel spreads the datagrams among them. IP families only.
  bool reuse_port = false;
  // SO_BROADCAST: allow sending to broadcast addresses. IP families only.
  bool allow_broadcast = false;
};

// What the transport calls (asyncio.DatagramProtocol with BaseProtocol's
// callbacks). Every callback runs on the loop's thread. Override what you need.
class DatagramProtocol {
 public:
  virtual ~DatagramProtocol() = default;
  // The endpoint is open. Called once, first, before create_datagram_endpoint returns.
  virtual void connection_made(std::shared_ptr<DatagramTransport> /*transport*/) {}
  // One datagram arrived from `from`. `data` points into the transport's buffer
  // and is valid only during the call; copy what you keep. Empty datagrams are
  // delivered too (UDP allows them).
  virtual void datagram_received(std::string_view /*data*/, const SocketAddress& /*from*/) {}
  // A send or receive failed with an OS error (a std::system_error): the
  // datagram involved is lost, the transport stays open. May be called from
  // inside sendto(), as asyncio does, when the immediate send fails.
  virtual void error_received(std::exception_ptr /*error*/) {}
  // The endpoint is closed: `error` is null after close() or abort(), the
  // reason after a fatal error. Called once, last.
  virtual void connection_lost(std::exception_ptr /*error*/) {}
  // The send queue went over the high-water mark: stop sending until
  // resume_writing(). Called from inside the sendto() that crossed the mark.
  virtual void pause_writing() {}
  // The send queue drained to the low-water mark.
  virtual void resume_writing() {}
};

// A datagram endpoint (asyncio.DatagramTransport). Handles are shared_ptrs;
// the object stays valid after close (calls then do nothing, as documented).
class DatagramTransport {
 public:
  virtual ~DatagramTransport() = default;

  // Sends one datagram to the endpoint's remote_addr. Never blocks: when the
  // kernel cannot take it now, it is copied and queued (see
  // get_write_buffer_size). OS errors go to protocol->error_received(), not to
  // the caller. After close() or abort() the datagram is dropped (a warning is
  // printed once after 5 such sends, as asyncio's).
  // Throws aio::ValueError if the endpoint has no remote_addr.
  virtual void sendto(std::string_view data) = 0;
  // Same, to `address`. On an endpoint with a remote_addr, `address` must equal
  // it (get_extra_info("peername")), else aio::ValueError is thrown
  // (asyncio's "Invalid address: must be None or ..."). Throws
  // aio::ValueError for an empty address.
  virtual void sendto(std::string_view data, const SocketAddress& address) = 0;

  // True once close() or abort() was called or a fatal error happened.
  virtual bool is_closing() const = 0;
  // Stops receiving at once; sends what is queued, then closes the socket and
  // calls connection_lost(nullptr) in a later iteration. Idempotent.
  virtual void close() = 0;
  // Closes at once, dropping the queued datagrams; connection_lost(nullptr)
  // follows in a later iteration. Does nothing once the connection is lost.
  virtual void abort() = 0;

  // asyncio's get_extra_info: "peername" (SocketAddress, only with a
  // remote_addr), "sockname" (SocketAddress, the bound address), "socket"
  // (int, the descriptor while open; do not close it). An empty std::any for
  // any other name.
  virtual std::any get_extra_info(std::string_view name) const = 0;
  // Replaces the protocol; the new one gets the callbacks from now on
  // (connection_made is not called on it). Throws aio::ValueError for null.
  virtual void set_protocol(std::shared_ptr<DatagramProtocol> protocol) = 0;
  virtual std::shared_ptr<DatagramProtocol> get_protocol() const = 0;

  // Bytes queued and not yet handed to the kernel, counting 8 bytes per
  // datagram for its header as asyncio does (so that empty datagrams count).
  virtual std::size_t get_write_buffer_size() const = 0;
  // pause_writing() once the queue grows above `high` (called from inside the
  // sendto() that crossed it), resume_writing() once it drains to `low`.
  // Defaults: 64 KiB and 16 KiB (asyncio's). With only `high` given,
  // low = high / 4; with only `low`, high = 4 * low. Throws
  // aio::ValueError if low > high. (The rule of every aio transport:
  // net/internal/transport_core.h.)
  virtual void set_write_buffer_limits(std::optional<std::size_t> high = std::nullopt,
                                       std::optional<std::size_t> low = std::nullopt) = 0;
  // (low, high).
  virtual std::pair<std::size_t, std::size_t> get_write_buffer_limits() const = 0;
};

// What create_datagram_endpoint returns: the transport and the protocol the
// factory made (asyncio's (transport, protocol) tuple).
template <class P>
struct DatagramEndpoint {
  std::shared_ptr<DatagramTransport> transport;
  std::shared_ptr<P> protocol;
};

using DatagramProtocolFactory = std::function<std::shared_ptr<DatagramProtocol>()>;

// Opens a datagram endpoint (asyncio loop.create_datagram_endpoint): resolves
// local_addr and remote_addr (SOCK_DGRAM, without blocking the loop), makes a
// socket per address family they have in common, binds it to local_addr,
// connects it to remote_addr, and attaches a protocol made by `factory`
// (called once the socket is ready). When several families are possible, each
// is tried in turn and the first error is thrown if all fail.
// Throws aio::ValueError for a null factory, a null protocol, neither
// address with family AF_UNSPEC, or addresses with no family in common;
// aio::ResolveError when a name does not resolve; std::system_error for OS
// failures (EADDRINUSE from bind, ...), naming the call and the address.
// Cancelling it closes the socket it was preparing.
Coro<DatagramEndpoint<DatagramProtocol>> create_datagram_endpoint(DatagramProtocolFactory factory,
                                                                  DatagramOptions options = {});

// Typed form: the factory's protocol type comes back in DatagramEndpoint<P>.
template <class Factory>
requires std::is_base_of_v<DatagramProtocol, typename std::invoke_result_t<Factory&>::element_type>
auto create_datagram_endpoint(Factory factory, DatagramOptions options = {})
    -> Coro<DatagramEndpoint<typename std::invoke_result_t<Factory&>::element_type>> {
  using P = typename std::invoke_result_t<Factory&>::element_type;
  // Built outside the co_await expression: GCC 12 destroys temporaries with
  // non-trivial members made inside one twice.
  Coro<DatagramEndpoint<DatagramProtocol>> opening =
      create_datagram_endpoint(DatagramProtocolFactory(std::move(factory)), std::move(options));
  DatagramEndpoint<DatagramProtocol> endpoint = co_await std::move(opening);
  co_return DatagramEndpoint<P>{std::move(endpoint.transport), std::static_pointer_cast<P>(endpoint.protocol)};
}

// One received datagram: its bytes and who sent it (asyncio's (data, addr)).
struct Datagram {
  std::string data;
  SocketAddress from;
};

// Options of DatagramSocket::bind / connect.
struct DatagramSocketOptions {
  // As DatagramOptions: AF_INET, AF_INET6, AF_UNIX, or AF_UNSPEC to follow the address.
  int family = AF_UNSPEC;
  bool reuse_port = false;
  bool allow_broadcast = false;
};

namespace internal {
class DatagramSocketState;
}

// A datagram socket for coroutines. Every operation first tries the system
// call and suspends the task only when the kernel says EAGAIN, waiting for
// readiness on the loop; a task receiving and another sending on the same
// socket at the same time is fine, two tasks receiving (or two sending) at the
// same time is not (aio::RuntimeError, as asyncio's streams).
//
// Cancelling a task blocked in recvfrom()/recv()/sendto()/send() ends the wait
// with CancelledError and leaves the socket usable: nothing was received or
// sent, the next call works as usual.
//
// Move-only; the destructor closes the descriptor. Closing or destroying a
// socket while a task waits in one of its calls wakes that task: the call
// throws std::system_error(EBADF). Moving it meanwhile is fine (the waiting
// call follows the descriptor).
class DatagramSocket {
 public:
  // No UDP datagram is longer: its length field has 16 bits. (The payload of
  // one is at most 65,507 bytes over IPv4 and 65,527 over IPv6.)
  static constexpr std::size_t kMaxUdpDatagramSize = 65535;

  // A closed socket (is_open() false), to be assigned.
  DatagramSocket() noexcept;
  DatagramSocket(DatagramSocket&& other) noexcept;
  DatagramSocket& operator=(DatagramSocket&& other) noexcept;
  ~DatagramSocket();

  // A socket bound to host:port (an empty host: the wildcard address; port 0:
  // a free port, see local_address()). Throws as create_datagram_endpoint.
  static Coro<DatagramSocket> bind(std::string host, std::uint16_t port, DatagramSocketOptions options = {});
  // A socket connected to host:port (bound to a free local port): send() and
  // recv() then talk to that peer only. Throws aio::ValueError for an
  // empty host, and as create_datagram_endpoint.
  static Coro<DatagramSocket> connect(std::string host, std::uint16_t port, DatagramSocketOptions options = {});
  // The general form: bind to options.local_addr and/or connect to
  // options.remote_addr, as create_datagram_endpoint does.
  static Coro<DatagramSocket> open(DatagramOptions options);

  // Receives one datagram of at most `max_size` bytes. A longer datagram is not
  // truncated silently: the kernel discards it, and recvfrom throws
  // std::system_error(EMSGSIZE) naming its real size and sender; the socket stays
  // usable. The default size fits any UDP datagram, so it never throws that for
  // UDP. Throws aio::ValueError if max_size is 0, std::system_error for OS
  // errors (ECONNREFUSED on a connected socket after an ICMP "port
  // unreachable"; EBADF if the socket is or gets closed), aio::RuntimeError if
  // another task is already receiving on this socket.
  Coro<Datagram> recvfrom(std::size_t max_size = kMaxUdpDatagramSize);
  // recvfrom() without the sender's address: for connected sockets.
  Coro<std::string> recv(std::size_t max_size = kMaxUdpDatagramSize);
  // Sends `data` as one datagram to `address`. `data` must stay valid until the
  // call finishes (it is not copied). Throws aio::ValueError for an empty
  // address, std::system_error for OS errors (EMSGSIZE for a datagram too
  // large, EAFNOSUPPORT for an address of the other family, ...),
  // aio::RuntimeError if another task is already sending on this socket.
  Coro<void> sendto(std::string_view data, SocketAddress address);
  // Sends one datagram to the connected peer (EDESTADDRREQ if not connected).
  Coro<void> send(std::string_view data);

  // The address the socket is bound to (getsockname). Throws
  // std::system_error(EBADF) once closed.
  SocketAddress local_address() const;
  // The peer of a connected socket; nullopt otherwise.
  std::optional<SocketAddress> remote_address() const;
  // The descriptor, -1 once closed. The socket still owns it.
  int fileno() const noexcept;
  bool is_open() const noexcept;
  // Closes the descriptor. Tasks waiting in a call on this socket are woken and
  // throw std::system_error(EBADF). Idempotent.
  void close() noexcept;

 private:
  explicit DatagramSocket(std::unique_ptr<internal::DatagramSocketState> state) noexcept;
  // On the heap so that the loop's pointer to it (the readiness watcher)
  // survives moves of the DatagramSocket.
  std::unique_ptr<internal::DatagramSocketState> state_;
};

}  // namespace aio

#endif  // AIO_NET_DATAGRAM_H_
