// Rule numbers cited here are those of docs/design/asyncio_rules.md.
#include "async/internal/task_base.h"

#include "async/internal/loop_access.h"
#include "async/loop.h"

namespace aio::internal {

TaskBase::TaskBase(EventLoop& loop, std::coroutine_handle<> root, std::string_view name, std::uint64_t number)
    : FutureStateBase(loop), root_(root), number_(number) {
  ReadyNode::run = &TaskBase::run_step;
  if (!name.empty()) set_name(std::string(name));  // unnamed tasks build no string
  if (record_task_creation_times) [[unlikely]] {
    created_at_ = loop.time().time_since_epoch().count();
    has_created_at_ = true;
  }
}

TaskBase::Labels& TaskBase::labels() const {
  if (!labels_) labels_ = std::make_unique<Labels>();
  return *labels_;
}

const std::string& TaskBase::name() const {
  Labels& labels = this->labels();
  if (labels.name.empty()) labels.name = "Task-" + std::to_string(number_);
  return labels.name;
}

const std::string& TaskBase::cancel_message() const noexcept {
  static const std::string empty;
  return labels_ ? labels_->cancel_message : empty;
}

void TaskBase::set_cancel_message(std::string message) {
  if (message.empty() && !labels_) return;
  labels().cancel_message = std::move(message);
}

TaskBase::~TaskBase() {
  report_if_unretrieved();
  destroy_coroutine();
}

void TaskBase::destroy_coroutine() noexcept {
  if (root_) {
    std::coroutine_handle<> root = std::exchange(root_, {});
    root.destroy();
  }
}

bool TaskBase::cancel(std::string message) {
  if (done()) return false;
  ++cancel_requests_;
  if (wait_ != nullptr && wait_->cancel_wait(message)) return true;
  must_cancel_ = true;
  set_cancel_message(std::move(message));
  return true;
}

int TaskBase::uncancel() noexcept {
  // Works on a finished task too, as CPython's does: Runner relies on it.
  if (cancel_requests_ > 0 && --cancel_requests_ == 0) must_cancel_ = false;
  return cancel_requests_;
}

void TaskBase::deliver_pending_cancel() {
  // Copied: cancel_wait may store the message in this task again.
  std::string message = cancel_message();
  if (wait_->cancel_wait(message)) must_cancel_ = false;
}

void TaskBase::wake() noexcept {
  if (wait_ != nullptr && wait_->recheck_before_resume) woken_from_ = wait_;
  wait_ = nullptr;
  if (!queued) LoopAccess::schedule(loop(), this);
}

void TaskBase::throw_if_cancel_requested() {
  if (must_cancel_) {
    must_cancel_ = false;
    throw CancelledError(cancel_message());
  }
}

void TaskBase::add_done_callback(std::function<void(AnyTask)> callback) {
  DoneCallback<AnyTask>::add(*this, LoopAccess::any_task(this), std::move(callback),
                             [](FutureStateBase* state) { return LoopAccess::any_task(static_cast<TaskBase*>(state)); });
}

void TaskBase::run_step(ReadyNode* node) { static_cast<TaskBase*>(node)->step(); }

void TaskBase::step() {
  Ref<TaskBase> keep(this);  // completing drops the loop's reference
  if (done() || !root_) return;
  if (!started_) {
    started_ = true;
    if (must_cancel_) {  // rule 12: cancelled before its first step, the body never runs
      must_cancel_ = false;
      destroy_coroutine();
      finish_cancelled(std::make_exception_ptr(CancelledError(cancel_message())));
      LoopAccess::unregister_task(loop(), this);
      release_ref();  // the loop's reference; `keep` holds this alive
      return;
    }
    resume_point_ = root_;
  }
  if (woken_from_ != nullptr) {
    Cancellable* woken_from = std::exchange(woken_from_, nullptr);
    if (!must_cancel_ && !woken_from->still_ready()) return;  // waiting again
  }
  EventLoop& loop = this->loop();
  LoopTask* outer = LoopAccess::current_task(loop);
  LoopAccess::set_current_task(loop, this);
  resume_point_.resume();
  LoopAccess::set_current_task(loop, outer);
  if (root_.done()) complete();
}

void TaskBase::complete() {
  std::exception_ptr error = take_root_result();
  destroy_coroutine();
  if (error) {
    if (is_cancelled_error(error)) {
      finish_cancelled(std::move(error));
    } else {
      exception_ = std::move(error);
      finish();
    }
  } else if (must_cancel_) {  // rule 13: cancelled itself, then returned
    must_cancel_ = false;
    finish_cancelled(std::make_exception_ptr(CancelledError(cancel_message())));
  } else {
    finish();
  }
  LoopAccess::unregister_task(loop(), this);
  release_ref();  // the loop's reference; step()'s `keep` holds this alive
}

}  // namespace aio::internal
