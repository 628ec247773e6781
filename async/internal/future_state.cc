// Rule numbers cited here are those of docs/design/asyncio_rules.md.
#include "async/internal/future_state.h"

#include <cstdio>

#include "async/internal/loop_access.h"
#include "async/loop.h"

namespace aio::internal {

FutureStateBase::FutureStateBase(EventLoop& loop) : loop_(&loop), anchor_(LoopAccess::anchor(loop)) {}

FutureStateBase::~FutureStateBase() {
  report_if_unretrieved();
  // Done callbacks of a future that never completed are freed with it; an
  // awaiter holds a reference, so none can be left here.
  while (FutureWaiter* waiter = first_waiter_) {
    remove_waiter(waiter);
    if (waiter->dispose) waiter->dispose(waiter);
  }
}

void FutureStateBase::report_if_unretrieved() noexcept {
  if (status_ != Status::kFinished || !exception_ || exception_retrieved_) return;
  exception_retrieved_ = true;  // report once
  // asyncio rule 67. The state is going away, so the report names it instead of
  // handing out a handle.
  const std::string description = describe();
  ExceptionContext context{.message = description.rfind("Task", 0) == 0
                                          ? "Task exception was never retrieved"
                                          : "Future exception was never retrieved",
                           .exception = exception_,
                           .future = description};
  if (EventLoop* loop = anchor_->loop) {
    loop->call_exception_handler(context);
  } else {
    std::fprintf(stderr, "%s\n  future: %s\n  exception: %s\n", context.message.c_str(),
                 context.future.c_str(), describe_exception(exception_).c_str());
  }
}

bool FutureStateBase::cancel(std::string message) {
  if (done()) return false;
  finish_cancelled(std::make_exception_ptr(CancelledError(std::move(message))));
  return true;
}

void FutureStateBase::add_waiter(FutureWaiter* waiter) noexcept {
  waiter->previous = last_waiter_;
  waiter->next = nullptr;
  if (last_waiter_) {
    last_waiter_->next = waiter;
  } else {
    first_waiter_ = waiter;
  }
  last_waiter_ = waiter;
  waiter->linked = true;
}

void FutureStateBase::remove_waiter(FutureWaiter* waiter) noexcept {
  if (!waiter->linked) return;
  if (waiter->previous) {
    waiter->previous->next = waiter->next;
  } else {
    first_waiter_ = waiter->next;
  }
  if (waiter->next) {
    waiter->next->previous = waiter->previous;
  } else {
    last_waiter_ = waiter->previous;
  }
  waiter->previous = waiter->next = nullptr;
  waiter->linked = false;
}

std::exception_ptr FutureStateBase::error_for_result() {
  if (status_ == Status::kPending) throw InvalidStateError("Result is not set.");
  exception_retrieved_ = true;
  return exception_;
}

std::exception_ptr FutureStateBase::exception() {
  if (status_ == Status::kPending) throw InvalidStateError("Exception is not set.");
  exception_retrieved_ = true;
  if (status_ == Status::kCancelled) std::rethrow_exception(exception_);
  return exception_;
}

void FutureStateBase::throw_if_done(const char* operation) const {
  if (done()) {
    throw InvalidStateError(std::string(operation) + ": " + describe() + " is already " +
                            (cancelled() ? "cancelled" : "done"));
  }
}

void FutureStateBase::set_exception(std::exception_ptr error) {
  throw_if_done("set_exception");
  if (!error) throw ValueError("set_exception: the exception_ptr is null");
  exception_ = std::move(error);
  finish();
}

void FutureStateBase::finish() {
  status_ = Status::kFinished;
  wake_waiters();
}

void FutureStateBase::finish_cancelled(std::exception_ptr cancelled_error) {
  status_ = Status::kCancelled;
  exception_ = std::move(cancelled_error);
  wake_waiters();
}

void FutureStateBase::wake_waiters() noexcept {
  while (FutureWaiter* waiter = first_waiter_) {
    remove_waiter(waiter);
    waiter->on_done(waiter);
  }
}

}  // namespace aio::internal
