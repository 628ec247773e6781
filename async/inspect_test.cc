#include "async/inspect.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "async/call_graph.h"
#include "async/coro.h"
#include "async/loop.h"
#include "async/run.h"
#include "async/sleep.h"
#include "async/task.h"
#include "async/testing.h"

namespace aio {
namespace {

using namespace std::chrono_literals;

// Every test puts its sockets in its own directory.
class InspectEnvironment : public ::testing::Environment {
 public:
  // TEST_TMPDIR is too long for a socket path (108 bytes): a short one in /tmp.
  void SetUp() override {
    char dir[] = "/tmp/aio-inspect-test-XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    dir_ = dir;
    ::setenv("XDG_RUNTIME_DIR", dir, 1);
    ::unsetenv("AIO_INSPECT");
  }
  void TearDown() override { ::rmdir(dir_.c_str()); }

 private:
  std::string dir_;
};
const auto* const kEnvironment = ::testing::AddGlobalTestEnvironment(new InspectEnvironment);

bool exists(const std::string& path) {
  struct stat info {};
  return ::lstat(path.c_str(), &info) == 0;
}

int connect_to(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Sends `request` and lets the loop run until the server has answered and
// closed the connection (a bounded number of iterations).
Coro<std::string> ask(const std::string& path, std::string request) {
  int fd = connect_to(path);
  EXPECT_GE(fd, 0) << std::strerror(errno);
  if (fd < 0) co_return std::string();
  EXPECT_EQ(::send(fd, request.data(), request.size(), MSG_NOSIGNAL), static_cast<ssize_t>(request.size()));
  std::string reply;
  for (int i = 0; i < 1000; ++i) {
    co_await testing::let_other_tasks_run();
    char buffer[4096];
    ssize_t count = ::read(fd, buffer, sizeof buffer);
    if (count > 0) reply.append(buffer, static_cast<std::size_t>(count));
    if (count == 0) break;  // the server closed: the answer is complete
  }
  ::close(fd);
  co_return reply;
}

Coro<> sleep_long() { co_await sleep(1h); }

AIO_TEST(Inspect, ServesTheTasksOnASocketOnlyItsUserCanOpen) {
  const std::string path = InspectServer::socket_path_for(::getpid());
  EXPECT_FALSE(exists(path));
  {
    InspectServer server(get_running_loop());
    EXPECT_EQ(server.path(), path);
    struct stat info {};
    EXPECT_EQ(::lstat(path.c_str(), &info), 0);
    EXPECT_TRUE(S_ISSOCK(info.st_mode));
    EXPECT_EQ(info.st_mode & 0777, 0600u);

    Task<> sleeper = create_task(sleep_long(), "sleeper");
    co_await testing::let_other_tasks_run();
    std::string reply = co_await ask(path, "tasks\n");
    const std::string head = "{\"protocol\":1,\"pid\":" + std::to_string(::getpid()) + ",\"tasks\":[";
    EXPECT_EQ(reply.substr(0, head.size()), head);
    EXPECT_NE(reply.find("\"name\":\"sleeper\",\"state\":\"waiting\""), std::string::npos) << reply;
    EXPECT_NE(reply.find("\"awaiting\":[\"sleep\"]"), std::string::npos) << reply;
    EXPECT_EQ(reply.back(), '\n');
    // While a server exists, creation times are recorded: the age is known.
    EXPECT_EQ(reply.find("\"age_ns\":null", reply.find("sleeper")), std::string::npos) << reply;

    std::string refused = co_await ask(path, "threads\n");
    EXPECT_EQ(refused, "{\"protocol\":1,\"error\":\"unknown request 'threads' (the only request is 'tasks')\"}\n");
    sleeper.cancel();
    co_await testing::let_other_tasks_run();
  }
  EXPECT_FALSE(exists(path));
  EXPECT_FALSE(recording_task_creation_times());
}

TEST(Inspect, AnswersAreJsonWithEscapedNames) {
  TaskSnapshot task;
  task.id = 7;
  task.name = "a \"quoted\"\nname";
  task.state = "waiting";
  task.age = std::chrono::milliseconds(1500);
  task.awaiting = {"gather"};
  task.awaits_tasks = {8, 9};
  EXPECT_EQ(internal::answer_inspect_request("tasks", {task}),
            "{\"protocol\":1,\"pid\":" + std::to_string(::getpid()) +
                ",\"tasks\":[{\"id\":7,\"number\":0,\"name\":\"a \\\"quoted\\\"\\nname\",\"state\":\"waiting\","
                "\"age_ns\":1500000000,\"awaiting\":[\"gather\"],\"awaits\":[8,9],\"awaited_by\":[]}]}\n");
}

Coro<bool> socket_exists_now() { co_return exists(InspectServer::socket_path_for(::getpid())); }

TEST(Inspect, RunnerServesOnlyWhenAsked) {
  const std::string path = InspectServer::socket_path_for(::getpid());
  EXPECT_FALSE(run(socket_exists_now()));  // off by default

  RunOptions options;
  options.inspect = true;
  EXPECT_TRUE(run(socket_exists_now(), options));
  EXPECT_FALSE(exists(path));  // removed when the run ends

  ::setenv("AIO_INSPECT", "1", 1);
  EXPECT_TRUE(run(socket_exists_now()));
  ::setenv("AIO_INSPECT", "0", 1);
  EXPECT_FALSE(run(socket_exists_now()));
  ::unsetenv("AIO_INSPECT");
  EXPECT_FALSE(exists(path));
}

}  // namespace
}  // namespace aio
