// Awaiting Boost.Asio operations with aio::use_aio, on the loop's io_context.
// Real time (Asio's clock does not follow the virtual-time loop); the waits are
// short and bounded, and nothing waits for something to happen by sleeping.
#include "async/asio.h"

#include <fcntl.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <thread>

#include "async/run.h"
#include "async/sleep.h"
#include "async/task.h"
#include "gtest/gtest.h"

namespace aio {
namespace {

using namespace std::chrono_literals;

TEST(Asio, AwaitsATimerOnTheLoopsIoContext) {
  auto elapsed = run(invoke([]() -> Coro<Duration> {
    const TimePoint start = get_running_loop().time();
    boost::asio::steady_timer timer(asio_context(), 20ms);
    co_await timer.async_wait(use_aio);
    co_return get_running_loop().time() - start;
  }));
  EXPECT_GE(elapsed, 19ms);
}

TEST(Asio, AnErrorCodeIsThrownAsSystemError) {
  bool threw = false;
  run(invoke([&threw]() -> Coro<> {
    boost::asio::steady_timer timer(asio_context(), 1h);
    get_running_loop().call_soon([&timer] { timer.cancel(); });
    try {
      co_await timer.async_wait(use_aio);
    } catch (const boost::system::system_error& error) {
      threw = error.code() == boost::asio::error::operation_aborted;
    }
  }));
  EXPECT_TRUE(threw);
}

TEST(Asio, CancellingTheTaskCancelsTheOperation) {
  std::string message;
  Duration waited{};
  run(invoke([&]() -> Coro<> {
    const TimePoint start = get_running_loop().time();
    Task<> waiter = create_task(invoke([]() -> Coro<> {
      boost::asio::steady_timer timer(asio_context(), 1h);
      co_await timer.async_wait(use_aio);
    }));
    co_await sleep(1ms);
    waiter.cancel("stop waiting");
    try {
      co_await waiter;
    } catch (const CancelledError& error) {
      message = error.message();
    }
    waited = get_running_loop().time() - start;
  }));
  EXPECT_EQ(message, "stop waiting");
  EXPECT_LT(waited, 10s);  // not the hour: the timer was cancelled
}

TEST(Asio, ReturnsTheValueAfterTheErrorCode) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
  std::size_t received = run(invoke([&fds]() -> Coro<std::size_t> {
    boost::asio::posix::stream_descriptor reader(asio_context(), fds[0]);
    get_running_loop().call_soon([&fds] { EXPECT_EQ(::write(fds[1], "hello", 5), 5); });
    char buffer[16];
    co_return co_await reader.async_read_some(boost::asio::buffer(buffer), use_aio);
  }));
  EXPECT_EQ(received, 5u);
  ::close(fds[1]);  // fds[0] belonged to the stream_descriptor
}

TEST(Asio, AioTimersAndReadersKeepWorkingWhileTheLoopWaitsInAsio) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
  bool reader_ran = false;
  run(invoke([&]() -> Coro<> {
    EventLoop& loop = get_running_loop();
    boost::asio::steady_timer long_timer(asio_context(), 1h);  // keeps Asio busy
    long_timer.async_wait([](const boost::system::error_code&) {});
    Future<> readable;
    loop.add_reader(fds[0], [&, readable]() mutable {
      char byte;
      EXPECT_EQ(::read(fds[0], &byte, 1), 1);
      reader_ran = true;
      loop.remove_reader(fds[0]);
      readable.set_result();
    });
    co_await sleep(5ms);  // an aio timer fires while the loop waits in Asio
    EXPECT_EQ(::write(fds[1], "x", 1), 1);
    co_await readable;  // and epoll readiness reaches the loop too
    long_timer.cancel();
  }));
  EXPECT_TRUE(reader_ran);
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST(Asio, AHandlerCompletingOnAnotherThreadIsHandedToTheLoop) {
  boost::asio::io_context other;
  auto guard = boost::asio::make_work_guard(other);
  std::thread other_thread([&other] { other.run(); });
  std::thread::id resumed_on;
  run(invoke([&]() -> Coro<> {
    co_await boost::asio::post(other.get_executor(), use_aio);  // completes on other_thread
    resumed_on = std::this_thread::get_id();
  }));
  guard.reset();
  other_thread.join();
  EXPECT_EQ(resumed_on, std::this_thread::get_id());
}

TEST(Asio, AwaitingOutsideATaskIsAClearError) {
  EventLoop loop;
  boost::asio::steady_timer timer(asio_context(loop), 1ms);
  auto awaiter = timer.async_wait(use_aio);
  EXPECT_THROW(awaiter.await_suspend(std::noop_coroutine()), std::runtime_error);
}

}  // namespace
}  // namespace aio
