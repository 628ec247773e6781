// aio's exceptions, named as asyncio names them.
//
// CancelledError deliberately does not derive from std::exception: a
// `catch (const std::exception&)` must not swallow a cancellation, just as
// `except Exception` cannot in Python. Catch it by name (`catch (const
// aio::CancelledError&)`) when you need to clean up, and rethrow it.
//
// Every other aio error derives from aio::Error (a std::runtime_error), so one
// handler can catch "anything aio raised" and generic handlers still see a
// message that says what went wrong. Other areas extend it (QueueEmpty, ...);
// OS failures stay std::system_error with the errno.
#ifndef AIO_ASYNC_ERRORS_H_
#define AIO_ASYNC_ERRORS_H_

#include <stdexcept>
#include <string>
#include <utility>

namespace aio {

// Thrown into a task at its current or next suspension point after
// Task::cancel(message). `message()` is the text given to cancel(), empty if none.
class CancelledError {
 public:
  CancelledError() = default;
  explicit CancelledError(std::string message) : message_(std::move(message)) {}

  const std::string& message() const noexcept { return message_; }
  // "CancelledError" or "CancelledError: <message>", for logs.
  std::string describe() const {
    return message_.empty() ? "CancelledError" : "CancelledError: " + message_;
  }

 private:
  std::string message_;
};

// The base of aio's errors (except CancelledError, see above).
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A deadline passed: raised by timeout() and wait_for() outside their scope.
class TimeoutError : public Error {
 public:
  TimeoutError() : Error("timed out") {}
  explicit TimeoutError(const std::string& what) : Error(what) {}
};

// An operation that the object's current state does not allow, e.g. result() of
// a pending Future ("Result is not set.") or set_result() on a finished one.
class InvalidStateError : public Error {
 public:
  using Error::Error;
};

// aio::run() was interrupted by Ctrl-C (SIGINT): Python's KeyboardInterrupt.
// Thrown only by run()/Runner::run(), never into a coroutine (the coroutine sees
// the CancelledError that the first Ctrl-C causes).
class KeyboardInterrupt : public Error {
 public:
  KeyboardInterrupt() : Error("interrupted by SIGINT (Ctrl-C)") {}
};

}  // namespace aio

#endif  // AIO_ASYNC_ERRORS_H_
