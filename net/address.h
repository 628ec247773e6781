// aio::SocketAddress: an IPv4, IPv6 or Unix-domain socket address, the C++ form
// of the (host, port) tuples and path strings asyncio passes around.
//
//   auto address = aio::SocketAddress::parse("127.0.0.1", 8080);
//   address.to_string();   // "127.0.0.1:8080"
//   aio::SocketAddress::unix_path("/run/app.sock");
//
// parse() accepts numeric addresses only; names go through aio::getaddrinfo
// (net/dns.h), which never blocks the loop. A value type: copy it freely.
#ifndef AIO_NET_ADDRESS_H_
#define AIO_NET_ADDRESS_H_

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace aio {

class SocketAddress {
 public:
  // An empty address (family AF_UNSPEC).
  SocketAddress() noexcept;
  // Copies `length` bytes of a sockaddr the kernel filled in.
  SocketAddress(const sockaddr* address, socklen_t length) noexcept;

  // A numeric IPv4 or IPv6 address ("10.0.0.1", "::1", "fe80::1%eth0") and a
  // port. Throws aio::ValueError if `host` is not a numeric address.
  static SocketAddress parse(std::string_view host, std::uint16_t port);
  // A Unix-domain address. A leading '\0' names an abstract socket (Linux).
  // Throws aio::ValueError if the path is empty or longer than
  // sockaddr_un allows (107 bytes).
  static SocketAddress unix_path(std::string_view path);

  int family() const noexcept { return storage_.ss_family; }
  bool empty() const noexcept { return family() == AF_UNSPEC; }
  // The numeric host ("127.0.0.1", "::1"); the path for a Unix address.
  std::string host() const;
  // The port (0 for a Unix address).
  std::uint16_t port() const noexcept;
  // "127.0.0.1:8080", "[::1]:8080", or the path of a Unix address ("" for an
  // unnamed Unix socket, "@name" for an abstract one).
  std::string to_string() const;

  const sockaddr* data() const noexcept { return reinterpret_cast<const sockaddr*>(&storage_); }
  sockaddr* data() noexcept { return reinterpret_cast<sockaddr*>(&storage_); }
  socklen_t size() const noexcept { return length_; }
  // For calls that fill the address in: the buffer's capacity, then set_size().
  static constexpr socklen_t capacity() noexcept { return sizeof(sockaddr_storage); }
  void set_size(socklen_t length) noexcept { length_ = length; }

  friend bool operator==(const SocketAddress& a, const SocketAddress& b) noexcept;

 private:
  sockaddr_storage storage_;
  socklen_t length_;
};

}  // namespace aio

#endif  // AIO_NET_ADDRESS_H_
