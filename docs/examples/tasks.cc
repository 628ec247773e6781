// Examples for docs/async.md: running, tasks, cancellation, timeouts, futures.
// Each region is included in the docs; examples_test checks what this prints.
#include <csignal>
#include <chrono>
#include <cstdio>
#include <exception>
#include <string>
#include <thread>

#include "aio.h"

using namespace std::chrono_literals;

// [START create_task]
aio::Coro<std::string> greet(std::string name, std::chrono::milliseconds delay) {
  co_await aio::sleep(delay);
  co_return "hello " + name;
}

aio::Coro<> create_task_example() {
  // Both tasks start at the next loop iteration and sleep concurrently.
  aio::Task<std::string> slow = aio::create_task(greet("slow", 200ms), "slow");
  aio::Task<std::string> fast = aio::create_task(greet("fast", 100ms));
  std::printf("%s, %s\n", (co_await slow).c_str(), (co_await fast).c_str());
}
// [END create_task]

// [START cancel]
aio::Coro<> cancel_example() {
  aio::Task<> worker = aio::create_task(aio::invoke([]() -> aio::Coro<> {
    std::exception_ptr cancelled;
    try {
      co_await aio::sleep(1h);
    } catch (const aio::CancelledError& error) {
      std::printf("worker cleans up (%s)\n", error.message().c_str());
      cancelled = std::current_exception();  // C++ cannot co_await in a catch block
    }
    if (cancelled) {
      co_await aio::sleep(10ms);            // so the clean-up that awaits comes after it
      std::rethrow_exception(cancelled);    // and the task still ends cancelled
    }
  }));
  co_await aio::sleep(10ms);
  worker.cancel("shutting down");
  try {
    co_await worker;
  } catch (const aio::CancelledError&) {
    std::printf("worker cancelled: %s\n", worker.cancelled() ? "yes" : "no");
  }
}
// [END cancel]

// [START timeout]
aio::Coro<> timeout_example() {
  try {
    std::string greeting = co_await aio::timeout(50ms, greet("late", 1s));
    std::printf("%s\n", greeting.c_str());
  } catch (const aio::TimeoutError&) {
    std::printf("timed out after 50 ms\n");
  }
}
// [END timeout]

// [START future]
// A callback API, here a thread that reports back once. A Future handle must
// stay on its loop's thread; the thread gets a ThreadsafeSetter instead.
aio::Coro<> future_example() {
  aio::Future<int> answer;
  aio::ThreadsafeSetter<int> setter = answer.threadsafe_setter();
  std::thread worker([setter] { setter.set_result(42); });
  std::printf("the answer is %d\n", co_await answer);
  worker.join();
}
// [END future]

// [START call_later]
aio::Coro<> call_later_example() {
  aio::EventLoop& loop = aio::get_running_loop();
  aio::Future<> done;
  loop.call_soon([] { std::printf("call_soon runs at the next iteration\n"); });
  loop.call_later(20ms, [done]() mutable {
    std::printf("call_later runs after 20 ms\n");
    done.set_result();
  });
  aio::TimerHandle never = loop.call_later(10ms, [] { std::printf("never printed\n"); });
  never.cancel();
  co_await done;
}
// [END call_later]

// [START signals]
// A signal handled on the loop: the callback runs as an ordinary callback,
// never inside the signal handler, so it may touch anything.
aio::Coro<> signal_example() {
  aio::EventLoop& loop = aio::get_running_loop();
  aio::Future<> reloaded;
  loop.add_signal_handler(SIGUSR1, [reloaded]() mutable {
    std::printf("SIGUSR1: reloading the configuration\n");
    if (!reloaded.done()) reloaded.set_result();
  });
  ::raise(SIGUSR1);  // as if `kill -USR1 <pid>`
  co_await reloaded;
  loop.remove_signal_handler(SIGUSR1);
}
// [END signals]

// [START run]
aio::Coro<int> amain() {
  co_await create_task_example();
  co_await cancel_example();
  co_await timeout_example();
  co_await future_example();
  co_await call_later_example();
  co_await signal_example();
  co_return 0;
}

int main() { return aio::run_main(amain()); }
// [END run]
