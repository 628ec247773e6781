// to_thread, run_in_executor, ThreadPoolExecutor, run_coroutine_threadsafe
// (asyncio's test_threads.py and the run_coroutine_threadsafe tests in
// test_tasks.py). These cross threads: they also run under --config=tsan.
#include "async/executor.h"

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <future>
#include <stdexcept>
#include <string>
#include <thread>

#include "async/run.h"
#include "async/sleep.h"
#include "async/testing.h"
#include "gtest/gtest.h"

namespace aio {
namespace {

using namespace std::chrono_literals;

std::string thread_name() {
  char name[16] = {};
  ::pthread_getname_np(::pthread_self(), name, sizeof name);
  return name;
}

TEST(ToThread, RunsTheFunctionOnANamedPoolThreadAndReturnsItsValue) {
  const std::thread::id loop_thread = std::this_thread::get_id();
  auto [value, ran_on, name] = run(invoke([]() -> Coro<std::tuple<int, std::thread::id, std::string>> {
    co_return co_await to_thread([](int a, int b) { return std::tuple(a * b, std::this_thread::get_id(), thread_name()); }, 6, 7);
  }));
  EXPECT_EQ(value, 42);
  EXPECT_NE(ran_on, loop_thread);
  EXPECT_EQ(name.rfind("aio-pool_", 0), 0u) << name;
}

TEST(ToThread, ExceptionsPropagateToTheAwaiter) {
  EXPECT_THROW(run(to_thread([] { throw std::out_of_range("from the thread"); })), std::out_of_range);
}

TEST(ToThread, ArgumentsAreCopiedIntoTheJob) {
  std::string result = run(invoke([]() -> Coro<std::string> {
    std::string text = "copied";
    Coro<std::string> job = to_thread([](const std::string& s) { return s + "!"; }, text);
    text = "changed";  // the job has its own copy
    co_return co_await std::move(job);
  }));
  EXPECT_EQ(result, "copied!");
}

// A gate that a pool thread waits on, opened by the test: no sleeps.
struct Gate {
  std::promise<void> open;
  std::shared_future<void> opened = open.get_future().share();
  void wait() const { opened.wait(); }
};

TEST(RunInExecutor, CancellingBeforeTheJobStartsMeansItNeverRuns) {
  ThreadPoolExecutor pool(1);
  auto gate = std::make_shared<Gate>();
  std::atomic<bool> second_ran{false};
  run(invoke([&]() -> Coro<> {
    EventLoop& loop = get_running_loop();
    Future<int> first = loop.run_in_executor(&pool, [gate] {
      gate->wait();
      return 1;
    });
    Task<int> second = create_task(invoke([&]() -> Coro<int> {
      co_return co_await loop.run_in_executor(&pool, [&second_ran] {
        second_ran = true;
        return 2;
      });
    }));
    co_await sleep(0s);  // `second` is now waiting on its (queued) job
    second.cancel();
    EXPECT_THROW(co_await second, CancelledError);
    gate->open.set_value();  // now the pool thread can move on
    EXPECT_EQ(co_await first, 1);
  }));
  pool.shutdown();
  EXPECT_FALSE(second_ran);
}

TEST(RunInExecutor, AJobThatIsRunningFinishesButItsResultIsDropped) {
  ThreadPoolExecutor pool(1);
  auto gate = std::make_shared<Gate>();
  std::atomic<bool> finished{false};
  std::promise<void> started;
  run(invoke([&]() -> Coro<> {
    Task<int> waiter = create_task(invoke([&]() -> Coro<int> {
      // Named, not a temporary in the co_await expression: GCC 12 destroys the
      // captures of such a temporary lambda twice (docs/async.md, "GCC 12").
      auto job = [&, gate] {
        started.set_value();
        gate->wait();
        finished = true;
        return 5;
      };
      co_return co_await get_running_loop().run_in_executor(&pool, std::move(job));
    }));
    co_await to_thread([&started] { started.get_future().wait(); });  // the job is running
    waiter.cancel();
    EXPECT_THROW(co_await waiter, CancelledError);
    gate->open.set_value();
  }));
  pool.shutdown();
  EXPECT_TRUE(finished);
}

TEST(ThreadPool, StartsThreadsOnDemandUpToItsLimit) {
  ThreadPoolExecutor pool(3, "test");
  auto gate = std::make_shared<Gate>();
  std::atomic<int> done{0};
  for (int i = 0; i < 10; ++i) {
    pool.submit([gate, &done] {
      gate->wait();
      ++done;
    });
  }
  EXPECT_EQ(pool.thread_count(), 3u);
  gate->open.set_value();
  pool.shutdown(/*wait=*/true);
  EXPECT_EQ(done, 10);
  EXPECT_EQ(pool.max_workers(), 3u);
}

TEST(ThreadPool, MisuseIsAClearError) {
  EXPECT_THROW(ThreadPoolExecutor(0), ValueError);
  ThreadPoolExecutor pool(1);
  pool.shutdown();
  pool.shutdown();  // idempotent
  EXPECT_THROW(pool.submit([] {}), std::runtime_error);
}

TEST(ThreadPool, ShutdownCanDropPendingJobs) {
  ThreadPoolExecutor pool(1);
  auto gate = std::make_shared<Gate>();
  std::promise<void> started;
  std::atomic<int> ran{0};
  pool.submit([&, gate] {
    started.set_value();
    gate->wait();
    ++ran;
  });
  started.get_future().wait();
  for (int i = 0; i < 5; ++i) pool.submit([&ran] { ++ran; });
  pool.shutdown(/*wait=*/false, /*cancel_pending=*/true);  // drops the five
  gate->open.set_value();
  pool.shutdown(/*wait=*/true);
  EXPECT_EQ(ran, 1);  // only the job that had started
}

TEST(ThreadPool, DefaultSizeIsAsyncios) {
  const std::size_t cores = std::max(1u, std::thread::hardware_concurrency());
  EXPECT_EQ(ThreadPoolExecutor::default_max_workers(), std::min<std::size_t>(32, cores + 4));
}

// A loop running on its own thread, for run_coroutine_threadsafe.
class LoopThread {
 public:
  LoopThread() : thread_([this] { run_loop(); }) { ready_.get_future().wait(); }
  ~LoopThread() {
    loop_->call_soon_threadsafe([this] { loop_->stop(); });
    thread_.join();
  }
  EventLoop& loop() { return *loop_; }

 private:
  void run_loop() {
    EventLoop loop;
    loop_ = &loop;
    loop.call_soon([this] { ready_.set_value(); });
    loop.run_forever();
  }
  std::promise<void> ready_;
  EventLoop* loop_ = nullptr;
  std::thread thread_;
};

TEST(RunCoroutineThreadsafe, ReturnsTheResultToAnotherThread) {
  LoopThread loop_thread;
  ConcurrentFuture<int> future = run_coroutine_threadsafe(
      invoke([]() -> Coro<int> {
        co_await sleep(1ms);
        co_return 11;
      }),
      loop_thread.loop());
  EXPECT_EQ(future.get(), 11);
  EXPECT_TRUE(future.done());
  EXPECT_FALSE(future.cancelled());
}

TEST(RunCoroutineThreadsafe, PropagatesExceptions) {
  LoopThread loop_thread;
  auto future = run_coroutine_threadsafe(invoke([]() -> Coro<> { throw std::logic_error("in the loop"); co_return; }),
                                         loop_thread.loop());
  EXPECT_THROW(future.get(), std::logic_error);
}

TEST(RunCoroutineThreadsafe, CancelCancelsTheTask) {
  LoopThread loop_thread;
  std::promise<void> started;
  auto future = run_coroutine_threadsafe(invoke([&started]() -> Coro<int> {
                                           started.set_value();
                                           co_await sleep(1h);
                                           co_return 1;
                                         }),
                                         loop_thread.loop());
  started.get_future().wait();
  EXPECT_TRUE(future.cancel());
  EXPECT_THROW(future.get(), CancelledError);
  EXPECT_TRUE(future.cancelled());
  EXPECT_FALSE(future.cancel());  // done
  EXPECT_TRUE(future.wait_for(0s));
}

TEST(RunCoroutineThreadsafe, ALoopDestroyedBeforeTheTaskFinishesDoesNotLeaveGetWaiting) {
  std::optional<ConcurrentFuture<int>> future;
  {
    EventLoop loop;
    loop.set_exception_handler([](EventLoop&, const ExceptionContext&) {});  // "destroyed but pending"
    future.emplace(run_coroutine_threadsafe(invoke([]() -> Coro<int> {
                                               co_await sleep(1h);
                                               co_return 1;
                                             }),
                                             loop));
    loop.call_later(std::chrono::milliseconds(1), [&loop] { loop.stop(); });
    loop.run_forever();
  }
  EXPECT_THROW(future->get(), CancelledError);
  EXPECT_TRUE(future->cancelled());
}

TEST(RunCoroutineThreadsafe, AClosedLoopRefuses) {
  EventLoop loop;
  loop.close();
  EXPECT_THROW(run_coroutine_threadsafe(invoke([]() -> Coro<int> { co_return 1; }), loop), std::runtime_error);
}

TEST(Runner, CloseWaitsForTheDefaultPoolsJobs) {
  std::atomic<bool> finished{false};
  auto gate = std::make_shared<Gate>();
  std::promise<void> started;
  std::thread opener;
  run(invoke([&]() -> Coro<> {
    // Left running in the pool when the main task returns.
    create_task(to_thread([&, gate] {
      started.set_value();
      gate->wait();
      finished = true;
    }));
    co_await to_thread([&started] { started.get_future().wait(); });
    opener = std::thread([gate] { gate->open.set_value(); });
  }));
  opener.join();
  EXPECT_TRUE(finished);  // run() returned only after the job ended
}

}  // namespace
}  // namespace aio
