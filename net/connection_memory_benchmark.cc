// How much memory aio spends per idle connection, beyond the kernel's socket
// buffers: a server accepts N connections (made by a child process, so the
// descriptors of both ends do not share one process limit), each left idle,
// and the heap in use (mallinfo2) and the resident set are compared before
// and after. Streams mode parks a handler coroutine in readline() per
// connection; protocol mode keeps only a transport and a protocol.
//
//   ./bazelw run //net:connection_memory_benchmark -- --connections=10000
#include <malloc.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "aio.h"

namespace {

std::size_t heap_in_use() { return mallinfo2().uordblks; }

std::size_t resident_bytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtoull(line.c_str() + 6, nullptr, 10) * 1024;
  }
  return 0;
}

// The child: opens `count` connections, reports, and keeps them until its
// stdin closes.
[[noreturn]] void run_clients(std::uint16_t port, int count, int ready_fd, int hold_fd) {
  aio::SocketAddress address = aio::SocketAddress::parse("127.0.0.1", port);
  std::vector<int> fds;
  for (int i = 0; i < count; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || ::connect(fd, address.data(), address.size()) != 0) ::_exit(1);
    fds.push_back(fd);
  }
  char byte = 1;
  if (::write(ready_fd, &byte, 1) != 1) ::_exit(2);
  [[maybe_unused]] ssize_t ignored = ::read(hold_fd, &byte, 1);  // until the parent closes it
  ::_exit(0);
}

class IdleProtocol : public aio::Protocol {
  void connection_made(std::shared_ptr<aio::Transport> transport) override { transport_ = std::move(transport); }
  void connection_lost(std::exception_ptr) override { transport_.reset(); }
  std::shared_ptr<aio::Transport> transport_;
};

aio::Coro<void> measure(std::string mode, int count) {
  int accepted = 0;
  aio::Event all_accepted;
  auto note = [&] {
    if (++accepted == count) all_accepted.set();
  };
  auto idle_handler = [&](aio::StreamReader reader, aio::StreamWriter writer) -> aio::Coro<void> {
    note();
    co_await reader.readline();
    writer.close();
  };
  auto idle_factory = [&] {
    note();
    return std::make_shared<IdleProtocol>();
  };
  aio::ServeOptions options;
  options.backlog = 4096;
  std::optional<aio::Server> server;
  if (mode == "streams") {
    server.emplace(co_await aio::start_server(idle_handler, "127.0.0.1", 0, options));
  } else {
    server.emplace(co_await aio::create_server(idle_factory, "127.0.0.1", 0, options));
  }
  const std::size_t heap_before = heap_in_use();
  const std::size_t resident_before = resident_bytes();
  int ready[2];
  int hold[2];
  if (::pipe(ready) != 0 || ::pipe(hold) != 0) {
    throw std::system_error(errno, std::system_category(), "connection_memory_benchmark: pipe() for the client process");
  }
  pid_t child = ::fork();
  if (child == 0) {
    ::close(ready[0]);
    ::close(hold[1]);  // or the child's own copy would keep its read from ever ending
    run_clients(server->sockets()[0].port(), count, ready[1], hold[0]);
  }
  ::close(ready[1]);
  ::close(hold[0]);
  co_await all_accepted.wait();
  const std::size_t heap_after = heap_in_use();
  const std::size_t resident_after = resident_bytes();
  std::printf("%-9s %6d idle connections: heap %7.0f bytes/connection, resident %7.0f bytes/connection\n",
              mode.c_str(), count, static_cast<double>(heap_after - heap_before) / count,
              static_cast<double>(resident_after - resident_before) / count);
  std::fflush(stdout);
  ::close(hold[1]);  // the child exits and closes its ends
  auto reap = [child] {
    int status = 0;
    ::waitpid(child, &status, 0);
    return status;
  };
  co_await aio::to_thread(reap);
  ::close(ready[0]);
  server->close();
  server->close_clients();
  co_await server->wait_closed();
}

}  // namespace

int main(int argc, char** argv) {
  int count = 10000;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--connections=", 14) == 0) {
      count = std::atoi(argv[i] + 14);
    } else {
      std::fprintf(stderr, "usage: %s [--connections=N]\n", argv[0]);
      return 2;
    }
  }
  if (count <= 0 || count > 15000) {
    std::fprintf(stderr, "--connections must be 1..15000 (one descriptor each in this process)\n");
    return 2;
  }
  for (const char* mode : {"protocol", "streams"}) aio::run(measure(mode, count));
}
