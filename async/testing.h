// The test loop: virtual time for tests of anything with timeouts.
//
// On a virtual-time loop, time() starts at zero and, whenever nothing is ready to
// run, jumps straight to the next timer's deadline, so a test of `timeout(10s)`
// finishes in microseconds and never depends on the machine's speed. I/O still
// works (the loop polls without blocking first), but time may jump while a
// socket waits, so tests that mix sockets and deadlines must expect that.
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
// run_in_test_loop() fails the test for every error the loop reports (an
// exception never retrieved, a task destroyed while pending, ...), so such bugs
// cannot pass silently.
#ifndef AIO_ASYNC_TESTING_H_
#define AIO_ASYNC_TESTING_H_

#include <string>
#include <utility>

#include "async/coro.h"
#include "async/internal/future_state.h"
#include "async/loop.h"
#include "async/run.h"
#include "gtest/gtest.h"

namespace aio::testing {

// Runs `body` to completion on a new virtual-time loop and returns its value.
template <class T>
T run_in_test_loop(Coro<T> body) {
  Runner runner(RunOptions{.virtual_time = true});
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
#define AIO_TEST(suite, name)                                                   \
  static ::aio::Coro<void> aio_test_body_##suite##_##name();                    \
  TEST(suite, name) { ::aio::testing::run_in_test_loop(aio_test_body_##suite##_##name()); } \
  static ::aio::Coro<void> aio_test_body_##suite##_##name()

#endif  // AIO_ASYNC_TESTING_H_
