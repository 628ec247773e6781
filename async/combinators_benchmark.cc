// Costs of structured concurrency: timeout scopes, TaskGroup, gather.
//
//   ./bazelw run //async:combinators_benchmark
//
// Anchors and results: docs/design/performance.md.
#include <vector>

#include "async/gather.h"
#include "async/run.h"
#include "async/task.h"
#include "async/task_group.h"
#include "async/timeouts.h"
#include "benchmark/benchmark.h"
#include "tools/benchmarking/run_in_loop.h"

namespace aio {
namespace {

using namespace std::chrono_literals;

using benchmarking::run_in_loop;

Coro<int> ready_value() { co_return 1; }

// Entering and leaving a timeout() that does not fire, around a body that
// completes at once.
void BM_TimeoutNotFiring(benchmark::State& state) {
  run_in_loop(state, [](benchmark::State& s) -> Coro<> {
    int total = 0;
    for (auto _ : s) total += co_await timeout(1h, ready_value());
    benchmark::DoNotOptimize(static_cast<const int&>(total));
  });
}
BENCHMARK(BM_TimeoutNotFiring);

Coro<> trivial_child() { co_return; }

// A TaskGroup with N trivial children, end to end (create, run, await all).
void BM_TaskGroup(benchmark::State& state) {
  const auto children = static_cast<int>(state.range(0));
  run_in_loop(state, [children](benchmark::State& s) -> Coro<> {
    for (auto _ : s) {
      co_await task_group([children](TaskGroup& group) -> Coro<> {
        for (int i = 0; i < children; ++i) group.create_task(trivial_child());
        co_return;
      });
    }
    s.SetItemsProcessed(s.iterations() * children);
  });
}
BENCHMARK(BM_TaskGroup)->Arg(1000);

Coro<int> trivial_value() { co_return 1; }

// gather of N trivial coroutines (each becomes a task), end to end.
void BM_Gather(benchmark::State& state) {
  const auto count = static_cast<int>(state.range(0));
  run_in_loop(state, [count](benchmark::State& s) -> Coro<> {
    for (auto _ : s) {
      std::vector<Coro<int>> work;
      work.reserve(static_cast<std::size_t>(count));
      for (int i = 0; i < count; ++i) work.push_back(trivial_value());
      std::vector<int> results = co_await gather(std::move(work));
      benchmark::DoNotOptimize(static_cast<const std::vector<int>&>(results));
    }
    s.SetItemsProcessed(s.iterations() * count);
  });
}
BENCHMARK(BM_Gather)->Arg(1000);

}  // namespace
}  // namespace aio
