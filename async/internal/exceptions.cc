#include "async/internal/exceptions.h"

#include "async/errors.h"

namespace aio::internal {

bool is_cancelled_error(const std::exception_ptr& error) noexcept {
  if (!error) return false;
  try {
    std::rethrow_exception(error);
  } catch (const CancelledError&) {
    return true;
  } catch (...) {
    return false;
  }
}

std::string describe_exception(const std::exception_ptr& error) {
  if (!error) return "(none)";
  try {
    std::rethrow_exception(error);
  } catch (const CancelledError& cancelled) {
    return cancelled.describe();
  } catch (const std::exception& exception) {
    return exception.what();
  } catch (...) {
    return "an exception of a type not derived from std::exception";
  }
}

}  // namespace aio::internal
