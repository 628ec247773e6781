// The client side of async/inspect.h's protocol. Each failure is told apart
// so that the message says what to do: a pid that is not a number, a process
// that does not exist, one without a socket (not started with AIO_INSPECT=1),
// a socket nobody listens on any more (left by a killed process), one of
// another user, and an answer that is not the protocol.
#include "tools/repl/inspect_client.h"

#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>

#include "async/inspect.h"
#include "tools/repl/task_view.h"

namespace repl {
namespace {

pid_t parse_pid(const std::string& text) {
  if (text.empty() || text.size() > 9 || text.find_first_not_of("0123456789") != std::string::npos) {
    throw InspectError("invalid process id '" + text + "' (expected a number, such as 4242)");
  }
  long value = std::stol(text);
  if (value <= 0) throw InspectError("invalid process id '" + text + "' (expected a positive number)");
  return static_cast<pid_t>(value);
}

std::string socket_for(pid_t pid) {
  // Where the process put it: its $XDG_RUNTIME_DIR (normally ours too, same
  // user), else /tmp.
  std::string path = aio::InspectServer::socket_path_for(pid);
  struct stat info {};
  if (::stat(path.c_str(), &info) == 0) return path;
  std::string fallback = "/tmp/aio-inspect-" + std::to_string(pid) + ".sock";
  if (::stat(fallback.c_str(), &info) == 0) return fallback;
  throw InspectError("process " + std::to_string(pid) + " is not an aio program started with AIO_INSPECT=1 (no socket at " +
                     path + ")");
}

std::string ask(pid_t pid, const std::string& path) {
  const std::string who = "process " + std::to_string(pid);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw InspectError(std::string("socket: ") + std::strerror(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  timeval limit{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof address.sun_path) throw InspectError("socket path too long: " + path);
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    int error = errno;
    if (error == ECONNREFUSED) {
      throw InspectError(who + " refused the connection on " + path +
                         " (nothing serves it: the process may have stopped inspecting, or the socket was left by "
                         "a process that was killed)");
    }
    if (error == EACCES || error == EPERM) {
      throw InspectError("permission denied opening " + path + " (only the user running " + who + " can inspect it)");
    }
    throw InspectError("cannot connect to " + path + ": " + std::strerror(error));
  }
  const std::string request = "tasks\n";
  if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) {
    throw InspectError("cannot send the request to " + path + ": " + std::strerror(errno));
  }
  std::string reply;
  char buffer[65536];
  while (true) {
    ssize_t count = ::read(fd, buffer, sizeof buffer);
    if (count == 0) break;
    if (count < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        throw InspectError(who + " did not answer within 5 seconds (is its event loop blocked?)");
      }
      throw InspectError("reading from " + path + ": " + std::strerror(errno));
    }
    reply.append(buffer, static_cast<std::size_t>(count));
  }
  if (reply.empty()) throw InspectError(who + " closed the connection without answering (was it another user's?)");
  return reply;
}

std::vector<std::uint64_t> ids(const nlohmann::json& value) {
  std::vector<std::uint64_t> out;
  for (const auto& id : value) out.push_back(id.get<std::uint64_t>());
  return out;
}

}  // namespace

std::vector<aio::TaskSnapshot> parse_tasks_answer(const std::string& json) {
  try {
    nlohmann::json answer = nlohmann::json::parse(json);
    if (!answer.is_object() || answer.value("protocol", 0) != 1) {
      throw InspectError("the answer is not aio's inspection protocol 1");
    }
    if (answer.contains("error")) throw InspectError("the process answered: " + answer["error"].get<std::string>());
    std::vector<aio::TaskSnapshot> tasks;
    for (const auto& entry : answer.at("tasks")) {
      aio::TaskSnapshot task;
      task.id = entry.at("id").get<std::uint64_t>();
      task.number = entry.at("number").get<std::uint64_t>();
      task.name = entry.at("name").get<std::string>();
      task.state = entry.at("state").get<std::string>();
      if (!entry.at("age_ns").is_null()) {
        task.age = std::chrono::duration_cast<aio::Duration>(std::chrono::nanoseconds(entry.at("age_ns").get<long long>()));
      }
      for (const auto& link : entry.at("awaiting")) task.awaiting.push_back(link.get<std::string>());
      task.awaits_tasks = ids(entry.at("awaits"));
      task.awaited_by = ids(entry.at("awaited_by"));
      tasks.push_back(std::move(task));
    }
    return tasks;
  } catch (const nlohmann::json::exception& error) {
    throw InspectError(std::string("the answer is not aio's inspection protocol: ") + error.what());
  }
}

std::vector<aio::TaskSnapshot> fetch_tasks(const std::string& pid_text) {
  pid_t pid = parse_pid(pid_text);
  if (::kill(pid, 0) != 0 && errno == ESRCH) throw InspectError("no process with id " + std::to_string(pid));
  std::string path = socket_for(pid);
  return parse_tasks_answer(ask(pid, path));
}

int run_inspect_command(const std::string& command, const std::vector<std::string>& arguments, std::ostream& out,
                        std::ostream& err) {
  if (arguments.size() != 1) {
    err << "usage: repl " << command << " PID\n";
    return 2;
  }
  try {
    std::vector<aio::TaskSnapshot> tasks = fetch_tasks(arguments.front());
    out << (command == "ps" ? format_task_table(tasks) : format_task_tree(tasks));
    return 0;
  } catch (const InspectError& error) {
    err << command << ": " << error.what() << "\n";
    return 1;
  }
}

}  // namespace repl
