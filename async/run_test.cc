// aio::run and aio::Runner: asyncio's test_runners.py (Ctrl-C handling).
#include "async/run.h"

#include <signal.h>

#include <cerrno>
#include <string>
#include <system_error>
#include <thread>

#include "async/sleep.h"
#include "async/task.h"
#include "gtest/gtest.h"

namespace aio {
namespace {

using namespace std::chrono_literals;

// raise() delivers SIGINT to this thread before it returns, so the loop finds
// the signal in its pipe at the next poll: no timing involved.
Coro<int> interrupted_while_sleeping() {
  ::raise(SIGINT);
  co_await sleep(1h);  // cancelled by the first SIGINT
  co_return 1;
}

TEST(RunSigint, TheFirstCtrlCCancelsTheMainTaskAndRunThrowsKeyboardInterrupt) {
  EXPECT_THROW(run(interrupted_while_sleeping()), KeyboardInterrupt);
  struct sigaction after {};
  ::sigaction(SIGINT, nullptr, &after);
  EXPECT_EQ(after.sa_handler, SIG_DFL);  // restored
}

TEST(RunSigint, AMainTaskThatHandlesTheCancellationReturnsNormally) {
  int value = run(invoke([]() -> Coro<int> {
    ::raise(SIGINT);
    try {
      co_await sleep(1h);
    } catch (const CancelledError&) {
      current_task()->uncancel();  // handled: the task goes on
    }
    co_return 7;
  }));
  EXPECT_EQ(value, 7);
}

TEST(RunSigint, ASecondCtrlCEndsTheProcessAtOnce) {
  EXPECT_EXIT(
      {
        run(invoke([]() -> Coro<> {
          ::raise(SIGINT);
          try {
            co_await sleep(1h);  // the first one cancels this sleep
          } catch (const CancelledError&) {
          }
          ::raise(SIGINT);  // the second one kills the process
          co_await sleep(1h);
        }));
      },
      ::testing::KilledBySignal(SIGINT), "");
}

TEST(RunSigint, ASecondCtrlCEndsTheProcessEvenWhenTheLoopIsStuck) {
  EXPECT_EXIT(
      {
        run(invoke([]() -> Coro<> {
          ::raise(SIGINT);  // the loop never gets to read this one...
          ::raise(SIGINT);  // ...so this one takes the default action
          for (;;) {
          }
          co_return;
        }));
      },
      ::testing::KilledBySignal(SIGINT), "");
}

TEST(RunSigint, AProgramsOwnSigintHandlerIsLeftAlone) {
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  struct sigaction previous {};
  ::sigaction(SIGINT, &ignore, &previous);
  int value = run(invoke([]() -> Coro<int> {
    ::raise(SIGINT);  // ignored
    co_await sleep(10ms);
    co_return 3;
  }));
  EXPECT_EQ(value, 3);
  struct sigaction after {};
  ::sigaction(SIGINT, nullptr, &after);
  EXPECT_EQ(after.sa_handler, SIG_IGN);
  ::sigaction(SIGINT, &previous, nullptr);
}

TEST(RunSigint, NotInstalledOffTheMainThread) {
  std::thread thread([] {
    EXPECT_EQ(run(invoke([]() -> Coro<int> {
                struct sigaction current {};
                ::sigaction(SIGINT, nullptr, &current);
                co_return current.sa_handler == SIG_DFL ? 1 : 0;
              })),
              1);
  });
  thread.join();
}

TEST(SignalHandlers, CallbacksRunOnTheLoopAndRemoveRestores) {
  EventLoop loop;
  int received = 0;
  loop.add_signal_handler(SIGUSR1, [&] {
    ++received;
    loop.stop();
  });
  loop.call_soon([] { ::raise(SIGUSR1); });
  loop.run_forever();
  EXPECT_EQ(received, 1);
  EXPECT_TRUE(loop.remove_signal_handler(SIGUSR1));
  EXPECT_FALSE(loop.remove_signal_handler(SIGUSR1));
  struct sigaction after {};
  ::sigaction(SIGUSR1, nullptr, &after);
  EXPECT_EQ(after.sa_handler, SIG_DFL);
}

TEST(SignalHandlers, BadSignalsAndASecondLoopAreClearErrors) {
  EventLoop loop;
  EXPECT_THROW(loop.add_signal_handler(SIGKILL, [] {}), ValueError);
  EXPECT_THROW(loop.add_signal_handler(0, [] {}), ValueError);
  EXPECT_THROW(loop.add_signal_handler(100000, [] {}), ValueError);
  loop.add_signal_handler(SIGUSR2, [] {});
  EventLoop other;
  EXPECT_THROW(other.add_signal_handler(SIGUSR2, [] {}), RuntimeError);
  loop.close();  // removes its handlers
  other.add_signal_handler(SIGUSR2, [] {});
  EXPECT_TRUE(other.remove_signal_handler(SIGUSR2));
}

TEST(SignalHandlers, AnExceptionInTheCallbackGoesToTheHandler) {
  EventLoop loop;
  std::string reported;
  loop.set_exception_handler([&](EventLoop&, const ExceptionContext& context) {
    reported = context.message;
    loop.stop();
  });
  loop.add_signal_handler(SIGUSR1, [] { throw std::runtime_error("bad"); });
  loop.call_soon([] { ::raise(SIGUSR1); });
  loop.run_forever();
  EXPECT_EQ(reported, "Exception in signal handler for signal " + std::to_string(SIGUSR1));
  loop.close();
}

TEST(Runner, KeepsOneLoopAcrossRunsAndRefusesWorkAfterClose) {
  Runner runner;
  EventLoop* loop = &runner.get_loop();
  EXPECT_EQ(runner.run(invoke([loop]() -> Coro<int> { co_return &get_running_loop() == loop ? 1 : 0; })), 1);
  EXPECT_EQ(runner.run(invoke([loop]() -> Coro<int> { co_return &get_running_loop() == loop ? 2 : 0; })), 2);
  runner.close();
  runner.close();  // idempotent
  EXPECT_THROW(runner.get_loop(), std::runtime_error);
  EXPECT_THROW(runner.run(invoke([]() -> Coro<> { co_return; })), std::runtime_error);
}

// run_main: what `python3 prog.py` gives a script, never std::terminate.
// Ordered: shuffle mode would print its seed into the captured stderr.
RunOptions ordered() {
  RunOptions options;
  options.ordered = true;
  return options;
}

TEST(RunMain, ReturnsTheStatusAndPrintsAnUncaughtErrorAsPythonsLastTracebackLine) {
  EXPECT_EQ(run_main(invoke([]() -> Coro<void> { co_return; }), ordered()), 0);
  EXPECT_EQ(run_main(invoke([]() -> Coro<int> { co_return 3; }), ordered()), 3);
  EXPECT_EQ(run_main(invoke([]() -> Coro<std::string> { co_return "ignored"; }), ordered()), 0);

  ::testing::internal::CaptureStderr();
  EXPECT_EQ(run_main(invoke([]() -> Coro<void> {
              co_await sleep(0s);
              throw ValueError("bad value");
            }), ordered()),
            1);
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "aio::ValueError: bad value\n");

  ::testing::internal::CaptureStderr();
  EXPECT_EQ(run_main(invoke([]() -> Coro<void> {
              throw std::system_error(ECONNREFUSED, std::system_category(), "connect to 127.0.0.1:9");
              co_return;
            }), ordered()),
            1);
  EXPECT_EQ(::testing::internal::GetCapturedStderr(),
            "std::system_error: connect to 127.0.0.1:9: Connection refused\n");

  ::testing::internal::CaptureStderr();
  EXPECT_EQ(run_main(invoke([]() -> Coro<void> {
              current_task()->cancel("stopping");
              co_await sleep(0s);
            }), ordered()),
            1);
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "aio::CancelledError: stopping\n");

  ::testing::internal::CaptureStderr();
  EXPECT_EQ(run_main(invoke([]() -> Coro<void> {
              throw 42;
              co_return;
            }), ordered()),
            1);
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "int\n");
}

// Ctrl-C in the README's own example: exit status 130, no SIGABRT.
TEST(RunMain, CtrlCExitsWith130) {
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(run_main(interrupted_while_sleeping(), ordered()), 130);
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "KeyboardInterrupt\n");
}

}  // namespace
}  // namespace aio
