// Lock, Event, Condition, Semaphore, BoundedSemaphore, Barrier: asyncio rules
// 38-46, mirroring test_locks.py, on virtual time.
#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "async/sleep.h"
#include "async/task.h"
#include "async/testing.h"
#include "gtest/gtest.h"
#include "sync/barrier.h"
#include "sync/condition.h"
#include "sync/event.h"
#include "sync/lock.h"
#include "sync/semaphore.h"

namespace aio {
namespace {

using namespace std::chrono_literals;
using testing::let_other_tasks_run;

// --- Lock ----------------------------------------------------------------------

// test_acquire: waiters acquire in FIFO order.
AIO_TEST(Lock, WaitersAcquireInFifoOrder) {
  Lock lock;
  co_await lock.acquire();
  EXPECT_TRUE(lock.locked());
  std::vector<int> order;
  std::vector<Task<>> tasks;
  for (int i = 0; i < 3; ++i) {
    tasks.push_back(create_task(invoke([&lock, &order, i]() -> Coro<> {
      co_await lock.acquire();
      order.push_back(i);
      lock.release();
    })));
    co_await let_other_tasks_run();  // queue them in this order
  }
  lock.release();
  for (Task<>& task : tasks) co_await task;
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2}));
  EXPECT_FALSE(lock.locked());
}

// asyncio's acquire() and wait() return True; aio's give true, parked or not.
AIO_TEST(Lock, AcquireAndConditionWaitGiveTrue) {
  Lock lock;
  EXPECT_TRUE(co_await lock.acquire());  // free: no suspension
  Task<bool> second = create_task(invoke([&lock]() -> Coro<bool> { co_return co_await lock.acquire(); }));
  co_await sleep(0s);
  lock.release();
  EXPECT_TRUE(co_await second);  // parked, then handed the lock
  lock.release();

  Semaphore semaphore(1);
  EXPECT_TRUE(co_await semaphore.acquire());
  semaphore.release();

  Condition condition;
  co_await condition.acquire();
  Task<void> notifier = create_task(invoke([&condition]() -> Coro<void> {
    co_await condition.acquire();
    condition.notify();
    condition.release();
  }));
  EXPECT_TRUE(co_await condition.wait());
  condition.release();
  co_await notifier;
}

AIO_TEST(Lock, ReleasingAnUnlockedLockIsAnError) {
  Lock lock;
  bool threw = false;
  try {
    lock.release();
  } catch (const std::runtime_error& error) {
    threw = std::string(error.what()) == "Lock is not acquired.";
  }
  EXPECT_TRUE(threw);
  co_return;
}

AIO_TEST(Lock, ScopedAcquireReleasesOnExceptions) {
  Lock lock;
  try {
    LockGuard held = co_await lock.scoped_acquire();
    EXPECT_TRUE(lock.locked());
    throw std::logic_error("inside");
  } catch (const std::logic_error&) {
  }
  EXPECT_FALSE(lock.locked());
}

// test_acquire_cancel: a cancelled waiter does not get the lock.
AIO_TEST(Lock, ACancelledWaiterDoesNotGetTheLock) {
  Lock lock;
  co_await lock.acquire();
  Task<bool> waiter = create_task(lock.acquire());
  co_await let_other_tasks_run();
  waiter.cancel();
  EXPECT_THROW(co_await waiter, CancelledError);
  lock.release();
  EXPECT_FALSE(lock.locked());
}

// test_cancel_race: the head waiter is woken by release() and cancelled before
// it runs: it passes the wake-up to the next waiter, which gets the lock.
AIO_TEST_ORDERED(Lock, AWaiterCancelledAsItIsWokenPassesItOn) {
  Lock lock;
  co_await lock.acquire();
  std::vector<std::string> log;
  Task<> first = create_task(invoke([&]() -> Coro<> {
    co_await lock.acquire();
    log.push_back("first");
    lock.release();
  }));
  Task<> second = create_task(invoke([&]() -> Coro<> {
    co_await lock.acquire();
    log.push_back("second");
    lock.release();
  }));
  co_await let_other_tasks_run();
  lock.release();  // wakes `first`...
  first.cancel();  // ...which is cancelled before it runs
  EXPECT_THROW(co_await first, CancelledError);
  co_await second;
  EXPECT_EQ(log, (std::vector<std::string>{"second"}));
  EXPECT_FALSE(lock.locked());
}

// No barging: after release() woke a waiter, a newcomer queues behind it.
AIO_TEST_ORDERED(Lock, ANewcomerCannotJumpAheadOfAWokenWaiter) {
  Lock lock;
  co_await lock.acquire();
  std::vector<std::string> log;
  Task<> waiter = create_task(invoke([&]() -> Coro<> {
    co_await lock.acquire();
    log.push_back("waiter");
    lock.release();
  }));
  co_await let_other_tasks_run();
  lock.release();  // the waiter is woken but has not run yet
  EXPECT_FALSE(lock.locked());
  Task<> newcomer = create_task(invoke([&]() -> Coro<> {
    co_await lock.acquire();
    log.push_back("newcomer");
    lock.release();
  }));
  co_await waiter;
  co_await newcomer;
  EXPECT_EQ(log, (std::vector<std::string>{"waiter", "newcomer"}));
}

// A loop destroyed with tasks still parked on a lock that lives in another
// task's frame: whichever frame goes first, nothing touches freed memory (ASan).
TEST(LockTeardown, ALoopDestroyedWithParkedWaitersFreesCleanly) {
  EventLoop loop;
  loop.set_exception_handler([](EventLoop&, const ExceptionContext&) {});  // the pending-task reports
  Future<Lock*> shared(loop);
  // The waiter is registered first, so the loop destroys the lock's owner (the
  // newer task) first: the waiter's node must not touch the freed lock after.
  create_task(loop, invoke([shared]() -> Coro<> {
    Lock* lock = co_await shared;
    co_await lock->acquire();
  }));
  create_task(loop, invoke([shared]() mutable -> Coro<> {
    Lock lock;
    co_await lock.acquire();
    shared.set_result(&lock);
    co_await sleep(1h);
  }));
  loop.call_later(std::chrono::milliseconds(1), [&loop] { loop.stop(); });
  loop.run_forever();
}

// --- Event ---------------------------------------------------------------------

// test_wait: set() wakes every waiter; later waits return at once.
AIO_TEST(Event, SetWakesEveryWaiter) {
  Event event;
  int woken = 0;
  std::vector<Task<>> waiters;
  for (int i = 0; i < 3; ++i) {
    waiters.push_back(create_task(invoke([&]() -> Coro<> {
      co_await event.wait();
      ++woken;
    })));
  }
  co_await let_other_tasks_run();
  EXPECT_EQ(woken, 0);
  event.set();
  for (Task<>& waiter : waiters) co_await waiter;
  EXPECT_EQ(woken, 3);
  EXPECT_TRUE(co_await event.wait());  // set: at once
}

// test_clear_with_waiters: clear() right after set() does not un-wake.
AIO_TEST(Event, ClearAfterSetDoesNotTakeTheWakeUpBack) {
  Event event;
  Task<bool> waiter = create_task(event.wait());
  co_await let_other_tasks_run();
  event.set();
  event.clear();
  EXPECT_TRUE(co_await waiter);
  EXPECT_FALSE(event.is_set());
}

AIO_TEST(Event, ACancelledWaitRaises) {
  Event event;
  Task<bool> waiter = create_task(event.wait());
  co_await let_other_tasks_run();
  waiter.cancel();
  EXPECT_THROW(co_await waiter, CancelledError);
}

// --- Condition -------------------------------------------------------------------

AIO_TEST(Condition, WaitAndNotifyRequireTheLock) {
  Condition condition;
  EXPECT_THROW(co_await condition.wait(), std::runtime_error);
  EXPECT_THROW(condition.notify(), std::runtime_error);
  EXPECT_THROW(condition.notify_all(), std::runtime_error);
}

// test_notify / test_notify_all: FIFO, up to n.
AIO_TEST_ORDERED(Condition, NotifyWakesUpToNInFifoOrder) {
  Condition condition;
  std::vector<int> woken;
  std::vector<Task<>> waiters;
  for (int i = 0; i < 3; ++i) {
    waiters.push_back(create_task(invoke([&, i]() -> Coro<> {
      LockGuard held = co_await condition.scoped_acquire();
      co_await condition.wait();
      woken.push_back(i);
    })));
    co_await let_other_tasks_run();
  }
  {
    LockGuard held = co_await condition.scoped_acquire();
    condition.notify(2);
  }
  co_await let_other_tasks_run();
  EXPECT_EQ(woken, (std::vector<int>{0, 1}));
  {
    LockGuard held = co_await condition.scoped_acquire();
    condition.notify_all();
  }
  for (Task<>& waiter : waiters) co_await waiter;
  EXPECT_EQ(woken, (std::vector<int>{0, 1, 2}));
}

AIO_TEST(Condition, WaitForChecksThePredicateAfterEachWakeUp) {
  Condition condition;
  int value = 0;
  Task<> waiter = create_task(invoke([&]() -> Coro<> {
    LockGuard held = co_await condition.scoped_acquire();
    co_await condition.wait_for([&value] { return value == 2; });
    EXPECT_TRUE(condition.locked());
  }));
  for (int i = 1; i <= 2; ++i) {
    co_await let_other_tasks_run();
    LockGuard held = co_await condition.scoped_acquire();
    value = i;
    condition.notify();
  }
  co_await waiter;
  EXPECT_EQ(value, 2);
}

// test_wait_cancel_contested: a cancelled waiter re-acquires the lock before
// CancelledError leaves wait().
AIO_TEST(Condition, ACancelledWaitStillReacquiresTheLock) {
  Condition condition;
  bool held_when_cancelled = false;
  Task<> waiter = create_task(invoke([&]() -> Coro<> {
    co_await condition.acquire();
    std::exception_ptr cancelled;
    try {
      co_await condition.wait();
    } catch (const CancelledError&) {
      cancelled = std::current_exception();
    }
    held_when_cancelled = condition.locked();
    condition.release();
    if (cancelled) std::rethrow_exception(cancelled);
  }));
  co_await let_other_tasks_run();
  co_await condition.acquire();  // contested: the waiter must wait for it
  waiter.cancel();
  co_await let_other_tasks_run();
  condition.release();
  EXPECT_THROW(co_await waiter, CancelledError);
  EXPECT_TRUE(held_when_cancelled);
}

// test_cancelled_wakeup: notified, then cancelled: the notification passes on.
AIO_TEST_ORDERED(Condition, ANotifiedWaiterThatIsCancelledPassesTheNotificationOn) {
  Condition condition;
  std::vector<std::string> log;
  auto waiter = [&](std::string name) -> Coro<> {
    LockGuard held = co_await condition.scoped_acquire();
    co_await condition.wait();
    log.push_back(name);
  };
  Task<> first = create_task(waiter("first"));
  Task<> second = create_task(waiter("second"));
  co_await let_other_tasks_run();
  {
    LockGuard held = co_await condition.scoped_acquire();
    condition.notify(1);  // notifies `first`...
    first.cancel();       // ...which is cancelled before it runs
  }
  EXPECT_THROW(co_await first, CancelledError);
  co_await second;  // got the notification instead
  EXPECT_EQ(log, (std::vector<std::string>{"second"}));
}

// --- Semaphore -------------------------------------------------------------------

AIO_TEST(Semaphore, CountsPermitsAndRejectsNegativeValues) {
  EXPECT_THROW(Semaphore(-1), ValueError);
  Semaphore semaphore(2);
  co_await semaphore.acquire();
  co_await semaphore.acquire();
  EXPECT_TRUE(semaphore.locked());
  EXPECT_EQ(semaphore.value(), 0);
  semaphore.release();
  semaphore.release();
  semaphore.release();  // above the initial value: allowed for a Semaphore
  EXPECT_EQ(semaphore.value(), 3);
}

AIO_TEST(Semaphore, BoundedSemaphoreRefusesOverRelease) {
  BoundedSemaphore semaphore(1);
  co_await semaphore.acquire();
  semaphore.release();
  bool threw = false;
  try {
    semaphore.release();
  } catch (const ValueError& error) {
    threw = std::string(error.what()) == "BoundedSemaphore released too many times";
  }
  EXPECT_TRUE(threw);
}

// test_acquire_fifo_order / no barging: waiters are served in order and
// locked() stays true while any waits.
AIO_TEST(Semaphore, FifoWithNoBarging) {
  Semaphore semaphore(1);
  co_await semaphore.acquire();
  std::vector<int> order;
  std::vector<Task<>> tasks;
  for (int i = 0; i < 3; ++i) {
    tasks.push_back(create_task(invoke([&semaphore, &order, i]() -> Coro<> {
      SemaphoreGuard slot = co_await semaphore.scoped_acquire();
      order.push_back(i);
      co_await sleep(1s);
    })));
    co_await let_other_tasks_run();
  }
  semaphore.release();
  EXPECT_TRUE(semaphore.locked());  // a permit is free, but tasks wait for it
  for (Task<>& task : tasks) co_await task;
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(semaphore.value(), 1);
}

// test_acquire_cancel_before_awoken / test_acquire_hang: a waiter granted a
// permit and cancelled before it ran gives the permit back.
AIO_TEST_ORDERED(Semaphore, APermitIsNeverLostToACancelledWaiter) {
  Semaphore semaphore(0);
  Task<bool> first = create_task(semaphore.acquire());
  Task<bool> second = create_task(semaphore.acquire());
  co_await let_other_tasks_run();
  semaphore.release();  // granted to `first`...
  first.cancel();       // ...cancelled before it runs
  EXPECT_THROW(co_await first, CancelledError);
  co_await second;  // the permit went on
  EXPECT_EQ(semaphore.value(), 0);
  EXPECT_FALSE(semaphore.locked() && semaphore.value() > 0);
}

// --- Barrier ---------------------------------------------------------------------

AIO_TEST(Barrier, ReleasesAllPartiesWithDistinctIndicesAndIsReusable) {
  EXPECT_THROW(Barrier(0), ValueError);
  Barrier barrier(3);
  for (int cycle = 0; cycle < 2; ++cycle) {
    std::vector<Task<std::size_t>> parties;
    for (int i = 0; i < 3; ++i) parties.push_back(create_task(barrier.wait()));
    std::vector<std::size_t> indices;
    for (Task<std::size_t>& party : parties) indices.push_back(co_await party);
    std::sort(indices.begin(), indices.end());
    EXPECT_EQ(indices, (std::vector<std::size_t>{0, 1, 2}));
    EXPECT_EQ(barrier.n_waiting(), 0u);
  }
  EXPECT_FALSE(barrier.broken());
}

AIO_TEST(Barrier, CancellingAWaiterWhileFillingLowersNWaiting) {
  Barrier barrier(3);
  Task<std::size_t> first = create_task(barrier.wait());
  Task<std::size_t> second = create_task(barrier.wait());
  co_await let_other_tasks_run();
  EXPECT_EQ(barrier.n_waiting(), 2u);
  first.cancel();
  EXPECT_THROW(co_await first, CancelledError);
  EXPECT_EQ(barrier.n_waiting(), 1u);
  second.cancel();
  EXPECT_THROW(co_await second, CancelledError);
}

// test_reset_barrier_while_tasks_waiting: waiters raise BrokenBarrierError and
// the barrier fills again, not broken.
AIO_TEST(Barrier, ResetBreaksTheCurrentWaitersOnly) {
  Barrier barrier(3);
  Task<std::size_t> first = create_task(barrier.wait());
  Task<std::size_t> second = create_task(barrier.wait());
  co_await let_other_tasks_run();
  co_await barrier.reset();
  EXPECT_THROW(co_await first, BrokenBarrierError);
  EXPECT_THROW(co_await second, BrokenBarrierError);
  EXPECT_FALSE(barrier.broken());
  std::vector<Task<std::size_t>> parties;
  for (int i = 0; i < 3; ++i) parties.push_back(create_task(barrier.wait()));
  for (Task<std::size_t>& party : parties) co_await party;  // works again
}

// test_abort_barrier: broken for good.
AIO_TEST(Barrier, AbortBreaksItForGood) {
  Barrier barrier(2);
  Task<std::size_t> waiter = create_task(barrier.wait());
  co_await let_other_tasks_run();
  co_await barrier.abort();
  EXPECT_THROW(co_await waiter, BrokenBarrierError);
  EXPECT_TRUE(barrier.broken());
  EXPECT_THROW(co_await barrier.wait(), BrokenBarrierError);
}

}  // namespace
}  // namespace aio
