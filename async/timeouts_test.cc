// timeout() / timeout_at(): asyncio rules 25-28 (test_timeouts.py), on virtual time.
//
// Rule numbers cited here are those of docs/design/asyncio_rules.md.
#include "async/timeouts.h"

#include <string>
#include <vector>

#include "async/gather.h"
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

// asyncio.Timeout: when(), reschedule(), expired() (test_timeouts.py:
// test_timeout_reschedule, test_timeout_expired).
AIO_TEST(TimeoutObject, RescheduleMovesTheDeadline) {
  EventLoop& loop = get_running_loop();
  const TimePoint start = loop.time();
  int value = co_await timeout(1s, [&](Timeout& scope) -> Coro<int> {
    EXPECT_EQ(*scope.when(), start + 1s);
    scope.reschedule(loop.time() + 5s);
    co_await sleep(3s);  // past the first deadline, before the new one
    EXPECT_FALSE(scope.expired());
    scope.reschedule(std::nullopt);  // no deadline at all
    co_await sleep(1h);
    co_return 1;
  });
  EXPECT_EQ(value, 1);
}

AIO_TEST(TimeoutObject, ExpiredIsTrueOnceTheDeadlinePassedAndRescheduleThenThrows) {
  bool expired_inside = false;
  bool reschedule_refused = false;
  try {
    co_await timeout(1s, [&](Timeout& scope) -> Coro<> {
      std::exception_ptr cancelled;
      try {
        co_await sleep(1h);
      } catch (const CancelledError&) {
        cancelled = std::current_exception();
      }
      expired_inside = scope.expired();
      try {
        scope.reschedule(get_running_loop().time() + 1h);
      } catch (const std::runtime_error&) {
        reschedule_refused = true;
      }
      std::rethrow_exception(cancelled);
    });
  } catch (const TimeoutError&) {
  }
  EXPECT_TRUE(expired_inside);
  EXPECT_TRUE(reschedule_refused);
}

AIO_TEST(TimeoutObject, NoDeadlineNeverExpires) {
  int value = co_await timeout(std::nullopt, slow_value(10h, 4));
  EXPECT_EQ(value, 4);
}

// wait_for (test_waitfor.py).
AIO_TEST(WaitFor, ReturnsTheValueInTime) {
  EXPECT_EQ(co_await wait_for(slow_value(1s, 3), 2s), 3);
  EXPECT_EQ(co_await wait_for(slow_value(1s, 3), std::nullopt), 3);  // waits forever
}

// test_wait_for_timeout_less_then_0_or_0_coroutine_do_not_started (rule 29).
AIO_TEST(WaitFor, ZeroTimeoutNeverStartsACoroutine) {
  bool started = false;
  EXPECT_THROW(co_await wait_for(invoke([&started]() -> Coro<int> {
                 started = true;
                 co_return 1;
               }),
                                 0s),
               TimeoutError);
  EXPECT_FALSE(started);
}

// test_wait_for_timeout_less_then_0_or_0_future_done / _cancelled (rule 29).
AIO_TEST(WaitFor, ZeroTimeoutOnATask) {
  Task<int> done = create_task(slow_value(0s, 8));
  co_await testing::let_other_tasks_run();
  EXPECT_EQ(co_await wait_for(done, 0s), 8);
  Task<int> running = create_task(slow_value(1h, 8));
  EXPECT_THROW(co_await wait_for(running, -1s), TimeoutError);
  EXPECT_TRUE(running.cancelled());
}

// test_wait_for_waits_for_task_cancellation (rule 30): it waits for the clean-up.
AIO_TEST(WaitFor, WaitsForTheInnerCancellationToFinish) {
  EventLoop& loop = get_running_loop();
  const TimePoint start = loop.time();
  bool cleaned_up = false;
  Task<int> inner = create_task(invoke([&cleaned_up]() -> Coro<int> {
    std::exception_ptr cancelled;
    try {
      co_await sleep(1h);
    } catch (const CancelledError&) {
      cancelled = std::current_exception();
    }
    co_await sleep(5s);  // slow clean-up
    cleaned_up = true;
    std::rethrow_exception(cancelled);
  }));
  EXPECT_THROW(co_await wait_for(inner, 1s), TimeoutError);
  EXPECT_TRUE(cleaned_up);
  EXPECT_EQ(loop.time() - start, 6s);  // longer than the timeout
}

// test_wait_for_race_condition / swallowed cancellation (rule 30, 3.12+).
AIO_TEST(WaitFor, AValueReturnedBySwallowingTheCancellationIsReturned) {
  int value = co_await wait_for(invoke([]() -> Coro<int> {
    try {
      co_await sleep(1h);
    } catch (const CancelledError&) {
    }
    co_return 42;
  }),
                                1s);
  EXPECT_EQ(value, 42);
}

// Rule 30: an exception raised during the clean-up propagates instead.
AIO_TEST(WaitFor, AnErrorDuringCleanupPropagatesInsteadOfTimeoutError) {
  EXPECT_THROW(co_await wait_for(invoke([]() -> Coro<int> {
                 try {
                   co_await sleep(1h);
                 } catch (const CancelledError&) {
                 }
                 throw std::logic_error("cleanup failed");
               }),
                                 1s),
               std::logic_error);
}

// test_wait_for_cancellation_race_condition (rule 31): cancelling wait_for
// cancels the inner awaitable.
AIO_TEST(WaitFor, CancellingWaitForCancelsTheInner) {
  Task<int> inner = create_task(slow_value(1h, 1));
  Task<int> outer = create_task(invoke([inner]() -> Coro<int> { co_return co_await wait_for(inner, 10h); }));
  co_await testing::let_other_tasks_run();
  outer.cancel();
  EXPECT_THROW(co_await outer, CancelledError);
  EXPECT_TRUE(inner.cancelled());
}

// Rule 31: with shield, wait_for times out while the inner task runs on.
AIO_TEST(WaitFor, AShieldedInnerKeepsRunningAfterTheTimeout) {
  Task<int> inner = create_task(slow_value(5s, 6));
  EXPECT_THROW(co_await wait_for(shield(inner), 1s), TimeoutError);
  EXPECT_FALSE(inner.done());
  EXPECT_EQ(co_await inner, 6);
}

TEST(TimeoutErrors, OutsideATaskIsAClearError) {
  EXPECT_THROW((void)timeout(1s, slow_value(1s, 1)), std::runtime_error);  // no running loop
}

// asyncio keeps the Timeout object: cm.when() and cm.expired() after the scope.
AIO_TEST(Timeout, ItsViewOutlivesTheScope) {
  std::optional<TimeoutView> view;
  const TimePoint start = get_running_loop().time();
  co_await timeout(5s, [&](Timeout& scope) -> Coro<void> {
    view = scope.view();
    co_await sleep(1s);
  });
  EXPECT_FALSE(view->expired());
  EXPECT_EQ(view->when(), start + 5s);
  try {
    co_await timeout(2s, [&](Timeout& scope) -> Coro<void> {
      view = scope.view();
      scope.reschedule(get_running_loop().time() + 3s);
      co_await sleep(1h);
    });
    ADD_FAILURE() << "no TimeoutError";
  } catch (const TimeoutError&) {
  }
  EXPECT_TRUE(view->expired());
  EXPECT_EQ(view->when(), start + 1s + 3s);
}

}  // namespace
}  // namespace aio
