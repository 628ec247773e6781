// The interactive console: `./bazelw run //tools/repl` on a terminal.
//
// Two threads (docs/design/console.md). The calling thread runs the aio loop
// and the interpreter, and keeps running it between inputs, so background
// tasks and servers go on while the user types. A console thread owns the
// terminal: it waits (epoll) on stdin, a signalfd for SIGINT/SIGWINCH, an
// eventfd-backed queue of events from the loop, and a pipe that fds 1 and 2
// are redirected to while the console runs. Everything the program prints
// (print, tracebacks, "Task exception was never retrieved", a child process's
// output) therefore reaches the console thread, which prints it above the
// prompt and redraws the prompt and the partly typed line intact.
//
// The interpreter's values never cross threads: the console thread handles
// bytes and lines only and hands inputs, Ctrl-C and completion requests to the
// loop with call_soon_threadsafe.
#ifndef AIO_TOOLS_REPL_CONSOLE_H_
#define AIO_TOOLS_REPL_CONSOLE_H_

#include <string>
#include <vector>

#include "tools/repl/interpreter.h"

namespace repl {

struct ConsoleOptions {
  ConsoleOptions() {}
  // The line editor (raw mode, redraws); false: the plain console (cooked
  // terminal, prompts, no escape sequences), for TERM=dumb.
  bool editor = true;
  // Syntax colouring of the input and coloured tracebacks.
  bool colour = true;
  // Where history is kept; empty: no history file.
  std::string history_path;
};

// What the environment asks for: the plain console when TERM is dumb or
// unset, no colour with NO_COLOR or the plain console, history in
// $AIO_REPL_HISTORY or ~/.aio_repl_history ("/dev/null" disables it).
ConsoleOptions console_options_from_environment();

// Runs the console on this thread's (new) aio loop until Ctrl-D, exit() or
// .quit; then cancels the tasks left, waits for them (bounded, reported) and
// returns the exit status. stdin and stdout must be terminals. Not reentrant.
int run_console(Interpreter& in, const ConsoleOptions& options);

// The console's completion: names (globals, builtins, keywords) starting with
// `word`, or for "a.b.pre" the attributes of a.b starting with "pre" (as full
// "a.b.name" words). Only names are looked up: nothing is called. Loop thread.
std::vector<std::string> complete(Interpreter& in, const std::string& word);

}  // namespace repl

#endif  // AIO_TOOLS_REPL_CONSOLE_H_
