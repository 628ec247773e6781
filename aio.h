// aio: asyncio for C++20. This umbrella header (target //:aio) brings in the
// whole library except the Boost.Asio bridge, whose headers are heavy to compile:
// include "async/asio.h" where you await Asio operations (//:aio links it). The
// finer targets (//async:task, //sync:queue, ...) have their own headers for
// code that wants to depend on less.
//
//   #include "aio.h"
//   aio::Coro<int> amain() { co_await aio::sleep(std::chrono::milliseconds(10)); co_return 0; }
//   int main() { return aio::run_main(amain()); }
#ifndef AIO_AIO_H_
#define AIO_AIO_H_

#if __cplusplus < 202002L
#error "aio needs C++20: compile with -std=c++20 (Bazel: build --cxxopt=-std=c++20 in .bazelrc)"
#endif

#include "async/call_graph.h"  // IWYU pragma: export
#include "async/catching.h"  // IWYU pragma: export
#include "async/coro.h"      // IWYU pragma: export
#include "async/errors.h"    // IWYU pragma: export
#include "async/executor.h"  // IWYU pragma: export
#include "async/future.h"    // IWYU pragma: export
#include "async/gather.h"    // IWYU pragma: export
#include "async/inspect.h"   // IWYU pragma: export
#include "async/loop.h"      // IWYU pragma: export
#include "async/run.h"       // IWYU pragma: export
#include "async/sleep.h"     // IWYU pragma: export
#include "async/task.h"        // IWYU pragma: export
#include "async/task_group.h"  // IWYU pragma: export
#include "async/timeouts.h"  // IWYU pragma: export
#include "async/wait.h"      // IWYU pragma: export
#include "net/address.h"     // IWYU pragma: export
#include "net/datagram.h"    // IWYU pragma: export
#include "net/dns.h"         // IWYU pragma: export
#include "net/server.h"      // IWYU pragma: export
#include "net/streams.h"     // IWYU pragma: export
#include "net/tls.h"         // IWYU pragma: export
#include "net/transport.h"   // IWYU pragma: export
#include "subprocess/subprocess.h"  // IWYU pragma: export
#include "sync/barrier.h"    // IWYU pragma: export
#include "sync/condition.h"  // IWYU pragma: export
#include "sync/event.h"      // IWYU pragma: export
#include "sync/lock.h"       // IWYU pragma: export
#include "sync/queue.h"      // IWYU pragma: export
#include "sync/semaphore.h"  // IWYU pragma: export

#endif  // AIO_AIO_H_
