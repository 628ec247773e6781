// aio::catching<E>: the `except E: await cleanup()` idiom, on virtual time.
#include "async/catching.h"

#include <string>
#include <system_error>

#include "async/future.h"
#include "async/sleep.h"
#include "async/task.h"
#include "async/testing.h"
#include "async/timeouts.h"
#include "gtest/gtest.h"

namespace aio {
namespace {

using namespace std::chrono_literals;

Coro<int> value_after(Duration delay, int value) {
  co_await sleep(delay);
  co_return value;
}

Coro<int> fail_after(Duration delay) {
  co_await sleep(delay);
  throw ValueError("bad input");
}

AIO_TEST(Catching, GivesTheValueWhenNothingIsRaised) {
  Caught<int, TimeoutError> result = co_await catching<TimeoutError>(wait_for(value_after(1s, 7), 5s));
  EXPECT_TRUE(result.has_value());
  EXPECT_EQ(*result, 7);
  EXPECT_THROW(result.error(), InvalidStateError);
}

// The asyncio idiom it exists for: wait_for times out, then the clean-up awaits.
AIO_TEST(Catching, TimeoutThenAwaitTheCleanUp) {
  const TimePoint start = get_running_loop().time();
  auto result = co_await catching<TimeoutError>(wait_for(value_after(10s, 1), 2s));
  EXPECT_FALSE(result);
  EXPECT_THROW(result.value(), InvalidStateError);
  int cleaned = co_await value_after(1s, 2);  // awaiting "in the handler"
  EXPECT_EQ(cleaned, 2);
  EXPECT_EQ(get_running_loop().time() - start, 3s);
}

AIO_TEST(Catching, CatchesDerivedTypesAndLetsOthersThrough) {
  auto as_base = co_await catching<Error>(fail_after(1s));
  EXPECT_FALSE(as_base);
  EXPECT_STREQ(as_base.error().what(), "bad input");
  EXPECT_THROW(co_await catching<TimeoutError>(fail_after(1s)), ValueError);
}

AIO_TEST(Catching, WorksWithTasksFuturesVoidAndCancellation) {
  Task<int> task = create_task(fail_after(1s));
  auto from_task = co_await catching<ValueError>(task);
  EXPECT_FALSE(from_task);

  Future<> future;
  future.set_exception(std::system_error(ECONNRESET, std::system_category(), "read"));
  Caught<void, std::system_error> from_future = co_await catching<std::system_error>(future);
  EXPECT_FALSE(from_future);
  EXPECT_EQ(from_future.error().code(), std::errc::connection_reset);

  Caught<void, TimeoutError> slept = co_await catching<TimeoutError>(sleep(1s));
  EXPECT_TRUE(slept);

  // CancelledError is not caught unless asked for by name.
  Task<void> cancelled = create_task(invoke([]() -> Coro<void> { co_await sleep(1h); }));
  co_await sleep(0s);
  cancelled.cancel("stop");
  auto caught = co_await catching<CancelledError>(cancelled);
  EXPECT_FALSE(caught);
  EXPECT_EQ(caught.error().message(), "stop");
  Task<void> other = create_task(invoke([]() -> Coro<void> { co_await sleep(1h); }));
  co_await sleep(0s);
  other.cancel();
  EXPECT_THROW(co_await catching<Error>(other), CancelledError);
}

}  // namespace
}  // namespace aio
