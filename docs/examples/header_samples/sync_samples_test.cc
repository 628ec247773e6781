// The samples in sync/'s header comments, compiled and run (on the virtual-time
// test loop). //tools/build_checks:header_samples_test checks that each sample
// appears, line for line, in one of the `// [header]` regions here.
#include <chrono>
#include <cstddef>
#include <deque>
#include <string>
#include <vector>

#include "async/coro.h"
#include "async/gather.h"
#include "async/sleep.h"
#include "async/task.h"
#include "async/testing.h"
#include "gtest/gtest.h"
#include "sync/barrier.h"
#include "sync/condition.h"
#include "sync/lock.h"
#include "sync/queue.h"
#include "sync/semaphore.h"

namespace {

using namespace std::chrono_literals;

// [sync/barrier.h]
AIO_TEST(BarrierSample, ThreeArrive) {
  aio::Barrier barrier(3);
  auto arrive = [](aio::Barrier& barrier) -> aio::Coro<std::size_t> {
    std::size_t index = co_await barrier.wait();   // 0, 1 or 2, once all three arrive
    co_return index;
  };
  auto [a, b, c] = co_await aio::gather(arrive(barrier), arrive(barrier), arrive(barrier));
  EXPECT_EQ(a + b + c, 3u);
}
// [end]

// [sync/condition.h]
aio::Coro<void> produce(aio::Condition& condition, std::deque<int>& items) {
  co_await aio::sleep(1s);
  aio::LockGuard held = co_await condition.scoped_acquire();
  items.push_back(1);
  condition.notify_all();
}
AIO_TEST(ConditionSample, WaitsForItems) {
  aio::Condition condition;
  std::deque<int> items;
  aio::Task<void> producer = aio::create_task(produce(condition, items));
  {
    aio::LockGuard held = co_await condition.scoped_acquire();
    co_await condition.wait_for([&] { return !items.empty(); });
    EXPECT_EQ(items.front(), 1);
  }
  co_await producer;
}
// [end]

// [sync/lock.h]
AIO_TEST(LockSample, ScopedAcquire) {
  aio::Lock lock;
  {
    aio::LockGuard held = co_await lock.scoped_acquire();   // async with lock:
    EXPECT_TRUE(lock.locked());
  }  // released here, also when an exception leaves the block
  EXPECT_FALSE(lock.locked());
}
// [end]

// [sync/queue.h]
AIO_TEST(QueueSample, PutGetJoin) {
  aio::Queue<std::string> queue(/*maxsize=*/100);
  co_await queue.put("job");          // waits while the queue is full
  std::string job = co_await queue.get();   // waits while it is empty
  queue.task_done();
  co_await queue.join();              // until every item put was task_done()
  EXPECT_EQ(job, "job");
}
// [end]

// [sync/semaphore.h]
AIO_TEST(SemaphoreSample, ScopedAcquire) {
  aio::Semaphore slots(10);
  {
    aio::SemaphoreGuard slot = co_await slots.scoped_acquire();  // async with slots:
    EXPECT_FALSE(slots.locked());
  }
}
// [end]

}  // namespace
