// The inspection server is plain loop callbacks over a Unix socket, not a
// server of //net: //async must not depend on //net, and aio::Runner (in
// //async) starts it. A connection is read until its request line, answered
// with snapshot_tasks() taken in that same callback (on the loop thread), and
// written without blocking (add_writer) before it is closed. Nothing runs, and
// nothing is stored per await, while nobody connects.
#include "async/inspect.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <system_error>

namespace aio {
namespace {

constexpr std::size_t kMaxRequest = 1024;

[[noreturn]] void throw_errno(const std::string& what) {
  throw std::system_error(errno, std::system_category(), what);
}

void append_json_string(std::string& out, const std::string& text) {
  out += '"';
  for (unsigned char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c < 0x20) {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
          out += escaped;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

void append_ids(std::string& out, const std::vector<std::uint64_t>& ids) {
  out += '[';
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i != 0) out += ',';
    out += std::to_string(ids[i]);
  }
  out += ']';
}

}  // namespace

namespace internal {
std::string answer_inspect_request(const std::string& request, const std::vector<TaskSnapshot>& tasks) {
  std::string out = "{\"protocol\":1,";
  if (request != "tasks") {
    out += "\"error\":";
    append_json_string(out, "unknown request '" + request + "' (the only request is 'tasks')");
    out += "}\n";
    return out;
  }
  out += "\"pid\":" + std::to_string(::getpid()) + ",\"tasks\":[";
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    const TaskSnapshot& task = tasks[i];
    if (i != 0) out += ',';
    out += "{\"id\":" + std::to_string(task.id) + ",\"number\":" + std::to_string(task.number) + ",\"name\":";
    append_json_string(out, task.name);
    out += ",\"state\":";
    append_json_string(out, task.state);
    out += ",\"age_ns\":";
    out += task.age ? std::to_string(std::chrono::duration_cast<std::chrono::nanoseconds>(*task.age).count())
                    : std::string("null");
    out += ",\"awaiting\":[";
    for (std::size_t j = 0; j < task.awaiting.size(); ++j) {
      if (j != 0) out += ',';
      append_json_string(out, task.awaiting[j]);
    }
    out += "],\"awaits\":";
    append_ids(out, task.awaits_tasks);
    out += ",\"awaited_by\":";
    append_ids(out, task.awaited_by);
    out += '}';
  }
  out += "]}\n";
  return out;
}
}  // namespace internal

struct InspectServer::Connection {
  int fd = -1;
  std::string request;
  std::string reply;
  std::size_t written = 0;
};

std::string InspectServer::socket_path_for(pid_t pid) {
  const char* runtime_dir = std::getenv("XDG_RUNTIME_DIR");
  std::string dir = (runtime_dir != nullptr && *runtime_dir != '\0') ? runtime_dir : "/tmp";
  return dir + "/aio-inspect-" + std::to_string(pid) + ".sock";
}

InspectServer::InspectServer(EventLoop& loop) : loop_(loop), path_(socket_path_for(::getpid())) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path_.size() >= sizeof address.sun_path) {
    throw std::system_error(ENAMETOOLONG, std::system_category(), "aio inspect: socket path too long: " + path_);
  }
  std::memcpy(address.sun_path, path_.c_str(), path_.size() + 1);
  listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) throw_errno("aio inspect: socket");
  // A socket left by an earlier process with this pid (killed before it could
  // remove it) is ours to replace; anything else at that path is not touched.
  struct stat existing {};
  if (::lstat(path_.c_str(), &existing) == 0 && S_ISSOCK(existing.st_mode) && existing.st_uid == ::getuid()) {
    ::unlink(path_.c_str());
  }
  if (::bind(listen_fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    int error = errno;
    ::close(listen_fd_);
    throw std::system_error(error, std::system_category(), "aio inspect: bind " + path_);
  }
  // The default umask already denies others write access (which connecting
  // needs); 0600 makes it explicit.
  if (::chmod(path_.c_str(), 0600) != 0 || ::listen(listen_fd_, 16) != 0) {
    int error = errno;
    ::close(listen_fd_);
    ::unlink(path_.c_str());
    throw std::system_error(error, std::system_category(), "aio inspect: listen " + path_);
  }
  try {
    loop_.add_reader(listen_fd_, [this] { accept_all(); });
  } catch (...) {
    ::close(listen_fd_);
    ::unlink(path_.c_str());
    throw;
  }
  recorded_creation_times_before_ = recording_task_creation_times();
  record_task_creation_times(true);
}

InspectServer::~InspectServer() {
  record_task_creation_times(recorded_creation_times_before_);
  const bool loop_open = !loop_.is_closed();
  for (auto& [fd, connection] : connections_) {
    if (loop_open) {
      loop_.remove_reader(fd);
      loop_.remove_writer(fd);
    }
    ::close(fd);
  }
  if (loop_open) loop_.remove_reader(listen_fd_);
  ::close(listen_fd_);
  ::unlink(path_.c_str());
}

void InspectServer::accept_all() {
  while (true) {
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;  // EAGAIN, or an error of that one connection: try again at the next readiness
    ucred peer{};
    socklen_t length = sizeof peer;
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &length) != 0 || peer.uid != ::getuid()) {
      ::close(fd);  // another user: refused, whatever the socket's mode
      continue;
    }
    auto connection = std::make_unique<Connection>();
    connection->fd = fd;
    Connection* raw = connection.get();
    connections_[fd] = std::move(connection);
    try {
      loop_.add_reader(fd, [this, raw] { on_readable(raw); });
    } catch (...) {
      ::close(fd);
      connections_.erase(fd);
    }
  }
}

void InspectServer::on_readable(Connection* connection) {
  char buffer[512];
  ssize_t count = ::read(connection->fd, buffer, sizeof buffer);
  if (count < 0) {
    if (errno == EAGAIN || errno == EINTR) return;
    drop(connection);
    return;
  }
  connection->request.append(buffer, static_cast<std::size_t>(count));
  std::size_t newline = connection->request.find('\n');
  if (newline == std::string::npos && count != 0 && connection->request.size() <= kMaxRequest) return;
  std::string request = connection->request.substr(0, newline);
  if (!request.empty() && request.back() == '\r') request.pop_back();
  if (newline == std::string::npos && count == 0 && request.empty()) {
    drop(connection);  // connected and left without asking
    return;
  }
  loop_.remove_reader(connection->fd);
  connection->reply = internal::answer_inspect_request(request, snapshot_tasks(loop_));
  loop_.add_writer(connection->fd, [this, connection] { on_writable(connection); });
}

void InspectServer::on_writable(Connection* connection) {
  while (connection->written < connection->reply.size()) {
    ssize_t count = ::send(connection->fd, connection->reply.data() + connection->written,
                           connection->reply.size() - connection->written, MSG_NOSIGNAL);
    if (count < 0) {
      if (errno == EAGAIN || errno == EINTR) return;
      break;  // the client left: nothing more to do
    }
    connection->written += static_cast<std::size_t>(count);
  }
  drop(connection);
}

void InspectServer::drop(Connection* connection) {
  int fd = connection->fd;
  loop_.remove_reader(fd);
  loop_.remove_writer(fd);
  ::close(fd);
  connections_.erase(fd);  // destroys `connection`
}

}  // namespace aio
