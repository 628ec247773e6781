// Socket set-up for datagram endpoints and sockets (read datagram_setup.h).
//
// Design. asyncio's create_datagram_endpoint resolves both addresses, keys
// the candidates by address family and tries one (local, remote) pair per
// family, in the resolver's order; so does open_datagram_socket. A local
// address with an empty host is the wildcard and needs no resolver call. A
// datagram connect() only records the peer, so nothing here waits on the
// socket: the only suspension is the resolver (aio::getaddrinfo, off the
// loop's thread). Unix-domain endpoints take a path instead of a host and
// remove a stale socket file before binding, as asyncio does.
#include "net/internal/datagram_setup.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "async/errors.h"
#include "net/dns.h"

namespace aio::internal {
namespace {

bool is_ip_family(int family) noexcept { return family == AF_INET || family == AF_INET6; }

void check_family(int family, const char* who) {
  if (family != AF_UNSPEC && family != AF_INET && family != AF_INET6 && family != AF_UNIX) {
    throw ValueError(std::string(who) + ": unsupported address family " + std::to_string(family) +
                     " (use AF_INET, AF_INET6, AF_UNIX or AF_UNSPEC)");
  }
}

// The wildcard address of each family `family` allows, IPv4 first.
std::vector<SocketAddress> wildcard_addresses(int family, std::uint16_t port) {
  std::vector<SocketAddress> addresses;
  if (family == AF_UNSPEC || family == AF_INET) addresses.push_back(SocketAddress::parse("0.0.0.0", port));
  if (family == AF_UNSPEC || family == AF_INET6) addresses.push_back(SocketAddress::parse("::", port));
  return addresses;
}

// IP addresses for one side. A local address with an empty host is the
// wildcard, answered here without a resolver call.
Coro<std::vector<SocketAddress>> resolve(HostAndPort endpoint, int family, bool local) {
  if (local && endpoint.host.empty()) co_return wildcard_addresses(family, endpoint.port);
  AddressHints hints;
  hints.family = family;
  hints.type = SOCK_DGRAM;
  // asyncio passes no flags; AI_PASSIVE only matters for a null host, which a
  // local address never reaches here.
  hints.flags = 0;
  Coro<std::vector<AddressInfo>> resolving = getaddrinfo(std::move(endpoint.host), endpoint.port, hints);
  std::vector<AddressInfo> infos = co_await std::move(resolving);
  std::vector<SocketAddress> addresses;
  for (const AddressInfo& info : infos) {
    if (is_ip_family(info.family)) addresses.push_back(info.address);
  }
  co_return addresses;
}

// A stale socket file at `path` (left by a process that did not unlink it) is
// removed before binding, as asyncio does for Unix datagram endpoints; any other
// kind of file there is left alone and bind() reports EADDRINUSE.
void remove_stale_unix_socket(const SocketAddress& address) {
  std::string path = address.host();
  if (path.empty() || path[0] == '\0') return;  // abstract: nothing on disk
  struct stat status {};
  if (::stat(path.c_str(), &status) == 0 && S_ISSOCK(status.st_mode)) ::unlink(path.c_str());
}

void set_flag(int fd, int option, const char* name) {
  int one = 1;
  if (::setsockopt(fd, SOL_SOCKET, option, &one, sizeof one) < 0) {
    throw os_error(errno, std::string("setsockopt(") + name + ")");
  }
}

// One attempt: a socket of `family`, bound to `local` and connected to `remote`
// when given.
OpenedSocket open_one(int family, const std::optional<SocketAddress>& local, const std::optional<SocketAddress>& remote,
                      const DatagramOptions& options) {
  const std::optional<SocketAddress>& named = remote ? remote : local;
  FileDescriptor fd(::socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) throw os_error(errno, "socket for " + (named ? named->to_string() : std::string("a datagram endpoint")));
  if (options.reuse_port) set_flag(fd.get(), SO_REUSEPORT, "SO_REUSEPORT");
  if (options.allow_broadcast) set_flag(fd.get(), SO_BROADCAST, "SO_BROADCAST");
  if (local) {
    if (family == AF_UNIX) remove_stale_unix_socket(*local);
    if (::bind(fd.get(), local->data(), local->size()) < 0) {
      throw os_error(errno, "error while attempting to bind on address " + local->to_string());
    }
  }
  if (remote && ::connect(fd.get(), remote->data(), remote->size()) < 0) {
    // A datagram connect only records the peer: it never waits (no EINPROGRESS).
    throw os_error(errno, "connect to " + remote->to_string());
  }
  return OpenedSocket{std::move(fd), remote};
}

SocketAddress unix_address(const HostAndPort& endpoint, const char* who) {
  if (endpoint.port != 0) {
    throw ValueError(std::string(who) + ": an AF_UNIX address is a path; its port must be 0, not " +
                     std::to_string(endpoint.port));
  }
  return SocketAddress::unix_path(endpoint.host);
}

}  // namespace

Coro<OpenedSocket> open_datagram_socket(DatagramOptions options, const char* who) {
  check_family(options.family, who);
  if (options.remote_addr && options.remote_addr->host.empty()) {
    throw ValueError(std::string(who) + ": remote_addr needs a host");
  }
  if (options.family == AF_UNIX) {
    if (options.reuse_port || options.allow_broadcast) {
      throw ValueError(std::string(who) + ": reuse_port and allow_broadcast apply to IP sockets only");
    }
    std::optional<SocketAddress> local;
    std::optional<SocketAddress> remote;
    if (options.local_addr) local = unix_address(*options.local_addr, who);
    if (options.remote_addr) remote = unix_address(*options.remote_addr, who);
    co_return open_one(AF_UNIX, local, remote, options);
  }
  if (!options.local_addr && !options.remote_addr) {
    if (options.family == AF_UNSPEC) {
      throw ValueError(std::string(who) +
                       ": unexpected address family: give local_addr, remote_addr or a family");
    }
    co_return open_one(options.family, std::nullopt, std::nullopt, options);
  }

  std::vector<SocketAddress> locals;
  std::vector<SocketAddress> remotes;
  // Each Coro is made before its co_await: GCC 12 may destroy temporaries with
  // non-trivial members made inside a co_await expression twice.
  if (options.local_addr) {
    Coro<std::vector<SocketAddress>> resolving = resolve(*options.local_addr, options.family, /*local=*/true);
    locals = co_await std::move(resolving);
  }
  if (options.remote_addr) {
    Coro<std::vector<SocketAddress>> resolving = resolve(*options.remote_addr, options.family, /*local=*/false);
    remotes = co_await std::move(resolving);
  }

  // One (local, remote) pair per family, the first address of each, in the
  // order the resolver gave (asyncio keys its attempts by family the same way).
  struct Attempt {
    int family;
    std::optional<SocketAddress> local;
    std::optional<SocketAddress> remote;
  };
  std::vector<Attempt> attempts;
  auto tried = [&attempts](int family) {
    for (const Attempt& attempt : attempts) {
      if (attempt.family == family) return true;
    }
    return false;
  };
  if (options.remote_addr) {
    for (const SocketAddress& remote : remotes) {
      if (tried(remote.family())) continue;
      if (!options.local_addr) {
        attempts.push_back(Attempt{remote.family(), std::nullopt, remote});
        continue;
      }
      for (const SocketAddress& local : locals) {
        if (local.family() == remote.family()) {
          attempts.push_back(Attempt{remote.family(), local, remote});
          break;
        }
      }
    }
  } else {
    for (const SocketAddress& local : locals) {
      if (!tried(local.family())) attempts.push_back(Attempt{local.family(), local, std::nullopt});
    }
  }
  if (attempts.empty()) {
    throw ValueError(std::string(who) +
                     ": can not get address information: local_addr and remote_addr have no address "
                     "family in common");
  }
  std::exception_ptr first_error;
  for (const Attempt& attempt : attempts) {
    try {
      co_return open_one(attempt.family, attempt.local, attempt.remote, options);
    } catch (const std::system_error&) {
      if (!first_error) first_error = std::current_exception();
    }
  }
  std::rethrow_exception(first_error);
}

// "127.0.0.1:5000", or "127.0.0.1:5000 connected to 127.0.0.1:53": for error
// messages, which must say which socket failed (and, on a connected socket,
// which peer the error came from).
std::string describe_socket(int fd, const std::optional<SocketAddress>& remote) {
  std::optional<SocketAddress> address = local_address_of(fd);
  std::string text = address ? address->to_string() : std::string();
  if (text.empty()) text = "an unnamed socket";
  if (remote) text += " connected to " + remote->to_string();
  return text;
}

}  // namespace aio::internal
