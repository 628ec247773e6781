// The samples in async/'s header comments, compiled and run (on the virtual-time
// test loop). //tools/build_checks:header_samples_test checks that each sample in
// a header appears, line for line, in one of the `// [header]` regions here;
// the lines around a sample give it the names it uses.
#include <chrono>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "async/catching.h"
#include "async/coro.h"
#include "async/errors.h"
#include "async/executor.h"
#include "async/future.h"
#include "async/gather.h"
#include "async/sleep.h"
#include "async/task.h"
#include "async/task_group.h"
#include "async/testing.h"
#include "async/timeouts.h"
#include "async/wait.h"
#include "gtest/gtest.h"
#include "subprocess/subprocess.h"

namespace {

using namespace std::chrono_literals;

aio::Coro<int> compute() {
  co_await aio::sleep(1ms);
  co_return 7;
}

aio::Coro<int> fetch(std::string name) {
  co_await aio::sleep(1ms);
  co_return static_cast<int>(name.size());
}

aio::Coro<int> f() { co_return 1; }
aio::Coro<int> g() {
  co_await aio::sleep(1ms);
  throw aio::ValueError("g failed");
}

// [async/coro.h]
aio::Coro<int> answer() { co_await aio::sleep(10ms); co_return 42; }
AIO_TEST(CoroSample, AnswerRunsInsideTheCurrentTask) {
  int value = co_await answer();   // runs inside the current task
  EXPECT_EQ(value, 42);
}
AIO_TEST(CoroSample, InvokeKeepsTheLambdaAlive) {
  std::string data = "kept";
  auto task = aio::create_task(aio::invoke([data] () -> aio::Coro<> { co_await aio::sleep(1ms); EXPECT_EQ(data, "kept"); }));
  co_await task;
}
// [end]

// [async/sleep.h]
AIO_TEST(SleepSample, ReturnsItsResult) {
  co_await aio::sleep(100ms);
  int x = co_await aio::sleep(1s, 42);   // returns 42 after a second
  EXPECT_EQ(x, 42);
}
// [end]

// [async/task.h]
AIO_TEST(TaskSample, CreateAndAwait) {
  aio::Task<int> task = aio::create_task(compute(), "compute");
  EXPECT_FALSE(task.done());         // compute() starts at the next iteration
  int value = co_await task;          // any number of tasks may await it
  EXPECT_EQ(value, 7);
}
AIO_TEST(TaskSample, EagerStart) {
  aio::TaskOptions options;
  options.eager_start = true;
  aio::Task<int> task = aio::create_task(compute(), options);
  EXPECT_EQ(co_await task, 7);
}
// [end]

// [async/testing.h]
AIO_TEST(Sleep, TakesVirtualTime) {
  auto start = aio::get_running_loop().time();
  co_await aio::sleep(1h);
  EXPECT_EQ(aio::get_running_loop().time() - start, 1h);
}
// [end]

// [async/future.h]
template <class Callback>
void some_callback_api(Callback callback) {
  aio::get_running_loop().call_soon(std::move(callback));
}
AIO_TEST(FutureSample, SetByACallback) {
  aio::Future<int> future;                 // on the running loop
  some_callback_api([future]() mutable { future.set_result(42); });
  int value = co_await future;
  EXPECT_EQ(value, 42);
}
AIO_TEST(FutureSample, SetFromAnotherThread) {
  aio::Future<int> future;
  auto setter = future.threadsafe_setter();
  std::thread([setter] { setter.set_result(42); }).detach();
  EXPECT_EQ(co_await future, 42);
}
// [end]

// [async/executor.h]
std::string read_whole_file(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}
AIO_TEST(ExecutorSample, ToThread) {
  std::string path = "/proc/self/comm";
  std::string text = co_await aio::to_thread(read_whole_file, path);
  EXPECT_FALSE(text.empty());
}
// [end]

// [async/gather.h]
AIO_TEST(GatherSample, TupleVectorAndOutcomes) {
  std::vector<aio::Task<int>> tasks;
  tasks.push_back(aio::create_task(compute()));
  tasks.push_back(aio::create_task(compute()));
  auto [a, b] = co_await aio::gather(fetch("a"), fetch("b"));      // a tuple
  std::vector<int> all = co_await aio::gather(std::move(tasks));    // a vector
  auto outcomes = co_await aio::gather(aio::return_exceptions, f(), g());
  EXPECT_EQ(a + b, 2);
  EXPECT_EQ(all, (std::vector<int>{7, 7}));
  EXPECT_TRUE(std::get<0>(outcomes).has_value());
  EXPECT_FALSE(std::get<1>(outcomes).has_value());
}
// [end]

// [async/task_group.h]
AIO_TEST(TaskGroupSample, EveryChildHasFinished) {
  co_await aio::task_group([&](aio::TaskGroup& group) -> aio::Coro<> {
    group.create_task(fetch("a"));
    group.create_task(fetch("b"));
    co_return;
  });  // here every child has finished
}
aio::Coro<void> work() { co_await aio::sleep(1ms); }
AIO_TEST(TaskGroupSample, PlainBody) {
  co_await aio::task_group([&](aio::TaskGroup& group) { group.create_task(work()); });
}
// [end]

// [async/timeouts.h]
AIO_TEST(TimeoutSample, ReadlineTimesOut) {
  struct SlowReader {
    aio::Coro<std::string> readline() { co_await aio::sleep(1h); co_return "late"; }
  } reader;
  bool timed_out = false;
  try {
    std::string line = co_await aio::timeout(2s, reader.readline());
  } catch (const aio::TimeoutError&) { timed_out = true; }
  EXPECT_TRUE(timed_out);
}
AIO_TEST(TimeoutSample, Reschedule) {
  bool finished = false;
  co_await aio::timeout(10s, [&](aio::Timeout& t) -> aio::Coro<> {
    co_await aio::sleep(9s);
    t.reschedule(aio::get_running_loop().time() + 10s);  // ten more seconds
    co_await aio::sleep(9s);
    finished = true;
  });
  EXPECT_TRUE(finished);
}
// [end]

// [async/wait.h]
std::vector<aio::Task<int>> three_tasks() {
  std::vector<aio::Task<int>> tasks;
  for (int i = 1; i <= 3; ++i) tasks.push_back(aio::create_task(aio::sleep(i * 1s, i)));
  return tasks;
}
AIO_TEST(WaitSample, FirstCompleted) {
  std::vector<aio::Task<int>> tasks = three_tasks();
  auto [done, pending] = co_await aio::wait(tasks, aio::FIRST_COMPLETED, 5s);
  EXPECT_EQ(done.size(), 1u);
  EXPECT_EQ(pending.size(), 2u);
  for (aio::Task<int>& task : tasks) task.cancel();
  co_await aio::wait(tasks);
}
AIO_TEST(WaitSample, AsCompletedObject) {
  std::vector<aio::Task<int>> tasks = three_tasks();
  std::vector<int> results;
  auto use = [&](int result) { results.push_back(result); };
  aio::AsCompleted<int> completed(tasks, 10s);
  while (std::optional<aio::Task<int>> next = co_await completed.next()) {
    use(next->result());
  }
  EXPECT_EQ(results, (std::vector<int>{1, 2, 3}));
}
AIO_TEST(WaitSample, AsCompletedBothForms) {
  std::vector<aio::Task<int>> tasks = three_tasks();
  std::vector<int> results;
  // for aw in as_completed(tasks): result = await aw
  for (aio::Coro<int> next : aio::as_completed(tasks, 5s)) int result = co_await std::move(next);
  // async for task in as_completed(tasks)  (3.13)
  auto completion = aio::as_completed(tasks);
  while (std::optional<aio::Task<int>> task = co_await completion.next()) results.push_back(task->result());
  EXPECT_EQ(results, (std::vector<int>{1, 2, 3}));
}
// [end]

// [async/catching.h]
AIO_TEST(CatchingSample, TimeoutThenKillAndWait) {
  std::vector<std::string> args = {"30"};
  aio::Process proc = co_await aio::create_subprocess_exec("sleep", args);
  auto waited = co_await aio::catching<aio::TimeoutError>(aio::wait_for(proc.wait(), 5s));
  if (!waited) {
    proc.kill();
    co_await proc.wait();
  }
  EXPECT_FALSE(waited);
  EXPECT_EQ(proc.returncode(), -9);
}
// [end]

}  // namespace
