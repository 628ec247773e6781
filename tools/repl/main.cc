// The aio REPL's command line (`bazel run //tools/repl -- [options] [prog.py [args]]`).
//
//   repl prog.py args...   runs the file as `python3 prog.py` would
//   repl -c 'code'         runs the code as `python3 -c` would
//   repl < statements      (stdin not a terminal) runs each statement as
//                          `python -m asyncio` does: top-level await, values echoed
//   repl                   (stdin and stdout terminals) the interactive console
//                          (tools/repl/console.h): line editing, background tasks
//                          running while you type, output above the prompt
// --virtual-time runs the loop on virtual time (async/testing.h's clock), so
// programs that sleep finish at once; the golden tests use it.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include "tools/repl/console.h"
#include "tools/repl/inspect_client.h"
#include "tools/repl/interpreter.h"
#include "tools/repl/lexer.h"
#include "tools/repl/parser.h"
#include "tools/repl/session.h"

namespace {

int usage() {
  std::fprintf(stderr, "usage: repl [--virtual-time] [-c code | file.py] [args...]\n");
  return 2;
}

int run_program(repl::Interpreter& in, const std::string& source, const std::string& filename) {
  std::shared_ptr<repl::Program> program;
  try {
    program = repl::parse_program(source, filename, repl::ParseOptions());
  } catch (const repl::SyntaxError& e) {
    std::string text = repl::format_syntax_error(e, filename, source);
    std::fwrite(text.data(), 1, text.size(), stderr);
    return 1;
  }
  try {
    in.run_module(program);
  } catch (...) {
    return repl::report_uncaught(in, in.exception_from(std::current_exception()));
  }
  return 0;
}

// ---- the interactive console (issue #14) ----
// Stdin and stdout are terminals and no program was given: the console.
bool wants_console() { return isatty(STDIN_FILENO) && isatty(STDOUT_FILENO); }

int run_interactive(repl::Interpreter& in) {
  try {
    return repl::run_console(in, repl::console_options_from_environment());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "repl: %s\n", e.what());
    return 1;
  }
}
// ---- end of the interactive console ----

}  // namespace

int main(int argc, char** argv) {
  // --- ps PID / pstree PID: another aio process's tasks (tools/repl/inspect_client.h) ---
  if (argc >= 2 && (std::string(argv[1]) == "ps" || std::string(argv[1]) == "pstree")) {
    return repl::run_inspect_command(argv[1], std::vector<std::string>(argv + 2, argv + argc), std::cout, std::cerr);
  }
  // --- end of ps / pstree ---
  repl::Interpreter::Options options;
  int i = 1;
  std::string code;
  bool have_code = false;
  for (; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--virtual-time") options.virtual_time = true;
    else if (arg == "-c" && i + 1 < argc) { code = argv[++i]; have_code = true; ++i; break; }
    else if (arg == "-h" || arg == "--help") { usage(); return 0; }
    else if (arg.size() > 1 && arg[0] == '-' && arg != "-") return usage();
    else break;
  }
  int status = 0;
  {
    repl::Interpreter in(options);
    repl::Value argv_list = in.list_value();
    if (have_code) {
      argv_list.as<repl::ListObj>()->v.push_back(in.str_value("-c"));
    }
    for (int k = i; k < argc; ++k) argv_list.as<repl::ListObj>()->v.push_back(in.str_value(argv[k]));
    in.getattr(in.modules["sys"], "argv");
    in.modules["sys"].as<repl::ModuleObj>()->attrs["argv"] = argv_list;
    if (have_code) {
      status = run_program(in, code, "<string>");
    } else if (i < argc && std::string(argv[i]) != "-") {
      // `bazel run` starts us in the runfiles tree: relative paths are the user's.
      std::string path = argv[i];
      const char* user_dir = std::getenv("BUILD_WORKING_DIRECTORY");
      if (user_dir != nullptr && !path.empty() && path[0] != '/') path = std::string(user_dir) + "/" + path;
      std::ifstream file(path, std::ios::binary);
      if (!file) {
        std::fprintf(stderr, "repl: can't open file '%s': [Errno %d] %s\n", argv[i], errno, std::strerror(errno));
        return 2;
      }
      std::stringstream text;
      text << file.rdbuf();
      status = run_program(in, text.str(), argv[i]);
    } else if (wants_console()) {
      status = run_interactive(in);
    } else {
      std::stringstream text;
      text << std::cin.rdbuf();
      repl::Session session(in);
      bool ok = session.run_source(text.str(), "<stdin>");
      session.close();
      status = session.exit_code() ? *session.exit_code() : 0;
      (void)ok;
    }
    std::fflush(stdout);
  }
  return status;
}
