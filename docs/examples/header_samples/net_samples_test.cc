// The samples in net/'s and subprocess/'s header comments, compiled; those that
// need only loopback and local programs also run. The others name a fixed port
// or a host on the internet, which a test must not use: they are compiled into
// functions nobody calls. //tools/build_checks:header_samples_test checks that
// each sample appears, line for line, in one of the `// [header]` regions here.
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "async/coro.h"
#include "async/run.h"
#include "gtest/gtest.h"
#include "net/address.h"
#include "net/datagram.h"
#include "net/dns.h"
#include "net/server.h"
#include "net/streams.h"
#include "net/tls.h"
#include "net/transport.h"
#include "subprocess/options.h"
#include "subprocess/subprocess.h"

// Compiled, never called (fixed ports, hosts on the internet, files).
namespace compiled_only {

// [net/streams.h]
aio::Coro<void> handle(aio::StreamReader reader, aio::StreamWriter writer) {
  std::string line = co_await reader.readline();
  writer.write(line);
  co_await writer.drain();
  writer.close();
  co_await writer.wait_closed();
}
aio::Coro<void> serve() {
  aio::Server server = co_await aio::start_server(handle, "127.0.0.1", 8888);
  co_await server.serve_forever();
}
aio::Coro<void> connect() {
  auto [reader, writer] = co_await aio::open_connection("example.com", 80);
}
// [end]

// [net/server.h]
aio::Coro<void> handle_client(aio::StreamReader, aio::StreamWriter) { co_return; }
aio::Coro<void> serve_until_cancelled() {
  aio::Server server = co_await aio::start_server(handle_client, "127.0.0.1", 8888);
  std::printf("serving on %s\n", server.sockets()[0].to_string().c_str());
  co_await server.serve_forever();   // until cancelled; then closes
}
// [end]

// [net/transport.h]
aio::Coro<void> serve_echo() {
  struct Echo : aio::Protocol {
    void connection_made(std::shared_ptr<aio::Transport> transport) override { transport_ = transport; }
    void data_received(std::string_view data) override { transport_->write(data); }
    std::shared_ptr<aio::Transport> transport_;
  };
  aio::Server server = co_await aio::create_server([] { return std::make_shared<Echo>(); },
                                                   "127.0.0.1", 8888);
  co_await server.serve_forever();
}
// [end]

// [net/datagram.h]
aio::Coro<void> udp_echo_server() {
  struct Echo : aio::DatagramProtocol {
    void connection_made(std::shared_ptr<aio::DatagramTransport> transport) override {
      transport_ = std::move(transport);
    }
    void datagram_received(std::string_view data, const aio::SocketAddress& from) override {
      transport_->sendto(data, from);
    }
    std::shared_ptr<aio::DatagramTransport> transport_;
  };
  aio::DatagramOptions options;  // not an aggregate (GCC 12, docs/async.md)
  options.local_addr = aio::HostAndPort{"127.0.0.1", 9999};
  auto [transport, protocol] = co_await aio::create_datagram_endpoint(
      [] { return std::make_shared<Echo>(); }, options);
}
aio::Coro<std::string> udp_ping() {
  aio::DatagramSocket socket = co_await aio::DatagramSocket::connect("127.0.0.1", 9999);
  co_await socket.send("ping");
  std::string reply = co_await socket.recv();
  co_return reply;
}
// [end]

// [net/dns.h]
aio::Coro<void> print_addresses() {
  for (const aio::AddressInfo& info : co_await aio::getaddrinfo("example.com", 443)) {
    std::printf("%s\n", info.address.to_string().c_str());
  }
}
// [end]

// [net/tls.h]
aio::Coro<void> tls_client() {
  // Client: verify the server against the system's CAs, check its name.
  aio::ConnectOptions options;
  options.ssl = aio::SslContext::client();
  auto [reader, writer] = co_await aio::open_connection("example.com", 443, options);
}
aio::Coro<void> tls_server() {
  // Server: present a certificate.
  std::shared_ptr<aio::SslContext> tls = aio::SslContext::server();
  tls->load_cert_chain("server.pem", "server.key");
  aio::ServeOptions serve_options;
  serve_options.ssl = tls;
  aio::Server server = co_await aio::start_server(handle, "0.0.0.0", 8443, serve_options);
  co_await server.serve_forever();
}
void trust_my_ca(const std::shared_ptr<aio::SslContext>& context) {
  context->load_verify_locations({.cafile = "ca.pem"});
}
// [end]

}  // namespace compiled_only

namespace {

// [net/address.h]
TEST(AddressSample, ParseAndPrint) {
  auto address = aio::SocketAddress::parse("127.0.0.1", 8080);
  address.to_string();   // "127.0.0.1:8080"
  aio::SocketAddress::unix_path("/run/app.sock");
  EXPECT_EQ(address.to_string(), "127.0.0.1:8080");
}
// [end]

// [subprocess/options.h]
TEST(SubprocessOptionsSample, MergedOutputInTmp) {
  aio::SubprocessOptions options;
  options.std_out = aio::subprocess::PIPE;
  options.std_err = aio::subprocess::STDOUT;
  options.cwd = "/tmp";
  std::string output = aio::run(aio::invoke([options]() -> aio::Coro<std::string> {
    std::vector<std::string> args = {"-c", "pwd; echo oops >&2"};
    aio::Process process = co_await aio::create_subprocess_exec("sh", args, options);
    auto [out, err] = co_await process.communicate();
    co_return *out;
  }));
  EXPECT_EQ(output, "/tmp\noops\n");
}
// [end]

// [subprocess/subprocess.h]
aio::Coro<int> list_tmp() {
  aio::SubprocessOptions options;
  options.std_out = aio::subprocess::PIPE;
  std::vector<std::string> args = {"-l", "/tmp"};
  aio::Process process = co_await aio::create_subprocess_exec("ls", args, options);
  auto [out, err] = co_await process.communicate();   // *out is ls's output
  int status = *process.returncode();                   // 0, or -9 if killed
  co_return status;
}
TEST(SubprocessSample, ListsTmp) { EXPECT_EQ(aio::run(list_tmp()), 0); }
// [end]

}  // namespace
