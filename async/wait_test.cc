// wait and as_completed: asyncio rules 36-37 (test_tasks.py: test_wait_*,
// test_as_completed_*), on virtual time.
//
// Rule numbers cited here are those of docs/design/asyncio_rules.md.
#include "async/wait.h"

#include <stdexcept>
#include <string>
#include <vector>

#include "async/sleep.h"
#include "async/task.h"
#include "async/testing.h"
#include "gtest/gtest.h"

namespace aio {
namespace {

using namespace std::chrono_literals;
using testing::fail_after;
using testing::value_after;

std::vector<Task<int>> start(std::vector<Duration> delays) {
  std::vector<Task<int>> tasks;
  for (std::size_t i = 0; i < delays.size(); ++i) tasks.push_back(create_task(value_after(delays[i], static_cast<int>(i))));
  return tasks;
}

AIO_TEST(Wait, AllCompletedWaitsForEveryTask) {
  // Built before the co_await: GCC 12 cannot compile a braced list inside one.
  std::vector<Task<int>> tasks = start({1s, 3s, 2s});
  auto result = co_await wait(tasks);
  EXPECT_EQ(result.done.size(), 3u);
  EXPECT_TRUE(result.pending.empty());
}

AIO_TEST(Wait, FirstCompletedReturnsAfterOne) {
  const TimePoint begin = get_running_loop().time();
  std::vector<Task<int>> tasks = start({3s, 1s, 2s});
  auto result = co_await wait(tasks, FIRST_COMPLETED);
  EXPECT_EQ(get_running_loop().time() - begin, 1s);
  EXPECT_EQ(result.done.size(), 1u);
  EXPECT_TRUE(!result.done.empty() && result.done[0].result() == 1);
  EXPECT_EQ(result.pending.size(), 2u);
  for (Task<int>& task : result.pending) EXPECT_FALSE(task.cancelled());  // never cancels
  for (Task<int>& task : result.pending) co_await task;
}

AIO_TEST(Wait, FirstExceptionReturnsAtTheFirstFailureAndIsAllCompletedOtherwise) {
  std::vector<Task<int>> tasks = start({5s});
  tasks.push_back(create_task(fail_after(1s)));
  auto result = co_await wait(tasks, FIRST_EXCEPTION);
  EXPECT_EQ(result.done.size(), 1u);
  EXPECT_THROW(result.done[0].result(), std::runtime_error);
  co_await result.pending[0];
  std::vector<Task<int>> quiet = start({1s, 2s});
  auto all = co_await wait(quiet, FIRST_EXCEPTION);
  EXPECT_EQ(all.done.size(), 2u);
}

// test_wait_with_timeout: no TimeoutError, nothing cancelled.
AIO_TEST(Wait, ATimeoutReturnsWhatIsDoneAndRaisesNothing) {
  std::vector<Task<int>> tasks = start({1s, 10s});
  auto result = co_await wait(tasks, ALL_COMPLETED, 2s);
  EXPECT_EQ(result.done.size(), 1u);
  EXPECT_EQ(result.pending.size(), 1u);
  EXPECT_FALSE(result.pending[0].cancelled());
  co_await result.pending[0];
}

AIO_TEST(Wait, AnEmptySetIsAValueError) {
  EXPECT_THROW(co_await wait(std::vector<Task<int>>{}), ValueError);
}

AIO_TEST(AsCompleted, YieldsInCompletionOrder) {
  std::vector<Task<int>> tasks = start({3s, 1s, 2s});
  AsCompleted<int> completed(tasks);
  std::vector<int> order;
  while (std::optional<Task<int>> next = co_await completed.next()) order.push_back(next->result());
  EXPECT_EQ(order, (std::vector<int>{1, 2, 0}));
  EXPECT_EQ(completed.remaining(), 0u);
}

// test_as_completed_with_timeout: TimeoutError once the deadline passes.
AIO_TEST(AsCompleted, RaisesTimeoutErrorAtTheDeadline) {
  std::vector<Task<int>> tasks = start({1s, 10s});
  AsCompleted<int> completed(tasks, 5s);
  std::optional<Task<int>> first = co_await completed.next();
  EXPECT_TRUE(first && first->result() == 0);
  EXPECT_THROW(co_await completed.next(), TimeoutError);
  EXPECT_EQ(completed.remaining(), 1u);
  co_await tasks[1];  // not cancelled
}

// The plain form: `for aw in as_completed(aws): result = await aw`; the
// item that passes the deadline raises TimeoutError.
AIO_TEST(AsCompleted, ThePlainFormGivesResultsInCompletionOrder) {
  std::vector<Task<int>> tasks = start({3s, 1s, 2s, 10s});
  std::vector<int> order;
  bool timed_out = false;
  for (Coro<int> next : as_completed(tasks, 5s)) {
    try {
      order.push_back(co_await std::move(next));
    } catch (const TimeoutError&) {
      timed_out = true;
    }
  }
  EXPECT_EQ(order, (std::vector<int>{1, 2, 0}));
  EXPECT_TRUE(timed_out);
  co_await tasks[3];
}

// The async-iteration form under the name as_completed, from coroutines.
AIO_TEST(AsCompleted, TheAsyncFormYieldsTasks) {
  std::vector<Coro<int>> coros;
  coros.push_back(invoke([]() -> Coro<int> {
    co_await sleep(2s);
    co_return 2;
  }));
  coros.push_back(invoke([]() -> Coro<int> {
    co_await sleep(1s);
    co_return 1;
  }));
  AsCompletion<int> completion = as_completed(std::move(coros));
  std::vector<int> order;
  while (std::optional<Task<int>> task = co_await completion.next()) order.push_back(task->result());
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
  EXPECT_EQ(completion.remaining(), 0u);
}

}  // namespace
}  // namespace aio
