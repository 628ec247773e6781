// A small aio program: a producer feeds a bounded queue, three worker tasks take
// jobs from it, and each job gets a timeout. The same shape as the Queue example
// in Python's asyncio docs. Run it with:  ./bazelw run //docs/examples:pipeline
// [START pipeline]
#include <cstdio>
#include <string>
#include <vector>

#include "aio.h"

using namespace std::chrono_literals;

// Pretends to fetch something: job n takes n × 200 ms.
aio::Coro<std::string> fetch(int job) {
  co_await aio::sleep(job * 200ms);
  co_return "job " + std::to_string(job) + " done";
}

// `jobs` is a reference: amain() keeps the queue alive until every worker has
// finished (it awaits them below), which is what makes the reference safe.
aio::Coro<> worker(std::string name, aio::Queue<int>& jobs) {
  for (;;) {
    int job = co_await jobs.get();
    try {
      std::string result = co_await aio::timeout(700ms, fetch(job));
      std::printf("%s: %s\n", name.c_str(), result.c_str());
    } catch (const aio::TimeoutError&) {
      std::printf("%s: job %d timed out\n", name.c_str(), job);
    }
    jobs.task_done();
  }
}

aio::Coro<int> amain() {
  aio::Queue<int> jobs(/*maxsize=*/2);
  std::vector<aio::Task<>> workers;
  for (std::string name : {"worker-1", "worker-2", "worker-3"}) {
    workers.push_back(aio::create_task(worker(name, jobs), name));
  }
  for (int job = 1; job <= 6; ++job) co_await jobs.put(job);  // waits while full
  co_await jobs.join();  // until every job was task_done()

  for (aio::Task<>& task : workers) task.cancel();
  for (aio::Task<>& task : workers) {
    try {
      co_await task;
    } catch (const aio::CancelledError&) {
      // expected: we cancelled it
    }
  }
  std::printf("all jobs handled\n");
  co_return 0;
}

int main() { return aio::run_main(amain()); }
// [END pipeline]
