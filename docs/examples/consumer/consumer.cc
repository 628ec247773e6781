// Built in a separate workspace against @aio: proves the public targets and
// include paths work from outside this repository.
#include <cstdio>
#include <string>

#include "async/run.h"
#include "async/sleep.h"
#include "async/task.h"
#include "async/timeouts.h"
#include "sync/queue.h"

using namespace std::chrono_literals;

aio::Coro<int> produce(aio::Queue<int>& queue) {
  for (int i = 1; i <= 3; ++i) co_await queue.put(i);
  co_return 3;
}

aio::Coro<int> amain() {
  aio::Queue<int> queue(1);
  aio::Task<int> producer = aio::create_task(produce(queue), "producer");
  int sum = 0;
  for (int i = 0; i < 3; ++i) sum += co_await aio::timeout(1s, queue.get());
  co_await producer;
  std::printf("consumer: sum=%d from %s\n", sum, producer.get_name().c_str());
  co_return 0;
}

int main() { return aio::run(amain()); }
