// create_connection / create_server and their Unix forms: resolving, connecting
// (one address after another, or raced with Happy Eyeballs), listening, and
// handing descriptors to the stream transport.
#include "net/transport.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "async/errors.h"
#include "async/task.h"
#include "async/wait.h"
#include "net/dns.h"
#include "net/internal/fd_wait.h"
#include "net/internal/server_state.h"
#include "net/internal/socket.h"
#include "net/internal/stream_transport.h"
#include "net/server.h"

namespace aio {
namespace {

using internal::FileDescriptor;
using internal::os_error;

void set_no_delay(int fd) {
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

std::shared_ptr<BaseProtocol> make_protocol(const ProtocolFactory& factory) {
  std::shared_ptr<BaseProtocol> protocol = factory();
  if (!protocol) throw ValueError("the protocol factory returned a null protocol: it must make one per connection");
  return protocol;
}

internal::TlsSettings tls_settings(bool server_side, std::string server_hostname, std::optional<Duration> handshake,
                                   std::optional<Duration> shutdown) {
  internal::TlsSettings settings;
  settings.server_side = server_side;
  settings.server_hostname = std::move(server_hostname);
  if (handshake) settings.handshake_timeout = *handshake;
  if (shutdown) settings.shutdown_timeout = *shutdown;
  return settings;
}

void check_tls_options(const ConnectOptions& options, const char* who) {
  if (!options.ssl && !options.server_hostname.empty()) {
    throw ValueError(std::string(who) + ": server_hostname is only meaningful with ssl");
  }
  if (!options.ssl && (options.ssl_handshake_timeout || options.ssl_shutdown_timeout)) {
    throw ValueError(std::string(who) + ": ssl_handshake_timeout and ssl_shutdown_timeout are only meaningful with ssl");
  }
  for (const std::optional<Duration>& timeout : {options.ssl_handshake_timeout, options.ssl_shutdown_timeout}) {
    if (timeout && *timeout <= Duration::zero()) {
      throw ValueError(std::string(who) + ": ssl timeouts must be positive");
    }
  }
}

// The socket transport under a TLS connection: it starts with reading paused
// and without connection_made, both of which the TLS layer does once its
// handshake is over.
std::shared_ptr<Transport> make_raw_transport(EventLoop& loop, FileDescriptor fd,
                                              internal::StreamTransportOptions options) {
  options.start_reading = false;
  options.call_connection_made = false;
  return internal::make_stream_transport(loop, fd.release(), std::make_shared<Protocol>(), std::move(options));
}

// Makes the transport for a connected descriptor; with TLS, runs the
// handshake first (as the client, or with `server_side` as the server) and
// returns the clear-text transport.
Coro<Connection<BaseProtocol>> attach(FileDescriptor fd, ProtocolFactory factory, ConnectOptions options,
                                      std::optional<SocketAddress> peer, std::string host, bool server_side = false) {
  EventLoop& loop = get_running_loop();
  std::shared_ptr<BaseProtocol> protocol = make_protocol(factory);
  internal::StreamTransportOptions transport_options;
  transport_options.peer = std::move(peer);
  if (!options.ssl) {
    std::shared_ptr<Transport> transport =
        internal::make_stream_transport(loop, fd.release(), protocol, std::move(transport_options));
    co_return Connection<BaseProtocol>{std::move(transport), std::move(protocol)};
  }
  std::shared_ptr<Transport> raw = make_raw_transport(loop, std::move(fd), std::move(transport_options));
  std::string server_hostname;
  if (!server_side) server_hostname = options.server_hostname.empty() ? std::move(host) : options.server_hostname;
  internal::TlsSettings settings = tls_settings(server_side, std::move(server_hostname),
                                                options.ssl_handshake_timeout, options.ssl_shutdown_timeout);
  std::shared_ptr<Transport> transport;
  try {
    transport = co_await internal::TlsLayerAccess::start_tls(*options.ssl, raw, protocol, std::move(settings));
  } catch (...) {
    raw->abort();
    throw;
  }
  co_return Connection<BaseProtocol>{std::move(transport), std::move(protocol)};
}

// One connect attempt. The descriptor is closed if the attempt fails or is cancelled.
Coro<int> connect_one(AddressInfo info, std::optional<SocketAddress> local_address) {
  FileDescriptor fd(::socket(info.family, info.type | SOCK_NONBLOCK | SOCK_CLOEXEC, info.protocol));
  if (!fd) throw os_error(errno, "socket for " + info.address.to_string());
  if (local_address) {
    if (info.family == AF_INET || info.family == AF_INET6) {
      int one = 1;
      ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    }
    if (::bind(fd.get(), local_address->data(), local_address->size()) < 0) {
      throw os_error(errno, "error while attempting to bind on address " + local_address->to_string());
    }
  }
  if (::connect(fd.get(), info.address.data(), info.address.size()) < 0) {
    if (errno != EINPROGRESS && errno != EAGAIN) throw os_error(errno, "connect to " + info.address.to_string());
    internal::WaitForIo writable(fd.get(), EPOLLOUT);
    co_await writable;
    int error = 0;
    socklen_t length = sizeof error;
    ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &error, &length);
    if (error != 0) throw os_error(error, "connect to " + info.address.to_string());
  }
  if (info.family == AF_INET || info.family == AF_INET6) set_no_delay(fd.get());
  co_return fd.release();
}

// RFC 8305 section 4: alternate address families, starting with the first.
std::vector<AddressInfo> interleave_families(std::vector<AddressInfo> infos, int first_family_count) {
  std::vector<AddressInfo> first;
  std::vector<AddressInfo> others;
  if (infos.empty()) return infos;
  const int first_family = infos[0].family;
  for (AddressInfo& info : infos) (info.family == first_family ? first : others).push_back(std::move(info));
  std::vector<AddressInfo> result;
  std::size_t i = 0;
  std::size_t j = 0;
  const std::size_t count = static_cast<std::size_t>(first_family_count > 0 ? first_family_count : 1);
  while (i < first.size() || j < others.size()) {
    for (std::size_t k = 0; k < count && i < first.size(); ++k) result.push_back(std::move(first[i++]));
    if (j < others.size()) result.push_back(std::move(others[j++]));
  }
  return result;
}

// Turns the failures of every attempt into one error, as asyncio does: the
// error itself when there was one or all are alike, else "Multiple exceptions".
[[noreturn]] void throw_connect_failure(const std::vector<std::exception_ptr>& errors) {
  if (errors.empty()) throw ValueError("create_connection: no address to connect to matches the options (family, local_addr)");
  if (errors.size() == 1) std::rethrow_exception(errors[0]);
  // asyncio compares the errors' texts (which name the address here).
  std::string message = "Multiple exceptions: ";
  std::string first_text;
  int first_code = 0;
  bool all_same = true;
  for (std::size_t i = 0; i < errors.size(); ++i) {
    std::string text;
    try {
      std::rethrow_exception(errors[i]);
    } catch (const std::system_error& error) {
      if (i == 0) first_code = error.code().value();
      text = error.what();
    } catch (const std::exception& error) {
      text = error.what();
    }
    if (i == 0) first_text = text;
    all_same = all_same && text == first_text;
    message += (i ? ", " : "") + text;
  }
  if (all_same) std::rethrow_exception(errors[0]);
  throw std::system_error(first_code, std::system_category(), message);
}

Coro<int> connect_sequentially(std::vector<AddressInfo> infos, std::optional<SocketAddress> local_address) {
  std::vector<std::exception_ptr> errors;
  for (AddressInfo& info : infos) {
    if (local_address && local_address->family() != info.family) continue;
    try {
      co_return co_await connect_one(std::move(info), local_address);
    } catch (const std::exception&) {
      errors.push_back(std::current_exception());
    }
  }
  if (errors.empty()) throw ValueError("create_connection: no address matches the family of local_addr");
  throw_connect_failure(errors);
}

// Happy Eyeballs: a new attempt every `delay` (or at once when one fails) while
// earlier ones are in flight; the first connection wins, the others are cancelled.
Coro<int> connect_staggered(std::vector<AddressInfo> infos, std::optional<SocketAddress> local_address,
                            Duration delay) {
  std::vector<Task<int>> attempts;
  std::vector<std::exception_ptr> errors;
  std::size_t next = 0;
  int winner = -1;
  auto cancel_all = [&attempts] {
    for (Task<int>& attempt : attempts) attempt.cancel();
  };
  try {
    while (winner < 0) {
      while (next < infos.size() && local_address && local_address->family() != infos[next].family) ++next;
      if (next < infos.size()) {
        attempts.push_back(create_task(connect_one(infos[next++], local_address)));
      }
      std::vector<Task<int>> pending;
      for (Task<int>& attempt : attempts) {
        if (!attempt.done()) pending.push_back(attempt);
      }
      if (!pending.empty()) {
        std::optional<Duration> wait_limit;
        if (next < infos.size()) wait_limit = delay;
        co_await wait(pending, FIRST_COMPLETED, wait_limit);
      }
      // Collect what finished: the first success wins; later ones are closed.
      std::vector<Task<int>> still_running;
      for (Task<int>& attempt : attempts) {
        if (!attempt.done()) {
          still_running.push_back(attempt);
          continue;
        }
        if (std::exception_ptr error = attempt.exception()) {
          errors.push_back(error);
        } else if (winner < 0) {
          winner = attempt.result();
        } else {
          ::close(attempt.result());
        }
      }
      attempts = std::move(still_running);
      if (winner < 0 && attempts.empty() && next >= infos.size()) break;
    }
  } catch (const CancelledError&) {
    // An attempt may have connected in the iteration that cancelled us: close
    // what finished, cancel the rest (each closes its own socket).
    for (Task<int>& attempt : attempts) {
      if (attempt.done() && !attempt.cancelled() && !attempt.exception()) ::close(attempt.result());
    }
    cancel_all();
    if (winner >= 0) ::close(winner);
    throw;
  }
  // Losers still connecting are cancelled; each closes its own descriptor.
  cancel_all();
  if (winner >= 0) co_return winner;
  throw_connect_failure(errors);
}

Coro<Connection<BaseProtocol>> connect_tcp(ProtocolFactory factory, std::string host, std::uint16_t port,
                                           ConnectOptions options) {
  check_tls_options(options, "create_connection");
  AddressHints hints;
  hints.family = options.family;
  hints.type = SOCK_STREAM;
  std::vector<AddressInfo> infos = co_await getaddrinfo(host, port, hints);
  int interleave = options.interleave;
  if (options.happy_eyeballs_delay && interleave == 0) interleave = 1;
  if (interleave > 0) infos = interleave_families(std::move(infos), interleave);
  int fd = -1;
  if (options.happy_eyeballs_delay) {
    fd = co_await connect_staggered(std::move(infos), options.local_addr, *options.happy_eyeballs_delay);
  } else {
    fd = co_await connect_sequentially(std::move(infos), options.local_addr);
  }
  FileDescriptor owned(fd);
  co_return co_await attach(std::move(owned), std::move(factory), std::move(options), std::nullopt, std::move(host));
}

}  // namespace

Coro<Connection<BaseProtocol>> create_connection(ProtocolFactory factory, std::string host, std::uint16_t port,
                                                 ConnectOptions options) {
  if (!factory) throw ValueError("create_connection: empty protocol factory");
  if (host.empty()) throw ValueError("create_connection: host must be given");
  co_return co_await connect_tcp(std::move(factory), std::move(host), port, std::move(options));
}

Coro<Connection<BaseProtocol>> create_unix_connection(ProtocolFactory factory, std::string path,
                                                      ConnectOptions options) {
  if (!factory) throw ValueError("create_unix_connection: empty protocol factory");
  check_tls_options(options, "create_unix_connection");
  if (options.ssl && options.server_hostname.empty()) {
    throw ValueError("create_unix_connection: server_hostname must be set when using ssl without a host");
  }
  AddressInfo info;
  info.family = AF_UNIX;
  info.type = SOCK_STREAM;
  info.address = SocketAddress::unix_path(path);
  int fd = co_await connect_one(std::move(info), std::nullopt);
  co_return co_await attach(FileDescriptor(fd), std::move(factory), std::move(options), std::nullopt, {});
}

Coro<Connection<BaseProtocol>> connect_accepted_socket(ProtocolFactory factory, int fd, ConnectOptions options) {
  FileDescriptor owned(fd);
  if (!factory) throw ValueError("connect_accepted_socket: empty protocol factory");
  int type = 0;
  socklen_t length = sizeof type;
  if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &length) < 0) {
    throw os_error(errno, "connect_accepted_socket: descriptor " + std::to_string(fd) + " is not a socket");
  }
  if (type != SOCK_STREAM) throw ValueError("connect_accepted_socket: a stream socket is required");
  int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) throw os_error(errno, "fcntl(O_NONBLOCK)");
  ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  check_tls_options(options, "connect_accepted_socket");
  // An accepted socket with TLS is the server side of the handshake.
  Coro<Connection<BaseProtocol>> attaching =
      attach(std::move(owned), std::move(factory), std::move(options), std::nullopt, {}, /*server_side=*/true);
  co_return co_await std::move(attaching);
}

namespace {

// The accept handler shared by TCP and Unix servers.
void set_up_accepting(const std::shared_ptr<internal::ServerState>& state, ProtocolFactory factory,
                      const ServeOptions& options) {
  EventLoop& loop = state->loop();
  std::weak_ptr<internal::ServerState> weak = state;
  if (!options.ssl) {
    state->set_accept_handler([&loop, weak, factory = std::move(factory)](int fd, const SocketAddress& peer) {
      FileDescriptor owned(fd);
      std::shared_ptr<BaseProtocol> protocol = make_protocol(factory);
      internal::StreamTransportOptions transport_options;
      transport_options.server = weak.lock();
      transport_options.peer = peer;
      internal::make_stream_transport(loop, owned.release(), std::move(protocol), std::move(transport_options));
    });
    return;
  }
  internal::TlsSettings settings =
      tls_settings(true, {}, options.ssl_handshake_timeout, options.ssl_shutdown_timeout);
  state->set_accept_handler([&loop, weak, factory = std::move(factory), ssl = options.ssl, settings](
                                int fd, const SocketAddress& peer) {
    FileDescriptor owned(fd);
    std::shared_ptr<BaseProtocol> protocol = make_protocol(factory);
    internal::StreamTransportOptions transport_options;
    transport_options.server = weak.lock();
    transport_options.peer = peer;
    std::shared_ptr<Transport> raw = make_raw_transport(loop, std::move(owned), std::move(transport_options));
    // The handshake runs as its own task; a failed one closes the connection
    // (asyncio logs it only in debug mode: failed handshakes from strangers
    // are routine for a public server).
    create_task(loop, [](std::shared_ptr<TlsLayer> ssl, std::shared_ptr<Transport> raw,
                         std::shared_ptr<BaseProtocol> protocol, internal::TlsSettings settings) -> Coro<void> {
      try {
        co_await internal::TlsLayerAccess::start_tls(*ssl, raw, protocol, std::move(settings));
      } catch (const std::exception& error) {
        raw->abort();
        if (get_running_loop().get_debug()) {
          std::fprintf(stderr, "aio: TLS handshake failed: %s\n", error.what());
        }
      }
    }(ssl, raw, protocol, settings));
  });
}

FileDescriptor listen_on(const SocketAddress& address, const ServeOptions& options) {
  FileDescriptor fd(::socket(address.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) throw os_error(errno, "socket for " + address.to_string());
  int one = 1;
  if (address.family() != AF_UNIX) {
    if (options.reuse_address) ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (options.reuse_port && ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0) {
      throw os_error(errno, "setsockopt(SO_REUSEPORT)");
    }
    // Listening on :: must not also take the IPv4 port that 0.0.0.0 gets (asyncio sets IPV6_V6ONLY).
    if (address.family() == AF_INET6) ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  }
  if (::bind(fd.get(), address.data(), address.size()) < 0) {
    throw os_error(errno, "error while attempting to bind on address " + address.to_string());
  }
  if (::listen(fd.get(), options.backlog) < 0) throw os_error(errno, "listen on " + address.to_string());
  return fd;
}

void check_serve_options(const ServeOptions& options, const char* who) {
  if (options.backlog <= 0) {
    throw ValueError(std::string(who) + ": backlog must be positive, not " + std::to_string(options.backlog));
  }
  if (!options.ssl && (options.ssl_handshake_timeout || options.ssl_shutdown_timeout)) {
    throw ValueError(std::string(who) + ": ssl_handshake_timeout and ssl_shutdown_timeout are only meaningful with ssl");
  }
}

}  // namespace

Coro<Server> create_server(ProtocolFactory factory, std::string host, std::uint16_t port, ServeOptions options) {
  if (!factory) throw ValueError("create_server: empty protocol factory");
  check_serve_options(options, "create_server");
  EventLoop& loop = get_running_loop();
  AddressHints hints;
  hints.family = options.family;
  hints.type = SOCK_STREAM;
  hints.flags = AI_PASSIVE;
  std::vector<AddressInfo> infos;
  if (host.empty() && options.family == AF_UNSPEC) {
    // All interfaces, both families (asyncio passes host=None to getaddrinfo).
    infos = co_await getaddrinfo("", port, hints);
  } else {
    infos = co_await getaddrinfo(host, port, hints);
  }
  auto state = std::make_shared<internal::ServerState>(loop, options.backlog, options.keep_alive);
  for (const AddressInfo& info : infos) {
    SocketAddress address = info.address;
    // With port 0 and several addresses, every socket takes the port the first got.
    if (port == 0 && !state->addresses().empty()) {
      address = SocketAddress::parse(address.host(), state->addresses()[0].port());
    }
    FileDescriptor fd = listen_on(address, options);
    std::optional<SocketAddress> bound = internal::local_address_of(fd.get());
    if (!bound) throw os_error(errno, "getsockname on the socket listening on " + address.to_string());
    state->add_listener(fd.release(), *bound);
  }
  set_up_accepting(state, std::move(factory), options);
  if (options.start_serving) state->start_serving();
  co_return internal::ServerAccess::server(std::move(state));
}

Coro<Server> create_unix_server(ProtocolFactory factory, std::string path, ServeOptions options) {
  if (!factory) throw ValueError("create_unix_server: empty protocol factory");
  check_serve_options(options, "create_unix_server");
  EventLoop& loop = get_running_loop();
  SocketAddress address = SocketAddress::unix_path(path);
  if (path[0] != '\0') {
    struct stat status {};
    if (::stat(path.c_str(), &status) == 0) {
      if (!S_ISSOCK(status.st_mode)) {
        throw os_error(EADDRINUSE, "create_unix_server: " + path + " exists and is not a socket");
      }
      ::unlink(path.c_str());  // a stale socket from an earlier run
    }
  }
  auto state = std::make_shared<internal::ServerState>(loop, options.backlog, options.keep_alive);
  FileDescriptor fd = listen_on(address, options);
  state->add_listener(fd.release(), address);
  set_up_accepting(state, std::move(factory), options);
  if (options.start_serving) state->start_serving();
  co_return internal::ServerAccess::server(std::move(state));
}

Coro<std::shared_ptr<Transport>> start_tls(std::shared_ptr<Transport> transport,
                                           std::shared_ptr<BaseProtocol> protocol,
                                           std::shared_ptr<TlsLayer> ssl, bool server_side,
                                           std::string server_hostname, std::optional<Duration> ssl_handshake_timeout,
                                           std::optional<Duration> ssl_shutdown_timeout) {
  if (!transport || !protocol || !ssl) throw ValueError("start_tls: transport, protocol and ssl are required");
  if (transport->is_closing()) throw RuntimeError("start_tls: the transport is closing");
  internal::TlsSettings settings =
      tls_settings(server_side, std::move(server_hostname), ssl_handshake_timeout, ssl_shutdown_timeout);
  settings.call_connection_made = false;
  co_return co_await internal::TlsLayerAccess::start_tls(*ssl, std::move(transport), std::move(protocol),
                                                         std::move(settings));
}

}  // namespace aio
