// The sample in async/asio.h's header comment, compiled and run: a timer and a
// read on a Unix socket pair, awaited through Boost.Asio.
// //tools/build_checks:header_samples_test checks the copy against the header.
#include <boost/asio/buffer.hpp>
#include <boost/asio/local/connect_pair.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <cstddef>

#include "async/asio.h"
#include "async/coro.h"
#include "async/run.h"
#include "gtest/gtest.h"

namespace {

using namespace std::chrono_literals;
using boost::asio::local::stream_protocol;

// [async/asio.h]
aio::Coro<std::size_t> wait_then_read(stream_protocol::socket& socket, boost::asio::mutable_buffer buffer) {
  boost::asio::steady_timer timer(aio::asio_context(), 50ms);
  co_await timer.async_wait(aio::use_aio);
  std::size_t n = co_await socket.async_read_some(buffer, aio::use_aio);
  co_return n;
}
// [end]

TEST(AsioSample, TimerThenRead) {
  std::size_t n = aio::run(aio::invoke([]() -> aio::Coro<std::size_t> {
    stream_protocol::socket socket(aio::asio_context()), peer(aio::asio_context());
    boost::asio::local::connect_pair(socket, peer);
    boost::asio::write(peer, boost::asio::buffer("hi", 2));
    char bytes[8];
    co_return co_await wait_then_read(socket, boost::asio::buffer(bytes));
  }));
  EXPECT_EQ(n, 2u);
}

}  // namespace
