// Name resolution that never blocks the loop: asyncio's loop.getaddrinfo and
// loop.getnameinfo.
//
//   for (const aio::AddressInfo& info : co_await aio::getaddrinfo("example.com", 443)) {
//     std::printf("%s\n", info.address.to_string().c_str());
//   }
//
// The C library's resolver blocks, so, like asyncio, aio calls it on the loop's
// default thread pool (aio::to_thread). A numeric host ("127.0.0.1", "::1") is
// answered on the loop's thread without a thread hop, as asyncio's _ipaddr_info
// does. Cancelling the awaiting task abandons the answer (the lookup itself
// runs to completion on its thread; getaddrinfo cannot be interrupted).
#ifndef AIO_NET_DNS_H_
#define AIO_NET_DNS_H_

#include <netdb.h>
#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <vector>

#include "async/coro.h"
#include "async/errors.h"
#include "net/address.h"

namespace aio {

// One answer of getaddrinfo (asyncio's (family, type, proto, canonname, sockaddr)).
struct AddressInfo {
  int family = AF_UNSPEC;
  int type = 0;
  int protocol = 0;
  std::string canonical_name;  // set on the first answer when AI_CANONNAME was asked
  SocketAddress address;
};

// The resolver failed ("Name or service not known"): Python's socket.gaierror.
// `code` is the EAI_* value.
class ResolveError : public Error {
 public:
  ResolveError(int code, const std::string& what) : Error(what), code(code) {}
  int code;
};

struct AddressHints {
  int family = AF_UNSPEC;       // AF_INET, AF_INET6 or AF_UNSPEC
  int type = SOCK_STREAM;       // SOCK_STREAM, SOCK_DGRAM, or 0 for both
  int protocol = 0;
  int flags = AI_ADDRCONFIG;    // AI_PASSIVE, AI_CANONNAME, ...
};

// Resolves `host` (empty: the wildcard or loopback address, by AI_PASSIVE) with
// `port`. Returns at least one answer; throws ResolveError when there is none
// (the message names the host).
Coro<std::vector<AddressInfo>> getaddrinfo(std::string host, std::uint16_t port, AddressHints hints = {});

// The host name and service of `address` (asyncio's getnameinfo; `flags` are
// NI_* values). Throws ResolveError.
Coro<std::pair<std::string, std::string>> getnameinfo(SocketAddress address, int flags = 0);

}  // namespace aio

#endif  // AIO_NET_DNS_H_
