#include "tools/repl/task_view.h"

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "async/call_graph.h"
#include "async/coro.h"
#include "async/gather.h"
#include "async/sleep.h"
#include "async/task.h"
#include "async/task_group.h"
#include "async/testing.h"
#include "sync/queue.h"
#include "tools/repl/inspect_client.h"

namespace repl {
namespace {

using namespace std::chrono_literals;

aio::TaskSnapshot make(std::uint64_t id, std::string name, std::vector<std::string> awaiting,
                       std::vector<std::uint64_t> awaits, std::vector<std::uint64_t> awaited_by) {
  aio::TaskSnapshot task;
  task.id = id;
  task.number = id;
  task.name = std::move(name);
  task.state = "waiting";
  task.awaiting = std::move(awaiting);
  task.awaits_tasks = std::move(awaits);
  task.awaited_by = std::move(awaited_by);
  return task;
}

std::vector<aio::TaskSnapshot> known_set() {
  std::vector<aio::TaskSnapshot> tasks = {
      make(1, "main", {"gather"}, {2, 3}, {}),
      make(2, "worker-1", {"Queue.get"}, {}, {1}),
      make(3, "worker-2", {"Queue.get"}, {}, {1}),
      make(4, "waiter", {}, {5}, {}),
      make(5, "sleeper", {"sleep"}, {}, {4}),
  };
  tasks[0].age = 2500ms;
  tasks[1].age = 850ms;
  tasks[4].age = 125s;
  tasks[3].state = "scheduled";
  return tasks;
}

TEST(TaskView, ChainsReadFromTheTopOfTheAwaitGraphToTheLeaf) {
  std::vector<aio::TaskSnapshot> tasks = known_set();
  EXPECT_EQ(await_chain(tasks, tasks[0]), "main → gather");
  EXPECT_EQ(await_chain(tasks, tasks[2]), "main → gather → worker-2 → Queue.get");
  EXPECT_EQ(await_chain(tasks, tasks[3]), "waiter → sleeper");
  EXPECT_EQ(await_chain(tasks, tasks[4]), "waiter → sleeper → sleep");
}

TEST(TaskView, TheTableHasOneLinePerTaskWithAlignedColumns) {
  EXPECT_EQ(format_task_table(known_set()),
            "id  name      state      age    awaiting\n"
            "1   main      waiting    2.5s   main → gather\n"
            "2   worker-1  waiting    850ms  main → gather → worker-1 → Queue.get\n"
            "3   worker-2  waiting    -      main → gather → worker-2 → Queue.get\n"
            "4   waiter    scheduled  -      waiter → sleeper\n"
            "5   sleeper   waiting    2m05s  waiter → sleeper → sleep\n");
  EXPECT_EQ(format_task_table({}), "no tasks\n");
}

TEST(TaskView, SomeRowsWithChainsReadInTheWholeGraph) {
  std::vector<aio::TaskSnapshot> all = known_set();
  aio::TaskSnapshot worker = all[2];
  worker.number = 1;  // the console's own numbering
  EXPECT_EQ(format_task_table({worker}, all),
            "id  name      state    age  awaiting\n"
            "1   worker-2  waiting  -    main → gather → worker-2 → Queue.get\n");
}

TEST(TaskView, TheTreeHangsAwaitedTasksUnderWhatAwaitsThem) {
  EXPECT_EQ(format_task_tree(known_set()),
            "└── (T) main\n"
            "    └── gather\n"
            "        ├── (T) worker-1\n"
            "        │   └── Queue.get\n"
            "        └── (T) worker-2\n"
            "            └── Queue.get\n"
            "└── (T) waiter\n"
            "    └── (T) sleeper\n"
            "        └── sleep\n");
}

TEST(TaskView, ACycleIsCutWhereItCloses) {
  std::vector<aio::TaskSnapshot> tasks = {make(1, "a", {}, {2}, {2}), make(2, "b", {}, {1}, {1})};
  EXPECT_EQ(format_task_tree(tasks),
            "└── (T) a\n"
            "    └── (T) b\n"
            "        └── (T) a (cycle)\n");
  EXPECT_EQ(await_chain(tasks, tasks[0]), "b → a → b");
}

TEST(TaskView, AgesAreShort) {
  EXPECT_EQ(format_age(std::nullopt), "-");
  EXPECT_EQ(format_age(aio::Duration(999ms)), "999ms");
  EXPECT_EQ(format_age(aio::Duration(59'949ms)), "59.9s");
  EXPECT_EQ(format_age(aio::Duration(3601s)), "60m01s");
}

aio::Coro<> worker(aio::Queue<int>& queue) { co_await queue.get(); }
aio::Coro<> gather_workers(aio::Queue<int>& queue) {
  aio::Task<> first = aio::create_task(worker(queue), "worker-1");
  aio::Task<> second = aio::create_task(worker(queue), "worker-2");
  co_await aio::gather(first, second);
}

// The in-process view (`.tasks`) of live tasks.
AIO_TEST(TaskView, ALiveSnapshot) {
  aio::Queue<int> queue;
  aio::Task<> gatherer = aio::create_task(gather_workers(queue), "gatherer");
  co_await aio::testing::let_other_tasks_run();
  co_await aio::testing::let_other_tasks_run();
  std::vector<aio::TaskSnapshot> tasks = aio::snapshot_tasks();
  std::string table = format_task_table(tasks);
  EXPECT_NE(table.find("worker-2  waiting  -    gatherer → gather → worker-2 → Queue.get\n"), std::string::npos) << table;
  std::string tree = format_task_tree(tasks);
  EXPECT_NE(tree.find("└── (T) gatherer\n    └── gather\n        ├── (T) worker-1\n        │   └── Queue.get\n"),
            std::string::npos)
      << tree;
  queue.put_nowait(1);
  queue.put_nowait(2);
  co_await gatherer;
}

aio::Coro<> sleeper() { co_await aio::sleep(1h); }
aio::Coro<> wait_for_task(aio::Task<> other) { co_await other; }
aio::Coro<> shielding(aio::Task<> inner) { co_await aio::shield(inner); }
aio::Coro<> with_group() {
  auto scope = aio::task_group([](aio::TaskGroup& group) { group.create_task(sleeper(), "group-child"); });
  co_await std::move(scope);
}

// The chains of the known set: a gather of workers in Queue.get, a
// task in sleep, a task awaiting another, a shielded one, a TaskGroup.
AIO_TEST(TaskView, ChainsOfLiveTasks) {
  aio::Queue<int> queue;
  aio::Task<> main = aio::create_task(gather_workers(queue), "main");
  aio::Task<> sleeping = aio::create_task(sleeper(), "sleeper");
  aio::Task<> waiter = aio::create_task(wait_for_task(sleeping), "waiter");
  aio::Task<> inner = aio::create_task(sleeper(), "inner");
  aio::Task<> shielder = aio::create_task(shielding(inner), "shielder");
  aio::Task<> group = aio::create_task(with_group(), "group");
  for (int i = 0; i < 3; ++i) co_await aio::testing::let_other_tasks_run();
  std::vector<aio::TaskSnapshot> tasks = aio::snapshot_tasks();
  std::map<std::string, std::string> chains;
  for (const aio::TaskSnapshot& task : tasks) chains[task.name] = await_chain(tasks, task);
  EXPECT_EQ(chains["worker-2"], "main → gather → worker-2 → Queue.get");
  EXPECT_EQ(chains["main"], "main → gather");
  EXPECT_EQ(chains["sleeper"], "waiter → sleeper → sleep");
  EXPECT_EQ(chains["waiter"], "waiter → sleeper");
  EXPECT_EQ(chains["inner"], "shielder → shield → inner → sleep");
  EXPECT_EQ(chains["group-child"], "group → TaskGroup → group-child → sleep");
  std::string tree = format_task_tree(tasks);
  EXPECT_NE(tree.find("└── (T) group\n    └── TaskGroup\n        └── (T) group-child\n            └── sleep\n"),
            std::string::npos)
      << tree;
  for (aio::Task<>* task : {&main, &sleeping, &inner, &group}) task->cancel();
  co_await aio::testing::let_other_tasks_run();
  co_await aio::testing::let_other_tasks_run();
  EXPECT_TRUE(main.done() && waiter.done() && shielder.done() && group.done());
}

TEST(InspectClient, ParsesTheProtocolAndRejectsAnythingElse) {
  std::vector<aio::TaskSnapshot> tasks = parse_tasks_answer(
      "{\"protocol\":1,\"pid\":9,\"tasks\":[{\"id\":7,\"number\":3,\"name\":\"w\",\"state\":\"waiting\","
      "\"age_ns\":1500000000,\"awaiting\":[\"Queue.get\"],\"awaits\":[],\"awaited_by\":[8]}]}\n");
  ASSERT_EQ(tasks.size(), 1u);
  EXPECT_EQ(tasks[0].id, 7u);
  EXPECT_EQ(tasks[0].number, 3u);
  EXPECT_EQ(tasks[0].name, "w");
  EXPECT_EQ(tasks[0].age, aio::Duration(1500ms));
  EXPECT_EQ(tasks[0].awaiting, std::vector<std::string>{"Queue.get"});
  EXPECT_EQ(tasks[0].awaited_by, std::vector<std::uint64_t>{8});
  try {
    parse_tasks_answer("{\"protocol\":1,\"error\":\"unknown request 'x'\"}");
    ADD_FAILURE() << "an error answer was accepted";
  } catch (const InspectError& error) {
    EXPECT_STREQ(error.what(), "the process answered: unknown request 'x'");
  }
  EXPECT_THROW(parse_tasks_answer("HTTP/1.1 200 OK"), InspectError);
  EXPECT_THROW(parse_tasks_answer("{\"protocol\":2,\"tasks\":[]}"), InspectError);
  EXPECT_THROW(parse_tasks_answer("{\"protocol\":1,\"tasks\":[{\"id\":\"x\"}]}"), InspectError);
}

}  // namespace
}  // namespace repl
