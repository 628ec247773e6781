// gather and shield: asyncio rules 32-35 (test_tasks.py's gather and shield
// tests), on virtual time.
//
// Rule numbers cited here are those of docs/design/asyncio_rules.md.
#include "async/gather.h"

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "async/sleep.h"
#include "async/task.h"
#include "async/testing.h"
#include "async/timeouts.h"
#include "gtest/gtest.h"

namespace aio {
namespace {

using namespace std::chrono_literals;
using testing::fail_after;
using testing::value_after;

Coro<std::string> text_after(Duration delay, std::string text) {
  co_await sleep(delay);
  co_return text;
}

// test_gather_result_order: results in argument order, whatever the finishing order.
AIO_TEST(Gather, ResultsComeInArgumentOrderAsATuple) {
  auto [a, b, c] = co_await gather(value_after(3s, 1), text_after(1s, "two"), value_after(2s, 3));
  EXPECT_EQ(a, 1);
  EXPECT_EQ(b, "two");
  EXPECT_EQ(c, 3);
}

AIO_TEST(Gather, AVectorOfCoroutinesGivesAVectorOfResults) {
  std::vector<Coro<int>> work;
  for (int i = 0; i < 5; ++i) work.push_back(value_after((5 - i) * 1s, i));
  std::vector<int> results = co_await gather(std::move(work));
  EXPECT_EQ(results, (std::vector<int>{0, 1, 2, 3, 4}));
  std::vector<int> none = co_await gather(std::vector<Coro<int>>{});
  EXPECT_TRUE(none.empty());
}

// asyncio wraps the arguments in tasks from left to right, so they start in
// that order (C++ evaluates function arguments in no fixed order).
AIO_TEST_ORDERED(Gather, ChildrenStartInArgumentOrder) {
  std::vector<int> started;
  auto child = [&started](int id) -> Coro<int> {
    started.push_back(id);
    co_return id;
  };
  co_await gather(child(1), child(2), child(3));
  EXPECT_EQ(started, (std::vector<int>{1, 2, 3}));
}

// Rule 32: an awaitable passed twice runs once and its result appears twice.
AIO_TEST(Gather, ATaskPassedTwiceRunsOnce) {
  int runs = 0;
  Task<int> task = create_task(invoke([&runs]() -> Coro<int> {
    ++runs;
    co_await sleep(1s);
    co_return 7;
  }));
  auto [a, b] = co_await gather(task, task);
  EXPECT_EQ(a + b, 14);
  EXPECT_EQ(runs, 1);
}

// Rule 33: the first error propagates at once and the others run on.
AIO_TEST(Gather, TheFirstErrorPropagatesAtOnceAndTheOthersAreNotCancelled) {
  Task<int> slow = create_task(value_after(10s, 5));
  const TimePoint start = get_running_loop().time();
  bool threw = false;
  try {
    co_await gather(fail_after(1s, "first"), slow);
  } catch (const std::runtime_error& error) {
    threw = std::string(error.what()) == "first";
  }
  EXPECT_TRUE(threw);
  EXPECT_EQ(get_running_loop().time() - start, 1s);
  EXPECT_FALSE(slow.done());
  EXPECT_EQ(co_await slow, 5);  // not cancelled
}

// A later error of a sibling is not reported as never retrieved (the test loop
// would fail this test if it were).
AIO_TEST(Gather, LaterSiblingErrorsAreMarkedRetrieved) {
  try {
    co_await gather(fail_after(1s, "first"), fail_after(2s, "second"));
  } catch (const std::runtime_error&) {
  }
  co_await sleep(5s);
}

// Rule 33, return_exceptions: every outcome comes back, the gather ends last.
AIO_TEST(Gather, ReturnExceptionsCollectsValuesAndErrors) {
  Task<int> cancelled = create_task(value_after(1h, 0));
  get_running_loop().call_later(1s, [cancelled]() mutable { cancelled.cancel(); });
  auto [ok, failed, was_cancelled] =
      co_await gather(return_exceptions, value_after(2s, 1), fail_after(1s, "bad"), cancelled);
  EXPECT_TRUE(ok.has_value());
  EXPECT_EQ(ok.value(), 1);
  EXPECT_FALSE(failed.has_value());
  EXPECT_THROW(failed.value(), std::runtime_error);
  EXPECT_THROW(std::rethrow_exception(was_cancelled.exception()), CancelledError);
}

// Rule 34: cancelling the awaiting task cancels every child, and the gather
// raises CancelledError once they are done.
AIO_TEST(Gather, CancellingTheAwaiterCancelsTheChildren) {
  Task<int> a = create_task(value_after(1h, 1));
  Task<int> b = create_task(value_after(1h, 2));
  Task<> awaiter = create_task(invoke([a, b]() -> Coro<> { co_await gather(a, b); }));
  co_await testing::let_other_tasks_run();
  awaiter.cancel("stop");
  EXPECT_THROW(co_await awaiter, CancelledError);
  EXPECT_TRUE(a.cancelled());
  EXPECT_TRUE(b.cancelled());
}

// Rule 34: a child cancelled on its own makes the gather raise CancelledError,
// but the awaiting task is not itself cancelled.
AIO_TEST(Gather, AChildCancelledOnItsOwnRaisesCancelledErrorInTheAwaiter) {
  Task<int> child = create_task(value_after(1h, 1));
  get_running_loop().call_later(1s, [child]() mutable { child.cancel(); });
  bool cancelled = false;
  try {
    co_await gather(child, value_after(2s, 2));
  } catch (const CancelledError&) {
    cancelled = true;
  }
  EXPECT_TRUE(cancelled);
  EXPECT_EQ(current_task()->cancelling(), 0);
}

// gather() returns asyncio's _GatheringFuture: awaitable, and a future.
AIO_TEST(GatheringFuture, IsAFutureOfTheResults) {
  auto gathering = gather(value_after(1s, 1), value_after(2s, 2));
  EXPECT_FALSE(gathering.done());
  EXPECT_THROW(gathering.result(), InvalidStateError);
  int callbacks = 0;
  gathering.add_done_callback([&callbacks](const auto& done) { callbacks += done.done() ? 1 : 100; });
  auto [a, b] = co_await gathering;
  EXPECT_EQ(a + b, 3);
  EXPECT_TRUE(gathering.done());
  EXPECT_FALSE(gathering.cancelled());
  EXPECT_EQ(gathering.exception(), nullptr);
  EXPECT_EQ(std::get<1>(gathering.result()), 2);
  EXPECT_FALSE(gathering.cancel());  // done: nothing to cancel
  co_await sleep(0s);
  EXPECT_EQ(callbacks, 1);
}

// test_gather's cancellation cases: a child cancelled on its own ends the gather
// with a CancelledError exception, and cancelled() stays false.
AIO_TEST(GatheringFuture, AChildCancelledIsACancelledErrorExceptionNotACancelledGather) {
  Task<int> child = create_task(value_after(5s, 1));
  auto gathering = gather(child, value_after(1s, 2));
  co_await sleep(0s);
  child.cancel();
  EXPECT_THROW(co_await gathering, CancelledError);
  EXPECT_TRUE(gathering.done());
  EXPECT_FALSE(gathering.cancelled());
  EXPECT_TRUE(internal::is_cancelled_error(gathering.exception()));
}

// cancel() on the gather cancels the children that are not done.
AIO_TEST(GatheringFuture, CancelCancelsTheChildren) {
  Task<int> slow = create_task(value_after(5s, 1));
  Task<int> quick = create_task(value_after(1s, 2));
  auto gathering = gather(std::vector<Task<int>>{slow, quick});
  co_await sleep(2s);  // quick is done
  EXPECT_TRUE(gathering.cancel("stop"));
  EXPECT_THROW(co_await gathering, CancelledError);
  EXPECT_TRUE(slow.cancelled());
  EXPECT_FALSE(quick.cancelled());
  EXPECT_FALSE(gathering.cancelled());
  EXPECT_FALSE(gathering.cancel());
}

// A gather wherever an awaitable goes: inside a gather, wait_for, shield, a task.
AIO_TEST(GatheringFuture, GoesWhereAnAwaitableGoes) {
  auto [pair, last] = co_await gather(gather(value_after(1s, 1), value_after(1s, 2)), value_after(2s, 3));
  EXPECT_EQ(std::get<0>(pair) + std::get<1>(pair) + last, 6);
  EXPECT_THROW(co_await wait_for(gather(value_after(5s, 1)), 1s), TimeoutError);
  std::vector<int> shielded = co_await shield(gather(std::vector<Coro<int>>{}));
  EXPECT_TRUE(shielded.empty());
}

AIO_TEST(Gather, VoidResultsAreMonostate) {
  auto [first, second] = co_await gather(sleep(1s, 1), invoke([]() -> Coro<> { co_return; }));
  EXPECT_EQ(first, 1);
  (void)second;
}

// Rule 35: cancelling the awaiter of a shielded task leaves the task running.
AIO_TEST(Shield, CancellingTheAwaiterLeavesTheTaskRunning) {
  Task<int> inner = create_task(value_after(10s, 9));
  Task<int> awaiter = create_task(invoke([inner]() -> Coro<int> { co_return co_await shield(inner); }));
  co_await testing::let_other_tasks_run();
  awaiter.cancel();
  EXPECT_THROW(co_await awaiter, CancelledError);
  EXPECT_FALSE(inner.done());
  EXPECT_EQ(co_await inner, 9);
}

AIO_TEST(Shield, ACancelledInnerCancelsTheOuterAndResultsPassThrough) {
  Task<int> inner = create_task(value_after(10s, 9));
  get_running_loop().call_later(1s, [inner]() mutable { inner.cancel(); });
  EXPECT_THROW(co_await shield(inner), CancelledError);
  EXPECT_EQ(co_await shield(value_after(1s, 4)), 4);
  EXPECT_THROW(co_await shield(fail_after(1s, "inner failed")), std::runtime_error);
  Task<int> done = create_task(value_after(0s, 3));
  co_await testing::let_other_tasks_run();
  EXPECT_EQ(co_await shield(done), 3);  // already done: returned as is
}

}  // namespace
}  // namespace aio
