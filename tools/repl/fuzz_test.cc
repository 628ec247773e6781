// Fuzz-style robustness: random bytes, random token soups and every
// truncation of the corpus programs go through the lexer, the parser and (when
// they parse) the interpreter. Each must end in a clean SyntaxError or Python
// exception: no crash, no hang (a statement budget and virtual time bound every
// run), no sanitizer report.
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include "gtest/gtest.h"
#include "tools/repl/interpreter.h"
#include "tools/repl/lexer.h"
#include "tools/repl/parser.h"

namespace repl {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Parses and, if asked, runs `source`. Returns "syntax", "exception" or "ok".
std::string try_program(const std::string& source, bool execute) {
  std::shared_ptr<Program> program;
  try {
    program = parse_program(source, "fuzz.py", ParseOptions());
  } catch (const SyntaxError& e) {
    EXPECT_FALSE(e.message.empty());
    EXPECT_TRUE(e.kind == "SyntaxError" || e.kind == "IndentationError") << e.kind;
    return "syntax";
  }
  if (!execute) return "ok";
  Interpreter::Options options;
  options.virtual_time = true;
  options.max_statements = 20000;
  Interpreter in(options);
  testing::internal::CaptureStdout();
  testing::internal::CaptureStderr();
  std::string outcome = "ok";
  try {
    in.run_module(program);
  } catch (const PyError& e) {
    EXPECT_TRUE(in.type_of(e.exc)->is_exception);
    outcome = "exception";
  } catch (const PyCancelled&) {
    outcome = "exception";
  } catch (const std::exception& e) {
    ADD_FAILURE() << "not a Python exception: " << e.what();
  }
  testing::internal::GetCapturedStdout();
  testing::internal::GetCapturedStderr();
  return outcome;
}

const char* const kCorpus[] = {"cancellation", "errors", "gather", "language", "queues", "sync_primitives",
                               "taskgroup", "tasks", "timeouts", "wait_as_completed", "streams_echo", "subprocesses"};

TEST(Fuzz, TruncatedCorpusPrograms) {
  int runs = 0;
  for (const char* name : kCorpus) {
    std::string source = read_file(std::string("tools/repl/testdata/") + name + ".py");
    ASSERT_FALSE(source.empty()) << name;
    // Programs that start servers or children are parsed, not run, when cut:
    // a cut program may leave a child running until the test ends.
    bool execute = std::string(name) != "subprocesses" && std::string(name) != "streams_echo";
    std::size_t step = std::max<std::size_t>(1, source.size() / 60);
    for (std::size_t cut = 0; cut < source.size(); cut += step) {
      try_program(source.substr(0, cut), execute);
      ++runs;
    }
  }
  EXPECT_GT(runs, 500);
}

TEST(Fuzz, RandomBytesAndTokenSoup) {
  std::mt19937 rng(12345);
  const char* const kPieces[] = {"async ", "def ", "await ", "(", ")", "[", "]", "{", "}", ":", "\n", "    ", "x", "y",
                                 "=", "+", "*", "**", "1", "2.5", "'s'", "b'b'", "f'{x}'", "\"\"\"", "if ", "else",
                                 "for ", " in ", "while ", "try:", "except* ", "finally", "return ", "lambda ", ",",
                                 ".", "asyncio", "import ", "with ", "class ", "not ", "and ", "or ", "-", "#", "\\",
                                 "yield ", "del ", "raise ", "from ", "global ", "nonlocal ", "print", "range", "!"};
  int parsed = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string source;
    if (i % 3 == 0) {
      int n = static_cast<int>(rng() % 80);
      for (int k = 0; k < n; ++k) source += static_cast<char>(rng() % 256);
    } else {
      int n = static_cast<int>(rng() % 40);
      for (int k = 0; k < n; ++k) source += kPieces[rng() % (sizeof(kPieces) / sizeof(kPieces[0]))];
    }
    if (try_program(source, true) != "syntax") ++parsed;
  }
  EXPECT_GT(parsed, 10);
}

TEST(Fuzz, MutatedCorpusPrograms) {
  std::mt19937 rng(777);
  for (const char* name : {"language", "errors", "tasks", "taskgroup"}) {
    std::string source = read_file(std::string("tools/repl/testdata/") + name + ".py");
    for (int i = 0; i < 60; ++i) {
      std::string mutated = source;
      for (int k = 0; k < 3; ++k) {
        std::size_t at = rng() % mutated.size();
        switch (rng() % 3) {
          case 0: mutated.erase(at, 1 + rng() % 5); break;
          case 1: mutated.insert(at, 1, "()[]:,=\n x"[rng() % 11]); break;
          default: std::swap(mutated[at], mutated[rng() % mutated.size()]);
        }
      }
      try_program(mutated, true);
    }
  }
}

}  // namespace
}  // namespace repl
