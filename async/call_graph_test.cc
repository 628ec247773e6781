#include "async/call_graph.h"

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <cctype>
#include <sstream>
#include <string>
#include <vector>

#include "async/coro.h"
#include "async/errors.h"
#include "async/future.h"
#include "async/gather.h"
#include "async/loop.h"
#include "async/sleep.h"
#include "async/task.h"
#include "async/task_group.h"
#include "async/testing.h"
#include "sync/event.h"
#include "sync/lock.h"
#include "sync/queue.h"

namespace aio {
namespace {

using namespace std::chrono_literals;

Coro<> worker(Queue<int>& queue) { co_await queue.get(); }

Coro<> gather_workers(Queue<int>& queue) {
  Task<> first = create_task(worker(queue), "worker-1");
  Task<> second = create_task(worker(queue), "worker-2");
  co_await gather(first, second);
}

Coro<> sleeper() { co_await sleep(1h); }
Coro<> wait_for_task(Task<> other) { co_await other; }
Coro<> shielding(Task<> inner) { co_await shield(inner); }
Coro<> wait_for_event(Event& event) { co_await event.wait(); }
Coro<> with_group(Event& event) {
  auto scope = task_group([&event](TaskGroup& group) { group.create_task(wait_for_event(event), "group-child"); });
  co_await std::move(scope);
}
Coro<> acquire(Lock& lock) {
  co_await lock.acquire();
  lock.release();
}

// "id=0x5581d2c0" -> "id=0x?" (std::regex trips GCC 12's -Wmaybe-uninitialized under ASan).
std::string mask_ids(const std::string& text) {
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    if (text.compare(i, 5, "id=0x") == 0) {
      out += "id=0x?";
      i += 5;
      while (i < text.size() && std::isxdigit(static_cast<unsigned char>(text[i]))) ++i;
    } else {
      out += text[i++];
    }
  }
  return out;
}

std::string chain_of(const std::vector<TaskSnapshot>& tasks, const std::string& name) {
  for (const TaskSnapshot& task : tasks) {
    if (task.name != name) continue;
    std::string text = task.state;
    for (const std::string& entry : task.awaiting) text += " " + entry;
    return text;
  }
  return "(no task " + name + ")";
}

const TaskSnapshot* by_name(const std::vector<TaskSnapshot>& tasks, const std::string& name) {
  for (const TaskSnapshot& task : tasks) {
    if (task.name == name) return &task;
  }
  return nullptr;
}

// The set of the issue: main awaiting a gather of workers parked in Queue.get,
// a sleeping task, a task awaiting another, a shielded one, a TaskGroup, a Lock.
AIO_TEST(CallGraph, GoldenGraphsForAKnownSetOfTasks) {
  Queue<int> queue;
  Event event;
  Lock lock;
  co_await lock.acquire();
  Task<> main = create_task(gather_workers(queue), "main");
  Task<> sleeping = create_task(sleeper(), "sleeper");
  Task<> waiter = create_task(wait_for_task(sleeping), "waiter");
  Task<> inner = create_task(sleeper(), "inner");
  Task<> shielder = create_task(shielding(inner), "shielder");
  Task<> group = create_task(with_group(event), "group");
  Task<> locker = create_task(acquire(lock), "locker");
  for (int i = 0; i < 3; ++i) co_await testing::let_other_tasks_run();

  Task<> worker2 = Task<>::from(*[&]() -> std::optional<AnyTask> {
    for (const AnyTask& task : all_tasks()) {
      if (task.get_name() == "worker-2") return task;
    }
    return std::nullopt;
  }());
  EXPECT_EQ(mask_ids(format_call_graph(worker2)),
            "* Task(name='worker-2', id=0x?)\n"
            "  + Call stack:\n"
            "  |   Queue.get\n"
            "  + Awaited by:\n"
            "    * Task(name='main', id=0x?)\n"
            "      + Call stack:\n"
            "      |   gather");
  EXPECT_EQ(mask_ids(format_call_graph(sleeping)),
            "* Task(name='sleeper', id=0x?)\n"
            "  + Call stack:\n"
            "  |   sleep\n"
            "  + Awaited by:\n"
            "    * Task(name='waiter', id=0x?)");
  EXPECT_EQ(mask_ids(format_call_graph(inner)),
            "* Task(name='inner', id=0x?)\n"
            "  + Call stack:\n"
            "  |   sleep\n"
            "  + Awaited by:\n"
            "    * Task(name='shielder', id=0x?)\n"
            "      + Call stack:\n"
            "      |   shield");
  FutureCallGraph graph = capture_call_graph(main);
  EXPECT_EQ(graph.task, AnyTask(main));
  EXPECT_EQ(graph.call_stack, std::vector<std::string>{"gather"});
  EXPECT_TRUE(graph.awaited_by.empty());

  std::vector<TaskSnapshot> tasks = snapshot_tasks();
  EXPECT_EQ(chain_of(tasks, "main"), "waiting gather");
  EXPECT_EQ(chain_of(tasks, "worker-1"), "waiting Queue.get");
  EXPECT_EQ(chain_of(tasks, "worker-2"), "waiting Queue.get");
  EXPECT_EQ(chain_of(tasks, "sleeper"), "waiting sleep");
  EXPECT_EQ(chain_of(tasks, "waiter"), "waiting");
  EXPECT_EQ(chain_of(tasks, "shielder"), "waiting shield");
  EXPECT_EQ(chain_of(tasks, "group"), "waiting TaskGroup");
  EXPECT_EQ(chain_of(tasks, "group-child"), "waiting Event.wait");
  EXPECT_EQ(chain_of(tasks, "locker"), "waiting Lock.acquire");
  // The test's own task is the one running.
  EXPECT_EQ(tasks.front().state, "running");
  const TaskSnapshot* main_snapshot = by_name(tasks, "main");
  const TaskSnapshot* group_snapshot = by_name(tasks, "group");
  const TaskSnapshot* child_snapshot = by_name(tasks, "group-child");
  const TaskSnapshot* waiter_snapshot = by_name(tasks, "waiter");
  const TaskSnapshot* sleeper_snapshot = by_name(tasks, "sleeper");
  EXPECT_TRUE(main_snapshot && group_snapshot && child_snapshot && waiter_snapshot && sleeper_snapshot);
  if (main_snapshot && group_snapshot && child_snapshot && waiter_snapshot && sleeper_snapshot) {
    EXPECT_EQ(main_snapshot->awaits_tasks.size(), 2u);
    EXPECT_EQ(child_snapshot->awaited_by, std::vector<std::uint64_t>{group_snapshot->id});
    EXPECT_EQ(group_snapshot->awaits_tasks, std::vector<std::uint64_t>{child_snapshot->id});
    EXPECT_EQ(waiter_snapshot->awaits_tasks, std::vector<std::uint64_t>{sleeper_snapshot->id});
    EXPECT_EQ(sleeper_snapshot->awaited_by, std::vector<std::uint64_t>{waiter_snapshot->id});
    EXPECT_FALSE(sleeper_snapshot->age.has_value());  // creation times were not recorded
  }

  // Once woken, a task is scheduled until its step runs, then gone when done.
  queue.put_nowait(1);
  queue.put_nowait(2);
  event.set();
  lock.release();
  EXPECT_EQ(chain_of(snapshot_tasks(), "locker"), "scheduled");
  co_await main;
  co_await group;
  co_await locker;
  EXPECT_EQ(by_name(snapshot_tasks(), "main"), nullptr);
  EXPECT_THROW(capture_call_graph(main), InvalidStateError);
  sleeping.cancel();
  inner.cancel();
  co_await testing::let_other_tasks_run();
  co_await testing::let_other_tasks_run();
  EXPECT_TRUE(waiter.done() && shielder.done());
}

AIO_TEST(CallGraph, TheCurrentTaskIsRunningWithNothingToWaitOn) {
  std::optional<FutureCallGraph> graph = capture_call_graph();
  EXPECT_TRUE(graph.has_value());
  if (graph) {
    EXPECT_TRUE(graph->call_stack.empty());
    EXPECT_EQ(graph->task, *current_task());
  }
  EXPECT_EQ(mask_ids(format_call_graph()), "* Task(name='" + current_task()->get_name() + "', id=0x?)");
  std::ostringstream out;
  print_call_graph(*current_task(), out);
  EXPECT_EQ(mask_ids(out.str()), "* Task(name='" + current_task()->get_name() + "', id=0x?)\n");
  co_return;
}

AIO_TEST(CallGraph, NamesAreQuotedAsPythonsRepr) {
  Task<> task = create_task(sleeper(), "it's");
  co_await testing::let_other_tasks_run();
  EXPECT_EQ(mask_ids(format_call_graph(task)), "* Task(name=\"it's\", id=0x?)\n  + Call stack:\n  |   sleep");
  task.cancel();
  co_await testing::let_other_tasks_run();
}

AIO_TEST(CallGraph, AgesAreMeasuredWhenCreationTimesAreRecorded) {
  record_task_creation_times(true);
  Task<> task = create_task(sleeper(), "aged");
  record_task_creation_times(false);
  co_await sleep(5s);
  const TaskSnapshot* snapshot = nullptr;
  std::vector<TaskSnapshot> tasks = snapshot_tasks();
  snapshot = by_name(tasks, "aged");
  EXPECT_TRUE(snapshot != nullptr && snapshot->age.has_value());
  if (snapshot != nullptr && snapshot->age) {
    EXPECT_EQ(*snapshot->age, Duration(5s));
  }
  task.cancel();
  co_await testing::let_other_tasks_run();
}

TEST(CallGraph, OutsideALoopThereIsNoCurrentGraph) {
  EXPECT_THROW(capture_call_graph(), RuntimeError);
}

}  // namespace
}  // namespace aio
