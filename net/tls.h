// TLS for aio's transports and streams: asyncio's ssl.SSLContext and its
// SSL protocol (Lib/asyncio/sslproto.py), on OpenSSL 3.
//
//   // Client: verify the server against the system's CAs, check its name.
//   aio::ConnectOptions options;
//   options.ssl = aio::SslContext::client();
//   auto [reader, writer] = co_await aio::open_connection("example.com", 443, options);
//
//   // Server: present a certificate.
//   std::shared_ptr<aio::SslContext> tls = aio::SslContext::server();
//   tls->load_cert_chain("server.pem", "server.key");
//   aio::ServeOptions serve_options;
//   serve_options.ssl = tls;
//   aio::Server server = co_await aio::start_server(handle, "0.0.0.0", 8443, serve_options);
//
// An SslContext holds the settings (certificates, trust, verification,
// protocol versions, ALPN) that every connection made with it shares, like
// Python's SSLContext. Pass it as ConnectOptions::ssl, ServeOptions::ssl,
// StreamWriter::start_tls or aio::start_tls. Changing a context affects the
// connections started after the change, not those already running.
//
// Defaults are Python's ssl.create_default_context(): a client context
// verifies the server's certificate against the system's trusted CAs and checks
// that it names `server_hostname` (the host given to open_connection unless
// ConnectOptions::server_hostname says otherwise; IP addresses are checked as
// IP addresses); TLS 1.2 is the minimum version. A server context asks for no
// client certificate (set_verify_mode(VerifyMode::CERT_REQUIRED) for mutual TLS).
//
// Errors: every failure OpenSSL reports becomes an SslError whose message says
// what failed (the file name, OpenSSL's reason); a certificate that does not
// verify is an SslCertVerificationError with OpenSSL's X509 verify code; a
// file that cannot be opened is a std::system_error with the errno (Python's
// FileNotFoundError). A handshake that takes longer than its timeout (60 s by
// default) is aborted with aio::TimeoutError; a close() whose close_notify the
// peer does not answer within the shutdown timeout (30 s) ends with
// connection_lost(aio::TimeoutError("SSL shutdown timed out")). A failed
// handshake aborts the connection's socket.
//
// Threads: a context may be shared by the loops of several threads once it is
// set up (OpenSSL contexts are thread-safe for making connections), but its
// setters are not thread-safe: configure it first, then share it.
#ifndef AIO_NET_TLS_H_
#define AIO_NET_TLS_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "async/coro.h"
#include "async/errors.h"
#include "net/transport.h"

// OpenSSL's context type, without including OpenSSL's headers here.
typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;

namespace aio {

// A TLS failure reported by OpenSSL (Python's ssl.SSLError). what() says what
// aio was doing and OpenSSL's reason, e.g. "SSL handshake failed: wrong version
// number" or "load_cert_chain: cannot load the certificate chain from
// 'server.pem': PEM lib (no start line)". `reason` is OpenSSL's last reason
// ("wrong version number"), empty when OpenSSL gave none.
class SslError : public Error {
 public:
  explicit SslError(const std::string& what, std::string reason = {}) : Error(what), reason(std::move(reason)) {}
  std::string reason;
};

// The peer's certificate did not verify (Python's ssl.SSLCertVerificationError).
// what() is "certificate verify failed: <verify_message>", e.g.
// "certificate verify failed: self-signed certificate" or "certificate verify
// failed: Hostname mismatch, certificate is not valid for 'example.com'.".
// `verify_code` is OpenSSL's X509_V_ERR_* code, `verify_message` its text.
class SslCertVerificationError : public SslError {
 public:
  SslCertVerificationError(long verify_code, std::string verify_message);
  long verify_code;
  std::string verify_message;
};

// Whether and how the peer's certificate is checked (ssl.CERT_NONE, ...).
enum class VerifyMode {
  // No check. On a client: accept any server (insecure; allowed only with
  // check_hostname off).
  CERT_NONE,
  // A server asks for a client certificate and verifies it if one is sent. On
  // a client the same as CERT_REQUIRED.
  CERT_OPTIONAL,
  // The peer must present a certificate that verifies.
  CERT_REQUIRED,
};

// TLS protocol versions (ssl.TLSVersion).
enum class TlsVersion {
  MINIMUM_SUPPORTED,  // whatever OpenSSL allows
  TLSv1,
  TLSv1_1,
  TLSv1_2,
  TLSv1_3,
  MAXIMUM_SUPPORTED,
};

// Where load_verify_locations finds trusted CA certificates; give at least one.
//   context->load_verify_locations({.cafile = "ca.pem"});
struct VerifyLocations {
  std::string cafile;  // a PEM file of one or more certificates
  std::string capath;  // a directory of PEM files named by subject hash (c_rehash)
  std::string cadata;  // certificates in memory: PEM text, or DER bytes
};

// asyncio's ssl.SSLContext. Made by the factories below and shared by
// shared_ptr (the connections made with it keep it alive). Not copyable.
class SslContext final : public TlsLayer, public std::enable_shared_from_this<SslContext> {
 public:
  // ssl.create_default_context() (Purpose.SERVER_AUTH): a client context with
  // VerifyMode::CERT_REQUIRED, check_hostname on, the system's default CA
  // locations loaded (set_default_verify_paths), TLS 1.2 minimum.
  // Throws SslError if OpenSSL cannot make a context.
  static std::shared_ptr<SslContext> client();
  // ssl.create_default_context(Purpose.CLIENT_AUTH): a server context with
  // VerifyMode::CERT_NONE, check_hostname off, the system's default CA
  // locations loaded (for client certificates, if you require them), TLS 1.2
  // minimum. Give it a certificate with load_cert_chain before serving.
  static std::shared_ptr<SslContext> server();

  SslContext(const SslContext&) = delete;
  SslContext& operator=(const SslContext&) = delete;
  ~SslContext() override;

  bool is_server() const noexcept { return server_side_; }

  // --- certificates and trust -----------------------------------------------
  // Loads this side's certificate chain (PEM: the certificate first, then
  // intermediates) and its private key (PEM; empty `keyfile`: the key is in
  // `certfile`). `password` decrypts an encrypted key (there is no
  // interactive prompt, unlike OpenSSL's default: an encrypted key without its
  // password fails). Throws std::system_error (ENOENT, EACCES, ...) naming the
  // file if a file cannot be opened, and SslError naming the file and
  // OpenSSL's reason if it cannot be parsed or the key does not match the
  // certificate ("... does not match the certificate in '...': key values
  // mismatch").
  void load_cert_chain(const std::string& certfile, const std::string& keyfile = {}, const std::string& password = {});
  // Adds trusted CA certificates. Throws aio::ValueError if all three
  // fields are empty, std::system_error naming the file or directory if it
  // cannot be opened, SslError naming it and OpenSSL's reason if it cannot be
  // parsed, and SslError for cadata that is broken or holds no certificate.
  void load_verify_locations(const VerifyLocations& locations);
  // Trusts the system's default CA locations (OpenSSL's default file and
  // directory, overridable with SSL_CERT_FILE / SSL_CERT_DIR). Never throws:
  // missing locations simply add nothing, as in OpenSSL and Python.
  void set_default_verify_paths();

  // --- verification ----------------------------------------------------------
  // Throws aio::ValueError for CERT_NONE while check_hostname is on
  // ("Cannot set verify_mode to CERT_NONE when check_hostname is enabled.").
  void set_verify_mode(VerifyMode mode);
  VerifyMode verify_mode() const noexcept { return verify_mode_; }
  // Whether a client checks that the server's certificate names
  // server_hostname. Turning it on with verify_mode CERT_NONE sets
  // CERT_REQUIRED (as Python does). Ignored by servers.
  void set_check_hostname(bool check);
  bool check_hostname() const noexcept { return check_hostname_; }

  // --- protocol --------------------------------------------------------------
  // The application protocols to offer (client) or accept (server), most
  // preferred first, e.g. {"h2", "http/1.1"}; empty turns ALPN off. The one
  // agreed on is get_extra_info("alpn_protocol"). Throws aio::ValueError
  // for an empty name or one longer than 255 bytes.
  void set_alpn_protocols(const std::vector<std::string>& protocols);
  // Throws SslError if OpenSSL refuses the version (e.g. below its security level).
  void set_minimum_version(TlsVersion version);
  void set_maximum_version(TlsVersion version);
  // The TLS 1.2 cipher list, in OpenSSL's cipher-list format (TLS 1.3 suites
  // are not affected, as in Python). Throws SslError("No cipher can be
  // selected.") if the list matches no cipher.
  void set_ciphers(const std::string& ciphers);

  // OpenSSL's context, for settings this class does not wrap. It stays owned
  // by the SslContext.
  SSL_CTX* native_handle() const noexcept { return context_; }

 private:
  // --- TlsLayer (called by the transports through internal::TlsLayerAccess) --
  // Runs the handshake over `raw` and returns the clear-text transport (see
  // net/transport.h). Throws SslCertVerificationError / SslError when the
  // handshake fails, aio::TimeoutError("SSL handshake is taking longer than
  // 60.0 seconds: aborting the connection") when it takes too long,
  // std::system_error(ECONNRESET) when the peer closes the connection during
  // the handshake, aio::ValueError when a client context that checks
  // host names gets no server_hostname or when `protocol` is neither a
  // Protocol nor a BufferedProtocol. `raw` is aborted whenever it throws
  // (cancellation included).
  Coro<std::shared_ptr<Transport>> start_tls(std::shared_ptr<Transport> raw, std::shared_ptr<BaseProtocol> protocol,
                                             internal::TlsSettings settings) override;

  explicit SslContext(bool server_side);
  void apply_verify_mode();
  // A new connection's SSL object: accept or connect state, SNI and the host
  // name check for clients. Throws SslError / aio::ValueError.
  SSL* new_connection(const internal::TlsSettings& settings) const;

  SSL_CTX* context_ = nullptr;
  const bool server_side_;
  VerifyMode verify_mode_;
  bool check_hostname_;
  // ALPN, wire format (length-prefixed names), for the server's selection.
  std::string alpn_wire_;
};

}  // namespace aio

#endif  // AIO_NET_TLS_H_
