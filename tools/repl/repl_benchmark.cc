// The REPL's speed: aio running interpreted asyncio code. Each benchmark runs a
// program of kOps operations per iteration (the same loops as bench/*.py, which
// compare.sh runs under python3 too) and reports ns per operation.
//
//   ./bazelw run //tools/repl:repl_benchmark -- --benchmark_min_time=0.5
#include <chrono>
#include <string>

#include "benchmark/benchmark.h"
#include "tools/repl/interpreter.h"
#include "tools/repl/parser.h"
#include "tools/repl/session.h"

namespace repl {
namespace {

void run_program(benchmark::State& state, const std::string& body, int ops) {
  std::string source = "import asyncio\nN = " + std::to_string(ops) + "\n" + body + "\nasyncio.run(main())\n";
  auto program = parse_program(source, "bench.py", ParseOptions());
  Interpreter in;
  double total_ns = 0;
  for (auto _ : state) {
    auto start = std::chrono::steady_clock::now();
    in.run_module(program);
    total_ns += std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count();
  }
  state.counters["ns_per_op"] = total_ns / (static_cast<double>(state.iterations()) * ops);
}

void BM_SleepZero(benchmark::State& state) {
  run_program(state,
              "async def main():\n"
              "    for _ in range(N):\n"
              "        await asyncio.sleep(0)\n",
              100000);
}
BENCHMARK(BM_SleepZero)->Unit(benchmark::kMillisecond);

void BM_CreateTaskGather(benchmark::State& state) {
  run_program(state,
              "async def child(i):\n"
              "    return i\n"
              "async def main():\n"
              "    tasks = [asyncio.create_task(child(i)) for i in range(N)]\n"
              "    await asyncio.gather(*tasks)\n",
              10000);
}
BENCHMARK(BM_CreateTaskGather)->Unit(benchmark::kMillisecond);

void BM_QueuePingPong(benchmark::State& state) {
  run_program(state,
              "async def echo(inbox, outbox):\n"
              "    for _ in range(N):\n"
              "        item = await inbox.get()\n"
              "        await outbox.put(item)\n"
              "async def main():\n"
              "    ping = asyncio.Queue(1)\n"
              "    pong = asyncio.Queue(1)\n"
              "    peer = asyncio.create_task(echo(ping, pong))\n"
              "    for i in range(N):\n"
              "        await ping.put(i)\n"
              "        await pong.get()\n"
              "    await peer\n",
              100000);
}
BENCHMARK(BM_QueuePingPong)->Unit(benchmark::kMillisecond);

// Start-up inside the process: building the interpreter (types, builtins,
// modules) and a session's loop, then running the first statement.
void BM_StartupToFirstResult(benchmark::State& state) {
  for (auto _ : state) {
    Interpreter in;
    Session session(in);
    session.run_source("x = 1 + 1\n");
    benchmark::DoNotOptimize(in.main_globals.size());
  }
}
BENCHMARK(BM_StartupToFirstResult)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace repl

BENCHMARK_MAIN();
