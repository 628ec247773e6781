// timeout() / timeout_at(): asyncio rules 25-28 (test_timeouts.py), on virtual time.
#include "async/timeouts.h"

#include <string>
#include <vector>

#include "async/sleep.h"
#include "async/task.h"
#include "async/testing.h"
#include "gtest/gtest.h"

namespace aio {
namespace {

using namespace std::chrono_literals;

Coro<int> slow_value(Duration delay, int value) {
  co_await sleep(delay);
  co_return value;
}

AIO_TEST(Timeout, ReturnsTheValueWhenTheBodyFinishesInTime) {
  EXPECT_EQ(co_await timeout(10s, slow_value(1s, 7)), 7);
  // The scope left nothing behind: the task is not cancelled and can sleep on.
  EXPECT_EQ(current_task()->cancelling(), 0);
  co_await sleep(20s);
}

// Mirrors test_timeouts.py: test_timeout_basic (rule 25).
AIO_TEST(Timeout, ExpiryRaisesTimeoutErrorOutsideTheScopeAtTheDeadline) {
  EventLoop& loop = get_running_loop();
  const TimePoint start = loop.time();
  bool timed_out = false;
  bool body_saw_cancel = false;
  try {
    co_await timeout(2s, invoke([&]() -> Coro<> {
      try {
        co_await sleep(1h);
      } catch (const CancelledError&) {
        body_saw_cancel = true;  // inside, it is a cancellation
        throw;
      }
    }));
  } catch (const TimeoutError&) {
    timed_out = true;
  }
  EXPECT_TRUE(timed_out);
  EXPECT_TRUE(body_saw_cancel);
  EXPECT_EQ(loop.time() - start, 2s);
  EXPECT_EQ(current_task()->cancelling(), 0);  // a caught timeout leaves the task usable
  co_await sleep(1s);
}

// Mirrors test_timeouts.py: test_timeout_zero / test_timeout_in_the_past_sleep (rule 28).
AIO_TEST(Timeout, ZeroOrPastDeadlineExpiresOnTheNextIteration) {
  EXPECT_THROW(co_await timeout(0s, slow_value(1ms, 1)), TimeoutError);
  EventLoop& loop = get_running_loop();
  EXPECT_THROW(co_await timeout_at(loop.time() - 1s, slow_value(1ms, 1)), TimeoutError);
}

AIO_TEST(Timeout, ABodyThatFinishesWithoutSuspendingIsNotCancelled) {
  EXPECT_EQ(co_await timeout(0s, invoke([]() -> Coro<int> { co_return 3; })), 3);
}

AIO_TEST(Timeout, ErrorsFromTheBodyPassThrough) {
  EXPECT_THROW(co_await timeout(1s, invoke([]() -> Coro<> {
                 co_await sleep(1ms);
                 throw std::invalid_argument("bad");
               })),
               std::invalid_argument);
}

// Mirrors test_timeouts.py: test_cancel_in_timeout_after_cancellation (rule 26).
AIO_TEST(Timeout, AnOutsideCancelStaysACancelAndDoesNotExpire) {
  Task<std::string> task = create_task(invoke([]() -> Coro<std::string> {
    try {
      co_await timeout(10s, slow_value(1h, 0));
      co_return "finished";
    } catch (const TimeoutError&) {
      co_return "timeout";
    }
  }));
  co_await sleep(1s);
  task.cancel("outside");
  bool cancelled = false;
  try {
    co_await task;
  } catch (const CancelledError&) {
    cancelled = true;
  }
  EXPECT_TRUE(cancelled);
}

AIO_TEST_ORDERED(Timeout, AnOutsideCancelInTheSameIterationAsTheExpiryWins) {
  // The timeout fires and the task is cancelled from outside before it runs
  // again: cancelling() stays above its entry value, so CancelledError.
  Task<std::string> task = create_task(invoke([]() -> Coro<std::string> {
    try {
      co_await timeout(5s, slow_value(1h, 0));
      co_return "finished";
    } catch (const TimeoutError&) {
      co_return "timeout";
    }
  }));
  // Both deadlines are t=5s. In that iteration the timer phase fires this
  // task's sleep (set first), then the timeout, which queues the child's
  // wake-up behind this task's: this task runs first and cancels the child
  // before it sees the expiry.
  co_await sleep(5s);
  EXPECT_EQ(task.cancelling(), 1);  // the timeout's request is already in
  task.cancel();
  bool cancelled = false;
  try {
    co_await task;
  } catch (const CancelledError&) {
    cancelled = true;
  }
  EXPECT_TRUE(cancelled);
}

// Mirrors test_timeouts.py: test_nested_timeouts (rule 27).
AIO_TEST(Timeout, NestedTimeoutsExpiringTogetherRaiseInTheOutermostOnly) {
  std::vector<std::string> log;
  try {
    co_await timeout(1s, invoke([&log]() -> Coro<> {
      try {
        co_await timeout(1s, slow_value(1h, 0));
      } catch (const TimeoutError&) {
        log.push_back("inner timeout");
      } catch (const CancelledError&) {
        log.push_back("inner cancel");
        throw;
      }
    }));
  } catch (const TimeoutError&) {
    log.push_back("outer timeout");
  }
  EXPECT_EQ(log, (std::vector<std::string>{"inner cancel", "outer timeout"}));
}

AIO_TEST(Timeout, TheInnerOfNestedTimeoutsExpiresFirst) {
  std::vector<std::string> log;
  co_await timeout(10s, invoke([&log]() -> Coro<> {
    try {
      co_await timeout(1s, slow_value(1h, 0));
    } catch (const TimeoutError&) {
      log.push_back("inner timeout");
    }
    co_await sleep(1s);  // the outer scope is still active and not expired
    log.push_back("outer still running");
  }));
  EXPECT_EQ(log, (std::vector<std::string>{"inner timeout", "outer still running"}));
}

// Mirrors test_timeouts.py: test_timeout_exception_cause / swallowed cancel.
AIO_TEST(Timeout, ABodyThatSwallowsTheCancelReturnsItsValue) {
  int value = co_await timeout(1s, invoke([]() -> Coro<int> {
    try {
      co_await sleep(1h);
    } catch (const CancelledError&) {
    }
    co_return 9;
  }));
  EXPECT_EQ(value, 9);
  EXPECT_EQ(current_task()->cancelling(), 0);
}

TEST(TimeoutErrors, OutsideATaskIsAClearError) {
  EXPECT_THROW((void)timeout(1s, slow_value(1s, 1)), std::runtime_error);  // no running loop
}

}  // namespace
}  // namespace aio
