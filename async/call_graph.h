// What tasks are waiting on right now: aio::capture_call_graph,
// format_call_graph and print_call_graph (Python 3.14's asyncio graph
// functions), and snapshot_tasks(), the same information for every task of a
// loop at once (the REPL's `.tasks`, `aio ps`).
//
//   aio::print_call_graph(worker);
//   // * Task(name='worker-2', id=0x5581d2c0)
//   //   + Call stack:
//   //   |   Queue.get
//   //   + Awaited by:
//   //     * Task(name='main', id=0x5581c9a0)
//   //       + Call stack:
//   //       |   gather
//
// Python walks coroutine frames; C++ coroutines have no introspectable frames,
// so a task's "call stack" here is what it is suspended on, named: the leaf it
// waits in ("sleep", "Queue.get", "Lock.acquire", "Event.wait",
// "StreamReader.read", "socket read", ...) or the combinator whose result it
// awaits ("gather", "shield", "TaskGroup", "Future"). A task awaiting another
// task directly has an empty call stack and appears in that task's awaited_by.
// A running or scheduled task has an empty call stack too.
//
// Costs: nothing per await. Every suspension already stores its awaiter in the
// task (for cancel()); these functions ask that awaiter, on demand, what it is.
// Ages need creation times, which are recorded only while
// record_task_creation_times(true) (reading the clock per create_task would
// cost more than the rest of create_task).
//
// Thread-safety: loop thread only, like everything about tasks. Another thread
// asks through the loop: //async:inspect answers from loop callbacks.
#ifndef AIO_ASYNC_CALL_GRAPH_H_
#define AIO_ASYNC_CALL_GRAPH_H_

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "async/loop.h"

namespace aio {

// asyncio.FutureCallGraph: a task, what it is suspended on, and the graphs of
// the tasks awaiting it (directly, or through gather, shield or a TaskGroup).
struct FutureCallGraph {
  explicit FutureCallGraph(AnyTask task) : task(std::move(task)) {}
  AnyTask task;
  // What the task waits on, innermost first (Python's order): {"Queue.get"},
  // {"gather"}, {"gather", "shield"} for a shield of a gather.
  std::vector<std::string> call_stack;
  std::vector<FutureCallGraph> awaited_by;
};

// The graph of `task`, read on the task's loop thread. Throws
// aio::InvalidStateError if the task is done (a finished task waits on nothing).
FutureCallGraph capture_call_graph(const AnyTask& task);
// The graph of the current task, or nothing outside a task. Throws
// aio::RuntimeError outside a running loop.
std::optional<FutureCallGraph> capture_call_graph();

// The graph as Python 3.14 prints it (see the file comment), without a final
// newline; "" when there is no current task.
std::string format_call_graph(const FutureCallGraph& graph);
std::string format_call_graph(const AnyTask& task);
std::string format_call_graph();
// format_call_graph(...) and a newline, on `out`.
void print_call_graph(const AnyTask& task, std::ostream& out);
void print_call_graph(const AnyTask& task);  // on std::cout
void print_call_graph();                     // the current task, on std::cout

// One task of snapshot_tasks(): plain data, so that it can be sent to another
// process (//async:inspect) and formatted there.
struct TaskSnapshot {
  TaskSnapshot() {}
  // The task's address, as Python's id(task): unique among live tasks.
  std::uint64_t id = 0;
  // The task's creation number (the N of "Task-N", also for named tasks):
  // short, and in creation order.
  std::uint64_t number = 0;
  std::string name;
  // "running" (its step runs now), "scheduled" (ready to take a step; also a
  // task not started yet), or "waiting" (suspended on `awaiting`).
  std::string state;
  // Time since create_task, if creation times were recorded then.
  std::optional<Duration> age;
  // What it waits on, outermost first as a chain reads: {"gather"},
  // {"shield", "gather"}, {"Queue.get"}; empty when it awaits a task directly.
  std::vector<std::string> awaiting;
  // The ids of the tasks it waits for (directly or through gather, shield, a
  // TaskGroup), and of the tasks waiting for it.
  std::vector<std::uint64_t> awaits_tasks;
  std::vector<std::uint64_t> awaited_by;
};

// Every pending task of `loop`, in creation order. Loop thread only.
std::vector<TaskSnapshot> snapshot_tasks(const EventLoop& loop);
// Of the running loop; throws aio::RuntimeError outside one.
std::vector<TaskSnapshot> snapshot_tasks();

// Whether tasks created from now on, on this thread, record their creation
// time (TaskSnapshot::age). Off by default (see the file comment).
void record_task_creation_times(bool on) noexcept;
bool recording_task_creation_times() noexcept;

}  // namespace aio

#endif  // AIO_ASYNC_CALL_GRAPH_H_
