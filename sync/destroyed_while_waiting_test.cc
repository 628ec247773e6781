// A primitive destroyed while tasks wait on it: the asyncio docs' workers
// example with the Queue local to main and the final cancel + gather left out.
// In Python the queue lives as long as a worker refers to it; in C++ it dies
// with main's frame. Cancelling (or waking) the parked workers afterwards must
// not touch the dead primitive: these tests are the regression tests for the
// use-after-free that used to follow, and they run under ASan in CI.
#include <memory>
#include <string>
#include <vector>

#include "async/loop.h"
#include "async/sleep.h"
#include "async/task.h"
#include "async/testing.h"
#include "gtest/gtest.h"
#include "sync/barrier.h"
#include "sync/condition.h"
#include "sync/event.h"
#include "sync/lock.h"
#include "sync/queue.h"
#include "sync/semaphore.h"

namespace aio {
namespace {

using namespace std::chrono_literals;

// Parks `waiter` (started from `start_wait`), destroys the primitive, then
// cancels the waiter: it must end with CancelledError and nothing else.
template <class Primitive, class StartWait>
Coro<void> expect_quiet_cancel_after_destruction(std::unique_ptr<Primitive> primitive, StartWait start_wait) {
  Task<void> waiter = create_task(start_wait(*primitive));
  co_await testing::let_other_tasks_run();  // the waiter parks
  EXPECT_FALSE(waiter.done());
  primitive.reset();
  EXPECT_TRUE(waiter.cancel());
  EXPECT_THROW(co_await waiter, CancelledError);
}

AIO_TEST(DestroyedWhileWaiting, QueueGetThenCancel) {
  co_await expect_quiet_cancel_after_destruction(std::make_unique<Queue<int>>(), [](Queue<int>& queue) -> Coro<void> {
    co_await queue.get();
  });
}

AIO_TEST(DestroyedWhileWaiting, QueuePutThenCancel) {
  auto queue = std::make_unique<Queue<int>>(1);
  queue->put_nowait(1);
  co_await expect_quiet_cancel_after_destruction(std::move(queue), [](Queue<int>& full) -> Coro<void> {
    co_await full.put(2);
  });
}

AIO_TEST(DestroyedWhileWaiting, QueueJoinThenCancel) {
  auto queue = std::make_unique<Queue<int>>();
  queue->put_nowait(1);
  co_await expect_quiet_cancel_after_destruction(std::move(queue), [](Queue<int>& unfinished) -> Coro<void> {
    co_await unfinished.join();
  });
}

AIO_TEST(DestroyedWhileWaiting, LockAcquireThenCancel) {
  auto lock = std::make_unique<Lock>();
  co_await lock->acquire();
  co_await expect_quiet_cancel_after_destruction(std::move(lock), [](Lock& held) -> Coro<void> {
    co_await held.acquire();
  });
}

AIO_TEST(DestroyedWhileWaiting, SemaphoreAcquireThenCancel) {
  co_await expect_quiet_cancel_after_destruction(std::make_unique<Semaphore>(0), [](Semaphore& empty) -> Coro<void> {
    co_await empty.acquire();
  });
}

AIO_TEST(DestroyedWhileWaiting, EventWaitThenCancel) {
  co_await expect_quiet_cancel_after_destruction(std::make_unique<Event>(), [](Event& event) -> Coro<void> {
    co_await event.wait();
  });
}

AIO_TEST(DestroyedWhileWaiting, ConditionWaitThenCancel) {
  auto condition = std::make_unique<Condition>();
  co_await expect_quiet_cancel_after_destruction(std::move(condition), [](Condition& waited) -> Coro<void> {
    co_await waited.acquire();
    co_await waited.wait();
  });
}

AIO_TEST(DestroyedWhileWaiting, BarrierWaitThenCancel) {
  co_await expect_quiet_cancel_after_destruction(std::make_unique<Barrier>(2), [](Barrier& barrier) -> Coro<void> {
    co_await barrier.wait();
  });
}

// Woken for an item, then the queue is destroyed before the worker runs: the
// item is gone with the queue, so the get ends with a clear error.
AIO_TEST(DestroyedWhileWaiting, AWokenGetEndsWithRuntimeError) {
  auto queue = std::make_unique<Queue<int>>();
  Queue<int>& alias = *queue;
  Task<int> getter = create_task(invoke([&alias]() -> Coro<int> { co_return co_await alias.get(); }));
  co_await testing::let_other_tasks_run();
  queue->put_nowait(7);  // wakes the getter
  queue.reset();
  try {
    co_await getter;
    ADD_FAILURE() << "the get returned";
  } catch (const RuntimeError& error) {
    EXPECT_STREQ(error.what(), "Queue was destroyed while a task waited on it");
  }
}

// In debug mode the destruction itself is reported, naming the primitive.
TEST(DestroyedWhileWaiting, IsReportedInDebugMode) {
  EventLoop::Options options;
  options.virtual_time = true;
  options.debug = true;
  EventLoop loop(options);
  std::vector<std::string> reports;
  loop.set_exception_handler([&](EventLoop&, const ExceptionContext& context) { reports.push_back(context.message); });
  loop.run_until_complete(invoke([]() -> Coro<void> {
    auto queue = std::make_unique<Queue<int>>();
    Queue<int>& alias = *queue;
    std::vector<Task<void>> workers;
    for (int i = 0; i < 2; ++i) {
      workers.push_back(create_task(invoke([&alias]() -> Coro<void> { co_await alias.get(); })));
    }
    co_await testing::let_other_tasks_run();  // both park, whatever the order
    queue.reset();
    for (Task<void>& worker : workers) worker.cancel();
    for (Task<void>& worker : workers) {
      try {
        co_await worker;
      } catch (const CancelledError&) {
      }
    }
  }));
  EXPECT_EQ(reports, (std::vector<std::string>{"Queue destroyed while 2 tasks wait on it"}));
}

}  // namespace
}  // namespace aio
