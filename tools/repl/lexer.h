// The REPL's lexer: Python 3.11 source text -> tokens, with Python's rules for
// indentation (INDENT/DEDENT from a stack of columns, tabs to multiples of 8),
// implicit line joining inside brackets, backslash continuation, and string
// literals of every quoting style (prefixes r, b, f and their combinations).
//
// String tokens carry their decoded text; f-strings carry the raw body, which
// the parser splits into literal parts and expressions.
//
// Errors are thrown as repl::SyntaxError with the 1-based line and column that
// Python would report.
#ifndef AIO_TOOLS_REPL_LEXER_H_
#define AIO_TOOLS_REPL_LEXER_H_

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace repl {

// A syntax error as Python reports it: kind is "SyntaxError" or
// "IndentationError"; line/column are 1-based (column 0: no caret).
struct SyntaxError : std::runtime_error {
  SyntaxError(std::string kind, std::string message, int line, int column)
      : std::runtime_error(message), kind(std::move(kind)), message(std::move(message)), line(line), column(column) {}
  std::string kind;
  std::string message;
  int line;
  int column;
};

enum class Tok { kName, kInt, kFloat, kString, kOp, kNewline, kIndent, kDedent, kEnd };

struct Token {
  Tok kind;
  std::string text;  // name, operator, number spelling, or decoded string
  int line = 0;
  int column = 0;  // 1-based
  bool is_bytes = false;
  bool is_fstring = false;
  bool is_raw = false;
};

// Splits `source` into tokens. The last tokens are NEWLINE (if the last line has
// content), the DEDENTs that close open blocks, and END. Throws SyntaxError.
std::vector<Token> tokenize(const std::string& source);

// As tokenize(), except that a bracket still open at the end of the input is not
// thrown: the error is stored in `*unclosed` and the tokens end there, so the
// parser can report an earlier error first (as CPython does).
std::vector<Token> tokenize(const std::string& source, std::optional<SyntaxError>* unclosed);

// Decodes the escapes of a (non-raw) string body; `bytes` rejects non-ASCII.
// Throws SyntaxError located at line/column on a malformed escape.
std::string decode_escapes(const std::string& body, bool bytes, int line, int column);

}  // namespace repl

#endif  // AIO_TOOLS_REPL_LEXER_H_
