// Design: a recursive-descent parser following Python's grammar levels
// (star_expressions > named > conditional/lambda > or > and > not > comparison >
// | ^ & << + * unary ** await primary atom). After parsing, resolve() walks
// every function once: it collects the names each function binds (its locals),
// turns locals that inner functions read into cells, assigns slots, and marks
// has_await bottom-up so the interpreter knows which nodes may suspend.
#include "tools/repl/parser.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <map>
#include <set>

namespace repl {
namespace {

const std::set<std::string> kKeywords = {
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
    "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
    "with", "yield"};

class Parser {
 public:
  Parser(std::vector<Token> tokens, std::string filename) : t_(std::move(tokens)), filename_(std::move(filename)) {}

  std::shared_ptr<FunctionDef> parse_module() {
    auto module = std::make_shared<FunctionDef>();
    module->name = "<module>";
    module->is_module = true;
    module->filename = filename_;
    while (peek().kind != Tok::kEnd) {
      if (peek().kind == Tok::kNewline) { ++p_; continue; }
      parse_statement(module->body);
    }
    return module;
  }

  // Parses a whole f-string body into parts (also used for format specs).
  std::vector<FStringPart> fstring_parts(const std::string& body, bool raw, int line, int column);

 private:
  const Token& peek(int ahead = 0) const {
    std::size_t i = std::min(p_ + ahead, t_.size() - 1);
    return t_[i];
  }
  const Token& next() { const Token& t = t_[p_]; if (p_ + 1 < t_.size()) ++p_; return t; }
  bool is_op(const char* op, int ahead = 0) const { return peek(ahead).kind == Tok::kOp && peek(ahead).text == op; }
  bool is_kw(const char* kw, int ahead = 0) const { return peek(ahead).kind == Tok::kName && peek(ahead).text == kw; }
  bool accept_op(const char* op) { if (is_op(op)) { next(); return true; } return false; }
  bool accept_kw(const char* kw) { if (is_kw(kw)) { next(); return true; } return false; }

  [[noreturn]] void fail(const Token& at, const std::string& message) {
    throw SyntaxError("SyntaxError", message, at.line, at.column);
  }
  [[noreturn]] void fail_invalid(const Token& at) {
    if (at.kind == Tok::kEnd || (at.kind == Tok::kDedent)) fail(at, "unexpected EOF while parsing");
    if (at.kind == Tok::kIndent) throw SyntaxError("IndentationError", "unexpected indent", at.line, at.column);
    fail(at, "invalid syntax");
  }
  void expect_op(const char* op) {
    if (!accept_op(op)) {
      const Token& at = peek();
      if (std::string(op) == ":" ) fail(at, "expected ':'");
      if (at.kind == Tok::kEnd) fail(at, "unexpected EOF while parsing");
      fail(at, "invalid syntax");
    }
  }
  std::string expect_name() {
    const Token& t = peek();
    if (t.kind != Tok::kName || kKeywords.count(t.text)) fail_invalid(t);
    next();
    return t.text;
  }

  ExprP make(EK kind, const Token& at) {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->line = at.line;
    e->column = at.column;
    return e;
  }
  StmtP make_stmt(SK kind, const Token& at) {
    auto s = std::make_unique<Stmt>();
    s->kind = kind;
    s->line = at.line;
    s->column = at.column;
    return s;
  }

  // ---- statements ---------------------------------------------------------------
  void parse_block(Body& body) {
    if (peek().kind == Tok::kNewline) {
      next();
      if (peek().kind != Tok::kIndent) {
        const Token& at = peek();
        throw SyntaxError("IndentationError", "expected an indented block after " + block_owner_, at.line,
                          at.column);
      }
      next();
      while (peek().kind != Tok::kDedent && peek().kind != Tok::kEnd) {
        if (peek().kind == Tok::kNewline) { next(); continue; }
        parse_statement(body);
      }
      if (peek().kind == Tok::kDedent) next();
    } else {
      parse_simple_statements(body);
    }
  }

  void block_after(const std::string& owner, int line, Body& body) {
    block_owner_ = owner + " on line " + std::to_string(line);
    expect_op(":");
    parse_block(body);
  }

  void parse_statement(Body& body) {
    const Token& t = peek();
    if (++block_depth_ > 100) throw SyntaxError("SyntaxError", "too many statically nested blocks", t.line, t.column);
    struct Leave { int& d; ~Leave() { --d; } } leave{block_depth_};
    if (t.kind == Tok::kIndent) throw SyntaxError("IndentationError", "unexpected indent", t.line, t.column);
    if (t.kind == Tok::kName) {
      const std::string& w = t.text;
      if (w == "if") return parse_if(body);
      if (w == "while") return parse_while(body);
      if (w == "for") return parse_for(body, false, t);
      if (w == "try") return parse_try(body);
      if (w == "with") return parse_with(body, false, t);
      if (w == "def") return parse_def(body, false, t);
      if (w == "class") return parse_class(body);
      if (w == "async") {
        next();
        if (is_kw("def")) return parse_def(body, true, t);
        if (is_kw("for")) return parse_for(body, true, t);
        if (is_kw("with")) return parse_with(body, true, t);
        fail_invalid(peek());
      }
    }
    if (is_op("@")) fail(t, "decorators are not supported by the aio REPL");
    parse_simple_statements(body);
  }

  void parse_simple_statements(Body& body) {
    while (true) {
      body.push_back(parse_simple());
      if (accept_op(";")) {
        if (peek().kind == Tok::kNewline) break;
        continue;
      }
      break;
    }
    if (peek().kind == Tok::kNewline) { next(); return; }
    if (peek().kind == Tok::kEnd) return;
    fail_invalid(peek());
  }

  StmtP parse_simple() {
    const Token& t = peek();
    if (t.kind == Tok::kName) {
      const std::string& w = t.text;
      if (w == "pass") { next(); return make_stmt(SK::kPass, t); }
      if (w == "break") { next(); return make_stmt(SK::kBreak, t); }
      if (w == "continue") { next(); return make_stmt(SK::kContinue, t); }
      if (w == "return") {
        next();
        auto s = make_stmt(SK::kReturn, t);
        if (!at_statement_end()) s->value = parse_star_expressions();
        return s;
      }
      if (w == "raise") {
        next();
        auto s = make_stmt(SK::kRaise, t);
        if (!at_statement_end()) {
          s->value = parse_test();
          if (accept_kw("from")) s->cause = parse_test();
        }
        return s;
      }
      if (w == "global" || w == "nonlocal") {
        next();
        auto s = make_stmt(w == "global" ? SK::kGlobal : SK::kNonlocal, t);
        do { s->idents.push_back(expect_name()); } while (accept_op(","));
        return s;
      }
      if (w == "del") {
        next();
        auto s = make_stmt(SK::kDel, t);
        do { s->targets.push_back(parse_bitor()); check_target(*s->targets.back(), "delete"); } while (accept_op(",") && !at_statement_end());
        return s;
      }
      if (w == "assert") {
        next();
        auto s = make_stmt(SK::kAssert, t);
        s->value = parse_test();
        if (accept_op(",")) s->cause = parse_test();
        return s;
      }
      if (w == "import") {
        next();
        auto s = make_stmt(SK::kImport, t);
        do {
          Alias a;
          const Token& nt = peek();
          a.name = expect_name();
          while (accept_op(".")) a.name += "." + expect_name();
          if (accept_kw("as")) a.as_name = expect_name();
          std::string bound = a.as_name.empty() ? a.name.substr(0, a.name.find('.')) : a.as_name;
          a.target = make(EK::kName, nt);
          a.target->text = bound;
          s->names.push_back(std::move(a));
        } while (accept_op(","));
        return s;
      }
      if (w == "from") {
        next();
        auto s = make_stmt(SK::kImportFrom, t);
        if (is_op(".")) fail(peek(), "relative imports are not supported by the aio REPL");
        s->module = expect_name();
        while (accept_op(".")) s->module += "." + expect_name();
        if (!accept_kw("import")) fail_invalid(peek());
        bool paren = accept_op("(");
        if (is_op("*")) fail(peek(), "'from ... import *' is not supported by the aio REPL");
        do {
          if (paren && is_op(")")) break;
          Alias a;
          const Token& nt = peek();
          a.name = expect_name();
          if (accept_kw("as")) a.as_name = expect_name();
          a.target = make(EK::kName, nt);
          a.target->text = a.as_name.empty() ? a.name : a.as_name;
          s->names.push_back(std::move(a));
        } while (accept_op(","));
        if (paren) expect_op(")");
        return s;
      }
      if (w == "yield") fail(t, "'yield' (generators) is not supported by the aio REPL");
    }
    ExprP first = parse_star_expressions();
    if (is_op("=")) {
      auto s = make_stmt(SK::kAssign, t);
      s->targets.push_back(std::move(first));
      while (accept_op("=")) {
        if (is_kw("yield")) fail(peek(), "'yield' (generators) is not supported by the aio REPL");
        s->targets.push_back(parse_star_expressions());
      }
      s->value = std::move(s->targets.back());
      s->targets.pop_back();
      for (auto& target : s->targets) check_target(*target, "assign to");
      return s;
    }
    if (peek().kind == Tok::kOp && peek().text.size() >= 2 && peek().text.back() == '=' && peek().text != "==" &&
        peek().text != "<=" && peek().text != ">=" && peek().text != "!=") {
      const Token& op = next();
      auto s = make_stmt(SK::kAugAssign, t);
      if (first->kind != EK::kName && first->kind != EK::kAttribute && first->kind != EK::kSubscript) {
        fail(t, "'" + describe(*first) + "' is an illegal expression for augmented assignment");
      }
      s->target = std::move(first);
      s->op = op.text.substr(0, op.text.size() - 1);
      s->value = parse_star_expressions();
      return s;
    }
    if (is_op(":")) {
      // Annotated assignment: the annotation is evaluated and ignored.
      next();
      auto s = make_stmt(SK::kAnnAssign, t);
      check_target(*first, "assign to");
      s->cause = parse_test();
      s->target = std::move(first);
      if (accept_op("=")) s->value = parse_star_expressions();
      return s;
    }
    auto s = make_stmt(SK::kExpr, t);
    s->value = std::move(first);
    return s;
  }

  bool at_statement_end() const {
    return peek().kind == Tok::kNewline || peek().kind == Tok::kEnd || is_op(";");
  }

  static std::string describe(const Expr& e) {
    switch (e.kind) {
      case EK::kCall: return "function call";
      case EK::kInt: case EK::kFloat: case EK::kStr: case EK::kBytes: case EK::kFString: return "literal";
      case EK::kNone: return "None";
      case EK::kTrue: return "True";
      case EK::kFalse: return "False";
      case EK::kBinOp: case EK::kUnary: return "expression";
      case EK::kCompare: return "comparison";
      case EK::kAwait: return "await expression";
      case EK::kLambda: return "lambda";
      case EK::kIfExp: return "conditional expression";
      case EK::kAnd: case EK::kOr: case EK::kNot: return "expression";
      case EK::kDict: return "dict literal";
      case EK::kSet: return "set display";
      case EK::kListComp: return "list comprehension";
      case EK::kGenExp: return "generator expression";
      default: return "expression";
    }
  }

  void check_target(Expr& e, const char* verb) {
    switch (e.kind) {
      case EK::kName: case EK::kAttribute: case EK::kSubscript: return;
      case EK::kTuple: case EK::kList:
        for (auto& item : e.items) check_target(*item, verb);
        return;
      case EK::kStarred:
        check_target(*e.a, verb);
        return;
      default: {
        std::string d = describe(e);
        std::string msg = std::string("cannot ") + verb + " " + d;
        if (std::string(verb) == "assign to" && (e.kind != EK::kNone && e.kind != EK::kTrue && e.kind != EK::kFalse)) {
          msg += " here. Maybe you meant '==' instead of '='?";
        }
        throw SyntaxError("SyntaxError", msg, e.line, e.column);
      }
    }
  }

  void parse_if(Body& body) {
    const Token& t = next();
    auto s = make_stmt(SK::kIf, t);
    s->value = parse_named();
    block_after("'if' statement", t.line, s->body);
    if (is_kw("elif")) {
      Body nested;
      parse_if(nested);
      s->orelse = std::move(nested);
    } else if (is_kw("else")) {
      const Token& e = next();
      block_after("'else' statement", e.line, s->orelse);
    }
    body.push_back(std::move(s));
  }

  void parse_while(Body& body) {
    const Token& t = next();
    auto s = make_stmt(SK::kWhile, t);
    s->value = parse_named();
    block_after("'while' statement", t.line, s->body);
    if (is_kw("else")) {
      const Token& e = next();
      block_after("'else' statement", e.line, s->orelse);
    }
    body.push_back(std::move(s));
  }

  void parse_for(Body& body, bool is_async, const Token& start) {
    next();  // for
    auto s = make_stmt(SK::kFor, start);
    s->is_async = is_async;
    s->target = parse_target_list();
    if (!accept_kw("in")) fail_invalid(peek());
    s->value = parse_star_expressions();
    block_after("'for' statement", start.line, s->body);
    if (is_kw("else")) {
      const Token& e = next();
      block_after("'else' statement", e.line, s->orelse);
    }
    body.push_back(std::move(s));
  }

  ExprP parse_target_list() {
    const Token& t = peek();
    std::vector<ExprP> items;
    bool tuple = false;
    while (true) {
      ExprP item;
      if (is_op("*")) {
        const Token& st = next();
        item = make(EK::kStarred, st);
        item->a = parse_bitor();
      } else {
        item = parse_bitor();
      }
      check_target(*item, "assign to");
      items.push_back(std::move(item));
      if (!accept_op(",")) break;
      tuple = true;
      if (is_kw("in") || is_op("=")) break;
    }
    if (!tuple) return std::move(items[0]);
    auto e = make(EK::kTuple, t);
    e->items = std::move(items);
    return e;
  }

  void parse_try(Body& body) {
    const Token& t = next();
    auto s = make_stmt(SK::kTry, t);
    block_after("'try' statement", t.line, s->body);
    bool saw_star = false, saw_plain = false;
    while (is_kw("except")) {
      const Token& et = next();
      ExceptHandler h;
      h.line = et.line;
      bool star = accept_op("*");
      if (star) saw_star = true; else saw_plain = true;
      if (saw_star && saw_plain) fail(et, "cannot have both 'except' and 'except*' on the same 'try'");
      if (!is_op(":")) {
        h.type = parse_test();
        if (is_op(",")) {
          fail(peek(), "multiple exception types must be parenthesized");
        }
        if (accept_kw("as")) {
          const Token& nt = peek();
          h.name = expect_name();
          h.name_expr = make(EK::kName, nt);
          h.name_expr->text = h.name;
        }
      } else if (star) {
        fail(peek(), "expected one or more exception types");
      }
      block_after(star ? "'except*' statement" : "'except' statement", et.line, h.body);
      s->handlers.push_back(std::move(h));
    }
    s->star_handlers = saw_star;
    if (is_kw("else")) {
      const Token& e = next();
      if (s->handlers.empty()) fail(e, "expected 'except' or 'finally' block");
      block_after("'else' statement", e.line, s->orelse);
    }
    if (is_kw("finally")) {
      const Token& f = next();
      block_after("'finally' statement", f.line, s->finalbody);
    }
    if (s->handlers.empty() && s->finalbody.empty()) fail(peek(), "expected 'except' or 'finally' block");
    body.push_back(std::move(s));
  }

  void parse_with(Body& body, bool is_async, const Token& start) {
    next();
    auto s = make_stmt(SK::kWith, start);
    s->is_async = is_async;
    do {
      WithItem item;
      item.context = parse_test();
      if (accept_kw("as")) {
        item.target = parse_target_single();
      }
      s->items.push_back(std::move(item));
    } while (accept_op(","));
    block_after("'with' statement", start.line, s->body);
    body.push_back(std::move(s));
  }

  ExprP parse_target_single() {
    ExprP e = parse_bitor();
    check_target(*e, "assign to");
    return e;
  }

  void parse_params(FunctionDef& f, const char* closer) {
    bool seen_star = false, seen_default = false;
    while (!is_op(closer)) {
      if (accept_op("**")) {
        f.kwargs_name = expect_name();
        if (accept_op(":")) (void)parse_test();
        accept_op(",");
        if (!is_op(closer)) fail(peek(), "arguments cannot follow var-keyword argument");
        break;
      }
      if (accept_op("*")) {
        if (seen_star) fail(peek(), "* argument may appear only once");
        seen_star = true;
        if (is_op(",")) {
          next();
          continue;
        }
        f.star_name = expect_name();
        if (std::string(closer) == ")" && accept_op(":")) (void)parse_test();
        if (!accept_op(",")) break;
        continue;
      }
      if (accept_op("/")) {
        accept_op(",");
        continue;
      }
      Param p;
      const Token& pt = peek();
      p.name = expect_name();
      for (const auto& other : f.params) if (other.name == p.name) fail(pt, "duplicate argument '" + p.name + "' in function definition");
      if (std::string(closer) == ")" && accept_op(":")) (void)parse_test();
      if (accept_op("=")) {
        p.default_value = parse_test();
        if (!seen_star) seen_default = true;
      } else if (seen_default && !seen_star) {
        fail(pt, "non-default argument follows default argument");
      }
      (seen_star ? f.kwonly : f.params).push_back(std::move(p));
      if (!accept_op(",")) break;
    }
  }

  void parse_def(Body& body, bool is_async, const Token& start) {
    next();  // def
    auto s = make_stmt(SK::kDef, start);
    auto f = std::make_shared<FunctionDef>();
    f->is_async = is_async;
    f->line = start.line;
    f->filename = filename_;
    f->name = expect_name();
    expect_op("(");
    parse_params(*f, ")");
    expect_op(")");
    if (accept_op("->")) (void)parse_test();
    block_after("function definition", start.line, f->body);
    s->function = f;
    body.push_back(std::move(s));
  }

  void parse_class(Body& body) {
    const Token& t = next();
    auto s = make_stmt(SK::kClass, t);
    auto f = std::make_shared<FunctionDef>();
    f->is_class = true;
    f->line = t.line;
    f->filename = filename_;
    f->name = expect_name();
    if (accept_op("(")) {
      while (!is_op(")")) {
        if (peek().kind == Tok::kName && is_op("=", 1)) fail(peek(), "class keywords (metaclass=...) are not supported by the aio REPL");
        s->bases.push_back(parse_test());
        if (!accept_op(",")) break;
      }
      expect_op(")");
    }
    block_after("class definition", t.line, f->body);
    s->function = f;
    body.push_back(std::move(s));
  }

  // ---- expressions --------------------------------------------------------------
  ExprP parse_star_expressions() {
    const Token& t = peek();
    ExprP first = parse_star_or_named();
    if (!is_op(",")) {
      if (first->kind == EK::kStarred) fail(t, "can't use starred expression here");
      return first;
    }
    auto tuple = make(EK::kTuple, t);
    tuple->items.push_back(std::move(first));
    while (accept_op(",")) {
      if (at_expression_end()) break;
      tuple->items.push_back(parse_star_or_named());
    }
    return tuple;
  }

  bool at_expression_end() const {
    const Token& t = peek();
    if (t.kind == Tok::kNewline || t.kind == Tok::kEnd) return true;
    if (t.kind == Tok::kOp && (t.text == "=" || t.text == ")" || t.text == "]" || t.text == "}" || t.text == ";" ||
                               t.text == ":" || (t.text.size() >= 2 && t.text.back() == '=' && t.text != "==" &&
                                                 t.text != "<=" && t.text != ">=" && t.text != "!="))) {
      return true;
    }
    return t.kind == Tok::kName && (t.text == "in");
  }

  ExprP parse_star_or_named() {
    if (is_op("*")) {
      const Token& t = next();
      auto e = make(EK::kStarred, t);
      e->a = parse_bitor();
      return e;
    }
    return parse_named();
  }

  ExprP parse_named() {
    if (peek().kind == Tok::kName && is_op(":=", 1)) {
      const Token& t = peek();
      auto target = make(EK::kName, t);
      target->text = expect_name();
      next();
      auto e = make(EK::kNamedExpr, t);
      e->a = std::move(target);
      e->b = parse_test();
      return e;
    }
    return parse_test();
  }

  ExprP parse_test() {
    Depth depth(*this, peek());
    if (is_kw("lambda")) return parse_lambda();
    const Token& t = peek();
    ExprP body = parse_or();
    if (is_kw("if")) {
      next();
      auto e = make(EK::kIfExp, t);
      e->b = parse_or();
      if (!accept_kw("else")) fail(peek(), "expected 'else' after 'if' expression");
      e->c = parse_test();
      e->a = std::move(body);
      return e;
    }
    return body;
  }

  ExprP parse_lambda() {
    const Token& t = next();
    auto e = make(EK::kLambda, t);
    auto f = std::make_shared<FunctionDef>();
    f->is_lambda = true;
    f->name = "<lambda>";
    f->line = t.line;
    f->filename = filename_;
    parse_params(*f, ":");
    expect_op(":");
    f->lambda_body = parse_test();
    e->function = f;
    return e;
  }

  ExprP parse_or() {
    const Token& t = peek();
    ExprP left = parse_and();
    if (!is_kw("or")) return left;
    auto e = make(EK::kOr, t);
    e->items.push_back(std::move(left));
    while (accept_kw("or")) e->items.push_back(parse_and());
    return e;
  }
  ExprP parse_and() {
    const Token& t = peek();
    ExprP left = parse_not();
    if (!is_kw("and")) return left;
    auto e = make(EK::kAnd, t);
    e->items.push_back(std::move(left));
    while (accept_kw("and")) e->items.push_back(parse_not());
    return e;
  }
  ExprP parse_not() {
    Depth depth(*this, peek());
    if (is_kw("not")) {
      const Token& t = next();
      auto e = make(EK::kNot, t);
      e->a = parse_not();
      return e;
    }
    return parse_comparison();
  }
  bool comparison_op(std::string& op) {
    const Token& t = peek();
    if (t.kind == Tok::kOp && (t.text == "<" || t.text == ">" || t.text == "==" || t.text == ">=" || t.text == "<=" || t.text == "!=")) {
      op = next().text;
      return true;
    }
    if (is_kw("in")) { next(); op = "in"; return true; }
    if (is_kw("not") && is_kw("in", 1)) { next(); next(); op = "not in"; return true; }
    if (is_kw("is")) {
      next();
      op = accept_kw("not") ? "is not" : "is";
      return true;
    }
    return false;
  }
  ExprP parse_comparison() {
    const Token& t = peek();
    ExprP left = parse_bitor();
    std::string op;
    if (!comparison_op(op)) return left;
    auto e = make(EK::kCompare, t);
    e->items.push_back(std::move(left));
    do {
      e->ops.push_back(op);
      e->items.push_back(parse_bitor());
    } while (comparison_op(op));
    return e;
  }
  ExprP binary(ExprP left, const Token& op, ExprP right) {
    auto e = make(EK::kBinOp, op);
    e->line = left->line;
    e->column = left->column;
    e->text = op.text;
    e->a = std::move(left);
    e->b = std::move(right);
    return e;
  }
  ExprP parse_bitor() {
    ExprP left = parse_xor();
    while (is_op("|")) { const Token& op = next(); left = binary(std::move(left), op, parse_xor()); }
    return left;
  }
  ExprP parse_xor() {
    ExprP left = parse_bitand();
    while (is_op("^")) { const Token& op = next(); left = binary(std::move(left), op, parse_bitand()); }
    return left;
  }
  ExprP parse_bitand() {
    ExprP left = parse_shift();
    while (is_op("&")) { const Token& op = next(); left = binary(std::move(left), op, parse_shift()); }
    return left;
  }
  ExprP parse_shift() {
    ExprP left = parse_arith();
    while (is_op("<<") || is_op(">>")) { const Token& op = next(); left = binary(std::move(left), op, parse_arith()); }
    return left;
  }
  ExprP parse_arith() {
    ExprP left = parse_term();
    while (is_op("+") || is_op("-")) { const Token& op = next(); left = binary(std::move(left), op, parse_term()); }
    return left;
  }
  ExprP parse_term() {
    ExprP left = parse_factor();
    while (is_op("*") || is_op("/") || is_op("//") || is_op("%") || is_op("@")) {
      const Token& op = next();
      left = binary(std::move(left), op, parse_factor());
    }
    return left;
  }
  ExprP parse_factor() {
    Depth depth(*this, peek());
    if (is_op("-") || is_op("+") || is_op("~")) {
      const Token& t = next();
      auto e = make(EK::kUnary, t);
      e->text = t.text;
      e->a = parse_factor();
      return e;
    }
    return parse_power();
  }
  ExprP parse_power() {
    ExprP base = parse_await();
    if (is_op("**")) {
      const Token& op = next();
      return binary(std::move(base), op, parse_factor());
    }
    return base;
  }
  ExprP parse_await() {
    if (is_kw("await")) {
      const Token& t = next();
      auto e = make(EK::kAwait, t);
      e->a = parse_primary();
      return e;
    }
    return parse_primary();
  }

  ExprP parse_primary() {
    ExprP e = parse_atom();
    while (true) {
      if (is_op(".")) {
        next();
        const Token& nt = peek();
        auto a = make(EK::kAttribute, nt);
        a->line = e->line;
        a->column = e->column;
        a->text = expect_name();
        a->end_column = nt.column + static_cast<int>(nt.text.size());
        a->a = std::move(e);
        e = std::move(a);
      } else if (is_op("(")) {
        const Token& t = next();
        auto c = make(EK::kCall, t);
        c->line = e->line;
        c->column = e->column;
        c->a = std::move(e);
        parse_call_args(*c);
        c->end_column = peek().column + 1;
        expect_op(")");
        e = std::move(c);
      } else if (is_op("[")) {
        const Token& t = next();
        auto s = make(EK::kSubscript, t);
        s->line = e->line;
        s->column = e->column;
        s->a = std::move(e);
        s->b = parse_slices();
        expect_op("]");
        e = std::move(s);
      } else {
        return e;
      }
    }
  }

  ExprP parse_slice_item() {
    const Token& t = peek();
    ExprP lower;
    if (!is_op(":")) {
      lower = parse_named();
      if (!is_op(":")) return lower;
    }
    next();  // :
    auto s = make(EK::kSlice, t);
    s->a = std::move(lower);
    if (!is_op(":") && !is_op("]") && !is_op(",")) s->b = parse_test();
    if (accept_op(":")) {
      if (!is_op("]") && !is_op(",")) s->c = parse_test();
    }
    return s;
  }
  ExprP parse_slices() {
    const Token& t = peek();
    ExprP first = parse_slice_item();
    if (!is_op(",")) return first;
    auto tuple = make(EK::kTuple, t);
    tuple->items.push_back(std::move(first));
    while (accept_op(",")) {
      if (is_op("]")) break;
      tuple->items.push_back(parse_slice_item());
    }
    return tuple;
  }

  void parse_call_args(Expr& call) {
    bool seen_keyword = false;
    while (!is_op(")")) {
      if (is_op("**")) {
        next();
        Keyword k;
        k.value = parse_test();
        call.keywords.push_back(std::move(k));
        seen_keyword = true;
      } else if (is_op("*")) {
        const Token& st = next();
        auto s = make(EK::kStarred, st);
        s->a = parse_test();
        call.items.push_back(std::move(s));
      } else if (peek().kind == Tok::kName && is_op("=", 1)) {
        Keyword k;
        const Token& kt = peek();
        k.name = expect_name();
        for (const auto& other : call.keywords) {
          if (other.name == k.name) fail(kt, "keyword argument repeated: " + k.name);
        }
        next();
        k.value = parse_test();
        call.keywords.push_back(std::move(k));
        seen_keyword = true;
      } else {
        const Token& at = peek();
        ExprP arg = parse_named();
        if (is_kw("for") || is_kw("async")) {
          arg = parse_comprehension(EK::kGenExp, std::move(arg), nullptr, at);
          if (!call.items.empty() || !is_op(")")) {
            bool only_argument = is_op(",") && peek(1).kind == Tok::kOp && peek(1).text == ")";
          if (!only_argument) fail(at, "Generator expression must be parenthesized");
          }
        }
        if (seen_keyword) {
          bool double_star = false;
          for (const auto& k : call.keywords) double_star |= k.name.empty();
          fail(at, double_star ? "positional argument follows keyword argument unpacking"
                               : "positional argument follows keyword argument");
        }
        call.items.push_back(std::move(arg));
      }
      if (!accept_op(",")) break;
    }
  }

  ExprP parse_comprehension(EK kind, ExprP element, ExprP value, const Token& at) {
    auto e = make(kind, at);
    e->a = std::move(element);
    e->b = std::move(value);
    while (is_kw("for") || (is_kw("async") && is_kw("for", 1))) {
      Comprehension c;
      if (accept_kw("async")) c.is_async = true;
      next();  // for
      c.target = parse_target_list();
      if (!accept_kw("in")) fail_invalid(peek());
      c.iter = parse_or();
      while (is_kw("if")) {
        next();
        c.conditions.push_back(parse_or());
      }
      e->generators.push_back(std::move(c));
    }
    auto f = std::make_shared<FunctionDef>();
    f->is_comprehension = true;
    f->name = kind == EK::kListComp ? "<listcomp>" : kind == EK::kSetComp ? "<setcomp>" : kind == EK::kDictComp ? "<dictcomp>" : "<genexpr>";
    f->line = at.line;
    f->filename = filename_;
    e->function = f;
    return e;
  }

  ExprP parse_atom() {
    const Token& t = peek();
    switch (t.kind) {
      case Tok::kName: {
        if (t.text == "None") { next(); return make(EK::kNone, t); }
        if (t.text == "True") { next(); return make(EK::kTrue, t); }
        if (t.text == "False") { next(); return make(EK::kFalse, t); }
        if (t.text == "yield") fail(t, "'yield' (generators) is not supported by the aio REPL");
        if (kKeywords.count(t.text)) fail_invalid(t);
        next();
        auto e = make(EK::kName, t);
        e->text = t.text;
        e->end_column = t.column + static_cast<int>(t.text.size());
        return e;
      }
      case Tok::kInt: {
        next();
        auto e = make(EK::kInt, t);
        int base = 10;
        std::string digits = t.text;
        if (digits.size() > 1 && digits[0] == '0' && std::isalpha(static_cast<unsigned char>(digits[1]))) {
          char b = static_cast<char>(std::tolower(static_cast<unsigned char>(digits[1])));
          base = b == 'x' ? 16 : b == 'o' ? 8 : 2;
          digits = digits.substr(2);
        } else if (digits.size() > 1 && digits[0] == '0' && digits.find_first_not_of('0') != std::string::npos) {
          fail(t, "leading zeros in decimal integer literals are not permitted; use an 0o prefix for octal integers");
        }
        std::uint64_t value = 0;
        auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value, base);
        if (ec == std::errc::result_out_of_range || value > static_cast<std::uint64_t>(INT64_MAX)) {
          fail(t, "integer literal too large: the aio REPL's int is 64-bit");
        }
        if (ec != std::errc() || ptr != digits.data() + digits.size()) fail(t, "invalid digit in integer literal");
        e->int_value = static_cast<std::int64_t>(value);
        return e;
      }
      case Tok::kFloat: {
        next();
        auto e = make(EK::kFloat, t);
        e->float_value = std::strtod(t.text.c_str(), nullptr);
        return e;
      }
      case Tok::kString: return parse_strings();
      case Tok::kOp: break;
      default: fail_invalid(t);
    }
    if (t.text == "(") {
      next();
      if (accept_op(")")) return make(EK::kTuple, t);
      if (is_kw("yield")) fail(peek(), "'yield' (generators) is not supported by the aio REPL");
      ExprP first = parse_star_or_named();
      if (is_kw("for") || is_kw("async")) {
        ExprP g = parse_comprehension(EK::kGenExp, std::move(first), nullptr, t);
        expect_op(")");
        return g;
      }
      if (accept_op(")")) {
        if (first->kind == EK::kStarred) fail(t, "cannot use starred expression here");
        return first;
      }
      auto tuple = make(EK::kTuple, t);
      tuple->items.push_back(std::move(first));
      while (accept_op(",")) {
        if (is_op(")")) break;
        tuple->items.push_back(parse_star_or_named());
      }
      expect_op(")");
      return tuple;
    }
    if (t.text == "[") {
      next();
      auto list = make(EK::kList, t);
      if (accept_op("]")) return list;
      ExprP first = parse_star_or_named();
      if (is_kw("for") || is_kw("async")) {
        ExprP c = parse_comprehension(EK::kListComp, std::move(first), nullptr, t);
        expect_op("]");
        return c;
      }
      list->items.push_back(std::move(first));
      while (accept_op(",")) {
        if (is_op("]")) break;
        list->items.push_back(parse_star_or_named());
      }
      expect_op("]");
      return list;
    }
    if (t.text == "{") {
      next();
      auto dict = make(EK::kDict, t);
      if (accept_op("}")) return dict;
      if (is_op("**")) {
        next();
        dict->items.push_back(nullptr);
        dict->values.push_back(parse_bitor());
      } else {
        ExprP first = parse_star_or_named();
        if (!is_op(":")) {
          if (is_kw("for") || is_kw("async")) {
            ExprP c = parse_comprehension(EK::kSetComp, std::move(first), nullptr, t);
            expect_op("}");
            return c;
          }
          auto set = make(EK::kSet, t);
          set->items.push_back(std::move(first));
          while (accept_op(",")) {
            if (is_op("}")) break;
            set->items.push_back(parse_star_or_named());
          }
          expect_op("}");
          return set;
        }
        next();
        ExprP value = parse_test();
        if (is_kw("for") || is_kw("async")) {
          ExprP c = parse_comprehension(EK::kDictComp, std::move(first), std::move(value), t);
          expect_op("}");
          return c;
        }
        dict->items.push_back(std::move(first));
        dict->values.push_back(std::move(value));
      }
      while (accept_op(",")) {
        if (is_op("}")) break;
        if (accept_op("**")) {
          dict->items.push_back(nullptr);
          dict->values.push_back(parse_bitor());
          continue;
        }
        dict->items.push_back(parse_test());
        expect_op(":");
        dict->values.push_back(parse_test());
      }
      expect_op("}");
      return dict;
    }
    if (t.text == "...") { next(); return make(EK::kEllipsis, t); }
    fail_invalid(t);
  }

  ExprP parse_strings() {
    const Token& first = peek();
    bool bytes = first.is_bytes;
    bool any_f = false;
    std::vector<FStringPart> parts;
    std::string joined;
    while (peek().kind == Tok::kString) {
      const Token& s = next();
      if (s.is_bytes != bytes) fail(s, "cannot mix bytes and nonbytes literals");
      if (s.is_fstring) {
        any_f = true;
        if (!joined.empty()) {
          FStringPart lit;
          lit.literal = std::move(joined);
          joined.clear();
          parts.push_back(std::move(lit));
        }
        for (auto& part : fstring_parts(s.text, s.is_raw, s.line, s.column)) parts.push_back(std::move(part));
      } else {
        joined += s.text;
      }
    }
    if (!any_f) {
      auto e = make(bytes ? EK::kBytes : EK::kStr, first);
      e->text = std::move(joined);
      return e;
    }
    if (!joined.empty()) {
      FStringPart lit;
      lit.literal = std::move(joined);
      parts.push_back(std::move(lit));
    }
    auto e = make(EK::kFString, first);
    e->parts = std::move(parts);
    return e;
  }

  // Bounds the recursion on hostile input ("((((...", "not not not ...").
  struct Depth {
    Parser& p;
    explicit Depth(Parser& parser, const Token& at) : p(parser) {
      if (++p.depth_ > 200) throw SyntaxError("SyntaxError", "too many nested parentheses or expressions", at.line, at.column);
    }
    ~Depth() { --p.depth_; }
  };
  int depth_ = 0;
  int block_depth_ = 0;
  std::vector<Token> t_;
  std::size_t p_ = 0;
  std::string filename_;
  std::string block_owner_;
};

std::vector<FStringPart> Parser::fstring_parts(const std::string& body, bool raw, int line, int column) {
  std::vector<FStringPart> parts;
  std::string literal;
  auto flush = [&] {
    if (literal.empty()) return;
    FStringPart p;
    p.literal = raw ? literal : decode_escapes(literal, false, line, column);
    literal.clear();
    parts.push_back(std::move(p));
  };
  std::size_t i = 0;
  while (i < body.size()) {
    char c = body[i];
    if (c == '{' && i + 1 < body.size() && body[i + 1] == '{') { literal += '{'; i += 2; continue; }
    if (c == '}' && i + 1 < body.size() && body[i + 1] == '}') { literal += '}'; i += 2; continue; }
    if (c == '}') throw SyntaxError("SyntaxError", "f-string: single '}' is not allowed", line, column);
    if (c != '{') { literal += c; ++i; continue; }
    flush();
    // Find the end of the expression: the first top-level '!', ':' or '}'.
    std::size_t j = i + 1;
    int depth = 0;
    char quote = 0;
    while (j < body.size()) {
      char d = body[j];
      if (quote) { if (d == quote) quote = 0; ++j; continue; }
      if (d == '\'' || d == '"') { quote = d; ++j; continue; }
      if (d == '(' || d == '[' || d == '{') ++depth;
      else if ((d == ')' || d == ']' || d == '}') && depth > 0) --depth;
      else if (depth == 0 && (d == '}' || d == ':' || (d == '!' && j + 1 < body.size() && body[j + 1] != '='))) break;
      ++j;
    }
    if (j >= body.size()) throw SyntaxError("SyntaxError", "f-string: expecting '}'", line, column);
    std::string source = body.substr(i + 1, j - i - 1);
    bool self_documenting = false;
    {
      std::size_t end = source.find_last_not_of(" ");
      if (end != std::string::npos && source[end] == '=' && (end == 0 || (source[end - 1] != '=' && source[end - 1] != '!' && source[end - 1] != '<' && source[end - 1] != '>'))) {
        self_documenting = true;
      }
    }
    std::string expr_source = self_documenting ? source.substr(0, source.find_last_of('=')) : source;
    if (expr_source.find_first_not_of(" \t") == std::string::npos) {
      throw SyntaxError("SyntaxError", "f-string: empty expression not allowed", line, column);
    }
    FStringPart part;
    {
      std::vector<Token> tokens;
      try {
        tokens = tokenize("(" + expr_source + ")");
      } catch (const SyntaxError& e) {
        throw SyntaxError("SyntaxError", "f-string: " + e.message, line, column);
      }
      for (auto& tk : tokens) { tk.line = line; tk.column = column; }
      Parser sub(std::move(tokens), filename_);
      part.expr = sub.parse_test();
      if (sub.peek().kind != Tok::kNewline) throw SyntaxError("SyntaxError", "f-string: invalid syntax", line, column);
    }
    if (self_documenting) {
      FStringPart label;
      label.literal = source;
      parts.push_back(std::move(label));
    }
    if (body[j] == '!') {
      if (j + 1 >= body.size()) throw SyntaxError("SyntaxError", "f-string: expecting '}'", line, column);
      char conv = body[j + 1];
      if (conv != 'r' && conv != 's' && conv != 'a') {
        throw SyntaxError("SyntaxError", "f-string: invalid conversion character: expected 's', 'r', or 'a'", line, column);
      }
      part.conversion = conv;
      j += 2;
    } else if (self_documenting && body[j] != ':') {
      part.conversion = 'r';
    }
    if (j < body.size() && body[j] == ':') {
      std::size_t k = j + 1;
      int d = 0;
      while (k < body.size() && (body[k] != '}' || d > 0)) {
        if (body[k] == '{') ++d;
        if (body[k] == '}') --d;
        ++k;
      }
      if (k >= body.size()) throw SyntaxError("SyntaxError", "f-string: expecting '}'", line, column);
      auto spec = std::make_unique<Expr>();
      spec->kind = EK::kFString;
      spec->line = line;
      spec->column = column;
      spec->parts = fstring_parts(body.substr(j + 1, k - j - 1), true, line, column);
      part.spec = std::move(spec);
      j = k;
    }
    if (j >= body.size() || body[j] != '}') throw SyntaxError("SyntaxError", "f-string: expecting '}'", line, column);
    parts.push_back(std::move(part));
    i = j + 1;
  }
  flush();
  return parts;
}

// ---- the resolver ---------------------------------------------------------------

struct ScopeInfo {
  FunctionDef* function;
  ScopeInfo* parent;
  std::map<std::string, int> locals;  // name -> slot
  std::set<std::string> globals, nonlocals;
  std::map<std::string, int> free;    // name -> free index
};

class Resolver {
 public:
  explicit Resolver(bool top_level_await) : top_level_await_(top_level_await) {}

  void resolve_function(FunctionDef& f, ScopeInfo* parent) {
    int saved_loop_depth = loop_depth_;
    loop_depth_ = 0;
    ScopeInfo scope{&f, parent, {}, {}, {}, {}};
    // Pass 1: what the function binds.
    if (!f.is_module && !f.is_class) {
      for (auto& p : f.params) p.slot = add_local(scope, p.name);
      if (!f.star_name.empty()) f.star_slot = add_local(scope, f.star_name);
      for (auto& p : f.kwonly) p.slot = add_local(scope, p.name);
      if (!f.kwargs_name.empty()) f.kwargs_slot = add_local(scope, f.kwargs_name);
      collect_body(f.body, scope);
    }
    f.globals.assign(scope.globals.begin(), scope.globals.end());
    // Pass 2: resolve every name, recursing into inner functions.
    current_ = &scope;
    if (f.lambda_body) visit(*f.lambda_body);
    visit_body(f.body);
    current_ = parent;
    f.slot_names.resize(scope.locals.size());
    f.slot_is_cell.resize(scope.locals.size(), false);
    for (auto& [name, slot] : scope.locals) f.slot_names[slot] = name;
    for (int cell : cells_[&f]) f.slot_is_cell[cell] = true;
    f.free_names.resize(scope.free.size());
    for (auto& [name, index] : scope.free) f.free_names[index] = name;
    loop_depth_ = saved_loop_depth;
  }

  std::map<FunctionDef*, std::set<int>> cells_;

 private:
  bool is_function_scope(const ScopeInfo& s) const { return !s.function->is_module && !s.function->is_class; }

  int add_local(ScopeInfo& s, const std::string& name) {
    if (s.globals.count(name) || s.nonlocals.count(name)) return -1;
    auto it = s.locals.find(name);
    if (it != s.locals.end()) return it->second;
    int slot = static_cast<int>(s.locals.size());
    s.locals[name] = slot;
    return slot;
  }

  void collect_target(Expr& e, ScopeInfo& s) {
    switch (e.kind) {
      case EK::kName: add_local(s, e.text); break;
      case EK::kTuple: case EK::kList: for (auto& i : e.items) collect_target(*i, s); break;
      case EK::kStarred: collect_target(*e.a, s); break;
      default: break;
    }
  }
  void collect_walrus(Expr* e, ScopeInfo& s) {
    if (!e) return;
    if (e->kind == EK::kNamedExpr) add_local(s, e->a->text);
    if (e->kind == EK::kLambda) return;
    collect_walrus(e->a.get(), s);
    collect_walrus(e->b.get(), s);
    collect_walrus(e->c.get(), s);
    for (auto& i : e->items) collect_walrus(i.get(), s);
    for (auto& i : e->values) collect_walrus(i.get(), s);
    for (auto& k : e->keywords) collect_walrus(k.value.get(), s);
  }

  void collect_body(Body& body, ScopeInfo& s) {
    for (auto& st : body) collect_stmt(*st, s);
  }
  void collect_stmt(Stmt& st, ScopeInfo& s) {
    switch (st.kind) {
      case SK::kGlobal:
        for (auto& n : st.idents) {
          if (s.locals.count(n)) throw SyntaxError("SyntaxError", "name '" + n + "' is assigned to before global declaration", st.line, st.column);
          s.globals.insert(n);
        }
        break;
      case SK::kNonlocal:
        for (auto& n : st.idents) {
          if (s.locals.count(n)) throw SyntaxError("SyntaxError", "name '" + n + "' is assigned to before nonlocal declaration", st.line, st.column);
          s.nonlocals.insert(n);
        }
        break;
      case SK::kAssign: for (auto& t : st.targets) collect_target(*t, s); collect_walrus(st.value.get(), s); break;
      case SK::kAugAssign: case SK::kAnnAssign: collect_target(*st.target, s); break;
      case SK::kFor: collect_target(*st.target, s); break;
      case SK::kDel: for (auto& t : st.targets) collect_target(*t, s); break;
      case SK::kDef: case SK::kClass: add_local(s, st.function->name); break;
      case SK::kImport: case SK::kImportFrom: for (auto& a : st.names) add_local(s, a.target->text); break;
      case SK::kWith: for (auto& i : st.items) if (i.target) collect_target(*i.target, s); break;
      case SK::kTry: for (auto& h : st.handlers) { if (h.name_expr) add_local(s, h.name); collect_body(h.body, s); } break;
      case SK::kExpr: case SK::kIf: case SK::kWhile: case SK::kReturn: collect_walrus(st.value.get(), s); break;
      default: break;
    }
    collect_body(st.body, s);
    collect_body(st.orelse, s);
    collect_body(st.finalbody, s);
  }

  // Finds `name` in an enclosing function scope; marks it a cell there and a
  // free variable of every scope in between. Returns the free index in `s`.
  int resolve_free(ScopeInfo& s, const std::string& name) {
    auto it = s.free.find(name);
    if (it != s.free.end()) return it->second;
    for (ScopeInfo* p = s.parent; p; p = p->parent) {
      if (!is_function_scope(*p)) continue;
      if (p->globals.count(name)) return -1;
      auto local = p->locals.find(name);
      if (local != p->locals.end()) {
        cells_[p->function].insert(local->second);
        int index = static_cast<int>(s.free.size());
        s.free[name] = index;
        // Intermediate scopes also need it as free to pass it along.
        for (ScopeInfo* q = s.parent; q != p; q = q->parent) {
          if (is_function_scope(*q) && !q->free.count(name)) {
            int qi = static_cast<int>(q->free.size());
            q->free[name] = qi;
          }
        }
        return index;
      }
      if (p->nonlocals.count(name)) continue;
    }
    return -1;
  }

  void resolve_name(Expr& e) {
    ScopeInfo& s = *current_;
    if (s.function->is_module) { e.scope = Scope::kGlobal; return; }
    if (s.function->is_class) {
      // Class bodies look in the class namespace, then globals (they are not closures).
      int free = -1;
      if (s.parent && is_function_scope(*s.parent)) free = resolve_free(s, e.text);
      if (free >= 0) { e.scope = Scope::kFree; e.slot = free; return; }
      e.scope = Scope::kClassOrGlobal;
      return;
    }
    if (s.globals.count(e.text)) { e.scope = Scope::kGlobal; return; }
    auto local = s.locals.find(e.text);
    if (local != s.locals.end()) {
      e.scope = Scope::kLocal;
      e.slot = local->second;
      return;
    }
    int free = resolve_free(s, e.text);
    if (free >= 0) { e.scope = Scope::kFree; e.slot = free; return; }
    if (s.nonlocals.count(e.text)) {
      throw SyntaxError("SyntaxError", "no binding for nonlocal '" + e.text + "' found", e.line, e.column);
    }
    e.scope = Scope::kGlobal;
  }

  void check_await_allowed(int line, int column, const char* what) {
    ScopeInfo& s = *current_;
    // Comprehensions inherit their enclosing function's async-ness.
    ScopeInfo* owner = &s;
    while (owner->function->is_comprehension && owner->parent) owner = owner->parent;
    if (owner->function->is_module) {
      if (!top_level_await_) throw SyntaxError("SyntaxError", std::string(what) + " outside function", line, column);
    } else if (!owner->function->is_async) {
      throw SyntaxError("SyntaxError", std::string(what) + " outside async function", line, column);
    }
  }

  // Returns has_await for the node.
  bool visit(Expr& e) {
    bool aw = false;
    switch (e.kind) {
      case EK::kName: resolve_name(e); return false;
      case EK::kNamedExpr: resolve_name(*e.a); aw = visit(*e.b); break;
      case EK::kAwait:
        check_await_allowed(e.line, e.column, "'await'");
        visit(*e.a);
        aw = true;
        break;
      case EK::kLambda: {
        for (auto& p : e.function->params) if (p.default_value) aw |= visit(*p.default_value);
        for (auto& p : e.function->kwonly) if (p.default_value) aw |= visit(*p.default_value);
        resolve_function(*e.function, current_);
        e.has_await = aw;
        return aw;
      }
      case EK::kListComp: case EK::kSetComp: case EK::kDictComp: case EK::kGenExp: {
        // The first iterable is evaluated in the enclosing scope; the rest inside.
        aw |= visit(*e.generators[0].iter);
        ScopeInfo scope{e.function.get(), current_, {}, {}, {}, {}};
        for (auto& g : e.generators) collect_target(*g.target, scope);
        ScopeInfo* saved = current_;
        current_ = &scope;
        bool inner = false;
        for (std::size_t i = 0; i < e.generators.size(); ++i) {
          auto& g = e.generators[i];
          if (g.is_async) { check_await_allowed(e.line, e.column, "asynchronous comprehension"); inner = true; }
          inner |= visit(*g.target);
          if (i > 0) inner |= visit(*g.iter);
          for (auto& c : g.conditions) inner |= visit(*c);
        }
        inner |= visit(*e.a);
        if (e.b) inner |= visit(*e.b);
        current_ = saved;
        FunctionDef& f = *e.function;
        f.slot_names.resize(scope.locals.size());
        f.slot_is_cell.resize(scope.locals.size(), false);
        for (auto& [name, slot] : scope.locals) f.slot_names[slot] = name;
        for (int cell : cells_[&f]) f.slot_is_cell[cell] = true;
        f.free_names.resize(scope.free.size());
        for (auto& [name, index] : scope.free) f.free_names[index] = name;
        f.has_await = inner;
        if (inner && e.kind == EK::kGenExp) {
          throw SyntaxError("SyntaxError", "asynchronous generator expressions are not supported by the aio REPL", e.line, e.column);
        }
        aw |= inner;
        break;
      }
      default:
        if (e.a) aw |= visit(*e.a);
        if (e.b) aw |= visit(*e.b);
        if (e.c) aw |= visit(*e.c);
        for (auto& i : e.items) if (i) aw |= visit(*i);
        for (auto& v : e.values) if (v) aw |= visit(*v);
        for (auto& k : e.keywords) aw |= visit(*k.value);
        for (auto& p : e.parts) {
          if (p.expr) aw |= visit(*p.expr);
          if (p.spec) aw |= visit(*p.spec);
        }
    }
    e.has_await = aw;
    return aw;
  }

  bool visit_body(Body& body) {
    bool aw = false;
    for (auto& s : body) aw |= visit_stmt(*s);
    return aw;
  }

  bool visit_stmt(Stmt& st) {
    bool aw = false;
    if (st.is_async && st.kind != SK::kDef) {
      check_await_allowed(st.line, st.column, st.kind == SK::kFor ? "'async for'" : "'async with'");
      aw = true;
    }
    switch (st.kind) {
      case SK::kDef: {
        FunctionDef& f = *st.function;
        f.qualname = qualname_prefix() + f.name;
        for (auto& p : f.params) if (p.default_value) aw |= visit(*p.default_value);
        for (auto& p : f.kwonly) if (p.default_value) aw |= visit(*p.default_value);
        resolve_function(f, current_);
        f.has_await = true;
        Expr target;
        target.kind = EK::kName;
        target.text = f.name;
        resolve_name(target);
        st.targets.push_back(std::make_unique<Expr>(std::move(target)));
        break;
      }
      case SK::kClass: {
        for (auto& b : st.bases) aw |= visit(*b);
        st.function->qualname = qualname_prefix() + st.function->name;
        resolve_function(*st.function, current_);
        Expr target;
        target.kind = EK::kName;
        target.text = st.function->name;
        resolve_name(target);
        st.targets.push_back(std::make_unique<Expr>(std::move(target)));
        break;
      }
      case SK::kReturn:
        if (!current_ || current_->function->is_module || current_->function->is_class) {
          throw SyntaxError("SyntaxError", "'return' outside function", st.line, st.column);
        }
        break;
      case SK::kNonlocal:
        if (current_->function->is_module) throw SyntaxError("SyntaxError", "nonlocal declaration not allowed at module level", st.line, st.column);
        for (auto& n : st.idents) {
          if (resolve_free(*current_, n) < 0) throw SyntaxError("SyntaxError", "no binding for nonlocal '" + n + "' found", st.line, st.column);
        }
        break;
      default: break;
    }
    for (auto& t : st.targets) aw |= visit(*t);
    if (st.value) aw |= visit(*st.value);
    if (st.target) aw |= visit(*st.target);
    if (st.cause) aw |= visit(*st.cause);
    for (auto& i : st.items) {
      aw |= visit(*i.context);
      if (i.target) aw |= visit(*i.target);
    }
    for (auto& a : st.names) visit(*a.target);
    if (st.kind == SK::kBreak || st.kind == SK::kContinue) {
      if (loop_depth_ == 0) {
        throw SyntaxError("SyntaxError", st.kind == SK::kBreak ? "'break' outside loop" : "'continue' not properly in loop", st.line, st.column);
      }
    }
    bool loop = st.kind == SK::kFor || st.kind == SK::kWhile;
    if (st.kind != SK::kDef && st.kind != SK::kClass) {
      if (loop) ++loop_depth_;
      aw |= visit_body(st.body);
      if (loop) --loop_depth_;
      aw |= visit_body(st.orelse);
      aw |= visit_body(st.finalbody);
      for (auto& h : st.handlers) {
        if (h.type) aw |= visit(*h.type);
        if (h.name_expr) visit(*h.name_expr);
        aw |= visit_body(h.body);
      }
    }
    st.has_await = aw;
    return aw;
  }

  std::string qualname_prefix() const {
    std::string prefix;
    for (ScopeInfo* s = current_; s && !s->function->is_module; s = s->parent) {
      std::string part = s->function->name + (s->function->is_class ? "." : ".<locals>.");
      prefix = part + prefix;
    }
    return prefix;
  }

  ScopeInfo* current_ = nullptr;
  int loop_depth_ = 0;
  bool top_level_await_;

 public:
  void resolve_module(FunctionDef& module) {
    ScopeInfo scope{&module, nullptr, {}, {}, {}, {}};
    current_ = &scope;
    int saved = loop_depth_;
    loop_depth_ = 0;
    module.has_await = visit_body(module.body);
    loop_depth_ = saved;
    current_ = nullptr;
  }
};

}  // namespace

std::shared_ptr<Program> parse_program(const std::string& source, const std::string& filename,
                                       const ParseOptions& options) {
  auto program = std::make_shared<Program>();
  program->filename = filename;
  std::size_t start = 0;
  while (start <= source.size()) {
    std::size_t end = source.find('\n', start);
    if (end == std::string::npos) end = source.size();
    program->lines.push_back(source.substr(start, end - start));
    start = end + 1;
  }
  std::optional<SyntaxError> unclosed;
  Parser parser(tokenize(source, &unclosed), filename);
  try {
    program->module = parser.parse_module();
  } catch (const SyntaxError& e) {
    // An error the parser found before the end wins over the open bracket.
    if (unclosed && (e.message == "unexpected EOF while parsing" || e.line > unclosed->line)) throw *unclosed;
    throw;
  }
  if (unclosed) throw *unclosed;
  Resolver resolver(options.top_level_await);
  resolver.resolve_module(*program->module);
  return program;
}

}  // namespace repl
