// aio::catching<E>(awaitable): asyncio's `except E: await cleanup()` idiom in C++.
//
// C++ forbids co_await inside a catch block, so the asyncio idiom
//
//   try:
//       await asyncio.wait_for(proc.wait(), 5)
//   except TimeoutError:
//       proc.kill()
//       await proc.wait()
//
// needs the error out of the handler first. catching<E> does that: it awaits
// the awaitable and gives an aio::Caught<T, E> holding either the value or the
// caught E, so the clean-up that awaits runs after the handler, in plain code:
//
//   auto waited = co_await aio::catching<aio::TimeoutError>(aio::wait_for(proc.wait(), 5s));
//   if (!waited) {
//     proc.kill();
//     co_await proc.wait();
//   }
//
// Only E (and what derives from it) is caught; anything else propagates, and so
// does CancelledError unless E is CancelledError itself. The awaitable is any
// Coro, Task, Future or awaiter, awaited once inside the current task (no new
// task). Loop thread only, like everything it awaits.
#ifndef AIO_ASYNC_CATCHING_H_
#define AIO_ASYNC_CATCHING_H_

#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

#include "async/coro.h"
#include "async/errors.h"

namespace aio {

// Either the value an awaitable gave (has_value()) or the E it raised.
template <class T, class E>
class Caught {
 public:
  static Caught of_value(T value) { return Caught(std::in_place_index<0>, std::move(value)); }
  static Caught of_error(E error) { return Caught(std::in_place_index<1>, std::move(error)); }

  bool has_value() const noexcept { return state_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }
  // The value. Throws InvalidStateError when it holds the error instead.
  T& value() & {
    if (!has_value()) throw InvalidStateError("aio::Caught::value(): the awaitable raised the caught error");
    return std::get<0>(state_);
  }
  T&& value() && { return std::move(value()); }
  T& operator*() & { return value(); }
  T* operator->() { return &value(); }
  // The caught error. Throws InvalidStateError when it holds a value.
  const E& error() const {
    if (has_value()) throw InvalidStateError("aio::Caught::error(): the awaitable did not raise");
    return std::get<1>(state_);
  }

 private:
  template <std::size_t Index, class U>
  Caught(std::in_place_index_t<Index> index, U&& content) : state_(index, std::forward<U>(content)) {}
  std::variant<T, E> state_;
};

// For an awaitable that gives nothing: success or the caught E.
template <class E>
class Caught<void, E> {
 public:
  static Caught of_value() { return Caught(); }
  static Caught of_error(E error) {
    Caught caught;
    caught.error_.emplace(std::move(error));
    return caught;
  }

  bool has_value() const noexcept { return !error_.has_value(); }
  explicit operator bool() const noexcept { return has_value(); }
  // The caught error. Throws InvalidStateError when the awaitable completed.
  const E& error() const {
    if (!error_) throw InvalidStateError("aio::Caught::error(): the awaitable did not raise");
    return *error_;
  }

 private:
  std::optional<E> error_;
};

namespace internal {
// What `co_await awaitable` gives: aio's handles say it (value_type); any other
// awaiter by its await_resume().
template <class Awaitable, class = void>
struct AwaitResult {
  using type = decltype(std::declval<Awaitable&>().await_resume());
};
template <class Awaitable>
struct AwaitResult<Awaitable, std::void_t<typename Awaitable::value_type>> {
  using type = typename Awaitable::value_type;
};

template <class E, class T, class Awaitable>
Coro<Caught<T, E>> catch_owned(Awaitable awaitable) {
  std::optional<E> error;
  try {
    if constexpr (std::is_void_v<T>) {
      co_await std::move(awaitable);
      co_return Caught<T, E>::of_value();
    } else {
      T value = co_await std::move(awaitable);
      co_return Caught<T, E>::of_value(std::move(value));
    }
  } catch (const E& caught) {
    error.emplace(caught);
  }
  co_return Caught<T, E>::of_error(std::move(*error));
}
}  // namespace internal

// Awaits `awaitable` and gives an aio::Caught<T, E>: its value, or the E it
// raised (see the file comment). Other exceptions propagate.
template <class E, class Awaitable>
auto catching(Awaitable awaitable)
    -> Coro<Caught<typename internal::AwaitResult<std::decay_t<Awaitable>>::type, E>> {
  using T = typename internal::AwaitResult<std::decay_t<Awaitable>>::type;
  return internal::catch_owned<E, T>(std::move(awaitable));
}

}  // namespace aio

#endif  // AIO_ASYNC_CATCHING_H_
