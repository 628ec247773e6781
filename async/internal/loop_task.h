// What the event loop knows of a task: the small interface that breaks the
// loop <-> task cycle.
//
// The loop (//async:loop) lists pending tasks, tells which one is running,
// reports tasks destroyed while pending, and hands out AnyTask handles; the task
// machinery (//async:task, internal/task_base.h) schedules its steps on the
// loop. Without this interface each would need the other's target. With it the
// loop depends on nothing of the task's: TaskBase implements LoopTask, and the
// loop sees only these few virtual calls, none of them on a hot path (a task
// step, a wake-up and a cancel never go through them).
#ifndef AIO_ASYNC_INTERNAL_LOOP_TASK_H_
#define AIO_ASYNC_INTERNAL_LOOP_TASK_H_

#include <exception>
#include <functional>
#include <string>

#include "async/internal/ready_queue.h"

namespace aio {
class AnyTask;
}

namespace aio::internal {

// A task is a ReadyNode (its steps are queued on the run queue), so the loop can
// tell a task's step from a callback in the queue and describe it.
class LoopTask : public ReadyNode {
 public:
  // The loop's intrusive list of pending tasks (EventLoop::all_tasks).
  LoopTask* previous_task = nullptr;
  LoopTask* next_task = nullptr;

  // AnyTask holds a reference, as Task<T> does.
  virtual void add_task_reference() noexcept = 0;
  virtual void drop_task_reference() noexcept = 0;

  // AnyTask's operations: asyncio's Task interface, untyped.
  virtual const std::string& name() const = 0;
  virtual void set_name(std::string name) = 0;
  virtual bool task_done() const noexcept = 0;
  virtual bool task_cancelled() const noexcept = 0;
  virtual bool cancel(std::string message) = 0;
  virtual int cancelling() const noexcept = 0;
  virtual int uncancel() noexcept = 0;
  // The exception the task ended with (null on success); throws
  // CancelledError if it was cancelled and InvalidStateError while pending.
  virtual std::exception_ptr task_exception() = 0;
  virtual void add_done_callback(std::function<void(AnyTask)> callback) = 0;
  // "Task 'name'", for reports.
  virtual std::string describe() const = 0;

  // The loop is being destroyed with this task still pending: destroy its
  // coroutine (the task stays pending).
  virtual void destroy_coroutine() noexcept = 0;

 protected:
  ~LoopTask() = default;
};

}  // namespace aio::internal

#endif  // AIO_ASYNC_INTERNAL_LOOP_TASK_H_
