// The interactive console as a user meets it: the REPL binary on a
// pseudo-terminal (tools/repl/pty_harness.h), keys sent, the screen checked.
// Every wait is a deadline (generous: sanitizer builds are slow), never a
// timing: it returns as soon as the screen shows what it waits for.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <memory>
#include <fstream>
#include <sstream>
#include <string>

#include "gtest/gtest.h"
#include "tools/repl/console.h"
#include "tools/repl/interpreter.h"
#include "tools/repl/pty_harness.h"

namespace repl {
namespace {

using testing::PtyProcess;
using namespace std::chrono_literals;

constexpr auto kDeadline = 60s;

std::string repl_path() {
  const auto& args = ::testing::internal::GetArgvs();
  return args.size() > 1 ? args[1] : "tools/repl/repl";
}

std::string temp_dir() {
  const char* dir = std::getenv("TEST_TMPDIR");
  return dir ? dir : "/tmp";
}

PtyProcess::Options console_options(const std::string& history, bool colour = false) {
  PtyProcess::Options o;
  o.columns = 200;  // messages on one line each (wrapping is line_editor_test's)
  o.env = {{"TERM", "xterm-256color"}, {"AIO_REPL_HISTORY", history}, {"HOME", temp_dir()},
           {"NO_COLOR", colour ? "" : "1"}, {"AIO_SHUFFLE", ""}, {"AIO_DEBUG", ""}};
  return o;
}

// The number that follows `prefix` in `text` (-1 if none). (std::regex trips
// GCC 12's -Wmaybe-uninitialized under ASan.)
long number_after(const std::string& text, const std::string& prefix) {
  std::size_t at = text.find(prefix);
  if (at == std::string::npos) return -1;
  at += prefix.size();
  std::size_t end = at;
  while (end < text.size() && std::isdigit(static_cast<unsigned char>(text[end]))) ++end;
  return end == at ? -1 : std::stol(text.substr(at, end - at));
}

bool all_digits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}

std::string cursor_line(const PtyProcess& p) { return p.screen().line(p.screen().cursor_row()); }

// The REPL at its first prompt.
class ConsoleTest : public ::testing::Test {
 protected:
  void start(PtyProcess::Options options) {
    repl_ = std::make_unique<PtyProcess>(std::vector<std::string>{repl_path()}, options);
    ASSERT_TRUE(repl_->wait_for([this] { return at_prompt() && repl_->screen().text().find("import asyncio") != std::string::npos; }, kDeadline))
        << repl_->screen().text();
  }
  void start() { start(console_options("/dev/null")); }
  bool at_prompt() const { return cursor_line(*repl_) == ">>>"; }
  std::size_t count(const std::string& text) const {
    std::string all = screen();
    std::size_t n = 0;
    for (std::size_t at = all.find(text); at != std::string::npos; at = all.find(text, at + 1)) ++n;
    return n;
  }
  // Sends a line and waits for one more `expected` on the screen (the screen
  // only grows above the prompt), with a fresh prompt under it.
  void run(const std::string& line, const std::string& expected) {
    std::size_t before = count(expected);
    repl_->send(line + "\r");
    ASSERT_TRUE(repl_->wait_for([&] { return at_prompt() && count(expected) > before; }, kDeadline))
        << "after " << line << ":\n" << screen();
  }
  // Pastes `block` (lines ended by \r, as a terminal sends them; a paste that
  // ends with a newline runs) and waits for the prompt after it.
  void paste(const std::string& block) {
    std::string first = ">>> " + block.substr(0, block.find('\r'));
    std::size_t before = count(first);
    repl_->send("\x1b[200~" + block + "\x1b[201~");
    ASSERT_TRUE(repl_->wait_for([&] { return at_prompt() && count(first) > before; }, kDeadline)) << screen();
  }
  // Sends a line and waits for the prompt to come back (the screen grew).
  void run(const std::string& line) {
    std::size_t before = repl_->screen().lines().size();
    repl_->send(line + "\r");
    ASSERT_TRUE(repl_->wait_for([&] { return at_prompt() && repl_->screen().lines().size() > before; }, kDeadline))
        << "after " << line << ":\n" << screen();
  }
  std::string screen() const { return repl_->screen().text(); }
  int exit_status() {
    auto status = repl_->wait_exit(kDeadline);
    EXPECT_TRUE(status.has_value()) << screen();
    return status.value_or(-1);
  }
  std::unique_ptr<PtyProcess> repl_;
};

TEST_F(ConsoleTest, BannerPromptAndTopLevelAwait) {
  start();
  EXPECT_NE(screen().find("aio 0.1 REPL"), std::string::npos) << screen();
  EXPECT_NE(screen().find("await works at top level"), std::string::npos);
  EXPECT_NE(screen().find(".help"), std::string::npos);
  EXPECT_NE(screen().find("epoll"), std::string::npos);
  run("await asyncio.sleep(0.1, result='hello')", ">>> await asyncio.sleep(0.1, result='hello')\n'hello'\n>>>");
  repl_->send("\x04");
  EXPECT_EQ(exit_status(), 0);
}

TEST_F(ConsoleTest, TypedLineStaysIntactWhileABackgroundTaskPrints) {
  start();
  // A block typed line by line: continues after ':', ends on an empty line.
  repl_->send("async def tick():\r");
  ASSERT_TRUE(repl_->wait_for([&] { return cursor_line(*repl_) == "..."; }, kDeadline)) << screen();
  repl_->send("    i = 0\r    while True:\r        print('tick', i); i += 1\r        await asyncio.sleep(0.02)\r\r");
  ASSERT_TRUE(repl_->wait_for([&] { return at_prompt() && screen().find("...         await asyncio.sleep(0.02)\n>>>") != std::string::npos; }, kDeadline)) << screen();
  run("t = asyncio.create_task(tick())", "tick 0");
  repl_->send("x = 'partly typed");
  ASSERT_TRUE(repl_->wait_for([&] { return cursor_line(*repl_) == ">>> x = 'partly typed"; }, kDeadline)) << screen();
  // Ticks keep coming while the line is being typed, above it.
  std::size_t from = repl_->raw().size();
  ASSERT_TRUE(repl_->wait_for([&] {
    std::size_t ticks = 0;
    for (std::size_t at = repl_->raw().find("tick ", from); at != std::string::npos; at = repl_->raw().find("tick ", at + 1)) ++ticks;
    return ticks >= 5;
  }, kDeadline)) << screen();
  ASSERT_TRUE(repl_->wait_for([&] { return cursor_line(*repl_) == ">>> x = 'partly typed"; }, kDeadline));
  std::vector<std::string> lines = repl_->screen().lines();
  ASSERT_GE(lines.size(), 2u);
  EXPECT_EQ(lines.back(), ">>> x = 'partly typed");
  EXPECT_EQ(repl_->screen().cursor_column(), static_cast<int>(std::string(">>> x = 'partly typed").size()));
  std::string above = lines[lines.size() - 2];
  EXPECT_TRUE(above.rfind("tick ", 0) == 0 && all_digits(above.substr(5))) << above;
  // The typed text never landed inside the output.
  for (std::size_t i = 0; i + 1 < lines.size(); ++i) {
    EXPECT_EQ(lines[i].find("partly"), std::string::npos) << "line " << i << ": " << lines[i];
  }
  repl_->send("'\r");
  run("t.cancel()", "True");
  run("print('x is', x)", "x is partly typed");
  repl_->send("\x04");
  EXPECT_EQ(exit_status(), 0);
}

// stderr (tracebacks, warnings, reports) goes above the prompt as stdout does.
TEST_F(ConsoleTest, StderrOfABackgroundTaskGoesAboveThePrompt) {
  start();
  run("import sys");
  paste("async def warn():\r    await asyncio.sleep(0.05)\r    print('warning: from the background', file=sys.stderr)\r");
  run("t = asyncio.create_task(warn())");
  repl_->send("still typing");
  ASSERT_TRUE(repl_->wait_for([&] {
    return screen().find("\nwarning: from the background\n") != std::string::npos && cursor_line(*repl_) == ">>> still typing";
  }, kDeadline)) << screen();
  std::vector<std::string> lines = repl_->screen().lines();
  EXPECT_EQ(lines.back(), ">>> still typing");
  for (std::size_t i = 0; i + 1 < lines.size(); ++i) EXPECT_EQ(lines[i].find("still typing"), std::string::npos) << lines[i];
}

TEST_F(ConsoleTest, CtrlCCancelsOnlyTheForegroundAwait) {
  start();
  run("n = 0");
  paste("async def count():\r    global n\r    while True:\r        n += 1\r        await asyncio.sleep(0.01)\r");
  run("bg = asyncio.create_task(count())");
  repl_->send("print('sleeping'); await asyncio.sleep(30)\r");
  ASSERT_TRUE(repl_->wait_for([&] { return screen().find("\nsleeping\n") != std::string::npos; }, kDeadline));
  repl_->send("\x03");
  // Cancelled at once: the deadline here is well under the sleep's 30 s.
  ASSERT_TRUE(repl_->wait_for([&] {
    return at_prompt() && screen().find("KeyboardInterrupt: cancelled \"print('sleeping'); await asyncio.sleep(30)\" after ") != std::string::npos;
  }, 20s)) << screen();
  EXPECT_NE(screen().find("1 background task goes on"), std::string::npos) << screen();
  // The background task was left alone: it still counts.
  run("before = n");
  run("await asyncio.sleep(0.2)");
  run("n > before, bg.done()", "(True, False)");
  repl_->send("\x04");
  EXPECT_EQ(exit_status(), 0);
  EXPECT_NE(screen().find("cancelled 1 background task"), std::string::npos) << screen();
}

TEST_F(ConsoleTest, CtrlCInterruptsAStatementThatNeverAwaits) {
  start();
  // Pasted, one input: Ctrl-C is sent once the loop is known to spin.
  repl_->send("\x1b[200~print('spinning')\rwhile True: pass\r\x1b[201~");
  ASSERT_TRUE(repl_->wait_for([&] { return screen().find("\nspinning\n") != std::string::npos; }, kDeadline));
  repl_->send("\x03");
  ASSERT_TRUE(repl_->wait_for([&] { return at_prompt() && screen().find("interrupted \"print('spinning') ...\" after") != std::string::npos; }, kDeadline)) << screen();
  EXPECT_NE(screen().find("\nKeyboardInterrupt\n"), std::string::npos) << screen();
  run("1 + 1", "\n2\n");
}

TEST_F(ConsoleTest, CtrlCAtThePromptClearsTheLineAndLeavesABlock) {
  start();
  repl_->send("abc def");
  ASSERT_TRUE(repl_->wait_for([&] { return cursor_line(*repl_) == ">>> abc def"; }, kDeadline));
  repl_->send("\x03");
  ASSERT_TRUE(repl_->wait_for([&] { return at_prompt() && screen().find(">>> abc def^C\n>>>") != std::string::npos; }, kDeadline)) << screen();
  repl_->send("if True:\r");
  ASSERT_TRUE(repl_->wait_for([&] { return cursor_line(*repl_) == "..."; }, kDeadline));
  repl_->send("\x03");
  ASSERT_TRUE(repl_->wait_for([&] { return at_prompt(); }, kDeadline)) << screen();
  run("6 * 7", "\n42\n");
}

TEST_F(ConsoleTest, SecondCtrlCDetachesTheStatement) {
  start();
  paste("async def stubborn():\r    try:\r        await asyncio.sleep(30)\r    except asyncio.CancelledError:\r        await asyncio.sleep(30)\r");
  repl_->send("print('waiting'); await stubborn()\r");
  ASSERT_TRUE(repl_->wait_for([&] { return screen().find("\nwaiting\n") != std::string::npos; }, kDeadline));
  repl_->send("\x03\x03");
  ASSERT_TRUE(repl_->wait_for([&] { return at_prompt() && screen().find("detached \"print('waiting'); await stubborn()\" to the background as task") != std::string::npos; }, kDeadline)) << screen();
  run(".tasks", "(detached)");
  std::string text = screen();
  long number = number_after(text, "to the background as task ");
  ASSERT_GT(number, 0) << text;
  std::string row = text.substr(text.find(">>> .tasks\n"));
  EXPECT_NE(row.find("\n" + std::to_string(number) + " "), std::string::npos) << row;
  EXPECT_NE(row.find(" (detached)"), std::string::npos) << row;
  run(".cancel " + std::to_string(number), "detached input \"print('waiting'); await stubborn()\" ended after");
  run(".tasks", "no tasks");
  repl_->send("exit\r");
  EXPECT_EQ(exit_status(), 0);
}

TEST_F(ConsoleTest, CtrlDCancelsBackgroundTasksAndExitsZero) {
  start();
  run("t1 = asyncio.create_task(asyncio.sleep(100))");
  run("t2 = asyncio.create_task(asyncio.sleep(100))");
  // Numbered from 1: the inputs' own tasks are not listed.
  run(".tasks", "id  name    state    age");
  EXPECT_NE(screen().find("\n1   Task-"), std::string::npos) << screen();
  EXPECT_NE(screen().find("\n2   Task-"), std::string::npos) << screen();
  repl_->send("\x04");
  EXPECT_EQ(exit_status(), 0);
  EXPECT_NE(screen().find("cancelled 2 background tasks"), std::string::npos) << screen();
}

// kill(1) (SIGTERM) or a hung-up terminal (SIGHUP) ends the session as Ctrl-D
// does, restoring the terminal, with the status of that signal.
TEST_F(ConsoleTest, SigtermLeavesAsCtrlDDoesAndRestoresTheTerminal) {
  start();
  run("t = asyncio.create_task(asyncio.sleep(100))");
  std::size_t from = repl_->raw().size();
  repl_->signal(SIGTERM);
  EXPECT_EQ(exit_status(), 128 + SIGTERM);
  EXPECT_NE(screen().find("cancelled 1 background task"), std::string::npos) << screen();
  // Bracketed paste switched off again: the console restored the terminal.
  EXPECT_NE(repl_->raw().find("\x1b[?2004l", from), std::string::npos) << repl_->raw().substr(from);
}

// The exit's wait is bounded: a task that ignores its cancellation is named
// and left behind.
TEST_F(ConsoleTest, ExitWaitsForBackgroundTasksOnlySoLong) {
  start();
  paste("async def deaf():\r    try:\r        await asyncio.sleep(100)\r    finally:\r        await asyncio.sleep(100)\r");
  run("d = asyncio.create_task(deaf(), name='deaf')");
  run("await asyncio.sleep(0)");
  repl_->send("\x04");
  EXPECT_EQ(exit_status(), 0);
  EXPECT_NE(screen().find("cancelled 1 background task; still running after 2.00 s: deaf"), std::string::npos) << screen();
}

// .tasks lists the background tasks in the order the console saw them, each
// with what it awaits: a chain through gather to the workers' Queue.get.
TEST_F(ConsoleTest, TaskTable) {
  start();
  run("a = asyncio.create_task(asyncio.sleep(100), name='alpha')");
  run("b = asyncio.create_task(asyncio.sleep(100), name='beta')");
  run("b.cancel()", "True");
  run("q = asyncio.Queue()");
  paste("async def boss():\r    await asyncio.gather(q.get(), asyncio.sleep(100))\r");
  run("c = asyncio.create_task(boss(), name='boss')");
  run("await asyncio.sleep(0)");
  run(".tasks", "awaiting");
  std::string text = screen();
  std::string table = text.substr(text.rfind(">>> .tasks\n") + 11);
  table = table.substr(0, table.find(">>>"));
  // Ages masked: the column from "age" to "awaiting" in the header.
  std::size_t age = table.find("age"), awaiting = table.find("awaiting");
  ASSERT_TRUE(age != std::string::npos && awaiting != std::string::npos) << text;
  std::string masked;
  std::stringstream lines(table);
  for (std::string line; std::getline(lines, line) && masked.size() < 200;) {
    if (line.size() > awaiting) line.replace(age, awaiting - age, "AGE  ");
    masked += line + "\n";
  }
  // The first rows exactly (beta, number 2, has ended); gather's two children
  // follow, named Task-N.
  EXPECT_EQ(masked.substr(0, masked.find("\n4 ")),
            "id  name     state    AGE  awaiting\n"
            "1   alpha    waiting  AGE  alpha → sleep\n"
            "3   boss     waiting  AGE  boss → gather")
      << text;
  EXPECT_NE(table.find("boss → gather → Task-"), std::string::npos) << text;
  EXPECT_NE(table.find("→ Queue.get\n"), std::string::npos) << text;
  run("c.cancel()", "True");
  run("a.cancel()", "True");
  run("await asyncio.sleep(0)");
  run(".tasks", "no tasks");
}

TEST_F(ConsoleTest, ExitWithAStatus) {
  start();
  repl_->send("exit(3)\r");
  EXPECT_EQ(exit_status(), 3);
}

TEST_F(ConsoleTest, HistoryIsSavedAndRecalledAcrossSessions) {
  std::string history = temp_dir() + "/history_test";
  std::remove(history.c_str());
  start(console_options(history));
  run("x = 41 + 1");
  run("y = 'second'");
  repl_->send("quit\r");
  ASSERT_EQ(exit_status(), 0);
  std::ifstream file(history);
  std::stringstream saved;
  saved << file.rdbuf();
  EXPECT_EQ(saved.str(), "x = 41 + 1\ny = 'second'\nquit\n");

  start(console_options(history));
  repl_->send("\x1b[A\x1b[A\x1b[A");
  ASSERT_TRUE(repl_->wait_for([&] { return cursor_line(*repl_) == ">>> x = 41 + 1"; }, kDeadline)) << screen();
  run("", ">>> x = 41 + 1\n>>>");
  run("x", "\n42\n");
  // Ctrl-R finds an older entry by a piece of it.
  repl_->send("\x12" "sec");
  ASSERT_TRUE(repl_->wait_for([&] { return cursor_line(*repl_) == "(reverse-i-search)`sec': y = 'second'"; }, kDeadline)) << screen();
  run("", ">>> y = 'second'\n>>>");
  run("y", "\n'second'\n");
  repl_->send("\x04");
  EXPECT_EQ(exit_status(), 0);
}

TEST_F(ConsoleTest, TabCompletesNamesAttributesAndKeywords) {
  start();
  run("my_variable = 5");
  repl_->send("my_v\t");
  ASSERT_TRUE(repl_->wait_for([&] { return cursor_line(*repl_) == ">>> my_variable"; }, kDeadline)) << screen();
  run("", "\n5\n");
  repl_->send("await asyncio.sle\t");
  ASSERT_TRUE(repl_->wait_for([&] { return cursor_line(*repl_) == ">>> await asyncio.sleep"; }, kDeadline)) << screen();
  repl_->send("(0, result='done')\r");
  ASSERT_TRUE(repl_->wait_for([&] { return at_prompt() && screen().find("\n'done'\n") != std::string::npos; }, kDeadline)) << screen();
  // The common prefix first; a second Tab lists the candidates above the prompt.
  repl_->send("asyncio.wa\t");
  ASSERT_TRUE(repl_->wait_for([&] { return cursor_line(*repl_) == ">>> asyncio.wait"; }, kDeadline)) << screen();
  repl_->send("\t");
  ASSERT_TRUE(repl_->wait_for([&] { return screen().find("asyncio.wait  asyncio.wait_for") != std::string::npos && cursor_line(*repl_) == ">>> asyncio.wait"; }, kDeadline)) << screen();
  repl_->send("\x03");
  repl_->send("whi\t");
  ASSERT_TRUE(repl_->wait_for([&] { return cursor_line(*repl_) == ">>> while"; }, kDeadline)) << screen();
}

TEST_F(ConsoleTest, APastedBlockRunsAsOne) {
  start();
  repl_->send("\x1b[200~async def f():\r    return 40\r\rprint('sum', await f() + 2)\r\x1b[201~");
  ASSERT_TRUE(repl_->wait_for([&] { return at_prompt() && screen().find("\nsum 42\n") != std::string::npos; }, kDeadline)) << screen();
  EXPECT_NE(screen().find(">>> async def f():\n...     return 40\n...\n... print('sum', await f() + 2)\n"), std::string::npos) << screen();
}

TEST_F(ConsoleTest, LineEditingKeys) {
  start();
  // Left arrows, insert, Ctrl-A/Ctrl-E, Alt-b, Ctrl-K and Ctrl-Y, UTF-8.
  repl_->send("print('b\xc3\xa9')");
  repl_->send("\x1b[D\x1b[D\x1b[D\x1b[D" "a");
  ASSERT_TRUE(repl_->wait_for([&] { return cursor_line(*repl_) == ">>> print('ab\xc3\xa9')" && repl_->screen().cursor_column() == 12; }, kDeadline)) << screen();
  repl_->send("\x05 # note\x1b" "b\x0b");
  ASSERT_TRUE(repl_->wait_for([&] { return cursor_line(*repl_) == ">>> print('ab\xc3\xa9') #"; }, kDeadline)) << screen();
  repl_->send("\x19\r");
  ASSERT_TRUE(repl_->wait_for([&] { return at_prompt() && screen().find("\nab\xc3\xa9\n") != std::string::npos; }, kDeadline)) << screen();
}

TEST_F(ConsoleTest, DotCommands) {
  start();
  run(".help", ".cancel N");
  run(".time", ">>> .time\n");
  std::string text = screen();
  std::string shown = text.substr(text.rfind(">>> .time\n") + 10);
  shown = shown.substr(0, shown.find('\n'));
  ASSERT_NE(shown.find('.'), std::string::npos) << text;
  EXPECT_TRUE(all_digits(shown.substr(0, shown.find('.'))) && all_digits(shown.substr(shown.find('.') + 1))) << shown;
  std::string file = temp_dir() + "/loaded.py";
  {
    std::ofstream out(file);
    out << "loaded_value = 7\nprint('loaded', loaded_value)\n";
  }
  run(".load " + file, "\nloaded 7\n");
  run("loaded_value * 6", "\n42\n");
  run(".load /nonexistent/x.py", ".load: can't open file '/nonexistent/x.py'");
  run(".cancel x", ".cancel: expected a task number");
  run(".nope", "unknown command .nope");
  run("1/0", "ZeroDivisionError: division by zero");
  run("input()", "RuntimeError: input() is not available in the interactive console");
  repl_->send(".quit\r");
  EXPECT_EQ(exit_status(), 0);
}

TEST_F(ConsoleTest, ColourOnATerminalUnlessNoColor) {
  start(console_options("/dev/null", /*colour=*/true));
  std::size_t from = repl_->raw().size();
  run("for i in []: pass");
  EXPECT_NE(repl_->raw().find("\x1b[1;34mfor\x1b[0m", from), std::string::npos);
  run("1/0", "ZeroDivisionError: division by zero");
  EXPECT_NE(repl_->raw().find("\x1b[1;35mZeroDivisionError\x1b[0m:", from), std::string::npos);
}

TEST_F(ConsoleTest, DumbTerminalGetsThePlainConsole) {
  PtyProcess::Options options = console_options("/dev/null", /*colour=*/true);
  options.env[0].second = "dumb";
  repl_ = std::make_unique<PtyProcess>(std::vector<std::string>{repl_path()}, options);
  ASSERT_TRUE(repl_->wait_for_text(">>> import asyncio\n>>>", kDeadline)) << screen();
  repl_->send("1 + 2\n");
  ASSERT_TRUE(repl_->wait_for_text("\n3\n>>>", kDeadline)) << screen();
  repl_->send("if True:\n");
  ASSERT_TRUE(repl_->wait_for_text(">>> if True:\n...", kDeadline)) << screen();
  repl_->send("    print('in block')\n");
  ASSERT_TRUE(repl_->wait_for_text("...     print('in block')\n...", kDeadline)) << screen();
  repl_->send("\n");
  ASSERT_TRUE(repl_->wait_for_text("\nin block\n>>>", kDeadline)) << screen();
  EXPECT_EQ(repl_->raw().find('\x1b'), std::string::npos) << "escape sequences on a dumb terminal";
  repl_->send("\x04");
  EXPECT_EQ(exit_status(), 0);
}

// A client is served by a server started at the prompt while the prompt waits
// for input (nothing typed meanwhile).
TEST_F(ConsoleTest, BackgroundServerServesWhileThePromptWaits) {
  start();
  paste("async def handle(r, w):\r    w.write(b'hi\\n')\r    await w.drain()\r    w.close()\r");
  run("srv = await asyncio.start_server(handle, '127.0.0.1', 0)");
  run("print('port', srv.sockets[0].getsockname()[1])", "\nport ");
  std::string text = screen();
  long port = number_after(text, "\nport ");
  ASSERT_GT(port, 0) << text;
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  std::string got;
  auto until = std::chrono::steady_clock::now() + kDeadline;
  while (got.find('\n') == std::string::npos && std::chrono::steady_clock::now() < until) {
    struct pollfd p = {fd, POLLIN, 0};
    if (::poll(&p, 1, 1000) <= 0) continue;
    char buf[64];
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    got.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  EXPECT_EQ(got, "hi\n");
  EXPECT_TRUE(at_prompt());
  run("srv.close()");
  repl_->send("\x04");
  EXPECT_EQ(exit_status(), 0);
}

// complete() on the loop side, without a terminal.
TEST(CompleteTest, NamesAttributesKeywordsAndNothingCalled) {
  Interpreter in;
  in.main_globals["my_value"] = Value::integer(1);
  auto has = [](const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
  };
  EXPECT_TRUE(has(complete(in, "my_"), "my_value"));
  EXPECT_TRUE(has(complete(in, "pri"), "print"));
  EXPECT_TRUE(has(complete(in, "whi"), "while"));
  EXPECT_TRUE(complete(in, "nothing_like_this").empty());
  EXPECT_TRUE(complete(in, "undefined_name.x").empty());
  EXPECT_TRUE(complete(in, "a..b").empty());
}

}  // namespace
}  // namespace repl
