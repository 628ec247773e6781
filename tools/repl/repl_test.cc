// Unit tests of the lexer, the parser and the interpreter, above all their
// error paths: every error is a clean Python exception or SyntaxError with
// CPython's message and location, never a crash.
#include <string>

#include "gtest/gtest.h"
#include "tools/repl/interpreter.h"
#include "tools/repl/lexer.h"
#include "tools/repl/parser.h"
#include "tools/repl/session.h"

namespace repl {
namespace {

struct Outcome {
  std::string out;
  std::string err;
  int status = 0;
};

// Runs `source` as a script (virtual time), capturing stdout and stderr.
Outcome run_script(const std::string& source) {
  Outcome r;
  Interpreter::Options options;
  options.virtual_time = true;
  Interpreter in(options);
  testing::internal::CaptureStdout();
  testing::internal::CaptureStderr();
  try {
    auto program = parse_program(source, "test.py", ParseOptions());
    in.run_module(program);
  } catch (const SyntaxError& e) {
    std::string text = format_syntax_error(e, "test.py", source);
    std::fputs(text.c_str(), stderr);
    r.status = 1;
  } catch (...) {
    r.status = report_uncaught(in, in.exception_from(std::current_exception()));
  }
  std::fflush(stdout);
  r.out = testing::internal::GetCapturedStdout();
  r.err = testing::internal::GetCapturedStderr();
  return r;
}

// Runs `source` as piped stdin (top-level await, values echoed).
Outcome run_session(const std::string& source) {
  Outcome r;
  Interpreter::Options options;
  options.virtual_time = true;
  Interpreter in(options);
  testing::internal::CaptureStdout();
  testing::internal::CaptureStderr();
  {
    Session session(in);
    r.status = session.run_source(source) ? 0 : 1;
  }
  std::fflush(stdout);
  r.out = testing::internal::GetCapturedStdout();
  r.err = testing::internal::GetCapturedStderr();
  return r;
}

SyntaxError syntax_error_of(const std::string& source, bool top_level_await = false) {
  ParseOptions options;
  options.top_level_await = top_level_await;
  try {
    parse_program(source, "test.py", options);
  } catch (const SyntaxError& e) {
    return e;
  }
  ADD_FAILURE() << "no SyntaxError for: " << source;
  return SyntaxError("none", "none", 0, 0);
}

TEST(Lexer, IndentationBecomesIndentAndDedent) {
  std::vector<Token> tokens = tokenize("if x:\n    y\n\n    # comment\n    z\nw\n");
  std::string kinds;
  for (const Token& t : tokens) {
    switch (t.kind) {
      case Tok::kIndent: kinds += "I"; break;
      case Tok::kDedent: kinds += "D"; break;
      case Tok::kNewline: kinds += "N"; break;
      case Tok::kEnd: kinds += "E"; break;
      default: kinds += "t";
    }
  }
  EXPECT_EQ(kinds, "ttt" "N" "I" "tN" "tN" "D" "tN" "E");
}

TEST(Lexer, StringsOfEveryKind) {
  std::vector<Token> t = tokenize("'a\\n' \"b\" '''c\nd''' b'\\x00e' r'\\n' f'{x}'\n");
  ASSERT_GE(t.size(), 6u);
  EXPECT_EQ(t[0].text, "a\n");
  EXPECT_EQ(t[1].text, "b");
  EXPECT_EQ(t[2].text, "c\nd");
  EXPECT_TRUE(t[3].is_bytes);
  EXPECT_EQ(t[3].text, std::string("\0e", 2));
  EXPECT_EQ(t[4].text, "\\n");
  EXPECT_TRUE(t[5].is_fstring);
  EXPECT_EQ(t[5].text, "{x}");
}

// A syntax error the lexer or the parser must report exactly as CPython does.
struct SyntaxErrorCase {
  const char* source;
  const char* kind;
  const char* message;
  int line;
  int column;
};

void expect_syntax_error(const SyntaxErrorCase& c) {
  SyntaxError e = syntax_error_of(c.source);
  EXPECT_EQ(e.kind, c.kind) << c.source;
  EXPECT_EQ(e.message, c.message) << c.source;
  EXPECT_EQ(e.line, c.line) << c.source;
  EXPECT_EQ(e.column, c.column) << c.source;
}

TEST(Lexer, Errors) {
  const SyntaxErrorCase cases[] = {
      {"s = 'abc\n", "SyntaxError", "unterminated string literal (detected at line 1)", 1, 5},
      {"x = \"\"\"abc\n", "SyntaxError", "unterminated triple-quoted string literal (detected at line 2)", 1, 5},
      {"x = (1 +\n", "SyntaxError", "'(' was never closed", 1, 5},
      {"print(1))\n", "SyntaxError", "unmatched ')'", 1, 9},
      {"x = 1\n  y = 2\n", "IndentationError", "unexpected indent", 2, 3},
      {"if x:\n    a\n  b\n", "IndentationError", "unindent does not match any outer indentation level", 3, 3},
      {"x = $\n", "SyntaxError", "invalid character '$'", 1, 5},
      {"b = b'\xc3\xa9'\n", "SyntaxError", "bytes can only contain ASCII literal characters", 1, 5},
      {"(]\n", "SyntaxError", "closing parenthesis ']' does not match opening parenthesis '('", 1, 2},
      {"x = 1j\n", "SyntaxError", "complex numbers are not supported by the aio REPL", 1, 5},
  };
  for (const SyntaxErrorCase& c : cases) expect_syntax_error(c);
}

TEST(Parser, ErrorsAsCPythonReportsThem) {
  const SyntaxErrorCase cases[] = {
      {"if x\n  pass\n", "SyntaxError", "expected ':'", 1, 5},
      {"if True:\npass\n", "IndentationError", "expected an indented block after 'if' statement on line 1", 2, 1},
      {"5 = x\n", "SyntaxError", "cannot assign to literal here. Maybe you meant '==' instead of '='?", 1, 1},
      {"f() = 3\n", "SyntaxError", "cannot assign to function call here. Maybe you meant '==' instead of '='?", 1, 1},
      {"await x\n", "SyntaxError", "'await' outside function", 1, 1},
      {"def f():\n    await x\n", "SyntaxError", "'await' outside async function", 2, 5},
      {"return 5\n", "SyntaxError", "'return' outside function", 1, 1},
      {"a b\n", "SyntaxError", "invalid syntax", 1, 3},
      {"break\n", "SyntaxError", "'break' outside loop", 1, 1},
      {"f(x for x in y, 1)\n", "SyntaxError", "Generator expression must be parenthesized", 1, 3},
      {"def f(a=1, b): pass\n", "SyntaxError", "non-default argument follows default argument", 1, 12},
      {"f'{}'\n", "SyntaxError", "f-string: empty expression not allowed", 1, 1},
      {"x = 0777\n", "SyntaxError", "leading zeros in decimal integer literals are not permitted; use an 0o prefix for octal integers", 1, 5},
      {"def f():\n    nonlocal q\n", "SyntaxError", "no binding for nonlocal 'q' found", 2, 5},
      {"@decorator\ndef f(): pass\n", "SyntaxError", "decorators are not supported by the aio REPL", 1, 1},
      {"def g():\n    yield 1\n", "SyntaxError", "'yield' (generators) is not supported by the aio REPL", 2, 5},
      {"x = 99999999999999999999\n", "SyntaxError", "integer literal too large: the aio REPL's int is 64-bit", 1, 5},
      {"try:\n    pass\n", "SyntaxError", "expected 'except' or 'finally' block", 3, 1},
      {"async def f():\n    return [x async for x in y]\n", "SyntaxError", "asynchronous comprehension outside async function", 0, 0},
  };
  for (const SyntaxErrorCase& c : cases) {
    if (c.line != 0) expect_syntax_error(c);  // line 0: checked below
  }
  // Top-level await is accepted where python -m asyncio accepts it.
  EXPECT_NO_THROW(parse_program("await x\n", "<stdin>", [] { ParseOptions o; o.top_level_await = true; return o; }()));
}

TEST(Parser, HostileNestingIsAnErrorNotAStackOverflow) {
  SyntaxError parens = syntax_error_of(std::string(10000, '(') + "\n");
  EXPECT_EQ(parens.message, "too many nested parentheses");
  SyntaxError nots = syntax_error_of(std::string(50000, '-') + "x\n");
  EXPECT_EQ(nots.message, "too many nested parentheses or expressions");
  std::string blocks;
  for (int i = 0; i < 150; ++i) blocks += std::string(i, ' ') + "if x:\n";
  SyntaxError deep = syntax_error_of(blocks + std::string(150, ' ') + "pass\n");
  EXPECT_EQ(deep.kind, "IndentationError");
}

TEST(SyntaxErrorReport, HasFileLineSourceAndCaret) {
  SyntaxError e = syntax_error_of("x = 1\nif x\n    pass\n");
  EXPECT_EQ(format_syntax_error(e, "prog.py", "x = 1\nif x\n    pass\n"),
            "  File \"prog.py\", line 2\n    if x\n        ^\nSyntaxError: expected ':'\n");
}

TEST(Interpreter, PrintsAsCPython) {
  Outcome r = run_script(
      "print(0.1 + 0.2, 1e22, 1.5e-10, 100.0, -2.5, 3 / 4)\n"
      "print(repr('a\\'b'), repr(\"q\\\"\"), repr('\\x01\\n'), b'\\x80a', [None, True], {'a': {1: ()}})\n"
      "print((1,), (1, 2), set(), frozenset(), range(3), range(1, 9, 2), slice(1, None, None))\n"
      "print(f'{1/3:.3f} {7:>4} {\"x\":*^5} {1234567:,} {0.5:.0%} {3!r} {\"s\"!r}')\n"
      "print(ValueError('bad'), repr(KeyError('k')), repr(ValueError()), str(KeyError('k')))\n"
      "print(int, type(1.0), ValueError, type(None).__name__)\n");
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.out,
            "0.30000000000000004 1e+22 1.5e-10 100.0 -2.5 0.75\n"
            "\"a'b\" 'q\"' '\\x01\\n' b'\\x80a' [None, True] {'a': {1: ()}}\n"
            "(1,) (1, 2) set() frozenset() range(0, 3) range(1, 9, 2) slice(1, None, None)\n"
            "0.333    7 **x** 1,234,567 50% 3 's'\n"
            "bad KeyError('k') ValueError() 'k'\n"
            "<class 'int'> <class 'float'> <class 'ValueError'> NoneType\n");
}

TEST(Interpreter, TracebackHasLinesAndMessage) {
  Outcome r = run_script("def f(x):\n    return 10 // x\n\nf(0)\n");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err,
            "Traceback (most recent call last):\n"
            "  File \"test.py\", line 4, in <module>\n"
            "    f(0)\n"
            "  File \"test.py\", line 2, in f\n"
            "    return 10 // x\n"
            "ZeroDivisionError: integer division or modulo by zero\n");
}

TEST(Interpreter, ChainedExceptionsPrintBoth) {
  Outcome r = run_script("try:\n    {}['k']\nexcept KeyError as e:\n    raise ValueError('v') from e\n");
  EXPECT_NE(r.err.find("KeyError: 'k'\n\nThe above exception was the direct cause of the following exception:\n"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("ValueError: v\n"), std::string::npos);
}

TEST(Interpreter, RuntimeErrorMessages) {
  struct Case { const char* source; const char* last_line; };
  const Case cases[] = {
      {"x = 9223372036854775807\nx + 1\n", "OverflowError: integer overflow: the aio REPL's int is 64-bit"},
      {"2 ** 64\n", "OverflowError: integer overflow: the aio REPL's int is 64-bit"},
      {"-(-9223372036854775807 - 1)\n", "OverflowError: integer overflow: the aio REPL's int is 64-bit"},
      {"undefined\n", "NameError: name 'undefined' is not defined"},
      {"def f():\n    print(y)\n    y = 1\nf()\n", "UnboundLocalError: cannot access local variable 'y' where it is not associated with a value"},
      {"'a' + 1\n", "TypeError: can only concatenate str (not \"int\") to str"},
      {"1 + 'a'\n", "TypeError: unsupported operand type(s) for +: 'int' and 'str'"},
      {"[1][3]\n", "IndexError: list index out of range"},
      {"{}[1]\n", "KeyError: 1"},
      {"(1).foo\n", "AttributeError: 'int' object has no attribute 'foo'"},
      {"import asyncio\nasyncio.nothing\n", "AttributeError: module 'asyncio' has no attribute 'nothing' (not provided by the aio REPL)"},
      {"import numpy\n", "ModuleNotFoundError: No module named 'numpy' (the aio REPL has asyncio, time, random and sys)"},
      {"a, b = 1, 2, 3\n", "ValueError: too many values to unpack (expected 2)"},
      {"a, b, c = 1, 2\n", "ValueError: not enough values to unpack (expected 3, got 2)"},
      {"a, b = 5\n", "TypeError: cannot unpack non-iterable int object"},
      {"def f(a, b): pass\nf(1)\n", "TypeError: f() missing 1 required positional argument: 'b'"},
      {"def f(a): pass\nf(1, 2)\n", "TypeError: f() takes 1 positional argument but 2 were given"},
      {"def f(a): pass\nf(a=1, b=2)\n", "TypeError: f() got an unexpected keyword argument 'b'"},
      {"def f(a): pass\nf(1, a=2)\n", "TypeError: f() got multiple values for argument 'a'"},
      {"5()\n", "TypeError: 'int' object is not callable"},
      {"hash([])\n", "TypeError: unhashable type: 'list'"},
      {"raise 5\n", "TypeError: exceptions must derive from BaseException"},
      {"raise\n", "RuntimeError: No active exception to reraise"},
      {"assert False, 'why'\n", "AssertionError: why"},
      {"def r(n):\n    return r(n + 1)\nr(0)\n", "RecursionError: maximum recursion depth exceeded"},
      {"int('x1')\n", "ValueError: invalid literal for int() with base 10: 'x1'"},
      {"b'\\xff'.decode()\n", "UnicodeDecodeError: 'utf-8' codec can't decode byte 0xff in position 0: invalid start byte"},
      {"class A(int): pass\n", "TypeError: subclassing the built-in type 'int' is not supported by the aio REPL"},
      {"import asyncio\nasyncio.create_task(asyncio.sleep(0))\n", "RuntimeError: no running event loop"},
      {"import asyncio\nasyncio.run(5)\n", "ValueError: a coroutine was expected, got 5"},
      {"import asyncio\nasync def main():\n    await 5\nasyncio.run(main())\n", "TypeError: object int can't be used in 'await' expression"},
      {"import asyncio\nasync def main():\n    asyncio.run(main())\nasyncio.run(main())\n", "RuntimeError: asyncio.run() cannot be called from a running event loop"},
      {"import asyncio\nasync def main():\n    q = asyncio.Queue()\n    q.get_nowait()\nasyncio.run(main())\n", "asyncio.queues.QueueEmpty"},
  };
  for (const Case& c : cases) {
    Outcome r = run_script(c.source);
    EXPECT_EQ(r.status, 1) << c.source;
    std::string last = r.err.empty() ? "" : r.err.substr(0, r.err.size() - 1);
    last = last.substr(last.rfind('\n') + 1);
    EXPECT_EQ(last, c.last_line) << c.source << "\n" << r.err;
  }
}

TEST(Interpreter, SystemExitSetsTheStatus) {
  EXPECT_EQ(run_script("import sys\nsys.exit(3)\n").status, 3);
  EXPECT_EQ(run_script("import sys\nsys.exit()\n").status, 0);
  Outcome r = run_script("import sys\nsys.exit('bye')\n");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "bye\n");
}

TEST(Interpreter, AliasingAndIdentity) {
  Outcome r = run_script(
      "a = [1]\nb = a\nb.append(2)\nd = {'k': a}\nd['k'].append(3)\n"
      "print(a, a is b, a == [1, 2, 3], a is [1, 2, 3], d)\n"
      "x = y = []\nx += [1]\nprint(y, x is y)\n"
      "t = (1, 2)\nu = t\nt += (3,)\nprint(t, u, t is u)\n");
  EXPECT_EQ(r.out, "[1, 2, 3] True True False {'k': [1, 2, 3]}\n[1] True\n(1, 2, 3) (1, 2) False\n");
}

TEST(Session, TopLevelAwaitAndEcho) {
  Outcome r = run_session(
      "import asyncio\n"
      "await asyncio.sleep(0.1, result='hello')\n"
      "x = 41\n"
      "x + 1\n"
      "None\n"
      "asyncio.run(asyncio.sleep(0))\n"
      "1 / 0\n"
      "print('after the errors')\n"
      "t = asyncio.create_task(asyncio.sleep(1, result='bg'))\n"
      "await t\n");
  EXPECT_EQ(r.out, "'hello'\n42\nafter the errors\n'bg'\n");
  EXPECT_NE(r.err.find("RuntimeError: asyncio.run() cannot be called from a running event loop"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("  File \"<stdin>\", line 7, in <module>\n    1 / 0\nZeroDivisionError: division by zero"), std::string::npos) << r.err;
}

TEST(Session, SyntaxErrorIsReported) {
  Outcome r = run_session("x = (\n");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "  File \"<stdin>\", line 1\n    x = (\n        ^\nSyntaxError: '(' was never closed\n");
}

TEST(Help, NamesTheAioApi) {
  Outcome r = run_script("import asyncio\nhelp(asyncio.wait_for)\nhelp(asyncio.Queue)\n");
  EXPECT_EQ(r.out, "aio::wait_for(Awaitable, duration) — docs/async.md#the-timeout-object-and-wait_for\naio::Queue<T>(maxsize) — docs/queues.md#asyncio--aio\n");
}

}  // namespace
}  // namespace repl
