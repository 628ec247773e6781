// aio::Coro<T>: what a coroutine function returns (asyncio's coroutine object).
//
//   aio::Coro<int> answer() { co_await aio::sleep(10ms); co_return 42; }
//   ...
//   int value = co_await answer();   // runs inside the current task
//
// A Coro is lazy (nothing runs until it is awaited or given to create_task),
// move-only, and awaited at most once. Awaiting it runs the coroutine inside the
// current task with no scheduling, like `await coro()` in Python, and control
// comes straight back when it finishes; awaiting coroutines that complete
// synchronously, a million times in a loop, does not grow the stack.
// A Coro destroyed without being awaited destroys its frame, never running it,
// and reports "coroutine was never awaited" (to the running loop's exception
// handler, or stderr); in debug mode the report says where it was created.
// discard() destroys one on purpose, without the report.
//
// Lifetimes: a coroutine keeps the references it was given. Pass arguments by
// value when the coroutine may outlive the caller's variables (always, for a
// task); aio::invoke() makes a lambda coroutine safe by owning the lambda.
#ifndef AIO_ASYNC_CORO_H_
#define AIO_ASYNC_CORO_H_

// Every aio header includes this one: one clear message instead of errors
// deep in <coroutine>.
#if __cplusplus < 202002L
#error "aio needs C++20: compile with -std=c++20 (Bazel: build --cxxopt=-std=c++20 in .bazelrc)"
#endif

#include <coroutine>
#include <cstddef>
#include <exception>
#include <functional>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>

#include "async/errors.h"
#include "async/internal/coroutine_debug.h"
#include "async/internal/frame_allocator.h"

namespace aio {

template <class T = void>
class Coro;

namespace internal {

// Never-awaited coroutines (internal/coroutine_origins.cc). Reporting costs
// nothing until a coroutine is destroyed without having run; recording where
// each coroutine was created happens only while a debug-mode loop runs.
void report_never_awaited(const void* promise) noexcept;
void remember_coroutine_origin(const void* promise) noexcept;
void forget_coroutine_origin(const void* promise) noexcept;
inline thread_local std::size_t recorded_coroutine_origins = 0;

class CoroPromiseBase {
 public:
  CoroPromiseBase() noexcept {
    if (record_coroutine_origins) [[unlikely]] remember_coroutine_origin(this);
  }

  // Frames come from the per-thread pool (internal/frame_allocator.h).
  static void* operator new(std::size_t size) { return FramePool::allocate(size); }
  static void operator delete(void* frame, std::size_t size) noexcept { FramePool::deallocate(frame, size); }

  std::suspend_always initial_suspend() const noexcept { return {}; }

  struct FinalAwaiter {
    bool await_ready() const noexcept { return false; }
    template <class Promise>
    void await_suspend(std::coroutine_handle<Promise> self) const noexcept {
      CoroPromiseBase& promise = self.promise();
      if (promise.started_inline) {
        // Finished without ever suspending: return to the awaiter's
        // await_suspend, which continues the caller without a nested call.
        promise.finished_inline = true;
      } else if (promise.continuation) {
        // Finished after suspending, so this runs at the bottom of a loop step:
        // resuming the caller here nests one call per level of coroutine
        // nesting, never per iteration. A task's root has no continuation; the
        // task finds it done when the step returns.
        promise.continuation.resume();
      }
    }
    void await_resume() const noexcept {}
  };
  FinalAwaiter final_suspend() const noexcept { return {}; }

  void unhandled_exception() noexcept { exception = std::current_exception(); }

  std::coroutine_handle<> continuation;
  std::exception_ptr exception;
  // Set while the awaiter runs the coroutine from await_suspend; see Coro's
  // awaiter for why.
  bool started_inline = false;
  bool finished_inline = false;
};

template <class T>
class CoroPromise : public CoroPromiseBase {
 public:
  Coro<T> get_return_object() noexcept;
  template <class U = T>
  void return_value(U&& value) noexcept(std::is_nothrow_constructible_v<T, U&&>) {
    this->value.emplace(std::forward<U>(value));
  }
  T take_result() {
    if (exception) std::rethrow_exception(exception);
    return std::move(*value);
  }
  std::optional<T> value;
};

template <>
class CoroPromise<void> : public CoroPromiseBase {
 public:
  Coro<void> get_return_object() noexcept;
  void return_void() noexcept {}
  void take_result() {
    if (exception) std::rethrow_exception(exception);
  }
};

}  // namespace internal

template <class T>
class [[nodiscard]] Coro {
 public:
  using promise_type = internal::CoroPromise<T>;
  using value_type = T;

  Coro() = default;
  Coro(Coro&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
  Coro& operator=(Coro&& other) noexcept {
    if (this != &other) {
      reset();
      handle_ = std::exchange(other.handle_, {});
    }
    return *this;
  }
  ~Coro() { reset(); }

  // False once awaited or handed to a task (or for a default-constructed Coro).
  bool valid() const noexcept { return static_cast<bool>(handle_); }

  // Awaiting consumes the Coro: the awaiter owns the frame from then on and
  // destroys it when the await completes. Awaiting an empty Coro (moved from,
  // already awaited) throws InvalidStateError instead of crashing.
  class Awaiter {
   public:
    explicit Awaiter(std::coroutine_handle<promise_type> handle) noexcept : callee(handle) {}
    Awaiter(Awaiter&& other) noexcept : callee(std::exchange(other.callee, {})) {}
    ~Awaiter() {
      if (callee) callee.destroy();
    }
    bool await_ready() const noexcept { return !callee; }
    // Starts the callee with a plain call instead of symmetric transfer: GCC 12
    // compiles symmetric transfer as a real call at -O0, so a loop of a million
    // awaits that complete at once would overflow the stack. A callee that
    // finishes without suspending reports it (finished_inline) and the caller
    // goes on at once; one that suspends is continued later by its
    // final_suspend, from the bottom of a loop step.
    bool await_suspend(std::coroutine_handle<> caller) noexcept {
      internal::CoroPromiseBase& promise = callee.promise();
      promise.continuation = caller;
      promise.started_inline = true;
      callee.resume();
      promise.started_inline = false;
      return !promise.finished_inline;
    }
    T await_resume() {
      if (!callee) throw InvalidStateError("this Coro was already awaited or handed to a task (a Coro runs once)");
      return callee.promise().take_result();
    }

   private:
    std::coroutine_handle<promise_type> callee;
  };

  Awaiter operator co_await() && noexcept {
    forget_origin();
    return Awaiter(std::exchange(handle_, {}));
  }

  // Gives up ownership of the frame (create_task takes it over).
  std::coroutine_handle<promise_type> release() noexcept {
    forget_origin();
    return std::exchange(handle_, {});
  }

  // Destroys the coroutine without running it and without the "never awaited"
  // report: for code that decides on purpose not to run it (asyncio's close()).
  void discard() noexcept {
    forget_origin();
    if (handle_) std::exchange(handle_, {}).destroy();
  }

 private:
  friend class internal::CoroPromise<T>;
  explicit Coro(std::coroutine_handle<promise_type> handle) noexcept : handle_(handle) {}

  void forget_origin() noexcept {
    if (internal::recorded_coroutine_origins != 0 && handle_) internal::forget_coroutine_origin(&handle_.promise());
  }

  // A Coro destroyed while it still owns its frame was never awaited: report it
  // (asyncio's "coroutine ... was never awaited"), then free the frame.
  void reset() noexcept {
    if (handle_) {
      internal::report_never_awaited(&handle_.promise());
      std::exchange(handle_, {}).destroy();
    }
  }

  std::coroutine_handle<promise_type> handle_;
};

namespace internal {
template <class T>
Coro<T> CoroPromise<T>::get_return_object() noexcept {
  return Coro<T>(std::coroutine_handle<CoroPromise<T>>::from_promise(*this));
}
inline Coro<void> CoroPromise<void>::get_return_object() noexcept {
  return Coro<void>(std::coroutine_handle<CoroPromise<void>>::from_promise(*this));
}
}  // namespace internal

namespace internal {
template <class Callable>
auto invoke_owned(Callable callable) -> Coro<typename std::invoke_result_t<Callable&>::value_type> {
  co_return co_await callable();
}
}  // namespace internal

// Calls `function(arguments...)` (which returns a Coro) and keeps the callable
// and the arguments alive until that coroutine finishes. Use it to run a lambda
// coroutine whose captures would otherwise die with the temporary lambda:
//   auto task = aio::create_task(aio::invoke([data] () -> aio::Coro<> { ... }));
template <class Function, class... Arguments>
auto invoke(Function function, Arguments... arguments)
    -> Coro<typename std::invoke_result_t<Function&, Arguments&...>::value_type> {
  // Not a coroutine itself: GCC 12 miscompiles coroutine parameters that are a
  // pack (see to_thread); the arguments go into a tuple in this plain function.
  return internal::invoke_owned(
      [function = std::move(function), arguments = std::make_tuple(std::move(arguments)...)]() mutable {
        return std::apply(function, arguments);
      });
}

}  // namespace aio

#endif  // AIO_ASYNC_CORO_H_
