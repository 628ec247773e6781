// Shared by aio's benchmark binaries: runs a benchmark's body as the main task
// of a fresh event loop, so that what is timed is the per-operation cost on a
// warm loop.
//
//   void BM_Something(benchmark::State& state) {
//     aio::benchmarking::run_in_loop(state, [](benchmark::State& s) -> aio::Coro<> {
//       for (auto _ : s) co_await something();
//     });
//   }
#ifndef AIO_TOOLS_BENCHMARKING_RUN_IN_LOOP_H_
#define AIO_TOOLS_BENCHMARKING_RUN_IN_LOOP_H_

#include "async/coro.h"
#include "async/run.h"
#include "benchmark/benchmark.h"

namespace aio::benchmarking {

// `body(state)` must return a Coro<>; it runs to completion before this returns.
template <class Body>
void run_in_loop(benchmark::State& state, Body body) {
  run(invoke([&state, &body]() -> Coro<> { co_await body(state); }));
}

}  // namespace aio::benchmarking

#endif  // AIO_TOOLS_BENCHMARKING_RUN_IN_LOOP_H_
