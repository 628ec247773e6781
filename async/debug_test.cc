// Debug mode (asyncio-dev.rst, rules 65-69) and the shuffle mode.
//
// Rule numbers cited here are those of docs/design/asyncio_rules.md.
#include <algorithm>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "async/run.h"
#include "async/sleep.h"
#include "async/task.h"
#include "gtest/gtest.h"

namespace aio {
namespace {

using namespace std::chrono_literals;

TEST(DebugMode, SlowCallbacksAndTaskStepsAreReported) {
  EventLoop loop(EventLoop::Options{.debug = true});
  loop.set_slow_callback_duration(Duration::zero());  // every step counts as slow
  loop.call_soon([] {});
  create_task(loop, invoke([]() -> Coro<> { co_return; }), "stepper");
  loop.call_soon([&loop] { loop.stop(); });
  ::testing::internal::CaptureStderr();
  loop.run_forever();
  std::string output = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(output.find("aio: Executing <Handle> took 0.0"), std::string::npos) << output;
  EXPECT_NE(output.find("aio: Executing <Task 'stepper'> took"), std::string::npos) << output;
}

TEST(DebugMode, NothingIsTimedOutsideDebugMode) {
  EventLoop loop(EventLoop::Options{.debug = false});
  loop.set_debug(false);  // in case AIO_DEBUG is set in the environment
  loop.set_slow_callback_duration(Duration::zero());
  loop.call_soon([&loop] { loop.stop(); });
  ::testing::internal::CaptureStderr();
  loop.run_forever();
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
}

TEST(DebugMode, TurnedOnByTheEnvironment) {
  ::setenv("AIO_DEBUG", "1", 1);
  EventLoop on;
  ::setenv("AIO_DEBUG", "0", 1);
  EventLoop off;
  ::unsetenv("AIO_DEBUG");
  EXPECT_TRUE(on.get_debug());
  EXPECT_FALSE(off.get_debug());
}

[[gnu::noinline]] Coro<int> forgotten_coroutine() { co_return 1; }

std::vector<std::string> run_collecting_reports(bool debug, Coro<> body) {
  std::vector<std::string> reports;
  Runner runner(RunOptions{.debug = debug});
  runner.get_loop().set_exception_handler(
      [&reports](EventLoop&, const ExceptionContext& context) { reports.push_back(context.message); });
  runner.run(std::move(body));
  return reports;
}

TEST(NeverAwaited, ACoroutineDroppedWithoutRunningIsReported) {
  std::vector<std::string> reports = run_collecting_reports(false, invoke([]() -> Coro<> {
    { Coro<int> dropped = forgotten_coroutine(); }
    co_return;
  }));
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0], "coroutine was never awaited");
}

TEST(NeverAwaited, DebugModeSaysWhereItWasCreated) {
  std::vector<std::string> reports = run_collecting_reports(true, invoke([]() -> Coro<> {
    { Coro<int> dropped = forgotten_coroutine(); }
    co_return;
  }));
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_NE(reports[0].find("Coroutine created at"), std::string::npos) << reports[0];
  // The code that created it (the coroutine function itself may be inlined).
  EXPECT_NE(reports[0].find("DebugModeSaysWhereItWasCreated"), std::string::npos) << reports[0];
}

TEST(NeverAwaited, AwaitedTaskedAndDiscardedCoroutinesAreNotReported) {
  std::vector<std::string> reports = run_collecting_reports(true, invoke([]() -> Coro<> {
    co_await forgotten_coroutine();
    co_await create_task(forgotten_coroutine());
    Coro<int> unwanted = forgotten_coroutine();
    unwanted.discard();
    co_return;
  }));
  EXPECT_TRUE(reports.empty());
}

TEST(NeverAwaited, CreateTaskOnAClosedLoopClosesTheCoroutineQuietly) {
  EventLoop loop;
  loop.close();
  ::testing::internal::CaptureStderr();
  EXPECT_THROW(create_task(loop, forgotten_coroutine()), std::runtime_error);
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
}

// Each task records its number at its first step; returns the order they ran in.
std::vector<int> first_step_order(std::optional<std::uint64_t> seed) {
  std::vector<int> order;
  EventLoop loop(EventLoop::Options{.shuffle_seed = seed});
  for (int i = 0; i < 16; ++i) {
    create_task(loop, invoke([&order, i]() -> Coro<> {
      order.push_back(i);
      co_return;
    }));
  }
  loop.call_soon([&loop] { loop.stop(); });  // in the same batch as the first steps
  ::testing::internal::CaptureStderr();
  loop.run_forever();
  ::testing::internal::GetCapturedStderr();
  return order;
}

TEST(ShuffleMode, ReordersTaskStepsReproduciblyBySeed) {
  ::unsetenv("AIO_SHUFFLE");
  std::vector<int> in_order(16);
  for (int i = 0; i < 16; ++i) in_order[i] = i;
  EXPECT_EQ(first_step_order(std::nullopt), in_order);
  std::vector<int> shuffled = first_step_order(7);
  EXPECT_NE(shuffled, in_order);  // the seed is fixed, so this cannot flake
  EXPECT_EQ(first_step_order(7), shuffled);
  std::vector<int> sorted = shuffled;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, in_order);  // every task ran exactly once
}

TEST(ShuffleMode, CallbacksKeepTheirFifoOrderAndTheSeedIsPrinted) {
  std::vector<int> order;
  EventLoop loop(EventLoop::Options{.shuffle_seed = 3});
  for (int i = 0; i < 16; ++i) loop.call_soon([&order, i] { order.push_back(i); });
  loop.call_soon([&loop] { loop.stop(); });
  loop.run_forever();
  for (int i = 0; i < 16; ++i) EXPECT_EQ(order[i], i);
  ::testing::internal::CaptureStderr();
  EventLoop printed(EventLoop::Options{.shuffle_seed = 12345});
  EXPECT_NE(::testing::internal::GetCapturedStderr().find("seed 12345 (AIO_SHUFFLE=12345"), std::string::npos);
}

TEST(ShuffleMode, TurnedOnByTheEnvironment) {
  ::setenv("AIO_SHUFFLE", "99", 1);
  ::testing::internal::CaptureStderr();
  { EventLoop loop; }
  std::string output = ::testing::internal::GetCapturedStderr();
  ::unsetenv("AIO_SHUFFLE");
  EXPECT_NE(output.find("seed 99"), std::string::npos) << output;
}

}  // namespace
}  // namespace aio
