// SslContext: the settings side of TLS (certificates, trust, verification,
// versions, ALPN) on an OpenSSL SSL_CTX, and start_tls, which makes one SSL
// object per connection and hands it to the TlsTransport state machine
// (net/internal/tls_transport.h).
#include "net/tls.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <system_error>
#include <utility>

#include "async/errors.h"
#include "async/future.h"
#include "async/loop.h"
#include "net/internal/tls_transport.h"

namespace aio {

SslCertVerificationError::SslCertVerificationError(long verify_code, std::string verify_message)
    : SslError("certificate verify failed: " + verify_message, "certificate verify failed"),
      verify_code(verify_code),
      verify_message(std::move(verify_message)) {}

namespace {

using internal::ssl_error_from_queue;

// Python's session id context: a server that verifies client certificates
// refuses to resume sessions without one.
constexpr unsigned char kSessionIdContext[] = "aio";

int openssl_version(TlsVersion version, bool for_minimum) {
  switch (version) {
    case TlsVersion::MINIMUM_SUPPORTED:
      return for_minimum ? 0 : TLS1_VERSION;  // 0: no lower bound
    case TlsVersion::TLSv1:
      return TLS1_VERSION;
    case TlsVersion::TLSv1_1:
      return TLS1_1_VERSION;
    case TlsVersion::TLSv1_2:
      return TLS1_2_VERSION;
    case TlsVersion::TLSv1_3:
      return TLS1_3_VERSION;
    case TlsVersion::MAXIMUM_SUPPORTED:
      return for_minimum ? TLS1_3_VERSION : 0;  // 0: no upper bound
  }
  throw ValueError("SslContext: unknown TlsVersion " + std::to_string(static_cast<int>(version)));
}

bool is_ip_address(const std::string& host) {
  in6_addr address{};
  return ::inet_pton(AF_INET, host.c_str(), &address) == 1 || ::inet_pton(AF_INET6, host.c_str(), &address) == 1;
}

// A file OpenSSL is about to read: report a missing or unreadable one as the
// OS error it is (Python raises FileNotFoundError / PermissionError), naming it.
void check_readable(const std::string& what, const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    throw std::system_error(errno, std::system_category(), what + ": cannot open '" + path + "'");
  }
  std::fclose(file);
}

void check_directory(const std::string& what, const std::string& path) {
  struct stat status {};
  if (::stat(path.c_str(), &status) != 0) {
    throw std::system_error(errno, std::system_category(), what + ": cannot open '" + path + "'");
  }
  if (!S_ISDIR(status.st_mode)) {
    throw std::system_error(ENOTDIR, std::system_category(), what + ": '" + path + "' is not a directory");
  }
}

// The key's password comes from the caller only: no interactive prompt (which
// OpenSSL's default would do on the terminal, blocking the loop).
int password_callback(char* buffer, int size, int /*writing*/, void* user_data) {
  const auto* password = static_cast<const std::string*>(user_data);
  if (password == nullptr || password->empty() || password->size() > static_cast<std::size_t>(size)) return 0;
  std::memcpy(buffer, password->data(), password->size());
  return static_cast<int>(password->size());
}

// Server-side ALPN: the first of the server's protocols that the client
// offers (Python's choice), or no ALPN at all when none matches.
int select_alpn(SSL*, const unsigned char** out, unsigned char* out_length, const unsigned char* offered,
                unsigned int offered_length, void* user_data) {
  const auto* wire = static_cast<const std::string*>(user_data);
  unsigned char* selected = nullptr;
  const int result = SSL_select_next_proto(&selected, out_length, reinterpret_cast<const unsigned char*>(wire->data()),
                                           static_cast<unsigned int>(wire->size()), offered, offered_length);
  if (result != OPENSSL_NPN_NEGOTIATED) return SSL_TLSEXT_ERR_NOACK;
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

}  // namespace

SslContext::SslContext(bool server_side)
    : server_side_(server_side),
      verify_mode_(server_side ? VerifyMode::CERT_NONE : VerifyMode::CERT_REQUIRED),
      check_hostname_(!server_side) {
  ERR_clear_error();
  context_ = SSL_CTX_new(server_side ? TLS_server_method() : TLS_client_method());
  if (context_ == nullptr) throw ssl_error_from_queue("cannot make an SSL context");
  // Python's defaults (ssl.create_default_context): TLS 1.2 or later, no
  // compression (CRIME); plus no renegotiation, which TLS 1.3 dropped and
  // which a peer could use to make us work for nothing.
  SSL_CTX_set_min_proto_version(context_, TLS1_2_VERSION);
  long options = SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION;
  if (server_side) options |= SSL_OP_CIPHER_SERVER_PREFERENCE;
  SSL_CTX_set_options(context_, options);
  // The clear text still waiting for SSL_write (a rare retry) lives in a
  // string that may move between attempts.
  SSL_CTX_set_mode(context_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_CTX_set_session_id_context(context_, kSessionIdContext, sizeof kSessionIdContext - 1);
  apply_verify_mode();
}

SslContext::~SslContext() { SSL_CTX_free(context_); }

std::shared_ptr<SslContext> SslContext::client() {
  std::shared_ptr<SslContext> context(new SslContext(false));
  context->set_default_verify_paths();
  return context;
}

std::shared_ptr<SslContext> SslContext::server() {
  std::shared_ptr<SslContext> context(new SslContext(true));
  context->set_default_verify_paths();
  return context;
}

void SslContext::apply_verify_mode() {
  int mode = SSL_VERIFY_NONE;
  if (verify_mode_ == VerifyMode::CERT_OPTIONAL) mode = SSL_VERIFY_PEER;
  if (verify_mode_ == VerifyMode::CERT_REQUIRED) mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
  SSL_CTX_set_verify(context_, mode, nullptr);
}

void SslContext::load_cert_chain(const std::string& certfile, const std::string& keyfile, const std::string& password) {
  const std::string& key_file = keyfile.empty() ? certfile : keyfile;
  check_readable("load_cert_chain", certfile);
  check_readable("load_cert_chain", key_file);
  ERR_clear_error();
  SSL_CTX_set_default_passwd_cb(context_, &password_callback);
  SSL_CTX_set_default_passwd_cb_userdata(context_, const_cast<std::string*>(&password));
  struct ForgetPassword {
    SSL_CTX* context;
    ~ForgetPassword() { SSL_CTX_set_default_passwd_cb_userdata(context, nullptr); }
  } forget{context_};
  if (SSL_CTX_use_certificate_chain_file(context_, certfile.c_str()) != 1) {
    throw ssl_error_from_queue("load_cert_chain: cannot load the certificate chain from '" + certfile + "'");
  }
  const std::string mismatch =
      "load_cert_chain: the private key in '" + key_file + "' does not match the certificate in '" + certfile + "'";
  if (SSL_CTX_use_PrivateKey_file(context_, key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    // OpenSSL compares the key with the certificate while loading it.
    const unsigned long last = ERR_peek_last_error();
    if (ERR_GET_LIB(last) == ERR_LIB_X509 && ERR_GET_REASON(last) == X509_R_KEY_VALUES_MISMATCH) {
      throw ssl_error_from_queue(mismatch);
    }
    throw ssl_error_from_queue("load_cert_chain: cannot load the private key from '" + key_file + "'");
  }
  if (SSL_CTX_check_private_key(context_) != 1) throw ssl_error_from_queue(mismatch);
}

void SslContext::load_verify_locations(const VerifyLocations& locations) {
  if (locations.cafile.empty() && locations.capath.empty() && locations.cadata.empty()) {
    throw ValueError("load_verify_locations: cafile, capath and cadata cannot be all omitted");
  }
  if (!locations.cafile.empty()) check_readable("load_verify_locations", locations.cafile);
  if (!locations.capath.empty()) check_directory("load_verify_locations", locations.capath);
  ERR_clear_error();
  if (!locations.cafile.empty() || !locations.capath.empty()) {
    const char* file = locations.cafile.empty() ? nullptr : locations.cafile.c_str();
    const char* path = locations.capath.empty() ? nullptr : locations.capath.c_str();
    if (SSL_CTX_load_verify_locations(context_, file, path) != 1) {
      throw ssl_error_from_queue("load_verify_locations: cannot load '" + (file ? locations.cafile : locations.capath) +
                                 "'");
    }
  }
  if (locations.cadata.empty()) return;
  X509_STORE* store = SSL_CTX_get_cert_store(context_);
  const std::string& data = locations.cadata;
  int added = 0;
  auto add = [&](X509* certificate) {
    const int result = X509_STORE_add_cert(store, certificate);
    X509_free(certificate);
    if (result != 1) throw ssl_error_from_queue("load_verify_locations: cannot add a certificate from cadata");
    ++added;
  };
  if (data.find("-----BEGIN") != std::string::npos) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())),
                                                  &BIO_free);
    if (!bio) throw ssl_error_from_queue("load_verify_locations: cannot read cadata");
    while (X509* certificate = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) add(certificate);
    // The loop ends at the end of the text ("no start line"); any other error
    // is a broken certificate.
    const unsigned long last = ERR_peek_last_error();
    const bool clean_end =
        last == 0 || (ERR_GET_LIB(last) == ERR_LIB_PEM && ERR_GET_REASON(last) == PEM_R_NO_START_LINE);
    if (!clean_end) throw ssl_error_from_queue("load_verify_locations: cadata holds a broken certificate");
    ERR_clear_error();
  } else {
    const auto* cursor = reinterpret_cast<const unsigned char*>(data.data());
    const auto* end = cursor + data.size();
    while (cursor < end) {
      X509* certificate = d2i_X509(nullptr, &cursor, static_cast<long>(end - cursor));
      if (certificate == nullptr) {
        throw ssl_error_from_queue("load_verify_locations: cadata holds a broken DER certificate");
      }
      add(certificate);
    }
  }
  if (added == 0) throw SslError("load_verify_locations: cadata holds no certificate");
}

void SslContext::set_default_verify_paths() {
  SSL_CTX_set_default_verify_paths(context_);
  ERR_clear_error();  // missing default locations are not an error
}

void SslContext::set_verify_mode(VerifyMode mode) {
  if (mode == VerifyMode::CERT_NONE && check_hostname_) {
    throw ValueError("set_verify_mode: cannot set verify_mode to CERT_NONE when check_hostname is enabled");
  }
  verify_mode_ = mode;
  apply_verify_mode();
}

void SslContext::set_check_hostname(bool check) {
  if (check && verify_mode_ == VerifyMode::CERT_NONE) {
    verify_mode_ = VerifyMode::CERT_REQUIRED;
    apply_verify_mode();
  }
  check_hostname_ = check;
}

void SslContext::set_alpn_protocols(const std::vector<std::string>& protocols) {
  std::string wire;
  for (const std::string& protocol : protocols) {
    if (protocol.empty() || protocol.size() > 255) {
      throw ValueError("set_alpn_protocols: a protocol name must be 1 to 255 bytes long, not '" + protocol +
                       "'");
    }
    wire += static_cast<char>(protocol.size());
    wire += protocol;
  }
  ERR_clear_error();
  if (!server_side_) {
    // OpenSSL returns 0 on success here.
    if (SSL_CTX_set_alpn_protos(context_, reinterpret_cast<const unsigned char*>(wire.data()),
                                static_cast<unsigned int>(wire.size())) != 0) {
      throw ssl_error_from_queue("set_alpn_protocols");
    }
    return;
  }
  alpn_wire_ = std::move(wire);
  SSL_CTX_set_alpn_select_cb(context_, alpn_wire_.empty() ? nullptr : &select_alpn, &alpn_wire_);
}

void SslContext::set_minimum_version(TlsVersion version) {
  ERR_clear_error();
  if (SSL_CTX_set_min_proto_version(context_, openssl_version(version, true)) != 1) {
    throw ssl_error_from_queue("set_minimum_version");
  }
}

void SslContext::set_maximum_version(TlsVersion version) {
  ERR_clear_error();
  if (SSL_CTX_set_max_proto_version(context_, openssl_version(version, false)) != 1) {
    throw ssl_error_from_queue("set_maximum_version");
  }
}

void SslContext::set_ciphers(const std::string& ciphers) {
  ERR_clear_error();
  if (SSL_CTX_set_cipher_list(context_, ciphers.c_str()) != 1) {
    SslError error = ssl_error_from_queue("set_ciphers");
    throw SslError("No cipher can be selected.", error.reason);
  }
}

SSL* SslContext::new_connection(const internal::TlsSettings& settings) const {
  ERR_clear_error();
  std::unique_ptr<SSL, decltype(&SSL_free)> ssl(SSL_new(context_), &SSL_free);
  if (!ssl) throw ssl_error_from_queue("cannot make an SSL connection");
  if (server_side_) {
    SSL_set_accept_state(ssl.get());
    return ssl.release();
  }
  SSL_set_connect_state(ssl.get());
  const std::string& host = settings.server_hostname;
  const bool is_ip = is_ip_address(host);
  // SNI names hosts, never addresses (RFC 6066 section 3).
  if (!host.empty() && !is_ip && SSL_set_tlsext_host_name(ssl.get(), host.c_str()) != 1) {
    throw ssl_error_from_queue("server_hostname '" + host + "' cannot be sent as the server name (SNI)");
  }
  if (check_hostname_) {
    if (host.empty()) throw ValueError("start_tls: check_hostname requires server_hostname");
    if (is_ip) {
      if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl.get()), host.c_str()) != 1) {
        throw ssl_error_from_queue("cannot check the server's certificate for " + host);
      }
    } else {
      SSL_set_hostflags(ssl.get(), X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      if (SSL_set1_host(ssl.get(), host.c_str()) != 1) {
        throw ssl_error_from_queue("cannot check the server's certificate for '" + host + "'");
      }
    }
  }
  return ssl.release();
}

Coro<std::shared_ptr<Transport>> SslContext::start_tls(std::shared_ptr<Transport> raw,
                                                       std::shared_ptr<BaseProtocol> protocol,
                                                       internal::TlsSettings settings) {
  if (!raw || !protocol) throw ValueError("start_tls: the transport and the protocol are required");
  if (settings.server_side != server_side_) {
    throw ValueError(server_side_ ? "start_tls: a server SslContext cannot make client connections"
                     : "start_tls: a client SslContext cannot make server connections");
  }
  if (settings.handshake_timeout <= Duration::zero() || settings.shutdown_timeout <= Duration::zero()) {
    throw ValueError("start_tls: ssl timeouts must be positive");
  }
  EventLoop& loop = get_running_loop();
  auto transport = std::make_shared<internal::TlsTransport>(loop, new_connection(settings), shared_from_this(), raw,
                                                            std::move(protocol), settings);
  Future<void> handshake = transport->start_handshake();
  try {
    co_await handshake;
  } catch (const CancelledError&) {
    // The handshake may have failed in the same iteration: its error is
    // superseded by the cancellation, not "never retrieved".
    if (handshake.done() && !handshake.cancelled()) (void)handshake.exception();
    transport->abort();
    throw;
  }
  co_return transport;
}

}  // namespace aio
