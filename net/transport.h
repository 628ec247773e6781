// Transports and protocols: asyncio's low-level networking API.
//
// A transport owns a connected socket (or pipe) and moves bytes; a protocol is
// the object whose callbacks the transport calls. This is the fastest way to
// write a server with aio: no coroutine per read, no copy of the received bytes.
//
//   struct Echo : aio::Protocol {
//     void connection_made(std::shared_ptr<aio::Transport> transport) override { transport_ = transport; }
//     void data_received(std::string_view data) override { transport_->write(data); }
//     std::shared_ptr<aio::Transport> transport_;
//   };
//   aio::Server server = co_await aio::create_server([] { return std::make_shared<Echo>(); },
//                                                    "127.0.0.1", 8888);
//
// Callback order (asyncio's): connection_made once, then data_received any
// number of times, then eof_received at most once, then connection_lost once.
// pause_writing/resume_writing come in pairs between connection_made and
// connection_lost. All callbacks run on the loop's thread; none runs inside a
// transport call made by the protocol (write() never calls back synchronously,
// except pause_writing as asyncio does, when write() crosses the high-water mark).
//
// An exception escaping a protocol callback is a fatal error for its
// connection: the transport is aborted, connection_lost receives the exception,
// and the loop's exception handler reports it ("Fatal error: protocol.
// data_received() call failed."), as asyncio does.
//
// Lifetimes. The loop keeps an open transport alive; the transport keeps its
// protocol alive until connection_lost has run, then drops it. A protocol may
// keep a shared_ptr to its transport (the usual pattern): the cycle ends when
// the connection is lost.
//
// Errors. OS failures are std::system_error carrying the errno: a refused
// connect is ECONNREFUSED, a port in use EADDRINUSE, a reset connection
// ECONNRESET, writing to a closed peer EPIPE. Nothing here is thread-safe.
#ifndef AIO_NET_TRANSPORT_H_
#define AIO_NET_TRANSPORT_H_

#include <any>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "async/coro.h"
#include "async/loop.h"
#include "net/address.h"

namespace aio {

class Transport;

// What every protocol has (asyncio.BaseProtocol).
class BaseProtocol {
 public:
  virtual ~BaseProtocol() = default;
  // The connection is up. Called once, first.
  virtual void connection_made(std::shared_ptr<Transport> /*transport*/) {}
  // The connection is closed: `error` is null after a clean close or EOF, the
  // reason otherwise (a std::system_error for OS errors). Called once, last.
  virtual void connection_lost(std::exception_ptr /*error*/) {}
  // The transport's write buffer went over its high-water mark: stop writing
  // until resume_writing().
  virtual void pause_writing() {}
  // The write buffer drained to its low-water mark.
  virtual void resume_writing() {}
};

// A stream protocol (asyncio.Protocol): received bytes arrive in a buffer the
// transport owns, valid only during the call.
class Protocol : public BaseProtocol {
 public:
  virtual void data_received(std::string_view /*data*/) {}
  // The peer closed its writing side. Return true to keep the connection open
  // (half-closed: you may still write), false to let the transport close it.
  virtual bool eof_received() { return false; }
};

// A stream protocol that reads straight into its own memory (asyncio.
// BufferedProtocol): no copy between the kernel and the protocol.
class BufferedProtocol : public BaseProtocol {
 public:
  // Returns where the next bytes go; at least one byte. `size_hint` is what the
  // transport would like to read (0: any size).
  virtual std::span<char> get_buffer(std::size_t size_hint) = 0;
  // `bytes` bytes were written at the start of the last get_buffer() span.
  virtual void buffer_updated(std::size_t bytes) = 0;
  virtual bool eof_received() { return false; }
};

// A bidirectional stream transport (asyncio.Transport: BaseTransport +
// ReadTransport + WriteTransport). Handles are shared_ptrs; the object stays
// valid after close (calls then do nothing or throw as documented).
class Transport : public std::enable_shared_from_this<Transport> {
 public:
  virtual ~Transport() = default;

  // --- BaseTransport ---------------------------------------------------------
  // True once close() or abort() was called or the connection was lost.
  virtual bool is_closing() const = 0;
  // Closes after the buffered data is sent; then connection_lost(nullptr) runs
  // in a later iteration. Stops reading at once. Idempotent.
  virtual void close() = 0;
  // Replaces the protocol (asyncio's set_protocol, used by start_tls). The new
  // one gets the callbacks from now on; connection_made is not called on it.
  virtual void set_protocol(std::shared_ptr<BaseProtocol> protocol) = 0;
  virtual std::shared_ptr<BaseProtocol> get_protocol() const = 0;
  // asyncio's get_extra_info: "peername" and "sockname" (SocketAddress),
  // "socket" (int, the file descriptor; do not close it), and from TLS
  // transports "ssl_object" (SSL*), "peercert" (std::string, PEM), "cipher"
  // (std::string), "compression" (std::string). An empty std::any for a name
  // the transport does not know.
  virtual std::any get_extra_info(std::string_view name) const = 0;

  // --- ReadTransport ---------------------------------------------------------
  virtual bool is_reading() const = 0;
  // Stops calling data_received until resume_reading(). No-op if already paused
  // or closing.
  virtual void pause_reading() = 0;
  virtual void resume_reading() = 0;

  // --- WriteTransport --------------------------------------------------------
  // Sends `data` (copied if it cannot be sent at once). Never blocks, never
  // throws for a connection error: the error goes to connection_lost, and
  // writes after the connection was lost are dropped (asyncio logs a warning
  // after 5 such writes; aio too). Throws aio::RuntimeError after write_eof().
  virtual void write(std::string_view data) = 0;
  // write() of each chunk, as one system call when possible (writev).
  virtual void writelines(std::span<const std::string_view> chunks);
  // Shuts down the writing side once the buffer is sent (TCP FIN).
  virtual void write_eof() = 0;
  virtual bool can_write_eof() const = 0;
  // Closes at once, dropping buffered data; connection_lost(nullptr) follows.
  virtual void abort() = 0;
  // Bytes accepted by write() but not yet handed to the kernel.
  virtual std::size_t get_write_buffer_size() const = 0;
  // pause_writing() once the buffer grows above `high` (called from inside the
  // write() that crossed it), resume_writing() once it drains to `low`.
  // Defaults: 64 KiB and 16 KiB (asyncio's). With only `high` given,
  // low = high / 4; with only `low`, high = 4 * low. Throws
  // aio::ValueError if low > high. (The rule of every aio transport:
  // net/internal/transport_core.h.)
  virtual void set_write_buffer_limits(std::optional<std::size_t> high = std::nullopt,
                                       std::optional<std::size_t> low = std::nullopt) = 0;
  // (low, high).
  virtual std::pair<std::size_t, std::size_t> get_write_buffer_limits() const = 0;
};

// The result of create_connection: the transport and the protocol the factory made.
template <class P>
struct Connection {
  std::shared_ptr<Transport> transport;
  std::shared_ptr<P> protocol;
};

using ProtocolFactory = std::function<std::shared_ptr<BaseProtocol>()>;

namespace internal {
// What a connection asks of the TLS layer (internal: see TlsLayer).
struct TlsSettings {
  bool server_side = false;
  std::string server_hostname;
  Duration handshake_timeout = std::chrono::seconds(60);
  Duration shutdown_timeout = std::chrono::seconds(30);
  // Call protocol->connection_made(tls_transport) after the handshake (false
  // for start_tls: the protocol already saw connection_made for the raw one).
  bool call_connection_made = true;
};
class TlsLayerAccess;
}  // namespace internal

// What the `ssl` options and start_tls take: an SslContext (net/tls.h), the
// one implementation; pass a std::shared_ptr<SslContext>. Abstract here so
// that plain-TCP users do not link OpenSSL. Nothing in it is for users to call.
class TlsLayer {
 public:
  virtual ~TlsLayer() = default;

 private:
  friend class internal::TlsLayerAccess;
  // Runs the TLS handshake over `raw` (whose protocol is replaced; its reading
  // may be paused and is resumed) and returns the transport that carries the
  // clear text, with `protocol` attached to it and, if
  // settings.call_connection_made, connection_made called on it. Throws on
  // handshake failure or timeout; the caller aborts `raw` then.
  virtual Coro<std::shared_ptr<Transport>> start_tls(std::shared_ptr<Transport> raw,
                                                     std::shared_ptr<BaseProtocol> protocol,
                                                     internal::TlsSettings settings) = 0;
};

namespace internal {
// The transports' way in to TlsLayer::start_tls (abseil's access-class pattern).
class TlsLayerAccess {
 public:
  static Coro<std::shared_ptr<Transport>> start_tls(TlsLayer& layer, std::shared_ptr<Transport> raw,
                                                    std::shared_ptr<BaseProtocol> protocol, TlsSettings settings) {
    return layer.start_tls(std::move(raw), std::move(protocol), std::move(settings));
  }
};
}  // namespace internal

// Options of create_connection / open_connection (asyncio's keyword arguments).
//
// Set fields on a named variable; `{}` is fine. (The options types have a
// constructor, so they are not aggregates: GCC 12 miscompiles an aggregate
// temporary with a std::string member passed inside a co_await expression,
// e.g. `co_await f(Options{.name = "x"})`, freeing memory it never allocated.)
struct ConnectOptions {
  ConnectOptions() {}
  // TLS: a client context from net/tls.h (std::shared_ptr<SslContext>). Null: plain TCP.
  std::shared_ptr<TlsLayer> ssl;
  // The name the server's certificate must match; defaults to `host`.
  std::string server_hostname;
  std::optional<Duration> ssl_handshake_timeout;  // 60 s when unset
  std::optional<Duration> ssl_shutdown_timeout;   // 30 s when unset
  // AF_INET or AF_INET6 to use only that family; AF_UNSPEC for both.
  int family = AF_UNSPEC;
  // Bind the socket to this address before connecting.
  std::optional<SocketAddress> local_addr;
  // Happy Eyeballs (RFC 8305): start the next address's attempt after this
  // delay while earlier ones are still connecting; the first to connect wins.
  // Unset: try the addresses one after another (asyncio's default). 250 ms is
  // the RFC's recommendation.
  std::optional<Duration> happy_eyeballs_delay;
  // Interleave address families when ordering attempts (asyncio's `interleave`):
  // 1 by default when happy_eyeballs_delay is set.
  int interleave = 0;
};

// Options of create_server / start_server (not an aggregate: see ConnectOptions).
struct ServeOptions {
  ServeOptions() {}
  // TLS: a server context from net/tls.h (std::shared_ptr<SslContext>). Null: plain TCP.
  std::shared_ptr<TlsLayer> ssl;
  std::optional<Duration> ssl_handshake_timeout;
  std::optional<Duration> ssl_shutdown_timeout;
  int family = AF_UNSPEC;
  int backlog = 100;
  // SO_REUSEADDR; asyncio's default on Unix is true.
  bool reuse_address = true;
  // SO_REUSEPORT: several processes (or loops) share the port.
  bool reuse_port = false;
  // SO_KEEPALIVE on accepted connections.
  bool keep_alive = false;
  // Start accepting at once (asyncio's start_serving=True).
  bool start_serving = true;
};

class Server;

// Opens a TCP connection to host:port and attaches a protocol made by
// `factory` (asyncio loop.create_connection). `host` may be a name: it is
// resolved without blocking (net/dns.h) and each address is tried in turn (or
// raced, with options.happy_eyeballs_delay). Throws std::system_error with the
// errno of the last failure (ECONNREFUSED, ETIMEDOUT, ...; "Multiple exceptions"
// in the message when several addresses failed differently), aio::Error if the
// name does not resolve, and the TLS errors of net/tls.h. Cancelling closes the
// half-open sockets. Use aio::timeout() for a connect timeout.
Coro<Connection<BaseProtocol>> create_connection(ProtocolFactory factory, std::string host, std::uint16_t port,
                                                 ConnectOptions options = {});
// Same over a Unix-domain socket at `path`.
Coro<Connection<BaseProtocol>> create_unix_connection(ProtocolFactory factory, std::string path,
                                                      ConnectOptions options = {});
// Wraps an already connected socket (asyncio loop.connect_accepted_socket).
// Takes ownership of `fd` (closed on failure too); makes it non-blocking.
Coro<Connection<BaseProtocol>> connect_accepted_socket(ProtocolFactory factory, int fd,
                                                       ConnectOptions options = {});

// Listens on host:port (asyncio loop.create_server). An empty `host` listens
// on all interfaces (0.0.0.0 and ::), a name listens on each address it
// resolves to, port 0 picks a free port (see Server::sockets()). Each accepted
// connection gets a protocol from `factory`. Throws std::system_error
// (EADDRINUSE, EACCES, ...) with the address in the message.
Coro<Server> create_server(ProtocolFactory factory, std::string host, std::uint16_t port,
                           ServeOptions options = {});
// Same on a Unix-domain socket. A stale socket file at `path` is removed first,
// as asyncio does; any other kind of file there is an error (EADDRINUSE).
Coro<Server> create_unix_server(ProtocolFactory factory, std::string path, ServeOptions options = {});

// Typed forms: the factory's protocol type comes back in Connection<P>.
template <class Factory>
  requires std::is_base_of_v<BaseProtocol, typename std::invoke_result_t<Factory&>::element_type>
auto create_connection(Factory factory, std::string host, std::uint16_t port, ConnectOptions options = {})
    -> Coro<Connection<typename std::invoke_result_t<Factory&>::element_type>> {
  using P = typename std::invoke_result_t<Factory&>::element_type;
  Connection<BaseProtocol> connection = co_await create_connection(
      ProtocolFactory(std::move(factory)), std::move(host), port, std::move(options));
  co_return Connection<P>{std::move(connection.transport), std::static_pointer_cast<P>(connection.protocol)};
}
template <class Factory>
  requires std::is_base_of_v<BaseProtocol, typename std::invoke_result_t<Factory&>::element_type>
auto create_unix_connection(Factory factory, std::string path, ConnectOptions options = {})
    -> Coro<Connection<typename std::invoke_result_t<Factory&>::element_type>> {
  using P = typename std::invoke_result_t<Factory&>::element_type;
  Connection<BaseProtocol> connection =
      co_await create_unix_connection(ProtocolFactory(std::move(factory)), std::move(path), std::move(options));
  co_return Connection<P>{std::move(connection.transport), std::static_pointer_cast<P>(connection.protocol)};
}

template <class Factory>
  requires std::is_base_of_v<BaseProtocol, typename std::invoke_result_t<Factory&>::element_type>
auto connect_accepted_socket(Factory factory, int fd, ConnectOptions options = {})
    -> Coro<Connection<typename std::invoke_result_t<Factory&>::element_type>> {
  using P = typename std::invoke_result_t<Factory&>::element_type;
  Connection<BaseProtocol> connection =
      co_await connect_accepted_socket(ProtocolFactory(std::move(factory)), fd, std::move(options));
  co_return Connection<P>{std::move(connection.transport), std::static_pointer_cast<P>(connection.protocol)};
}

// Upgrades an open connection to TLS (asyncio loop.start_tls): runs the
// handshake over `transport` and returns a new transport for the clear text,
// which `protocol` is attached to. The old transport must not be used after.
Coro<std::shared_ptr<Transport>> start_tls(std::shared_ptr<Transport> transport,
                                           std::shared_ptr<BaseProtocol> protocol,
                                           std::shared_ptr<TlsLayer> ssl, bool server_side,
                                           std::string server_hostname = {},
                                           std::optional<Duration> ssl_handshake_timeout = std::nullopt,
                                           std::optional<Duration> ssl_shutdown_timeout = std::nullopt);

}  // namespace aio

#endif  // AIO_NET_TRANSPORT_H_
