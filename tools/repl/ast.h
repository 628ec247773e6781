// The REPL's syntax tree. Every node has its 1-based line and column, and a
// `has_await` flag set by the parser: true when the node (not counting nested
// function bodies) contains an await, async for or async with. The interpreter
// evaluates nodes without it on its plain synchronous path.
//
// Names are resolved once after parsing (resolver in parser.cc): each Name node
// says whether it is a local slot of its function, a cell (a local captured by
// an inner function), a free variable (a cell of an enclosing function), or a
// global/builtin looked up by name.
#ifndef AIO_TOOLS_REPL_AST_H_
#define AIO_TOOLS_REPL_AST_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace repl {

struct Expr;
struct Stmt;
struct FunctionDef;
using ExprP = std::unique_ptr<Expr>;
using StmtP = std::unique_ptr<Stmt>;
using Body = std::vector<StmtP>;

enum class Scope { kUnresolved, kLocal, kCell, kFree, kGlobal, kClassOrGlobal };

enum class EK {
  kName, kNone, kTrue, kFalse, kEllipsis, kInt, kFloat, kStr, kBytes, kFString,
  kList, kTuple, kDict, kSet, kListComp, kSetComp, kDictComp, kGenExp,
  kBinOp, kUnary, kAnd, kOr, kNot, kCompare, kIfExp, kAttribute, kSubscript, kSlice,
  kCall, kLambda, kAwait, kStarred, kDoubleStarred, kNamedExpr,
};

struct Comprehension {
  ExprP target;
  ExprP iter;
  std::vector<ExprP> conditions;
  bool is_async = false;
};

struct FStringPart {
  std::string literal;      // when expr is null
  ExprP expr;
  char conversion = 0;      // 'r', 's', 'a' or 0
  ExprP spec;               // an f-string itself (may contain {}), or null
};

struct Keyword {
  std::string name;  // empty for **kwargs
  ExprP value;
};

struct Expr {
  EK kind;
  int line = 0;
  int column = 0;
  int end_column = 0;
  bool has_await = false;
  std::string text;           // name, attribute, operator, str/bytes value
  std::int64_t int_value = 0;
  double float_value = 0;
  Scope scope = Scope::kUnresolved;
  int slot = -1;              // local slot, cell slot or free index
  std::vector<ExprP> items;   // list/tuple/set/dict keys, call args, compare operands, fstring
  std::vector<ExprP> values;  // dict values (null for **spread)
  std::vector<std::string> ops;  // comparison operators
  std::vector<Keyword> keywords;
  std::vector<FStringPart> parts;
  std::vector<Comprehension> generators;
  ExprP a, b, c;              // operands / value / slice parts
  std::shared_ptr<FunctionDef> function;  // lambda, or the hidden function of a comprehension
};

enum class SK {
  kExpr, kAssign, kAugAssign, kAnnAssign, kIf, kWhile, kFor, kDef, kClass, kReturn, kPass, kBreak,
  kContinue, kDel, kTry, kRaise, kWith, kImport, kImportFrom, kGlobal, kNonlocal, kAssert,
};

struct ExceptHandler {
  ExprP type;  // null: bare except
  std::string name;
  Expr* name_target = nullptr;  // resolved name (owned by name_expr)
  ExprP name_expr;
  Body body;
  int line = 0;
};

struct WithItem {
  ExprP context;
  ExprP target;  // may be null
};

struct Alias {
  std::string name;     // dotted module or imported name
  std::string as_name;  // empty: none
  ExprP target;         // the Name bound
};

struct Stmt {
  SK kind;
  int line = 0;
  int column = 0;
  bool has_await = false;
  bool is_async = false;       // async for / async with / async def
  bool star_handlers = false;  // except*
  std::vector<ExprP> targets;  // assign targets, del targets
  ExprP value;                 // expression, test, iterator, return value, raise exc
  ExprP target;                // aug-assign / for target
  ExprP cause;                 // raise from; assert message
  std::string op;              // aug-assign operator
  Body body, orelse, finalbody;
  std::vector<ExceptHandler> handlers;
  std::vector<WithItem> items;
  std::vector<Alias> names;
  std::string module;          // from X import
  std::vector<std::string> idents;  // global/nonlocal
  std::shared_ptr<FunctionDef> function;  // def / class body
  std::vector<ExprP> bases;    // class bases
};

struct Param {
  std::string name;
  ExprP default_value;  // null: required
  int slot = -1;
};

struct FunctionDef {
  std::string name;
  std::string qualname;
  bool is_async = false;
  bool is_lambda = false;
  bool is_class = false;
  bool is_comprehension = false;
  bool is_module = false;
  int line = 0;
  std::vector<Param> params;        // positional-or-keyword
  int star_slot = -1;               // *args
  std::string star_name;
  std::vector<Param> kwonly;
  int kwargs_slot = -1;             // **kwargs
  std::string kwargs_name;
  Body body;
  ExprP lambda_body;
  // Filled by the resolver.
  std::vector<std::string> slot_names;  // every local (including cells)
  std::vector<bool> slot_is_cell;
  std::vector<std::string> free_names;  // captured from enclosing functions
  std::vector<std::string> globals;     // names declared global
  bool has_await = false;               // body contains await (async def only)
  std::string filename;
};

// A parsed program or statement: the module-level pseudo-function owns the body.
struct Program {
  std::shared_ptr<FunctionDef> module;
  std::string filename;
  std::vector<std::string> lines;  // source lines, for tracebacks and carets
};

}  // namespace repl

#endif  // AIO_TOOLS_REPL_AST_H_
