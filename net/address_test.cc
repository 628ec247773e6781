#include "net/address.h"

#include <stdexcept>

#include "async/testing.h"
#include "gtest/gtest.h"
#include "net/dns.h"

namespace aio {
namespace {

TEST(SocketAddress, ParsesNumericAddresses) {
  SocketAddress v4 = SocketAddress::parse("127.0.0.1", 8080);
  EXPECT_EQ(v4.family(), AF_INET);
  EXPECT_EQ(v4.host(), "127.0.0.1");
  EXPECT_EQ(v4.port(), 8080);
  EXPECT_EQ(v4.to_string(), "127.0.0.1:8080");
  SocketAddress v6 = SocketAddress::parse("::1", 443);
  EXPECT_EQ(v6.family(), AF_INET6);
  EXPECT_EQ(v6.to_string(), "[::1]:443");
  EXPECT_EQ(SocketAddress::parse("[::1]", 443), v6);
  EXPECT_EQ(SocketAddress::parse("fe80::1%1", 0).host(), "fe80::1%1");
  EXPECT_TRUE(SocketAddress().empty());
}

TEST(SocketAddress, RejectsNamesAndBadPaths) {
  EXPECT_THROW(SocketAddress::parse("localhost", 80), aio::ValueError);
  EXPECT_THROW(SocketAddress::parse("1.2.3", 80), aio::ValueError);
  EXPECT_THROW(SocketAddress::parse("fe80::1%nosuchinterface", 80), aio::ValueError);
  EXPECT_THROW(SocketAddress::unix_path(""), aio::ValueError);
  EXPECT_THROW(SocketAddress::unix_path(std::string(200, 'x')), aio::ValueError);
}

TEST(SocketAddress, UnixPaths) {
  SocketAddress path = SocketAddress::unix_path("/run/app.sock");
  EXPECT_EQ(path.family(), AF_UNIX);
  EXPECT_EQ(path.to_string(), "/run/app.sock");
  EXPECT_EQ(path.port(), 0);
  SocketAddress abstract = SocketAddress::unix_path(std::string("\0name", 5));
  EXPECT_EQ(abstract.to_string(), "@name");
}

AIO_TEST(Dns, NumericHostsAreAnsweredWithoutAThread) {
  std::vector<AddressInfo> answers = co_await getaddrinfo("127.0.0.1", 80);
  EXPECT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].address.to_string(), "127.0.0.1:80");
  EXPECT_EQ(answers[0].type, SOCK_STREAM);
  AddressHints both;
  both.type = 0;
  EXPECT_EQ((co_await getaddrinfo("::1", 53, both)).size(), 2u);
}

AIO_TEST(Dns, ResolvesLocalhostAndReportsUnknownNames) {
  std::vector<AddressInfo> answers = co_await getaddrinfo("localhost", 80);
  EXPECT_FALSE(answers.empty());
  for (const AddressInfo& answer : answers) EXPECT_EQ(answer.address.port(), 80);
  bool failed = false;
  try {
    co_await getaddrinfo("no-such-host.invalid", 80);
  } catch (const ResolveError& error) {
    failed = true;
    EXPECT_NE(std::string(error.what()).find("no-such-host.invalid"), std::string::npos);
  }
  EXPECT_TRUE(failed);
  auto [host, service] = co_await getnameinfo(SocketAddress::parse("127.0.0.1", 80), NI_NUMERICHOST | NI_NUMERICSERV);
  EXPECT_EQ(host, "127.0.0.1");
  EXPECT_EQ(service, "80");
}

}  // namespace
}  // namespace aio
