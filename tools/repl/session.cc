// Session: each statement of an input becomes one aio task on the session's
// Runner; its value is echoed, its exception reported, and the session goes on.
#include "tools/repl/session.h"

#include <cstdio>

#include "tools/repl/lexer.h"
#include "tools/repl/parser.h"

namespace repl {

std::string format_syntax_error(const SyntaxError& error, const std::string& filename, const std::string& source) {
  std::string out = "  File \"" + filename + "\", line " + std::to_string(error.line) + "\n";
  std::size_t start = 0;
  for (int line = 1; line < error.line && start != std::string::npos; ++line) {
    start = source.find('\n', start);
    if (start != std::string::npos) ++start;
  }
  if (start != std::string::npos && start <= source.size()) {
    std::size_t end = source.find('\n', start);
    std::string text = source.substr(start, end == std::string::npos ? std::string::npos : end - start);
    std::size_t indent = text.find_first_not_of(" \t");
    if (indent != std::string::npos) {
      std::string stripped = text.substr(indent);
      while (!stripped.empty() && (stripped.back() == ' ' || stripped.back() == '\r')) stripped.pop_back();
      out += "    " + stripped + "\n";
      if (error.column > 0) {
        int caret = error.column - 1 - static_cast<int>(indent);
        if (caret < 0) caret = 0;
        if (caret > static_cast<int>(stripped.size())) caret = static_cast<int>(stripped.size());
        out += "    " + std::string(caret, ' ') + "^\n";
      }
    }
  }
  out += error.kind + ": " + error.message + "\n";
  return out;
}

int report_uncaught(Interpreter& in, const Value& exc) {
  std::fflush(stdout);
  if (in.isinstance(exc, in.exception_type("SystemExit"))) {
    auto& args = exc.as<InstanceObj>()->args.as<TupleObj>()->v;
    if (args.empty() || args[0].is_none()) return 0;
    if (args[0].is_int()) return static_cast<int>(args[0].as_int());
    std::string text = in.str(args[0]) + "\n";
    std::fwrite(text.data(), 1, text.size(), stderr);
    return 1;
  }
  std::string text = in.format_exception(exc);
  std::fwrite(text.data(), 1, text.size(), stderr);
  std::fflush(stderr);
  return 1;
}

Session::Session(Interpreter& interpreter) : in_(interpreter) {
  aio::RunOptions options;
  options.virtual_time = in_.options.virtual_time;
  runner_ = std::make_unique<aio::Runner>(options);
}

Session::~Session() { close(); }

void Session::close() {
  if (runner_) {
    runner_->close();
    runner_.reset();
  }
}

bool Session::run_source(const std::string& source, const std::string& filename) {
  ParseOptions options;
  options.top_level_await = true;
  std::shared_ptr<Program> program;
  try {
    program = parse_program(source, filename, options);
  } catch (const SyntaxError& e) {
    std::fflush(stdout);
    std::string text = format_syntax_error(e, filename, source);
    std::fwrite(text.data(), 1, text.size(), stderr);
    return false;
  }
  bool ok = true;
  for (std::size_t i = 0; i < program->module->body.size(); ++i) {
    in_.in_asyncio_run = true;
    try {
      Value v = runner_->run(in_.run_statement(program, i));
      in_.in_asyncio_run = false;
      if (!v.is_undef() && !v.is_none()) {
        std::string shown = in_.repr(v) + "\n";
        std::fwrite(shown.data(), 1, shown.size(), stdout);
      }
    } catch (...) {
      in_.in_asyncio_run = false;
      Value exc = in_.exception_from(std::current_exception());
      int code = report_uncaught(in_, exc);
      ok = false;
      if (in_.isinstance(exc, in_.exception_type("SystemExit"))) {
        exit_code_ = code;
        return false;
      }
    }
  }
  return ok;
}

}  // namespace repl
