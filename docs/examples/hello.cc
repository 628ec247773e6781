#include <cstdio>
#include "aio.h"
using namespace std::chrono_literals;

aio::Coro<int> slow_square(int x) {
  co_await aio::sleep(100ms);
  co_return x * x;
}

aio::Coro<> amain() {
  aio::Task<int> task = aio::create_task(slow_square(7));  // runs concurrently
  int fast = co_await aio::timeout(1s, slow_square(3));     // TimeoutError after 1 s
  std::printf("%d %d\n", fast, co_await task);
}
int main() { return aio::run_main(amain()); }
