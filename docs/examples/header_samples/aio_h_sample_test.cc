// The sample in aio.h's header comment: a whole program, run as a test (its
// exit status is the test's).
// [aio.h]
#include "aio.h"
aio::Coro<int> amain() { co_await aio::sleep(std::chrono::milliseconds(10)); co_return 0; }
int main() { return aio::run_main(amain()); }
// [end]
