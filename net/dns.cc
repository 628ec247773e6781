#include "net/dns.h"

#include <cstring>
#include <string>
#include <utility>

#include "async/errors.h"
#include "async/executor.h"

namespace aio {
namespace {

// Answers a numeric host on the calling thread; nullopt when `host` is a name.
std::optional<std::vector<AddressInfo>> numeric_answer(const std::string& host, std::uint16_t port,
                                                       const AddressHints& hints) {
  SocketAddress address;
  try {
    address = SocketAddress::parse(host, port);
  } catch (const ValueError&) {
    return std::nullopt;
  }
  if (hints.family != AF_UNSPEC && hints.family != address.family()) return std::nullopt;
  std::vector<AddressInfo> answers;
  auto add = [&](int type, int protocol) {
    answers.push_back(AddressInfo{address.family(), type, protocol, {}, address});
  };
  if (hints.type == 0 || hints.type == SOCK_STREAM) add(SOCK_STREAM, hints.protocol ? hints.protocol : IPPROTO_TCP);
  if (hints.type == 0 || hints.type == SOCK_DGRAM) add(SOCK_DGRAM, hints.protocol ? hints.protocol : IPPROTO_UDP);
  if (answers.empty()) return std::nullopt;
  return answers;
}

std::vector<AddressInfo> resolve_blocking(const std::string& host, std::uint16_t port, AddressHints hints) {
  addrinfo request{};
  request.ai_family = hints.family;
  request.ai_socktype = hints.type;
  request.ai_protocol = hints.protocol;
  request.ai_flags = hints.flags;
  addrinfo* list = nullptr;
  std::string service = std::to_string(port);
  int code = ::getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &request, &list);
  if (code != 0) {
    std::string reason = code == EAI_SYSTEM ? std::strerror(errno) : gai_strerror(code);
    throw ResolveError(code, "getaddrinfo('" + host + "', " + service + "): " + reason);
  }
  std::vector<AddressInfo> answers;
  for (addrinfo* entry = list; entry != nullptr; entry = entry->ai_next) {
    AddressInfo info;
    info.family = entry->ai_family;
    info.type = entry->ai_socktype;
    info.protocol = entry->ai_protocol;
    if (entry->ai_canonname) info.canonical_name = entry->ai_canonname;
    info.address = SocketAddress(entry->ai_addr, entry->ai_addrlen);
    answers.push_back(std::move(info));
  }
  freeaddrinfo(list);
  if (answers.empty()) throw ResolveError(EAI_NONAME, "getaddrinfo('" + host + "', " + service + "): no address");
  return answers;
}

}  // namespace

Coro<std::vector<AddressInfo>> getaddrinfo(std::string host, std::uint16_t port, AddressHints hints) {
  if (auto answers = numeric_answer(host, port, hints)) co_return std::move(*answers);
  // The job is a named local: GCC 12 destroys a lambda temporary with
  // non-trivial captures twice when it appears inside a co_await expression.
  auto job = [host = std::move(host), port, hints] { return resolve_blocking(host, port, hints); };
  Future<std::vector<AddressInfo>> answers = get_running_loop().run_in_executor(nullptr, std::move(job));
  co_return co_await answers;
}

Coro<std::pair<std::string, std::string>> getnameinfo(SocketAddress address, int flags) {
  auto job = [address, flags] {
    char host[NI_MAXHOST];
    char service[NI_MAXSERV];
    int code = ::getnameinfo(address.data(), address.size(), host, sizeof host, service, sizeof service, flags);
    if (code != 0) {
      std::string reason = code == EAI_SYSTEM ? std::strerror(errno) : gai_strerror(code);
      throw ResolveError(code, "getnameinfo(" + address.to_string() + "): " + reason);
    }
    return std::pair<std::string, std::string>(host, service);
  };
  Future<std::pair<std::string, std::string>> names = get_running_loop().run_in_executor(nullptr, std::move(job));
  co_return co_await names;
}

}  // namespace aio
