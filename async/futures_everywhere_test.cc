// Futures (and tasks) everywhere an awaitable goes: wait_for, timeout, gather,
// wait and shield take a Future as asyncio's do (test_tasks.py's
// test_wait_for_*, test_gather_*, test_shield_* with futures), on virtual time.
#include <string>
#include <tuple>
#include <vector>

#include "async/future.h"
#include "async/gather.h"
#include "async/loop.h"
#include "async/sleep.h"
#include "async/task.h"
#include "async/testing.h"
#include "async/timeouts.h"
#include "async/wait.h"
#include "gtest/gtest.h"

namespace aio {
namespace {

using namespace std::chrono_literals;

// Settles `future` with `value` after `delay`.
void settle_later(Future<int> future, Duration delay, int value) {
  get_running_loop().call_later(delay, [future, value]() mutable {
    if (!future.done()) future.set_result(value);
  });
}

// asyncio rule 29: wait_for of a done future with timeout 0 returns its result;
// a pending one is cancelled and the wait raises TimeoutError.
AIO_TEST(FuturesEverywhere, WaitForAFuture) {
  Future<int> done;
  done.set_result(4);
  EXPECT_EQ(co_await wait_for(done, 0s), 4);

  Future<int> pending;
  EXPECT_THROW(co_await wait_for(pending, 0s), TimeoutError);
  EXPECT_TRUE(pending.cancelled());

  Future<int> late;
  settle_later(late, 5s, 1);
  EXPECT_THROW(co_await wait_for(late, 1s), TimeoutError);
  EXPECT_TRUE(late.cancelled());

  Future<int> soon;
  settle_later(soon, 1s, 9);
  EXPECT_EQ(co_await wait_for(soon, 5s), 9);
}

AIO_TEST(FuturesEverywhere, TimeoutOfATaskOrAFuture) {
  Future<int> late;
  settle_later(late, 5s, 1);
  EXPECT_THROW(co_await timeout(1s, late), TimeoutError);
  EXPECT_TRUE(late.cancelled());

  Task<int> slow = create_task(invoke([]() -> Coro<int> {
    co_await sleep(5s);
    co_return 1;
  }));
  EXPECT_THROW(co_await timeout(1s, slow), TimeoutError);
  EXPECT_TRUE(slow.cancelled());

  Future<int> soon;
  settle_later(soon, 1s, 3);
  EXPECT_EQ(co_await timeout_at(get_running_loop().time() + 2s, soon), 3);
}

AIO_TEST(FuturesEverywhere, GatherOfFutures) {
  Future<int> a;
  Future<int> b;
  settle_later(a, 2s, 1);
  settle_later(b, 1s, 2);
  auto [first, second] = co_await gather(a, b);
  EXPECT_EQ(first + second * 10, 21);

  std::vector<Future<int>> futures(3);
  for (int i = 0; i < 3; ++i) settle_later(futures[i], std::chrono::seconds(3 - i), i);
  std::vector<int> values = co_await gather(futures);
  EXPECT_EQ(values, (std::vector<int>{0, 1, 2}));
}

AIO_TEST(FuturesEverywhere, WaitOnFutures) {
  std::vector<Future<int>> futures(2);
  settle_later(futures[0], 1s, 1);
  WaitResult<int, Future<int>> first = co_await wait(futures, FIRST_COMPLETED);
  EXPECT_EQ(first.done.size(), 1u);
  EXPECT_TRUE(first.done.size() == 1 && first.done[0] == futures[0]);
  EXPECT_EQ(first.pending.size(), 1u);
  WaitResult<int, Future<int>> bounded = co_await wait(futures, ALL_COMPLETED, 2s);
  EXPECT_EQ(bounded.pending.size(), 1u);  // futures[1] is never set
  EXPECT_FALSE(futures[1].done());
}

// Cancelling the awaiter of shield(future) leaves the future pending.
AIO_TEST(FuturesEverywhere, ShieldAFuture) {
  Future<int> shielded;
  Task<int> awaiter = create_task(invoke([shielded]() -> Coro<int> { co_return co_await shield(shielded); }));
  co_await sleep(1s);
  awaiter.cancel();
  EXPECT_THROW(co_await awaiter, CancelledError);
  EXPECT_FALSE(shielded.done());
  shielded.set_result(5);
  EXPECT_EQ(co_await shield(shielded), 5);
}

}  // namespace
}  // namespace aio
