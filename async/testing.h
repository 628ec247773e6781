// The test loop: virtual time for tests of anything with timeouts.
//
// On a virtual-time loop, time() starts at zero and, whenever nothing is ready to
// run, jumps straight to the next timer's deadline, so a test of `timeout(10s)`
// finishes in microseconds and never depends on the machine's speed. I/O still
// works: the loop polls without blocking first, and time does not jump in an
// iteration whose poll found readiness (a protocol on this loop may be
// answering another). Time may still jump while a socket waits for a peer in
// another process, so such tests must expect that. While a child process is
// watched (subprocess/), the clock does not jump at all: the loop waits for the
// child in real time, up to the next deadline, and virtual time advances by the
// real time that passed, so `wait_for(process.wait(), 10s)` waits for the real
// exit instead of timing out at once.
//
// Inside an AIO_TEST body use EXPECT_* (ASSERT_* returns, which a coroutine
// cannot; write `if (!ok) co_return;` instead).
//
//   AIO_TEST(Sleep, TakesVirtualTime) {
//     auto start = aio::get_running_loop().time();
//     co_await aio::sleep(1h);
//     EXPECT_EQ(aio::get_running_loop().time() - start, 1h);
//   }
//
// Tests run in shuffle mode when AIO_SHUFFLE is set (see EventLoop::Options);
// a test of the scheduling order itself opts out with AIO_TEST_ORDERED.
//
// run_in_test_loop() fails the test for every error the loop reports (an
// exception never retrieved, a task destroyed while pending, ...), so such bugs
// cannot pass silently.
#ifndef AIO_ASYNC_TESTING_H_
#define AIO_ASYNC_TESTING_H_

#include <stdexcept>
#include <string>
#include <utility>

#include "async/coro.h"
#include "async/internal/future_state.h"
#include "async/loop.h"
#include "async/run.h"
#include "async/sleep.h"
#include "gtest/gtest.h"

namespace aio::testing {

// Lets every other ready task run until all of them wait on something: a
// virtual nanosecond passes only once nothing is ready. Use it instead of
// sleep(0), which gives each other task at most one step, and under shuffle mode
// maybe none: `create_task(...); co_await let_other_tasks_run(); task.cancel();`
// then cancels a task that has surely started.
inline internal::SleepAwaiter let_other_tasks_run() { return sleep(std::chrono::nanoseconds(1)); }

// Small coroutines that most timing tests need: a value, or an error, after a
// delay of (virtual) time.
inline Coro<int> value_after(Duration delay, int value) {
  co_await sleep(delay);
  co_return value;
}
inline Coro<int> fail_after(Duration delay, std::string message = "failed") {
  co_await sleep(delay);
  throw std::runtime_error(message);
}

struct TestLoopOptions {
  // Never shuffle: for tests of the scheduling order itself (see AIO_TEST_ORDERED).
  bool ordered = false;
};

// Runs `body` to completion on a new virtual-time loop and returns its value.
template <class T>
T run_in_test_loop(Coro<T> body, TestLoopOptions options = {}) {
  Runner runner(RunOptions{.virtual_time = true, .ordered = options.ordered});
  runner.get_loop().set_exception_handler([](EventLoop&, const ExceptionContext& context) {
    ADD_FAILURE() << "the loop reported: " << context.message
                  << (context.future.empty() ? "" : " (" + context.future + ")")
                  << (context.exception ? ": " + internal::describe_exception(context.exception) : "");
  });
  if constexpr (std::is_void_v<T>) {
    runner.run(std::move(body));
    runner.close();
  } else {
    T value = runner.run(std::move(body));
    runner.close();
    return value;
  }
}

}  // namespace aio::testing

// Defines a gtest test whose body is a coroutine run by run_in_test_loop().
#define AIO_TEST(suite, name) AIO_TEST_WITH_OPTIONS_(suite, name, {})

// Same, for a test that checks the scheduling order itself (which task runs
// first in an iteration): shuffle mode (AIO_SHUFFLE) is off for it. Every other
// test must pass under shuffle mode.
#define AIO_TEST_ORDERED(suite, name) AIO_TEST_WITH_OPTIONS_(suite, name, {.ordered = true})

#define AIO_TEST_WITH_OPTIONS_(suite, name, ...)                                            \
  static ::aio::Coro<void> aio_test_body_##suite##_##name();                                \
  TEST(suite, name) {                                                                       \
    ::aio::testing::run_in_test_loop(aio_test_body_##suite##_##name(),                      \
                                     ::aio::testing::TestLoopOptions __VA_ARGS__);          \
  }                                                                                         \
  static ::aio::Coro<void> aio_test_body_##suite##_##name()

#endif  // AIO_ASYNC_TESTING_H_
