// Examples for docs/datagrams.md: a UDP echo server written as a protocol
// (aio::create_datagram_endpoint) and a client written with the awaitable
// aio::DatagramSocket, in one program that prints what came back.
// udp_echo_test.sh checks what it prints.
#include <any>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

#include "aio.h"
#include "net/datagram.h"

using namespace std::chrono_literals;

// [START server]
// The server: the transport calls datagram_received() for each datagram, with
// no coroutine and no copy per datagram.
class EchoServer : public aio::DatagramProtocol {
 public:
  void connection_made(std::shared_ptr<aio::DatagramTransport> transport) override {
    transport_ = std::move(transport);
  }
  void datagram_received(std::string_view data, const aio::SocketAddress& from) override {
    ++echoed_;
    transport_->sendto(data, from);  // never blocks: queued if the kernel has no room
  }
  void connection_lost(std::exception_ptr) override { closed_.set(); }

  int echoed() const { return echoed_; }
  aio::Coro<> wait_closed() { co_await closed_.wait(); }

 private:
  std::shared_ptr<aio::DatagramTransport> transport_;
  int echoed_ = 0;
  aio::Event closed_;
};

aio::Coro<aio::DatagramEndpoint<EchoServer>> start_server() {
  aio::DatagramOptions options;
  options.local_addr = aio::HostAndPort{"127.0.0.1", 0};  // port 0: the kernel picks a free one
  co_return co_await aio::create_datagram_endpoint([] { return std::make_shared<EchoServer>(); }, options);
}
// [END server]

// [START client]
// The client: a connected socket, awaited like a stream. Each call tries the
// system call first and waits on the loop only when the kernel says "not yet".
aio::Coro<> run_client(aio::SocketAddress server) {
  aio::DatagramSocket socket = co_await aio::DatagramSocket::connect(server.host(), server.port());
  for (std::string message : {"hello", "datagram", "world"}) {
    co_await socket.send(message);
    // UDP may lose a datagram: never wait for a reply without a deadline.
    std::string reply = co_await aio::timeout(1s, socket.recv());
    std::printf("reply: %s\n", reply.c_str());
  }
}  // the socket closes here
// [END client]

// [START errors]
// A connected socket hears of an ICMP "port unreachable" as ECONNREFUSED: the
// next receive throws it (a protocol gets it in error_received()).
aio::Coro<> send_to_closed_port(aio::SocketAddress address) {
  aio::DatagramSocket socket = co_await aio::DatagramSocket::connect(address.host(), address.port());
  co_await socket.send("anyone there?");
  try {
    co_await aio::timeout(1s, socket.recv());
  } catch (const std::system_error& error) {
    if (error.code() != std::errc::connection_refused) throw;
    std::printf("a datagram to a closed port: connection refused\n");
  }
}
// [END errors]

// [START main]
aio::Coro<int> amain() {
  aio::DatagramEndpoint<EchoServer> server = co_await start_server();
  const auto address = std::any_cast<aio::SocketAddress>(server.transport->get_extra_info("sockname"));
  std::printf("echo server on %s\n", address.host().c_str());
  co_await run_client(address);

  server.transport->close();
  co_await server.protocol->wait_closed();  // connection_lost() has run
  std::printf("server closed after echoing %d datagrams\n", server.protocol->echoed());
  co_await send_to_closed_port(address);
  co_return 0;
}

int main() { return aio::run_main(amain()); }
// [END main]
