// A small aio program with known tasks, for inspect_client_test.sh: the main
// task waits for SIGTERM on an Event; "gatherer" gathers two workers parked in
// Queue.get; "waiter" awaits "sleeper", which sleeps. It prints "ready" once
// every task is parked, and exits 0 on SIGTERM (aio::run then cancels the rest
// and removes the inspection socket, if AIO_INSPECT=1 made one).
#include <csignal>
#include <cstdio>

#include "async/coro.h"
#include "async/gather.h"
#include "async/loop.h"
#include "async/run.h"
#include "async/sleep.h"
#include "async/task.h"
#include "sync/event.h"
#include "sync/queue.h"

namespace {

using namespace std::chrono_literals;

aio::Coro<> worker(aio::Queue<int>& queue) { co_await queue.get(); }

aio::Coro<> gather_workers(aio::Queue<int>& queue) {
  aio::Task<> first = aio::create_task(worker(queue), "worker-1");
  aio::Task<> second = aio::create_task(worker(queue), "worker-2");
  co_await aio::gather(first, second);
}

aio::Coro<> sleeper() { co_await aio::sleep(1h); }
aio::Coro<> wait_for(aio::Task<> other) { co_await other; }

aio::Coro<int> amain() {
  aio::Queue<int> queue;
  aio::Event stop;
  aio::get_running_loop().add_signal_handler(SIGTERM, [&stop] { stop.set(); });
  aio::Task<> gatherer = aio::create_task(gather_workers(queue), "gatherer");
  aio::Task<> sleeping = aio::create_task(sleeper(), "sleeper");
  aio::Task<> waiter = aio::create_task(wait_for(sleeping), "waiter");
  for (int i = 0; i < 3; ++i) co_await aio::sleep(0s);
  std::printf("ready\n");
  std::fflush(stdout);
  co_await stop.wait();
  aio::get_running_loop().remove_signal_handler(SIGTERM);
  co_return 0;
}

}  // namespace

int main() { return aio::run_main(amain()); }
