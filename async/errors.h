// aio's exceptions, named as asyncio names them.
//
// CancelledError deliberately does not derive from std::exception: a
// `catch (const std::exception&)` must not swallow a cancellation, just as
// `except Exception` cannot in Python. Catch it by name (`catch (const
// aio::CancelledError&)`) when you need to clean up, and rethrow it.
//
// What aio throws, precisely:
//   * CancelledError (not a std::exception, see above);
//   * aio::Error and its subclasses for every failure aio itself detects:
//     TimeoutError, InvalidStateError, ValueError (an argument the call cannot
//     take), RuntimeError (the runtime used in a way it does not allow: no
//     running loop, a second reader on a stream, ...), KeyboardInterrupt, and
//     the areas' own (QueueEmpty, IncompleteReadError, SslError, ...);
//   * std::system_error, with std::system_category() and the errno, when the
//     operating system refused a call (connect, bind, spawn, ...); its message
//     names the call and what it was given ("connect to 127.0.0.1:9: ...");
//   * std::bad_alloc when memory runs out, and whatever the user's own code
//     throws, passed through unchanged.
// Every message says which call failed and why, in aio's words, so a generic
// `catch (const std::exception& e)` that prints e.what() is enough to act on.
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

// An argument the call cannot accept (Python's ValueError): a negative limit,
// a malformed address, an option that contradicts another.
class ValueError : public Error {
 public:
  using Error::Error;
};

// The runtime used in a way it does not allow (Python's RuntimeError): no
// running loop in this thread, run() inside a running loop, two tasks reading
// one stream at once, a closed loop or transport asked to do work.
class RuntimeError : public Error {
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
