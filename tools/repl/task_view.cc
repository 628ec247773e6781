// Both views read the snapshot's edges (awaits_tasks, awaited_by) by id: the
// chain climbs awaited_by from the task to a task nobody awaits, the tree
// descends awaits_tasks from those. Columns are as wide as their widest cell,
// counted in code points (names and the arrows are UTF-8).
#include "tools/repl/task_view.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <set>

namespace repl {
namespace {

using aio::TaskSnapshot;

std::size_t display_width(const std::string& text) {
  std::size_t width = 0;
  for (unsigned char c : text) {
    if ((c & 0xC0) != 0x80) ++width;
  }
  return width;
}

std::map<std::uint64_t, const TaskSnapshot*> index_by_id(const std::vector<TaskSnapshot>& tasks) {
  std::map<std::uint64_t, const TaskSnapshot*> index;
  for (const TaskSnapshot& task : tasks) index[task.id] = &task;
  return index;
}

// The name and what it waits on, as chain links.
void append_links(std::vector<std::string>& links, const TaskSnapshot& task) {
  links.push_back(task.name);
  for (const std::string& entry : task.awaiting) links.push_back(entry);
}

// Python's pstree drawing, over the snapshot's edges.
struct Tree {
  std::map<std::uint64_t, const TaskSnapshot*> index;
  std::set<std::uint64_t> path;   // the tasks above the one being drawn
  std::set<std::uint64_t> drawn;  // every task drawn so far
  std::string out;

  void line(const std::string& prefix, bool last, const std::string& label) {
    out += prefix + (last ? "└── " : "├── ") + label + "\n";
  }

  void task(const TaskSnapshot& task, const std::string& prefix, bool last) {
    if (path.count(task.id) != 0) {
      line(prefix, last, "(T) " + task.name + " (cycle)");
      return;
    }
    line(prefix, last, "(T) " + task.name);
    drawn.insert(task.id);
    path.insert(task.id);
    below(task, 0, prefix + (last ? "    " : "│   "));
    path.erase(task.id);
  }

  // One level per entry of what it waits on; the awaited tasks hang from the
  // innermost one.
  void below(const TaskSnapshot& task, std::size_t entry, const std::string& prefix) {
    if (entry < task.awaiting.size()) {
      line(prefix, true, task.awaiting[entry]);
      below(task, entry + 1, prefix + "    ");
      return;
    }
    std::vector<const TaskSnapshot*> children;
    for (std::uint64_t id : task.awaits_tasks) {
      auto found = index.find(id);
      if (found != index.end()) children.push_back(found->second);
    }
    for (std::size_t i = 0; i < children.size(); ++i) this->task(*children[i], prefix, i + 1 == children.size());
  }
};

}  // namespace

std::string format_age(const std::optional<aio::Duration>& age) {
  if (!age) return "-";
  const long long milliseconds = std::chrono::duration_cast<std::chrono::milliseconds>(*age).count();
  char text[32];
  if (milliseconds < 1000) {
    std::snprintf(text, sizeof text, "%lldms", milliseconds);
  } else if (milliseconds < 60'000) {
    std::snprintf(text, sizeof text, "%.1fs", static_cast<double>(milliseconds) / 1000.0);
  } else {
    const long long seconds = milliseconds / 1000;
    std::snprintf(text, sizeof text, "%lldm%02llds", seconds / 60, seconds % 60);
  }
  return text;
}

std::string await_chain(const std::vector<TaskSnapshot>& tasks, const TaskSnapshot& task) {
  const auto index = index_by_id(tasks);
  // Climb to the top, then read downwards.
  std::vector<const TaskSnapshot*> upwards{&task};
  std::set<std::uint64_t> seen{task.id};
  for (const TaskSnapshot* at = &task; !at->awaited_by.empty();) {
    auto found = index.find(at->awaited_by.front());
    if (found == index.end() || !seen.insert(found->second->id).second) break;
    at = found->second;
    upwards.push_back(at);
  }
  std::vector<std::string> links;
  for (auto it = upwards.rbegin(); it != upwards.rend(); ++it) append_links(links, **it);
  if (task.awaiting.empty() && task.awaits_tasks.size() == 1) {
    auto found = index.find(task.awaits_tasks.front());
    if (found != index.end()) links.push_back(found->second->name);
  }
  std::string chain;
  for (std::size_t i = 0; i < links.size(); ++i) {
    if (i != 0) chain += " → ";
    chain += links[i];
  }
  return chain;
}

std::string format_task_table(const std::vector<TaskSnapshot>& tasks) { return format_task_table(tasks, tasks); }

std::string format_task_table(const std::vector<TaskSnapshot>& listed, const std::vector<TaskSnapshot>& graph) {
  if (listed.empty()) return "no tasks\n";
  std::vector<std::vector<std::string>> rows{{"id", "name", "state", "age", "awaiting"}};
  for (const TaskSnapshot& task : listed) {
    rows.push_back({std::to_string(task.number), task.name, task.state, format_age(task.age), await_chain(graph, task)});
  }
  std::vector<std::size_t> widths(rows.front().size(), 0);
  for (const auto& row : rows) {
    for (std::size_t column = 0; column < row.size(); ++column) {
      widths[column] = std::max(widths[column], display_width(row[column]));
    }
  }
  std::string out;
  for (const auto& row : rows) {
    std::string text;
    for (std::size_t column = 0; column < row.size(); ++column) {
      text += row[column];
      if (column + 1 < row.size()) text += std::string(widths[column] - display_width(row[column]) + 2, ' ');
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    out += text + "\n";
  }
  return out;
}

std::string format_task_tree(const std::vector<TaskSnapshot>& tasks) {
  Tree tree;
  tree.index = index_by_id(tasks);
  for (const TaskSnapshot& task : tasks) {
    if (task.awaited_by.empty()) tree.task(task, "", true);
  }
  // Tasks reachable only through a cycle have no root: draw them from themselves.
  for (const TaskSnapshot& task : tasks) {
    if (tree.drawn.count(task.id) == 0) tree.task(task, "", true);
  }
  return tree.out;
}

}  // namespace repl
