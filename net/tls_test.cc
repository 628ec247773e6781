// TLS: SslContext and the TLS transport, through create_connection /
// create_server (protocols), open_connection / start_server (streams) and
// start_tls. Mirrors asyncio's test_sslproto.py and test_ssl.py where they
// apply (callback order, close_notify, flow control, handshake timeouts and
// failures), plus the faults a server meets: plain text on a TLS port,
// strangers that never finish a handshake, cancelled connects and reads.
//
// Certificates are made at run time (net/internal/tls_testing.h).
//
// Loops. Most tests here run on a real-time loop (TLS_TEST), not on the
// virtual-time test loop: a TLS exchange always has a timer armed (the 60 s
// handshake timeout, the 30 s shutdown timeout), and the virtual clock jumps
// to it whenever no callback is ready, which includes a moment where the
// peer's bytes are still on their way through the kernel (or a delayed TCP
// acknowledgement holds a large transfer back). On the real clock those
// timers are what they are in production: far away. The tests of the
// timeouts themselves run on the virtual-time loop (AIO_TEST), where nothing
// is in flight, so the jump is exactly the timeout.
#include "net/tls.h"

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <system_error>
#include <vector>

#include "async/internal/future_state.h"
#include "async/run.h"
#include "async/sleep.h"
#include "async/task.h"
#include "async/testing.h"
#include "async/timeouts.h"
#include "gtest/gtest.h"
#include "net/internal/net_testing.h"
#include "net/internal/tls_testing.h"
#include "net/server.h"
#include "net/streams.h"
#include "net/transport.h"

namespace aio {
namespace {

using namespace std::chrono_literals;

// --- the real-time test loop ---------------------------------------------------

Coro<void> with_deadline(Coro<void> body) { co_await timeout(20s, std::move(body)); }

// Runs `body` on a new real-time loop; fails the test for anything the loop
// reports (as run_in_test_loop does), and for a body that hangs (20 s).
void run_in_real_time_loop(Coro<void> body) {
  Runner runner;
  runner.get_loop().set_exception_handler([](EventLoop&, const ExceptionContext& context) {
    ADD_FAILURE() << "the loop reported: " << context.message
                  << (context.exception ? ": " + internal::describe_exception(context.exception) : "");
  });
  try {
    runner.run(with_deadline(std::move(body)));
  } catch (const TimeoutError&) {
    ADD_FAILURE() << "the test did not finish within 20 s";
  }
  runner.close();
}

#define TLS_TEST(suite, name)                                                           \
  static ::aio::Coro<void> tls_test_body_##suite##_##name();                            \
  TEST(suite, name) { ::aio::run_in_real_time_loop(tls_test_body_##suite##_##name()); } \
  static ::aio::Coro<void> tls_test_body_##suite##_##name()

// --- certificates and contexts -------------------------------------------------------

const testing::TestCertificates& certificates() {
  static testing::TestCertificates made;  // removed at exit
  return made;
}

std::shared_ptr<SslContext> server_context(const std::string& certificate = certificates().server_cert_file,
                                           const std::string& key = certificates().server_key_file) {
  std::shared_ptr<SslContext> context = SslContext::server();
  context->load_cert_chain(certificate, key);
  return context;
}

// A client that trusts the test CA (and the system's CAs, as client() does).
std::shared_ptr<SslContext> client_context() {
  std::shared_ptr<SslContext> context = SslContext::client();
  context->load_verify_locations({.cafile = certificates().ca_file});
  return context;
}

std::uint16_t port_of(const Server& server) { return server.sockets().at(0).port(); }

template <class T>
T extra(const Transport& transport, std::string_view name) {
  std::any value = transport.get_extra_info(name);
  const T* typed = std::any_cast<T>(&value);
  return typed ? *typed : T();
}

// The exception of type E that `coro` throws (nullopt if it returns; any
// other exception propagates and fails the test).
template <class E, class T>
Coro<std::optional<E>> error_of(Coro<T> coro) {
  std::optional<E> caught;
  try {
    co_await std::move(coro);
  } catch (const E& error) {
    caught = error;
  }
  co_return caught;
}

// --- protocols -----------------------------------------------------------------------------

// Records the callbacks it gets, in order, and what it receives.
class Recorder : public Protocol {
 public:
  void connection_made(std::shared_ptr<Transport> transport) override {
    this->transport = transport;
    events.push_back("connection_made");
    if (!made.done()) made.set_result();
  }
  void data_received(std::string_view data) override {
    received.append(data);
    if (pause_on_data) transport->pause_reading();
    if (events.empty() || events.back() != "data_received") events.push_back("data_received");
    if (wanted > 0 && received.size() >= wanted && !enough.done()) enough.set_result();
  }
  bool eof_received() override {
    events.push_back("eof_received");
    if (!eof.done()) eof.set_result();
    return false;
  }
  void connection_lost(std::exception_ptr error) override {
    events.push_back("connection_lost");
    this->error = error;
    if (!enough.done()) enough.set_result();  // wake a waiter: the test checks the size
    lost.set_result();
  }
  void pause_writing() override {
    paused = true;
    ++pauses;
    buffer_when_paused = transport->get_write_buffer_size();
    resumed = Future<void>();
  }
  void resume_writing() override {
    paused = false;
    resumed.set_result();
  }

  // Returns once `count` bytes were received (or the connection was lost).
  Coro<void> wait_for_bytes(std::size_t count) {
    if (received.size() >= count || lost.done()) co_return;
    wanted = count;
    enough = Future<void>();
    Future<void> waiter = enough;
    co_await waiter;
  }
  Coro<void> wait_until_lost() {
    Future<void> waiter = lost;
    co_await waiter;
  }

  std::shared_ptr<Transport> transport;
  std::vector<std::string> events;
  std::string received;
  std::exception_ptr error;
  Future<void> made;
  Future<void> eof;
  Future<void> lost;
  bool pause_on_data = false;  // pause_reading() in every data_received
  bool paused = false;
  int pauses = 0;
  std::size_t buffer_when_paused = 0;
  Future<void> resumed;
  std::size_t wanted = 0;
  Future<void> enough;
};

// Echoes what it receives; while its own writes are paused it stops reading,
// so a fast sender is held back end to end.
class Echo : public Protocol {
 public:
  void connection_made(std::shared_ptr<Transport> transport) override { transport_ = transport; }
  void data_received(std::string_view data) override { transport_->write(data); }
  void pause_writing() override { transport_->pause_reading(); }
  void resume_writing() override { transport_->resume_reading(); }
  void connection_lost(std::exception_ptr) override { transport_.reset(); }

 private:
  std::shared_ptr<Transport> transport_;
};

// Reads into a small buffer of its own (several get_buffer calls per record).
class BufferedRecorder : public BufferedProtocol {
 public:
  void connection_made(std::shared_ptr<Transport> transport) override { this->transport = transport; }
  std::span<char> get_buffer(std::size_t) override {
    ++get_buffer_calls;
    return std::span<char>(buffer_, sizeof buffer_);
  }
  void buffer_updated(std::size_t bytes) override {
    received.append(buffer_, bytes);
    if (pause_after_first && !transport->is_closing()) {
      pause_after_first = false;
      transport->pause_reading();
    }
    if (received.size() >= wanted && !enough.done()) enough.set_result();
  }
  bool eof_received() override {
    saw_eof = true;
    return false;
  }
  void connection_lost(std::exception_ptr) override {
    if (!enough.done()) enough.set_result();
    lost.set_result();
  }
  Coro<void> wait_for_bytes(std::size_t count) {
    if (received.size() >= count || lost.done()) co_return;
    wanted = count;
    enough = Future<void>();
    Future<void> waiter = enough;
    co_await waiter;
  }

  std::shared_ptr<Transport> transport;
  std::string received;
  int get_buffer_calls = 0;
  bool pause_after_first = false;
  bool saw_eof = false;
  std::size_t wanted = 0;
  Future<void> enough;
  Future<void> lost;

 private:
  char buffer_[100];
};

// A TLS server whose connections are Recorders, kept for the test to inspect.
struct RecordingServer {
  std::vector<std::shared_ptr<Recorder>> connections;
  std::optional<Server> server;
  Future<void> accepted;

  ProtocolFactory factory() {
    return [this] {
      auto recorder = std::make_shared<Recorder>();
      connections.push_back(recorder);
      if (!accepted.done()) accepted.set_result();
      return recorder;
    };
  }
};

Coro<Server> start_echo_server(std::shared_ptr<SslContext> context, ServeOptions options = {}) {
  options.ssl = std::move(context);
  co_return co_await create_server([] { return std::make_shared<Echo>(); }, "127.0.0.1", 0, std::move(options));
}

Coro<Connection<Recorder>> connect_recorder(std::uint16_t port, std::shared_ptr<SslContext> context,
                                            std::string host = "localhost", ConnectOptions options = {}) {
  options.ssl = std::move(context);
  co_return co_await create_connection([] { return std::make_shared<Recorder>(); }, std::move(host), port,
                                       std::move(options));
}

// The set-up the tests share: a TLS server on 127.0.0.1 (an echo server, or
// one that records its connections), the Recorder client connected to it by
// the name "localhost" (trusting the test CA), and, with a recording server,
// the server's side of that connection once its handshake is done. Declare
// one, co_await serve_*() and connect(), and co_await close_server() last. It
// stays where it is declared: the recording server's factory points into it.
class TlsFixture {
 public:
  TlsFixture() = default;
  TlsFixture(const TlsFixture&) = delete;
  TlsFixture& operator=(const TlsFixture&) = delete;

  Coro<void> serve_echo(std::shared_ptr<SslContext> context = server_context()) {
    Coro<Server> starting = start_echo_server(std::move(context));
    server_.emplace(co_await std::move(starting));
  }
  // options.ssl defaults to server_context().
  Coro<void> serve_recording(ServeOptions options = {}) {
    if (!options.ssl) options.ssl = server_context();
    recording_server_ = true;
    Coro<Server> starting = create_server(recording_.factory(), "127.0.0.1", 0, std::move(options));
    server_.emplace(co_await std::move(starting));
  }
  // Connects the client; with a recording server, waits for the server's side too.
  Coro<void> connect(std::shared_ptr<SslContext> context = client_context()) {
    Coro<Connection<Recorder>> connecting = connect_recorder(port(), std::move(context));
    client = co_await std::move(connecting);
    if (!recording_server_) co_return;
    co_await recording_.accepted;
    server_side = recording_.connections.at(0);
    Future<void> made = server_side->made;
    co_await made;
  }
  Coro<void> close_server() {
    server_->close();
    co_await server_->wait_closed();
  }

  std::uint16_t port() const { return port_of(*server_); }

  Connection<Recorder> client;
  std::shared_ptr<Recorder> server_side;

 private:
  RecordingServer recording_;
  std::optional<Server> server_;
  bool recording_server_ = false;
};

// --- echo, callbacks, extra info -----------------------------------------------------------

TLS_TEST(TlsProtocol, EchoAndExtraInfo) {
  TlsFixture tls;
  co_await tls.serve_echo();
  co_await tls.connect();
  Connection<Recorder>& connection = tls.client;
  Transport& transport = *connection.transport;
  EXPECT_EQ(connection.protocol->events, (std::vector<std::string>{"connection_made"}));
  EXPECT_EQ(connection.protocol->transport, connection.transport);

  EXPECT_NE(extra<SSL*>(transport, "ssl_object"), nullptr);
  EXPECT_NE(extra<std::shared_ptr<SslContext>>(transport, "sslcontext"), nullptr);
  EXPECT_EQ(extra<std::string>(transport, "peercert").rfind("-----BEGIN CERTIFICATE-----", 0), 0u);
  EXPECT_FALSE(extra<std::string>(transport, "cipher").empty());
  EXPECT_EQ(extra<std::string>(transport, "compression"), "");
  EXPECT_EQ(extra<std::string>(transport, "alpn_protocol"), "");
  // What the socket transport knows comes through.
  EXPECT_EQ(extra<SocketAddress>(transport, "peername").port(), tls.port());
  EXPECT_GE(extra<int>(transport, "socket"), 0);
  EXPECT_FALSE(transport.get_extra_info("no such name").has_value());
  EXPECT_STREQ(SSL_get_version(extra<SSL*>(transport, "ssl_object")), "TLSv1.3");

  transport.write("hello, ");
  std::string_view lines[] = {"TLS ", "world"};
  transport.writelines(lines);
  co_await connection.protocol->wait_for_bytes(16);
  EXPECT_EQ(connection.protocol->received, "hello, TLS world");
  EXPECT_FALSE(transport.can_write_eof());
  EXPECT_THROW(transport.write_eof(), std::runtime_error);
  EXPECT_TRUE(transport.is_reading());
  transport.close();
  EXPECT_TRUE(transport.is_closing());
  EXPECT_FALSE(transport.is_reading());
  co_await connection.protocol->wait_until_lost();
  // asyncio's order: the peer's close_notify (its answer to ours) is EOF.
  EXPECT_EQ(connection.protocol->events,
            (std::vector<std::string>{"connection_made", "data_received", "eof_received", "connection_lost"}));
  EXPECT_EQ(connection.protocol->error, nullptr);
  co_await tls.close_server();
}

TLS_TEST(TlsProtocol, BufferedProtocolDecryptsIntoItsOwnBuffer) {
  TlsFixture tls;
  co_await tls.serve_echo();
  ConnectOptions options;
  options.ssl = client_context();
  Connection<BufferedRecorder> connection = co_await create_connection(
      [] { return std::make_shared<BufferedRecorder>(); }, "localhost", tls.port(), std::move(options));
  std::string payload(10000, 'x');
  for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>('a' + i % 26);
  connection.transport->write(payload);
  co_await connection.protocol->wait_for_bytes(payload.size());
  EXPECT_EQ(connection.protocol->received, payload);
  EXPECT_GE(connection.protocol->get_buffer_calls, 100);  // 100-byte buffers
  connection.transport->close();
  Future<void> lost = connection.protocol->lost;
  co_await lost;
  EXPECT_TRUE(connection.protocol->saw_eof);
  co_await tls.close_server();
}

// test_sslproto.py: close() sends close_notify; the peer sees it as EOF,
// answers with its own, and both connections end cleanly.
TLS_TEST(TlsProtocol, CloseSendsCloseNotifyWhichThePeerSeesAsEof) {
  TlsFixture tls;
  co_await tls.serve_recording();
  co_await tls.connect();
  Connection<Recorder>& client = tls.client;
  std::shared_ptr<Recorder> server_side = tls.server_side;
  client.transport->write("bye");
  co_await server_side->wait_for_bytes(3);
  client.transport->close();
  co_await server_side->wait_until_lost();
  co_await client.protocol->wait_until_lost();
  EXPECT_EQ(server_side->events,
            (std::vector<std::string>{"connection_made", "data_received", "eof_received", "connection_lost"}));
  EXPECT_EQ(server_side->error, nullptr);
  EXPECT_EQ(client.protocol->error, nullptr);
  // Writes after close are dropped, never thrown.
  client.transport->write("dropped");
  co_await tls.close_server();
}

TLS_TEST(TlsProtocol, ThePeerClosingFirstIsEofThenConnectionLost) {
  TlsFixture tls;
  co_await tls.serve_recording();
  co_await tls.connect();
  Connection<Recorder>& client = tls.client;
  std::shared_ptr<Recorder> server_side = tls.server_side;
  server_side->transport->write("last words");
  server_side->transport->close();
  co_await client.protocol->wait_until_lost();
  EXPECT_EQ(client.protocol->received, "last words");
  EXPECT_EQ(client.protocol->events,
            (std::vector<std::string>{"connection_made", "data_received", "eof_received", "connection_lost"}));
  EXPECT_EQ(client.protocol->error, nullptr);
  co_await server_side->wait_until_lost();
  EXPECT_EQ(server_side->error, nullptr);
  co_await tls.close_server();
}

TLS_TEST(TlsProtocol, AbortEndsBothSidesAtOnce) {
  TlsFixture tls;
  co_await tls.serve_recording();
  co_await tls.connect();
  Connection<Recorder>& client = tls.client;
  std::shared_ptr<Recorder> server_side = tls.server_side;
  client.transport->write("unsent?");
  client.transport->abort();
  EXPECT_TRUE(client.transport->is_closing());
  co_await client.protocol->wait_until_lost();
  EXPECT_EQ(client.protocol->events, (std::vector<std::string>{"connection_made", "connection_lost"}));
  co_await server_side->wait_until_lost();
  co_await tls.close_server();
}

// The peer closing its socket without close_notify (a "ragged" EOF) ends the
// stream as asyncio ends it: eof_received, then connection_lost(nullptr).
TLS_TEST(TlsProtocol, ThePeerAbortingIsARaggedEof) {
  TlsFixture tls;
  co_await tls.serve_recording();
  co_await tls.connect();
  Connection<Recorder>& client = tls.client;
  std::shared_ptr<Recorder> server_side = tls.server_side;
  client.transport->write("x");
  co_await server_side->wait_for_bytes(1);
  server_side->transport->abort();
  co_await client.protocol->wait_until_lost();
  EXPECT_EQ(client.protocol->events, (std::vector<std::string>{"connection_made", "eof_received", "connection_lost"}));
  EXPECT_EQ(client.protocol->error, nullptr);
  co_await server_side->wait_until_lost();
  co_await tls.close_server();
}

// A BufferedProtocol that pauses after its first buffer gets nothing more until
// it resumes, although the rest of the record is already decrypted.
TLS_TEST(TlsProtocol, PauseReadingHoldsDecryptedDataUntilResumed) {
  TlsFixture tls;
  co_await tls.serve_echo();
  ConnectOptions options;
  options.ssl = client_context();
  Connection<BufferedRecorder> connection = co_await create_connection(
      [] { return std::make_shared<BufferedRecorder>(); }, "localhost", tls.port(), std::move(options));
  BufferedRecorder& client = *connection.protocol;
  client.pause_after_first = true;
  connection.transport->write(std::string(500, 'p'));
  co_await client.wait_for_bytes(1);
  EXPECT_FALSE(connection.transport->is_reading());
  // A few loop iterations (not a wait for anything): nothing more may arrive.
  for (int i = 0; i < 5; ++i) co_await sleep(0s);
  EXPECT_EQ(client.received.size(), 100u);  // the first buffer's worth
  connection.transport->resume_reading();
  EXPECT_TRUE(connection.transport->is_reading());
  co_await client.wait_for_bytes(500);
  EXPECT_EQ(client.received, std::string(500, 'p'));
  connection.transport->close();
  Future<void> lost = client.lost;
  co_await lost;
  co_await tls.close_server();
}

// The peer's data and its close_notify arrive together, and the app pauses
// in data_received: the EOF, already decrypted, waits for resume_reading.
TLS_TEST(TlsProtocol, AnEofReadWhilePausedWaitsForResume) {
  TlsFixture tls;
  co_await tls.serve_recording();
  co_await tls.connect();
  Connection<Recorder>& client = tls.client;
  std::shared_ptr<Recorder> server_side = tls.server_side;
  client.protocol->pause_on_data = true;
  server_side->transport->write(std::string(300, 'e'));
  server_side->transport->close();
  co_await client.protocol->wait_for_bytes(300);
  // A few loop iterations (not a wait for anything): the EOF may not arrive.
  for (int i = 0; i < 5; ++i) co_await sleep(0s);
  EXPECT_FALSE(client.protocol->eof.done());
  EXPECT_FALSE(client.transport->is_reading());
  client.transport->resume_reading();
  co_await client.protocol->wait_until_lost();
  EXPECT_EQ(client.protocol->received, std::string(300, 'e'));
  EXPECT_EQ(client.protocol->events,
            (std::vector<std::string>{"connection_made", "data_received", "eof_received", "connection_lost"}));
  co_await server_side->wait_until_lost();
  EXPECT_EQ(server_side->error, nullptr);
  co_await tls.close_server();
}

// Several MiB each way with flow control: the client stops writing while
// paused; the echo server stops reading while its writes are paused.
TLS_TEST(TlsProtocol, LargeTransferWithFlowControl) {
  TlsFixture tls;
  co_await tls.serve_echo();
  co_await tls.connect();
  Connection<Recorder>& connection = tls.client;
  Recorder& client = *connection.protocol;
  std::string payload(8 * 1024 * 1024, '\0');
  std::mt19937 random(42);
  for (char& byte : payload) byte = static_cast<char>(random());
  constexpr std::size_t kChunk = 64 * 1024;
  for (std::size_t offset = 0; offset < payload.size(); offset += kChunk) {
    while (client.paused) {
      Future<void> resumed = client.resumed;
      co_await resumed;
    }
    connection.transport->write(std::string_view(payload).substr(offset, kChunk));
  }
  co_await client.wait_for_bytes(payload.size());
  EXPECT_EQ(client.received.size(), payload.size());
  EXPECT_TRUE(client.received == payload);
  EXPECT_GT(client.pauses, 0);
  // Paused means over the high-water mark (64 KiB by default).
  EXPECT_GT(client.buffer_when_paused, connection.transport->get_write_buffer_limits().second);
  connection.transport->close();
  co_await client.wait_until_lost();
  EXPECT_EQ(client.error, nullptr);
  co_await tls.close_server();
}

TLS_TEST(TlsProtocol, WriteBufferLimitsAreTheSocketTransports) {
  TlsFixture tls;
  co_await tls.serve_echo();
  co_await tls.connect();
  Connection<Recorder>& connection = tls.client;
  EXPECT_EQ(connection.transport->get_write_buffer_limits(), (std::pair<std::size_t, std::size_t>(16384, 65536)));
  connection.transport->set_write_buffer_limits(4096);
  EXPECT_EQ(connection.transport->get_write_buffer_limits(), (std::pair<std::size_t, std::size_t>(1024, 4096)));
  EXPECT_THROW(connection.transport->set_write_buffer_limits(10, 20), aio::ValueError);
  EXPECT_EQ(connection.transport->get_write_buffer_size(), 0u);
  connection.transport->close();
  co_await connection.protocol->wait_until_lost();
  co_await tls.close_server();
}

TLS_TEST(TlsProtocol, UnixSocketsWithServerHostname) {
  // An abstract socket (the sandbox's temporary directory is too deep for a
  // socket path, 108 bytes at most), named after the certificates' directory,
  // which mkdtemp made unique.
  const std::string& directory = certificates().directory;
  const std::string path = std::string(1, '\0') + directory.substr(directory.rfind('/') + 1) + ".sock";
  ServeOptions serve_options;
  serve_options.ssl = server_context();
  Server server = co_await create_unix_server([] { return std::make_shared<Echo>(); }, path, serve_options);
  ConnectOptions options;
  options.ssl = client_context();
  EXPECT_THROW(co_await create_unix_connection([] { return std::make_shared<Recorder>(); }, path, options),
               aio::ValueError);  // which name must the certificate have?
  options.server_hostname = "localhost";
  Connection<Recorder> connection =
      co_await create_unix_connection([] { return std::make_shared<Recorder>(); }, path, options);
  connection.transport->write("over a unix socket");
  co_await connection.protocol->wait_for_bytes(18);
  EXPECT_EQ(connection.protocol->received, "over a unix socket");
  connection.transport->close();
  co_await connection.protocol->wait_until_lost();
  server.close();
  co_await server.wait_closed();
}

class ThrowsInConnectionMade : public Recorder {
 public:
  void connection_made(std::shared_ptr<Transport> transport) override {
    Recorder::connection_made(transport);
    throw std::runtime_error("no thanks");
  }
};

// As on a plain transport: the error is reported, the connection is lost with
// it, and create_connection throws it.
TLS_TEST(TlsProtocol, AConnectionMadeThatThrowsFailsTheConnect) {
  std::vector<std::string> reports;
  get_running_loop().set_exception_handler(
      [&reports](EventLoop&, const ExceptionContext& context) { reports.push_back(context.message); });
  TlsFixture tls;
  co_await tls.serve_echo();
  auto protocol = std::make_shared<ThrowsInConnectionMade>();
  ConnectOptions options;
  options.ssl = client_context();
  ProtocolFactory factory = [protocol] { return protocol; };
  std::optional<std::runtime_error> error =
      co_await error_of<std::runtime_error>(create_connection(factory, "localhost", tls.port(), options));
  EXPECT_TRUE(error.has_value());
  if (error) {
    EXPECT_STREQ(error->what(), "no thanks");
  }
  co_await protocol->wait_until_lost();
  EXPECT_NE(protocol->error, nullptr);
  EXPECT_EQ(reports, (std::vector<std::string>{"Fatal error: protocol.connection_made() call failed."}));
  co_await tls.close_server();
}

// --- verification -------------------------------------------------------------------------------

TLS_TEST(TlsVerification, AnUntrustedCertificateFailsTheHandshake) {
  const std::size_t descriptors = testing::open_descriptor_count();
  {
    Server server = co_await start_echo_server(
        server_context(certificates().other_server_cert_file, certificates().other_server_key_file));
    std::optional<SslCertVerificationError> error =
        co_await error_of<SslCertVerificationError>(connect_recorder(port_of(server), client_context()));
    EXPECT_TRUE(error.has_value());
    if (!error) co_return;
    EXPECT_EQ(error->verify_code, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
    EXPECT_STREQ(error->what(), "certificate verify failed: unable to get local issuer certificate");
    EXPECT_EQ(error->verify_message, "unable to get local issuer certificate");

    // The server goes on serving: a client that trusts its CA gets in.
    std::shared_ptr<SslContext> trusting = SslContext::client();
    trusting->load_verify_locations({.cafile = certificates().other_ca_file});
    Connection<Recorder> connection = co_await connect_recorder(port_of(server), trusting);
    connection.transport->write("ok");
    co_await connection.protocol->wait_for_bytes(2);
    EXPECT_EQ(connection.protocol->received, "ok");
    connection.transport->close();
    co_await connection.protocol->wait_until_lost();
    server.close();
    co_await server.wait_closed();
  }
  EXPECT_EQ(testing::open_descriptor_count(), descriptors);
}

TLS_TEST(TlsVerification, ASelfSignedCertificateFails) {
  TlsFixture tls;
  co_await tls.serve_echo(server_context(certificates().self_signed_cert_file, {}));
  std::optional<SslCertVerificationError> error =
      co_await error_of<SslCertVerificationError>(connect_recorder(tls.port(), client_context()));
  EXPECT_TRUE(error.has_value());
  if (error) {
    EXPECT_EQ(error->verify_code, X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT);
    EXPECT_STREQ(error->what(), "certificate verify failed: self-signed certificate");
  }
  // Trusting the certificate itself works (what a test server's client does).
  std::shared_ptr<SslContext> trusting = SslContext::client();
  trusting->load_verify_locations({.cafile = certificates().self_signed_cert_file});
  Connection<Recorder> connection = co_await connect_recorder(tls.port(), trusting);
  connection.transport->close();
  co_await connection.protocol->wait_until_lost();
  co_await tls.close_server();
}

TLS_TEST(TlsVerification, TheHostNameMustMatchTheCertificate) {
  TlsFixture tls;
  co_await tls.serve_echo();
  ConnectOptions options;
  options.server_hostname = "wrong.example";
  std::optional<SslCertVerificationError> error = co_await error_of<SslCertVerificationError>(
      connect_recorder(tls.port(), client_context(), "127.0.0.1", options));
  EXPECT_TRUE(error.has_value());
  if (error) {
    EXPECT_EQ(error->verify_code, X509_V_ERR_HOSTNAME_MISMATCH);
    EXPECT_STREQ(error->what(),
                 "certificate verify failed: Hostname mismatch, certificate is not valid for 'wrong.example'.");
  }
  // An address is checked as an address: 127.0.0.1 is in the certificate, 127.0.0.2 is not.
  Connection<Recorder> by_address = co_await connect_recorder(tls.port(), client_context(), "127.0.0.1");
  by_address.transport->close();
  co_await by_address.protocol->wait_until_lost();
  options.server_hostname = "127.0.0.2";
  error = co_await error_of<SslCertVerificationError>(
      connect_recorder(tls.port(), client_context(), "127.0.0.1", options));
  EXPECT_TRUE(error.has_value());
  if (error) {
    EXPECT_EQ(error->verify_code, X509_V_ERR_IP_ADDRESS_MISMATCH);
    EXPECT_STREQ(error->what(),
                 "certificate verify failed: IP address mismatch, certificate is not valid for '127.0.0.2'.");
  }
  // With the check off (and verification kept), any name goes.
  std::shared_ptr<SslContext> lenient = client_context();
  lenient->set_check_hostname(false);
  options.server_hostname = "wrong.example";
  Connection<Recorder> unchecked = co_await connect_recorder(tls.port(), lenient, "127.0.0.1", options);
  unchecked.transport->close();
  co_await unchecked.protocol->wait_until_lost();
  co_await tls.close_server();
}

TLS_TEST(TlsVerification, CertNoneAcceptsAnyServer) {
  TlsFixture tls;
  co_await tls.serve_echo(
      server_context(certificates().other_server_cert_file, certificates().other_server_key_file));
  std::shared_ptr<SslContext> insecure = SslContext::client();
  EXPECT_THROW(insecure->set_verify_mode(VerifyMode::CERT_NONE), aio::ValueError);
  insecure->set_check_hostname(false);
  insecure->set_verify_mode(VerifyMode::CERT_NONE);
  EXPECT_EQ(insecure->verify_mode(), VerifyMode::CERT_NONE);
  Connection<Recorder> connection = co_await connect_recorder(tls.port(), insecure);
  connection.transport->close();
  co_await connection.protocol->wait_until_lost();
  // Turning the host check back on turns verification on (as Python does).
  insecure->set_check_hostname(true);
  EXPECT_EQ(insecure->verify_mode(), VerifyMode::CERT_REQUIRED);
  co_await tls.close_server();
}

TLS_TEST(TlsVerification, CadataInMemoryIsTrusted) {
  TlsFixture tls;
  co_await tls.serve_echo();
  std::shared_ptr<SslContext> context = SslContext::client();
  context->load_verify_locations({.cadata = certificates().ca_pem});
  Connection<Recorder> connection = co_await connect_recorder(tls.port(), context);
  connection.transport->close();
  co_await connection.protocol->wait_until_lost();
  co_await tls.close_server();
}

// Mutual TLS: with CERT_REQUIRED the server wants a certificate from its CA.
// Under TLS 1.3 the client's handshake is over before the server has looked
// at the client's certificate, so a client without one learns of the refusal
// from the connection's end.
TLS_TEST(TlsVerification, MutualTlsRequiresAClientCertificate) {
  std::shared_ptr<SslContext> context = server_context();
  context->set_verify_mode(VerifyMode::CERT_REQUIRED);
  context->load_verify_locations({.cafile = certificates().ca_file});
  ServeOptions options;
  options.ssl = context;
  TlsFixture tls;
  co_await tls.serve_recording(options);

  std::shared_ptr<SslContext> with_certificate = client_context();
  with_certificate->load_cert_chain(certificates().client_cert_file, certificates().client_key_file);
  co_await tls.connect(with_certificate);
  Connection<Recorder>& accepted = tls.client;
  accepted.transport->write("me");
  std::shared_ptr<Recorder> server_side = tls.server_side;
  co_await server_side->wait_for_bytes(2);
  EXPECT_NE(extra<std::string>(*server_side->transport, "peercert").find("BEGIN CERTIFICATE"), std::string::npos);
  accepted.transport->close();
  co_await accepted.protocol->wait_until_lost();

  Connection<Recorder> refused = co_await connect_recorder(tls.port(), client_context());
  co_await refused.protocol->wait_until_lost();
  bool refused_with_ssl_error = false;
  try {
    if (refused.protocol->error) std::rethrow_exception(refused.protocol->error);
  } catch (const SslError& error) {
    refused_with_ssl_error = true;
    EXPECT_NE(std::string(error.what()).find("certificate required"), std::string::npos) << error.what();
  }
  EXPECT_TRUE(refused_with_ssl_error);
  EXPECT_EQ(refused.protocol->events, (std::vector<std::string>{"connection_made", "connection_lost"}));
  co_await tls.close_server();
}

TLS_TEST(TlsVerification, AlpnPicksTheServersFirstChoiceTheClientOffers) {
  std::shared_ptr<SslContext> server_side = server_context();
  server_side->set_alpn_protocols({"http/1.1", "h2"});
  TlsFixture tls;
  co_await tls.serve_echo(server_side);
  std::shared_ptr<SslContext> client = client_context();
  client->set_alpn_protocols({"h2", "http/1.1"});
  Connection<Recorder> connection = co_await connect_recorder(tls.port(), client);
  EXPECT_EQ(extra<std::string>(*connection.transport, "alpn_protocol"), "http/1.1");
  connection.transport->close();
  co_await connection.protocol->wait_until_lost();
  // No protocol in common: no ALPN (the handshake still succeeds, as in Python).
  client->set_alpn_protocols({"spdy/1"});
  connection = co_await connect_recorder(tls.port(), client);
  EXPECT_EQ(extra<std::string>(*connection.transport, "alpn_protocol"), "");
  connection.transport->close();
  co_await connection.protocol->wait_until_lost();
  EXPECT_THROW(client->set_alpn_protocols({""}), aio::ValueError);
  EXPECT_THROW(client->set_alpn_protocols({std::string(256, 'a')}), aio::ValueError);
  co_await tls.close_server();
}

TLS_TEST(TlsVerification, VersionsWithNothingInCommonFailTheHandshake) {
  std::shared_ptr<SslContext> modern = server_context();
  modern->set_minimum_version(TlsVersion::TLSv1_3);
  Server server = co_await start_echo_server(modern);
  std::shared_ptr<SslContext> old = client_context();
  old->set_maximum_version(TlsVersion::TLSv1_2);
  std::optional<SslError> error = co_await error_of<SslError>(connect_recorder(port_of(server), old));
  EXPECT_TRUE(error.has_value());
  if (error) {
    EXPECT_EQ(std::string(error->what()).rfind("SSL handshake failed: ", 0), 0u) << error->what();
    EXPECT_FALSE(error->reason.empty());
  }
  // TLS 1.2 itself works where both allow it.
  std::shared_ptr<SslContext> tls12_server = server_context();
  tls12_server->set_maximum_version(TlsVersion::TLSv1_2);
  tls12_server->set_ciphers("ECDHE-ECDSA-AES128-GCM-SHA256");
  Server server12 = co_await start_echo_server(tls12_server);
  Connection<Recorder> connection = co_await connect_recorder(port_of(server12), old);
  EXPECT_STREQ(SSL_get_version(extra<SSL*>(*connection.transport, "ssl_object")), "TLSv1.2");
  EXPECT_EQ(extra<std::string>(*connection.transport, "cipher"), "ECDHE-ECDSA-AES128-GCM-SHA256");
  connection.transport->write("twelve");
  co_await connection.protocol->wait_for_bytes(6);
  EXPECT_EQ(connection.protocol->received, "twelve");
  connection.transport->close();
  co_await connection.protocol->wait_until_lost();
  server.close();
  server12.close();
  co_await server.wait_closed();
  co_await server12.wait_closed();
}

// --- strangers: plain text on a TLS port, TLS to a plain port -------------------------------

TLS_TEST(TlsFaults, APlainTextClientOnATlsPortIsDroppedAndTheServerGoesOn) {
  const std::size_t descriptors = testing::open_descriptor_count();
  {
    Server server = co_await start_echo_server(server_context());
    Connection<Recorder> plain =
        co_await create_connection([] { return std::make_shared<Recorder>(); }, "127.0.0.1", port_of(server));
    plain.transport->write("GET / HTTP/1.0\r\n\r\n");
    co_await plain.protocol->wait_until_lost();  // EOF or a reset: either way, not a hang
    EXPECT_EQ(plain.protocol->events.back(), "connection_lost");

    Connection<Recorder> tls = co_await connect_recorder(port_of(server), client_context());
    tls.transport->write("still serving");
    co_await tls.protocol->wait_for_bytes(13);
    EXPECT_EQ(tls.protocol->received, "still serving");
    tls.transport->close();
    co_await tls.protocol->wait_until_lost();
    server.close();
    co_await server.wait_closed();
  }
  EXPECT_EQ(testing::open_descriptor_count(), descriptors);
}

// A plain server that greets first (SMTP, FTP): the client's TLS layer reads
// the greeting as a broken record.
class Greeter : public Protocol {
 public:
  void connection_made(std::shared_ptr<Transport> transport) override {
    transport->write("220 plain.example ESMTP ready\r\n");
    transport_ = transport;
  }
  void connection_lost(std::exception_ptr) override { transport_.reset(); }

 private:
  std::shared_ptr<Transport> transport_;
};

// Closes every connection at once.
class Slammer : public Protocol {
 public:
  void connection_made(std::shared_ptr<Transport> transport) override { transport->close(); }
};

TLS_TEST(TlsFaults, ATlsClientOnAPlainPortGetsAClearError) {
  const std::size_t descriptors = testing::open_descriptor_count();
  {
    Server greeter = co_await create_server([] { return std::make_shared<Greeter>(); }, "127.0.0.1", 0);
    std::optional<SslError> error = co_await error_of<SslError>(connect_recorder(port_of(greeter), client_context()));
    EXPECT_TRUE(error.has_value());
    if (error) {
      EXPECT_EQ(std::string(error->what()).rfind("SSL handshake failed: ", 0), 0u) << error->what();
    }

    Server slammer = co_await create_server([] { return std::make_shared<Slammer>(); }, "127.0.0.1", 0);
    std::optional<std::system_error> reset =
        co_await error_of<std::system_error>(connect_recorder(port_of(slammer), client_context()));
    EXPECT_TRUE(reset.has_value());
    // An EOF ("Connection lost during the SSL handshake") or a reset, as the
    // kernel's timing has it: ECONNRESET either way.
    if (reset) {
      EXPECT_EQ(reset->code().value(), ECONNRESET) << reset->what();
    }
    greeter.close();
    slammer.close();
    co_await greeter.wait_closed();
    co_await slammer.wait_closed();
  }
  EXPECT_EQ(testing::open_descriptor_count(), descriptors);
}

// --- timeouts (virtual time: nothing is in flight, the clock jumps) --------------------------

// Accepts and says nothing.
class Silent : public Protocol {
 public:
  void connection_made(std::shared_ptr<Transport> transport) override { transport_ = transport; }
  void connection_lost(std::exception_ptr) override { transport_.reset(); }

 private:
  std::shared_ptr<Transport> transport_;
};

AIO_TEST(TlsTimeouts, AHandshakeWithASilentServerTimesOut) {
  const std::size_t descriptors = testing::open_descriptor_count();
  {
    Server server = co_await create_server([] { return std::make_shared<Silent>(); }, "127.0.0.1", 0);
    EventLoop& loop = get_running_loop();
    const TimePoint start = loop.time();
    std::optional<TimeoutError> error =
        co_await error_of<TimeoutError>(connect_recorder(port_of(server), client_context()));
    EXPECT_TRUE(error.has_value());
    if (error) {
      EXPECT_STREQ(error->what(), "SSL handshake is taking longer than 60.0 seconds: aborting the connection");
    }
    EXPECT_EQ(loop.time() - start, 60s);

    ConnectOptions options;
    options.ssl_handshake_timeout = 1500ms;
    error = co_await error_of<TimeoutError>(connect_recorder(port_of(server), client_context(), "localhost", options));
    EXPECT_TRUE(error.has_value());
    if (error) {
      EXPECT_STREQ(error->what(), "SSL handshake is taking longer than 1.5 seconds: aborting the connection");
    }
    server.close();
    server.close_clients();
    co_await server.wait_closed();
  }
  EXPECT_EQ(testing::open_descriptor_count(), descriptors);
}

AIO_TEST(TlsTimeouts, AServerDropsAClientThatNeverFinishesTheHandshake) {
  ServeOptions options;
  options.ssl = server_context();
  options.ssl_handshake_timeout = 5s;
  Server server = co_await create_server([] { return std::make_shared<Echo>(); }, "127.0.0.1", 0, options);
  EventLoop& loop = get_running_loop();
  const TimePoint start = loop.time();
  Connection<Recorder> silent_client =
      co_await create_connection([] { return std::make_shared<Recorder>(); }, "127.0.0.1", port_of(server));
  co_await silent_client.protocol->wait_until_lost();
  EXPECT_EQ(loop.time() - start, 5s);
  server.close();
  co_await server.wait_closed();
}

// Stops reading as soon as it is connected: a peer that never answers close_notify.
class Deaf : public Protocol {
 public:
  void connection_made(std::shared_ptr<Transport> transport) override {
    transport->pause_reading();
    transport_ = transport;
  }
  void connection_lost(std::exception_ptr) override { transport_.reset(); }

 private:
  std::shared_ptr<Transport> transport_;
};

// On the real clock (the handshake comes first), with a short timeout.
TLS_TEST(TlsTimeouts, CloseGivesUpWaitingForThePeersCloseNotify) {
  ServeOptions serve_options;
  serve_options.ssl = server_context();
  Server server = co_await create_server([] { return std::make_shared<Deaf>(); }, "127.0.0.1", 0, serve_options);
  ConnectOptions options;
  options.ssl_shutdown_timeout = 100ms;
  Connection<Recorder> client = co_await connect_recorder(port_of(server), client_context(), "localhost", options);
  EventLoop& loop = get_running_loop();
  const TimePoint start = loop.time();
  client.transport->close();
  co_await client.protocol->wait_until_lost();
  EXPECT_GE(loop.time() - start, 100ms);
  bool timed_out = false;
  try {
    if (client.protocol->error) std::rethrow_exception(client.protocol->error);
  } catch (const TimeoutError& error) {
    timed_out = true;
    EXPECT_STREQ(error.what(), "SSL shutdown timed out");
  }
  EXPECT_TRUE(timed_out);
  server.close();
  server.close_clients();
  co_await server.wait_closed();
}

// --- cancellation ------------------------------------------------------------------------

// Accepts and records whether anything arrived.
class Listener : public Protocol {
 public:
  void connection_made(std::shared_ptr<Transport> transport) override { transport_ = transport; }
  void data_received(std::string_view) override {
    if (!heard.done()) heard.set_result();
  }
  void connection_lost(std::exception_ptr) override {
    transport_.reset();
    lost.set_result();
  }
  Future<void> heard;
  Future<void> lost;

 private:
  std::shared_ptr<Transport> transport_;
};

TLS_TEST(TlsCancellation, CancellingAConnectDuringTheHandshakeLeaksNothing) {
  const std::size_t descriptors = testing::open_descriptor_count();
  {
    auto listener = std::make_shared<Listener>();
    // A local, not a temporary in the co_await: GCC 12 destroys such a
    // lambda's captures twice.
    ProtocolFactory factory = [listener] { return listener; };
    Server server = co_await create_server(factory, "127.0.0.1", 0);
    Task<Connection<Recorder>> connect = create_task(connect_recorder(port_of(server), client_context()));
    Future<void> heard = listener->heard;
    co_await heard;  // the ClientHello: the client is in the handshake
    EXPECT_FALSE(connect.done());
    connect.cancel();
    EXPECT_THROW(co_await connect, CancelledError);
    // The server sees the client's socket close.
    Future<void> lost = listener->lost;
    co_await lost;
    server.close();
    co_await server.wait_closed();
  }
  EXPECT_EQ(testing::open_descriptor_count(), descriptors);
}

// --- start_tls on a connection (protocols) ---------------------------------------------------

TLS_TEST(TlsStartTls, BothSidesUpgradeAPlainConnection) {
  RecordingServer recording;
  Server server = co_await create_server(recording.factory(), "127.0.0.1", 0);
  Connection<Recorder> client =
      co_await create_connection([] { return std::make_shared<Recorder>(); }, "127.0.0.1", port_of(server));
  client.transport->write("STARTTLS\r\n");
  co_await recording.accepted;
  std::shared_ptr<Recorder> server_side = recording.connections.at(0);
  co_await server_side->wait_for_bytes(10);
  EXPECT_EQ(server_side->received, "STARTTLS\r\n");
  // A client context cannot serve, nor the other way round.
  EXPECT_THROW(co_await start_tls(client.transport, client.protocol, server_context(), false), aio::ValueError);
  // Both handshakes run at once: each side's start_tls waits for the other.
  Task<std::shared_ptr<Transport>> server_upgrade =
      create_task(start_tls(server_side->transport, server_side, server_context(), /*server_side=*/true));
  std::shared_ptr<Transport> client_tls = co_await start_tls(client.transport, client.protocol, client_context(),
                                                             /*server_side=*/false, "localhost");
  std::shared_ptr<Transport> server_tls = co_await server_upgrade;
  EXPECT_NE(extra<SSL*>(*client_tls, "ssl_object"), nullptr);
  EXPECT_NE(extra<SSL*>(*server_tls, "ssl_object"), nullptr);
  // connection_made is not called again: the protocols keep their plain transport
  // reference, and get the clear text of the TLS one.
  client_tls->write("secret");
  co_await server_side->wait_for_bytes(16);
  EXPECT_EQ(server_side->received, "STARTTLS\r\nsecret");
  client_tls->close();
  co_await client.protocol->wait_until_lost();
  co_await server_side->wait_until_lost();
  EXPECT_EQ(client.protocol->events, (std::vector<std::string>{"connection_made", "eof_received", "connection_lost"}));
  EXPECT_THROW(co_await start_tls(client_tls, client.protocol, client_context(), false, "localhost"),
               std::runtime_error);  // closing
  server.close();
  co_await server.wait_closed();
}

// --- streams -------------------------------------------------------------------------------

Coro<void> echo_lines(StreamReader reader, StreamWriter writer) {
  while (std::optional<std::string> line = co_await reader.next_line()) {
    writer.write(*line);
    co_await writer.drain();
  }
  writer.close();
  co_await writer.wait_closed();
}

TLS_TEST(TlsStreams, EchoOverOpenConnectionAndStartServer) {
  ServeOptions serve_options;
  serve_options.ssl = server_context();
  Server server = co_await start_server(echo_lines, "127.0.0.1", 0, serve_options);
  ConnectOptions options;
  options.ssl = client_context();
  Streams streams = co_await open_connection("localhost", port_of(server), options);
  EXPECT_FALSE(std::any_cast<std::string>(streams.writer.get_extra_info("cipher")).empty());
  streams.writer.write("hello over TLS\n");
  EXPECT_EQ(co_await streams.reader.readline(), "hello over TLS\n");
  streams.writer.write("second line\n");
  co_await streams.writer.drain();
  EXPECT_EQ(co_await streams.reader.readline(), "second line\n");
  EXPECT_FALSE(streams.writer.can_write_eof());
  streams.writer.close();
  co_await streams.writer.wait_closed();
  server.close();
  co_await server.wait_closed();
}

TLS_TEST(TlsStreams, OpenConnectionToAnUntrustedServerThrows) {
  ServeOptions serve_options;
  serve_options.ssl = server_context(certificates().self_signed_cert_file, {});
  Server server = co_await start_server(echo_lines, "127.0.0.1", 0, serve_options);
  ConnectOptions options;
  options.ssl = client_context();
  std::optional<SslCertVerificationError> error =
      co_await error_of<SslCertVerificationError>(open_connection("localhost", port_of(server), options));
  EXPECT_TRUE(error.has_value());
  if (error) {
    EXPECT_STREQ(error->what(), "certificate verify failed: self-signed certificate");
  }
  server.close();
  co_await server.wait_closed();
}

unsigned long checksum(std::string_view data) {
  unsigned long sum = 0;
  for (unsigned char byte : data) sum = sum * 31 + byte;
  return sum;
}

// TLS has no half-close (the peer's close_notify ends both directions), so
// the client announces the size instead of closing to mark the end.
TLS_TEST(TlsStreams, LargeTransferWithDrain) {
  ServeOptions serve_options;
  serve_options.ssl = server_context();
  Server server = co_await start_server(
      [](StreamReader reader, StreamWriter writer) -> Coro<void> {
        const std::size_t size = std::stoul(co_await reader.readline());
        std::string all = co_await reader.readexactly(size);
        writer.write(std::to_string(all.size()) + " " + std::to_string(checksum(all)) + "\n");
        co_await writer.drain();
        writer.close();
        co_await writer.wait_closed();
      },
      "127.0.0.1", 0, serve_options);
  ConnectOptions options;
  options.ssl = client_context();
  Streams streams = co_await open_connection("localhost", port_of(server), options);
  std::string payload(6 * 1024 * 1024, '\0');
  std::mt19937 random(7);
  for (char& byte : payload) byte = static_cast<char>(random());
  streams.writer.write(std::to_string(payload.size()) + "\n");
  for (std::size_t offset = 0; offset < payload.size(); offset += 256 * 1024) {
    streams.writer.write(std::string_view(payload).substr(offset, 256 * 1024));
    co_await streams.writer.drain();
  }
  EXPECT_EQ(co_await streams.reader.readline(),
            std::to_string(payload.size()) + " " + std::to_string(checksum(payload)) + "\n");
  EXPECT_EQ(co_await streams.reader.read(), "");
  streams.writer.close();
  co_await streams.writer.wait_closed();
  server.close();
  co_await server.wait_closed();
}

// STARTTLS as SMTP does it: a plain exchange, then both sides upgrade.
TLS_TEST(TlsStreams, StartTlsUpgradesBothSides) {
  Server server = co_await start_server(
      [](StreamReader reader, StreamWriter writer) -> Coro<void> {
        EXPECT_EQ(co_await reader.readline(), "STARTTLS\n");
        writer.write("220 go ahead\n");
        co_await writer.drain();
        co_await writer.start_tls(server_context());
        EXPECT_NE(std::any_cast<SSL*>(writer.get_extra_info("ssl_object")), nullptr);
        std::string line = co_await reader.readline();
        writer.write("secret: " + line);
        co_await writer.drain();
        writer.close();
        co_await writer.wait_closed();
      },
      "127.0.0.1", 0);
  Streams streams = co_await open_connection("127.0.0.1", port_of(server));
  EXPECT_FALSE(streams.writer.get_extra_info("ssl_object").has_value());
  streams.writer.write("STARTTLS\n");
  EXPECT_EQ(co_await streams.reader.readline(), "220 go ahead\n");
  co_await streams.writer.start_tls(client_context(), "localhost");
  EXPECT_NE(std::any_cast<SSL*>(streams.writer.get_extra_info("ssl_object")), nullptr);
  streams.writer.write("swordfish\n");
  EXPECT_EQ(co_await streams.reader.readline(), "secret: swordfish\n");
  EXPECT_EQ(co_await streams.reader.read(), "");  // the server's close_notify
  streams.writer.close();
  co_await streams.writer.wait_closed();
  server.close();
  co_await server.wait_closed();
}

TLS_TEST(TlsStreams, CancellingAReadLeaksNothing) {
  const std::size_t descriptors = testing::open_descriptor_count();
  {
    ServeOptions serve_options;
    serve_options.ssl = server_context();
    Server server = co_await start_server(echo_lines, "127.0.0.1", 0, serve_options);
    ConnectOptions options;
    options.ssl = client_context();
    Streams streams = co_await open_connection("localhost", port_of(server), options);
    StreamReader reader = streams.reader;
    Task<std::string> read = create_task(reader.readline());
    co_await testing::let_other_tasks_run();
    read.cancel();
    EXPECT_THROW(co_await read, CancelledError);
    // The connection still works after the cancelled read.
    streams.writer.write("after\n");
    EXPECT_EQ(co_await streams.reader.readline(), "after\n");
    streams.writer.close();
    co_await streams.writer.wait_closed();
    server.close();
    co_await server.wait_closed();
  }
  EXPECT_EQ(testing::open_descriptor_count(), descriptors);
}

// --- SslContext's errors --------------------------------------------------------------------

TEST(SslContext, FactoriesHavePythonsDefaults) {
  std::shared_ptr<SslContext> client = SslContext::client();
  EXPECT_FALSE(client->is_server());
  EXPECT_EQ(client->verify_mode(), VerifyMode::CERT_REQUIRED);
  EXPECT_TRUE(client->check_hostname());
  EXPECT_EQ(SSL_CTX_get_min_proto_version(client->native_handle()), TLS1_2_VERSION);
  std::shared_ptr<SslContext> server = SslContext::server();
  EXPECT_TRUE(server->is_server());
  EXPECT_EQ(server->verify_mode(), VerifyMode::CERT_NONE);
  EXPECT_FALSE(server->check_hostname());
}

TEST(SslContext, LoadCertChainNamesTheFileAndTheReason) {
  std::shared_ptr<SslContext> context = SslContext::server();
  try {
    context->load_cert_chain("/nonexistent/server.pem");
    ADD_FAILURE() << "no error";
  } catch (const std::system_error& error) {
    EXPECT_EQ(error.code().value(), ENOENT);
    EXPECT_NE(std::string(error.what()).find("'/nonexistent/server.pem'"), std::string::npos) << error.what();
  }
  const std::string garbage = certificates().directory + "/garbage.pem";
  std::ofstream(garbage) << "this is not a certificate\n";
  try {
    context->load_cert_chain(garbage);
    ADD_FAILURE() << "no error";
  } catch (const SslError& error) {
    EXPECT_NE(std::string(error.what()).find("cannot load the certificate chain from '" + garbage + "'"),
              std::string::npos)
        << error.what();
    EXPECT_FALSE(error.reason.empty());
  }
  try {
    context->load_cert_chain(certificates().server_cert_file, certificates().client_key_file);
    ADD_FAILURE() << "no error";
  } catch (const SslError& error) {
    EXPECT_NE(std::string(error.what()).find("does not match the certificate"), std::string::npos) << error.what();
  }
  context->load_cert_chain(certificates().server_cert_file, certificates().server_key_file);
}

TEST(SslContext, LoadVerifyLocationsErrors) {
  std::shared_ptr<SslContext> context = SslContext::client();
  EXPECT_THROW(context->load_verify_locations({}), aio::ValueError);
  EXPECT_THROW(context->load_verify_locations({.cafile = "/nonexistent/ca.pem"}), std::system_error);
  EXPECT_THROW(context->load_verify_locations({.capath = "/nonexistent"}), std::system_error);
  EXPECT_THROW(context->load_verify_locations({.cadata = "no certificate here"}), SslError);
  std::string broken = certificates().ca_pem;
  broken[broken.size() / 2] = '!';
  EXPECT_THROW(context->load_verify_locations({.cadata = broken}), SslError);
  context->load_verify_locations({.capath = certificates().directory});  // a directory, even without hashes
  context->load_verify_locations({.cadata = certificates().ca_pem});
}

TEST(SslContext, CiphersAndVersions) {
  std::shared_ptr<SslContext> context = SslContext::client();
  try {
    context->set_ciphers("NO-SUCH-CIPHER");
    ADD_FAILURE() << "no error";
  } catch (const SslError& error) {
    EXPECT_STREQ(error.what(), "No cipher can be selected.");
  }
  context->set_ciphers("ECDHE+AESGCM");
  context->set_minimum_version(TlsVersion::TLSv1_3);
  EXPECT_EQ(SSL_CTX_get_min_proto_version(context->native_handle()), TLS1_3_VERSION);
  context->set_maximum_version(TlsVersion::MAXIMUM_SUPPORTED);
  EXPECT_EQ(SSL_CTX_get_max_proto_version(context->native_handle()), 0);
}

// A program that ends with TLS connections open: the loop closes them, and
// nothing leaks (LeakSanitizer checks this under --config=asan).
TEST(TlsLifetime, ConnectionsLeftOpenAreReleasedWithTheLoop) {
  const std::size_t descriptors = testing::open_descriptor_count();
  std::weak_ptr<Transport> client_transport;
  aio::run([&]() -> Coro<void> {
    static std::optional<Server> server;  // outlives the coroutine, like a leaked handle
    server.emplace(co_await start_echo_server(server_context()));
    // The client protocol keeps its transport (and the transport its
    // protocol): a cycle that only the loop's close can break.
    Connection<Recorder> connection = co_await connect_recorder(port_of(*server), client_context());
    co_await connection.protocol->made;
    client_transport = connection.transport;
    server.reset();
  }());
  EXPECT_EQ(testing::open_descriptor_count(), descriptors);
  EXPECT_TRUE(client_transport.expired());
}

}  // namespace
}  // namespace aio
