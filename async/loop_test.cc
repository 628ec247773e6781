// EventLoop behaviour: asyncio rules 1-9.
//
// Rule numbers cited here are those of docs/design/asyncio_rules.md.
#include "async/loop.h"
#include "async/internal/exceptions.h"
#include "async/internal/loop_access.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace aio {
namespace {

using namespace std::chrono_literals;

// Mirrors test_base_events.py: test_call_soon (rule 1).
TEST(EventLoop, CallSoonRunsInFifoOrderOnce) {
  EventLoop loop;
  std::vector<int> order;
  for (int i = 0; i < 5; ++i) loop.call_soon([&order, i] { order.push_back(i); });
  loop.call_soon([&loop] { loop.stop(); });
  loop.run_forever();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));
}

// Mirrors test_base_events.py: test__run_once (rule 1: a batch is what was ready).
TEST(EventLoop, CallbackScheduledDuringABatchRunsInTheNextIteration) {
  EventLoop loop;
  std::vector<std::string> order;
  loop.call_soon([&] {
    order.push_back("a");
    loop.call_soon([&] { order.push_back("c"); });
  });
  loop.call_soon([&] {
    order.push_back("b");
    loop.stop();  // stops after this batch: "c" is in the next one
  });
  loop.run_forever();
  EXPECT_EQ(order, (std::vector<std::string>{"a", "b"}));
  loop.call_soon([&loop] { loop.stop(); });
  loop.run_forever();
  EXPECT_EQ(order, (std::vector<std::string>{"a", "b", "c"}));
}

// Mirrors test_base_events.py: test_run_once / stop before run_forever (rule 6).
TEST(EventLoop, StopBeforeRunForeverRunsOneIteration) {
  EventLoop loop;
  int ran = 0;
  loop.call_soon([&] {
    ++ran;
    loop.call_soon([&] { ++ran; });
  });
  loop.stop();
  loop.run_forever();
  EXPECT_EQ(ran, 1);
}

// Mirrors test_base_events.py: test_call_later / test__run_once_schedule_handle (rule 2).
TEST(EventLoop, TimersFireInDeadlineOrderOnVirtualTime) {
  EventLoop loop(EventLoop::Options{.virtual_time = true});
  std::vector<int> order;
  const TimePoint start = loop.time();
  loop.call_later(30ms, [&] { order.push_back(3); });
  loop.call_later(10ms, [&] { order.push_back(1); });
  loop.call_at(start + 20ms, [&] { order.push_back(2); });
  loop.call_later(-5ms, [&] { order.push_back(0); });  // past deadline: next iteration
  loop.call_later(40ms, [&] { loop.stop(); });
  loop.run_forever();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(loop.time() - start, 40ms);
}

TEST(EventLoop, TimersWithEqualDeadlinesFireInSchedulingOrder) {
  EventLoop loop(EventLoop::Options{.virtual_time = true});
  std::vector<int> order;
  for (int i = 0; i < 4; ++i) loop.call_later(5ms, [&order, i] { order.push_back(i); });
  loop.call_later(6ms, [&] { loop.stop(); });
  loop.run_forever();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3}));
}

TEST(EventLoop, RealTimeTimerWaitsAtLeastItsDelay) {
  EventLoop loop;
  const TimePoint start = loop.time();
  TimePoint fired{};
  loop.call_later(20ms, [&] {
    fired = loop.time();
    loop.stop();
  });
  loop.run_forever();
  EXPECT_GE(fired - start, 19ms);  // up to one clock resolution early (rule 2)
}

TEST(EventLoop, CancelledHandlesDoNotRun) {
  EventLoop loop(EventLoop::Options{.virtual_time = true});
  int ran = 0;
  Handle soon = loop.call_soon([&] { ++ran; });
  TimerHandle later = loop.call_later(1s, [&] { ++ran; });
  EXPECT_EQ(later.when() - loop.time(), 1s);
  soon.cancel();
  later.cancel();
  later.cancel();  // idempotent
  EXPECT_TRUE(soon.cancelled());
  EXPECT_TRUE(later.cancelled());
  loop.call_later(2s, [&] { loop.stop(); });
  loop.run_forever();
  EXPECT_EQ(ran, 0);
}

// Mirrors test_base_events.py: test_default_exc_handler_callback (rule 9).
TEST(EventLoop, AnExceptionInACallbackGoesToTheHandlerAndTheLoopGoesOn) {
  EventLoop loop;
  std::vector<std::string> reports;
  loop.set_exception_handler([&](EventLoop&, const ExceptionContext& context) {
    reports.push_back(context.message + ": " + internal::describe_exception(context.exception));
    EXPECT_TRUE(context.handle.has_value());
  });
  bool after = false;
  loop.call_soon([] { throw std::runtime_error("boom"); });
  loop.call_soon([&] {
    after = true;
    loop.stop();
  });
  loop.run_forever();
  EXPECT_TRUE(after);
  EXPECT_EQ(reports, (std::vector<std::string>{"Exception in callback: boom"}));
}

TEST(EventLoop, AFailingExceptionHandlerFallsBackToTheDefault) {
  EventLoop loop;
  loop.set_exception_handler([](EventLoop&, const ExceptionContext&) { throw std::logic_error("handler bug"); });
  loop.call_soon([] { throw std::runtime_error("boom"); });
  loop.call_soon([&] { loop.stop(); });
  testing::internal::CaptureStderr();
  loop.run_forever();
  std::string output = testing::internal::GetCapturedStderr();
  EXPECT_NE(output.find("Unhandled error in exception handler"), std::string::npos) << output;
  EXPECT_NE(output.find("Exception in callback"), std::string::npos) << output;
}

// Mirrors test_base_events.py: test_close / test_run_forever_closed (rule 7).
TEST(EventLoop, ClosedLoopRefusesWork) {
  EventLoop loop;
  loop.close();
  loop.close();  // idempotent
  EXPECT_TRUE(loop.is_closed());
  EXPECT_THROW(loop.call_soon([] {}), std::runtime_error);
  EXPECT_THROW(loop.call_later(1s, [] {}), std::runtime_error);
  EXPECT_THROW(loop.call_soon_threadsafe([] {}), std::runtime_error);
  EXPECT_THROW(loop.run_forever(), std::runtime_error);
  EXPECT_THROW(loop.add_reader(0, [] {}), std::runtime_error);
}

TEST(EventLoop, CloseWhileRunningAndNestedRunAreErrors) {
  EventLoop loop;
  EventLoop other;
  loop.call_soon([&] {
    EXPECT_TRUE(loop.is_running());
    EXPECT_EQ(&get_running_loop(), &loop);
    EXPECT_THROW(loop.close(), std::runtime_error);
    EXPECT_THROW(loop.run_forever(), std::runtime_error);
    EXPECT_THROW(other.run_forever(), std::runtime_error);
    loop.stop();
  });
  loop.run_forever();
  EXPECT_FALSE(loop.is_running());
  EXPECT_THROW(get_running_loop(), std::runtime_error);
}

// Mirrors test_events.py: test_call_soon_threadsafe (rule 8).
TEST(EventLoop, CallSoonThreadsafeWakesTheLoopFromAnotherThread) {
  EventLoop loop;
  std::thread::id ran_on;
  std::thread thread([&] {
    loop.call_soon_threadsafe([&] {
      ran_on = std::this_thread::get_id();
      loop.stop();
    });
  });
  loop.run_forever();  // blocks in epoll until the other thread's wake-up
  thread.join();
  EXPECT_EQ(ran_on, std::this_thread::get_id());
}

TEST(EventLoop, ReaderAndWriterCallbacksFollowReadiness) {
  EventLoop loop;
  int pipe_fds[2];
  ASSERT_EQ(pipe2(pipe_fds, O_NONBLOCK | O_CLOEXEC), 0);
  std::string received;
  loop.add_writer(pipe_fds[1], [&] {
    ASSERT_EQ(::write(pipe_fds[1], "hi", 2), 2);
    EXPECT_TRUE(loop.remove_writer(pipe_fds[1]));
  });
  loop.add_reader(pipe_fds[0], [&] {
    char buffer[16];
    ssize_t n = ::read(pipe_fds[0], buffer, sizeof buffer);
    ASSERT_GT(n, 0);
    received.append(buffer, static_cast<std::size_t>(n));
    EXPECT_TRUE(loop.remove_reader(pipe_fds[0]));
    loop.stop();
  });
  loop.run_forever();
  EXPECT_EQ(received, "hi");
  EXPECT_FALSE(loop.remove_reader(pipe_fds[0]));
  EXPECT_FALSE(loop.remove_writer(pipe_fds[1]));
  ::close(pipe_fds[0]);
  ::close(pipe_fds[1]);
}

TEST(EventLoop, AddReaderOnABadDescriptorThrowsSystemError) {
  EventLoop loop;
  try {
    loop.add_reader(987654, [] {});
    FAIL() << "expected std::system_error";
  } catch (const std::system_error& error) {
    EXPECT_EQ(error.code().value(), EBADF);
    EXPECT_NE(std::string(error.what()).find("987654"), std::string::npos);
  }
}

}  // namespace
}  // namespace aio

namespace aio {
namespace {

// Two descriptors ready in the same poll; whichever watcher runs first
// unwatches and frees the other. The other must not be called (ASan would
// report the use after free).
TEST(EventLoop, AWatcherUnwatchedDuringThePollIsNotCalled) {
  struct PipeWatcher final : internal::IoWatcher {
    void on_io(std::uint32_t) override {
      ++*calls;
      *survivor = this;
      internal::LoopAccess::unwatch_io(*loop, other->fds[0]);
      delete other;
      other = nullptr;
      loop->stop();
    }
    ~PipeWatcher() {
      ::close(fds[0]);
      ::close(fds[1]);
    }
    EventLoop* loop = nullptr;
    PipeWatcher* other = nullptr;
    int* calls = nullptr;
    PipeWatcher** survivor = nullptr;
    int fds[2] = {-1, -1};
  };
  EventLoop loop;
  int calls = 0;
  PipeWatcher* survivor = nullptr;
  auto* first = new PipeWatcher;
  auto* second = new PipeWatcher;
  for (PipeWatcher* watcher : {first, second}) {
    ASSERT_EQ(::pipe(watcher->fds), 0);
    watcher->loop = &loop;
    watcher->calls = &calls;
    watcher->survivor = &survivor;
    ASSERT_EQ(::write(watcher->fds[1], "x", 1), 1);
  }
  first->other = second;
  second->other = first;
  internal::LoopAccess::watch_io(loop, first->fds[0], first, EPOLLIN, false);
  internal::LoopAccess::watch_io(loop, second->fds[0], second, EPOLLIN, false);
  loop.run_forever();
  EXPECT_EQ(calls, 1);
  ASSERT_NE(survivor, nullptr);  // whichever ran; it deleted the other
  internal::LoopAccess::unwatch_io(loop, survivor->fds[0]);
  delete survivor;
}

}  // namespace
}  // namespace aio
