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
#include "tools/benchmarking/run_in_loop.h"
#include "sync/lock.h"
#include "sync/queue.h"

namespace aio {
namespace {

using benchmarking::run_in_loop;

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

// A Lock contended by 1,000 tasks that take turns (plus the benchmark's own
// task): every release hands the lock to the next waiter in FIFO order. One
// iteration is one turn of the benchmark task, i.e. 1,001 hand-overs.
void BM_LockContendedHandOff(benchmark::State& state) {
  constexpr int kTasks = 1000;
  run_in_loop(state, [](benchmark::State& s) -> Coro<> {
    Lock lock;
    bool stop = false;
    co_await lock.acquire();  // held, so that every task queues up behind it
    std::vector<Task<>> tasks;
    for (int i = 0; i < kTasks; ++i) {
      tasks.push_back(create_task(invoke([&lock, &stop]() -> Coro<> {
        while (!stop) {
          co_await lock.acquire();
          lock.release();
        }
      })));
    }
    co_await sleep(std::chrono::microseconds(1));  // all of them are queued on the lock
    lock.release();
    for (auto _ : s) {
      co_await lock.acquire();
      lock.release();
    }
    stop = true;
    for (Task<>& task : tasks) co_await task;
    s.SetItemsProcessed(s.iterations() * (kTasks + 1));
  });
}
BENCHMARK(BM_LockContendedHandOff);

}  // namespace
}  // namespace aio
