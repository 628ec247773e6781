// Coro, Task and Future behaviour: asyncio rules 3-5 and 10-18, on the
// virtual-time test loop.
//
// Rule numbers cited here are those of docs/design/asyncio_rules.md.
#include "async/task.h"

#include <algorithm>

#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "async/run.h"
#include "async/sleep.h"
#include "async/testing.h"
#include "gtest/gtest.h"

namespace aio {
namespace {

using namespace std::chrono_literals;

Coro<int> add_one(int value) { co_return value + 1; }

Coro<int> fails(std::string message) {
  co_await sleep(0s);
  throw std::runtime_error(message);
}

AIO_TEST(Coro, AwaitRunsInlineAndReturnsTheValue) {
  int value = co_await add_one(41);
  EXPECT_EQ(value, 42);
}

AIO_TEST(Coro, ExceptionsPropagateToTheAwaiter) {
  EXPECT_THROW(co_await fails("x"), std::runtime_error);
  co_return;
}

AIO_TEST(Coro, AwaitingAnEmptyCoroThrows) {
  Coro<int> coro = add_one(1);
  Coro<int> moved = std::move(coro);
  EXPECT_EQ(co_await std::move(moved), 2);
  bool threw = false;
  try {
    co_await std::move(moved);  // already awaited
  } catch (const InvalidStateError&) {
    threw = true;
  }
  EXPECT_TRUE(threw);
}

Coro<int> count_down(int n) {
  if (n == 0) co_return 0;
  co_return co_await count_down(n - 1) + 1;
}

Coro<int> returns_at_once() { co_return 1; }

// Symmetric transfer: a million synchronously completing awaits in a loop do not
// grow the stack (this test runs at -O0 and under ASan in CI).
AIO_TEST(Coro, AMillionSynchronousAwaitsDoNotOverflowTheStack) {
  long total = 0;
  for (int i = 0; i < 1'000'000; ++i) total += co_await returns_at_once();
  EXPECT_EQ(total, 1'000'000);
  EXPECT_EQ(co_await count_down(1'000), 1'000);  // recursion depth, as Python's limit
}

AIO_TEST(Coro, InvokeKeepsALambdasCapturesAlive) {
  auto shared = std::make_shared<int>(5);
  Task<int> task = create_task(invoke([shared]() -> Coro<int> {
    co_await sleep(1ms);
    co_return *shared * 2;
  }));
  shared.reset();  // only the task's copy of the lambda keeps it now
  EXPECT_EQ(co_await task, 10);
}

// Mirrors test_tasks.py: test_create_task (the first step is scheduled, rule 3).
AIO_TEST_ORDERED(Task, CreateTaskDoesNotRunTheCoroutineSynchronously) {
  std::vector<std::string> order;
  Task<> task = create_task(invoke([&order]() -> Coro<> {
    order.push_back("task");
    co_return;
  }));
  order.push_back("creator");
  co_await sleep(0s);
  order.push_back("after yield");
  EXPECT_EQ(order, (std::vector<std::string>{"creator", "task", "after yield"}));
  EXPECT_TRUE(task.done());
}

AIO_TEST(Task, DefaultNamesCountUpAndNamesCanBeSet) {
  Task<int> a = create_task(add_one(1));
  Task<int> b = create_task(add_one(2), "worker");
  EXPECT_EQ(a.get_name().rfind("Task-", 0), 0u);
  EXPECT_EQ(b.get_name(), "worker");
  b.set_name("renamed");
  EXPECT_EQ(b.get_name(), "renamed");
  Task<int> c = create_task(add_one(3));
  EXPECT_GT(std::stoi(c.get_name().substr(5)), std::stoi(a.get_name().substr(5)));
  co_await a;
  co_await b;
  co_await c;
}

// Mirrors test_futures.py: test_result_with_pending / test_exception (rule 17 area).
AIO_TEST(Task, ResultAndExceptionWhilePendingRaiseInvalidStateError) {
  Task<int> task = create_task(add_one(1));
  EXPECT_THROW(task.result(), InvalidStateError);
  EXPECT_THROW(task.exception(), InvalidStateError);
  EXPECT_EQ(co_await task, 2);
  EXPECT_EQ(task.result(), 2);
  EXPECT_EQ(task.exception(), nullptr);
}

// Many awaiters of one task (test_tasks.py: test_wait_for / gather style sharing).
AIO_TEST(Task, ManyTasksCanAwaitOneTask) {
  Task<int> shared = create_task(invoke([]() -> Coro<int> {
    co_await sleep(5ms);
    co_return 7;
  }));
  std::vector<Task<int>> waiters;
  for (int i = 0; i < 3; ++i) {
    waiters.push_back(create_task(invoke([shared, i]() -> Coro<int> { co_return co_await shared + i; })));
  }
  for (int i = 0; i < 3; ++i) EXPECT_EQ(co_await waiters[i], 7 + i);
}

// Mirrors test_futures.py: test_callbacks_invoked_on_set_result (rule 4).
AIO_TEST(Task, DoneCallbacksAreScheduledNotRunInline) {
  Future<int> future;
  std::vector<std::string> order;
  future.add_done_callback([&](const Future<int>& done) { order.push_back("first " + std::to_string(done.result())); });
  future.add_done_callback([&](const Future<int>&) { order.push_back("second"); });
  future.set_result(3);
  order.push_back("after set_result");
  co_await sleep(0s);
  EXPECT_EQ(order, (std::vector<std::string>{"after set_result", "first 3", "second"}));
  // Added after completion: scheduled at once.
  future.add_done_callback([&](const Future<int>&) { order.push_back("late"); });
  EXPECT_EQ(order.size(), 3u);
  co_await sleep(0s);
  EXPECT_EQ(order.back(), "late");
}

// Mirrors test_tasks.py: test_task_await_on_itself (rule 17).
AIO_TEST(Task, ATaskCannotAwaitItself) {
  auto self = std::make_shared<Task<>>();
  *self = create_task(invoke([self]() -> Coro<> { co_await *self; }));
  bool threw = false;
  try {
    co_await *self;
  } catch (const std::runtime_error& error) {
    threw = std::string(error.what()) == "Task cannot await on itself";
  }
  EXPECT_TRUE(threw);
  *self = Task<>();  // break the cycle
}

AIO_TEST(Task, EagerStartRunsTheFirstStepInsideCreateTask) {
  std::vector<std::string> order;
  TaskOptions eager_and_named;
  eager_and_named.name = "eager";
  eager_and_named.eager_start = true;
  Task<int> finished = create_task(invoke([&order]() -> Coro<int> {
                                     order.push_back("eager body");
                                     co_return 1;
                                   }),
                                   eager_and_named);
  order.push_back("after create_task");
  EXPECT_TRUE(finished.done());  // never suspended: done without the loop
  EXPECT_EQ(finished.result(), 1);
  EXPECT_EQ(finished.get_name(), "eager");
  Task<int> suspends = create_task(invoke([&order]() -> Coro<int> {
                                     order.push_back("second body starts");
                                     co_await sleep(1ms);
                                     co_return 2;
                                   }),
                                   eager_and_named);
  EXPECT_FALSE(suspends.done());
  EXPECT_EQ(co_await suspends, 2);
  EXPECT_EQ(order, (std::vector<std::string>{"eager body", "after create_task", "second body starts"}));
}

TEST(EventLoopRunUntilComplete, RunsATaskOrACoroutineToItsResult) {
  EventLoop loop;
  EXPECT_EQ(loop.run_until_complete(add_one(1)), 2);
  Task<int> task = create_task(loop, add_one(5));
  EXPECT_EQ(loop.run_until_complete(task), 6);
  EXPECT_THROW(loop.run_until_complete(fails("x")), std::runtime_error);
}

// --- cancellation ------------------------------------------------------------

// Mirrors test_tasks.py: test_cancel_with_message_before_starting_task (rule 12).
AIO_TEST(Cancel, CancelledBeforeTheFirstStepTheBodyNeverRuns) {
  bool ran = false;
  Task<> task = create_task(invoke([&ran]() -> Coro<> {
    ran = true;
    co_return;
  }));
  EXPECT_TRUE(task.cancel("early"));
  try {
    co_await task;
    ADD_FAILURE() << "expected CancelledError";
  } catch (const CancelledError& error) {
    EXPECT_EQ(error.message(), "early");
  }
  EXPECT_FALSE(ran);
  EXPECT_TRUE(task.cancelled());
  EXPECT_THROW(task.result(), CancelledError);
  EXPECT_FALSE(task.cancel());  // done: returns false
}

// Mirrors test_tasks.py: test_cancel_yield / test_sleep_cancel (rules 5, 10).
AIO_TEST(Cancel, ASleepingTaskIsCancelledAtItsAwaitAndItsTimerIsRemoved) {
  std::vector<std::string> log;
  Task<> task = create_task(invoke([&log]() -> Coro<> {
    try {
      co_await sleep(1h);
    } catch (const CancelledError& error) {
      log.push_back("caught " + error.message());
      throw;
    }
  }));
  co_await testing::let_other_tasks_run();
  const TimePoint before = get_running_loop().time();
  EXPECT_TRUE(task.cancel("stop"));
  EXPECT_EQ(task.cancelling(), 1);
  EXPECT_THROW(co_await task, CancelledError);
  EXPECT_EQ(log, (std::vector<std::string>{"caught stop"}));
  // The one-hour timer is gone: virtual time did not jump to it.
  EXPECT_LT(get_running_loop().time() - before, 1s);
}

// Mirrors test_tasks.py: test_cancel_inner_future / test_cancel_both_task_and_inner_future (rule 11).
AIO_TEST(Cancel, CancellationIsOnlyARequestTheCoroutineMayCleanUpWithAwaitsAndReturn) {
  Task<int> task = create_task(invoke([]() -> Coro<int> {
    try {
      co_await sleep(1h);
    } catch (const CancelledError&) {
    }
    co_await sleep(10ms);  // clean-up that awaits
    co_return 5;
  }));
  co_await testing::let_other_tasks_run();
  task.cancel();
  EXPECT_EQ(co_await task, 5);
  EXPECT_FALSE(task.cancelled());
}

Coro<> sleep_forever(std::vector<std::string>* log, std::string name) {
  try {
    co_await sleep(1h);
  } catch (const CancelledError& error) {
    log->push_back(name + " cancelled: " + error.message());
    throw;
  }
}

// Mirrors test_tasks.py: test_cancel_task_catching / cascade through awaited tasks (rule 10).
AIO_TEST(Cancel, CancellationCascadesIntoTheAwaitedTask) {
  std::vector<std::string> log;
  Task<> inner = create_task(sleep_forever(&log, "inner"));
  Task<> outer = create_task(invoke([inner]() -> Coro<> { co_await inner; }));
  co_await testing::let_other_tasks_run();
  outer.cancel("why");
  EXPECT_THROW(co_await outer, CancelledError);
  EXPECT_TRUE(inner.cancelled());
  EXPECT_TRUE(outer.cancelled());
  EXPECT_EQ(log, (std::vector<std::string>{"inner cancelled: why"}));
}

// Mirrors test_tasks.py: test_cancel_with_message_then_future_result (rule 16).
AIO_TEST(Cancel, AwaitingACancelledTaskRaisesCancelledErrorWithItsMessage) {
  std::vector<std::string> log;
  Task<> inner = create_task(sleep_forever(&log, "inner"));
  co_await testing::let_other_tasks_run();
  inner.cancel("reason");
  std::string message;
  try {
    co_await inner;
  } catch (const CancelledError& error) {
    message = error.message();
  }
  EXPECT_EQ(message, "reason");
}

// Mirrors test_tasks.py: test_uncancel_basic / test_uncancel_resets_must_cancel (rules 14, 15).
AIO_TEST_ORDERED(Cancel, RepeatedCancelsCountAndUncancelWithdrawsAnUndeliveredOne) {
  int steps = 0;
  Task<> task = create_task(invoke([&steps]() -> Coro<> {
    ++steps;
    co_await sleep(0s);
    ++steps;
    co_await sleep(0s);
    ++steps;
  }));
  co_await sleep(0s);  // the task ran its first step and yields: it is ready, not waiting
  EXPECT_TRUE(task.cancel());
  EXPECT_TRUE(task.cancel());
  EXPECT_EQ(task.cancelling(), 2);
  EXPECT_EQ(task.uncancel(), 1);
  EXPECT_EQ(task.uncancel(), 0);  // at zero the pending cancellation is withdrawn
  EXPECT_EQ(task.uncancel(), 0);
  co_await task;
  EXPECT_EQ(steps, 3);
  EXPECT_FALSE(task.cancelled());
}

// Mirrors test_tasks.py: test_cancel_at_end (rule 13).
AIO_TEST(Cancel, ATaskThatCancelsItselfAndReturnsEndsCancelled) {
  auto self = std::make_shared<Task<int>>();
  *self = create_task(invoke([self]() -> Coro<int> {
    self->cancel("me");
    co_return 1;
  }));
  Task<int> task = *self;
  self.reset();
  EXPECT_THROW(co_await task, CancelledError);
  EXPECT_TRUE(task.cancelled());
}

// asyncio's __step: a cancel requested while the task runs aborts the next wait
// at once instead of after it (test_tasks.py: test_cancel_current_task).
AIO_TEST(Cancel, ASelfCancelAbortsTheNextWaitAtOnce) {
  Task<> task = create_task(invoke([]() -> Coro<> {
    current_task()->cancel("self");
    co_await sleep(1h);
  }));
  const TimePoint start = get_running_loop().time();
  std::string message;
  try {
    co_await task;
  } catch (const CancelledError& error) {
    message = error.message();
  }
  EXPECT_EQ(message, "self");
  EXPECT_LT(get_running_loop().time() - start, 1s);
}

// Rule 16: CancelledError is a BaseException, not an Exception.
AIO_TEST(Cancel, CancelledErrorIsNotAStdException) {
  bool caught_as_std_exception = false;
  bool caught_by_name = false;
  Task<> task = create_task(invoke([&]() -> Coro<> {
    try {
      try {
        co_await sleep(1h);
      } catch (const std::exception&) {
        caught_as_std_exception = true;
      }
    } catch (const CancelledError&) {
      caught_by_name = true;
      throw;
    }
  }));
  co_await testing::let_other_tasks_run();
  task.cancel();
  EXPECT_THROW(co_await task, CancelledError);
  EXPECT_FALSE(caught_as_std_exception);
  EXPECT_TRUE(caught_by_name);
}

AIO_TEST(Cancel, CancellingAFutureWakesItsAwaiters) {
  Future<int> future;
  Task<int> waiter = create_task(invoke([future]() -> Coro<int> { co_return co_await future; }));
  co_await testing::let_other_tasks_run();
  EXPECT_TRUE(future.cancel("gone"));
  EXPECT_FALSE(future.cancel());
  EXPECT_THROW(co_await waiter, CancelledError);
  EXPECT_TRUE(waiter.cancelled());
  EXPECT_THROW(future.set_result(1), InvalidStateError);
}

AIO_TEST(Cancel, CancellingATaskWaitingOnAFutureCancelsTheFuture) {
  Future<int> future;
  Task<int> waiter = create_task(invoke([future]() -> Coro<int> { co_return co_await future; }));
  co_await testing::let_other_tasks_run();
  waiter.cancel();
  EXPECT_THROW(co_await waiter, CancelledError);
  EXPECT_TRUE(future.cancelled());
}

// --- futures -------------------------------------------------------------------

AIO_TEST(Future, SetResultWakesAllAwaiters) {
  Future<std::string> future;
  Task<std::string> a = create_task(invoke([future]() -> Coro<std::string> { co_return co_await future; }));
  Task<std::string> b = create_task(invoke([future]() -> Coro<std::string> { co_return co_await future + "!"; }));
  co_await sleep(0s);
  future.set_result("hi");
  EXPECT_EQ(co_await a, "hi");
  EXPECT_EQ(co_await b, "hi!");
  EXPECT_THROW(future.set_result("again"), InvalidStateError);
}

AIO_TEST(Future, SetExceptionReachesTheAwaiterAndExceptionReturnsIt) {
  Future<int> future;
  EXPECT_THROW(future.result(), InvalidStateError);
  future.set_exception(std::invalid_argument("bad value"));
  EXPECT_THROW(co_await future, std::invalid_argument);
  EXPECT_NE(future.exception(), nullptr);
  EXPECT_THROW(future.set_exception(std::runtime_error("twice")), InvalidStateError);
  EXPECT_THROW(future.set_exception(std::exception_ptr()), InvalidStateError);
}

AIO_TEST(Future, MoveOnlyResultsCanBeTakenOnce) {
  Future<std::unique_ptr<int>> future;
  future.set_result(std::make_unique<int>(4));
  std::unique_ptr<int> value = co_await future;
  EXPECT_EQ(*value, 4);
  EXPECT_THROW(future.result(), InvalidStateError);
}

AIO_TEST(Future, SettledFromAnotherThreadThroughAThreadsafeSetter) {
  Future<int> future;
  ThreadsafeSetter<int> setter = future.threadsafe_setter();
  std::thread thread([setter] { EXPECT_TRUE(setter.set_result(99)); });
  EXPECT_EQ(co_await future, 99);
  thread.join();
}

AIO_TEST(Future, AThreadsafeSetterIgnoresACancelledFutureAndReportsASecondSet) {
  std::vector<std::string> reports;
  get_running_loop().set_exception_handler(
      [&reports](EventLoop&, const ExceptionContext& context) { reports.push_back(context.message); });
  Future<int> cancelled;
  ThreadsafeSetter<int> late = cancelled.threadsafe_setter();
  cancelled.cancel();
  std::thread([late] { late.set_result(1); }).join();
  Future<int> twice;
  ThreadsafeSetter<int> setter = twice.threadsafe_setter();
  std::thread([setter] {
    setter.set_result(1);
    setter.set_exception(std::runtime_error("again"));
  }).join();
  EXPECT_EQ(co_await twice, 1);
  co_await testing::let_other_tasks_run();
  EXPECT_EQ(reports, (std::vector<std::string>{"ThreadsafeSetter: the future is already done"}));
  get_running_loop().set_exception_handler({});
}

// --- ownership and reports -----------------------------------------------------

TEST(TaskOwnership, ATaskWhoseHandlesWereDroppedRunsToCompletion) {
  int finished = 0;
  run(invoke([&finished]() -> Coro<> {
    create_task(invoke([&finished]() -> Coro<> {
      co_await sleep(1ms);
      ++finished;
    }));  // handle dropped at once
    co_await sleep(10ms);
  }));
  EXPECT_EQ(finished, 1);
}

// Mirrors test_tasks.py: test_task_exception_never_retrieved... (rule 67).
TEST(TaskReports, AnUnretrievedExceptionIsReported) {
  std::vector<std::string> reports;
  Runner runner;
  runner.get_loop().set_exception_handler([&](EventLoop&, const ExceptionContext& context) {
    reports.push_back(context.message + " | " + internal::describe_exception(context.exception));
  });
  runner.run(invoke([]() -> Coro<> {
    create_task(fails("lost"), "doomed");
    co_await sleep(10ms);
  }));
  EXPECT_EQ(reports, (std::vector<std::string>{"Task exception was never retrieved | lost"}));
}

TEST(TaskReports, ARetrievedExceptionIsNotReported) {
  std::vector<std::string> reports;
  Runner runner;
  runner.get_loop().set_exception_handler(
      [&](EventLoop&, const ExceptionContext& context) { reports.push_back(context.message); });
  runner.run(invoke([]() -> Coro<> {
    Task<int> task = create_task(fails("seen"));
    EXPECT_THROW(co_await task, std::runtime_error);
  }));
  EXPECT_TRUE(reports.empty());
}

// Mirrors test_tasks.py: test_task_destroyed_pending (rule 68).
TEST(TaskReports, APendingTaskDestroyedWithItsLoopIsReportedAndFreed) {
  std::vector<std::string> reports;
  auto resource = std::make_shared<int>(1);
  {
    EventLoop loop;
    loop.set_exception_handler([&](EventLoop&, const ExceptionContext& context) {
      reports.push_back(context.message + " | " + context.future);
    });
    create_task(loop, invoke([resource]() -> Coro<> { co_await sleep(1h); }), "stuck");
    loop.call_soon([&loop] { loop.stop(); });
    loop.run_forever();
  }
  EXPECT_EQ(reports, (std::vector<std::string>{"Task was destroyed but it is pending! | Task 'stuck'"}));
  EXPECT_EQ(resource.use_count(), 1);  // the coroutine frame was destroyed
}

TEST(Run, ReturnsTheValueAndRethrowsTheException) {
  EXPECT_EQ(run(add_one(1)), 2);
  EXPECT_THROW(run(fails("boom")), std::runtime_error);
}

// Mirrors test_runners.py: test_asyncio_run_cancels_hanging_tasks / _reports_hanging_tasks_errors (rule 70).
TEST(Run, CancelsAndAwaitsLeftoverTasksAndReportsTheirErrors) {
  std::vector<std::string> log;
  Runner runner;
  runner.get_loop().set_exception_handler([&](EventLoop&, const ExceptionContext& context) {
    log.push_back(context.message + " | " + internal::describe_exception(context.exception));
  });
  runner.run(invoke([&log]() -> Coro<> {
    create_task(sleep_forever(&log, "quiet"));
    create_task(invoke([]() -> Coro<> {
      try {
        co_await sleep(1h);
      } catch (const CancelledError&) {
      }
      co_await sleep(1ms);  // clean-up that awaits still runs
      throw std::runtime_error("cleanup failed");
    }));
    co_await sleep(0s);
  }));
  runner.close();
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[0], "quiet cancelled: ");
  EXPECT_EQ(log[1], "unhandled exception during aio::run() shutdown | cleanup failed");
}

// Mirrors test_runners.py: test_asyncio_run_from_running_loop.
TEST(Run, CannotBeCalledFromARunningLoop) {
  bool threw = false;
  run(invoke([&threw]() -> Coro<> {
    try {
      run(add_one(1));
    } catch (const std::runtime_error&) {
      threw = true;
    }
    co_return;
  }));
  EXPECT_TRUE(threw);
}

TEST(Run, AwaitingOutsideATaskIsAClearError) {
  EventLoop loop;
  Future<int> future(loop);
  auto awaiter = future.operator co_await();
  EXPECT_THROW(awaiter.await_suspend(std::noop_coroutine()), std::runtime_error);
}

AIO_TEST(CurrentTask, NamesTheRunningTaskAndAllTasksListsPendingOnes) {
  std::optional<AnyTask> me = current_task();
  EXPECT_TRUE(me.has_value());
  Task<> other = create_task(invoke([]() -> Coro<> { co_await sleep(1s); }), "other");
  std::vector<AnyTask> tasks = all_tasks();
  EXPECT_EQ(tasks.size(), 2u);
  co_await other;
  std::vector<AnyTask> left = all_tasks();
  EXPECT_EQ(left.size(), 1u);
  EXPECT_TRUE(me.has_value() && left.size() == 1 && left[0] == *me);
}

// current_task() has the whole Task interface untyped, and Task<T>::from gives
// the typed handle to a caller that knows the type.
AIO_TEST(CurrentTask, IsAFullHandleAndConvertsToTheTypedOne) {
  Task<int> task = create_task(invoke([]() -> Coro<int> {
    AnyTask me = *current_task();
    me.set_name("worker");
    me.cancel();
    EXPECT_EQ(me.cancelling(), 1);
    EXPECT_EQ(me.uncancel(), 0);  // handled: the task goes on
    co_await sleep(1s);
    co_return 6;
  }));
  co_await testing::let_other_tasks_run();
  EXPECT_EQ(task.get_name(), "worker");
  std::vector<AnyTask> tasks = all_tasks();
  auto found = std::find(tasks.begin(), tasks.end(), AnyTask(task));
  EXPECT_TRUE(found != tasks.end());
  Task<int> typed = Task<int>::from(AnyTask(task));
  EXPECT_TRUE(typed == task);
  EXPECT_THROW(Task<std::string>::from(AnyTask(task)), InvalidStateError);
  EXPECT_EQ(co_await typed, 6);
  EXPECT_EQ(AnyTask(task).exception(), nullptr);
}

TEST(CurrentTask, IsEmptyOutsideATask) { EXPECT_FALSE(current_task().has_value()); }

}  // namespace
}  // namespace aio
