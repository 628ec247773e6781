// The REPL's views of a set of tasks: the table of `.tasks` and `ps PID`, and
// the tree of `pstree PID` (Python 3.14's `python -m asyncio ps` / `pstree`).
// Both format a snapshot (aio::snapshot_tasks() of this process, or what
// inspect_client.h fetched from another), so they never touch live tasks.
//
//   id  name      state    age   awaiting
//   1   main      waiting  2.0s  main → gather
//   2   worker-1  waiting  2.0s  main → gather → worker-1 → Queue.get
//
// Pure functions of their input; thread-compatible.
#ifndef AIO_TOOLS_REPL_TASK_VIEW_H_
#define AIO_TOOLS_REPL_TASK_VIEW_H_

#include <optional>
#include <string>
#include <vector>

#include "async/call_graph.h"

namespace repl {

// The table, one line per task in the snapshot's order, each line ending in a
// newline; "no tasks\n" for an empty snapshot. Ages are "-" when unknown.
std::string format_task_table(const std::vector<aio::TaskSnapshot>& tasks);
// The same table for some tasks only (`rows`: say, the console's background
// tasks, renumbered with its own numbers), their chains read in the whole
// snapshot `graph` (so that a chain climbs through tasks not listed).
std::string format_task_table(const std::vector<aio::TaskSnapshot>& rows, const std::vector<aio::TaskSnapshot>& graph);

// What `task` is waiting on, as a chain from the task at the top of its await
// graph down to the leaf it is suspended in: "main → gather → worker-2 →
// Queue.get". A task awaited by several follows the first. A task awaiting one
// other task directly ends with that task's name ("waiter → sleeper").
std::string await_chain(const std::vector<aio::TaskSnapshot>& tasks, const aio::TaskSnapshot& task);

// The await graph as a tree of the tasks nobody awaits ("(T) name" for a task,
// what it waits on below it, the tasks that waits for below that):
//   └── (T) main
//       └── gather
//           ├── (T) worker-1
//           │   └── Queue.get
// Every line ends in a newline; a task awaited by two appears under both; a
// cycle of tasks awaiting each other is cut where it closes ("(cycle)").
std::string format_task_tree(const std::vector<aio::TaskSnapshot>& tasks);

// "850ms", "2.0s", "3m05s", "-".
std::string format_age(const std::optional<aio::Duration>& age);

}  // namespace repl

#endif  // AIO_TOOLS_REPL_TASK_VIEW_H_
