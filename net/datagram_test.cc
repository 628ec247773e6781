// Datagram endpoints (asyncio's create_datagram_endpoint, test_selector_events'
// SelectorDatagramTransportTests and test_base_events' datagram tests) and the
// awaitable DatagramSocket, over real sockets: UDP on the loopback interfaces
// and, where a test needs the kernel to refuse a send (flow control), Unix
// datagram sockets, whose sender waits for the receiver deterministically
// (UDP over loopback never says EAGAIN).
//
// No test sleeps to wait for the network: each waits for the callback or the
// datagram it expects.
#include "net/datagram.h"

#include <sys/socket.h>

#include <algorithm>
#include <any>
#include <cerrno>
#include <memory>
#include <ostream>
#include <random>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "async/task.h"
#include "async/testing.h"
#include "gtest/gtest.h"
#include "net/dns.h"
#include "net/internal/net_testing.h"
#include "sync/event.h"

namespace aio {

// gtest prints addresses readably in failure messages.
void PrintTo(const SocketAddress& address, std::ostream* out) { *out << address.to_string(); }

namespace {

using testing::let_other_tasks_run;
using testing::open_descriptor_count;

// --- helpers -------------------------------------------------------------------

DatagramOptions local_options(std::string host, std::uint16_t port) {
  DatagramOptions options;
  options.local_addr = HostAndPort{std::move(host), port};
  return options;
}

DatagramOptions remote_options(std::string host, std::uint16_t port) {
  DatagramOptions options;
  options.remote_addr = HostAndPort{std::move(host), port};
  return options;
}

DatagramSocketOptions unix_socket_options() {
  DatagramSocketOptions options;
  options.family = AF_UNIX;
  return options;
}

// An abstract Unix socket name (no file to clean up). Random, not the pid:
// concurrent test runs in Bazel's sandboxes share the network namespace (where
// abstract names live) but each has its own pid namespace, so pids repeat.
std::string abstract_name(const std::string& purpose) {
  static const std::string run = std::to_string(std::random_device()()) + std::to_string(std::random_device()());
  return std::string(1, '\0') + "aio-datagram-test-" + run + "-" + purpose;
}

SocketAddress sockname(const std::shared_ptr<DatagramTransport>& transport) {
  return std::any_cast<SocketAddress>(transport->get_extra_info("sockname"));
}

// Records every callback, in order, and wakes the test waiting for one.
struct Recorder : DatagramProtocol {
  void connection_made(std::shared_ptr<DatagramTransport> made) override {
    transport = std::move(made);
    note("connection_made");
  }
  void datagram_received(std::string_view data, const SocketAddress& from) override {
    datagrams.push_back(Datagram{std::string(data), from});
    note("datagram_received");
    if (echo) transport->sendto(data, from);
  }
  void error_received(std::exception_ptr error) override {
    errors.push_back(error);
    note("error_received");
  }
  void connection_lost(std::exception_ptr error) override {
    ++lost;
    lost_error = error;
    note("connection_lost");
  }
  void pause_writing() override {
    paused = true;
    note("pause_writing");
  }
  void resume_writing() override {
    paused = false;
    note("resume_writing");
  }

  void note(std::string call) {
    calls.push_back(std::move(call));
    changed.set();
  }
  auto next_change() {
    changed.clear();
    return changed.wait();
  }
  Coro<void> until_datagrams(std::size_t count) {
    while (datagrams.size() < count) co_await next_change();
  }
  Coro<void> until_errors(std::size_t count) {
    while (errors.size() < count) co_await next_change();
  }
  Coro<void> until_lost() {
    while (lost == 0) co_await next_change();
  }

  bool echo = false;
  std::shared_ptr<DatagramTransport> transport;
  std::vector<Datagram> datagrams;
  std::vector<std::exception_ptr> errors;
  std::vector<std::string> calls;
  std::exception_ptr lost_error;
  int lost = 0;
  bool paused = false;
  Event changed;
};

std::shared_ptr<Recorder> make_recorder() { return std::make_shared<Recorder>(); }
std::shared_ptr<Recorder> make_echo() {
  auto recorder = std::make_shared<Recorder>();
  recorder->echo = true;
  return recorder;
}

// The errno of a std::system_error in `error`, or -1 for anything else.
int error_code(std::exception_ptr error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::system_error& system_error) {
    return system_error.code().value();
  } catch (...) {
    return -1;
  }
}
std::string error_message(std::exception_ptr error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& exception) {
    return exception.what();
  } catch (...) {
    return "?";
  }
}

// A loopback port nothing listens on: bound once to get a free number, then
// released.
Coro<std::uint16_t> unused_port(std::string host) {
  DatagramSocket probe = co_await DatagramSocket::bind(std::move(host), 0);
  co_return probe.local_address().port();
}

std::string numbered(int index) { return "datagram " + std::to_string(index) + std::string(1000, '.'); }

// --- echo over loopback ------------------------------------------------------

AIO_TEST(DatagramEndpoint, EchoesOverIpv4LoopbackWithProtocols) {
  const std::size_t descriptors = open_descriptor_count();
  auto server = co_await create_datagram_endpoint(make_echo, local_options("127.0.0.1", 0));
  const SocketAddress server_address = sockname(server.transport);
  EXPECT_EQ(server_address.host(), "127.0.0.1");
  EXPECT_NE(server_address.port(), 0);
  EXPECT_FALSE(server.transport->get_extra_info("peername").has_value());
  EXPECT_EQ(server.protocol->calls, std::vector<std::string>{"connection_made"});  // before the endpoint returned

  auto client = co_await create_datagram_endpoint(make_recorder, remote_options("127.0.0.1", server_address.port()));
  EXPECT_EQ(std::any_cast<SocketAddress>(client.transport->get_extra_info("peername")), server_address);
  EXPECT_GE(std::any_cast<int>(client.transport->get_extra_info("socket")), 0);
  client.transport->sendto("hello");
  client.transport->sendto("");  // UDP allows empty datagrams
  client.transport->sendto("world", server_address);
  co_await client.protocol->until_datagrams(3);

  const std::vector<Datagram>& echoed = client.protocol->datagrams;
  EXPECT_EQ(echoed[0].data, "hello");
  EXPECT_EQ(echoed[1].data, "");
  EXPECT_EQ(echoed[2].data, "world");
  for (const Datagram& datagram : echoed) EXPECT_EQ(datagram.from, server_address);
  EXPECT_EQ(server.protocol->datagrams.size(), 3u);
  if (!server.protocol->datagrams.empty()) {
    EXPECT_EQ(server.protocol->datagrams[0].from, sockname(client.transport));
  }
  EXPECT_EQ(client.transport->get_write_buffer_size(), 0u);

  client.transport->close();
  server.transport->close();
  co_await client.protocol->until_lost();
  co_await server.protocol->until_lost();
  EXPECT_EQ(client.protocol->lost_error, nullptr);
  EXPECT_EQ(open_descriptor_count(), descriptors);
}

AIO_TEST(DatagramSocket, EchoesOverIpv4Loopback) {
  const std::size_t descriptors = open_descriptor_count();
  {
    DatagramSocket server = co_await DatagramSocket::bind("127.0.0.1", 0);
    const SocketAddress server_address = server.local_address();
    EXPECT_FALSE(server.remote_address().has_value());
    DatagramSocket client = co_await DatagramSocket::connect("127.0.0.1", server_address.port());
    EXPECT_EQ(client.remote_address(), server_address);

    // The server waits first (the slow path: parked until readable)...
    Task<Datagram> receiving = create_task(server.recvfrom());
    co_await let_other_tasks_run();
    EXPECT_FALSE(receiving.done());
    co_await client.send("ping");
    Datagram request = co_await receiving;
    EXPECT_EQ(request.data, "ping");
    EXPECT_EQ(request.from, client.local_address());

    // ...then the datagram is there before the call (the fast path).
    co_await server.sendto("pong", request.from);
    co_await server.sendto("", request.from);
    EXPECT_EQ(co_await client.recv(), "pong");
    EXPECT_EQ(co_await client.recv(), "");
  }
  EXPECT_EQ(open_descriptor_count(), descriptors);
}

AIO_TEST(DatagramEndpoint, EchoesOverIpv6LoopbackInBothForms) {
  auto server = co_await create_datagram_endpoint(make_echo, local_options("::1", 0));
  const SocketAddress server_address = sockname(server.transport);
  EXPECT_EQ(server_address.family(), AF_INET6);
  EXPECT_EQ(server_address.to_string(), "[::1]:" + std::to_string(server_address.port()));

  DatagramSocket client = co_await DatagramSocket::connect("::1", server_address.port());
  EXPECT_EQ(client.local_address().family(), AF_INET6);
  co_await client.send("over IPv6");
  Datagram reply = co_await client.recvfrom();
  EXPECT_EQ(reply.data, "over IPv6");
  EXPECT_EQ(reply.from, server_address);

  auto protocol_client = co_await create_datagram_endpoint(make_recorder, remote_options("::1", server_address.port()));
  protocol_client.transport->sendto("again");
  co_await protocol_client.protocol->until_datagrams(1);
  EXPECT_EQ(protocol_client.protocol->datagrams[0].data, "again");

  protocol_client.transport->close();
  server.transport->close();
  co_await protocol_client.protocol->until_lost();
  co_await server.protocol->until_lost();
}

AIO_TEST(DatagramSocket, ResolvesNamesOffTheLoop) {
  DatagramSocketOptions options;
  options.family = AF_INET;
  DatagramSocket server = co_await DatagramSocket::bind("localhost", 0, options);
  EXPECT_EQ(server.local_address().host(), "127.0.0.1");
  DatagramSocket client = co_await DatagramSocket::connect("localhost", server.local_address().port(), options);
  co_await client.send("by name");
  EXPECT_EQ((co_await server.recvfrom()).data, "by name");
}

AIO_TEST(DatagramEndpoint, TheEmptyLocalHostIsTheWildcardAddress) {
  DatagramOptions options = local_options("", 0);
  options.family = AF_INET;
  auto endpoint = co_await create_datagram_endpoint(make_recorder, options);
  EXPECT_EQ(sockname(endpoint.transport).host(), "0.0.0.0");
  endpoint.transport->close();
  co_await endpoint.protocol->until_lost();
}

// --- errors from the network --------------------------------------------------

// asyncio: a connected UDP endpoint hears of an ICMP "port unreachable" as
// ConnectionRefusedError in error_received, and stays open.
AIO_TEST(DatagramEndpoint, ConnectedEndpointReportsPortUnreachableAsConnectionRefused) {
  const std::uint16_t port = co_await unused_port("127.0.0.1");
  auto client = co_await create_datagram_endpoint(make_recorder, remote_options("127.0.0.1", port));
  client.transport->sendto("anyone there?");
  co_await client.protocol->until_errors(1);
  EXPECT_EQ(error_code(client.protocol->errors[0]), ECONNREFUSED);
  EXPECT_NE(error_message(client.protocol->errors[0]).find("127.0.0.1:" + std::to_string(port)), std::string::npos)
      << error_message(client.protocol->errors[0]);
  EXPECT_FALSE(client.transport->is_closing());
  EXPECT_EQ(client.protocol->lost, 0);
  client.transport->close();
  co_await client.protocol->until_lost();
  EXPECT_EQ(client.protocol->lost_error, nullptr);
}

AIO_TEST(DatagramSocket, ConnectedSocketRaisesConnectionRefused) {
  const std::uint16_t port = co_await unused_port("127.0.0.1");
  DatagramSocket client = co_await DatagramSocket::connect("127.0.0.1", port);
  co_await client.send("anyone there?");
  int code = 0;
  try {
    co_await client.recv();
  } catch (const std::system_error& error) {
    code = error.code().value();
  }
  EXPECT_EQ(code, ECONNREFUSED);
  EXPECT_TRUE(client.is_open());  // an error for one datagram, not for the socket
}

AIO_TEST(DatagramEndpoint, SendErrorsGoToErrorReceived) {
  auto endpoint = co_await create_datagram_endpoint(make_recorder, local_options("127.0.0.1", 0));
  // An IPv6 destination on an IPv4 socket: the kernel refuses (EAFNOSUPPORT)
  // at once, and error_received runs inside sendto, as asyncio's.
  endpoint.transport->sendto("x", SocketAddress::parse("::1", 9));
  EXPECT_EQ(endpoint.protocol->errors.size(), 1u);
  if (endpoint.protocol->errors.size() == 1u) {
    EXPECT_EQ(error_code(endpoint.protocol->errors[0]), EAFNOSUPPORT);
    EXPECT_NE(error_message(endpoint.protocol->errors[0]).find("sendto [::1]:9"), std::string::npos);
  }
  EXPECT_FALSE(endpoint.transport->is_closing());
  endpoint.transport->close();
  co_await endpoint.protocol->until_lost();
}

// --- sendto's address ----------------------------------------------------------

AIO_TEST(DatagramEndpoint, SendtoChecksTheAddressOfAConnectedEndpoint) {
  auto server = co_await create_datagram_endpoint(make_recorder, local_options("127.0.0.1", 0));
  const SocketAddress server_address = sockname(server.transport);
  auto client = co_await create_datagram_endpoint(make_recorder, remote_options("127.0.0.1", server_address.port()));

  // asyncio's ValueError('Invalid address: must be None or ...').
  const SocketAddress elsewhere = SocketAddress::parse("127.0.0.1", server_address.port() == 9 ? 10 : 9);
  std::string message;
  try {
    client.transport->sendto("x", elsewhere);
  } catch (const aio::ValueError& error) {
    message = error.what();
  }
  EXPECT_NE(message.find("must be absent or " + server_address.to_string()), std::string::npos) << message;

  client.transport->sendto("to the remote address", server_address);  // the remote address itself is fine
  co_await server.protocol->until_datagrams(1);
  EXPECT_EQ(server.protocol->datagrams[0].data, "to the remote address");

  // An unconnected endpoint needs an address.
  EXPECT_THROW(server.transport->sendto("x"), aio::ValueError);
  EXPECT_THROW(server.transport->sendto("x", SocketAddress()), aio::ValueError);

  client.transport->close();
  server.transport->close();
  co_await client.protocol->until_lost();
  co_await server.protocol->until_lost();
}

// --- flow control ----------------------------------------------------------------

// The sender of these tests is connected to a Unix datagram receiver that
// reads only when the test says: with the smallest send buffer the kernel
// allows, the sender's sends soon meet EAGAIN.
struct UnixPair {
  DatagramSocket receiver;
  DatagramEndpoint<Recorder> sender;
};

Coro<UnixPair> make_unix_pair(std::string name) {
  UnixPair pair;
  pair.receiver = co_await DatagramSocket::bind(name, 0, unix_socket_options());
  DatagramOptions options = remote_options(name, 0);
  options.family = AF_UNIX;
  pair.sender = co_await create_datagram_endpoint(make_recorder, options);
  const int fd = std::any_cast<int>(pair.sender.transport->get_extra_info("socket"));
  const int smallest = 1;  // the kernel rounds it up to its minimum (4608 bytes)
  ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &smallest, sizeof smallest);
  co_return pair;
}

// Sends numbered datagrams until `stop` says so; returns how many were sent
// and the index of the first one that had to be queued (-1 if none).
template <class Stop>
std::pair<int, int> send_until(DatagramTransport& transport, Stop stop) {
  int sent = 0;
  int first_queued = -1;
  // Bounded, so that a kernel that never refuses fails the test instead of hanging it.
  constexpr int kMostDatagrams = 10000;
  while (!stop() && sent < kMostDatagrams) {
    transport.sendto(numbered(sent));
    if (first_queued < 0 && transport.get_write_buffer_size() > 0) first_queued = sent;
    ++sent;
  }
  return {sent, first_queued};
}

AIO_TEST(DatagramEndpoint, PausesWritingAboveTheHighMarkAndResumesAtTheLowMark) {
  UnixPair pair = co_await make_unix_pair(abstract_name("flow"));
  DatagramTransport& transport = *pair.sender.transport;
  Recorder& protocol = *pair.sender.protocol;
  transport.set_write_buffer_limits(4096, 1024);
  EXPECT_EQ(transport.get_write_buffer_limits(), (std::pair<std::size_t, std::size_t>(1024, 4096)));

  auto [sent, first_queued] = send_until(transport, [&protocol] { return protocol.paused; });
  EXPECT_TRUE(protocol.paused);  // called from inside the sendto that crossed the mark
  EXPECT_GT(first_queued, 0);
  // Each queued datagram counts its size plus 8 bytes, as asyncio's.
  const std::size_t queued = static_cast<std::size_t>(sent - first_queued);
  EXPECT_EQ(transport.get_write_buffer_size(), queued * (numbered(0).size() + 8));
  EXPECT_GT(transport.get_write_buffer_size(), 4096u);

  // The receiver drains; the transport sends the queue in order as room
  // appears, and resumes the protocol once at most 1024 bytes are queued.
  for (int index = 0; index < sent; ++index) {
    std::string datagram = co_await pair.receiver.recv();
    EXPECT_EQ(datagram, numbered(index));
    if (datagram != numbered(index)) break;
  }
  EXPECT_FALSE(protocol.paused);
  EXPECT_EQ(transport.get_write_buffer_size(), 0u);
  EXPECT_EQ(std::count(protocol.calls.begin(), protocol.calls.end(), "pause_writing"), 1);
  EXPECT_EQ(std::count(protocol.calls.begin(), protocol.calls.end(), "resume_writing"), 1);
  EXPECT_TRUE(protocol.errors.empty());

  transport.close();
  co_await protocol.until_lost();
}

AIO_TEST(DatagramEndpoint, SetWriteBufferLimitsRejectsLowAboveHigh) {
  auto endpoint = co_await create_datagram_endpoint(make_recorder, local_options("127.0.0.1", 0));
  EXPECT_EQ(endpoint.transport->get_write_buffer_limits(), (std::pair<std::size_t, std::size_t>(16384, 65536)));
  EXPECT_THROW(endpoint.transport->set_write_buffer_limits(100, 200), aio::ValueError);
  endpoint.transport->set_write_buffer_limits(std::nullopt, 1000);
  EXPECT_EQ(endpoint.transport->get_write_buffer_limits(), (std::pair<std::size_t, std::size_t>(1000, 4000)));
  endpoint.transport->close();
  co_await endpoint.protocol->until_lost();
}

// --- closing ---------------------------------------------------------------------

AIO_TEST(DatagramEndpoint, CloseCallsConnectionLostOnceAfterTheCallbacksAlreadyScheduled) {
  const std::size_t descriptors = open_descriptor_count();
  EventLoop& loop = get_running_loop();
  auto endpoint = co_await create_datagram_endpoint(make_recorder, local_options("127.0.0.1", 0));
  std::vector<std::string>& calls = endpoint.protocol->calls;

  loop.call_soon([&calls] { calls.push_back("callback scheduled before close"); });
  endpoint.transport->close();
  EXPECT_TRUE(endpoint.transport->is_closing());
  EXPECT_EQ(endpoint.protocol->lost, 0);  // never from inside close()
  endpoint.transport->close();            // idempotent
  endpoint.transport->abort();            // nothing left to abort
  loop.call_soon([&calls] { calls.push_back("callback scheduled after close"); });
  endpoint.transport->sendto("dropped", SocketAddress::parse("127.0.0.1", 9));  // after close: dropped
  EXPECT_EQ(endpoint.transport->get_write_buffer_size(), 0u);

  co_await endpoint.protocol->until_lost();
  EXPECT_EQ(calls, (std::vector<std::string>{"connection_made", "callback scheduled before close", "connection_lost",
                                             "callback scheduled after close"}));
  EXPECT_EQ(endpoint.protocol->lost, 1);
  EXPECT_TRUE(endpoint.protocol->errors.empty());
  EXPECT_FALSE(endpoint.transport->get_extra_info("socket").has_value());
  EXPECT_EQ(endpoint.transport->get_protocol(), nullptr);  // the cycle is broken
  EXPECT_EQ(open_descriptor_count(), descriptors);
}

AIO_TEST(DatagramEndpoint, CloseSendsTheQueueBeforeConnectionLost) {
  UnixPair pair = co_await make_unix_pair(abstract_name("close"));
  DatagramTransport& transport = *pair.sender.transport;
  Recorder& protocol = *pair.sender.protocol;
  // Until five datagrams wait in the queue.
  auto [sent, first_queued] =
      send_until(transport, [&transport] { return transport.get_write_buffer_size() >= 5 * (numbered(0).size() + 8); });
  EXPECT_GT(first_queued, 0);
  transport.close();
  EXPECT_TRUE(transport.is_closing());
  transport.sendto("after close");  // dropped, not queued
  EXPECT_EQ(transport.get_write_buffer_size(), 5 * (numbered(0).size() + 8));

  co_await let_other_tasks_run();
  EXPECT_EQ(protocol.lost, 0);  // the queue is still waiting for room

  for (int index = 0; index < sent; ++index) {
    std::string datagram = co_await pair.receiver.recv();
    EXPECT_EQ(datagram, numbered(index));
    if (datagram != numbered(index)) break;
  }
  co_await protocol.until_lost();
  EXPECT_EQ(protocol.lost, 1);
  EXPECT_EQ(protocol.lost_error, nullptr);
  EXPECT_EQ(transport.get_write_buffer_size(), 0u);
  // Nothing came after the last queued datagram ("after close" was dropped).
  char byte;
  const ssize_t extra = ::recv(pair.receiver.fileno(), &byte, 1, MSG_DONTWAIT);
  const int extra_error = errno;
  EXPECT_EQ(extra, -1);
  EXPECT_EQ(extra_error, EAGAIN);
}

AIO_TEST(DatagramEndpoint, AbortDropsTheQueue) {
  UnixPair pair = co_await make_unix_pair(abstract_name("abort"));
  DatagramTransport& transport = *pair.sender.transport;
  Recorder& protocol = *pair.sender.protocol;
  auto [sent, first_queued] = send_until(transport, [&transport] { return transport.get_write_buffer_size() > 0; });
  EXPECT_GT(sent, 0);
  EXPECT_EQ(first_queued, sent - 1);
  transport.sendto("also queued");
  transport.abort();
  EXPECT_TRUE(transport.is_closing());
  EXPECT_EQ(transport.get_write_buffer_size(), 0u);
  EXPECT_EQ(protocol.lost, 0);
  co_await protocol.until_lost();
  EXPECT_EQ(protocol.lost, 1);
  EXPECT_EQ(protocol.lost_error, nullptr);

  // Only what the kernel took before the queue formed arrives.
  for (int index = 0; index < first_queued; ++index) EXPECT_EQ(co_await pair.receiver.recv(), numbered(index));
  char byte;
  const ssize_t extra = ::recv(pair.receiver.fileno(), &byte, 1, MSG_DONTWAIT);
  const int extra_error = errno;
  EXPECT_EQ(extra, -1);
  EXPECT_EQ(extra_error, EAGAIN);
}

// --- protocol callbacks that throw -----------------------------------------------

struct ThrowsOnDatagram : Recorder {
  void datagram_received(std::string_view data, const SocketAddress& from) override {
    Recorder::datagram_received(data, from);
    throw std::runtime_error("cannot parse " + std::string(data));
  }
};

struct ThrowsOnConnectionMade : Recorder {
  void connection_made(std::shared_ptr<DatagramTransport> made) override {
    Recorder::connection_made(std::move(made));
    throw std::runtime_error("not ready");
  }
};

AIO_TEST(DatagramEndpoint, AnExceptionFromDatagramReceivedIsReportedAndClosesTheEndpoint) {
  std::vector<ExceptionContext> reports;
  get_running_loop().set_exception_handler(
      [&reports](EventLoop&, const ExceptionContext& context) { reports.push_back(context); });
  auto endpoint = co_await create_datagram_endpoint([] { return std::make_shared<ThrowsOnDatagram>(); },
                                                    local_options("127.0.0.1", 0));
  DatagramSocket sender = co_await DatagramSocket::connect("127.0.0.1", sockname(endpoint.transport).port());
  co_await sender.send("first");
  co_await sender.send("second");  // both are waiting before the endpoint reads
  co_await endpoint.protocol->until_lost();

  EXPECT_EQ(endpoint.protocol->datagrams.size(), 1u);  // nothing is delivered after the fatal error
  EXPECT_EQ(reports.size(), 1u);
  if (reports.size() == 1u) {
    EXPECT_EQ(reports[0].message, "Fatal error: protocol.datagram_received() call failed.");
    EXPECT_EQ(error_message(reports[0].exception), "cannot parse first");
  }
  EXPECT_EQ(error_message(endpoint.protocol->lost_error), "cannot parse first");
  EXPECT_TRUE(endpoint.transport->is_closing());
}

AIO_TEST(DatagramEndpoint, AnExceptionFromConnectionMadeIsReportedAndClosesTheEndpoint) {
  std::vector<ExceptionContext> reports;
  get_running_loop().set_exception_handler(
      [&reports](EventLoop&, const ExceptionContext& context) { reports.push_back(context); });
  auto endpoint = co_await create_datagram_endpoint([] { return std::make_shared<ThrowsOnConnectionMade>(); },
                                                    local_options("127.0.0.1", 0));
  EXPECT_TRUE(endpoint.transport->is_closing());
  co_await endpoint.protocol->until_lost();
  EXPECT_EQ(reports.size(), 1u);
  if (reports.size() == 1u) {
    EXPECT_EQ(reports[0].message, "Fatal error: protocol.connection_made() call failed.");
  }
  EXPECT_EQ(error_message(endpoint.protocol->lost_error), "not ready");
}

// --- DatagramSocket waits: cancel, close, two directions ----------------------

AIO_TEST(DatagramSocket, CancellingRecvfromLeavesTheSocketUsable) {
  const std::size_t descriptors = open_descriptor_count();
  {
    DatagramSocket socket = co_await DatagramSocket::bind("127.0.0.1", 0);
    Task<Datagram> receiving = create_task(socket.recvfrom());
    co_await let_other_tasks_run();
    EXPECT_FALSE(receiving.done());
    receiving.cancel("enough");
    std::string message = "not cancelled";
    try {
      co_await receiving;
    } catch (const CancelledError& error) {
      message = error.message();
    }
    EXPECT_EQ(message, "enough");

    DatagramSocket peer = co_await DatagramSocket::connect("127.0.0.1", socket.local_address().port());
    co_await peer.send("after the cancel");
    EXPECT_EQ((co_await socket.recvfrom()).data, "after the cancel");
    // A new wait parks and wakes as usual: the cancelled one left nothing behind.
    Task<Datagram> again = create_task(socket.recvfrom());
    co_await let_other_tasks_run();
    EXPECT_FALSE(again.done());
    co_await peer.send("second");
    EXPECT_EQ((co_await again).data, "second");
  }
  EXPECT_EQ(open_descriptor_count(), descriptors);
}

AIO_TEST(DatagramSocket, CloseWakesTheWaitingTaskWithEbadf) {
  const std::size_t descriptors = open_descriptor_count();
  DatagramSocket socket = co_await DatagramSocket::bind("127.0.0.1", 0);
  Task<Datagram> receiving = create_task(socket.recvfrom());
  co_await let_other_tasks_run();
  socket.close();
  EXPECT_FALSE(socket.is_open());
  EXPECT_EQ(socket.fileno(), -1);
  int code = 0;
  try {
    co_await receiving;
  } catch (const std::system_error& error) {
    code = error.code().value();
  }
  EXPECT_EQ(code, EBADF);
  socket.close();  // idempotent
  EXPECT_EQ(open_descriptor_count(), descriptors);
}

AIO_TEST(DatagramSocket, OneTaskReceivesWhileAnotherWaitsToSend) {
  const std::string name_a = abstract_name("a");
  const std::string name_b = abstract_name("b");
  DatagramSocket b = co_await DatagramSocket::bind(name_b, 0, unix_socket_options());
  DatagramOptions options = remote_options(name_b, 0);
  options.local_addr = HostAndPort{name_a, 0};
  options.family = AF_UNIX;
  DatagramSocket a = co_await DatagramSocket::open(options);
  const int smallest = 1;
  ::setsockopt(a.fileno(), SOL_SOCKET, SO_SNDBUF, &smallest, sizeof smallest);

  Task<std::string> receiving = create_task(a.recv());
  // Fill b until a's next send has to wait.
  int filled = 0;
  int refusal = 0;
  for (;;) {
    const std::string datagram = numbered(filled);
    if (::send(a.fileno(), datagram.data(), datagram.size(), MSG_DONTWAIT) < 0) {
      refusal = errno;
      break;
    }
    ++filled;
  }
  EXPECT_EQ(refusal, EAGAIN);
  Task<void> sending = create_task(a.send("waited for room"));
  co_await let_other_tasks_run();
  EXPECT_FALSE(receiving.done());
  EXPECT_FALSE(sending.done());  // both parked on a's descriptor at once
  // A second receiver is refused, as asyncio refuses a second reader.
  EXPECT_THROW(co_await a.recv(), std::runtime_error);

  for (int index = 0; index < filled; ++index) EXPECT_EQ(co_await b.recv(), numbered(index));
  EXPECT_EQ(co_await b.recv(), "waited for room");
  co_await sending;
  EXPECT_FALSE(receiving.done());
  co_await b.sendto("to a", a.local_address());
  EXPECT_EQ(co_await receiving, "to a");
}

AIO_TEST(DatagramSocket, ADatagramLongerThanMaxSizeThrowsAndIsDiscarded) {
  DatagramSocket socket = co_await DatagramSocket::bind("127.0.0.1", 0);
  DatagramSocket peer = co_await DatagramSocket::connect("127.0.0.1", socket.local_address().port());
  co_await peer.send("0123456789");
  co_await peer.send("next");
  int code = 0;
  std::string message;
  try {
    co_await socket.recvfrom(4);
  } catch (const std::system_error& error) {
    code = error.code().value();
    message = error.what();
  }
  EXPECT_EQ(code, EMSGSIZE);
  EXPECT_NE(message.find("10-byte datagram from " + peer.local_address().to_string()), std::string::npos) << message;
  EXPECT_EQ((co_await socket.recvfrom(4)).data, "next");
  // A size above the default takes another path (no shared buffer): same result.
  co_await peer.send("large buffer");
  EXPECT_EQ((co_await socket.recvfrom(100000)).data, "large buffer");
}

// --- bad inputs -------------------------------------------------------------------

AIO_TEST(DatagramEndpoint, BadArgumentsThrowClearErrors) {
  DatagramProtocolFactory no_factory;
  EXPECT_THROW(co_await create_datagram_endpoint(no_factory, local_options("127.0.0.1", 0)), aio::ValueError);
  DatagramProtocolFactory null_protocol = [] { return std::shared_ptr<DatagramProtocol>(); };
  EXPECT_THROW(co_await create_datagram_endpoint(null_protocol, local_options("127.0.0.1", 0)), aio::ValueError);
  // Neither address nor family: asyncio's ValueError('unexpected address family').
  DatagramOptions nothing;
  EXPECT_THROW(co_await create_datagram_endpoint(make_recorder, nothing), aio::ValueError);
  // Families that do not match.
  DatagramOptions mixed = local_options("127.0.0.1", 0);
  mixed.remote_addr = HostAndPort{"::1", 9};
  std::string message;
  try {
    co_await create_datagram_endpoint(make_recorder, mixed);
  } catch (const aio::ValueError& error) {
    message = error.what();
  }
  EXPECT_NE(message.find("can not get address information"), std::string::npos) << message;
  // A Unix path has no port.
  DatagramOptions unix_with_port = local_options(abstract_name("port"), 80);
  unix_with_port.family = AF_UNIX;
  EXPECT_THROW(co_await create_datagram_endpoint(make_recorder, unix_with_port), aio::ValueError);
  DatagramOptions odd_family = local_options("127.0.0.1", 0);
  odd_family.family = AF_PACKET;
  EXPECT_THROW(co_await create_datagram_endpoint(make_recorder, odd_family), aio::ValueError);
  // An address of the other family than asked: the resolver says so.
  DatagramOptions wrong_family = remote_options("127.0.0.1", 9);
  wrong_family.family = AF_INET6;
  EXPECT_THROW(co_await create_datagram_endpoint(make_recorder, wrong_family), ResolveError);
}

AIO_TEST(DatagramEndpoint, BindingABusyPortNamesTheAddress) {
  DatagramSocket first = co_await DatagramSocket::bind("127.0.0.1", 0);
  const SocketAddress taken = first.local_address();
  int code = 0;
  std::string message;
  try {
    co_await create_datagram_endpoint(make_recorder, local_options("127.0.0.1", taken.port()));
  } catch (const std::system_error& error) {
    code = error.code().value();
    message = error.what();
  }
  EXPECT_EQ(code, EADDRINUSE);
  EXPECT_NE(message.find("bind on address " + taken.to_string()), std::string::npos) << message;
}

AIO_TEST(DatagramSocket, BadArgumentsThrowClearErrors) {
  EXPECT_THROW(co_await DatagramSocket::connect("", 9), aio::ValueError);
  DatagramSocket socket = co_await DatagramSocket::bind("127.0.0.1", 0);
  EXPECT_THROW(co_await socket.recvfrom(0), aio::ValueError);
  EXPECT_THROW(co_await socket.sendto("x", SocketAddress()), aio::ValueError);
  // An IPv6 destination for an IPv4 socket: the errno, with the call and address.
  int code = 0;
  std::string message;
  try {
    co_await socket.sendto("x", SocketAddress::parse("::1", 9));
  } catch (const std::system_error& error) {
    code = error.code().value();
    message = error.what();
  }
  EXPECT_EQ(code, EAFNOSUPPORT);
  EXPECT_NE(message.find("sendto [::1]:9"), std::string::npos) << message;
  // send() on an unconnected socket.
  code = 0;
  try {
    co_await socket.send("x");
  } catch (const std::system_error& error) {
    code = error.code().value();
  }
  EXPECT_EQ(code, EDESTADDRREQ);

  // A closed (or never opened) socket: EBADF.
  DatagramSocket closed;
  EXPECT_FALSE(closed.is_open());
  code = 0;
  try {
    co_await closed.recvfrom();
  } catch (const std::system_error& error) {
    code = error.code().value();
  }
  EXPECT_EQ(code, EBADF);
  EXPECT_THROW(closed.local_address(), std::system_error);
}

// A program that ends with an endpoint open: the loop closes it, and the
// transport <-> protocol cycle is broken (no descriptor or memory leak).
TEST(DatagramEndpointLifetime, EndpointsLeftOpenAreClosedWithTheLoop) {
  const std::size_t descriptors = open_descriptor_count();
  std::weak_ptr<Recorder> protocol;
  aio::run([&]() -> Coro<void> {
    auto endpoint = co_await create_datagram_endpoint(make_echo, local_options("127.0.0.1", 0));
    protocol = endpoint.protocol;  // the Recorder keeps its transport: a cycle
  }());
  EXPECT_EQ(open_descriptor_count(), descriptors);
  EXPECT_TRUE(protocol.expired());
}

}  // namespace
}  // namespace aio
