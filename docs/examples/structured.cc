// Examples for docs/async.md: TaskGroup, gather, shield, wait, as_completed,
// wait_for and the Timeout object. examples_test checks what this prints.
#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include "aio.h"

using namespace std::chrono_literals;

aio::Coro<int> slow_double(int x, std::chrono::milliseconds delay) {
  co_await aio::sleep(delay);
  if (x < 0) throw std::invalid_argument("negative input " + std::to_string(x));
  co_return 2 * x;
}

// [START task_group]
aio::Coro<> task_group_example() {
  std::vector<aio::Task<int>> results;
  co_await aio::task_group([&](aio::TaskGroup& group) -> aio::Coro<> {
    for (int x : {1, 2, 3}) results.push_back(group.create_task(slow_double(x, x * 10ms)));
    co_return;
  });  // every child has finished here
  std::printf("group results: %d %d %d\n", results[0].result(), results[1].result(), results[2].result());

  try {
    co_await aio::task_group([](aio::TaskGroup& group) -> aio::Coro<> {
      group.create_task(slow_double(-1, 10ms));   // fails: the group cancels the rest
      group.create_task(slow_double(5, 1h));
      co_return;
    });
  } catch (const aio::ExceptionGroup& errors) {
    std::printf("%s; first: %s\n", errors.message().c_str(),
                errors.find<std::invalid_argument>()->what());
  }
}
// [END task_group]

// [START gather]
aio::Coro<> gather_example() {
  auto [a, b] = co_await aio::gather(slow_double(1, 20ms), slow_double(2, 10ms));
  std::printf("gather: %d %d\n", a, b);  // argument order, not finishing order

  auto [ok, failed] = co_await aio::gather(aio::return_exceptions, slow_double(3, 10ms), slow_double(-3, 10ms));
  std::printf("return_exceptions: %d, %s\n", ok.value(), failed.has_value() ? "value" : "error");
}
// [END gather]

// [START shield]
aio::Coro<> shield_example() {
  aio::Task<int> important = aio::create_task(slow_double(21, 50ms));
  try {
    co_await aio::wait_for(aio::shield(important), 10ms);  // gives up waiting...
  } catch (const aio::TimeoutError&) {
    std::printf("stopped waiting; the shielded task goes on\n");
  }
  std::printf("shielded result: %d\n", co_await important);  // ...but it finished
}
// [END shield]

// [START wait]
aio::Coro<> wait_example() {
  std::vector<aio::Task<int>> tasks;
  for (int x : {3, 1, 2}) tasks.push_back(aio::create_task(slow_double(x, x * 10ms)));
  auto [done, pending] = co_await aio::wait(tasks, aio::FIRST_COMPLETED);
  std::printf("first done: %d, still pending: %zu\n", done[0].result(), pending.size());

  // asyncio's `for aw in as_completed(pending): print(await aw)`.
  for (aio::Coro<int> next : aio::as_completed(pending)) {
    std::printf("completed: %d\n", co_await std::move(next));
  }
}
// [END wait]

// [START timeout_object]
aio::Coro<> timeout_object_example() {
  int value = co_await aio::timeout(20ms, [](aio::Timeout& deadline) -> aio::Coro<int> {
    // More time is needed after all: move the deadline.
    deadline.reschedule(aio::get_running_loop().time() + 100ms);
    co_return co_await slow_double(4, 50ms);
  });
  std::printf("rescheduled timeout: %d\n", value);
}
// [END timeout_object]

aio::Coro<int> amain() {
  co_await task_group_example();
  co_await gather_example();
  co_await shield_example();
  co_await wait_example();
  co_await timeout_object_example();
  co_return 0;
}

int main() { return aio::run_main(amain()); }
