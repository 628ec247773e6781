// The samples in async/call_graph.h's and async/inspect.h's header comments,
// compiled and run. //tools/build_checks:header_samples_test checks that each
// sample in a header appears, line for line, in one of the `// [header]`
// regions here; the lines around a sample give it the names it uses.
#include <chrono>
#include <sys/stat.h>

#include "async/call_graph.h"
#include "async/coro.h"
#include "async/inspect.h"
#include "async/loop.h"
#include "async/sleep.h"
#include "async/task.h"
#include "async/testing.h"
#include "gtest/gtest.h"

namespace {

using namespace std::chrono_literals;

aio::Coro<> wait_long() { co_await aio::sleep(1h); }

AIO_TEST(CallGraphHeaderSamples, PrintCallGraph) {
  aio::Task<> worker = aio::create_task(wait_long(), "worker-2");
  co_await aio::testing::let_other_tasks_run();
  // [async/call_graph.h]
  aio::print_call_graph(worker);
  // * Task(name='worker-2', id=0x5581d2c0)
  //   + Call stack:
  //   |   Queue.get
  //   + Awaited by:
  //     * Task(name='main', id=0x5581c9a0)
  //       + Call stack:
  //       |   gather
  // [end]
  worker.cancel();
  co_await aio::testing::let_other_tasks_run();
}

AIO_TEST(CallGraphHeaderSamples, InspectServer) {
  aio::EventLoop& loop = aio::get_running_loop();
  {
    // [async/inspect.h]
    aio::InspectServer inspect(loop);   // serves until destroyed
    // [end]
    struct stat info {};
    EXPECT_EQ(::stat(inspect.path().c_str(), &info), 0);
  }
  co_return;
}

}  // namespace
