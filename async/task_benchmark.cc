// Costs of the core: awaiting, yielding, spawning, futures, callbacks.
//
//   ./bazelw run //async:task_benchmark            (optimized: `run` uses -c opt)
//
// Each benchmark runs its loop inside one aio task, so what is measured is the
// per-operation cost on a warm loop. Anchors and results: docs/design/performance.md.
#include <sys/resource.h>

#include <chrono>
#include <vector>

#include "async/run.h"
#include "async/sleep.h"
#include "async/task.h"
#include "benchmark/benchmark.h"
#include "tools/benchmarking/run_in_loop.h"

namespace aio {
namespace {

using namespace std::chrono_literals;

using benchmarking::run_in_loop;

Coro<int> ready_value(int value) { co_return value; }

void BM_AwaitReadyCoro(benchmark::State& state) {
  run_in_loop(state, [](benchmark::State& s) -> Coro<> {
    int total = 0;
    for (auto _ : s) total += co_await ready_value(1);
    benchmark::DoNotOptimize(static_cast<const int&>(total));
  });
}
BENCHMARK(BM_AwaitReadyCoro);

void BM_Sleep0(benchmark::State& state) {
  run_in_loop(state, [](benchmark::State& s) -> Coro<> {
    for (auto _ : s) co_await sleep(0s);
  });
}
BENCHMARK(BM_Sleep0);

// A real (not virtual) sleep of 100 µs, end to end: the wall time per sleep
// shows the poll's timer precision (epoll_pwait2's nanoseconds; epoll_wait's
// milliseconds made it about 1.1 ms) plus the kernel's timer slack (50 µs by
// default).
void BM_RealSleep100us(benchmark::State& state) {
  run_in_loop(state, [](benchmark::State& s) -> Coro<> {
    for (auto _ : s) co_await sleep(100us);
  });
}
BENCHMARK(BM_RealSleep100us)->UseRealTime()->Unit(benchmark::kMicrosecond);

Coro<int> trivial_task() { co_return 1; }

void BM_CreateTaskAndAwait(benchmark::State& state) {
  run_in_loop(state, [](benchmark::State& s) -> Coro<> {
    int total = 0;
    for (auto _ : s) total += co_await create_task(trivial_task());
    benchmark::DoNotOptimize(static_cast<const int&>(total));
  });
}
BENCHMARK(BM_CreateTaskAndAwait);

// Spawns a batch of tasks and then awaits them all: the cost per task when the
// run queue is busy (as in gather).
void BM_CreateTaskBatch(benchmark::State& state) {
  const auto batch = static_cast<std::size_t>(state.range(0));
  run_in_loop(state, [batch](benchmark::State& s) -> Coro<> {
    std::vector<Task<int>> tasks;
    tasks.reserve(batch);
    for (auto _ : s) {
      for (std::size_t i = 0; i < batch; ++i) tasks.push_back(create_task(trivial_task()));
      for (Task<int>& task : tasks) co_await task;
      tasks.clear();
    }
    s.SetItemsProcessed(static_cast<std::int64_t>(s.iterations() * batch));
  });
}
BENCHMARK(BM_CreateTaskBatch)->Arg(1000);

void BM_FutureSetThenAwait(benchmark::State& state) {
  run_in_loop(state, [](benchmark::State& s) -> Coro<> {
    EventLoop& loop = get_running_loop();
    for (auto _ : s) {
      Future<int> future(loop);
      future.set_result(1);
      benchmark::DoNotOptimize(static_cast<const int&>(co_await future));
    }
  });
}
BENCHMARK(BM_FutureSetThenAwait);

// A callback posted with call_soon, and the task woken by it: a post round trip.
void BM_CallSoonRoundTrip(benchmark::State& state) {
  run_in_loop(state, [](benchmark::State& s) -> Coro<> {
    EventLoop& loop = get_running_loop();
    for (auto _ : s) {
      Future<> future(loop);
      loop.call_soon([future]() mutable { future.set_result(); });
      co_await future;
    }
  });
}
BENCHMARK(BM_CallSoonRoundTrip);

long max_resident_kilobytes() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

Coro<> sleeper(std::size_t* woken) {
  co_await sleep(10ms);
  ++*woken;
}

// 1,000,000 tasks sleeping at once, all woken: reports the memory they take.
void BM_MillionSleepingTasks(benchmark::State& state) {
  const long before = max_resident_kilobytes();
  std::size_t woken = 0;
  run_in_loop(state, [&woken](benchmark::State& s) -> Coro<> {
    for (auto _ : s) {
      std::vector<Task<>> tasks;
      tasks.reserve(1'000'000);
      for (int i = 0; i < 1'000'000; ++i) {
        tasks.push_back(create_task(sleeper(&woken)));
      }
      for (Task<>& task : tasks) co_await task;
    }
  });
  state.counters["woken"] = static_cast<double>(woken);
  state.counters["peak_MB"] = static_cast<double>(max_resident_kilobytes() - before) / 1024.0;
}
BENCHMARK(BM_MillionSleepingTasks)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace aio
