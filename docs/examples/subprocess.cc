// Examples for docs/subprocess.md: commands run in parallel under a Semaphore,
// a child's output read line by line as it comes, two processes joined by a
// pipe, a timeout that kills, and the error for a program that does not exist.
// subprocess_examples_test checks what this prints.
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <system_error>
#include <vector>

#include "aio.h"
#include "subprocess/subprocess.h"

using namespace std::chrono_literals;

// [START parallel]
// Ten commands, at most three running at a time: each task takes a permit
// before it starts its child and gives it back when the child has finished.
aio::Coro<std::string> run_command(aio::Semaphore& slots, int& running, int& most, std::string command) {
  aio::SemaphoreGuard slot = co_await slots.scoped_acquire();
  most = std::max(most, ++running);
  aio::SubprocessOptions options;
  options.std_out = aio::subprocess::PIPE;
  aio::Process process = co_await aio::create_subprocess_shell(command, options);
  auto [out, err] = co_await process.communicate();
  --running;
  co_return *out;
}

aio::Coro<> parallel_example() {
  aio::Semaphore slots(3);
  int running = 0;
  int most = 0;
  std::vector<aio::Task<std::string>> commands;
  for (int i = 0; i < 10; ++i) {
    commands.push_back(aio::create_task(run_command(slots, running, most, "echo " + std::to_string(i * i))));
  }
  std::vector<std::string> outputs = co_await aio::gather(commands);  // in the order started
  std::string all;
  for (const std::string& output : outputs) all += (all.empty() ? "" : " ") + output.substr(0, output.size() - 1);
  std::printf("10 commands, at most %d at a time: %s\n", most, all.c_str());
}
// [END parallel]

// [START lines]
// Each line as soon as the child prints it, not when it exits.
aio::Coro<> lines_example() {
  aio::SubprocessOptions options;
  options.std_out = aio::subprocess::PIPE;
  aio::Process process =
      co_await aio::create_subprocess_shell("for step in fetch build test; do echo $step; done", options);
  while (std::optional<std::string> line = co_await process.std_out()->next_line()) {
    std::printf("child says: %s", line->c_str());
  }
  int status = co_await process.wait();
  std::printf("child exited with %d\n", status);
}
// [END lines]

// [START pipe]
// printf ... | sort: the first child's stdout is the second one's stdin. Both
// get a copy of the pipe's ends, and the parent closes its own, so that sort
// sees EOF when printf exits.
aio::Coro<> pipe_example() {
  int pipe_ends[2];
  if (::pipe2(pipe_ends, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe2");

  aio::SubprocessOptions producer_options;
  producer_options.std_out = aio::Stdio::from_fd(pipe_ends[1]);
  std::vector<std::string> words = {"%s\\n", "cherry", "apple", "banana"};
  aio::Process producer = co_await aio::create_subprocess_exec("printf", words, producer_options);

  aio::SubprocessOptions consumer_options;
  consumer_options.std_in = aio::Stdio::from_fd(pipe_ends[0]);
  consumer_options.std_out = aio::subprocess::PIPE;
  aio::Process consumer = co_await aio::create_subprocess_exec("sort", {}, consumer_options);
  ::close(pipe_ends[0]);
  ::close(pipe_ends[1]);

  auto [sorted, err] = co_await consumer.communicate();
  co_await producer.wait();
  std::printf("sort printed:\n%s", sorted->c_str());
}
// [END pipe]

// [START timeout]
// asyncio's `await asyncio.wait_for(proc.wait(), 0.1)` then `proc.kill()`.
aio::Coro<> timeout_example() {
  std::vector<std::string> args = {"10"};  // named: GCC 12 rejects a braced list inside co_await
  aio::Process process = co_await aio::create_subprocess_exec("sleep", args);
  try {
    co_await aio::timeout(100ms, process.wait());
  } catch (const aio::TimeoutError&) {
    process.kill();  // the timeout cancelled the wait, not the child
  }
  int status = co_await process.wait();
  std::printf("timed out, killed: returncode %d\n", status);
}
// [END timeout]

// [START catching]
// asyncio's
//   try:
//       await asyncio.wait_for(proc.wait(), 0.1)
//   except TimeoutError:
//       proc.kill()
//       await proc.wait()
// C++ cannot co_await in a catch block: catching<E> brings the error out of it.
aio::Coro<> catching_example() {
  std::vector<std::string> args = {"10"};
  aio::Process process = co_await aio::create_subprocess_exec("sleep", args);
  auto waited = co_await aio::catching<aio::TimeoutError>(aio::wait_for(process.wait(), 100ms));
  if (!waited) {
    process.kill();
    int status = co_await process.wait();
    std::printf("%s, then killed: returncode %d\n", waited.error().what(), status);
  }
}
// [END catching]

// [START missing]
aio::Coro<> missing_program_example() {
  try {
    co_await aio::create_subprocess_exec("no-such-program");
  } catch (const std::system_error& error) {
    std::printf("errno %d: %s\n", error.code().value(), error.what());
  }
}
// [END missing]

int main() {
  aio::run(parallel_example());
  aio::run(lines_example());
  aio::run(pipe_example());
  aio::run(timeout_example());
  aio::run(catching_example());
  aio::run(missing_program_example());
  return 0;
}
