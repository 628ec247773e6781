// The REPL's parser: tokens -> syntax tree (ast.h), then a resolver pass that
// assigns every name its scope and slot, and marks which nodes contain await.
//
// Accepts the subset of Python 3.11 that docs/repl.md lists; anything else is a
// SyntaxError saying what is not supported, located like CPython's.
#ifndef AIO_TOOLS_REPL_PARSER_H_
#define AIO_TOOLS_REPL_PARSER_H_

#include <memory>
#include <string>

#include "tools/repl/ast.h"
#include "tools/repl/lexer.h"

namespace repl {

struct ParseOptions {
  ParseOptions() {}
  // python -m asyncio's PyCF_ALLOW_TOP_LEVEL_AWAIT: await at module level.
  bool top_level_await = false;
};

// Parses a whole file (or one interactive statement). Throws SyntaxError.
std::shared_ptr<Program> parse_program(const std::string& source, const std::string& filename,
                                       const ParseOptions& options);

}  // namespace repl

#endif  // AIO_TOOLS_REPL_PARSER_H_
