// Examples for docs/async.md, "Bridging callback code": awaiting a C callback
// API, an Asio operation, and calling into a loop from another thread.
#include <chrono>
#include <cstdio>
#include <thread>

#include <boost/asio/steady_timer.hpp>

#include "aio.h"
#include "async/asio.h"

using namespace std::chrono_literals;

// [START c_callback]
// A C library's asynchronous call: it reports back once, on a thread of its own.
extern "C" {
typedef void (*lookup_callback)(void* user_data, int status, int value);
static void c_library_lookup(const char* key, lookup_callback callback, void* user_data) {
  std::thread([=] { callback(user_data, /*status=*/0, /*value=*/key[0]); }).detach();
}
}

// The bridge: a Future for the result, and a ThreadsafeSetter the callback owns.
aio::Coro<int> lookup(const char* key) {
  aio::Future<int> result;
  auto* setter = new aio::ThreadsafeSetter<int>(result.threadsafe_setter());
  c_library_lookup(
      key,
      [](void* user_data, int status, int value) {
        auto* setter = static_cast<aio::ThreadsafeSetter<int>*>(user_data);
        if (status == 0) {
          setter->set_result(value);
        } else {
          setter->set_exception(std::runtime_error("lookup failed"));
        }
        delete setter;  // exactly once: the library calls back exactly once
      },
      setter);
  co_return co_await result;
}
// [END c_callback]

// [START asio_timer]
// Any Boost.Asio operation, with the aio::use_aio completion token. The timer
// lives on the loop's own io_context; cancelling the task cancels the wait.
aio::Coro<> asio_timer_example() {
  boost::asio::steady_timer timer(aio::asio_context(), 20ms);
  co_await timer.async_wait(aio::use_aio);
  std::printf("the Asio timer fired\n");

  aio::Task<> waiter = aio::create_task(aio::invoke([]() -> aio::Coro<> {
    boost::asio::steady_timer forever(aio::asio_context(), 1h);
    co_await forever.async_wait(aio::use_aio);
  }));
  co_await aio::sleep(1ms);
  waiter.cancel();
  try {
    co_await waiter;
  } catch (const aio::CancelledError&) {
    std::printf("the task was cancelled, and its Asio wait with it\n");
  }
}
// [END asio_timer]

// [START threadsafe]
// Another thread hands a coroutine to a running loop and waits for its result.
int ask_the_loop_from_another_thread(aio::EventLoop& loop) {
  aio::ConcurrentFuture<int> answer = aio::run_coroutine_threadsafe(
      aio::invoke([]() -> aio::Coro<int> {
        co_await aio::sleep(1ms);
        co_return 6 * 7;
      }),
      loop);
  return answer.get();  // blocks this thread, not the loop
}

aio::Coro<> threadsafe_example() {
  aio::EventLoop& loop = aio::get_running_loop();
  int answer = co_await aio::to_thread(ask_the_loop_from_another_thread, std::ref(loop));
  std::printf("the other thread got %d\n", answer);
}
// [END threadsafe]

aio::Coro<int> amain() {
  std::printf("lookup returned %d\n", co_await lookup("A"));
  co_await asio_timer_example();
  co_await threadsafe_example();
  co_return 0;
}

int main() { return aio::run_main(amain()); }
