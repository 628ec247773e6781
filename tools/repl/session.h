// repl::Session: the seam between an input source (a script, piped stdin) and
// the interpreter. The interactive console (console.h) runs inputs its own way,
// on a loop that keeps running between them.
//
// A Session owns one aio::Runner (one event loop kept across inputs, as
// `python -m asyncio` keeps one) and runs each input's top-level statements as
// aio tasks on it: top-level await works, an expression statement's value is
// echoed with repr(), and an uncaught exception prints its traceback and the
// session goes on with the next input. Background tasks run while an input
// runs (each statement is a run_until_complete), not between inputs.
//
// Not thread-safe: one thread drives a Session.
#ifndef AIO_TOOLS_REPL_SESSION_H_
#define AIO_TOOLS_REPL_SESSION_H_

#include <memory>
#include <string>

#include "tools/repl/interpreter.h"

namespace repl {

// Formats a syntax error as CPython prints it (file, line, source, caret).
std::string format_syntax_error(const struct SyntaxError& error, const std::string& filename,
                                const std::string& source);

class Session {
 public:
  explicit Session(Interpreter& interpreter);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Parses and runs `source` (one or more statements). Returns false when the
  // input failed (syntax error or uncaught exception, already reported on
  // stderr). A SystemExit sets exit_code() and stops the input.
  bool run_source(const std::string& source, const std::string& filename = "<stdin>");

  // Set once the program called sys.exit()/exit(): the status to exit with.
  std::optional<int> exit_code() const { return exit_code_; }

  // Cancels the tasks still pending and closes the loop. Idempotent.
  void close();

 private:
  Interpreter& in_;
  std::unique_ptr<aio::Runner> runner_;
  std::optional<int> exit_code_;
};

// Reports an uncaught exception as python3 does (stderr) and returns the
// process exit status it stands for (SystemExit's code, else 1).
int report_uncaught(Interpreter& in, const Value& exc);

}  // namespace repl

#endif  // AIO_TOOLS_REPL_SESSION_H_
