// Streams on top of the stream transport: asyncio's streams.py, one state
// object per connection (internal::StreamState) shared by the reader, the
// writer and the protocol the transport calls.
//
// Design. The protocol appends what arrives to the state's buffer and wakes the
// one task waiting for data (a frame-less Parking, sync/internal/wait_list.h).
// Reads take from the buffer without suspending when it has enough. drain()
// returns at once unless the transport paused writing (its buffer is above the
// high-water mark); then it parks until resume_writing or the connection is lost.
#include "net/streams.h"

#include <algorithm>
#include <cerrno>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>

#include "async/errors.h"
#include "async/future.h"
#include "async/sleep.h"
#include "async/task.h"
#include "net/internal/socket.h"
#include "net/internal/stream_transport.h"
#include "sync/internal/wait_list.h"

namespace aio {

IncompleteReadError::IncompleteReadError(std::string partial_bytes, std::size_t expected_bytes)
    : Error(std::to_string(partial_bytes.size()) + " bytes read on a total of " +
            (expected_bytes ? std::to_string(expected_bytes) : std::string("undefined")) + " expected bytes"),
      partial(std::move(partial_bytes)),
      expected(expected_bytes) {}

LimitOverrunError::LimitOverrunError(const std::string& message, std::size_t consumed_bytes)
    : Error(message), consumed(consumed_bytes) {}

namespace internal {

class StreamState {
 public:
  explicit StreamState(std::size_t limit) : limit_(limit) {
    if (limit == 0) throw ValueError("StreamReader: limit cannot be 0");
  }

  // --- the buffer --------------------------------------------------------------
  std::size_t buffered() const noexcept { return buffer_.size() - start_; }
  std::string_view view() const noexcept { return std::string_view(buffer_).substr(start_); }
  // Removes and returns the first `n` buffered bytes.
  std::string take(std::size_t n) {
    std::string result;
    if (start_ == 0 && n == buffer_.size()) {
      result = std::move(buffer_);
      buffer_ = std::string();
    } else {
      result.assign(buffer_, start_, n);
      consume(n);
    }
    maybe_resume_transport();
    return result;
  }
  // Consumed bytes are only counted; they are dropped when the buffer empties
  // or, at the latest, before more data is appended (feed_data), so a reader
  // taking a large buffer in pieces never moves the rest around.
  void consume(std::size_t n) noexcept {
    start_ += n;
    if (start_ == buffer_.size()) {
      buffer_.clear();
      start_ = 0;
    }
  }
  void clear() noexcept {
    buffer_.clear();
    start_ = 0;
  }

  // --- feeding (asyncio StreamReader.feed_*) -----------------------------------
  void feed_data(std::string_view data) {
    if (eof_) throw InvalidStateError("StreamReader.feed_data: called after feed_eof()");
    if (data.empty()) return;
    if (start_ > 0) {
      buffer_.erase(0, start_);
      start_ = 0;
    }
    buffer_.append(data);
    data_waiters_.wake_first();
    if (transport_ && !paused_ && buffered() > 2 * limit_) {
      transport_->pause_reading();
      paused_ = true;
    }
  }
  void feed_eof() {
    eof_ = true;
    data_waiters_.wake_first();
  }
  void set_exception(std::exception_ptr error) {
    exception_ = std::move(error);
    data_waiters_.wake_first();
  }

  void maybe_resume_transport() {
    if (paused_ && buffered() <= limit_) {
      paused_ = false;
      if (transport_) transport_->resume_reading();
    }
  }

  void throw_if_failed() const {
    if (exception_) std::rethrow_exception(exception_);
  }

  // Waits until data, EOF or an error arrive (asyncio's _wait_for_data). The
  // checks run now; the returned Parking is awaited at once by the caller
  // (no coroutine frame per wait).
  Parking wait_for_data(const char* function) {
    if (!data_waiters_.empty()) {
      throw RuntimeError(std::string(function) +
                         "() called while another coroutine is already waiting for incoming data");
    }
    if (eof_) throw InvalidStateError("StreamReader: waiting for data after EOF");
    if (paused_) {
      paused_ = false;
      if (transport_) transport_->resume_reading();
    }
    return Parking(data_waiters_);
  }

  // --- the protocol side (asyncio's StreamReaderProtocol + FlowControlMixin) ---
  void connection_made(std::shared_ptr<Transport> transport) { transport_ = std::move(transport); }
  void connection_lost(std::exception_ptr error) {
    connection_lost_ = true;
    if (error) {
      set_exception(error);
    } else {
      feed_eof();
    }
    closed_error_ = error;
    closed_ = true;
    closed_waiters_.wake(closed_waiters_.size());
    drain_waiters_.wake(drain_waiters_.size());
    if (on_closed_) {
      std::function<void()> on_closed = std::move(on_closed_);
      on_closed();
    }
  }
  void pause_writing() { writing_paused_ = true; }
  void resume_writing() {
    writing_paused_ = false;
    drain_waiters_.wake(drain_waiters_.size());
  }

  // drain() would return at once without raising: the common case, taken
  // without a coroutine (see StreamWriter::Drain).
  bool drain_is_immediate() const noexcept {
    return !exception_ && !connection_lost_ && !writing_paused_ && !(transport_ && transport_->is_closing());
  }

  Coro<void> drain() {
    throw_if_failed();
    if (transport_ && transport_->is_closing()) {
      // Let connection_lost run first, so that its error is the one raised.
      co_await sleep(Duration::zero());
    }
    // Loop: several tasks may drain; each returns once the transport resumed.
    while (true) {
      if (connection_lost_) {
        throw_if_failed();
        throw os_error(ECONNRESET, "Connection lost");
      }
      if (!writing_paused_) co_return;
      co_await Parking(drain_waiters_);
    }
  }

  Coro<void> wait_closed() {
    while (!closed_) co_await Parking(closed_waiters_);
    if (closed_error_) std::rethrow_exception(closed_error_);
  }

  bool at_eof() const noexcept { return eof_ && buffered() == 0; }
  bool eof() const noexcept { return eof_; }
  std::size_t limit() const noexcept { return limit_; }
  std::exception_ptr exception() const noexcept { return exception_; }
  const std::shared_ptr<Transport>& transport() const noexcept { return transport_; }
  void replace_transport(std::shared_ptr<Transport> transport) { transport_ = std::move(transport); }
  void set_on_closed(std::function<void()> on_closed) { on_closed_ = std::move(on_closed); }
  bool server_side = false;

 private:
  std::string buffer_;
  std::size_t start_ = 0;
  const std::size_t limit_;
  bool eof_ = false;
  bool paused_ = false;  // reading paused because the buffer is over 2 x limit
  std::exception_ptr exception_;
  std::shared_ptr<Transport> transport_;
  WaitList data_waiters_{"StreamReader", "StreamReader.read"};
  // Flow control of the writing side.
  bool writing_paused_ = false;
  bool connection_lost_ = false;
  WaitList drain_waiters_{"StreamWriter", "StreamWriter.drain"};
  // wait_closed().
  bool closed_ = false;
  std::exception_ptr closed_error_;
  WaitList closed_waiters_{"StreamWriter", "StreamWriter.wait_closed"};
  std::function<void()> on_closed_;
};

// Readers and writers over a connection's state: their constructors from it
// are private (users make streams with open_connection / start_server).
class StreamAccess {
 public:
  static StreamReader reader(std::shared_ptr<StreamState> state) { return StreamReader(std::move(state)); }
  static StreamWriter writer(std::shared_ptr<StreamState> state) { return StreamWriter(std::move(state)); }
};

namespace {

// Runs one connection's handler. The handler object (often a lambda with
// captures, which its coroutine refers to) is shared by every connection of
// the server and kept alive here until this connection's handler returns.
Coro<void> run_handler(std::shared_ptr<const ClientConnected> handler, StreamReader reader, StreamWriter writer) {
  co_await (*handler)(std::move(reader), std::move(writer));
}

// What the transport calls: feeds the shared state; on a server, starts the
// connection's handler task.
//
// It is a BufferedProtocol only to choose the read size: one read takes at most
// `limit` bytes (64 KiB by default), into the transports' shared buffer. A
// reader asking for read(limit) then gets the whole buffered block, moved out
// rather than copied; with reads larger than what readers ask for, every block
// would be copied twice (in, then out in pieces).
class StreamProtocol final : public BufferedProtocol {
 public:
  StreamProtocol(std::shared_ptr<StreamState> state, std::shared_ptr<const ClientConnected> handler)
      : state_(std::move(state)), handler_(std::move(handler)) {}

  void connection_made(std::shared_ptr<Transport> transport) override {
    state_->connection_made(transport);
    if (!handler_) return;
    state_->server_side = true;
    StreamWriter writer = StreamAccess::writer(state_);
    StreamReader reader = StreamAccess::reader(state_);
    Task<void> task = create_task(run_handler(std::move(handler_), std::move(reader), std::move(writer)));
    // An error escaping the handler is reported and ends the connection (asyncio 3.12).
    std::weak_ptr<Transport> weak_transport = transport;
    task.add_done_callback([weak_transport](Task<void> finished) {
      if (finished.cancelled()) {
        // A cancelled handler ends its connection (asyncio 3.12).
        if (auto transport = weak_transport.lock()) transport->close();
        return;
      }
      if (!finished.exception()) return;
      ExceptionContext context;
      context.message = "Unhandled exception in client_connected_cb";
      context.exception = finished.exception();
      context.task = finished;
      get_running_loop().call_exception_handler(context);
      if (auto transport = weak_transport.lock()) transport->close();
    });
  }
  void connection_lost(std::exception_ptr error) override { state_->connection_lost(std::move(error)); }
  void pause_writing() override { state_->pause_writing(); }
  void resume_writing() override { state_->resume_writing(); }
  std::span<char> get_buffer(std::size_t) override {
    return std::span<char>(transport_read_buffer(), std::min(kTransportReadBufferSize, state_->limit()));
  }
  void buffer_updated(std::size_t bytes) override {
    state_->feed_data(std::string_view(transport_read_buffer(), bytes));
  }
  bool eof_received() override {
    state_->feed_eof();
    // Keep a plain connection half-open (the writer may still write); a TLS
    // transport closes anyway (asyncio returns False over SSL).
    return true;
  }

 private:
  std::shared_ptr<StreamState> state_;
  std::shared_ptr<const ClientConnected> handler_;
};

Streams make_streams(std::shared_ptr<StreamState> state) {
  StreamReader reader = internal::StreamAccess::reader(state);
  StreamWriter writer = internal::StreamAccess::writer(std::move(state));
  return Streams{std::move(reader), std::move(writer)};
}

}  // namespace
}  // namespace internal

// --- StreamReader ----------------------------------------------------------------

StreamReader::StreamReader(std::size_t limit) : state_(std::make_shared<internal::StreamState>(limit)) {}

Coro<std::string> StreamReader::read(std::ptrdiff_t n) {
  std::shared_ptr<internal::StreamState> state = state_;
  state->throw_if_failed();
  if (n == 0) co_return std::string();
  if (n < 0) {
    // Everything until EOF, in limit-sized reads (asyncio's read(-1)).
    std::string all;
    while (true) {
      if (state->buffered() == 0 && !state->eof()) co_await state->wait_for_data("read");
      state->throw_if_failed();
      if (state->buffered() == 0) co_return all;
      all += state->take(state->buffered());
    }
  }
  if (state->buffered() == 0 && !state->eof()) co_await state->wait_for_data("read");
  state->throw_if_failed();
  co_return state->take(std::min(static_cast<std::size_t>(n), state->buffered()));
}

Coro<std::string> StreamReader::readexactly(std::size_t n) {
  std::shared_ptr<internal::StreamState> state = state_;
  state->throw_if_failed();
  if (n == 0) co_return std::string();
  while (state->buffered() < n) {
    if (state->eof()) {
      std::string partial = state->take(state->buffered());
      throw IncompleteReadError(std::move(partial), n);
    }
    co_await state->wait_for_data("readexactly");
    state->throw_if_failed();
  }
  co_return state->take(n);
}

Coro<std::string> StreamReader::readuntil(std::string_view separator) {
  if (separator.empty()) throw ValueError("readuntil: the separator should be at least one byte long");
  std::vector<std::string> separators;
  separators.emplace_back(separator);
  co_return co_await readuntil(std::move(separators));
}

Coro<std::string> StreamReader::readuntil(std::vector<std::string> separators) {
  std::shared_ptr<internal::StreamState> state = state_;
  if (separators.empty()) throw ValueError("readuntil: the list of separators should contain at least one element");
  std::sort(separators.begin(), separators.end(),
            [](const std::string& a, const std::string& b) { return a.size() < b.size(); });
  const std::size_t shortest = separators.front().size();
  const std::size_t longest = separators.back().size();
  if (shortest == 0) throw ValueError("readuntil: the separator should be at least one byte long");
  state->throw_if_failed();
  // asyncio's readuntil: search from `offset` (what was already searched, less
  // a separator's length) each time more data arrives.
  std::size_t offset = 0;
  std::size_t match_start = 0;
  std::size_t match_end = 0;
  while (true) {
    std::string_view buffer = state->view();
    if (buffer.size() - std::min(offset, buffer.size()) >= shortest) {
      bool found = false;
      for (const std::string& separator : separators) {
        std::size_t position = buffer.find(separator, offset);
        if (position != std::string_view::npos) {
          std::size_t end = position + separator.size();
          if (!found || end < match_end) {
            found = true;
            match_end = end;
            match_start = position;
          }
        }
      }
      if (found) break;
      offset = buffer.size() + 1 > longest ? buffer.size() + 1 - longest : 0;
      if (offset > state->limit()) {
        throw LimitOverrunError("Separator is not found, and chunk exceed the limit", offset);
      }
    }
    if (state->eof()) {
      std::string partial = state->take(state->buffered());
      throw IncompleteReadError(std::move(partial), 0);
    }
    co_await state->wait_for_data("readuntil");
    state->throw_if_failed();
  }
  if (match_start > state->limit()) {
    throw LimitOverrunError("Separator is found, but chunk is longer than limit", match_start);
  }
  co_return state->take(match_end);
}

Coro<std::string> StreamReader::readline() {
  std::shared_ptr<internal::StreamState> state = state_;
  // asyncio's readline: readuntil("\n"); EOF gives the partial line; a line
  // over the limit is dropped (up to its separator, or all that is buffered).
  std::string line;
  std::optional<std::size_t> overrun_consumed;
  std::string overrun_message;
  try {
    line = co_await readuntil("\n");
  } catch (IncompleteReadError& error) {
    co_return std::move(error.partial);
  } catch (const LimitOverrunError& error) {
    overrun_consumed = error.consumed;
    overrun_message = error.what();
  }
  if (overrun_consumed) {
    std::string_view buffer = state->view();
    if (*overrun_consumed < buffer.size() && buffer[*overrun_consumed] == '\n') {
      state->consume(*overrun_consumed + 1);
    } else {
      state->clear();
    }
    state->maybe_resume_transport();
    throw std::length_error(overrun_message);
  }
  co_return line;
}

Coro<std::optional<std::string>> StreamReader::next_line() {
  std::string line = co_await readline();
  if (line.empty()) co_return std::nullopt;
  co_return line;
}

bool StreamReader::at_eof() const { return state_->at_eof(); }
std::exception_ptr StreamReader::exception() const { return state_->exception(); }
void StreamReader::feed_data(std::string_view data) { state_->feed_data(data); }
void StreamReader::feed_eof() { state_->feed_eof(); }
void StreamReader::set_exception(std::exception_ptr error) { state_->set_exception(std::move(error)); }
std::size_t StreamReader::limit() const { return state_->limit(); }
std::size_t StreamReader::buffered() const { return state_->buffered(); }
std::string_view StreamReader::peek() const { return state_->view(); }

// --- StreamWriter ----------------------------------------------------------------

struct StreamWriter::Owner {
  explicit Owner(std::shared_ptr<internal::StreamState> state) : state(std::move(state)) {}
  // The last writer handle closes the connection (asyncio's StreamWriter.__del__).
  ~Owner() {
    const std::shared_ptr<Transport>& transport = state->transport();
    if (transport && !transport->is_closing()) transport->close();
  }
  std::shared_ptr<internal::StreamState> state;
};

StreamWriter::StreamWriter(std::shared_ptr<internal::StreamState> state)
    : owner_(std::make_shared<Owner>(std::move(state))) {}

namespace {
Transport& require_transport(const std::shared_ptr<internal::StreamState>& state) {
  if (!state->transport()) throw RuntimeError("StreamWriter: the stream has no transport");
  return *state->transport();
}
}  // namespace

void StreamWriter::write(std::string_view data) { require_transport(owner_->state).write(data); }
void StreamWriter::writelines(std::span<const std::string_view> chunks) {
  require_transport(owner_->state).writelines(chunks);
}
StreamWriter::Drain StreamWriter::drain() { return Drain(owner_->state); }

bool StreamWriter::Drain::await_ready() {
  if (state_->drain_is_immediate()) return true;
  slow_.emplace(slow_path(state_).operator co_await());
  return slow_->await_ready();
}

Coro<void> StreamWriter::Drain::slow_path(std::shared_ptr<internal::StreamState> state) { co_await state->drain(); }
void StreamWriter::close() { require_transport(owner_->state).close(); }
Coro<void> StreamWriter::wait_closed() {
  std::shared_ptr<internal::StreamState> state = owner_->state;
  co_await state->wait_closed();
}
bool StreamWriter::is_closing() const { return require_transport(owner_->state).is_closing(); }
void StreamWriter::write_eof() { require_transport(owner_->state).write_eof(); }
bool StreamWriter::can_write_eof() const { return require_transport(owner_->state).can_write_eof(); }
std::any StreamWriter::get_extra_info(std::string_view name) const {
  return require_transport(owner_->state).get_extra_info(name);
}
namespace {
std::optional<SocketAddress> address_info(const std::any& info) {
  if (const auto* address = std::any_cast<SocketAddress>(&info)) return *address;
  return std::nullopt;
}
}  // namespace

std::optional<SocketAddress> StreamWriter::peername() const { return address_info(get_extra_info("peername")); }
std::optional<SocketAddress> StreamWriter::sockname() const { return address_info(get_extra_info("sockname")); }
const std::shared_ptr<Transport>& StreamWriter::transport() const { return owner_->state->transport(); }

Coro<void> StreamWriter::start_tls(std::shared_ptr<TlsLayer> ssl, std::string server_hostname,
                                   std::optional<Duration> ssl_handshake_timeout,
                                   std::optional<Duration> ssl_shutdown_timeout) {
  std::shared_ptr<internal::StreamState> state = owner_->state;
  co_await state->drain();
  std::shared_ptr<Transport> transport = state->transport();
  if (!transport) throw RuntimeError("StreamWriter.start_tls: the stream has no transport");
  std::shared_ptr<BaseProtocol> protocol = transport->get_protocol();
  std::shared_ptr<Transport> upgraded =
      co_await aio::start_tls(transport, protocol, std::move(ssl), state->server_side, std::move(server_hostname),
                              ssl_handshake_timeout, ssl_shutdown_timeout);
  state->replace_transport(std::move(upgraded));
}

// --- connections and servers -------------------------------------------------------

Coro<Streams> open_connection(std::string host, std::uint16_t port, ConnectOptions options,
                              StreamOptions stream_options) {
  auto state = std::make_shared<internal::StreamState>(stream_options.limit);
  ProtocolFactory factory = [state] { return std::make_shared<internal::StreamProtocol>(state, nullptr); };
  co_await create_connection(std::move(factory), std::move(host), port, std::move(options));
  co_return internal::make_streams(std::move(state));
}

Coro<Streams> open_unix_connection(std::string path, ConnectOptions options, StreamOptions stream_options) {
  auto state = std::make_shared<internal::StreamState>(stream_options.limit);
  ProtocolFactory factory = [state] { return std::make_shared<internal::StreamProtocol>(state, nullptr); };
  co_await create_unix_connection(std::move(factory), std::move(path), std::move(options));
  co_return internal::make_streams(std::move(state));
}

namespace {
ProtocolFactory stream_server_factory(ClientConnected handler, StreamOptions stream_options) {
  if (!handler) throw ValueError("start_server: empty client_connected handler");
  const std::size_t limit = stream_options.limit;
  if (limit == 0) throw ValueError("start_server: limit cannot be 0");
  auto shared_handler = std::make_shared<const ClientConnected>(std::move(handler));
  return [shared_handler, limit] {
    return std::make_shared<internal::StreamProtocol>(std::make_shared<internal::StreamState>(limit),
                                                      shared_handler);
  };
}
}  // namespace

Coro<Server> start_server(ClientConnected handler, std::string host, std::uint16_t port, ServeOptions options,
                          StreamOptions stream_options) {
  ProtocolFactory factory = stream_server_factory(std::move(handler), stream_options);
  co_return co_await create_server(std::move(factory), std::move(host), port, std::move(options));
}

Coro<Server> start_unix_server(ClientConnected handler, std::string path, ServeOptions options,
                               StreamOptions stream_options) {
  ProtocolFactory factory = stream_server_factory(std::move(handler), stream_options);
  co_return co_await create_unix_server(std::move(factory), std::move(path), std::move(options));
}

namespace internal {

// Declared in net/internal/pipe_streams.h (which this file does not include:
// see there).
StreamReader open_read_pipe(int fd, std::size_t limit, std::function<void()> on_closed) {
  auto state = std::make_shared<StreamState>(limit);
  state->set_on_closed(std::move(on_closed));
  StreamTransportOptions options;
  options.socket = false;
  make_stream_transport(get_running_loop(), fd, std::make_shared<StreamProtocol>(state, nullptr), options);
  return StreamAccess::reader(std::move(state));
}

StreamWriter open_write_pipe(int fd, std::function<void()> on_closed) {
  auto state = std::make_shared<StreamState>(kDefaultStreamLimit);
  state->set_on_closed(std::move(on_closed));
  StreamTransportOptions options;
  options.socket = false;
  options.start_reading = false;
  make_stream_transport(get_running_loop(), fd, std::make_shared<StreamProtocol>(state, nullptr), options);
  return StreamAccess::writer(std::move(state));
}

}  // namespace internal
}  // namespace aio
