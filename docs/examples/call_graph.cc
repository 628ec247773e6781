// Example for docs/async.md: what tasks are waiting on (aio::capture_call_graph).
// call_graph_example_test checks what this prints (ids masked).
#include <chrono>
#include <cstdio>
#include <string>

#include "aio.h"
#include "async/call_graph.h"

using namespace std::chrono_literals;

// [START call_graph]
aio::Coro<> worker(aio::Queue<int>& jobs) {
  while (true) {
    int job = co_await jobs.get();
    co_await aio::sleep(std::chrono::milliseconds(job));
    jobs.task_done();
  }
}

aio::Coro<> run_workers(aio::Queue<int>& jobs) {
  aio::Task<> first = aio::create_task(worker(jobs), "worker-1");
  aio::Task<> second = aio::create_task(worker(jobs), "worker-2");
  co_await aio::gather(first, second);
}

aio::Coro<> tick() {
  while (true) co_await aio::sleep(1s);
}

aio::Coro<> amain() {
  aio::Queue<int> jobs;
  aio::Task<> pool = aio::create_task(run_workers(jobs), "pool");
  aio::Task<> ticker = aio::create_task(tick(), "ticker");
  co_await aio::sleep(10ms);  // the workers wait for jobs, the ticker sleeps

  // One task's graph, as Python 3.14's asyncio.print_call_graph prints it.
  for (const aio::AnyTask& task : aio::all_tasks()) {
    if (task.get_name() == "worker-2") aio::print_call_graph(task);
  }
  // Every task at once: what `ps PID` shows of another process.
  for (const aio::TaskSnapshot& task : aio::snapshot_tasks()) {
    std::string awaiting;
    for (const std::string& link : task.awaiting) awaiting += " " + link;
    std::printf("%s: %s%s\n", task.name.c_str(), task.state.c_str(), awaiting.c_str());
  }
  pool.cancel();
  ticker.cancel();
  co_await aio::catching<aio::CancelledError>(pool);
  co_await aio::catching<aio::CancelledError>(ticker);
}
// [END call_graph]

int main() { return aio::run_main(amain()); }
