// Examples for docs/sync.md: a worker pool limited by a Semaphore, a Lock
// guarding shared state, an Event, a Condition and a Barrier.
// examples_test checks what this prints.
#include <cstdio>
#include <string>
#include <vector>

#include "aio.h"

using namespace std::chrono_literals;

// [START semaphore_pool]
// Twenty downloads, at most three at a time.
aio::Coro<> download(aio::Semaphore& slots, int& running, int& most) {
  aio::SemaphoreGuard slot = co_await slots.scoped_acquire();  // async with slots:
  most = std::max(most, ++running);
  co_await aio::sleep(10ms);  // the download
  --running;
}

aio::Coro<> semaphore_example() {
  aio::Semaphore slots(3);
  int running = 0;
  int most = 0;
  co_await aio::task_group([&](aio::TaskGroup& group) -> aio::Coro<> {
    for (int i = 0; i < 20; ++i) group.create_task(download(slots, running, most));
    co_return;
  });
  std::printf("20 downloads, at most %d at a time\n", most);
}
// [END semaphore_pool]

// [START lock]
aio::Coro<> lock_example() {
  aio::Lock lock;
  int balance = 100;
  auto withdraw = [&](int amount) -> aio::Coro<bool> {
    aio::LockGuard held = co_await lock.scoped_acquire();
    if (balance < amount) co_return false;
    co_await aio::sleep(1ms);  // a suspension inside the critical section
    balance -= amount;
    co_return true;
  };
  auto [first, second] = co_await aio::gather(withdraw(80), withdraw(80));
  std::printf("withdrawals: %s and %s, balance %d\n", first ? "ok" : "refused", second ? "ok" : "refused",
              balance);
}
// [END lock]

// [START event_condition_barrier]
aio::Coro<> event_condition_barrier_example() {
  aio::Event ready;
  aio::Task<> waiter = aio::create_task(aio::invoke([&ready]() -> aio::Coro<> {
    co_await ready.wait();
    std::printf("event: the waiter saw set()\n");
  }));
  co_await aio::sleep(1ms);
  ready.set();
  co_await waiter;

  aio::Condition condition;
  std::vector<int> items;
  aio::Task<> consumer = aio::create_task(aio::invoke([&]() -> aio::Coro<> {
    aio::LockGuard held = co_await condition.scoped_acquire();
    co_await condition.wait_for([&items] { return !items.empty(); });
    std::printf("condition: got item %d\n", items.front());
  }));
  co_await aio::sleep(1ms);
  {
    aio::LockGuard held = co_await condition.scoped_acquire();
    items.push_back(7);
    condition.notify();
  }
  co_await consumer;

  aio::Barrier barrier(3);
  std::vector<aio::Task<std::size_t>> parties;
  for (int i = 0; i < 3; ++i) parties.push_back(aio::create_task(barrier.wait()));
  std::size_t index_sum = 0;
  for (aio::Task<std::size_t>& party : parties) index_sum += co_await party;
  std::printf("barrier: 3 parties passed, indices summing to %zu\n", index_sum);
}
// [END event_condition_barrier]

aio::Coro<int> amain() {
  co_await semaphore_example();
  co_await lock_example();
  co_await event_condition_barrier_example();
  co_return 0;
}

int main() { return aio::run_main(amain()); }
