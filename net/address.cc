#include "net/address.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <cstddef>
#include <cstring>
#include <stdexcept>

#include "async/errors.h"

namespace aio {

SocketAddress::SocketAddress() noexcept : length_(0) {
  std::memset(&storage_, 0, sizeof storage_);
  storage_.ss_family = AF_UNSPEC;
}

SocketAddress::SocketAddress(const sockaddr* address, socklen_t length) noexcept : SocketAddress() {
  if (length > sizeof storage_) length = sizeof storage_;
  std::memcpy(&storage_, address, length);
  length_ = length;
}

SocketAddress SocketAddress::parse(std::string_view host, std::uint16_t port) {
  SocketAddress result;
  std::string text(host);
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') text = text.substr(1, text.size() - 2);
  auto* v4 = reinterpret_cast<sockaddr_in*>(&result.storage_);
  if (inet_pton(AF_INET, text.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    result.length_ = sizeof(sockaddr_in);
    return result;
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&result.storage_);
  std::string without_scope = text;
  std::size_t percent = text.find('%');
  if (percent != std::string::npos) without_scope = text.substr(0, percent);
  if (inet_pton(AF_INET6, without_scope.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    if (percent != std::string::npos) {
      std::string scope = text.substr(percent + 1);
      unsigned index = if_nametoindex(scope.c_str());
      if (index == 0) {
        char* end = nullptr;
        unsigned long number = std::strtoul(scope.c_str(), &end, 10);
        if (scope.empty() || *end != '\0') {
          throw ValueError("SocketAddress: unknown IPv6 scope '" + scope + "' in '" + text + "'");
        }
        index = static_cast<unsigned>(number);
      }
      v6->sin6_scope_id = index;
    }
    result.length_ = sizeof(sockaddr_in6);
    return result;
  }
  throw ValueError("SocketAddress: '" + std::string(host) +
                   "' is not a numeric IPv4 or IPv6 address (resolve names with aio::getaddrinfo)");
}

SocketAddress SocketAddress::unix_path(std::string_view path) {
  SocketAddress result;
  auto* address = reinterpret_cast<sockaddr_un*>(&result.storage_);
  if (path.empty()) throw ValueError("SocketAddress: empty Unix socket path");
  if (path.size() >= sizeof address->sun_path) {
    throw ValueError("SocketAddress: Unix socket path is " + std::to_string(path.size()) +
                     " bytes, the limit is " + std::to_string(sizeof address->sun_path - 1));
  }
  address->sun_family = AF_UNIX;
  std::memcpy(address->sun_path, path.data(), path.size());
  // An abstract name's length counts exactly; a path's includes its terminator.
  result.length_ = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + (path[0] == '\0' ? 0 : 1));
  return result;
}

std::string SocketAddress::host() const {
  char text[INET6_ADDRSTRLEN + IF_NAMESIZE + 2] = {};
  switch (family()) {
    case AF_INET:
      inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&storage_)->sin_addr, text, sizeof text);
      return text;
    case AF_INET6: {
      const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&storage_);
      inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof text);
      std::string result = text;
      if (v6->sin6_scope_id != 0) result += "%" + std::to_string(v6->sin6_scope_id);
      return result;
    }
    case AF_UNIX: {
      const auto* address = reinterpret_cast<const sockaddr_un*>(&storage_);
      std::size_t offset = offsetof(sockaddr_un, sun_path);
      if (length_ <= offset) return "";
      std::size_t length = length_ - offset;
      if (address->sun_path[0] == '\0') return std::string(address->sun_path, length);
      return std::string(address->sun_path, strnlen(address->sun_path, length));
    }
    default:
      return "";
  }
}

std::uint16_t SocketAddress::port() const noexcept {
  switch (family()) {
    case AF_INET:
      return ntohs(reinterpret_cast<const sockaddr_in*>(&storage_)->sin_port);
    case AF_INET6:
      return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_port);
    default:
      return 0;
  }
}

std::string SocketAddress::to_string() const {
  switch (family()) {
    case AF_INET:
      return host() + ":" + std::to_string(port());
    case AF_INET6:
      return "[" + host() + "]:" + std::to_string(port());
    case AF_UNIX: {
      std::string path = host();
      if (!path.empty() && path[0] == '\0') path[0] = '@';
      return path;
    }
    default:
      return "<no address>";
  }
}

bool operator==(const SocketAddress& a, const SocketAddress& b) noexcept {
  return a.length_ == b.length_ && std::memcmp(&a.storage_, &b.storage_, a.length_) == 0;
}

}  // namespace aio
