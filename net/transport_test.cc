// Transports and protocols: callback order, flow control, errors, servers.
// Mirrors asyncio's test_selector_events.py / test_base_events.py behaviours
// where they apply. Real loopback sockets on a virtual-time test loop.
#include "net/transport.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <system_error>
#include <vector>

#include "async/task.h"
#include "async/testing.h"
#include "async/timeouts.h"
#include "gtest/gtest.h"
#include "net/internal/net_testing.h"
#include "net/server.h"
#include "sync/event.h"

namespace aio {
namespace {

using namespace std::chrono_literals;

// Records every callback, in order.
struct RecordingProtocol : Protocol {
  void connection_made(std::shared_ptr<Transport> t) override {
    events.push_back("made");
    transport = std::move(t);
  }
  void data_received(std::string_view data) override {
    events.push_back("data");
    received += data;
    if (echo) transport->write(data);
    arrived.set();
  }
  bool eof_received() override {
    events.push_back("eof");
    eof.set();
    return keep_open_on_eof;
  }
  void connection_lost(std::exception_ptr e) override {
    events.push_back("lost");
    error = e;
    lost.set();
    transport.reset();
  }
  void pause_writing() override { events.push_back("pause"); }
  void resume_writing() override { events.push_back("resume"); }

  std::vector<std::string> events;
  std::string received;
  std::shared_ptr<Transport> transport;
  std::exception_ptr error;
  bool echo = false;
  bool keep_open_on_eof = false;
  Event arrived;
  Event eof;
  Event lost;
};

std::uint16_t port_of(const Server& server) { return server.sockets().at(0).port(); }

// Waits until `received` holds at least `size` bytes.
Coro<void> wait_for_bytes(RecordingProtocol& protocol, std::size_t size) {
  while (protocol.received.size() < size) {
    protocol.arrived.clear();
    co_await protocol.arrived.wait();
  }
}

AIO_TEST(Transport, CallbackOrderAndEchoOverTcp) {
  auto server_side = std::make_shared<RecordingProtocol>();
  server_side->echo = true;
  Server server = co_await create_server([&] { return server_side; }, "127.0.0.1", 0);
  EXPECT_TRUE(server.is_serving());
  auto [transport, client] =
      co_await create_connection([] { return std::make_shared<RecordingProtocol>(); }, "127.0.0.1", port_of(server));
  EXPECT_EQ(client->events, std::vector<std::string>{"made"});
  transport->write("hello");
  co_await wait_for_bytes(*client, 5);
  EXPECT_EQ(client->received, "hello");
  auto peer = std::any_cast<SocketAddress>(transport->get_extra_info("peername"));
  EXPECT_EQ(peer.port(), port_of(server));
  auto local = std::any_cast<SocketAddress>(transport->get_extra_info("sockname"));
  EXPECT_EQ(local.host(), "127.0.0.1");
  EXPECT_GE(std::any_cast<int>(transport->get_extra_info("socket")), 0);
  EXPECT_FALSE(transport->get_extra_info("no such thing").has_value());
  transport->close();
  EXPECT_TRUE(transport->is_closing());
  co_await client->lost.wait();
  co_await server_side->lost.wait();
  EXPECT_EQ(client->events, (std::vector<std::string>{"made", "data", "lost"}));
  EXPECT_EQ(server_side->events, (std::vector<std::string>{"made", "data", "eof", "lost"}));
  EXPECT_FALSE(client->error);
  EXPECT_FALSE(server_side->error);
}

AIO_TEST(Transport, HalfCloseKeepsTheOtherDirectionOpen) {
  auto server_side = std::make_shared<RecordingProtocol>();
  server_side->keep_open_on_eof = true;
  Server server = co_await create_server([&] { return server_side; }, "127.0.0.1", 0);
  auto [transport, client] =
      co_await create_connection([] { return std::make_shared<RecordingProtocol>(); }, "127.0.0.1", port_of(server));
  EXPECT_TRUE(transport->can_write_eof());
  transport->write("request");
  transport->write_eof();
  EXPECT_THROW(transport->write("more"), std::runtime_error);
  co_await server_side->eof.wait();
  EXPECT_EQ(server_side->received, "request");
  // The server still writes after the client's EOF, then closes.
  server_side->transport->write("response");
  server_side->transport->close();
  co_await client->lost.wait();
  EXPECT_EQ(client->received, "response");
  EXPECT_EQ(client->events, (std::vector<std::string>{"made", "data", "eof", "lost"}));
}

AIO_TEST(Transport, BufferedProtocolReadsIntoItsOwnMemory) {
  struct Buffered : BufferedProtocol {
    std::span<char> get_buffer(std::size_t) override { return std::span<char>(storage, 4); }
    void buffer_updated(std::size_t bytes) override {
      received.append(storage, bytes);
      if (received.size() >= 10) done.set();
    }
    char storage[4];
    std::string received;
    Event done;
  };
  auto server_side = std::make_shared<Buffered>();
  Server server = co_await create_server([&] { return server_side; }, "127.0.0.1", 0);
  auto [transport, client] =
      co_await create_connection([] { return std::make_shared<RecordingProtocol>(); }, "127.0.0.1", port_of(server));
  transport->write("0123456789");
  co_await server_side->done.wait();
  EXPECT_EQ(server_side->received, "0123456789");  // in chunks of at most 4 bytes
  transport->close();
}

AIO_TEST(Transport, WriteBufferLimitsPauseAndResumeTheProtocol) {
  auto server_side = std::make_shared<RecordingProtocol>();
  Server server = co_await create_server([&] { return server_side; }, "127.0.0.1", 0);
  auto [transport, client] =
      co_await create_connection([] { return std::make_shared<RecordingProtocol>(); }, "127.0.0.1", port_of(server));
  EXPECT_EQ(transport->get_write_buffer_limits(), (std::pair<std::size_t, std::size_t>(16 * 1024, 64 * 1024)));
  EXPECT_THROW(transport->set_write_buffer_limits(10, 20), aio::ValueError);
  transport->set_write_buffer_limits(100);
  EXPECT_EQ(transport->get_write_buffer_limits(), (std::pair<std::size_t, std::size_t>(25, 100)));
  // The server stops reading, so the kernel buffers fill and ours grows.
  co_await sleep(1ms);
  server_side->transport->pause_reading();
  EXPECT_FALSE(server_side->transport->is_reading());
  std::string chunk(64 * 1024, 'x');
  std::size_t written = 0;
  while (transport->get_write_buffer_size() == 0) {
    transport->write(chunk);
    written += chunk.size();
  }
  EXPECT_EQ(client->events.back(), "pause");
  server_side->transport->resume_reading();
  co_await wait_for_bytes(*server_side, written);
  EXPECT_EQ(transport->get_write_buffer_size(), 0u);
  EXPECT_EQ(client->events.back(), "resume");
  transport->close();
}

AIO_TEST(Transport, AbortDropsBufferedData) {
  auto server_side = std::make_shared<RecordingProtocol>();
  Server server = co_await create_server([&] { return server_side; }, "127.0.0.1", 0);
  auto [transport, client] =
      co_await create_connection([] { return std::make_shared<RecordingProtocol>(); }, "127.0.0.1", port_of(server));
  co_await sleep(1ms);
  server_side->transport->pause_reading();
  std::string chunk(1 << 20, 'x');
  while (transport->get_write_buffer_size() == 0) transport->write(chunk);
  transport->abort();
  EXPECT_EQ(transport->get_write_buffer_size(), 0u);
  co_await client->lost.wait();
  EXPECT_EQ(client->events.back(), "lost");
  EXPECT_FALSE(client->error);
  // Writes after the loss are dropped, not raised.
  transport->write("ignored");
}

AIO_TEST(Transport, ProtocolErrorIsFatalForItsConnectionOnly) {
  struct Throwing : Protocol {
    void data_received(std::string_view) override { throw std::runtime_error("bad request"); }
    void connection_lost(std::exception_ptr e) override {
      error = e;
      lost.set();
    }
    std::exception_ptr error;
    Event lost;
  };
  std::vector<std::string> reports;
  get_running_loop().set_exception_handler(
      [&](EventLoop&, const ExceptionContext& context) { reports.push_back(context.message); });
  auto server_side = std::make_shared<Throwing>();
  Server server = co_await create_server([&] { return server_side; }, "127.0.0.1", 0);
  auto [transport, client] =
      co_await create_connection([] { return std::make_shared<RecordingProtocol>(); }, "127.0.0.1", port_of(server));
  transport->write("x");
  co_await server_side->lost.wait();
  EXPECT_EQ(reports, std::vector<std::string>{"Fatal error: protocol.data_received() call failed."});
  try {
    std::rethrow_exception(server_side->error);
  } catch (const std::runtime_error& error) {
    EXPECT_STREQ(error.what(), "bad request");
  }
  co_await client->lost.wait();
  EXPECT_TRUE(server.is_serving());
}

AIO_TEST(Transport, ConnectionRefusedCarriesTheErrno) {
  // A port nobody listens on: bind one, then close it.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  SocketAddress address = SocketAddress::parse("127.0.0.1", 0);
  ::bind(fd, address.data(), address.size());
  socklen_t length = SocketAddress::capacity();
  ::getsockname(fd, address.data(), &length);
  ::close(fd);
  const std::size_t descriptors = testing::open_descriptor_count();
  bool refused = false;
  try {
    co_await create_connection([] { return std::make_shared<RecordingProtocol>(); }, "127.0.0.1", address.port());
  } catch (const std::system_error& error) {
    refused = error.code().value() == ECONNREFUSED;
    EXPECT_NE(std::string(error.what()).find("127.0.0.1"), std::string::npos) << error.what();
  }
  EXPECT_TRUE(refused);
  EXPECT_EQ(testing::open_descriptor_count(), descriptors);
}

AIO_TEST(Transport, AddressInUse) {
  Server first = co_await create_server([] { return std::make_shared<RecordingProtocol>(); }, "127.0.0.1", 0);
  bool in_use = false;
  try {
    ServeOptions options;
    options.reuse_address = false;
    co_await create_server([] { return std::make_shared<RecordingProtocol>(); }, "127.0.0.1", port_of(first),
                           options);
  } catch (const std::system_error& error) {
    in_use = error.code().value() == EADDRINUSE;
  }
  EXPECT_TRUE(in_use);
}

AIO_TEST(Transport, BadArgumentsAreClearErrors) {
  auto factory = [] { return std::make_shared<RecordingProtocol>(); };
  bool thrown = false;
  try {
    co_await create_connection(ProtocolFactory(), "127.0.0.1", 1);
  } catch (const aio::ValueError&) {
    thrown = true;
  }
  EXPECT_TRUE(thrown);
  thrown = false;
  try {
    ServeOptions options;
    options.backlog = 0;
    co_await create_server(factory, "127.0.0.1", 0, options);
  } catch (const aio::ValueError&) {
    thrown = true;
  }
  EXPECT_TRUE(thrown);
  thrown = false;
  try {
    ConnectOptions options;
    options.server_hostname = "example.com";  // without ssl
    co_await create_connection(factory, "127.0.0.1", 1, options);
  } catch (const aio::ValueError&) {
    thrown = true;
  }
  EXPECT_TRUE(thrown);
  thrown = false;
  try {
    co_await create_server([] { return std::shared_ptr<RecordingProtocol>(); }, "not a host name.invalid", 0);
  } catch (const std::exception&) {
    thrown = true;
  }
  EXPECT_TRUE(thrown);
}

AIO_TEST(Transport, UnixSocketsAndStaleSocketFiles) {
  char directory[] = "/tmp/aio_transport_XXXXXX";
  EXPECT_NE(::mkdtemp(directory), nullptr);
  std::string path = std::string(directory) + "/server.sock";
  auto server_side = std::make_shared<RecordingProtocol>();
  server_side->echo = true;
  {
    Server stale = co_await create_unix_server([&] { return server_side; }, path);
  }  // closed, but the socket file stays
  Server server = co_await create_unix_server([&] { return server_side; }, path);
  EXPECT_EQ(server.sockets().at(0).to_string(), path);
  auto [transport, client] =
      co_await create_unix_connection([] { return std::make_shared<RecordingProtocol>(); }, path);
  transport->write("over unix");
  co_await wait_for_bytes(*client, 9);
  EXPECT_EQ(client->received, "over unix");
  EXPECT_EQ(std::any_cast<SocketAddress>(transport->get_extra_info("peername")).to_string(), path);
  transport->close();
  co_await client->lost.wait();
  server.close();
  // A regular file where the socket should go is not removed.
  std::string file = std::string(directory) + "/file";
  std::FILE* handle = std::fopen(file.c_str(), "w");
  std::fclose(handle);
  bool refused = false;
  try {
    co_await create_unix_server([&] { return server_side; }, file);
  } catch (const std::system_error& error) {
    refused = error.code().value() == EADDRINUSE;
  }
  EXPECT_TRUE(refused);
  ::unlink(file.c_str());
  ::unlink(path.c_str());
  ::rmdir(directory);
}

AIO_TEST(Transport, ConnectAcceptedSocket) {
  int pair[2];
  EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);
  auto [transport, protocol] =
      co_await connect_accepted_socket([] { return std::make_shared<RecordingProtocol>(); }, pair[0]);
  EXPECT_EQ(::write(pair[1], "ping", 4), 4);
  co_await wait_for_bytes(*protocol, 4);
  EXPECT_EQ(protocol->received, "ping");
  transport->write("pong");
  char buffer[4];
  EXPECT_EQ(::read(pair[1], buffer, 4), 4);
  EXPECT_EQ(std::string(buffer, 4), "pong");
  ::close(pair[1]);
  co_await protocol->lost.wait();
  // Not a socket: a clear error, and the descriptor is closed.
  int pipe_ends[2];
  EXPECT_EQ(::pipe(pipe_ends), 0);
  ::close(pipe_ends[1]);
  bool refused = false;
  try {
    co_await connect_accepted_socket([] { return std::make_shared<RecordingProtocol>(); }, pipe_ends[0]);
  } catch (const std::system_error& error) {
    refused = error.code().value() == ENOTSOCK;
  }
  EXPECT_TRUE(refused);
  EXPECT_EQ(::fcntl(pipe_ends[0], F_GETFD), -1);
}

AIO_TEST(Transport, HappyEyeballsFallsBackToTheAddressThatAnswers) {
  // "localhost" may resolve to ::1 and 127.0.0.1; the server only listens on
  // IPv4, so an IPv6 attempt fails and the IPv4 one must win. With a delay,
  // the attempts are raced.
  auto server_side = std::make_shared<RecordingProtocol>();
  Server server = co_await create_server([&] { return server_side; }, "127.0.0.1", 0);
  ConnectOptions options;
  options.happy_eyeballs_delay = 250ms;
  auto [transport, client] = co_await create_connection([] { return std::make_shared<RecordingProtocol>(); },
                                                        "localhost", port_of(server), options);
  EXPECT_EQ(std::any_cast<SocketAddress>(transport->get_extra_info("peername")).host(), "127.0.0.1");
  transport->close();
  co_await client->lost.wait();
}

AIO_TEST(Server, CloseClientsAndWaitClosed) {
  std::vector<std::shared_ptr<RecordingProtocol>> accepted;
  Event all_accepted;
  Server server = co_await create_server(
      [&] {
        accepted.push_back(std::make_shared<RecordingProtocol>());
        if (accepted.size() == 3) all_accepted.set();
        return accepted.back();
      },
      "127.0.0.1", 0);
  std::vector<Connection<RecordingProtocol>> clients;
  for (int i = 0; i < 3; ++i) {
    clients.push_back(co_await create_connection([] { return std::make_shared<RecordingProtocol>(); }, "127.0.0.1",
                                                 port_of(server)));
  }
  co_await all_accepted.wait();
  Task<void> waiter = create_task(server.wait_closed());
  co_await testing::let_other_tasks_run();
  EXPECT_FALSE(waiter.done());  // not closed yet
  server.close();
  EXPECT_FALSE(server.is_serving());
  EXPECT_TRUE(server.sockets().empty());
  co_await testing::let_other_tasks_run();
  EXPECT_FALSE(waiter.done());  // closed, but connections remain
  server.close_clients();
  co_await waiter;
  for (auto& client : clients) co_await client.protocol->lost.wait();
  // New connections are refused once closed.
}

AIO_TEST(Server, ServeForeverUntilCancelled) {
  ServeOptions options;
  options.start_serving = false;
  Server server =
      co_await create_server([] { return std::make_shared<RecordingProtocol>(); }, "127.0.0.1", 0, options);
  EXPECT_FALSE(server.is_serving());
  Task<void> forever = create_task(server.serve_forever());
  co_await testing::let_other_tasks_run();
  EXPECT_TRUE(server.is_serving());
  bool already = false;
  try {
    co_await server.serve_forever();
  } catch (const std::runtime_error&) {
    already = true;
  }
  EXPECT_TRUE(already);
  forever.cancel("stop");
  bool cancelled = false;
  try {
    co_await forever;
  } catch (const CancelledError& error) {
    cancelled = true;
    EXPECT_EQ(error.message(), "stop");
  }
  EXPECT_TRUE(cancelled);
  EXPECT_FALSE(server.is_serving());
}

AIO_TEST(Server, KeepsServingAfterRunningOutOfDescriptors) {
  std::vector<std::string> reports;
  get_running_loop().set_exception_handler(
      [&](EventLoop&, const ExceptionContext& context) { reports.push_back(context.message); });
  std::vector<std::shared_ptr<RecordingProtocol>> accepted;
  Server server = co_await create_server(
      [&] {
        accepted.push_back(std::make_shared<RecordingProtocol>());
        return accepted.back();
      },
      "127.0.0.1", 0);
  // Two clients connect (the kernel completes the handshake); then the
  // process runs out of descriptors before the server accepts them.
  auto blocking_client = [&] {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    SocketAddress address = SocketAddress::parse("127.0.0.1", port_of(server));
    EXPECT_EQ(::connect(fd, address.data(), address.size()), 0);
    return fd;
  };
  int first = blocking_client();
  int second = blocking_client();
  rlimit original{};
  ::getrlimit(RLIMIT_NOFILE, &original);
  rlimit tight = original;
  tight.rlim_cur = testing::open_descriptor_count();
  ::setrlimit(RLIMIT_NOFILE, &tight);
  co_await sleep(1ms);  // the accept fails with EMFILE
  ::setrlimit(RLIMIT_NOFILE, &original);
  EXPECT_EQ(reports, std::vector<std::string>{"socket.accept() out of system resource"});
  EXPECT_TRUE(accepted.empty());
  co_await sleep(1100ms);  // accepting resumes after a second
  EXPECT_EQ(accepted.size(), 2u);
  ::close(first);
  ::close(second);
  for (auto& protocol : accepted) co_await protocol->lost.wait();
}

AIO_TEST(Transport, CancellingAConnectClosesTheSocket) {
  // A listener whose accept queue is full leaves further connects hanging.
  int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  SocketAddress address = SocketAddress::parse("127.0.0.1", 0);
  ::bind(listener, address.data(), address.size());
  ::listen(listener, 0);
  socklen_t length = SocketAddress::capacity();
  ::getsockname(listener, address.data(), &length);
  address.set_size(length);
  std::vector<int> fillers;
  for (int i = 0; i < 4; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    ::connect(fd, address.data(), address.size());
    fillers.push_back(fd);
  }
  const std::size_t descriptors = testing::open_descriptor_count();
  bool timed_out = false;
  try {
    auto connect = create_connection([] { return std::make_shared<RecordingProtocol>(); }, "127.0.0.1",
                                     address.port());
    co_await wait_for(std::move(connect), 5s);
  } catch (const TimeoutError&) {
    timed_out = true;
  }
  EXPECT_TRUE(timed_out);
  EXPECT_EQ(testing::open_descriptor_count(), descriptors);
  for (int fd : fillers) ::close(fd);
  ::close(listener);
}

AIO_TEST(Transport, WritelinesToAResetPeerEndsTheConnectionWithoutSigpipe) {
  auto server_side = std::make_shared<RecordingProtocol>();
  Server server = co_await create_server([&] { return server_side; }, "127.0.0.1", 0);
  auto [transport, client] =
      co_await create_connection([] { return std::make_shared<RecordingProtocol>(); }, "127.0.0.1", port_of(server));
  co_await sleep(1ms);
  server_side->transport->abort();  // the peer goes away
  co_await server_side->lost.wait();
  co_await sleep(1ms);
  const std::string chunk(64 * 1024, 'x');
  std::string_view chunks[] = {chunk, chunk};
  for (int i = 0; i < 8 && !transport->is_closing(); ++i) {
    transport->writelines(chunks);  // SIGPIPE here would kill the test binary
    co_await sleep(1ms);
  }
  co_await client->lost.wait();
  bool connection_error = false;
  try {
    if (client->error) std::rethrow_exception(client->error);
    connection_error = true;  // EOF seen first: a clean loss is fine too
  } catch (const std::system_error& error) {
    connection_error = error.code().value() == EPIPE || error.code().value() == ECONNRESET;
  }
  EXPECT_TRUE(connection_error);
}

AIO_TEST(Transport, EofIsDeliveredOnceEvenIfReadingResumes) {
  auto server_side = std::make_shared<RecordingProtocol>();
  server_side->keep_open_on_eof = true;
  Server server = co_await create_server([&] { return server_side; }, "127.0.0.1", 0);
  auto [transport, client] =
      co_await create_connection([] { return std::make_shared<RecordingProtocol>(); }, "127.0.0.1", port_of(server));
  transport->write_eof();
  co_await server_side->eof.wait();
  server_side->transport->pause_reading();
  server_side->transport->resume_reading();
  co_await sleep(5ms);
  EXPECT_EQ(std::count(server_side->events.begin(), server_side->events.end(), "eof"), 1);
  server_side->transport->close();
  co_await client->lost.wait();
}

AIO_TEST(Server, CloseEndsServeForever) {
  Server server = co_await create_server([] { return std::make_shared<RecordingProtocol>(); }, "127.0.0.1", 0);
  Task<void> serving = create_task(server.serve_forever());
  co_await testing::let_other_tasks_run();
  server.close();  // e.g. from a signal handler
  bool ended = false;
  try {
    co_await serving;
  } catch (const CancelledError&) {
    ended = true;
  }
  EXPECT_TRUE(ended);
  EXPECT_FALSE(server.is_serving());
}

TEST(Transport, ConnectionsLeftOpenAreClosedWithTheLoop) {
  const std::size_t descriptors = testing::open_descriptor_count();
  std::weak_ptr<RecordingProtocol> client_protocol;
  aio::run([&]() -> Coro<void> {
    auto server_side = std::make_shared<RecordingProtocol>();
    server_side->echo = true;
    static std::optional<Server> server;  // outlives the coroutine, like a leaked handle
    auto factory = [server_side] { return server_side; };  // a named local: see the GCC note in docs
    server.emplace(co_await create_server(factory, "127.0.0.1", 0));
    auto [transport, client] = co_await create_connection([] { return std::make_shared<RecordingProtocol>(); },
                                                          "127.0.0.1", port_of(*server));
    client_protocol = client;
    transport->write("left open");
    co_await wait_for_bytes(*client, 9);
    server.reset();
  }());
  EXPECT_EQ(testing::open_descriptor_count(), descriptors);
  EXPECT_TRUE(client_protocol.expired());  // the transport <-> protocol cycle was broken
}

// aio's errors (async/errors.h): an argument the call cannot take is an
// aio::ValueError, a call the object's state refuses an aio::RuntimeError;
// each message names the call and says why.
AIO_TEST(TransportErrors, BadArgumentsAreValueErrorsNamingTheCall) {
  auto server_side = std::make_shared<RecordingProtocol>();
  Server server = co_await create_server([&] { return server_side; }, "127.0.0.1", 0);
  auto [transport, client] =
      co_await create_connection([] { return std::make_shared<RecordingProtocol>(); }, "127.0.0.1", port_of(server));
  std::string limits_message;
  try {
    transport->set_write_buffer_limits(10, 20);
  } catch (const ValueError& error) {
    limits_message = error.what();
  }
  EXPECT_EQ(limits_message, "set_write_buffer_limits: high (10) must be >= low (20)");

  ServeOptions no_backlog;
  no_backlog.backlog = 0;
  ProtocolFactory factory = [] { return std::make_shared<RecordingProtocol>(); };
  std::string backlog_message;
  try {
    co_await create_server(factory, "127.0.0.1", 0, no_backlog);
  } catch (const ValueError& error) {
    backlog_message = error.what();
  }
  EXPECT_EQ(backlog_message, "create_server: backlog must be positive, not 0");

  ConnectOptions plain;
  plain.server_hostname = "example.com";
  std::string hostname_message;
  try {
    co_await create_connection(factory, "127.0.0.1", port_of(server), plain);
  } catch (const ValueError& error) {
    hostname_message = error.what();
  }
  EXPECT_EQ(hostname_message, "create_connection: server_hostname is only meaningful with ssl");
  transport->close();
  server.close();
  co_await server.wait_closed();
}

AIO_TEST(TransportErrors, CallsTheStateRefusesAreRuntimeErrors) {
  auto server_side = std::make_shared<RecordingProtocol>();
  Server server = co_await create_server([&] { return server_side; }, "127.0.0.1", 0);
  auto [transport, client] =
      co_await create_connection([] { return std::make_shared<RecordingProtocol>(); }, "127.0.0.1", port_of(server));
  transport->write_eof();
  std::string write_message;
  try {
    transport->write("late");
  } catch (const RuntimeError& error) {
    write_message = error.what();
  }
  EXPECT_EQ(write_message, "Cannot call write() after write_eof()");
  transport->close();

  server.close();
  std::string serve_message;
  try {
    co_await server.serve_forever();
  } catch (const RuntimeError& error) {
    serve_message = error.what();
  }
  EXPECT_EQ(serve_message, "Server.serve_forever: the server is closed");
  co_await server.wait_closed();
}

}  // namespace
}  // namespace aio
