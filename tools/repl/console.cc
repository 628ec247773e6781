// The interactive console. Read docs/design/console.md first; in short:
//
//   loop thread (the caller of run_console)      console thread
//   ---------------------------------------      --------------------------------
//   Host: runs each input as one foreground      Console: owns the terminal (raw
//   task, the dot commands, completion, the      mode), the line editor, history;
//   shutdown; prints to fds 1/2 as always   -->  reads fds 1/2's pipe and prints
//                                                it above the prompt
//          <-- call_soon_threadsafe(start_input / interrupt / detach / complete / quit)
//          --> Inbox (mutex + eventfd): InputDone, Completion, Exit
//
// Ordering: the loop flushes stdout/stderr before it posts an event, and the
// console drains the pipe before it handles events, so an input's output is
// always printed before the prompt that follows it.
//
// Ctrl-C while an input runs: the console sets in.interrupt_requested (the
// only interpreter state another thread touches, an atomic) and posts
// interrupt(). If the loop is free it cancels the foreground task; if the
// input is stuck in code that never awaits, the interpreter raises
// KeyboardInterrupt at its next statement boundary. A second Ctrl-C within a
// second detaches the input: the console returns to the prompt at once and the
// task goes on in the background.
#include "tools/repl/console.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "aio.h"
#include "async/call_graph.h"
#include "tools/repl/line_editor.h"
#include "tools/repl/parser.h"
#include "tools/repl/session.h"
#include "tools/repl/task_view.h"

namespace repl {

namespace {

using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

constexpr const char* kVersion = "0.1";
// How long the exit waits for cancelled background tasks.
constexpr auto kShutdownGrace = 2s;
// A second Ctrl-C within this long detaches the interrupted input.
constexpr auto kDetachWindow = 1s;

void write_all(int fd, std::string_view s) {
  while (!s.empty()) {
    ssize_t n = ::write(fd, s.data(), s.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // the terminal went away: nothing useful to do
    s.remove_prefix(static_cast<std::size_t>(n));
  }
}

std::string seconds(SteadyClock::duration d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f s", std::chrono::duration<double>(d).count());
  return buf;
}

// The first line of an input, for messages ("'await asyncio.sleep(30)'").
std::string summary(std::string source) {
  while (!source.empty() && (source.back() == '\n' || source.back() == ' ')) source.pop_back();
  std::string line = source.substr(0, source.find('\n'));
  std::size_t start = line.find_first_not_of(" \t");
  line = start == std::string::npos ? "" : line.substr(start);
  if (line.size() > 60) line = line.substr(0, 57) + "...";
  if (source.find('\n') != std::string::npos) line += " ...";
  char quote = line.find('\'') != std::string::npos && line.find('"') == std::string::npos ? '"' : '\'';
  return quote + line + quote;
}

std::string trim(const std::string& s) {
  std::size_t a = s.find_first_not_of(" \t\n");
  if (a == std::string::npos) return {};
  std::size_t b = s.find_last_not_of(" \t\n");
  return s.substr(a, b - a + 1);
}

// ---- loop -> console ----------------------------------------------------------

struct ConsoleEvent {
  enum class Kind { kInputDone, kCompletion, kExit };
  Kind kind = Kind::kInputDone;
  int request = 0;
  std::vector<std::string> items;
  int status = 0;
};

// The queue of events for the console thread; post() from the loop thread.
class Inbox {
 public:
  Inbox() : fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
    if (fd_ < 0) throw std::runtime_error(std::string("repl: eventfd: ") + std::strerror(errno));
  }
  ~Inbox() { ::close(fd_); }
  Inbox(const Inbox&) = delete;
  Inbox& operator=(const Inbox&) = delete;

  void post(ConsoleEvent event) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      events_.push_back(std::move(event));
    }
    std::uint64_t one = 1;
    while (::write(fd_, &one, sizeof one) < 0 && errno == EINTR) {
    }
  }
  std::deque<ConsoleEvent> take() {
    std::uint64_t count;
    while (::read(fd_, &count, sizeof count) < 0 && errno == EINTR) {
    }
    std::lock_guard<std::mutex> lock(mutex_);
    std::deque<ConsoleEvent> out;
    out.swap(events_);
    return out;
  }
  int fd() const { return fd_; }

 private:
  int fd_;
  std::mutex mutex_;
  std::deque<ConsoleEvent> events_;
};

// ---- the loop side --------------------------------------------------------------

class Host {
 public:
  Host(Interpreter& in, aio::EventLoop& loop, Inbox& inbox) : in_(in), loop_(loop), inbox_(inbox) {}

  // The host's own task: waits for the exit, then shuts down. Returns the
  // exit status. `self` is the task it runs as (left out of the task table).
  aio::Coro<int> main();
  void set_main_task(const aio::AnyTask& self) { main_task_ = self.id(); }

  // Each called on the loop thread (the console posts them).
  void start_input(int id, const std::string& source);
  void interrupt(int id);
  void detach(int id);
  void complete_request(int id, const std::string& word);
  // Leaves the session: background tasks cancelled (bounded), then `status`.
  void quit(int status = 0) { begin_shutdown(status); }

 private:
  struct Foreground {
    int id = 0;
    std::optional<aio::AnyTask> task;
    std::string text;
    SteadyClock::time_point started;
    bool interrupted = false;
    bool detached = false;
  };
  struct SeenTask {
    aio::AnyTask task;
    int number;
    SteadyClock::time_point first_seen;
  };
  // One dot command: `.name args`, run on the loop thread; `done` says whether
  // the command finished (false: it started an input that posts InputDone).
  struct DotCommand {
    const char* name;
    const char* args;
    const char* help;
    bool (Host::*run)(int id, const std::string& args);
  };
  static const std::vector<DotCommand>& commands();

  bool command_help(int id, const std::string& args);
  bool command_tasks(int id, const std::string& args);
  bool command_cancel(int id, const std::string& args);
  bool command_time(int id, const std::string& args);
  bool command_load(int id, const std::string& args);
  bool command_quit(int id, const std::string& args);

  void run_python(int id, const std::string& source, const std::string& filename);
  aio::Coro<int> run_input(std::shared_ptr<Program> program, int id);
  // Reports what ended an input early; false if the session is over (SystemExit).
  void report_failure(std::exception_ptr error, int id);
  void input_finished(int id);
  void done(int id);
  void begin_shutdown(int status);
  void refresh_tasks();
  int background_count();
  std::string still_running();
  std::vector<aio::AnyTask> other_tasks();

  Interpreter& in_;
  aio::EventLoop& loop_;
  Inbox& inbox_;
  // The input running in the foreground, and those detached from it.
  Foreground* record(int id);
  Foreground fg_;
  std::map<int, Foreground> detached_;
  std::vector<SeenTask> seen_;
  int next_number_ = 1;
  const void* main_task_ = nullptr;
  aio::Event exit_requested_;
  int exit_status_ = 0;
  bool shutting_down_ = false;
};

void flush_stdio() {
  std::fflush(stdout);
  std::fflush(stderr);
}

const std::vector<Host::DotCommand>& Host::commands() {
  static const std::vector<DotCommand> table = {
      {"help", "", "this list", &Host::command_help},
      {"tasks", "", "the background tasks: number, name, state, age, what each awaits", &Host::command_tasks},
      {"cancel", "N", "cancels task N of .tasks", &Host::command_cancel},
      {"time", "", "the loop's clock (loop.time())", &Host::command_time},
      {"load", "FILE", "runs FILE's statements in this session", &Host::command_load},
      {"quit", "", "leaves the REPL (as Ctrl-D and exit)", &Host::command_quit},
  };
  return table;
}

aio::Coro<int> Host::main() {
  co_await exit_requested_.wait();
  // Cancel what is left and wait for it, bounded.
  std::vector<aio::AnyTask> tasks = other_tasks();
  // Shared with the done callbacks, which may outlive this frame when a task
  // ignores its cancellation past the grace period.
  auto remaining = std::make_shared<std::size_t>(0);
  auto all_done = std::make_shared<aio::Event>();
  for (auto& t : tasks) {
    if (t.done()) continue;
    ++*remaining;
    t.cancel();
    t.add_done_callback([remaining, all_done](aio::AnyTask) {
      if (--*remaining == 0) all_done->set();
    });
  }
  std::size_t cancelled = *remaining;
  bool finished = true;
  if (cancelled > 0) {
    try {
      auto waiting = aio::timeout(kShutdownGrace, all_done->wait());
      co_await std::move(waiting);
    } catch (const aio::TimeoutError&) {
      finished = false;
    }
  }
  if (cancelled > 0) {
    std::string text = "cancelled " + std::to_string(cancelled) + " background task" + (cancelled == 1 ? "" : "s");
    if (!finished) text += "; still running after " + seconds(kShutdownGrace) + ": " + still_running();
    text += "\n";
    std::fwrite(text.data(), 1, text.size(), stderr);
  }
  fg_ = Foreground();
  detached_.clear();
  seen_.clear();
  flush_stdio();
  ConsoleEvent exit;
  exit.kind = ConsoleEvent::Kind::kExit;
  exit.status = exit_status_;
  inbox_.post(std::move(exit));
  co_return exit_status_;
}

std::vector<aio::AnyTask> Host::other_tasks() {
  std::vector<aio::AnyTask> out;
  for (auto& t : loop_.all_tasks()) {
    if (t.id() != main_task_) out.push_back(t);
  }
  return out;
}

std::string Host::still_running() {
  std::string names;
  for (auto& t : other_tasks()) {
    if (t.done()) continue;
    if (!names.empty()) names += ", ";
    names += t.get_name();
  }
  return names;
}

void Host::begin_shutdown(int status) {
  if (shutting_down_) return;
  shutting_down_ = true;
  exit_status_ = status;
  exit_requested_.set();
}

void Host::done(int id) {
  flush_stdio();
  ConsoleEvent e;
  e.kind = ConsoleEvent::Kind::kInputDone;
  e.request = id;
  inbox_.post(std::move(e));
}

void Host::start_input(int id, const std::string& source) {
  if (shutting_down_) return;
  std::string text = trim(source);
  if (text.empty()) return done(id);
  // Python 3.13: exit and quit work without parentheses.
  if (text == "exit" || text == "quit") return begin_shutdown(0);
  if (text[0] == '.' && text.size() > 1 && std::isalpha(static_cast<unsigned char>(text[1]))) {
    std::size_t space = text.find_first_of(" \t");
    std::string name = text.substr(1, space == std::string::npos ? std::string::npos : space - 1);
    std::string args = space == std::string::npos ? "" : trim(text.substr(space));
    for (const auto& c : commands()) {
      if (name == c.name) {
        if ((this->*c.run)(id, args)) done(id);
        return;
      }
    }
    std::fprintf(stderr, "unknown command .%s (.help lists the commands)\n", name.c_str());
    return done(id);
  }
  run_python(id, source, "<stdin>");
}

void Host::run_python(int id, const std::string& source, const std::string& filename) {
  ParseOptions options;
  options.top_level_await = true;
  std::shared_ptr<Program> program;
  try {
    program = parse_program(source, filename, options);
  } catch (const SyntaxError& e) {
    std::string text = format_syntax_error(e, filename, source);
    std::fwrite(text.data(), 1, text.size(), stderr);
    return done(id);
  }
  refresh_tasks();
  fg_ = Foreground();
  fg_.id = id;
  fg_.text = summary(source);
  fg_.started = SteadyClock::now();
  aio::Task<int> task = aio::create_task(loop_, run_input(program, id));
  fg_.task = task;
  in_.interrupt_task = fg_.task->id();
  task.add_done_callback([this, id](aio::Task<int> t) {
    // A task cancelled before its first step never ran run_input's reports.
    Foreground* rec = record(id);
    if (t.cancelled() && rec && !rec->detached) {
      std::string text = "KeyboardInterrupt: cancelled " + rec->text + " before it started\n";
      std::fwrite(text.data(), 1, text.size(), stderr);
      input_finished(id);
    }
  });
}

aio::Coro<int> Host::run_input(std::shared_ptr<Program> program, int id) {
  std::size_t count = program->module->body.size();
  for (std::size_t i = 0; i < count; ++i) {
    Value value;
    std::exception_ptr error;
    try {
      aio::Coro<Value> step = in_.run_statement(program, i);
      value = co_await std::move(step);
    } catch (...) {
      error = std::current_exception();
    }
    if (error) {
      report_failure(error, id);
      break;
    }
    if (!value.is_undef() && !value.is_none()) {
      std::string shown = in_.repr(value) + "\n";
      std::fwrite(shown.data(), 1, shown.size(), stdout);
    }
  }
  input_finished(id);
  co_return 0;
}

Host::Foreground* Host::record(int id) {
  if (fg_.task && fg_.id == id) return &fg_;
  auto it = detached_.find(id);
  return it == detached_.end() ? nullptr : &it->second;
}

void Host::report_failure(std::exception_ptr error, int id) {
  Foreground* rec = record(id);
  bool cancelled = false;
  try {
    std::rethrow_exception(error);
  } catch (const aio::CancelledError&) {
    cancelled = true;
  } catch (...) {
  }
  if (cancelled && rec && rec->detached) return;  // input_finished says it ended
  std::string after = rec ? " after " + seconds(SteadyClock::now() - rec->started) : "";
  int others = background_count();
  std::string others_text = others == 0 ? "" : "; " + std::to_string(others) + " background task" +
                                                   (others == 1 ? " goes on" : "s go on");
  if (cancelled && rec && rec->interrupted) {
    std::string text = "KeyboardInterrupt: cancelled " + rec->text + after + others_text + "\n";
    std::fwrite(text.data(), 1, text.size(), stderr);
    return;
  }
  Value exc = in_.exception_from(error);
  if (in_.isinstance(exc, in_.exception_type("SystemExit"))) {
    int status = report_uncaught(in_, exc);
    return begin_shutdown(status);
  }
  report_uncaught(in_, exc);
  if (rec && in_.isinstance(exc, in_.exception_type("KeyboardInterrupt"))) {
    std::string text = "interrupted " + rec->text + after + others_text + "\n";
    std::fwrite(text.data(), 1, text.size(), stderr);
  }
}

void Host::input_finished(int id) {
  if (auto it = detached_.find(id); it != detached_.end()) {
    std::string note = "detached input " + it->second.text + " ended after " +
                       seconds(SteadyClock::now() - it->second.started) + "\n";
    detached_.erase(it);
    std::fwrite(note.data(), 1, note.size(), stderr);
    flush_stdio();
    return;
  }
  if (fg_.id != id || !fg_.task) return;
  refresh_tasks();  // while fg_ still says which task is this input's (it is finishing, not done)
  fg_ = Foreground();
  in_.interrupt_task = nullptr;
  in_.interrupt_requested.store(false);
  if (shutting_down_) return flush_stdio();
  done(id);
}

void Host::interrupt(int id) {
  // Cleared whatever happens: a Ctrl-C that raced with the end of its input
  // must not interrupt the next one.
  in_.interrupt_requested.store(false);
  if (fg_.id != id || !fg_.task || fg_.task->done()) return;
  fg_.interrupted = true;
  fg_.task->cancel("KeyboardInterrupt");
}

void Host::detach(int id) {
  if (fg_.id != id || !fg_.task || fg_.task->done()) return;
  fg_.detached = true;
  aio::AnyTask task = *fg_.task;
  std::string text = fg_.text;
  detached_.emplace(id, std::move(fg_));
  fg_ = Foreground();
  in_.interrupt_task = nullptr;
  in_.interrupt_requested.store(false);
  refresh_tasks();
  int number = 0;
  for (auto& seen : seen_) {
    if (seen.task == task) number = seen.number;
  }
  std::string note = "detached " + text + " to the background as task " + std::to_string(number) + " (" +
                     task.get_name() + "): .tasks lists it, .cancel " + std::to_string(number) + " stops it\n";
  std::fwrite(note.data(), 1, note.size(), stderr);
  flush_stdio();
}

void Host::complete_request(int id, const std::string& word) {
  ConsoleEvent e;
  e.kind = ConsoleEvent::Kind::kCompletion;
  e.request = id;
  try {
    e.items = complete(in_, word);
  } catch (...) {
    // A name whose lookup raised completes to nothing.
  }
  inbox_.post(std::move(e));
}

void Host::refresh_tasks() {
  auto now = SteadyClock::now();
  seen_.erase(std::remove_if(seen_.begin(), seen_.end(), [](const SeenTask& s) { return s.task.done(); }), seen_.end());
  for (auto& t : other_tasks()) {
    if (t.done()) continue;
    // The input running now is numbered only once it is detached.
    if (fg_.task && t == *fg_.task) continue;
    bool known = false;
    for (auto& s : seen_) known = known || s.task == t;
    if (!known) seen_.push_back({t, next_number_++, now});
  }
}

int Host::background_count() {
  refresh_tasks();
  return static_cast<int>(seen_.size());  // the foreground is never in seen_
}

bool Host::command_help(int, const std::string&) {
  std::string text =
      "Statements run on aio's loop as `python -m asyncio` runs them: await works at top level, and\n"
      "background tasks (create_task, start_server) keep running while you type.\n\n";
  for (const auto& c : commands()) {
    std::string usage = std::string(".") + c.name + (*c.args ? std::string(" ") + c.args : "");
    usage.resize(std::max<std::size_t>(usage.size(), 12), ' ');
    text += "  " + usage + "  " + c.help + "\n";
  }
  text +=
      "\nKeys: Ctrl-C clears the line, or cancels the running statement (twice: leaves it running in the\n"
      "background); Ctrl-D exits; Up/Down and Ctrl-R search history; Tab completes; Ctrl-A/E, Alt-B/F,\n"
      "Ctrl-K/U/W/Y edit. A block (after ':') ends on an empty line. help(name): a name's aio API.\n";
  std::fwrite(text.data(), 1, text.size(), stdout);
  return true;
}

// The task table (tools/repl/task_view.h): the background tasks under the
// console's own numbers, each with what it awaits right now, read in the whole
// loop's call graph so that a chain climbs through tasks not listed (an
// input's own task).
bool Host::command_tasks(int, const std::string&) {
  refresh_tasks();
  const std::vector<aio::TaskSnapshot> graph = aio::snapshot_tasks(loop_);
  std::vector<aio::TaskSnapshot> rows;
  for (const SeenTask& seen : seen_) {
    const auto id = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(seen.task.id()));
    auto snapshot = std::find_if(graph.begin(), graph.end(), [id](const aio::TaskSnapshot& t) { return t.id == id; });
    if (snapshot == graph.end()) continue;  // finished since refresh_tasks()
    aio::TaskSnapshot row = *snapshot;
    row.number = static_cast<std::uint64_t>(seen.number);
    if (seen.task.cancelling() > 0) row.state = "cancelling";
    for (auto& [input, detached] : detached_) {
      if (detached.task && *detached.task == seen.task) row.state += " (detached)";
    }
    rows.push_back(std::move(row));
  }
  const std::string text = format_task_table(rows, graph);
  std::fwrite(text.data(), 1, text.size(), stdout);
  return true;
}

bool Host::command_cancel(int, const std::string& args) {
  char* end = nullptr;
  long number = std::strtol(args.c_str(), &end, 10);
  if (args.empty() || *end != '\0') {
    std::fprintf(stderr, ".cancel: expected a task number from .tasks, got '%s'\n", args.c_str());
    return true;
  }
  refresh_tasks();
  for (auto& s : seen_) {
    if (s.number == number) {
      s.task.cancel();
      std::printf("cancelling task %ld (%s)\n", number, s.task.get_name().c_str());
      return true;
    }
  }
  std::fprintf(stderr, ".cancel: no task %ld (.tasks lists them)\n", number);
  return true;
}

bool Host::command_time(int, const std::string&) {
  double t = std::chrono::duration<double>(loop_.time().time_since_epoch()).count();
  std::printf("%.6f\n", t);
  return true;
}

bool Host::command_load(int id, const std::string& args) {
  if (args.empty()) {
    std::fprintf(stderr, ".load: expected a file name\n");
    return true;
  }
  std::string path = args;
  const char* user_dir = std::getenv("BUILD_WORKING_DIRECTORY");
  if (user_dir != nullptr && path[0] != '/') path = std::string(user_dir) + "/" + path;
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    std::fprintf(stderr, ".load: can't open file '%s': [Errno %d] %s\n", args.c_str(), errno, std::strerror(errno));
    return true;
  }
  std::stringstream text;
  text << file.rdbuf();
  run_python(id, text.str(), args);
  return false;
}

bool Host::command_quit(int, const std::string&) {
  begin_shutdown(0);
  return false;
}

// ---- the console thread -------------------------------------------------------

class Console {
 public:
  Console(const ConsoleOptions& options, Interpreter& in, aio::EventLoop& loop, Host& host, Inbox& inbox,
          int terminal, int output, int signals)
      : options_(options), interrupt_flag_(in.interrupt_requested), interrupt_time_(in.interrupt_requested_at), loop_(loop), host_(host), inbox_(inbox),
        terminal_(terminal), output_(output), signals_(signals), editor_(&history_) {}

  void run();

 private:
  enum class State { kPrompt, kRunning, kExiting, kDone };

  void post(std::function<void(Host&)> work);
  void drain_output();
  void print_output(std::string text);
  void handle_events();
  void handle_input(std::string_view bytes);
  void handle_plain_input(std::string_view bytes);
  void handle_key(const editor::Key& key);
  void handle_signal();
  void interrupt_running();
  void submit(const std::string& text);
  void show_prompt();
  void redraw();
  void erase_area();
  void finish_area(const std::string& suffix = {});
  void write(std::string_view s) { write_all(terminal_, s); }
  void update_columns();

  ConsoleOptions options_;
  std::atomic<bool>& interrupt_flag_;
  std::atomic<std::int64_t>& interrupt_time_;
  aio::EventLoop& loop_;
  Host& host_;
  Inbox& inbox_;
  int terminal_;
  int output_;
  int signals_;

  State state_ = State::kRunning;
  editor::History history_;
  editor::LineEditor editor_;
  editor::KeyDecoder decoder_;
  std::deque<editor::Key> typeahead_;
  std::deque<std::string> plain_lines_;
  std::string plain_partial_;
  std::string plain_block_;
  int next_id_ = 1;
  int input_id_ = 0;
  int completion_id_ = 0;
  std::string completion_text_;
  bool interrupted_once_ = false;
  SteadyClock::time_point first_interrupt_;
  int columns_ = 80;
  int area_cursor_row_ = 0;
  bool prompt_shown_ = false;
  bool at_line_start_ = true;
  bool in_traceback_ = false;
  int exit_status_ = 0;
  bool stdin_open_ = true;
  // While the keys of one read are handled: redraw once, at the end.
  bool batching_ = false;
  bool needs_redraw_ = false;
};

void Console::post(std::function<void(Host&)> work) {
  try {
    loop_.call_soon_threadsafe([host = &host_, work = std::move(work)]() { work(*host); });
  } catch (const aio::RuntimeError&) {
    // The loop is closing: nothing left to ask it.
  }
}

void Console::update_columns() {
  struct winsize ws;
  if (::ioctl(terminal_, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) columns_ = ws.ws_col;
}

void Console::erase_area() {
  std::string s;
  if (area_cursor_row_ > 0) s += "\x1b[" + std::to_string(area_cursor_row_) + "A";
  s += "\r\x1b[J";
  write(s);
  area_cursor_row_ = 0;
}

void Console::redraw() {
  editor::RenderOptions r;
  r.columns = columns_;
  r.colour = options_.colour;
  if (editor_.searching()) {
    r.search_query = editor_.search_query();
    r.search_failed = editor_.search_failed();
  }
  editor::Rendered shown = editor::render(editor_.shown_text(), editor_.shown_cursor(), r);
  std::string s;
  if (area_cursor_row_ > 0) s += "\x1b[" + std::to_string(area_cursor_row_) + "A";
  s += "\r" + shown.output;
  write(s);
  area_cursor_row_ = shown.cursor_row;
}

// Leaves the prompt area as it is shown and moves below it.
void Console::finish_area(const std::string& suffix) {
  editor::RenderOptions r;
  r.columns = columns_;
  r.colour = options_.colour;
  editor::Rendered shown = editor::render(editor_.text(), editor_.text().size(), r);
  std::string s;
  if (area_cursor_row_ > 0) s += "\x1b[" + std::to_string(area_cursor_row_) + "A";
  s += "\r" + shown.output + suffix + "\r\n";
  write(s);
  area_cursor_row_ = 0;
  prompt_shown_ = false;
  at_line_start_ = true;
}

void Console::show_prompt() {
  state_ = State::kPrompt;
  interrupted_once_ = false;
  if (!options_.editor) {
    if (!at_line_start_) write("\n");
    at_line_start_ = true;
    write(plain_block_.empty() ? ">>> " : "... ");
    prompt_shown_ = true;
    while (state_ == State::kPrompt && !plain_lines_.empty()) {
      std::string line = std::move(plain_lines_.front());
      plain_lines_.pop_front();
      handle_plain_input(line);
    }
    return;
  }
  if (!at_line_start_) write("\r\n");
  at_line_start_ = true;
  editor_.clear();
  area_cursor_row_ = 0;
  prompt_shown_ = true;
  redraw();
  while (state_ == State::kPrompt && !typeahead_.empty()) {
    editor::Key key = std::move(typeahead_.front());
    typeahead_.pop_front();
    handle_key(key);
  }
}

void Console::print_output(std::string text) {
  if (text.empty()) return;
  if (options_.colour) text = editor::colour_traceback(text, &in_traceback_);
  if (options_.editor && prompt_shown_) {
    erase_area();
    write(text);
    if (text.back() != '\n') write("\r\n");
    at_line_start_ = true;
    redraw();
    return;
  }
  write(text);
  at_line_start_ = text.back() == '\n';
}

void Console::drain_output() {
  std::string text;
  char buf[65536];
  while (true) {
    ssize_t n = ::read(output_, buf, sizeof buf);
    if (n > 0) {
      text.append(buf, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    break;
  }
  print_output(std::move(text));
}

void Console::submit(const std::string& text) {
  history_.add(text);
  if (!options_.history_path.empty()) history_.save(options_.history_path);
  if (trim(text).empty()) {
    show_prompt();
    return;
  }
  state_ = State::kRunning;
  input_id_ = next_id_++;
  int id = input_id_;
  std::string source = text + "\n";
  post([id, source](Host& host) { host.start_input(id, source); });
}

void Console::interrupt_running() {
  auto now = SteadyClock::now();
  int id = input_id_;
  if (interrupted_once_ && now - first_interrupt_ < kDetachWindow) {
    // Second Ctrl-C: leave the statement running and give the prompt back.
    post([id](Host& host) { host.detach(id); });
    show_prompt();
    return;
  }
  interrupted_once_ = true;
  first_interrupt_ = now;
  interrupt_time_.store(std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count());
  interrupt_flag_.store(true);
  post([id](Host& host) { host.interrupt(id); });
}

void Console::handle_key(const editor::Key& key) {
  if (state_ == State::kRunning) {
    if (key.kind == editor::KeyKind::kCtrl && key.text == "c") interrupt_running();
    else typeahead_.push_back(key);
    return;
  }
  if (state_ != State::kPrompt) return;
  using Action = editor::LineEditor::Action;
  Action action = editor_.handle(key);
  switch (action) {
    case Action::kNone:
      return;
    case Action::kRedraw:
      if (batching_) needs_redraw_ = true;
      else redraw();
      return;
    case Action::kBell:
      write("\a");
      return;
    case Action::kSubmit: {
      std::string text = editor_.take_submitted();
      editor_.set_text(text, text.size());
      finish_area();
      submit(text);
      return;
    }
    case Action::kEof:
      finish_area();
      state_ = State::kExiting;
      post([](Host& host) { host.quit(); });
      return;
    case Action::kInterrupt:
      // The line (or block) stays on screen marked ^C; a new prompt follows.
      finish_area("^C");
      show_prompt();
      return;
    case Action::kClearScreen:
      write("\x1b[H\x1b[2J");
      area_cursor_row_ = 0;
      redraw();
      return;
    case Action::kComplete: {
      int id = ++completion_id_;
      completion_text_ = editor_.text();
      std::string word = editor::completion_word(editor_.text(), editor_.cursor());
      post([id, word](Host& host) { host.complete_request(id, word); });
      return;
    }
  }
}

void Console::handle_plain_input(std::string_view bytes) {
  plain_partial_.append(bytes);
  std::size_t nl;
  while ((nl = plain_partial_.find('\n')) != std::string::npos) {
    std::string line = plain_partial_.substr(0, nl);
    plain_partial_.erase(0, nl + 1);
    if (state_ != State::kPrompt) {
      plain_lines_.push_back(line + "\n");
      continue;
    }
    at_line_start_ = true;
    plain_block_ += line + "\n";
    if (editor::is_complete_input(plain_block_.substr(0, plain_block_.size() - 1))) {
      std::string block = plain_block_;
      plain_block_.clear();
      while (!block.empty() && (block.back() == '\n' || block.back() == ' ')) block.pop_back();
      prompt_shown_ = false;
      submit(block);
    } else {
      write("... ");
    }
  }
}

void Console::handle_input(std::string_view bytes) {
  if (!options_.editor) {
    handle_plain_input(bytes);
    return;
  }
  decoder_.feed(bytes);
  batching_ = true;
  while (auto key = decoder_.next()) handle_key(*key);
  batching_ = false;
  if (needs_redraw_ && prompt_shown_) redraw();
  needs_redraw_ = false;
}

void Console::handle_signal() {
  struct signalfd_siginfo info;
  while (::read(signals_, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
    if (info.ssi_signo == SIGWINCH) {
      update_columns();
      if (prompt_shown_ && options_.editor) redraw();
      continue;
    }
    if (info.ssi_signo == SIGTERM || info.ssi_signo == SIGHUP) {
      // kill(1) or a closed terminal: leave as Ctrl-D does (background tasks
      // cancelled, the terminal restored), with the status a shell expects
      // of a process ended by that signal.
      if (state_ == State::kExiting) continue;
      const int status = 128 + static_cast<int>(info.ssi_signo);
      if (options_.editor && prompt_shown_) finish_area();
      state_ = State::kExiting;
      post([status](Host& host) { host.quit(status); });
      continue;
    }
    // SIGINT: from the terminal in plain mode, from kill(1) in both.
    if (state_ == State::kRunning) {
      interrupt_running();
    } else if (state_ == State::kPrompt) {
      if (options_.editor) {
        handle_key(editor::Key{editor::KeyKind::kCtrl, "c"});
      } else {
        plain_block_.clear();
        write("\nKeyboardInterrupt\n");
        show_prompt();
      }
    }
  }
}

void Console::handle_events() {
  for (auto& e : inbox_.take()) {
    switch (e.kind) {
      case ConsoleEvent::Kind::kInputDone:
        if (state_ == State::kRunning && e.request == input_id_) show_prompt();
        break;
      case ConsoleEvent::Kind::kCompletion:
        if (state_ != State::kPrompt || e.request != completion_id_ || editor_.text() != completion_text_) break;
        {
          std::vector<std::string> listing = editor_.apply_completion(e.items);
          if (!listing.empty()) {
            std::string text;
            for (const auto& item : listing) text += item + "  ";
            text.back() = '\n';
            print_output(text);
          } else if (e.items.empty()) {
            write("\a");
          } else {
            redraw();
          }
        }
        break;
      case ConsoleEvent::Kind::kExit:
        exit_status_ = e.status;
        state_ = State::kDone;
        break;
    }
  }
}

void Console::run() {
  if (!options_.history_path.empty()) history_.load(options_.history_path);
  update_columns();
  int ep = ::epoll_create1(EPOLL_CLOEXEC);
  auto add = [ep](int fd) {
    struct epoll_event ev;
    std::memset(&ev, 0, sizeof ev);
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    ::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
  };
  add(STDIN_FILENO);
  add(output_);
  add(inbox_.fd());
  add(signals_);
  while (state_ != State::kDone) {
    struct epoll_event events[8];
    int n = ::epoll_wait(ep, events, 8, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    bool input = false, inbox = false, signal = false;
    for (int i = 0; i < n; ++i) {
      if (events[i].data.fd == STDIN_FILENO) input = true;
      if (events[i].data.fd == inbox_.fd()) inbox = true;
      if (events[i].data.fd == signals_) signal = true;
    }
    // Output first: what an input printed comes before the prompt after it.
    drain_output();
    if (inbox) handle_events();
    if (signal) handle_signal();
    if (input && stdin_open_) {
      char buf[4096];
      ssize_t got = ::read(STDIN_FILENO, buf, sizeof buf);
      if (got > 0) {
        handle_input(std::string_view(buf, static_cast<std::size_t>(got)));
      } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
        // End of input (Ctrl-D in the plain console, or the terminal closed).
        stdin_open_ = false;
        ::epoll_ctl(ep, EPOLL_CTL_DEL, STDIN_FILENO, nullptr);
        if (state_ == State::kPrompt || state_ == State::kRunning) {
          if (!options_.editor && !at_line_start_) write("\n");
          if (state_ == State::kPrompt) write("\n");
          state_ = State::kExiting;
          post([](Host& host) { host.quit(); });
        }
      }
    }
  }
  drain_output();
  if (!options_.history_path.empty()) history_.save(options_.history_path);
  ::close(ep);
}

// The terminal's settings while the console runs, restored on the way out.
class TerminalMode {
 public:
  explicit TerminalMode(bool raw) {
    if (!raw || ::tcgetattr(STDIN_FILENO, &saved_) != 0) return;
    struct termios t = saved_;
    t.c_iflag &= ~static_cast<tcflag_t>(BRKINT | ICRNL | INPCK | ISTRIP | IXON);
    t.c_lflag &= ~static_cast<tcflag_t>(ECHO | ICANON | IEXTEN | ISIG);
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    // OPOST stays on: output "\n" is "\r\n" on the terminal, as in cooked mode.
    active_ = ::tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0;
  }
  ~TerminalMode() {
    if (active_) ::tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
  }
  TerminalMode(const TerminalMode&) = delete;
  TerminalMode& operator=(const TerminalMode&) = delete;

 private:
  struct termios saved_;
  bool active_ = false;
};

// fds 1 and 2 point at a pipe the console reads while it runs.
class OutputCapture {
 public:
  OutputCapture() {
    flush_stdio();
    saved_out_ = ::dup(STDOUT_FILENO);
    saved_err_ = ::dup(STDERR_FILENO);
    int p[2];
    if (saved_out_ < 0 || saved_err_ < 0 || ::pipe2(p, O_CLOEXEC) != 0) {
      throw std::runtime_error(std::string("repl: console output pipe: ") + std::strerror(errno));
    }
    ::fcntl(saved_out_, F_SETFD, FD_CLOEXEC);
    ::fcntl(saved_err_, F_SETFD, FD_CLOEXEC);
    ::fcntl(p[0], F_SETFL, O_NONBLOCK);
    ::fcntl(p[0], F_SETPIPE_SZ, 1 << 20);
    read_end_ = p[0];
    ::dup2(p[1], STDOUT_FILENO);
    ::dup2(p[1], STDERR_FILENO);
    ::close(p[1]);
    // A background print() must reach the console when it is made.
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
  }
  ~OutputCapture() {
    flush_stdio();
    ::dup2(saved_out_, STDOUT_FILENO);
    ::dup2(saved_err_, STDERR_FILENO);
    ::close(saved_out_);
    ::close(saved_err_);
    ::close(read_end_);
  }
  OutputCapture(const OutputCapture&) = delete;
  OutputCapture& operator=(const OutputCapture&) = delete;
  int terminal() const { return saved_out_; }
  int read_end() const { return read_end_; }

 private:
  int saved_out_ = -1;
  int saved_err_ = -1;
  int read_end_ = -1;
};

// SIGINT, SIGWINCH, SIGTERM and SIGHUP reach the console thread's signalfd
// only (a SIGTERM's default action would leave the terminal in raw mode).
class SignalRoute {
 public:
  SignalRoute() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGWINCH);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    ::pthread_sigmask(SIG_BLOCK, &set, &saved_);
    fd_ = ::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (fd_ < 0) throw std::runtime_error(std::string("repl: signalfd: ") + std::strerror(errno));
  }
  ~SignalRoute() {
    ::close(fd_);
    ::pthread_sigmask(SIG_SETMASK, &saved_, nullptr);
  }
  SignalRoute(const SignalRoute&) = delete;
  SignalRoute& operator=(const SignalRoute&) = delete;
  int fd() const { return fd_; }

 private:
  sigset_t saved_;
  int fd_ = -1;
};

std::string banner(const ConsoleOptions& options) {
  std::string text = std::string("aio ") + kVersion +
                     " REPL: asyncio's Python on aio's event loop (epoll, one thread).\n"
                     "await works at top level; background tasks keep running while you type.\n"
                     ".help lists the commands and keys, help(name) the aio API of a name.\n";
  text += options.editor && options.colour ? "\x1b[1;35m>>> \x1b[0m" : ">>> ";
  text += options.editor && options.colour ? editor::highlight_python("import asyncio") : "import asyncio";
  text += "\n";
  return text;
}

}  // namespace

ConsoleOptions console_options_from_environment() {
  ConsoleOptions options;
  const char* term = std::getenv("TERM");
  options.editor = term != nullptr && *term != '\0' && std::string(term) != "dumb";
  const char* no_colour = std::getenv("NO_COLOR");
  options.colour = options.editor && (no_colour == nullptr || *no_colour == '\0');
  const char* history = std::getenv("AIO_REPL_HISTORY");
  const char* home = std::getenv("HOME");
  if (history != nullptr) options.history_path = history;
  else if (home != nullptr && *home != '\0') options.history_path = std::string(home) + "/.aio_repl_history";
  if (options.history_path == "/dev/null") options.history_path.clear();
  return options;
}

std::vector<std::string> complete(Interpreter& in, const std::string& word) {
  std::vector<std::string> names;
  std::size_t dot = word.rfind('.');
  if (dot == std::string::npos) {
    for (auto& [name, value] : in.main_globals) names.push_back(name);
    for (auto& [name, value] : in.builtins) names.push_back(name);
    for (const auto& k : editor::python_keywords()) names.push_back(k);
    return editor::filter_completions(names, word);
  }
  // Only a dotted name is looked up (never called): a.b.c.
  std::string base = word.substr(0, dot);
  std::vector<std::string> parts;
  std::stringstream split(base);
  for (std::string part; std::getline(split, part, '.');) {
    if (part.empty()) return {};
    parts.push_back(part);
  }
  Value obj;
  auto global = in.main_globals.find(parts[0]);
  if (global != in.main_globals.end()) obj = global->second;
  else if (auto b = in.builtins.find(parts[0]); b != in.builtins.end()) obj = b->second;
  else return {};
  for (std::size_t i = 1; i < parts.size(); ++i) {
    if (!in.hasattr(obj, parts[i])) return {};
    obj = in.getattr(obj, parts[i]);
  }
  auto add = [&names](const AttrMap& attrs) {
    for (auto& [name, value] : attrs) names.push_back(name);
  };
  if (obj.is_obj()) {
    if (auto* m = dynamic_cast<ModuleObj*>(obj.obj())) add(m->attrs);
    if (auto* inst = dynamic_cast<InstanceObj*>(obj.obj())) add(inst->attrs);
    if (auto* type = dynamic_cast<TypeObj*>(obj.obj())) {
      for (TypeObj* t = type; t != nullptr; t = t->base) add(t->attrs);
    }
  }
  for (TypeObj* t = in.type_of(obj); t != nullptr; t = t->base) add(t->attrs);
  std::string attr_prefix = word.substr(dot + 1);
  std::vector<std::string> out;
  for (const auto& name : editor::filter_completions(names, attr_prefix)) {
    // Private names only when asked for.
    if (name.rfind("_", 0) == 0 && attr_prefix.rfind("_", 0) != 0) continue;
    out.push_back(base + "." + name);
  }
  return out;
}

int run_console(Interpreter& in, const ConsoleOptions& options) {
  SignalRoute signals;
  OutputCapture capture;
  TerminalMode mode(options.editor);
  if (options.editor) write_all(capture.terminal(), "\x1b[?2004h");  // bracketed paste on
  write_all(capture.terminal(), banner(options));
  in.in_asyncio_run = true;  // asyncio.run() is refused: a loop runs
  in.console_owns_stdin = true;
  // A loop of our own rather than an aio::Runner: Runner::close() waits for
  // every task without bound, and the exit's wait is bounded (Host::main).
  aio::EventLoop::Options loop_options;
  loop_options.virtual_time = in.options.virtual_time;
  int status = 0;
  {
    Inbox inbox;
    aio::EventLoop loop(loop_options);
    Host host(in, loop, inbox);
    aio::Task<int> main_task = aio::create_task(loop, host.main());
    host.set_main_task(main_task);
    // The reminder line above is what it does.
    host.start_input(0, "import asyncio\n");
    Console console(options, in, loop, host, inbox, capture.terminal(), capture.read_end(), signals.fd());
    std::thread thread([&console] { console.run(); });
    // Input 0 reports done before the console's first prompt: the console
    // starts in the running state, waiting for it.
    try {
      status = loop.run_until_complete(main_task);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "repl: the console's loop failed: %s\n", e.what());
      ConsoleEvent exit;
      exit.kind = ConsoleEvent::Kind::kExit;
      exit.status = 1;
      inbox.post(std::move(exit));
      status = 1;
    }
    thread.join();
    loop.shutdown_default_executor();
    // Tasks that outlived the grace are destroyed with the loop, each reported
    // ("Task was destroyed but it is pending!").
    if (loop.all_tasks().empty()) loop.close();
  }
  if (options.editor) write_all(capture.terminal(), "\x1b[?2004l");
  return status;
}

}  // namespace repl
