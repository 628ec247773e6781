// aio::InspectServer: lets another process of the same user see this one's
// tasks and what they wait on (`./bazelw run //tools/repl -- ps PID` and
// `pstree PID`, as Python 3.14's `python -m asyncio ps PID` / `pstree PID`).
//
// Off by default. aio::Runner (so aio::run and aio::run_main) starts one on its
// loop when the environment has AIO_INSPECT=1 or RunOptions::inspect is set; a
// program driving a loop of its own makes one by hand:
//   aio::InspectServer inspect(loop);   // serves until destroyed
//
// The socket is $XDG_RUNTIME_DIR/aio-inspect-<pid>.sock ($XDG_RUNTIME_DIR
// unset: /tmp/aio-inspect-<pid>.sock), mode 0600, and a peer whose uid is not
// ours is refused (SO_PEERCRED), so only the same user can ask. It is removed
// when the server is destroyed (Runner::close, at the end of aio::run).
//
// The protocol (docs/async.md, "Inspecting a running program"): one request per
// connection. The client sends the line "tasks\n"; the server answers with one
// line of JSON and closes the connection: an object with "protocol" (1),
// "pid" and "tasks", an array of objects with the fields of aio::TaskSnapshot
// (async/call_graph.h): "id", "number", "name", "state", "age_ns" (null when
// the task's creation time was not recorded), "awaiting" (strings), "awaits"
// and "awaited_by" (ids). docs/async.md shows one. Any other request gets an
// object with "protocol" and "error".
//
// Threads: the server is a set of loop callbacks (add_reader / add_writer), so
// the snapshot is taken on the loop's thread between two steps, never read
// from another thread. It costs nothing while nobody connects. While a server
// exists, tasks record their creation time (their age in `ps`).
#ifndef AIO_ASYNC_INSPECT_H_
#define AIO_ASYNC_INSPECT_H_

#include <sys/types.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "async/call_graph.h"
#include "async/loop.h"

namespace aio {

class InspectServer {
 public:
  // Creates the socket and starts serving on `loop` (loop thread). Throws
  // std::system_error when the socket cannot be created, bound or listened on
  // (for instance another live process of this pid's socket, or an unwritable
  // directory). The server must be destroyed before the loop is closed.
  explicit InspectServer(EventLoop& loop);
  ~InspectServer();
  InspectServer(const InspectServer&) = delete;
  InspectServer& operator=(const InspectServer&) = delete;

  const std::string& path() const noexcept { return path_; }

  // Where the socket of process `pid` is (for clients).
  static std::string socket_path_for(pid_t pid);

 private:
  struct Connection;
  void accept_all();
  void on_readable(Connection* connection);
  void on_writable(Connection* connection);
  void drop(Connection* connection);

  EventLoop& loop_;
  std::string path_;
  int listen_fd_ = -1;
  bool recorded_creation_times_before_ = false;
  std::map<int, std::unique_ptr<Connection>> connections_;
};

namespace internal {
// The answer to a request line (without its newline), as the server sends it:
// one line of JSON, newline-terminated. For tests and the server.
std::string answer_inspect_request(const std::string& request, const std::vector<TaskSnapshot>& tasks);
}  // namespace internal

}  // namespace aio

#endif  // AIO_ASYNC_INSPECT_H_
