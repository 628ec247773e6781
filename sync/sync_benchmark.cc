// Costs of the synchronization primitives and queues.
//
//   ./bazelw run //sync:sync_benchmark
//
// Anchors and results: docs/design/performance.md.
#include <vector>

#include "async/run.h"
#include "async/sleep.h"
#include "async/task.h"
#include "benchmark/benchmark.h"
#include "sync/lock.h"
#include "sync/queue.h"

namespace aio {
namespace {

template <class Body>
void run_in_loop(benchmark::State& state, Body body) {
  run(invoke([&state, &body]() -> Coro<> { co_await body(state); }));
}

// `async with lock` when nobody else wants it.
void BM_LockUncontended(benchmark::State& state) {
  run_in_loop(state, [](benchmark::State& s) -> Coro<> {
    Lock lock;
    for (auto _ : s) {
      co_await lock.acquire();
      lock.release();
    }
  });
}
BENCHMARK(BM_LockUncontended);

void BM_LockScopedUncontended(benchmark::State& state) {
  run_in_loop(state, [](benchmark::State& s) -> Coro<> {
    Lock lock;
    for (auto _ : s) {
      LockGuard held = co_await lock.scoped_acquire();
    }
  });
}
BENCHMARK(BM_LockScopedUncontended);

void BM_QueuePutNowaitGet(benchmark::State& state) {
  run_in_loop(state, [](benchmark::State& s) -> Coro<> {
    Queue<int> queue;
    int total = 0;
    for (auto _ : s) {
      queue.put_nowait(1);
      total += co_await queue.get();
    }
    benchmark::DoNotOptimize(static_cast<const int&>(total));
  });
}
BENCHMARK(BM_QueuePutNowaitGet);

// One item bouncing between two tasks through two maxsize=1 queues: the time of
// a round trip (two hand-overs, two task switches).
void BM_QueuePingPong(benchmark::State& state) {
  run_in_loop(state, [](benchmark::State& s) -> Coro<> {
    Queue<int> ping(1);
    Queue<int> pong(1);
    Task<> echo = create_task(invoke([&ping, &pong]() -> Coro<> {
      for (;;) {
        int value = co_await ping.get();
        if (value < 0) co_return;
        co_await pong.put(value);
      }
    }));
    for (auto _ : s) {
      co_await ping.put(1);
      benchmark::DoNotOptimize(static_cast<const int&>(co_await pong.get()));
    }
    co_await ping.put(-1);
    co_await echo;
  });
}
BENCHMARK(BM_QueuePingPong);

// A Lock with 1,000 waiting tasks: the time per FIFO hand-over.
void BM_LockContendedHandOff(benchmark::State& state) {
  constexpr int kWaiters = 1000;
  run_in_loop(state, [](benchmark::State& s) -> Coro<> {
    Lock lock;
    for (auto _ : s) {
      co_await lock.acquire();
      std::vector<Task<>> waiters;
      waiters.reserve(kWaiters);
      for (int i = 0; i < kWaiters; ++i) {
        waiters.push_back(create_task(invoke([&lock]() -> Coro<> {
          co_await lock.acquire();
          lock.release();
        })));
      }
      co_await sleep(std::chrono::microseconds(1));  // every waiter is now queued
      lock.release();  // the hand-overs start
      for (Task<>& waiter : waiters) co_await waiter;
    }
    s.SetItemsProcessed(s.iterations() * kWaiters);
  });
}
BENCHMARK(BM_LockContendedHandOff);

}  // namespace
}  // namespace aio
