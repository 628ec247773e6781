// How a call graph is found. Each suspended task already points at the awaiter
// it is suspended in (TaskBase's wait, kept for cancel()); the awaiter says
// what it is (Cancellable::describe_wait): a named leaf ("Queue.get"), or the
// future it awaits. A future that is a task is an edge to that task; gather's,
// shield's and a TaskGroup's futures name themselves and list the futures they
// wait for in turn (FutureStateBase::awaited_futures). Walking every task of
// the loop once gives the forward edges ("A waits for B"); awaited_by is the
// same edges read backwards. All of it runs only when someone asks.
#include "async/call_graph.h"

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include "async/errors.h"
#include "async/internal/loop_access.h"
#include "async/internal/task_base.h"

namespace aio {
namespace {

using internal::FutureStateBase;
using internal::TaskBase;

struct TaskInfo {
  const TaskBase* task = nullptr;
  std::vector<std::string> awaiting;  // outermost first
  std::vector<const TaskBase*> awaits;
  std::vector<const TaskBase*> awaited_by;
};

void follow(const FutureStateBase* future, TaskInfo& info, int depth) {
  if (const auto* task = dynamic_cast<const TaskBase*>(future)) {
    if (std::find(info.awaits.begin(), info.awaits.end(), task) == info.awaits.end()) info.awaits.push_back(task);
    return;
  }
  if (depth > 64) return;  // futures waiting for futures: no real program nests this deep
  info.awaiting.emplace_back(future->call_graph_kind());
  std::vector<const FutureStateBase*> inner;
  future->awaited_futures(inner);
  for (const FutureStateBase* next : inner) follow(next, info, depth + 1);
}

TaskInfo describe(const TaskBase& task) {
  TaskInfo info;
  info.task = &task;
  if (const internal::Cancellable* wait = task.current_wait()) {
    internal::Cancellable::Description description = wait->describe_wait();
    if (description.what != nullptr) info.awaiting.emplace_back(description.what);
    if (description.future != nullptr) follow(description.future, info, 0);
  }
  return info;
}

// Every pending task of `loop` with its edges, by creation order.
std::vector<TaskInfo> describe_all(const EventLoop& loop) {
  std::vector<const TaskBase*> tasks;
  for (const AnyTask& any : loop.all_tasks()) {
    if (const TaskBase* task = TaskBase::of(any)) tasks.push_back(task);
  }
  std::sort(tasks.begin(), tasks.end(),
            [](const TaskBase* a, const TaskBase* b) { return a->number() < b->number(); });
  std::vector<TaskInfo> infos;
  infos.reserve(tasks.size());
  std::map<const TaskBase*, std::size_t> index;
  for (const TaskBase* task : tasks) {
    index[task] = infos.size();
    infos.push_back(describe(*task));
  }
  for (const TaskInfo& info : infos) {
    for (const TaskBase* awaited : info.awaits) {
      auto found = index.find(awaited);
      if (found != index.end()) infos[found->second].awaited_by.push_back(info.task);
    }
  }
  return infos;
}

const TaskInfo* find(const std::vector<TaskInfo>& infos, const TaskBase* task) {
  for (const TaskInfo& info : infos) {
    if (info.task == task) return &info;
  }
  return nullptr;
}

FutureCallGraph build(const std::vector<TaskInfo>& infos, const TaskInfo& info, std::set<const TaskBase*>& path) {
  FutureCallGraph graph(internal::LoopAccess::any_task(const_cast<TaskBase*>(info.task)));
  graph.call_stack.assign(info.awaiting.rbegin(), info.awaiting.rend());
  path.insert(info.task);
  for (const TaskBase* parent : info.awaited_by) {
    if (path.count(parent) != 0) continue;  // a cycle of tasks awaiting each other
    if (const TaskInfo* parent_info = find(infos, parent)) graph.awaited_by.push_back(build(infos, *parent_info, path));
  }
  path.erase(info.task);
  return graph;
}

// Python's repr() of a str, for names in the formatted graph.
std::string python_repr(const std::string& text) {
  char quote = (text.find('\'') != std::string::npos && text.find('"') == std::string::npos) ? '"' : '\'';
  std::string out(1, quote);
  for (unsigned char c : text) {
    if (c == '\\' || c == static_cast<unsigned char>(quote)) {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", c);
      out += escaped;
    } else {
      out += static_cast<char>(c);
    }
  }
  out += quote;
  return out;
}

void render(const FutureCallGraph& graph, int level, std::vector<std::string>& lines) {
  const std::string indent(static_cast<std::size_t>(level) * 4, ' ');
  char id[32];
  std::snprintf(id, sizeof id, "%#llx", static_cast<unsigned long long>(reinterpret_cast<std::uintptr_t>(graph.task.id())));
  lines.push_back(indent + "* Task(name=" + python_repr(graph.task.get_name()) + ", id=" + id + ")");
  if (!graph.call_stack.empty()) {
    lines.push_back(indent + "  + Call stack:");
    for (const std::string& entry : graph.call_stack) lines.push_back(indent + "  |   " + entry);
  }
  if (!graph.awaited_by.empty()) {
    lines.push_back(indent + "  + Awaited by:");
    for (const FutureCallGraph& parent : graph.awaited_by) render(parent, level + 1, lines);
  }
}

std::uint64_t id_of(const TaskBase* task) {
  return static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(static_cast<const internal::LoopTask*>(task)));
}

}  // namespace

FutureCallGraph capture_call_graph(const AnyTask& task) {
  const TaskBase* base = TaskBase::of(task);
  if (base->done()) throw InvalidStateError("capture_call_graph: " + task.get_name() + " is done");
  std::vector<TaskInfo> infos = describe_all(base->loop());
  const TaskInfo* info = find(infos, base);
  if (info == nullptr) throw InvalidStateError("capture_call_graph: " + task.get_name() + " is not a pending task of its loop");
  std::set<const TaskBase*> path;
  return build(infos, *info, path);
}

std::optional<FutureCallGraph> capture_call_graph() {
  EventLoop& loop = get_running_loop();
  internal::LoopTask* current = internal::LoopAccess::current_task(loop);
  if (current == nullptr) return std::nullopt;
  return capture_call_graph(internal::LoopAccess::any_task(current));
}

std::string format_call_graph(const FutureCallGraph& graph) {
  std::vector<std::string> lines;
  render(graph, 0, lines);
  std::string text;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (i != 0) text += '\n';
    text += lines[i];
  }
  return text;
}

std::string format_call_graph(const AnyTask& task) { return format_call_graph(capture_call_graph(task)); }

std::string format_call_graph() {
  std::optional<FutureCallGraph> graph = capture_call_graph();
  return graph ? format_call_graph(*graph) : std::string();
}

void print_call_graph(const AnyTask& task, std::ostream& out) { out << format_call_graph(task) << '\n'; }
void print_call_graph(const AnyTask& task) { print_call_graph(task, std::cout); }
void print_call_graph() { std::cout << format_call_graph() << '\n'; }

std::vector<TaskSnapshot> snapshot_tasks(const EventLoop& loop) {
  std::vector<TaskInfo> infos = describe_all(loop);
  const internal::LoopTask* current = internal::LoopAccess::current_task(loop);
  const TimePoint now = loop.time();
  std::vector<TaskSnapshot> snapshots;
  snapshots.reserve(infos.size());
  for (const TaskInfo& info : infos) {
    TaskSnapshot snapshot;
    snapshot.id = id_of(info.task);
    snapshot.number = info.task->number();
    snapshot.name = info.task->name();
    if (static_cast<const internal::LoopTask*>(info.task) == current) {
      snapshot.state = "running";
    } else if (info.task->current_wait() != nullptr) {
      snapshot.state = "waiting";
    } else {
      snapshot.state = "scheduled";
    }
    if (std::optional<TimePoint> created = info.task->created_at()) snapshot.age = now - *created;
    snapshot.awaiting = info.awaiting;
    for (const TaskBase* task : info.awaits) snapshot.awaits_tasks.push_back(id_of(task));
    for (const TaskBase* task : info.awaited_by) snapshot.awaited_by.push_back(id_of(task));
    snapshots.push_back(std::move(snapshot));
  }
  return snapshots;
}

std::vector<TaskSnapshot> snapshot_tasks() { return snapshot_tasks(get_running_loop()); }

void record_task_creation_times(bool on) noexcept { internal::record_task_creation_times = on; }
bool recording_task_creation_times() noexcept { return internal::record_task_creation_times; }

}  // namespace aio
