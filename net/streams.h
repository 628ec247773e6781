// Streams: asyncio's high-level networking API, coroutines that read and write.
//
//   aio::Coro<void> handle(aio::StreamReader reader, aio::StreamWriter writer) {
//     std::string line = co_await reader.readline();
//     writer.write(line);
//     co_await writer.drain();
//     writer.close();
//     co_await writer.wait_closed();
//   }
//   ...
//   aio::Server server = co_await aio::start_server(handle, "127.0.0.1", 8888);
//
//   auto [reader, writer] = co_await aio::open_connection("example.com", 80);
//
// StreamReader and StreamWriter are handles to one connection's shared state:
// copies refer to the same stream. When the last StreamWriter handle of a
// connection goes away, the connection is closed (asyncio closes it in
// StreamWriter.__del__).
//
// A StreamReader buffers what arrives; when the buffer holds more than twice
// its limit (64 KiB by default) the transport stops reading until a reader
// takes it down to the limit, so a slow consumer bounds the memory. Only one
// task may wait on a reader at a time (asyncio's "already waiting" rule).
//
// Errors: IncompleteReadError and LimitOverrunError as asyncio's; connection
// errors are std::system_error with the errno (ECONNRESET, EPIPE, ...). Not
// thread-safe.
#ifndef AIO_NET_STREAMS_H_
#define AIO_NET_STREAMS_H_

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "async/coro.h"
#include "async/errors.h"
#include "net/server.h"
#include "net/transport.h"

namespace aio {

// readexactly() (and readuntil()) met EOF first. `partial` holds what was read
// (it is consumed); `expected` is the size asked for (0 for readuntil).
class IncompleteReadError : public Error {
 public:
  IncompleteReadError(std::string partial, std::size_t expected);
  std::string partial;
  std::size_t expected;
};

// readuntil() found no separator within the limit (or found it beyond the
// limit). Nothing was consumed: the data stays in the buffer. `consumed` is
// how many bytes would have to be consumed to get past the check.
class LimitOverrunError : public Error {
 public:
  LimitOverrunError(const std::string& message, std::size_t consumed);
  std::size_t consumed;
};

namespace internal {
class StreamState;
class StreamAccess;  // net/streams.cc: readers and writers over a connection's state
}  // namespace internal

// asyncio's default stream limit: 64 KiB.
inline constexpr std::size_t kDefaultStreamLimit = 64 * 1024;

class StreamReader {
 public:
  // A reader not attached to a connection (fed with feed_data/feed_eof), as
  // asyncio.StreamReader(). Throws aio::ValueError if limit is 0.
  explicit StreamReader(std::size_t limit = kDefaultStreamLimit);

  // Up to `n` bytes; with n < 0, everything until EOF (asyncio's read(-1)).
  // Returns what is buffered at once if anything is, otherwise waits for data.
  // "" means EOF (or n == 0). Rethrows the connection's error, if any.
  Coro<std::string> read(std::ptrdiff_t n = -1);
  // One line, ending with '\n' (without it at EOF; "" at EOF). A line longer
  // than the limit throws std::length_error("Separator is not found, and chunk
  // exceed the limit") after dropping it (asyncio raises ValueError and drops
  // the buffered data up to the separator or all of it).
  Coro<std::string> readline();
  // Exactly `n` bytes; throws IncompleteReadError at EOF, aio::ValueError
  // for n < 0.
  Coro<std::string> readexactly(std::size_t n);
  // Data up to and including `separator`. Throws IncompleteReadError at EOF
  // (with what was buffered), LimitOverrunError past the limit,
  // aio::ValueError for an empty separator.
  Coro<std::string> readuntil(std::string_view separator = "\n");
  // The same with several separators: stops at the first match, preferring the
  // shortest among matches at the same end (asyncio 3.13).
  Coro<std::string> readuntil(std::vector<std::string> separators);
  // The next line, or nullopt at EOF: `async for line in reader`.
  //   while (auto line = co_await reader.next_line()) use(*line);
  Coro<std::optional<std::string>> next_line();

  // True once EOF was fed and the buffer is empty.
  bool at_eof() const;
  // The error the connection ended with (null if none).
  std::exception_ptr exception() const;
  // --- feeding (for protocols and tests) ---
  void feed_data(std::string_view data);
  void feed_eof();
  void set_exception(std::exception_ptr error);
  std::size_t limit() const;
  // Bytes buffered and not read yet.
  std::size_t buffered() const;
  // The buffered bytes themselves, without consuming them (for tests and
  // protocol sniffing). Valid until the next read, feed or I/O on this reader.
  std::string_view peek() const;


 private:
  friend class internal::StreamAccess;
  explicit StreamReader(std::shared_ptr<internal::StreamState> state) : state_(std::move(state)) {}

  std::shared_ptr<internal::StreamState> state_;
};

// Made by open_connection / start_server (and copied: copies share the stream).
class StreamWriter {
 public:

  // Queues `data` on the transport (it is sent at once when the socket takes
  // it). Writing to a closed stream is silently dropped, as in asyncio; drain()
  // reports the error.
  void write(std::string_view data);
  void writelines(std::span<const std::string_view> chunks);
  void writelines(std::initializer_list<std::string_view> chunks) {
    writelines(std::span<const std::string_view>(chunks.begin(), chunks.size()));
  }
  // Awaitable: waits until the write buffer is at or below its low-water mark.
  // Throws the reader's error if the connection failed, and
  // std::system_error(ECONNRESET, "Connection lost") if it was lost. Any number
  // of tasks may drain at once. When there is nothing to wait for (the usual
  // case) it completes without suspending and without a coroutine frame.
  class Drain;
  Drain drain();
  // Closes the transport (after the buffer is sent). Idempotent.
  void close();
  // Returns once the connection is closed (connection_lost ran). Rethrows the
  // error the connection was lost with, as asyncio does.
  Coro<void> wait_closed();
  bool is_closing() const;
  void write_eof();
  bool can_write_eof() const;
  std::any get_extra_info(std::string_view name) const;
  // get_extra_info("peername") and ("sockname"), typed: the remote and local
  // addresses of the connection, or nothing for a pipe (or once the transport
  // forgot them). Throws aio::RuntimeError when the writer has no transport.
  std::optional<SocketAddress> peername() const;
  std::optional<SocketAddress> sockname() const;
  const std::shared_ptr<Transport>& transport() const;
  // Upgrades the connection to TLS (asyncio StreamWriter.start_tls): the reader
  // and writer continue on the encrypted connection.
  Coro<void> start_tls(std::shared_ptr<TlsLayer> ssl, std::string server_hostname = {},
                       std::optional<Duration> ssl_handshake_timeout = std::nullopt,
                       std::optional<Duration> ssl_shutdown_timeout = std::nullopt);

 private:
  friend class internal::StreamAccess;
  explicit StreamWriter(std::shared_ptr<internal::StreamState> state);

  // A handle that closes the transport when the last writer goes away.
  struct Owner;
  std::shared_ptr<Owner> owner_;
};

// What StreamWriter::drain() returns; `co_await` it (or hand it to
// create_task, wait_for, ...) at once: it refers to the writer's stream.
class StreamWriter::Drain {
 public:
  bool await_ready();
  bool await_suspend(std::coroutine_handle<> caller) { return slow_->await_suspend(caller); }
  void await_resume() {
    if (slow_) slow_->await_resume();
  }

 private:
  friend class StreamWriter;
  explicit Drain(std::shared_ptr<internal::StreamState> state) : state_(std::move(state)) {}
  static Coro<void> slow_path(std::shared_ptr<internal::StreamState> state);
  std::shared_ptr<internal::StreamState> state_;
  std::optional<Coro<void>::Awaiter> slow_;
};

struct Streams {
  StreamReader reader;
  StreamWriter writer;
};

struct StreamOptions {
  std::size_t limit = kDefaultStreamLimit;
};

// asyncio.open_connection: create_connection with a stream protocol.
Coro<Streams> open_connection(std::string host, std::uint16_t port, ConnectOptions options = {},
                              StreamOptions stream_options = {});
Coro<Streams> open_unix_connection(std::string path, ConnectOptions options = {},
                                   StreamOptions stream_options = {});

// The per-connection handler of start_server: runs as its own task. An
// exception escaping it is reported to the loop's exception handler and its
// connection is closed (asyncio 3.12). One handler object serves every
// connection (a lambda's captures are shared, like a Python closure's) and
// stays alive while any of its coroutines runs.
using ClientConnected = std::function<Coro<void>(StreamReader, StreamWriter)>;

// asyncio.start_server / start_unix_server.
Coro<Server> start_server(ClientConnected handler, std::string host, std::uint16_t port,
                          ServeOptions options = {}, StreamOptions stream_options = {});
Coro<Server> start_unix_server(ClientConnected handler, std::string path, ServeOptions options = {},
                               StreamOptions stream_options = {});

namespace internal {
template <class Handler>
constexpr bool kIsPlainClientCallback =
    std::is_invocable_v<Handler&, StreamReader, StreamWriter> &&
    std::is_void_v<std::invoke_result_t<Handler&, StreamReader, StreamWriter>>;

// A plain callback as a handler: called once per connection; it may keep the
// streams (for a task it spawns): the connection closes when the last writer
// handle goes.
template <class Handler>
ClientConnected from_plain_callback(Handler handler) {
  return [handler = std::move(handler)](StreamReader reader, StreamWriter writer) mutable -> Coro<void> {
    handler(std::move(reader), std::move(writer));
    co_return;
  };
}
}  // namespace internal

// start_server with asyncio's other form of client_connected_cb: a plain
// function `void(StreamReader, StreamWriter)` (it may spawn a task).
template <class Handler, class = std::enable_if_t<internal::kIsPlainClientCallback<Handler>>>
Coro<Server> start_server(Handler handler, std::string host, std::uint16_t port, ServeOptions options = {},
                          StreamOptions stream_options = {}) {
  return start_server(internal::from_plain_callback(std::move(handler)), std::move(host), port, std::move(options),
                      std::move(stream_options));
}
template <class Handler, class = std::enable_if_t<internal::kIsPlainClientCallback<Handler>>>
Coro<Server> start_unix_server(Handler handler, std::string path, ServeOptions options = {},
                               StreamOptions stream_options = {}) {
  return start_unix_server(internal::from_plain_callback(std::move(handler)), std::move(path), std::move(options),
                           std::move(stream_options));
}

}  // namespace aio

#endif  // AIO_NET_STREAMS_H_
