// The second sample in async/run.h's header comment: a whole program, run as a
// test (its exit status is the test's).
#include "async/coro.h"
#include "async/run.h"
#include "async/sleep.h"

aio::Coro<int> amain() {
  co_await aio::sleep(std::chrono::milliseconds(1));
  co_return 0;
}

// [async/run.h]
int main() { return aio::run_main(amain()); }
// [end]
