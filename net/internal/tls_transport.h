// The TLS connection behind SslContext::start_tls: asyncio's SSLProtocol and
// _SSLProtocolTransport (Lib/asyncio/sslproto.py) as one object.
//
// Design. A TlsTransport sits between two parties:
//
//   raw transport (socket) --RawSide protocol--> TlsTransport --> app protocol
//        ciphertext                           OpenSSL (SSL*)        clear text
//
// It installs a small Protocol (RawSide) on the raw transport with
// set_protocol(), so ciphertext arrives through data_received; it is itself the
// aio::Transport the application writes clear text to. OpenSSL never touches
// the socket: received bytes go into a memory BIO that SSL_read and
// SSL_do_handshake consume, and what OpenSSL writes lands in a string that is
// handed to raw->write() (so the raw transport's buffering and flow control do
// the rest).
//
// States (asyncio's SSLProtocolState, less FLUSHING: close() stops reading at
// once, as every aio transport does, so there is nothing left to flush):
//
//   kHandshaking --ok--> kWrapped --close()/peer's close_notify--> kShuttingDown
//        |                  |                                           |
//        +--error/timeout---+--fatal error / abort()--> kClosed <-------+ both close_notify seen
//
// In kShuttingDown our close_notify is sent and the peer's awaited (at most
// shutdown_timeout); then the raw transport is closed. kClosed means the raw
// transport is closed or aborted and its connection_lost is on its way; that
// call (RawSide::connection_lost) is what calls the app's connection_lost, so
// the app hears of the end exactly once, after the socket is gone.
//
// Lifetimes. The raw transport keeps RawSide, which keeps the TlsTransport,
// which keeps the raw transport: the loop's reference to the raw transport
// keeps the whole connection alive until its connection_lost, where the raw
// transport drops RawSide and the cycle ends (the app protocol is dropped
// there too, as asyncio does).
//
// Flow control. Encrypted bytes go straight to the raw transport, whose
// buffer limits are this transport's: its pause_writing/resume_writing are
// passed on to the app protocol, and set_write_buffer_limits is forwarded to
// it. (asyncio keeps a second, 512 KiB buffer of encrypted data in between;
// one buffer is simpler and bounds memory the same way.) Reading: the app's
// pause_reading pauses the raw transport's reading, so undecrypted data waits
// in the kernel, not in memory; resume_reading first delivers (from the loop)
// what was already received, then resumes the socket, so that nothing the
// socket reports afterwards (its EOF) overtakes buffered records.
#ifndef AIO_NET_INTERNAL_TLS_TRANSPORT_H_
#define AIO_NET_INTERNAL_TLS_TRANSPORT_H_

#include <any>
#include <cstddef>
#include <exception>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "async/future.h"
#include "async/loop.h"
#include "net/tls.h"
#include "net/transport.h"

typedef struct ssl_st SSL;
typedef struct bio_st BIO;

namespace aio::internal {

// What OpenSSL's error queue says, as an SslError: "<what>: <last reason>"
// followed by the other reasons in parentheses if they differ (or "<what>"
// alone when the queue is empty). Clears the queue.
SslError ssl_error_from_queue(const std::string& what);

class TlsTransport final : public Transport {
 public:
  // Takes ownership of `ssl` (made by `context`, in connect or accept state,
  // without BIOs: the transport attaches its own). Does not touch `raw` yet.
  TlsTransport(EventLoop& loop, SSL* ssl, std::shared_ptr<SslContext> context, std::shared_ptr<Transport> raw,
               std::shared_ptr<BaseProtocol> app_protocol, const TlsSettings& settings);
  ~TlsTransport() override;
  TlsTransport(const TlsTransport&) = delete;
  TlsTransport& operator=(const TlsTransport&) = delete;

  // Takes over the raw transport (set_protocol, resume_reading), arms the
  // handshake timer and sends the first handshake message (a client's
  // ClientHello). The returned future completes when the handshake does: with
  // no value on success (after the app's connection_made, when the settings
  // ask for it), with the error otherwise (the raw transport is aborted then).
  Future<void> start_handshake();

  // --- Transport (the clear-text side) --------------------------------------
  bool is_closing() const override { return closing_; }
  // Sends close_notify, waits for the peer's (at most shutdown_timeout), then
  // closes the raw transport. No more data reaches the protocol; the peer's
  // close_notify is its eof_received (asyncio's order), then connection_lost
  // follows (with TimeoutError("SSL shutdown timed out") if the peer never
  // answered). Idempotent.
  void close() override;
  // Throws aio::ValueError unless `protocol` is a Protocol or a
  // BufferedProtocol (TLS carries a stream).
  void set_protocol(std::shared_ptr<BaseProtocol> protocol) override;
  std::shared_ptr<BaseProtocol> get_protocol() const override { return app_protocol_; }
  // "ssl_object" (SSL*), "sslcontext" (std::shared_ptr<SslContext>),
  // "peercert" (std::string, PEM; empty if the peer sent none), "cipher"
  // (std::string, e.g. "TLS_AES_256_GCM_SHA384"), "compression" (std::string,
  // empty: none), "alpn_protocol" (std::string, empty: none), and whatever the
  // raw transport knows ("peername", "sockname", "socket").
  std::any get_extra_info(std::string_view name) const override;
  bool is_reading() const override { return !app_reading_paused_ && !closing_; }
  void pause_reading() override;
  void resume_reading() override;
  // Encrypts `data` and hands it to the raw transport. Dropped (with a warning
  // after 5 such writes) once the transport is closing, as asyncio does.
  void write(std::string_view data) override;
  void writelines(std::span<const std::string_view> chunks) override;
  // TLS has no half-close: throws aio::RuntimeError("write_eof: SSL doesn't support
  // half-closes"), asyncio's NotImplementedError.
  void write_eof() override;
  bool can_write_eof() const override { return false; }
  void abort() override;
  std::size_t get_write_buffer_size() const override;
  void set_write_buffer_limits(std::optional<std::size_t> high = std::nullopt,
                               std::optional<std::size_t> low = std::nullopt) override;
  std::pair<std::size_t, std::size_t> get_write_buffer_limits() const override;

 private:
  class RawSide;
  enum class State { kCreated, kHandshaking, kWrapped, kShuttingDown, kClosed };
  // asyncio's AppProtocolState: which of the app's callbacks have run.
  enum class AppState { kNotConnected, kConnected, kEof, kLost };

  // --- from the raw transport (through RawSide) ------------------------------
  void raw_data_received(std::string_view data);
  void raw_eof_received();
  void raw_connection_lost(std::exception_ptr error);
  void raw_pause_writing();
  void raw_resume_writing();
  // The loop closed with the connection open: drop the app protocol (no callbacks).
  void abandon() noexcept;

  // --- the state machine -----------------------------------------------------
  void do_handshake();
  std::exception_ptr handshake_error(int ssl_error);
  void on_handshake_complete(std::exception_ptr error);
  void handshake_timed_out();
  void do_read();
  void resume_after_pause();
  bool nothing_to_read() const;
  int read_into_protocol();
  int read_into_buffered_protocol();
  void call_eof_received();
  void start_shutdown();
  void do_shutdown();
  void finish_shutdown(std::exception_ptr error);
  void shutdown_timed_out();
  void encrypt(std::string_view data);
  void write_backlog();
  void flush_outgoing();
  // Who failed, which decides who else hears of it (see fatal_error).
  enum class ErrorSource {
    kAppCallback,  // a callback of the app's protocol threw
    kConnection,   // OpenSSL or the peer: a broken record, an alert, a timeout
    kHandshake,    // the handshake failed: its caller gets the error
  };
  // Ends the connection with `error` (given to the app's connection_lost, or
  // to the handshake's caller) and aborts the raw transport. The errors of the
  // app's callbacks also go to the loop's exception handler, as every aio
  // transport does; a connection's failures are logged to stderr in debug
  // mode only (asyncio logs them at debug level).
  void fatal_error(std::exception_ptr error, const char* message, ErrorSource source);
  void cancel_timers();
  void report(std::exception_ptr error, const std::string& message);
  void attach_app_protocol(std::shared_ptr<BaseProtocol> protocol);
  std::shared_ptr<TlsTransport> self() { return std::static_pointer_cast<TlsTransport>(shared_from_this()); }

  struct SslDeleter {
    void operator()(SSL* ssl) const noexcept;
  };

  EventLoop& loop_;
  // Owned from the constructor's first line, so that a constructor that
  // throws frees it too.
  std::unique_ptr<SSL, SslDeleter> ssl_;
  BIO* incoming_ = nullptr;  // owned by ssl_
  std::shared_ptr<SslContext> context_;
  std::shared_ptr<Transport> raw_;
  std::shared_ptr<BaseProtocol> app_protocol_;
  Protocol* stream_protocol_ = nullptr;
  BufferedProtocol* buffered_protocol_ = nullptr;
  const TlsSettings settings_;

  State state_ = State::kCreated;
  AppState app_state_;
  bool closing_ = false;
  bool handshake_complete_ = false;
  // abort() or close() was called on the raw transport (or it is closing by
  // itself): nothing more may be written to it.
  bool raw_released_ = false;
  // Close the raw transport at the end of the current flush_outgoing().
  bool close_raw_requested_ = false;
  bool app_reading_paused_ = false;
  bool raw_writing_paused_ = false;
  bool app_writing_paused_ = false;
  bool flushing_ = false;
  bool read_scheduled_ = false;
  int writes_after_close_ = 0;
  bool warned_writes_after_close_ = false;
  Future<void> handshake_waiter_;
  TimerHandle handshake_timer_;
  TimerHandle shutdown_timer_;
  // The error the connection ends with when the raw transport is aborted on
  // purpose (a timeout, an OpenSSL error): abort() itself reports none.
  std::exception_ptr pending_error_;
  // Encrypted bytes not handed to the raw transport yet, and a spare buffer to
  // swap with, so that a write() made from inside raw->write() (a protocol's
  // pause_writing) appends to one while the other is being sent.
  std::string outgoing_;
  std::string sending_;
  // Clear text SSL_write could not take yet (only while a renegotiation waits
  // for the peer; never with TLS 1.3).
  std::string backlog_;
};

}  // namespace aio::internal

#endif  // AIO_NET_INTERNAL_TLS_TRANSPORT_H_
