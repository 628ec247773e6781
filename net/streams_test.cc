// Streams: mirrors asyncio's test_streams.py (the reader's limits and EOF
// cases, separators, concurrent readers, drain, servers) and adds the faults
// the networking issue names: resets, half-close, slow readers, cancellation,
// descriptor leaks, many connections.
#include "net/streams.h"

#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <system_error>
#include <vector>

#include "async/executor.h"
#include "async/gather.h"
#include "async/task.h"
#include "async/task_group.h"
#include "async/testing.h"
#include "async/timeouts.h"
#include "gtest/gtest.h"
#include "net/internal/net_testing.h"
#include "sync/event.h"

namespace aio {
namespace {

using namespace std::chrono_literals;

std::uint16_t port_of(const Server& server) { return server.sockets().at(0).port(); }

// --- the reader alone (fed by hand), as test_streams.py does -----------------

AIO_TEST(StreamReader, ReadReturnsWhatIsBufferedOrWaits) {
  StreamReader reader;
  reader.feed_data("line1\nline2\n");
  EXPECT_EQ(co_await reader.read(0), "");
  EXPECT_EQ(co_await reader.read(5), "line1");
  EXPECT_EQ(co_await reader.read(100), "\nline2\n");
  Task<std::string> waiting = create_task(reader.read(30));
  co_await testing::let_other_tasks_run();
  EXPECT_FALSE(waiting.done());
  reader.feed_data("chunk");
  EXPECT_EQ(co_await waiting, "chunk");
  reader.feed_eof();
  EXPECT_EQ(co_await reader.read(10), "");
  EXPECT_TRUE(reader.at_eof());
}

AIO_TEST(StreamReader, ReadAllUntilEof) {
  StreamReader reader(3);
  Task<std::string> all = create_task(reader.read());
  reader.feed_data("chunk1\n");
  co_await testing::let_other_tasks_run();
  reader.feed_data("chunk2");
  reader.feed_eof();
  EXPECT_EQ(co_await all, "chunk1\nchunk2");
  EXPECT_THROW(StreamReader(0), aio::ValueError);
}

AIO_TEST(StreamReader, ReadlineAndLimits) {
  StreamReader reader(7);
  reader.feed_data("chk1\nchunk2 is long\nend");
  reader.feed_eof();
  EXPECT_EQ(co_await reader.readline(), "chk1\n");
  // Too long: dropped up to and including its separator, as asyncio's ValueError.
  bool overrun = false;
  try {
    co_await reader.readline();
  } catch (const std::length_error&) {
    overrun = true;
  }
  EXPECT_TRUE(overrun);
  EXPECT_EQ(co_await reader.readline(), "end");  // EOF: the partial line
  EXPECT_EQ(co_await reader.readline(), "");
}

AIO_TEST(StreamReader, ReadlineOverLimitWithoutSeparatorClearsTheBuffer) {
  StreamReader reader(7);
  reader.feed_data("0123456789ABCDEF");
  bool overrun = false;
  try {
    co_await reader.readline();
  } catch (const std::length_error&) {
    overrun = true;
  }
  EXPECT_TRUE(overrun);
  EXPECT_EQ(reader.buffered(), 0u);
}

AIO_TEST(StreamReader, ReadexactlyAndIncompleteRead) {
  StreamReader reader;
  reader.feed_data("1234");
  Task<std::string> exact = create_task(reader.readexactly(6));
  co_await testing::let_other_tasks_run();
  EXPECT_FALSE(exact.done());
  reader.feed_data("5678");
  EXPECT_EQ(co_await exact, "123456");
  reader.feed_eof();
  bool incomplete = false;
  try {
    co_await reader.readexactly(5);
  } catch (const IncompleteReadError& error) {
    incomplete = true;
    EXPECT_EQ(error.partial, "78");
    EXPECT_EQ(error.expected, 5u);
    EXPECT_STREQ(error.what(), "2 bytes read on a total of 5 expected bytes");
  }
  EXPECT_TRUE(incomplete);
  EXPECT_EQ(co_await reader.readexactly(0), "");
}

AIO_TEST(StreamReader, ReaduntilWithOneOrSeveralSeparators) {
  StreamReader reader;
  reader.feed_data("key=value;next\r\nrest");
  EXPECT_EQ(co_await reader.readuntil("="), "key=");
  std::vector<std::string> separators = {"\r\n", ";"};
  EXPECT_EQ(co_await reader.readuntil(separators), "value;");
  EXPECT_EQ(co_await reader.readuntil(separators), "next\r\n");
  // Among matches, the one that ends first wins (asyncio 3.13).
  reader.feed_data("ab--cd");
  std::vector<std::string> overlapping = {"--cd", "b-"};
  EXPECT_EQ(co_await reader.readuntil(overlapping), "restab-");
  bool bad = false;
  try {
    co_await reader.readuntil("");
  } catch (const aio::ValueError&) {
    bad = true;
  }
  EXPECT_TRUE(bad);
  bad = false;
  try {
    co_await reader.readuntil(std::vector<std::string>{});
  } catch (const aio::ValueError&) {
    bad = true;
  }
  EXPECT_TRUE(bad);
  reader.feed_eof();
  bool incomplete = false;
  try {
    co_await reader.readuntil("\n");
  } catch (const IncompleteReadError& error) {
    incomplete = true;
    EXPECT_EQ(error.partial, "-cd");
  }
  EXPECT_TRUE(incomplete);
}

AIO_TEST(StreamReader, LimitOverrunKeepsTheData) {
  StreamReader reader(4);
  reader.feed_data("abcdefgh");
  std::size_t consumed = 0;
  try {
    co_await reader.readuntil("\n");
  } catch (const LimitOverrunError& error) {
    consumed = error.consumed;
  }
  EXPECT_EQ(consumed, 8u);
  EXPECT_EQ(reader.buffered(), 8u);  // nothing consumed
  EXPECT_EQ(reader.peek(), "abcdefgh");  // a view of the buffer: reading it consumes nothing
  EXPECT_EQ(reader.buffered(), 8u);
  reader.feed_data("!\n");
  try {
    co_await reader.readuntil("!\n");
  } catch (const LimitOverrunError& error) {
    consumed = error.consumed;  // separator found past the limit
    EXPECT_STREQ(error.what(), "Separator is found, but chunk is longer than limit");
  }
  EXPECT_EQ(consumed, 8u);
  EXPECT_EQ(co_await reader.readexactly(10), "abcdefgh!\n");
}

AIO_TEST(StreamReader, OnlyOneReaderMayWait) {
  StreamReader reader;
  Task<std::string> first = create_task(reader.read(10));
  co_await testing::let_other_tasks_run();
  bool refused = false;
  try {
    co_await reader.readline();
  } catch (const std::runtime_error& error) {
    refused = true;
    EXPECT_STREQ(error.what(), "readuntil() called while another coroutine is already waiting for incoming data");
  }
  EXPECT_TRUE(refused);
  reader.feed_data("x");
  EXPECT_EQ(co_await first, "x");
}

AIO_TEST(StreamReader, ExceptionReachesTheWaitingReader) {
  StreamReader reader;
  Task<std::string> waiting = create_task(reader.readline());
  co_await testing::let_other_tasks_run();
  reader.set_exception(std::make_exception_ptr(std::system_error(ECONNRESET, std::generic_category(), "reset")));
  bool reset = false;
  try {
    co_await waiting;
  } catch (const std::system_error& error) {
    reset = error.code().value() == ECONNRESET;
  }
  EXPECT_TRUE(reset);
  EXPECT_TRUE(reader.exception());
}

AIO_TEST(StreamReader, LinesIteration) {
  StreamReader reader;
  reader.feed_data("one\ntwo\nthree");
  reader.feed_eof();
  std::vector<std::string> lines;
  while (std::optional<std::string> line = co_await reader.next_line()) lines.push_back(*line);
  EXPECT_EQ(lines, (std::vector<std::string>{"one\n", "two\n", "three"}));
}

AIO_TEST(StreamReader, CancelledReadLeavesTheStreamUsable) {
  StreamReader reader;
  Task<std::string> waiting = create_task(reader.readline());
  co_await testing::let_other_tasks_run();
  waiting.cancel();
  bool cancelled = false;
  try {
    co_await waiting;
  } catch (const CancelledError&) {
    cancelled = true;
  }
  EXPECT_TRUE(cancelled);
  reader.feed_data("after\n");
  EXPECT_EQ(co_await reader.readline(), "after\n");
}

// --- over real connections ---------------------------------------------------

Coro<void> echo_lines(StreamReader reader, StreamWriter writer) {
  while (std::optional<std::string> line = co_await reader.next_line()) {
    writer.write(*line);
    co_await writer.drain();
  }
  writer.close();
  co_await writer.wait_closed();
}

// asyncio's client_connected_cb may be a plain function; this one spawns the
// task that serves the connection, and the connection stays open for it.
AIO_TEST(Streams, APlainCallbackHandlerMaySpawnATask) {
  const std::size_t descriptors = testing::open_descriptor_count();
  {
    std::vector<Task<void>> spawned;
    Server server = co_await start_server(
        [&spawned](StreamReader reader, StreamWriter writer) {
          spawned.push_back(create_task(invoke(
              [](StreamReader r, StreamWriter w) -> Coro<void> {
                w.write(co_await r.readline());
                co_await w.drain();
                w.close();
                co_await w.wait_closed();
              },
              std::move(reader), std::move(writer))));
        },
        "127.0.0.1", 0);
    auto [reader, writer] = co_await open_connection("127.0.0.1", port_of(server));
    writer.write("plain\n");
    EXPECT_EQ(co_await reader.readline(), "plain\n");
    EXPECT_EQ(spawned.size(), 1u);
    for (Task<void>& task : spawned) co_await task;
    writer.close();
    co_await writer.wait_closed();
    server.close();
    co_await server.wait_closed();
  }
  EXPECT_EQ(testing::open_descriptor_count(), descriptors);
}

AIO_TEST(Streams, EchoServerAndClient) {
  const std::size_t descriptors = testing::open_descriptor_count();
  {
    Server server = co_await start_server(echo_lines, "127.0.0.1", 0);
    auto [reader, writer] = co_await open_connection("127.0.0.1", port_of(server));
    std::string_view lines[] = {"hello\n", "world\n"};
    writer.writelines(lines);
    co_await writer.drain();
    EXPECT_EQ(co_await reader.readline(), "hello\n");
    EXPECT_EQ(co_await reader.readline(), "world\n");
    EXPECT_EQ(std::any_cast<SocketAddress>(writer.get_extra_info("peername")).port(), port_of(server));
    // The typed accessors: no std::any_cast needed.
    std::optional<SocketAddress> peer = writer.peername();
    std::optional<SocketAddress> local = writer.sockname();
    EXPECT_TRUE(peer && peer->port() == port_of(server) && peer->host() == "127.0.0.1");
    EXPECT_TRUE(local && local->host() == "127.0.0.1" && local->port() != port_of(server));
    EXPECT_TRUE(writer.can_write_eof());
    writer.write_eof();  // the server sees EOF, closes its side
    EXPECT_EQ(co_await reader.read(), "");
    EXPECT_TRUE(reader.at_eof());
    writer.close();
    EXPECT_TRUE(writer.is_closing());
    co_await writer.wait_closed();
    server.close();
    co_await server.wait_closed();
  }
  EXPECT_EQ(testing::open_descriptor_count(), descriptors);
}

// The server half-closes first: it sends its answer and EOF, then keeps
// reading what the client still sends.
AIO_TEST(Streams, ServerHalfClosesWhileTheClientKeepsWriting) {
  auto upload = [](StreamReader reader, StreamWriter writer) -> Coro<void> {
    writer.write("ready\n");
    writer.write_eof();
    std::string everything = co_await reader.read();
    EXPECT_EQ(everything, "part 1\npart 2\n");
  };
  Server server = co_await start_server(upload, "127.0.0.1", 0);
  auto [reader, writer] = co_await open_connection("127.0.0.1", port_of(server));
  EXPECT_EQ(co_await reader.readline(), "ready\n");
  EXPECT_EQ(co_await reader.read(), "");  // the server's EOF
  EXPECT_TRUE(reader.at_eof());
  EXPECT_FALSE(writer.is_closing());      // still open for writing
  writer.write("part 1\n");
  co_await writer.drain();
  writer.write("part 2\n");
  writer.close();
  co_await writer.wait_closed();
  server.close();
  co_await server.wait_closed();  // the handler saw everything and ended
}

AIO_TEST(Streams, UnixEcho) {
  char directory[] = "/tmp/aio_streams_XXXXXX";
  EXPECT_NE(::mkdtemp(directory), nullptr);
  std::string path = std::string(directory) + "/echo.sock";
  {
    Server server = co_await start_unix_server(echo_lines, path);
    auto [reader, writer] = co_await open_unix_connection(path);
    writer.write("unix\n");
    EXPECT_EQ(co_await reader.readline(), "unix\n");
    writer.close();
    co_await writer.wait_closed();
  }
  ::unlink(path.c_str());
  ::rmdir(directory);
}

AIO_TEST(Streams, HandlerErrorIsReportedAndClosesItsConnection) {
  std::vector<std::string> reports;
  get_running_loop().set_exception_handler(
      [&](EventLoop&, const ExceptionContext& context) { reports.push_back(context.message); });
  auto failing = [](StreamReader reader, StreamWriter) -> Coro<void> {
    co_await reader.readline();
    throw std::runtime_error("handler failed");
  };
  Server server = co_await start_server(failing, "127.0.0.1", 0);
  auto [reader, writer] = co_await open_connection("127.0.0.1", port_of(server));
  writer.write("boom\n");
  EXPECT_EQ(co_await reader.read(), "");  // the server closed the connection
  EXPECT_EQ(reports, std::vector<std::string>{"Unhandled exception in client_connected_cb"});
  EXPECT_TRUE(server.is_serving());
}

AIO_TEST(Streams, DrainAfterThePeerClosedRaises) {
  Event accepted;
  std::optional<StreamWriter> server_writer;
  auto keep = [&](StreamReader, StreamWriter writer) -> Coro<void> {
    server_writer = writer;
    accepted.set();
    co_return;
  };
  Server server = co_await start_server(keep, "127.0.0.1", 0);
  auto [reader, writer] = co_await open_connection("127.0.0.1", port_of(server));
  co_await accepted.wait();
  // The peer resets the connection (SO_LINGER 0 + close).
  int fd = std::any_cast<int>(server_writer->get_extra_info("socket"));
  linger reset{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
  server_writer->transport()->abort();
  server_writer.reset();
  bool reset_seen = false;
  try {
    co_await reader.read();
  } catch (const std::system_error& error) {
    reset_seen = error.code().value() == ECONNRESET;
  }
  EXPECT_TRUE(reset_seen);
  bool failed = false;
  try {
    // Writes to a reset connection fail; drain reports it.
    for (int i = 0; i < 10; ++i) {
      writer.write(std::string(1024, 'x'));
      co_await writer.drain();
    }
  } catch (const std::system_error& error) {
    failed = error.code().value() == ECONNRESET || error.code().value() == EPIPE;
  }
  EXPECT_TRUE(failed);
}

AIO_TEST(Streams, ReadingPausesAtTwiceTheLimitSoMemoryStaysBounded) {
  constexpr std::size_t kLimit = 1024;
  Event got_connection;
  std::optional<StreamReader> slow_reader;
  std::optional<StreamWriter> slow_writer;
  auto slow = [&](StreamReader reader, StreamWriter writer) -> Coro<void> {
    slow_reader = reader;
    slow_writer = writer;
    got_connection.set();
    co_return;
  };
  StreamOptions stream_options;
  stream_options.limit = kLimit;
  Server server = co_await start_server(slow, "127.0.0.1", 0, ServeOptions(), stream_options);
  auto [reader, writer] = co_await open_connection("127.0.0.1", port_of(server));
  co_await got_connection.wait();
  // The writer writes far more than the reader takes, awaiting drain each time.
  const std::string chunk(16 * 1024, 'x');
  std::size_t written = 0;
  Task<void> producer = create_task([](StreamWriter writer, const std::string& chunk, std::size_t& written) -> Coro<void> {
    for (int i = 0; i < 4096; ++i) {
      writer.write(chunk);
      written += chunk.size();
      co_await writer.drain();
    }
  }(writer, chunk, written));
  // Let the loop poll until the flow stops: each poll moves up to `limit`
  // bytes into the reader (virtual time passes only between polls).
  for (int poll = 0; poll < 1000 && slow_writer->transport()->is_reading(); ++poll) co_await sleep(1ms);
  co_await sleep(10ms);
  // The reader's buffer stays near 2 x limit (plus one read), the writer's
  // below its high-water mark plus a chunk: the rest waits in the kernel.
  EXPECT_LE(slow_reader->buffered(), 3 * kLimit);  // paused past 2 x limit, reads are at most limit
  EXPECT_FALSE(slow_writer->transport()->is_reading());
  EXPECT_LE(writer.transport()->get_write_buffer_size(), 64 * 1024 + chunk.size());
  EXPECT_LT(written, 4096 * chunk.size());
  EXPECT_FALSE(producer.done());
  // Reading it all lets everything through.
  std::size_t total = 0;
  while (total < 4096 * chunk.size()) total += (co_await slow_reader->read(1 << 20)).size();
  co_await producer;
  EXPECT_EQ(total, written);
}

AIO_TEST(Streams, CancellingABlockedReadKeepsTheConnectionUsable) {
  Server server = co_await start_server(echo_lines, "127.0.0.1", 0);
  auto [reader, writer] = co_await open_connection("127.0.0.1", port_of(server));
  bool timed_out = false;
  try {
    co_await wait_for(reader.readline(), 1s);
  } catch (const TimeoutError&) {
    timed_out = true;
  }
  EXPECT_TRUE(timed_out);
  writer.write("still works\n");
  EXPECT_EQ(co_await reader.readline(), "still works\n");
}

AIO_TEST(Streams, CancellingADrainLeavesNothingBehind) {
  const std::size_t descriptors = testing::open_descriptor_count();
  {
    Event got_connection;
    std::optional<StreamWriter> server_writer;
    auto idle = [&](StreamReader, StreamWriter writer) -> Coro<void> {
      server_writer = writer;
      got_connection.set();
      co_return;
    };
    Server server = co_await start_server(idle, "127.0.0.1", 0);
    auto [reader, writer] = co_await open_connection("127.0.0.1", port_of(server));
    co_await got_connection.wait();
    server_writer->transport()->pause_reading();
    const std::string chunk(1 << 20, 'x');
    bool timed_out = false;
    try {
      auto flood = [](StreamWriter writer, const std::string& chunk) -> Coro<void> {
        while (true) {
          writer.write(chunk);
          co_await writer.drain();
        }
      };
      co_await wait_for(flood(writer, chunk), 1s);
    } catch (const TimeoutError&) {
      timed_out = true;
    }
    EXPECT_TRUE(timed_out);
    writer.transport()->abort();
    co_await writer.wait_closed();
    server_writer.reset();
    server.close();
    server.close_clients();
    co_await server.wait_closed();
  }
  EXPECT_EQ(testing::open_descriptor_count(), descriptors);
}

AIO_TEST(Streams, ServeForeverCancelledClosesTheServer) {
  Server server = co_await start_server(echo_lines, "127.0.0.1", 0);
  const std::uint16_t port = port_of(server);
  Task<void> serving = create_task(server.serve_forever());
  co_await testing::let_other_tasks_run();
  serving.cancel();
  bool cancelled = false;
  try {
    co_await serving;
  } catch (const CancelledError&) {
    cancelled = true;
  }
  EXPECT_TRUE(cancelled);
  EXPECT_FALSE(server.is_serving());
  bool refused = false;
  try {
    co_await open_connection("127.0.0.1", port);
  } catch (const std::system_error& error) {
    refused = error.code().value() == ECONNREFUSED;
  }
  EXPECT_TRUE(refused);
}

// The clients run in a child process (plain blocking sockets): the process
// limit on descriptors here is 20,000 and cannot be raised, and 10,000
// connections with both ends in one process would need more. Returns the
// child's exit status: 0 if every connection got its own line back.
int run_echo_clients(std::uint16_t port, int connections) {
  static int fds[20000];
  SocketAddress address = SocketAddress::parse("127.0.0.1", port);
  for (int i = 0; i < connections; ++i) {
    fds[i] = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fds[i] < 0 || ::connect(fds[i], address.data(), address.size()) != 0) return 10;
  }
  // Only stack buffers and system calls: this runs in a forked child.
  auto format = [](char* buffer, int number) {
    char digits[12];
    int length = 0;
    do {
      digits[length++] = static_cast<char>('0' + number % 10);
      number /= 10;
    } while (number > 0);
    int size = 0;
    for (char c : {'p', 'i', 'n', 'g', ' '}) buffer[size++] = c;
    while (length > 0) buffer[size++] = digits[--length];
    buffer[size++] = '\n';
    return size;
  };
  char line[32];
  for (int i = 0; i < connections; ++i) {
    int size = format(line, i);
    if (::write(fds[i], line, size) != size) return 11;
  }
  for (int i = 0; i < connections; ++i) {
    int size = format(line, i);
    char reply[32];
    int got = 0;
    while (got < size) {
      ssize_t n = ::read(fds[i], reply + got, sizeof reply - got);
      if (n <= 0) return 12;
      got += static_cast<int>(n);
    }
    for (int k = 0; k < size; ++k) {
      if (reply[k] != line[k]) return 13;
    }
  }
  for (int i = 0; i < connections; ++i) ::close(fds[i]);
  return 0;
}

AIO_TEST(Streams, TenThousandConcurrentConnections) {
  constexpr int kConnections = 10000;
  const std::size_t descriptors = testing::open_descriptor_count();
  int accepted = 0;
  int finished = 0;
  Event all_finished;
  auto echo_counted = [&](StreamReader reader, StreamWriter writer) -> Coro<void> {
    ++accepted;
    co_await echo_lines(std::move(reader), std::move(writer));
    if (++finished == kConnections) all_finished.set();
  };
  {
    ServeOptions options;
    options.backlog = 1024;
    Server server = co_await start_server(echo_counted, "127.0.0.1", 0, options);
    std::uint16_t port = port_of(server);
    pid_t child = ::fork();
    if (child == 0) ::_exit(run_echo_clients(port, kConnections));
    auto wait_child = [child] {
      int status = 0;
      ::waitpid(child, &status, 0);
      return status;
    };
    int status = co_await to_thread(wait_child);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "client status " << status;
    EXPECT_EQ(accepted, kConnections);
    co_await all_finished.wait();
    server.close();
    co_await server.wait_closed();
  }
  EXPECT_EQ(testing::open_descriptor_count(), descriptors);
}

// aio's errors: feeding a reader after its EOF is an aio::InvalidStateError,
// an empty separator an aio::ValueError, each naming the call.
AIO_TEST(StreamReaderErrors, TheyAreAioErrorsNamingTheCall) {
  StreamReader reader;
  reader.feed_eof();
  std::string feed_message;
  try {
    reader.feed_data("late");
  } catch (const InvalidStateError& error) {
    feed_message = error.what();
  }
  EXPECT_EQ(feed_message, "StreamReader.feed_data: called after feed_eof()");
  std::string separator_message;
  try {
    co_await reader.readuntil("");
  } catch (const ValueError& error) {
    separator_message = error.what();
  }
  EXPECT_EQ(separator_message, "readuntil: the separator should be at least one byte long");
}

}  // namespace
}  // namespace aio
