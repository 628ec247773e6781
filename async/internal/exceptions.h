// Two questions aio's reports ask of a std::exception_ptr: is it a
// cancellation, and what one line describes it. Used by the loop's default
// exception handler, futures ("exception was never retrieved"), tasks and
// TaskGroup.
#ifndef AIO_ASYNC_INTERNAL_EXCEPTIONS_H_
#define AIO_ASYNC_INTERNAL_EXCEPTIONS_H_

#include <exception>
#include <string>

namespace aio::internal {

// True if `error` holds an aio::CancelledError.
bool is_cancelled_error(const std::exception_ptr& error) noexcept;
// One line describing an exception: its what(), or the CancelledError message;
// "(none)" for a null pointer.
std::string describe_exception(const std::exception_ptr& error);

}  // namespace aio::internal

#endif  // AIO_ASYNC_INTERNAL_EXCEPTIONS_H_
