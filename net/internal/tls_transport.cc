// The TLS state machine: see tls_transport.h for the design. Every OpenSSL
// call here works on memory only (the input memory BIO, the output string), so
// none blocks and none touches the socket; "want read" just means "wait for
// the next data_received".
#include "net/internal/tls_transport.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <climits>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <system_error>
#include <utility>
#include <vector>

#include "async/errors.h"

namespace aio::internal {
namespace {

// Clear text handed to a Protocol's data_received at most per call: asyncio's
// SSLProtocol.max_size (256 KiB), which many TLS records fill.
constexpr std::size_t kReadChunkSize = 256 * 1024;
// asyncio's LOG_THRESHOLD_FOR_CONNLOST_WRITES.
constexpr int kWritesAfterCloseBeforeWarning = 5;
// SSL_read/SSL_write take an int; larger spans are handed over in pieces.
constexpr std::size_t kMaxSslCall = std::size_t{1} << 30;

// Seconds as Python prints a float ("60.0", "0.5"), so that the timeout
// message reads exactly as asyncio's.
std::string python_seconds(Duration duration) {
  const double seconds = std::chrono::duration<double>(duration).count();
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, seconds);
  std::string text(buffer, result.ptr);
  if (text.find_first_of(".e") == std::string::npos) text += ".0";
  return text;
}

// The buffer a Protocol's data_received sees: one per thread, shared by every
// TLS transport of the thread (only one decrypts at a time), so an idle
// connection costs none. If a data_received ever led to another decryption on
// the same thread before returning, that one gets a buffer of its own.
class ReadBuffer {
 public:
  ReadBuffer() {
    Shared& shared = thread_shared();
    if (!shared.in_use) {
      shared.in_use = true;
      shared_ = &shared;
      data_ = shared.data.get();
    } else {
      own_ = std::make_unique<char[]>(kReadChunkSize);
      data_ = own_.get();
    }
  }
  ~ReadBuffer() {
    if (shared_) shared_->in_use = false;
  }
  ReadBuffer(const ReadBuffer&) = delete;
  ReadBuffer& operator=(const ReadBuffer&) = delete;
  char* data() const noexcept { return data_; }
  static constexpr std::size_t size() noexcept { return kReadChunkSize; }

 private:
  struct Shared {
    std::unique_ptr<char[]> data = std::make_unique<char[]>(kReadChunkSize);
    bool in_use = false;
  };
  static Shared& thread_shared() {
    thread_local Shared shared;
    return shared;
  }
  Shared* shared_ = nullptr;
  std::unique_ptr<char[]> own_;
  char* data_ = nullptr;
};

// The output BIO: OpenSSL's encrypted output is appended to a std::string (the
// transport's outgoing_), which the transport then hands to raw->write().
// Unlike a memory BIO, the string can be swapped out in O(1) while more output
// is appended (see flush_outgoing).
int output_bio_write(BIO* bio, const char* data, std::size_t size, std::size_t* written) {
  static_cast<std::string*>(BIO_get_data(bio))->append(data, size);
  *written = size;
  return 1;
}

long output_bio_ctrl(BIO* bio, int command, long, void*) {
  switch (command) {
    case BIO_CTRL_FLUSH:
      return 1;  // nothing to flush: the transport sends the string
    case BIO_CTRL_WPENDING:
      return static_cast<long>(static_cast<std::string*>(BIO_get_data(bio))->size());
    default:
      return 0;
  }
}

int output_bio_create(BIO* bio) {
  BIO_set_init(bio, 1);
  return 1;
}

const BIO_METHOD* output_bio_method() {
  // Made once per process and never freed (OpenSSL keeps a pointer to it in
  // every BIO made from it).
  static BIO_METHOD* const method = [] {
    BIO_METHOD* made = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "aio TLS output");
    if (made == nullptr) return made;
    BIO_meth_set_write_ex(made, &output_bio_write);
    BIO_meth_set_ctrl(made, &output_bio_ctrl);
    BIO_meth_set_create(made, &output_bio_create);
    return made;
  }();
  return method;
}

bool is_want(int ssl_error) { return ssl_error == SSL_ERROR_WANT_READ || ssl_error == SSL_ERROR_WANT_WRITE; }

// An SSL_get_error code that ends the connection.
bool is_failure(int ssl_error) {
  return ssl_error != SSL_ERROR_NONE && ssl_error != SSL_ERROR_ZERO_RETURN && !is_want(ssl_error);
}

// OpenSSL's error queue, oldest first; the queue is left empty.
std::vector<unsigned long> take_errors() {
  std::vector<unsigned long> errors;
  while (unsigned long error = ERR_get_error()) errors.push_back(error);
  return errors;
}

std::string reason_text(unsigned long error) {
  if (const char* reason = ERR_reason_error_string(error)) return reason;
  char buffer[256];
  ERR_error_string_n(error, buffer, sizeof buffer);
  return buffer;
}

SslError ssl_error_from(const std::string& what, const std::vector<unsigned long>& errors) {
  if (errors.empty()) return SslError(what);
  // Python reports the last error (the most specific); the earlier ones, if
  // they say something else, follow in parentheses.
  const std::string reason = reason_text(errors.back());
  std::string others;
  for (std::size_t i = 0; i + 1 < errors.size(); ++i) {
    std::string text = reason_text(errors[i]);
    if (text == reason || others.find(text) != std::string::npos) continue;
    others += (others.empty() ? "" : "; ") + text;
  }
  return SslError(what + ": " + reason + (others.empty() ? "" : " (" + others + ")"), reason);
}

}  // namespace

SslError ssl_error_from_queue(const std::string& what) { return ssl_error_from(what, take_errors()); }

// The protocol installed on the raw transport: passes its events on. It owns
// the TlsTransport until the raw connection is lost (see the lifetimes note).
class TlsTransport::RawSide final : public Protocol {
 public:
  explicit RawSide(std::shared_ptr<TlsTransport> owner) : owner_(std::move(owner)) {}
  // Dropped without connection_lost: the loop closed with the connection open
  // (the raw transport let go of its protocol). Break the TLS transport's
  // cycle with its app protocol, or both would leak.
  ~RawSide() override {
    if (std::shared_ptr<TlsTransport> owner = std::move(owner_)) owner->abandon();
  }
  void data_received(std::string_view data) override {
    if (owner_) owner_->raw_data_received(data);
  }
  bool eof_received() override {
    if (owner_) owner_->raw_eof_received();
    return false;  // TLS has no half-close: let the raw transport close
  }
  void connection_lost(std::exception_ptr error) override {
    // Drop the owner first: whatever the raw transport does with its protocol
    // afterwards, the cycle is broken here.
    if (std::shared_ptr<TlsTransport> owner = std::move(owner_)) owner->raw_connection_lost(std::move(error));
  }
  void pause_writing() override {
    if (owner_) owner_->raw_pause_writing();
  }
  void resume_writing() override {
    if (owner_) owner_->raw_resume_writing();
  }

 private:
  std::shared_ptr<TlsTransport> owner_;
};

TlsTransport::TlsTransport(EventLoop& loop, SSL* ssl, std::shared_ptr<SslContext> context,
                           std::shared_ptr<Transport> raw, std::shared_ptr<BaseProtocol> app_protocol,
                           const TlsSettings& settings)
    : loop_(loop),
      ssl_(ssl),
      context_(std::move(context)),
      raw_(std::move(raw)),
      settings_(settings),
      app_state_(settings.call_connection_made ? AppState::kNotConnected : AppState::kConnected),
      handshake_waiter_(loop) {
  BIO* incoming = BIO_new(BIO_s_mem());
  const BIO_METHOD* method = output_bio_method();
  BIO* outgoing = method ? BIO_new(method) : nullptr;
  if (incoming == nullptr || outgoing == nullptr) {
    BIO_free(incoming);
    BIO_free(outgoing);
    throw ssl_error_from_queue("cannot make the buffers of a TLS connection");
  }
  // An empty input buffer means "wait for more", never end of file: the end
  // comes from the raw transport's eof_received.
  BIO_set_mem_eof_return(incoming, -1);
  BIO_set_data(outgoing, &outgoing_);
  SSL_set_bio(ssl_.get(), incoming, outgoing);  // the SSL owns both from here
  incoming_ = incoming;
  attach_app_protocol(std::move(app_protocol));
}

TlsTransport::~TlsTransport() = default;

void TlsTransport::SslDeleter::operator()(SSL* ssl) const noexcept { SSL_free(ssl); }

void TlsTransport::attach_app_protocol(std::shared_ptr<BaseProtocol> protocol) {
  auto* stream = dynamic_cast<Protocol*>(protocol.get());
  auto* buffered = stream ? nullptr : dynamic_cast<BufferedProtocol*>(protocol.get());
  if (stream == nullptr && buffered == nullptr) {
    throw ValueError("start_tls: a TLS transport needs a Protocol or a BufferedProtocol");
  }
  app_protocol_ = std::move(protocol);
  stream_protocol_ = stream;
  buffered_protocol_ = buffered;
}

Future<void> TlsTransport::start_handshake() {
  state_ = State::kHandshaking;
  std::shared_ptr<TlsTransport> self = this->self();
  raw_->set_protocol(std::make_shared<RawSide>(self));
  raw_->resume_reading();
  std::weak_ptr<TlsTransport> weak = self;
  handshake_timer_ = loop_.call_later(settings_.handshake_timeout, [weak] {
    if (std::shared_ptr<TlsTransport> transport = weak.lock()) transport->handshake_timed_out();
  });
  do_handshake();
  return handshake_waiter_;
}

// --- the handshake -----------------------------------------------------------

void TlsTransport::do_handshake() {
  ERR_clear_error();
  const int result = SSL_do_handshake(ssl_.get());
  if (result == 1) {
    flush_outgoing();  // our last flight (a server's session tickets)
    on_handshake_complete(nullptr);
    return;
  }
  const int ssl_error = SSL_get_error(ssl_.get(), result);
  if (is_want(ssl_error)) {
    flush_outgoing();
    return;
  }
  std::exception_ptr failure = handshake_error(ssl_error);
  flush_outgoing();  // the alert that tells the peer why
  on_handshake_complete(std::move(failure));
}

std::exception_ptr TlsTransport::handshake_error(int ssl_error) {
  const std::vector<unsigned long> errors = take_errors();
  const bool verify_failed = std::any_of(errors.begin(), errors.end(), [](unsigned long error) {
    return ERR_GET_LIB(error) == ERR_LIB_SSL && ERR_GET_REASON(error) == SSL_R_CERTIFICATE_VERIFY_FAILED;
  });
  const long verify_code = SSL_get_verify_result(ssl_.get());
  if (verify_failed && verify_code != X509_V_OK) {
    // Python's wording for the two checks it does itself.
    std::string message;
    if (verify_code == X509_V_ERR_HOSTNAME_MISMATCH) {
      message = "Hostname mismatch, certificate is not valid for '" + settings_.server_hostname + "'.";
    } else if (verify_code == X509_V_ERR_IP_ADDRESS_MISMATCH) {
      message = "IP address mismatch, certificate is not valid for '" + settings_.server_hostname + "'.";
    } else {
      message = X509_verify_cert_error_string(verify_code);
    }
    return std::make_exception_ptr(SslCertVerificationError(verify_code, std::move(message)));
  }
  if (ssl_error == SSL_ERROR_SSL || !errors.empty()) {
    return std::make_exception_ptr(ssl_error_from("SSL handshake failed", errors));
  }
  return std::make_exception_ptr(SslError("SSL handshake failed (SSL_get_error " + std::to_string(ssl_error) + ")"));
}

void TlsTransport::on_handshake_complete(std::exception_ptr error) {
  handshake_timer_.cancel();
  if (error) {
    // Failed handshakes are the caller's to report (the server side logs
    // them in debug mode): strangers' failed handshakes are routine.
    fatal_error(std::move(error), "SSL handshake failed", ErrorSource::kHandshake);
    return;
  }
  state_ = State::kWrapped;
  handshake_complete_ = true;
  const std::shared_ptr<TlsTransport> keep = self();
  if (app_state_ == AppState::kNotConnected) {
    app_state_ = AppState::kConnected;
    try {
      app_protocol_->connection_made(keep);
    } catch (...) {
      // The connection is lost (the app gets connection_lost with the error,
      // as from every aio transport) and the connect fails with it.
      std::exception_ptr failure = std::current_exception();
      fatal_error(failure, "Fatal error: protocol.connection_made() call failed.", ErrorSource::kAppCallback);
      if (!handshake_waiter_.done()) handshake_waiter_.set_exception(std::move(failure));
      return;
    }
    if (state_ != State::kWrapped) {
      // connection_made closed or aborted the connection; the handshake itself succeeded.
      if (!handshake_waiter_.done()) handshake_waiter_.set_result();
      return;
    }
  }
  if (raw_writing_paused_ && !app_writing_paused_) raw_pause_writing();
  if (!backlog_.empty()) {
    write_backlog();
    flush_outgoing();
  }
  if (!handshake_waiter_.done()) handshake_waiter_.set_result();
  do_read();  // application data that came with the handshake's last flight
}

void TlsTransport::handshake_timed_out() {
  if (state_ != State::kHandshaking) return;
  on_handshake_complete(std::make_exception_ptr(TimeoutError("SSL handshake is taking longer than " +
                                                             python_seconds(settings_.handshake_timeout) +
                                                             " seconds: aborting the connection")));
}

// --- events from the raw transport -------------------------------------------

void TlsTransport::raw_data_received(std::string_view data) {
  if (state_ == State::kClosed || state_ == State::kCreated) return;
  while (!data.empty()) {
    const std::size_t size = std::min(data.size(), kMaxSslCall);
    BIO_write(incoming_, data.data(), static_cast<int>(size));
    data.remove_prefix(size);
  }
  switch (state_) {
    case State::kHandshaking:
      do_handshake();
      break;
    case State::kWrapped:
      do_read();
      break;
    case State::kShuttingDown:
      do_shutdown();
      break;
    default:
      break;
  }
}

void TlsTransport::raw_eof_received() {
  switch (state_) {
    case State::kHandshaking:
      on_handshake_complete(std::make_exception_ptr(
          std::system_error(ECONNRESET, std::system_category(), "Connection lost during the SSL handshake")));
      break;
    case State::kWrapped:
    case State::kShuttingDown:
      // The peer closed the TCP connection without close_notify (a "ragged"
      // EOF), or without answering ours. asyncio takes it as the end of the
      // stream: eof_received, then (the raw transport closes itself)
      // connection_lost(nullptr).
      cancel_timers();
      call_eof_received();
      if (raw_released_) break;  // eof_received failed: already aborted
      state_ = State::kClosed;
      closing_ = true;
      raw_released_ = true;
      outgoing_.clear();
      break;
    default:
      break;
  }
}

void TlsTransport::raw_connection_lost(std::exception_ptr error) {
  cancel_timers();
  state_ = State::kClosed;
  closing_ = true;
  raw_released_ = true;
  if (!error) error = pending_error_;
  if (!handshake_complete_) {
    if (!handshake_waiter_.done()) {
      handshake_waiter_.set_exception(
          error ? error
                : std::make_exception_ptr(std::system_error(ECONNRESET, std::system_category(),
                                                            "Connection lost during the SSL handshake")));
    }
  } else if (app_state_ == AppState::kConnected || app_state_ == AppState::kEof) {
    app_state_ = AppState::kLost;
    try {
      app_protocol_->connection_lost(error);
    } catch (...) {
      report(std::current_exception(), "protocol.connection_lost() failed");
    }
  }
  // Break the transport <-> protocol cycle, as asyncio does.
  app_protocol_.reset();
  stream_protocol_ = nullptr;
  buffered_protocol_ = nullptr;
  backlog_.clear();
  outgoing_.clear();
}

void TlsTransport::abandon() noexcept {
  cancel_timers();
  state_ = State::kClosed;
  closing_ = true;
  raw_released_ = true;
  app_protocol_.reset();
  stream_protocol_ = nullptr;
  buffered_protocol_ = nullptr;
  backlog_.clear();
  outgoing_.clear();
}

void TlsTransport::raw_pause_writing() {
  raw_writing_paused_ = true;
  if (!handshake_complete_ || app_writing_paused_) return;
  if (app_state_ != AppState::kConnected && app_state_ != AppState::kEof) return;
  app_writing_paused_ = true;
  try {
    app_protocol_->pause_writing();
  } catch (...) {
    report(std::current_exception(), "protocol.pause_writing() failed");
  }
}

void TlsTransport::raw_resume_writing() {
  raw_writing_paused_ = false;
  if (!app_writing_paused_ || !app_protocol_) return;
  app_writing_paused_ = false;
  try {
    app_protocol_->resume_writing();
  } catch (...) {
    report(std::current_exception(), "protocol.resume_writing() failed");
  }
}

// --- reading -----------------------------------------------------------------

void TlsTransport::do_read() {
  if (state_ != State::kWrapped || app_reading_paused_) return;
  if (!backlog_.empty()) write_backlog();  // a renegotiation may have let it through
  const int ssl_error = buffered_protocol_ ? read_into_buffered_protocol() : read_into_protocol();
  if (state_ != State::kWrapped) return;  // the app closed or aborted, or something failed
  if (ssl_error == SSL_ERROR_NONE || is_want(ssl_error)) {
    flush_outgoing();  // SSL_read may have answered the peer (a key update)
    return;
  }
  if (ssl_error == SSL_ERROR_ZERO_RETURN) {
    // The peer's close_notify: EOF for the app, then our own close_notify.
    call_eof_received();
    start_shutdown();
    return;
  }
  const std::vector<unsigned long> errors = take_errors();
  SslError error = ssl_error == SSL_ERROR_SSL || !errors.empty()
                       ? ssl_error_from("SSL read failed", errors)
                       : SslError("SSL read failed (SSL_get_error " + std::to_string(ssl_error) + ")");
  fatal_error(std::make_exception_ptr(std::move(error)), "Fatal error on SSL protocol", ErrorSource::kConnection);
}

// True when SSL_read could only answer "want read": no record or part of one
// buffered, and no close_notify seen (which SSL_read reports again each time
// it is called, so one read while the app had paused is not lost). Saves a
// get_buffer() call that would get nothing.
bool TlsTransport::nothing_to_read() const {
  return !SSL_has_pending(ssl_.get()) && BIO_ctrl_pending(incoming_) == 0 &&
         !(SSL_get_shutdown(ssl_.get()) & SSL_RECEIVED_SHUTDOWN);
}

// Decrypts into the shared chunk and hands each full chunk (or the rest) to
// data_received. Returns the SSL_get_error code that ended it, or
// SSL_ERROR_NONE if the app stopped it (paused or closed; a callback failed).
int TlsTransport::read_into_protocol() {
  if (nothing_to_read()) return SSL_ERROR_WANT_READ;
  ReadBuffer buffer;
  for (;;) {
    std::size_t filled = 0;
    int ssl_error = SSL_ERROR_NONE;
    while (filled < buffer.size()) {
      ERR_clear_error();
      const int count = SSL_read(ssl_.get(), buffer.data() + filled, static_cast<int>(buffer.size() - filled));
      if (count <= 0) {
        ssl_error = SSL_get_error(ssl_.get(), count);
        break;
      }
      filled += static_cast<std::size_t>(count);
    }
    if (filled > 0) {
      try {
        stream_protocol_->data_received(std::string_view(buffer.data(), filled));
      } catch (...) {
        fatal_error(std::current_exception(), "Fatal error: protocol.data_received() call failed.",
                    ErrorSource::kAppCallback);
        return SSL_ERROR_NONE;
      }
      // A close_notify read with the data stays in the SSL object, which
      // reports it again when reading resumes; an error is acted on now.
      if (state_ != State::kWrapped || app_reading_paused_) return is_failure(ssl_error) ? ssl_error : SSL_ERROR_NONE;
    }
    if (ssl_error != SSL_ERROR_NONE) return ssl_error;
  }
}

// Decrypts straight into the app's buffers: no copy of the clear text.
int TlsTransport::read_into_buffered_protocol() {
  for (;;) {
    if (nothing_to_read()) return SSL_ERROR_WANT_READ;
    // What may come out is at most what is buffered: a hint, not a promise.
    const std::size_t hint =
        std::max<std::size_t>(static_cast<std::size_t>(SSL_pending(ssl_.get())), BIO_ctrl_pending(incoming_));
    std::span<char> target;
    try {
      target = buffered_protocol_->get_buffer(hint);
      if (target.empty()) throw RuntimeError("BufferedProtocol.get_buffer() returned an empty buffer");
    } catch (...) {
      fatal_error(std::current_exception(), "Fatal error: protocol.get_buffer() call failed.",
                  ErrorSource::kAppCallback);
      return SSL_ERROR_NONE;
    }
    ERR_clear_error();
    const int count = SSL_read(ssl_.get(), target.data(), static_cast<int>(std::min(target.size(), kMaxSslCall)));
    if (count <= 0) return SSL_get_error(ssl_.get(), count);
    try {
      buffered_protocol_->buffer_updated(static_cast<std::size_t>(count));
    } catch (...) {
      fatal_error(std::current_exception(), "Fatal error: protocol.buffer_updated() call failed.",
                  ErrorSource::kAppCallback);
      return SSL_ERROR_NONE;
    }
    if (state_ != State::kWrapped || app_reading_paused_) return SSL_ERROR_NONE;
  }
}

void TlsTransport::call_eof_received() {
  if (app_state_ != AppState::kConnected) return;
  app_state_ = AppState::kEof;
  try {
    const bool keep_open = stream_protocol_ ? stream_protocol_->eof_received() : buffered_protocol_->eof_received();
    if (keep_open && loop_.get_debug()) {
      std::fprintf(stderr, "aio: returning true from eof_received() has no effect when using ssl\n");
    }
  } catch (...) {
    fatal_error(std::current_exception(), "Fatal error: protocol.eof_received() call failed.",
                ErrorSource::kAppCallback);
  }
}

// --- closing -----------------------------------------------------------------

void TlsTransport::start_shutdown() {
  if (state_ == State::kShuttingDown || state_ == State::kClosed) return;
  closing_ = true;
  if (state_ != State::kWrapped) {
    abort();  // no TLS session to close yet
    return;
  }
  // What SSL_write could not take yet goes before close_notify if it can now.
  if (!backlog_.empty()) write_backlog();
  if (state_ != State::kWrapped) return;
  backlog_.clear();
  state_ = State::kShuttingDown;
  // The peer's close_notify must get in even if the app had paused reading.
  raw_->resume_reading();
  std::weak_ptr<TlsTransport> weak = self();
  shutdown_timer_ = loop_.call_later(settings_.shutdown_timeout, [weak] {
    if (std::shared_ptr<TlsTransport> transport = weak.lock()) transport->shutdown_timed_out();
  });
  do_shutdown();
}

void TlsTransport::do_shutdown() {
  if (state_ != State::kShuttingDown) return;
  ERR_clear_error();
  if (!(SSL_get_shutdown(ssl_.get()) & SSL_SENT_SHUTDOWN)) {
    // Queues our close_notify. Returns 0 ("sent, the peer's not seen yet") or 1.
    const int result = SSL_shutdown(ssl_.get());
    if (result < 0 && !is_want(SSL_get_error(ssl_.get(), result))) {
      ERR_clear_error();  // could not even say goodbye: the session is broken
      finish_shutdown(nullptr);
      return;
    }
  }
  // Wait for the peer's close_notify; data that comes first is dropped (the
  // app closed: it wants no more).
  while (!(SSL_get_shutdown(ssl_.get()) & SSL_RECEIVED_SHUTDOWN)) {
    char discard[16 * 1024];
    ERR_clear_error();
    const int count = SSL_read(ssl_.get(), discard, sizeof discard);
    if (count > 0) continue;
    const int ssl_error = SSL_get_error(ssl_.get(), count);
    if (ssl_error == SSL_ERROR_ZERO_RETURN) break;
    if (is_want(ssl_error)) {
      flush_outgoing();
      return;
    }
    finish_shutdown(std::make_exception_ptr(ssl_error_from_queue("SSL shutdown failed")));
    return;
  }
  // asyncio tells the app of the peer's close_notify here too (a no-op if
  // it already heard of it).
  call_eof_received();
  if (state_ != State::kShuttingDown) return;
  finish_shutdown(nullptr);
}

void TlsTransport::finish_shutdown(std::exception_ptr error) {
  shutdown_timer_.cancel();
  if (error) {
    fatal_error(std::move(error), "Fatal error on SSL protocol", ErrorSource::kConnection);
    return;
  }
  state_ = State::kClosed;
  // Close the raw transport once our close_notify is handed to it (now, or at
  // the end of the flush this call is nested in).
  close_raw_requested_ = true;
  flush_outgoing();
}

void TlsTransport::shutdown_timed_out() {
  if (state_ != State::kShuttingDown) return;
  fatal_error(std::make_exception_ptr(TimeoutError("SSL shutdown timed out")), "SSL shutdown timed out",
              ErrorSource::kConnection);
}

// --- writing -----------------------------------------------------------------

void TlsTransport::encrypt(std::string_view data) {
  if (!backlog_.empty()) {
    backlog_.append(data);  // keep the order
    return;
  }
  while (!data.empty()) {
    ERR_clear_error();
    const int count = SSL_write(ssl_.get(), data.data(), static_cast<int>(std::min(data.size(), kMaxSslCall)));
    if (count > 0) {
      data.remove_prefix(static_cast<std::size_t>(count));
      continue;
    }
    const int ssl_error = SSL_get_error(ssl_.get(), count);
    if (is_want(ssl_error)) {
      backlog_.append(data);  // retried once the peer has answered
      return;
    }
    fatal_error(std::make_exception_ptr(ssl_error_from_queue("SSL write failed")), "Fatal error on SSL protocol",
                ErrorSource::kConnection);
    return;
  }
}

void TlsTransport::write_backlog() {
  std::string pending = std::move(backlog_);
  backlog_.clear();
  encrypt(pending);
}

void TlsTransport::flush_outgoing() {
  // A write() made from inside raw->write() (through pause_writing) appends to
  // outgoing_ and returns; this loop sends it.
  if (flushing_) return;
  flushing_ = true;
  while (!outgoing_.empty() && !raw_released_) {
    sending_.swap(outgoing_);
    raw_->write(sending_);
    sending_.clear();
  }
  flushing_ = false;
  if (raw_released_) outgoing_.clear();
  if (close_raw_requested_ && !raw_released_) {
    raw_released_ = true;
    raw_->close();  // sends what it buffered, then connection_lost
  }
}

// --- errors --------------------------------------------------------------------

void TlsTransport::fatal_error(std::exception_ptr error, const char* message, ErrorSource source) {
  if (source == ErrorSource::kAppCallback) {
    report(error, message);
  } else if (source == ErrorSource::kConnection && loop_.get_debug()) {
    // asyncio logs these at debug level only: the app's connection_lost has them.
    std::fprintf(stderr, "aio: %s: %s\n", message, describe_exception(error).c_str());
  }
  if (raw_released_) return;
  pending_error_ = error;
  cancel_timers();
  state_ = State::kClosed;
  closing_ = true;
  raw_released_ = true;
  outgoing_.clear();
  backlog_.clear();
  raw_->abort();
  if (!handshake_complete_ && !handshake_waiter_.done()) handshake_waiter_.set_exception(std::move(error));
}

void TlsTransport::cancel_timers() {
  handshake_timer_.cancel();
  shutdown_timer_.cancel();
}

void TlsTransport::report(std::exception_ptr error, const std::string& message) {
  ExceptionContext context;
  context.message = message;
  context.exception = std::move(error);
  loop_.call_exception_handler(context);
}

// --- the app's Transport -------------------------------------------------------

void TlsTransport::close() {
  if (closing_) return;
  closing_ = true;
  start_shutdown();
}

void TlsTransport::abort() {
  closing_ = true;
  if (raw_released_) return;
  cancel_timers();
  state_ = State::kClosed;
  raw_released_ = true;
  outgoing_.clear();
  backlog_.clear();
  raw_->abort();
}

void TlsTransport::set_protocol(std::shared_ptr<BaseProtocol> protocol) { attach_app_protocol(std::move(protocol)); }

std::any TlsTransport::get_extra_info(std::string_view name) const {
  if (name == "ssl_object") return ssl_.get();
  if (name == "sslcontext") return context_;
  if (name == "peercert") {
    X509* certificate = SSL_get0_peer_certificate(ssl_.get());
    if (certificate == nullptr) return std::string();
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
    if (!bio || PEM_write_bio_X509(bio.get(), certificate) != 1) {
      ERR_clear_error();
      return std::string();
    }
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(size));
  }
  if (name == "cipher") {
    const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl_.get());
    return std::string(cipher ? SSL_CIPHER_get_name(cipher) : "");
  }
  if (name == "compression") {
    const COMP_METHOD* method = SSL_get_current_compression(ssl_.get());
    return std::string(method ? SSL_COMP_get_name(method) : "");
  }
  if (name == "alpn_protocol") {
    const unsigned char* protocol = nullptr;
    unsigned int length = 0;
    SSL_get0_alpn_selected(ssl_.get(), &protocol, &length);
    return std::string(reinterpret_cast<const char*>(protocol), protocol ? length : 0);
  }
  return raw_->get_extra_info(name);
}

void TlsTransport::pause_reading() {
  if (closing_ || app_reading_paused_) return;
  app_reading_paused_ = true;
  if (state_ == State::kWrapped) raw_->pause_reading();
}

void TlsTransport::resume_reading() {
  if (closing_ || !app_reading_paused_) return;
  app_reading_paused_ = false;
  if (state_ != State::kWrapped || read_scheduled_) return;
  // Records already received (in the SSL object or the input buffer) are
  // delivered from the loop, never inside this call.
  read_scheduled_ = true;
  std::weak_ptr<TlsTransport> weak = self();
  loop_.call_soon([weak] {
    if (std::shared_ptr<TlsTransport> transport = weak.lock()) transport->resume_after_pause();
  });
}

void TlsTransport::resume_after_pause() {
  read_scheduled_ = false;
  // What was received while paused goes first; only then does the socket
  // read again. Resuming it first would let its EOF (or an error) overtake
  // the records still buffered here.
  do_read();
  if (state_ == State::kWrapped && !app_reading_paused_) raw_->resume_reading();
}

void TlsTransport::write(std::string_view data) {
  if (data.empty()) return;
  if (state_ == State::kCreated || state_ == State::kHandshaking) {
    backlog_.append(data);  // sent once the handshake is done
    return;
  }
  if (state_ != State::kWrapped) {
    if (++writes_after_close_ > kWritesAfterCloseBeforeWarning && !warned_writes_after_close_) {
      warned_writes_after_close_ = true;
      std::fprintf(stderr, "aio: SSL connection is closed (writes to it are dropped).\n");
    }
    return;
  }
  encrypt(data);
  flush_outgoing();
}

void TlsTransport::writelines(std::span<const std::string_view> chunks) {
  if (state_ != State::kWrapped) {
    for (std::string_view chunk : chunks) write(chunk);
    return;
  }
  for (std::string_view chunk : chunks) {
    encrypt(chunk);
    if (state_ != State::kWrapped) return;
  }
  flush_outgoing();  // one raw write for all the chunks' records
}

void TlsTransport::write_eof() { throw RuntimeError("write_eof: SSL doesn't support half-closes"); }

std::size_t TlsTransport::get_write_buffer_size() const {
  return raw_->get_write_buffer_size() + backlog_.size() + outgoing_.size();
}

void TlsTransport::set_write_buffer_limits(std::optional<std::size_t> high, std::optional<std::size_t> low) {
  raw_->set_write_buffer_limits(high, low);
}

std::pair<std::size_t, std::size_t> TlsTransport::get_write_buffer_limits() const {
  return raw_->get_write_buffer_limits();
}

}  // namespace aio::internal
