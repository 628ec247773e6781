// Queue, LifoQueue, PriorityQueue: asyncio rules 47-51 (test_queues.py).
//
// Rule numbers cited here are those of docs/design/asyncio_rules.md.
#include "sync/queue.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "async/sleep.h"
#include "async/task.h"
#include "async/timeouts.h"
#include "async/testing.h"
#include "gtest/gtest.h"

namespace aio {
namespace {

using namespace std::chrono_literals;

AIO_TEST(Queue, NowaitOperationsAndSizes) {
  Queue<int> queue(2);
  EXPECT_TRUE(queue.empty());
  EXPECT_EQ(queue.maxsize(), 2u);
  queue.put_nowait(1);
  queue.put_nowait(2);
  EXPECT_TRUE(queue.full());
  EXPECT_EQ(queue.qsize(), 2u);
  EXPECT_THROW(queue.put_nowait(3), QueueFull);
  EXPECT_EQ(queue.get_nowait(), 1);
  EXPECT_EQ(co_await queue.get(), 2);
  EXPECT_THROW(queue.get_nowait(), QueueEmpty);
}

AIO_TEST(Queue, MaxsizeZeroOrNegativeIsUnbounded) {
  Queue<int> zero(0);
  Queue<int> negative(-3);
  for (int i = 0; i < 1000; ++i) {
    zero.put_nowait(i);
    negative.put_nowait(i);
  }
  EXPECT_FALSE(zero.full());
  EXPECT_FALSE(negative.full());
  co_return;
}

AIO_TEST_ORDERED(Queue, BlockedGettersAreWokenInFifoOrder) {
  Queue<int> queue;
  std::vector<std::string> got;
  std::vector<Task<>> getters;
  for (std::string name : {"a", "b", "c"}) {
    getters.push_back(create_task(invoke([&queue, &got, name]() -> Coro<> {
      int item = co_await queue.get();
      got.push_back(name + std::to_string(item));
    })));
  }
  co_await sleep(0s);
  for (int i = 1; i <= 3; ++i) queue.put_nowait(i);
  for (Task<>& getter : getters) co_await getter;
  EXPECT_EQ(got, (std::vector<std::string>{"a1", "b2", "c3"}));
}

AIO_TEST_ORDERED(Queue, PutBlocksWhileFullAndPuttersAreWokenInOrder) {
  Queue<int> queue(1);
  co_await queue.put(0);
  std::vector<Task<>> putters;
  for (int i = 1; i <= 3; ++i) putters.push_back(create_task(queue.put(i)));
  co_await sleep(0s);
  EXPECT_EQ(queue.qsize(), 1u);
  std::vector<int> got;
  for (int i = 0; i < 4; ++i) got.push_back(co_await queue.get());
  EXPECT_EQ(got, (std::vector<int>{0, 1, 2, 3}));
  for (Task<>& putter : putters) EXPECT_TRUE(putter.done());
}

AIO_TEST(Queue, ACancelledGetNeverLosesAnItem) {
  Queue<int> queue;
  Task<int> first = create_task(queue.get());
  Task<int> second = create_task(queue.get());
  co_await sleep(0s);
  queue.put_nowait(42);  // wakes `first`...
  first.cancel();        // ...which is cancelled before it runs
  EXPECT_THROW(co_await first, CancelledError);
  EXPECT_EQ(co_await second, 42);  // the wake-up was handed on
}

// asyncio's `while self.empty(): await getter`: a woken getter whose item was
// taken first (get_nowait by another task) waits again instead of failing.
AIO_TEST_ORDERED(Queue, AWokenGetterWhoseItemWasTakenWaitsAgain) {
  Queue<int> queue;
  Task<int> getter = create_task(queue.get());
  co_await testing::let_other_tasks_run();
  queue.put_nowait(1);                 // wakes the getter...
  EXPECT_EQ(queue.get_nowait(), 1);    // ...but this task takes the item first
  co_await testing::let_other_tasks_run();
  EXPECT_FALSE(getter.done());         // it went back to waiting
  queue.put_nowait(2);
  EXPECT_EQ(co_await getter, 2);
}

AIO_TEST_ORDERED(Queue, AWokenPutterWhoseRoomWasTakenWaitsAgain) {
  Queue<int> queue(1);
  queue.put_nowait(1);
  Task<> putter = create_task(queue.put(2));
  co_await testing::let_other_tasks_run();
  EXPECT_EQ(queue.get_nowait(), 1);  // room: wakes the putter...
  queue.put_nowait(3);               // ...but this task fills it first
  co_await testing::let_other_tasks_run();
  EXPECT_FALSE(putter.done());
  EXPECT_EQ(queue.get_nowait(), 3);
  co_await putter;
  EXPECT_EQ(queue.get_nowait(), 2);
}

AIO_TEST(Queue, ACancelledPutDoesNotAddItsItem) {
  Queue<int> queue(1);
  queue.put_nowait(1);
  Task<> putter = create_task(queue.put(2));
  co_await sleep(0s);
  putter.cancel();
  EXPECT_THROW(co_await putter, CancelledError);
  EXPECT_EQ(queue.get_nowait(), 1);
  EXPECT_TRUE(queue.empty());
}

AIO_TEST(Queue, TaskDoneAndJoin) {
  Queue<int> queue;
  co_await queue.join();  // nothing unfinished: returns at once
  queue.put_nowait(1);
  queue.put_nowait(2);
  bool joined = false;
  Task<> joiner = create_task(invoke([&]() -> Coro<> {
    co_await queue.join();
    joined = true;
  }));
  (void)queue.get_nowait();
  queue.task_done();
  co_await sleep(1s);
  EXPECT_FALSE(joined);
  (void)queue.get_nowait();
  queue.task_done();
  co_await joiner;
  EXPECT_TRUE(joined);
  EXPECT_THROW(queue.task_done(), ValueError);
}

AIO_TEST(Queue, ShutdownLetsGettersDrainThenRaises) {
  Queue<int> queue(1);
  queue.put_nowait(1);
  Task<> blocked_putter = create_task(queue.put(2));
  co_await sleep(0s);
  queue.shutdown();
  EXPECT_THROW(co_await blocked_putter, QueueShutDown);
  EXPECT_THROW(queue.put_nowait(3), QueueShutDown);
  EXPECT_EQ(co_await queue.get(), 1);  // remaining items are still returned
  EXPECT_THROW(co_await queue.get(), QueueShutDown);
  EXPECT_THROW(queue.get_nowait(), QueueShutDown);
}

AIO_TEST(Queue, ShutdownWakesBlockedGetters) {
  Queue<int> queue;
  Task<int> getter = create_task(queue.get());
  co_await sleep(0s);
  queue.shutdown();
  EXPECT_THROW(co_await getter, QueueShutDown);
}

AIO_TEST(Queue, ImmediateShutdownDropsItemsAndReleasesJoin) {
  Queue<int> queue;
  queue.put_nowait(1);
  queue.put_nowait(2);
  Task<> joiner = create_task(queue.join());
  co_await sleep(0s);
  queue.shutdown(/*immediate=*/true);
  EXPECT_TRUE(queue.empty());
  co_await joiner;  // the dropped items count as done
  EXPECT_THROW(queue.get_nowait(), QueueShutDown);
}

AIO_TEST(Queue, MoveOnlyItems) {
  Queue<std::unique_ptr<int>> queue(1);
  co_await queue.put(std::make_unique<int>(5));
  std::unique_ptr<int> item = co_await queue.get();
  EXPECT_EQ(*item, 5);
}

// asyncio: await asyncio.wait_for(q.get(), 1) / async with timeout(1): await q.get()
AIO_TEST(Queue, GetWorksWithTimeoutsAndWaitFor) {
  Queue<int> queue;
  EXPECT_THROW(co_await timeout(1s, queue.get()), TimeoutError);
  EXPECT_THROW(co_await wait_for(queue.get(), 1s), TimeoutError);
  queue.put_nowait(5);
  EXPECT_EQ(co_await wait_for(queue.get(), 1s), 5);
  EXPECT_TRUE(queue.empty());  // the timed-out getters took nothing
}

AIO_TEST(LifoQueue, LastInFirstOut) {
  LifoQueue<int> queue;
  for (int i = 1; i <= 3; ++i) queue.put_nowait(i);
  EXPECT_EQ(queue.get_nowait(), 3);
  EXPECT_EQ(queue.get_nowait(), 2);
  EXPECT_EQ(co_await queue.get(), 1);
}

AIO_TEST(PriorityQueue, SmallestFirst) {
  PriorityQueue<std::pair<int, std::string>> queue;
  queue.put_nowait({3, "low"});
  queue.put_nowait({1, "high"});
  queue.put_nowait({2, "mid"});
  EXPECT_EQ(queue.get_nowait().second, "high");
  EXPECT_EQ(queue.get_nowait().second, "mid");
  EXPECT_EQ((co_await queue.get()).second, "low");
}

AIO_TEST(PriorityQueue, CustomCompare) {
  PriorityQueue<int, std::greater<int>> queue;  // largest first
  for (int i : {2, 9, 4}) queue.put_nowait(i);
  EXPECT_EQ(queue.get_nowait(), 9);
  co_return;
}

}  // namespace
}  // namespace aio
