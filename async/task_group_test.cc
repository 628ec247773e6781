// TaskGroup: asyncio rules 19-24, mirroring test_taskgroups.py, on virtual time.
//
// Rule numbers cited here are those of docs/design/asyncio_rules.md.
#include "async/task_group.h"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "async/sleep.h"
#include "async/task.h"
#include "async/testing.h"
#include "gtest/gtest.h"

namespace aio {
namespace {

using namespace std::chrono_literals;
using testing::fail_after;
using testing::value_after;

Coro<> record_cancel(Duration delay, std::vector<std::string>* log, std::string name) {
  try {
    co_await sleep(delay);
    log->push_back(name + " finished");
  } catch (const CancelledError&) {
    log->push_back(name + " cancelled");
    throw;
  }
}

// test_taskgroup_01: the group waits for every child.
AIO_TEST(TaskGroup, WaitsForEveryChild) {
  Task<int> a, b;
  const TimePoint start = get_running_loop().time();
  co_await task_group([&](TaskGroup& group) -> Coro<> {
    a = group.create_task(value_after(1s, 1));
    b = group.create_task(value_after(2s, 2));
    co_return;
  });
  EXPECT_TRUE(a.done() && b.done());
  EXPECT_EQ(a.result() + b.result(), 3);
  EXPECT_EQ(get_running_loop().time() - start, 2s);
}

// TaskGroup::create_task takes what aio::create_task takes: an awaiter, and
// TaskOptions.
AIO_TEST(TaskGroup, CreateTaskTakesAwaitersAndOptions) {
  Task<void> slept;
  Task<int> named;
  const TimePoint start = get_running_loop().time();
  co_await task_group([&](TaskGroup& group) -> Coro<> {
    slept = group.create_task(sleep(3s), "sleeper");
    TaskOptions options;
    options.name = "answer";
    options.eager_start = true;
    named = group.create_task(value_after(1s, 42), options);
    co_return;
  });
  EXPECT_EQ(slept.get_name(), "sleeper");
  EXPECT_EQ(named.get_name(), "answer");
  EXPECT_EQ(named.result(), 42);
  EXPECT_EQ(get_running_loop().time() - start, 3s);
}

// A plain (non-coroutine) body that only creates tasks is a body too; an
// exception it throws is the body's error.
AIO_TEST(TaskGroup, APlainFunctionBodyCreatesTasks) {
  Task<int> a;
  co_await task_group([&](TaskGroup& group) { a = group.create_task(value_after(1s, 5)); });
  EXPECT_EQ(a.result(), 5);
  try {
    co_await task_group([&](TaskGroup& group) {
      group.create_task(value_after(1s, 6));
      throw ValueError("plain body failed");
    });
    ADD_FAILURE() << "no ExceptionGroup";
  } catch (const ExceptionGroup& group) {
    EXPECT_NE(group.find<ValueError>(), nullptr);
  }
}

// The group's state stays readable after the scope (Python keeps `tg`).
AIO_TEST(TaskGroup, ItsViewOutlivesTheScope) {
  std::optional<TaskGroupView> view;
  co_await task_group([&](TaskGroup& group) -> Coro<> {
    view = group.view();
    EXPECT_FALSE(view->finished());
    group.create_task(value_after(1s, 1));
    co_return;
  });
  EXPECT_TRUE(view->finished());
  EXPECT_FALSE(view->shutting_down());
  try {
    co_await task_group([&](TaskGroup& group) -> Coro<> {
      view = group.view();
      group.create_task(fail_after(1s, "child failed"));
      co_await sleep(10s);
    });
  } catch (const ExceptionGroup&) {
  }
  EXPECT_TRUE(view->finished());
  EXPECT_TRUE(view->shutting_down());
}

AIO_TEST(TaskGroup, ReturnsTheBodysValue) {
  int value = co_await task_group([](TaskGroup& group) -> Coro<int> {
    Task<int> child = group.create_task(value_after(1s, 20));
    co_return co_await child + 1;
  });
  EXPECT_EQ(value, 21);
}

// Children created while the group waits on exit are awaited too.
AIO_TEST(TaskGroup, AwaitsChildrenCreatedWhileItWaits) {
  bool late_child_ran = false;
  co_await task_group([&](TaskGroup& group) -> Coro<> {
    group.create_task(invoke([&group, &late_child_ran]() -> Coro<> {
      co_await sleep(1s);
      group.create_task(invoke([&late_child_ran]() -> Coro<> {
        co_await sleep(1s);
        late_child_ran = true;
      }));
    }));
    co_return;
  });
  EXPECT_TRUE(late_child_ran);
}

// test_taskgroup_03-ish: the first failure cancels the siblings and the body;
// the group absorbs the cancellation of its parent.
AIO_TEST(TaskGroup, AFailingChildCancelsSiblingsAndBodyAndErrorsComeOutTogether) {
  std::vector<std::string> log;
  bool raised = false;
  try {
    co_await task_group([&](TaskGroup& group) -> Coro<> {
      group.create_task(record_cancel(10s, &log, "sibling"));
      group.create_task(fail_after(1s, "boom"));
      try {
        co_await sleep(1h);
      } catch (const CancelledError&) {
        log.push_back("body cancelled");
        throw;
      }
    });
  } catch (const ExceptionGroup& group) {
    raised = true;
    EXPECT_EQ(group.exceptions().size(), 1u);
    EXPECT_NE(group.find<std::runtime_error>(), nullptr);
    EXPECT_EQ(std::string(group.find<std::runtime_error>()->what()), "boom");
    EXPECT_EQ(group.message(), "unhandled errors in a TaskGroup");
  }
  EXPECT_TRUE(raised);
  std::sort(log.begin(), log.end());
  EXPECT_EQ(log, (std::vector<std::string>{"body cancelled", "sibling cancelled"}));
  EXPECT_EQ(current_task()->cancelling(), 0);  // absorbed
  co_await sleep(1s);                           // and the task goes on normally
}

AIO_TEST(TaskGroup, SeveralFailuresAreAllCollected) {
  std::size_t count = 0;
  try {
    co_await task_group([](TaskGroup& group) -> Coro<> {
      group.create_task(fail_after(1s, "one"));
      group.create_task(fail_after(1s, "two"));  // same moment: both fail before the cancel lands
      co_return;
    });
  } catch (const ExceptionGroup& group) {
    count = group.exceptions().size();
  }
  EXPECT_EQ(count, 2u);
}

// test_taskgroup_07-ish: an error in the body cancels the children and joins
// the group's errors.
AIO_TEST(TaskGroup, AnErrorInTheBodyCancelsTheChildren) {
  std::vector<std::string> log;
  bool found = false;
  try {
    co_await task_group([&](TaskGroup& group) -> Coro<> {
      group.create_task(record_cancel(10s, &log, "child"));
      co_await sleep(1s);
      throw std::invalid_argument("body failed");
    });
  } catch (const ExceptionGroup& group) {
    found = group.find<std::invalid_argument>() != nullptr && group.exceptions().size() == 1;
  }
  EXPECT_TRUE(found);
  EXPECT_EQ(log, (std::vector<std::string>{"child cancelled"}));
}

// test_taskgroup_15/16: an outside cancel cancels the children and propagates.
AIO_TEST(TaskGroup, AnOutsideCancelCancelsTheChildrenAndPropagates) {
  std::vector<std::string> log;
  Task<> parent = create_task(invoke([&log]() -> Coro<> {
    co_await task_group([&log](TaskGroup& group) -> Coro<> {
      group.create_task(record_cancel(10s, &log, "child"));
      co_await sleep(1h);
    });
  }));
  co_await sleep(1s);
  parent.cancel();
  EXPECT_THROW(co_await parent, CancelledError);
  EXPECT_EQ(log, (std::vector<std::string>{"child cancelled"}));
}

// While the group waits on exit, an outside cancel still cancels the children.
AIO_TEST(TaskGroup, AnOutsideCancelWhileWaitingOnExitCancelsTheChildren) {
  std::vector<std::string> log;
  Task<> parent = create_task(invoke([&log]() -> Coro<> {
    co_await task_group([&log](TaskGroup& group) -> Coro<> {
      group.create_task(record_cancel(10s, &log, "child"));
      co_return;  // the group is now waiting on exit
    });
  }));
  co_await sleep(1s);
  parent.cancel();
  EXPECT_THROW(co_await parent, CancelledError);
  EXPECT_EQ(log, (std::vector<std::string>{"child cancelled"}));
  EXPECT_EQ(parent.cancelling(), 1);
}

// Rule 23 (3.13): child errors and an outside cancel together: the
// ExceptionGroup wins and the parent stays cancel-requested.
AIO_TEST_ORDERED(TaskGroup, ChildFailureInTheSameIterationAsAnOutsideCancel) {
  std::vector<std::string> log;
  Task<> parent = create_task(invoke([&log]() -> Coro<> {
    try {
      co_await task_group([](TaskGroup& group) -> Coro<> {
        group.create_task(fail_after(1s, "child failed"));
        co_await sleep(1h);
      });
    } catch (const ExceptionGroup&) {
      log.push_back("exception group");
    }
    log.push_back("cancelling=" + std::to_string(current_task()->cancelling()));
    try {
      co_await sleep(1s);  // the outside cancel is still pending
    } catch (const CancelledError&) {
      log.push_back("cancelled at the next await");
      throw;
    }
  }));
  co_await sleep(1s);  // the child fails at t=1s, in the iteration this task wakes in
  parent.cancel();
  EXPECT_THROW(co_await parent, CancelledError);
  EXPECT_EQ(log, (std::vector<std::string>{"exception group", "cancelling=1", "cancelled at the next await"}));
}

// test_taskgroup_19/20: nested groups nest their ExceptionGroups.
AIO_TEST(TaskGroup, ANestedGroupsErrorsAreOneMemberOfTheOuterGroup) {
  bool nested = false;
  try {
    co_await task_group([](TaskGroup& outer) -> Coro<> {
      outer.create_task(invoke([]() -> Coro<> {
        co_await task_group([](TaskGroup& inner) -> Coro<> {
          inner.create_task(fail_after(1s, "deep"));
          co_return;
        });
      }));
      co_return;
    });
  } catch (const ExceptionGroup& group) {
    try {
      if (group.exceptions().size() == 1) std::rethrow_exception(group.exceptions()[0]);
    } catch (const ExceptionGroup& inner) {
      nested = inner.exceptions().size() == 1 && group.find<std::runtime_error>() != nullptr;
    }
  }
  EXPECT_TRUE(nested);
}

// Rule 24: create_task on an aborting group throws and neither runs nor leaks
// the coroutine. ("Finished" cannot be reached in C++: the group object ends
// with its scope, after its last child.)
AIO_TEST(TaskGroup, CreateTaskOnAnAbortingGroupThrowsAndDropsTheCoroutine) {
  bool refused_while_aborting = false;
  bool ran = false;
  try {
    co_await task_group([&](TaskGroup& group) -> Coro<> {
      group.create_task(fail_after(1s, "x"));
      std::exception_ptr cancelled;
      try {
        co_await sleep(1h);
      } catch (const CancelledError&) {
        cancelled = std::current_exception();
      }
      try {
        group.create_task(invoke([&ran]() -> Coro<> {
          ran = true;
          co_return;
        }));
      } catch (const std::runtime_error& error) {
        refused_while_aborting = std::string(error.what()) == "TaskGroup is shutting down";
      }
      if (cancelled) std::rethrow_exception(cancelled);
    });
  } catch (const ExceptionGroup&) {
  }
  EXPECT_TRUE(refused_while_aborting);
  co_await sleep(1s);
  EXPECT_FALSE(ran);
}

AIO_TEST(TaskGroup, AnEagerChildThatFinishedAtOnceIsStillCounted) {
  int value = 0;
  co_await task_group([&value](TaskGroup& group) -> Coro<> {
    Task<int> child = group.create_task(value_after(0s, 5));
    value = co_await child;
  });
  EXPECT_EQ(value, 5);
}

}  // namespace
}  // namespace aio
