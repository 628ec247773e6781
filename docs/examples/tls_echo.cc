// TLS examples for docs/tls.md: a TLS echo server and client with streams, a
// client that does not trust the server, and a STARTTLS upgrade. Everything
// runs in one process on loopback, with a CA and a server certificate for
// "localhost" made at run time (net/internal/tls_testing.h) in a temporary
// directory. tls_echo_test checks what it prints.
#include <openssl/ssl.h>

#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "aio.h"
#include "net/internal/tls_testing.h"
#include "net/tls.h"

using namespace std::chrono_literals;

// [START contexts]
// The server presents its certificate chain and proves it holds the key.
std::shared_ptr<aio::SslContext> make_server_context(const std::string& certificate, const std::string& key) {
  std::shared_ptr<aio::SslContext> context = aio::SslContext::server();
  context->load_cert_chain(certificate, key);
  return context;
}

// A client verifies the server. SslContext::client() already trusts the
// system's CAs, which is all a client of a public server needs; this one also
// trusts our own CA.
std::shared_ptr<aio::SslContext> make_client_context(const std::string& ca_file) {
  std::shared_ptr<aio::SslContext> context = aio::SslContext::client();
  context->load_verify_locations({.cafile = ca_file});
  return context;
}
// [END contexts]

// [START server]
aio::Coro<void> echo_lines(aio::StreamReader reader, aio::StreamWriter writer) {
  while (std::optional<std::string> line = co_await reader.next_line()) {
    writer.write(*line);
    co_await writer.drain();
  }
  writer.close();  // sends close_notify
  co_await writer.wait_closed();
}

aio::Coro<aio::Server> start_tls_echo_server(std::shared_ptr<aio::SslContext> context) {
  aio::ServeOptions options;
  options.ssl = context;
  options.ssl_handshake_timeout = 10s;  // strangers get 10 s to finish the handshake
  co_return co_await aio::start_server(echo_lines, "127.0.0.1", 0, options);
}
// [END server]

// [START client]
aio::Coro<void> echo_client(std::uint16_t port, std::shared_ptr<aio::SslContext> context) {
  aio::ConnectOptions options;
  options.ssl = context;
  options.server_hostname = "localhost";  // the name the certificate must have
  auto [reader, writer] = co_await aio::open_connection("127.0.0.1", port, options);
  writer.write("hello over TLS\n");
  std::string line = co_await reader.readline();
  std::printf("echo: %s", line.c_str());
  auto cipher = std::any_cast<std::string>(writer.get_extra_info("cipher"));
  auto* ssl = std::any_cast<SSL*>(writer.get_extra_info("ssl_object"));  // OpenSSL's, for anything else
  std::printf("cipher: %s (%s)\n", cipher.c_str(), SSL_get_version(ssl));
  writer.close();
  co_await writer.wait_closed();
}
// [END client]

// [START untrusted]
aio::Coro<void> untrusted_client(std::uint16_t port) {
  aio::ConnectOptions options;
  options.ssl = aio::SslContext::client();  // the system's CAs only: ours is unknown
  options.server_hostname = "localhost";
  try {
    co_await aio::open_connection("127.0.0.1", port, options);
  } catch (const aio::SslCertVerificationError& error) {
    std::printf("refused: %s (X509 error %ld)\n", error.what(), error.verify_code);
  }
}
// [END untrusted]

// [START starttls]
// SMTP's STARTTLS: the conversation starts in plain text, then both sides
// upgrade the same connection.
aio::Coro<void> starttls_handler(aio::StreamReader reader, aio::StreamWriter writer,
                                 std::shared_ptr<aio::SslContext> context) {
  if (co_await reader.readline() != "STARTTLS\n") co_return;
  writer.write("220 ready to start TLS\n");
  co_await writer.drain();
  co_await writer.start_tls(context);  // the server side of the handshake
  std::string secret = co_await reader.readline();
  writer.write("got " + secret);
  co_await writer.drain();
  writer.close();
  co_await writer.wait_closed();
}

aio::Coro<void> starttls_client(std::uint16_t port, std::shared_ptr<aio::SslContext> context) {
  auto [reader, writer] = co_await aio::open_connection("127.0.0.1", port);
  writer.write("STARTTLS\n");
  std::printf("server: %s", (co_await reader.readline()).c_str());
  co_await writer.start_tls(context, "localhost");
  writer.write("a secret\n");
  std::printf("server: %s", (co_await reader.readline()).c_str());
  writer.close();
  co_await writer.wait_closed();
}
// [END starttls]

aio::Coro<int> amain() {
  // A CA and a certificate for localhost that it signed (removed at the end).
  aio::testing::TestCertificates certificates;
  std::shared_ptr<aio::SslContext> server_context =
      make_server_context(certificates.server_cert_file, certificates.server_key_file);
  std::shared_ptr<aio::SslContext> client_context = make_client_context(certificates.ca_file);

  aio::Server server = co_await start_tls_echo_server(server_context);
  const std::uint16_t port = server.sockets().at(0).port();
  std::printf("TLS echo server listening\n");
  co_await echo_client(port, client_context);
  co_await untrusted_client(port);
  server.close();
  co_await server.wait_closed();

  aio::ClientConnected handler = [server_context](aio::StreamReader reader, aio::StreamWriter writer) {
    return starttls_handler(std::move(reader), std::move(writer), server_context);
  };
  aio::Server plain_server = co_await aio::start_server(handler, "127.0.0.1", 0);
  co_await starttls_client(plain_server.sockets().at(0).port(), client_context);
  plain_server.close();
  co_await plain_server.wait_closed();
  co_return 0;
}

int main() { return aio::run_main(amain()); }
