// TaskGroup's exit follows CPython 3.13's taskgroups.py (_aexit) step by step;
// docs/design/cancellation.md explains the cancel/uncancel counting.
#include "async/task_group.h"
#include "async/internal/loop_access.h"

#include <sstream>

namespace aio {

ExceptionGroup::ExceptionGroup(std::string message, std::vector<std::exception_ptr> exceptions)
    : Error([&] {
        std::string text = message + " (" + std::to_string(exceptions.size()) +
                           (exceptions.size() == 1 ? " sub-exception)" : " sub-exceptions)");
        for (const std::exception_ptr& error : exceptions) text += "\n  " + internal::describe_exception(error);
        return text;
      }()),
      message_(std::move(message)),
      exceptions_(std::move(exceptions)) {}

void internal::TaskGroupWait::awaited_futures(std::vector<const FutureStateBase*>& out) const {
  for (const TaskGroup::Member* member = group_->first_member_; member != nullptr; member = member->next_member) {
    if (!member->task->done()) out.push_back(member->task.get());
  }
}

TaskGroup::TaskGroup()
    : loop_(&get_running_loop()), parent_(&internal::current_task_or_throw("aio::task_group()")) {}

TaskGroup::~TaskGroup() {
  if (record_) {
    record_->finished = true;
    record_->shutting_down = aborting_;
  }
  // Normally empty: exit() waits for every child. If the parent task is
  // destroyed mid-scope (its loop is being destroyed), let go of the children.
  while (Member* member = first_member_) {
    first_member_ = member->next_member;
    member->task->remove_waiter(member);
    delete member;
  }
}

const char* TaskGroup::refusal_reason() const noexcept {
  if (exiting_ && member_count_ == 0) return "TaskGroup is finished";
  if (aborting_) return "TaskGroup is shutting down";
  return nullptr;
}

void TaskGroup::add(internal::TaskBase* task) {
  auto* member = new Member;
  member->group = this;
  member->task = internal::Ref<internal::TaskBase>(task);
  member->on_done = &TaskGroup::member_finished;
  member->run = &TaskGroup::run_member_callback;
  member->next_member = first_member_;
  if (first_member_) first_member_->previous_member = member;
  first_member_ = member;
  ++member_count_;
  if (task->done()) {
    // Finished already (eager start): still a scheduled callback (gh-128550).
    internal::LoopAccess::schedule(*loop_, member);
  } else {
    task->add_waiter(member);
  }
}

void TaskGroup::member_finished(internal::FutureWaiter* waiter) noexcept {
  auto* member = static_cast<Member*>(waiter);
  internal::LoopAccess::schedule(*member->group->loop_, member);
}

void TaskGroup::run_member_callback(internal::ReadyNode* node) {
  auto* member = static_cast<Member*>(node);
  member->group->on_task_done(member);
}

void TaskGroup::abort() {
  aborting_ = true;
  if (record_) record_->shutting_down = true;
  for (Member* member = first_member_; member != nullptr; member = member->next_member) {
    if (!member->task->done()) member->task->cancel({});
  }
}

void TaskGroup::on_task_done(Member* member) {
  internal::Ref<internal::TaskBase> task = std::move(member->task);
  if (member->previous_member) {
    member->previous_member->next_member = member->next_member;
  } else {
    first_member_ = member->next_member;
  }
  if (member->next_member) member->next_member->previous_member = member->previous_member;
  delete member;
  --member_count_;

  if (on_completed_ && member_count_ == 0 && !on_completed_->done()) on_completed_->set_result();

  if (task->cancelled()) return;
  std::exception_ptr error = task->exception();
  if (!error) return;
  errors_.push_back(error);

  if (parent_->done()) {
    loop_->call_exception_handler({.message = "Task " + task->describe() +
                                              " has errored out but its parent task is already completed",
                                   .exception = error,
                                   .task = internal::LoopAccess::any_task(task.get())});
    return;
  }
  if (!aborting_ && !parent_cancel_requested_) {
    // Abort whatever the body is awaiting; exit() absorbs this cancellation.
    abort();
    parent_cancel_requested_ = true;
    parent_->cancel({});
  }
}

Coro<void> TaskGroup::exit(std::exception_ptr body_error) {
  exiting_ = true;
  std::exception_ptr propagate_cancellation;
  if (body_error && internal::is_cancelled_error(body_error)) propagate_cancellation = body_error;
  // The body failed or was cancelled: the children are cancelled.
  if (body_error && !aborting_) abort();

  // A loop: the wait itself can be cancelled, more than once if the parent is
  // cancelled repeatedly.
  while (member_count_ > 0) {
    if (!on_completed_) on_completed_ = internal::Ref<internal::TaskGroupWait>(new internal::TaskGroupWait(*loop_, this));
    try {
      internal::FutureAwaiter<internal::TaskGroupWait> awaiter(on_completed_);
      co_await awaiter;
    } catch (const CancelledError&) {
      if (!aborting_) {
        // The parent is cancelled from outside while children run.
        propagate_cancellation = std::current_exception();
        abort();
      }
    }
    on_completed_ = {};
  }

  if (parent_cancel_requested_ && parent_->uncancel() == 0) {
    // The only cancellation was the one this group made: do not propagate it.
    propagate_cancellation = nullptr;
  }
  // Other errors take priority over a cancellation.
  if (propagate_cancellation && errors_.empty()) std::rethrow_exception(propagate_cancellation);

  if (body_error && !internal::is_cancelled_error(body_error)) errors_.push_back(body_error);
  if (!errors_.empty()) {
    // Cancelled from outside as well: keep the count stable by re-cancelling, so
    // the next suspension point raises CancelledError.
    if (parent_->cancelling() > 0) {
      parent_->uncancel();
      parent_->cancel({});
    }
    throw ExceptionGroup("unhandled errors in a TaskGroup", std::move(errors_));
  }
}

}  // namespace aio
