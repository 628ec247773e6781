// The evaluator. Two paths over the same tree:
//   * eval()/exec(): plain C++ recursion, for every node whose has_await is
//     false (most of a program);
//   * eval_async()/exec_async(): aio coroutines, only for nodes that contain an
//     await, so suspension points are exactly the program's awaits.
// Control flow (break/continue/return) is a Flow result, not an exception;
// Python exceptions are C++ exceptions (PyError/PyCancelled, interpreter.h).
// Each statement that lets an exception escape adds its frame's line to the
// exception's traceback (once per frame). Handlers that await run after the
// C++ catch block has ended (GCC 12 and C++ forbid co_await inside a handler).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>

#include "tools/repl/internal.h"

namespace repl {
namespace {

enum class Flow { kNormal, kBreak, kContinue, kReturn };

// Stack depth guard: the native stack is what deep recursion exhausts (in the
// interpreter's C++ recursion and in nested coroutine resumption alike).
// The frame address, not a local's: under ASan's fake stacks locals live on
// the heap, frames do not.
thread_local const char* stack_base = nullptr;
constexpr std::ptrdiff_t kStackLimit = 3 * 1024 * 1024;

void check_stack(Interpreter& in) {
  const char* here = static_cast<const char*>(__builtin_frame_address(0));
  if (stack_base == nullptr || here > stack_base) stack_base = here;
  if (stack_base - here > kStackLimit) in.raise("RecursionError", "maximum recursion depth exceeded");
}

// Cold path of count_statement: raises KeyboardInterrupt when the console's
// Ctrl-C is meant for the task running this statement.
[[gnu::noinline]] void check_interrupt(Interpreter& in) {
  std::optional<aio::AnyTask> task = aio::current_task();
  if (!task || task->id() != in.interrupt_task) return;
  std::int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                         std::chrono::steady_clock::now().time_since_epoch()).count();
  if (now - in.interrupt_requested_at.load() < Interpreter::kInterruptGraceNs) return;
  if (!in.interrupt_requested.exchange(false)) return;
  in.throw_exception(in.new_exception(in.exception_type("KeyboardInterrupt"), {}));
}

void count_statement(Interpreter& in) {
  if (__builtin_expect(in.interrupt_requested.load(std::memory_order_relaxed), false)) check_interrupt(in);
  if (in.options.max_statements != 0 && ++in.statements_run > in.options.max_statements) {
    in.raise("RuntimeError", "the statement budget (--max-statements) is exhausted");
  }
}

void add_traceback(Interpreter& in, const Value& exc, Frame& frame, int line) {
  if (!exc.is_obj()) return;
  auto* inst = dynamic_cast<InstanceObj*>(exc.obj());
  if (!inst) return;
  if (!inst->traceback.empty() && inst->traceback.back().frame == &frame) return;
  (void)in;
  inst->traceback.push_back({frame.def ? frame.def->filename : "<unknown>", line,
                             frame.def ? frame.def->name : "<module>", &frame});
}

// Rethrows the exception in flight as a Python exception with this frame in
// its traceback. Call only inside a catch block.
[[noreturn]] void annotate_and_rethrow(Interpreter& in, Frame& frame, int line) {
  try {
    throw;
  } catch (PyError& e) {
    add_traceback(in, e.exc, frame, line);
    throw;
  } catch (PyCancelled& e) {
    add_traceback(in, e.exc, frame, line);
    throw;
  } catch (...) {
    Value exc = in.exception_from(std::current_exception());
    add_traceback(in, exc, frame, line);
    in.throw_exception(exc);
  }
}

Value cell_for(Interpreter& in, Frame& frame, const std::string& name) {
  if (frame.def) {
    for (std::size_t i = 0; i < frame.def->slot_names.size(); ++i) {
      if (frame.def->slot_names[i] == name && frame.def->slot_is_cell[i]) return frame.slots[i];
    }
    for (std::size_t i = 0; i < frame.def->free_names.size(); ++i) {
      if (frame.def->free_names[i] == name) return frame.function.as<FunctionObj>()->closure[i];
    }
  }
  in.raise("SystemError", "no cell for '" + name + "'");
}

void init_slots(Frame& frame, FunctionDef& def) {
  frame.def = &def;
  frame.slots.assign(def.slot_names.size(), Value::undef());
  for (std::size_t i = 0; i < def.slot_is_cell.size(); ++i) {
    if (def.slot_is_cell[i]) frame.slots[i] = Value(new CellObj());
  }
}

void set_slot(Frame& frame, int slot, Value v) {
  if (frame.def->slot_is_cell[slot]) frame.slots[slot].as<CellObj>()->v = std::move(v);
  else frame.slots[slot] = std::move(v);
}

Value load_name(Interpreter& in, Expr& e, Frame& f) {
  switch (e.scope) {
    case Scope::kLocal: {
      const Value& slot = f.slots[e.slot];
      const Value& v = f.def->slot_is_cell[e.slot] ? slot.as<CellObj>()->v : slot;
      if (v.is_undef()) in.raise("UnboundLocalError", "cannot access local variable '" + e.text + "' where it is not associated with a value");
      return v;
    }
    case Scope::kCell: break;
    case Scope::kFree: {
      const Value& v = f.function.as<FunctionObj>()->closure[e.slot].as<CellObj>()->v;
      if (v.is_undef()) in.raise("NameError", "cannot access free variable '" + e.text + "' where it is not associated with a value in enclosing scope");
      return v;
    }
    case Scope::kClassOrGlobal:
      if (f.class_namespace) {
        auto it = f.class_namespace->find(e.text);
        if (it != f.class_namespace->end()) return it->second;
      }
      [[fallthrough]];
    case Scope::kGlobal:
    case Scope::kUnresolved: {
      auto it = f.globals->find(e.text);
      if (it != f.globals->end()) return it->second;
      auto b = in.builtins.find(e.text);
      if (b != in.builtins.end()) return b->second;
      in.raise("NameError", "name '" + e.text + "' is not defined");
    }
  }
  return Value();
}

void store_name(Interpreter& in, Expr& e, Value v, Frame& f) {
  (void)in;
  switch (e.scope) {
    case Scope::kLocal: case Scope::kCell: set_slot(f, e.slot, std::move(v)); return;
    case Scope::kFree: f.function.as<FunctionObj>()->closure[e.slot].as<CellObj>()->v = std::move(v); return;
    case Scope::kClassOrGlobal:
      if (f.class_namespace) { (*f.class_namespace)[e.text] = std::move(v); return; }
      [[fallthrough]];
    default: (*f.globals)[e.text] = std::move(v);
  }
}

void delete_name(Interpreter& in, Expr& e, Frame& f) {
  switch (e.scope) {
    case Scope::kLocal: case Scope::kCell: {
      Value& slot = f.def->slot_is_cell[e.slot] ? f.slots[e.slot].as<CellObj>()->v : f.slots[e.slot];
      if (slot.is_undef()) in.raise("UnboundLocalError", "cannot access local variable '" + e.text + "' where it is not associated with a value");
      slot = Value::undef();
      return;
    }
    case Scope::kFree: f.function.as<FunctionObj>()->closure[e.slot].as<CellObj>()->v = Value::undef(); return;
    default: {
      AttrMap* ns = (e.scope == Scope::kClassOrGlobal && f.class_namespace) ? f.class_namespace : f.globals;
      if (!ns->erase(e.text)) in.raise("NameError", "name '" + e.text + "' is not defined");
    }
  }
}

Value eval(Interpreter& in, Expr& e, Frame& f);
Flow exec_body(Interpreter& in, Body& body, Frame& f);
aio::Coro<Value> eval_async(Interpreter* in, Expr* e, Frame* f);
aio::Coro<Flow> exec_body_async(Interpreter* in, Body* body, Frame* f);

void store(Interpreter& in, Expr& target, Value v, Frame& f);

void unpack_into(Interpreter& in, Expr& target, const Value& v, Frame& f) {
  std::vector<Value> items;
  TypeObj* type = in.type_of(v);
  if (type == in.t.tuple) items = v.as<TupleObj>()->v;
  else if (type == in.t.list) items = v.as<ListObj>()->v;
  else {
    if (!in.hasattr(v, "__iter__") && type != in.t.str && type != in.t.dict && type != in.t.set && type != in.t.range &&
        type != in.t.bytes && type != in.t.iterator && type != in.t.frozenset) {
      in.raise("TypeError", "cannot unpack non-iterable " + type->name + " object");
    }
    items = in.to_vector(v);
  }
  int star = -1;
  for (std::size_t i = 0; i < target.items.size(); ++i) if (target.items[i]->kind == EK::kStarred) star = static_cast<int>(i);
  std::size_t n = target.items.size();
  if (star < 0) {
    if (items.size() < n) in.raise("ValueError", "not enough values to unpack (expected " + std::to_string(n) + ", got " + std::to_string(items.size()) + ")");
    if (items.size() > n) in.raise("ValueError", "too many values to unpack (expected " + std::to_string(n) + ")");
    for (std::size_t i = 0; i < n; ++i) store(in, *target.items[i], items[i], f);
    return;
  }
  if (items.size() < n - 1) in.raise("ValueError", "not enough values to unpack (expected at least " + std::to_string(n - 1) + ", got " + std::to_string(items.size()) + ")");
  std::size_t after = n - star - 1;
  for (int i = 0; i < star; ++i) store(in, *target.items[i], items[i], f);
  std::vector<Value> rest(items.begin() + star, items.end() - after);
  store(in, *target.items[star]->a, in.list_value(std::move(rest)), f);
  for (std::size_t i = 0; i < after; ++i) store(in, *target.items[star + 1 + i], items[items.size() - after + i], f);
}

void store(Interpreter& in, Expr& target, Value v, Frame& f) {
  switch (target.kind) {
    case EK::kName: store_name(in, target, std::move(v), f); return;
    case EK::kAttribute: in.setattr(eval(in, *target.a, f), target.text, std::move(v)); return;
    case EK::kSubscript: {
      Value obj = eval(in, *target.a, f);
      Value key = eval(in, *target.b, f);
      set_item(in, obj, key, std::move(v));
      return;
    }
    case EK::kTuple: case EK::kList: unpack_into(in, target, v, f); return;
    case EK::kStarred: in.raise("SyntaxError", "starred assignment target must be in a list or tuple");
    default: in.raise("SyntaxError", "cannot assign to expression");
  }
}

// Arguments of a call, evaluated synchronously.
void eval_args(Interpreter& in, Expr& call, Frame& f, CallArgs& args) {
  args.pos.reserve(call.items.size());
  for (auto& item : call.items) {
    if (item->kind == EK::kStarred) {
      Value seq = eval(in, *item->a, f);
      in.iterate(seq, [&](const Value& v) { args.pos.push_back(v); return true; });
    } else {
      args.pos.push_back(eval(in, *item, f));
    }
  }
  for (auto& k : call.keywords) {
    Value v = eval(in, *k.value, f);
    if (k.name.empty()) merge_kwargs(in, args, v);
    else args.kw.emplace_back(k.name, std::move(v));
  }
}

Value make_super(Interpreter& in, Frame& f) {
  if (!f.function.is_obj() || !f.def || f.def->params.empty()) in.raise("RuntimeError", "super(): no arguments");
  auto* fn = f.function.as<FunctionObj>();
  if (!fn->owner_class.is_obj()) in.raise("RuntimeError", "super(): __class__ cell not found");
  Value self = f.slots[f.def->params[0].slot];
  if (f.def->slot_is_cell[f.def->params[0].slot]) self = Value(self.as<CellObj>()->v);
  auto* s = new SuperObj(fn->owner_class.as<TypeObj>()->base, self);
  s->type = in.t.object;
  return Value(s);
}

Value call_expr(Interpreter& in, Expr& e, Frame& f) {
  Expr& callee_expr = *e.a;
  if (callee_expr.kind == EK::kName && callee_expr.text == "super" && e.items.empty() && callee_expr.scope == Scope::kGlobal &&
      !f.globals->count("super")) {
    return make_super(in, f);
  }
  CallArgs args;
  Value callee;
  if (callee_expr.kind == EK::kAttribute) {
    Value obj = eval(in, *callee_expr.a, f);
    if (load_method(in, obj, callee_expr.text, callee)) args.pos.push_back(std::move(obj));
  } else {
    callee = eval(in, callee_expr, f);
  }
  eval_args(in, e, f, args);
  return in.call(callee, args);
}

Value make_function(Interpreter& in, const std::shared_ptr<FunctionDef>& def, Frame& f, std::vector<Value> defaults,
                    std::vector<Value> kwdefaults) {
  auto* fn = new FunctionObj(def, nullptr);
  fn->type = in.t.function;
  fn->defaults = std::move(defaults);
  fn->kwdefaults = std::move(kwdefaults);
  for (const std::string& name : def->free_names) fn->closure.push_back(cell_for(in, f, name));
  fn->globals_ref = f.globals;
  return Value(fn);
}

// Comprehensions run in a frame of their own (Python 3.11 scoping).
struct ComprehensionRun {
  Interpreter& in;
  Expr& e;
  Frame frame;
  Value result;
  ComprehensionRun(Interpreter& in, Expr& e, Frame& outer) : in(in), e(e) {
    init_slots(frame, *e.function);
    frame.globals = outer.globals;
    frame.class_namespace = nullptr;
    auto* fn = new FunctionObj(e.function, nullptr);
    fn->type = in.t.function;
    for (const std::string& name : e.function->free_names) fn->closure.push_back(cell_for(in, outer, name));
    frame.function = Value(fn);
    if (e.kind == EK::kListComp || e.kind == EK::kGenExp) result = in.list_value();
    else if (e.kind == EK::kSetComp) result = new_set(in);
    else result = in.dict_value();
  }
  void emit() {
    if (e.kind == EK::kDictComp) {
      Value k = eval(in, *e.a, frame);
      Value v = eval(in, *e.b, frame);
      set_item(in, result, k, std::move(v));
    } else if (e.kind == EK::kSetComp) {
      set_add(in, result, eval(in, *e.a, frame));
    } else {
      result.as<ListObj>()->v.push_back(eval(in, *e.a, frame));
    }
  }
  void run(std::size_t level, const Value& first_iter) {
    Comprehension& g = e.generators[level];
    Value iterable = level == 0 ? first_iter : eval(in, *g.iter, frame);
    in.iterate(iterable, [&](const Value& item) {
      store(in, *g.target, item, frame);
      for (auto& c : g.conditions) if (!in.truthy(eval(in, *c, frame))) return true;
      if (level + 1 == e.generators.size()) emit(); else run(level + 1, Value());
      return true;
    });
  }
};

Value eval_comprehension(Interpreter& in, Expr& e, Frame& f) {
  Value first = eval(in, *e.generators[0].iter, f);
  ComprehensionRun run(in, e, f);
  run.run(0, first);
  if (e.kind == EK::kGenExp) return in.get_iterator(run.result);
  return run.result;
}

Value eval_fstring(Interpreter& in, Expr& e, Frame& f, const std::vector<Value>* precomputed) {
  std::string out;
  std::size_t k = 0;
  for (auto& part : e.parts) {
    if (!part.expr) { out += part.literal; continue; }
    Value v = precomputed ? (*precomputed)[k++] : eval(in, *part.expr, f);
    if (part.conversion == 'r' || part.conversion == 'a') v = in.str_value(in.repr(v));
    else if (part.conversion == 's') v = in.str_value(in.str(v));
    std::string spec = part.spec ? in.str(eval_fstring(in, *part.spec, f, nullptr)) : "";
    out += in.format(v, spec);
  }
  return in.str_value(std::move(out));
}

Value eval(Interpreter& in, Expr& e, Frame& f) {
  switch (e.kind) {
    case EK::kName: return load_name(in, e, f);
    case EK::kNone: return Value();
    case EK::kTrue: return Value::boolean(true);
    case EK::kFalse: return Value::boolean(false);
    case EK::kEllipsis: return in.builtins["Ellipsis"];
    case EK::kInt: return Value::integer(e.int_value);
    case EK::kFloat: return Value::real(e.float_value);
    case EK::kStr: return in.str_value(e.text);
    case EK::kBytes: return in.bytes_value(e.text);
    case EK::kFString: return eval_fstring(in, e, f, nullptr);
    case EK::kBinOp: {
      Value a = eval(in, *e.a, f);
      Value b = eval(in, *e.b, f);
      return binary_op(in, e.text, a, b);
    }
    case EK::kUnary: return unary_op(in, e.text, eval(in, *e.a, f));
    case EK::kNot: return Value::boolean(!in.truthy(eval(in, *e.a, f)));
    case EK::kAnd: {
      Value v;
      for (auto& item : e.items) {
        v = eval(in, *item, f);
        if (!in.truthy(v)) return v;
      }
      return v;
    }
    case EK::kOr: {
      Value v;
      for (auto& item : e.items) {
        v = eval(in, *item, f);
        if (in.truthy(v)) return v;
      }
      return v;
    }
    case EK::kCompare: {
      Value left = eval(in, *e.items[0], f);
      for (std::size_t i = 0; i < e.ops.size(); ++i) {
        Value right = eval(in, *e.items[i + 1], f);
        if (!compare_op(in, e.ops[i], left, right)) return Value::boolean(false);
        left = std::move(right);
      }
      return Value::boolean(true);
    }
    case EK::kIfExp: return in.truthy(eval(in, *e.b, f)) ? eval(in, *e.a, f) : eval(in, *e.c, f);
    case EK::kAttribute: return in.getattr(eval(in, *e.a, f), e.text);
    case EK::kSubscript: {
      Value obj = eval(in, *e.a, f);
      return get_item(in, obj, eval(in, *e.b, f));
    }
    case EK::kSlice: {
      Value a = e.a ? eval(in, *e.a, f) : Value();
      Value b = e.b ? eval(in, *e.b, f) : Value();
      Value c = e.c ? eval(in, *e.c, f) : Value();
      auto* s = new SliceObj(a, b, c);
      s->type = in.t.slice;
      return Value(s);
    }
    case EK::kCall:
      check_stack(in);
      return call_expr(in, e, f);
    case EK::kList: case EK::kTuple: case EK::kSet: {
      std::vector<Value> items;
      items.reserve(e.items.size());
      for (auto& item : e.items) {
        if (item->kind == EK::kStarred) {
          in.iterate(eval(in, *item->a, f), [&](const Value& v) { items.push_back(v); return true; });
        } else {
          items.push_back(eval(in, *item, f));
        }
      }
      if (e.kind == EK::kList) return in.list_value(std::move(items));
      if (e.kind == EK::kTuple) return in.tuple_value(std::move(items));
      Value s = new_set(in);
      for (auto& v : items) set_add(in, s, v);
      return s;
    }
    case EK::kDict: {
      Value d = in.dict_value();
      for (std::size_t i = 0; i < e.items.size(); ++i) {
        if (!e.items[i]) {
          Value other = eval(in, *e.values[i], f);
          dict_update(in, d, other);
          continue;
        }
        Value k = eval(in, *e.items[i], f);
        set_item(in, d, k, eval(in, *e.values[i], f));
      }
      return d;
    }
    case EK::kListComp: case EK::kSetComp: case EK::kDictComp: case EK::kGenExp:
      return eval_comprehension(in, e, f);
    case EK::kLambda: {
      std::vector<Value> defaults, kwdefaults;
      for (auto& p : e.function->params) if (p.default_value) defaults.push_back(eval(in, *p.default_value, f));
      for (auto& p : e.function->kwonly) kwdefaults.push_back(p.default_value ? eval(in, *p.default_value, f) : Value::undef());
      return make_function(in, e.function, f, std::move(defaults), std::move(kwdefaults));
    }
    case EK::kNamedExpr: {
      Value v = eval(in, *e.b, f);
      store_name(in, *e.a, v, f);
      return v;
    }
    case EK::kAwait: in.raise("SyntaxError", "'await' outside async function");
    case EK::kStarred: in.raise("SyntaxError", "can't use starred expression here");
    case EK::kDoubleStarred: in.raise("SyntaxError", "invalid syntax");
  }
  return Value();
}

// ---- the async expression path -------------------------------------------------

aio::Coro<Value> eval_any(Interpreter* in, Expr* e, Frame* f) {
  if (!e->has_await) co_return eval(*in, *e, *f);
  co_return co_await eval_async(in, e, f);
}

aio::Coro<Value> call_expr_async(Interpreter* in, Expr* e, Frame* f) {
  CallArgs args;
  Value callee;
  Expr& callee_expr = *e->a;
  if (callee_expr.kind == EK::kAttribute) {
    Value obj = co_await eval_any(in, callee_expr.a.get(), f);
    if (load_method(*in, obj, callee_expr.text, callee)) args.pos.push_back(std::move(obj));
  } else {
    callee = co_await eval_any(in, &callee_expr, f);
  }
  for (auto& item : e->items) {
    if (item->kind == EK::kStarred) {
      Value seq = co_await eval_any(in, item->a.get(), f);
      in->iterate(seq, [&](const Value& v) { args.pos.push_back(v); return true; });
    } else {
      Value v = co_await eval_any(in, item.get(), f);
      args.pos.push_back(std::move(v));
    }
  }
  for (auto& k : e->keywords) {
    Value v = co_await eval_any(in, k.value.get(), f);
    if (k.name.empty()) merge_kwargs(*in, args, v);
    else args.kw.emplace_back(k.name, std::move(v));
  }
  co_return in->call(callee, args);
}

aio::Coro<Value> comprehension_async(Interpreter* in, Expr* e, Frame* f);

aio::Coro<Value> eval_async(Interpreter* in, Expr* e, Frame* f) {
  switch (e->kind) {
    case EK::kAwait: {
      Value awaitable = co_await eval_any(in, e->a.get(), f);
      co_return co_await in->await_value(std::move(awaitable));
    }
    case EK::kCall: co_return co_await call_expr_async(in, e, f);
    case EK::kBinOp: {
      Value a = co_await eval_any(in, e->a.get(), f);
      Value b = co_await eval_any(in, e->b.get(), f);
      co_return binary_op(*in, e->text, a, b);
    }
    case EK::kUnary: {
      Value a = co_await eval_any(in, e->a.get(), f);
      co_return unary_op(*in, e->text, a);
    }
    case EK::kNot: {
      Value a = co_await eval_any(in, e->a.get(), f);
      co_return Value::boolean(!in->truthy(a));
    }
    case EK::kAnd: case EK::kOr: {
      Value v;
      for (auto& item : e->items) {
        v = co_await eval_any(in, item.get(), f);
        bool t = in->truthy(v);
        if (e->kind == EK::kAnd ? !t : t) co_return v;
      }
      co_return v;
    }
    case EK::kCompare: {
      Value left = co_await eval_any(in, e->items[0].get(), f);
      for (std::size_t i = 0; i < e->ops.size(); ++i) {
        Value right = co_await eval_any(in, e->items[i + 1].get(), f);
        if (!compare_op(*in, e->ops[i], left, right)) co_return Value::boolean(false);
        left = std::move(right);
      }
      co_return Value::boolean(true);
    }
    case EK::kIfExp: {
      Value test = co_await eval_any(in, e->b.get(), f);
      Expr* chosen = in->truthy(test) ? e->a.get() : e->c.get();
      co_return co_await eval_any(in, chosen, f);
    }
    case EK::kAttribute: {
      Value obj = co_await eval_any(in, e->a.get(), f);
      co_return in->getattr(obj, e->text);
    }
    case EK::kSubscript: {
      Value obj = co_await eval_any(in, e->a.get(), f);
      Value key = co_await eval_any(in, e->b.get(), f);
      co_return get_item(*in, obj, key);
    }
    case EK::kList: case EK::kTuple: case EK::kSet: {
      std::vector<Value> items;
      for (auto& item : e->items) {
        if (item->kind == EK::kStarred) {
          Value seq = co_await eval_any(in, item->a.get(), f);
          in->iterate(seq, [&](const Value& v) { items.push_back(v); return true; });
        } else {
          Value v = co_await eval_any(in, item.get(), f);
          items.push_back(std::move(v));
        }
      }
      if (e->kind == EK::kList) co_return in->list_value(std::move(items));
      if (e->kind == EK::kTuple) co_return in->tuple_value(std::move(items));
      Value s = new_set(*in);
      for (auto& v : items) set_add(*in, s, v);
      co_return s;
    }
    case EK::kDict: {
      Value d = in->dict_value();
      for (std::size_t i = 0; i < e->items.size(); ++i) {
        if (!e->items[i]) {
          Value other = co_await eval_any(in, e->values[i].get(), f);
          dict_update(*in, d, other);
          continue;
        }
        Value k = co_await eval_any(in, e->items[i].get(), f);
        Value v = co_await eval_any(in, e->values[i].get(), f);
        set_item(*in, d, k, std::move(v));
      }
      co_return d;
    }
    case EK::kFString: {
      std::vector<Value> values;
      for (auto& part : e->parts) {
        if (!part.expr) continue;
        Value v = co_await eval_any(in, part.expr.get(), f);
        values.push_back(std::move(v));
      }
      co_return eval_fstring(*in, *e, *f, &values);
    }
    case EK::kNamedExpr: {
      Value v = co_await eval_any(in, e->b.get(), f);
      store_name(*in, *e->a, v, *f);
      co_return v;
    }
    case EK::kListComp: case EK::kSetComp: case EK::kDictComp:
      co_return co_await comprehension_async(in, e, f);
    default: break;
  }
  in->raise("SyntaxError", "'await' is not supported in this position by the aio REPL");
}

aio::Coro<void> comprehension_level(Interpreter* in, ComprehensionRun* run, std::size_t level, Value first) {
  Expr& e = run->e;
  Comprehension& g = e.generators[level];
  Value iterable = first;
  if (level > 0) iterable = co_await eval_any(in, g.iter.get(), &run->frame);
  if (g.is_async) in->raise("SyntaxError", "'async for' in comprehensions is not supported by the aio REPL");
  Value it = in->get_iterator(iterable);
  auto* iter = it.as<IteratorObj>();
  Value item;
  while (iter->next(item)) {
    store(*in, *g.target, item, run->frame);
    bool keep = true;
    for (auto& c : g.conditions) {
      Value t = co_await eval_any(in, c.get(), &run->frame);
      if (!in->truthy(t)) { keep = false; break; }
    }
    if (!keep) continue;
    if (level + 1 < e.generators.size()) {
      co_await comprehension_level(in, run, level + 1, Value());
      continue;
    }
    if (e.kind == EK::kDictComp) {
      Value k = co_await eval_any(in, e.a.get(), &run->frame);
      Value v = co_await eval_any(in, e.b.get(), &run->frame);
      set_item(*in, run->result, k, std::move(v));
    } else {
      Value v = co_await eval_any(in, e.a.get(), &run->frame);
      if (e.kind == EK::kSetComp) set_add(*in, run->result, v);
      else run->result.as<ListObj>()->v.push_back(std::move(v));
    }
  }
}

aio::Coro<Value> comprehension_async(Interpreter* in, Expr* e, Frame* f) {
  Value first = co_await eval_any(in, e->generators[0].iter.get(), f);
  auto run = std::make_unique<ComprehensionRun>(*in, *e, *f);
  co_await comprehension_level(in, run.get(), 0, first);
  co_return run->result;
}

// ---- statements -------------------------------------------------------------------

Value import_module(Interpreter& in, const std::string& name) {
  auto it = in.modules.find(name);
  if (it == in.modules.end()) {
    std::vector<Value> args;
    args.push_back(in.str_value("No module named '" + name + "' (the aio REPL has asyncio, time, random and sys)"));
    Value exc = in.new_exception(in.exception_type("ModuleNotFoundError"), std::move(args));
    exc.as<InstanceObj>()->attrs["name"] = in.str_value(name);
    in.throw_exception(exc);
  }
  return it->second;
}

void exec_import(Interpreter& in, Stmt& s, Frame& f) {
  if (s.kind == SK::kImport) {
    for (auto& a : s.names) {
      Value module = import_module(in, a.name);
      if (a.as_name.empty() && a.name.find('.') != std::string::npos) module = import_module(in, a.name.substr(0, a.name.find('.')));
      store_name(in, *a.target, module, f);
    }
    return;
  }
  Value module = import_module(in, s.module);
  for (auto& a : s.names) {
    if (!in.hasattr(module, a.name)) {
      in.raise("ImportError", "cannot import name '" + a.name + "' from '" + s.module + "' (aio REPL)");
    }
    store_name(in, *a.target, in.getattr(module, a.name), f);
  }
}

Value make_exception_value(Interpreter& in, Value v) {
  if (v.is_obj() && in.type_of(v) == in.t.type && v.as<TypeObj>()->is_exception) return in.call0(v);
  if (v.is_obj() && in.type_of(v)->is_exception) return v;
  in.raise("TypeError", "exceptions must derive from BaseException");
}

[[noreturn]] void do_raise(Interpreter& in, Stmt& s, Frame& f, Value exc_value, Value cause_value, bool has_cause) {
  if (!s.value) {
    if (f.handling.empty()) in.raise("RuntimeError", "No active exception to reraise");
    in.throw_exception(f.handling.back());
  }
  Value exc = make_exception_value(in, std::move(exc_value));
  auto* inst = exc.as<InstanceObj>();
  if (has_cause) {
    if (cause_value.is_none()) inst->cause = Value();
    else inst->cause = make_exception_value(in, cause_value);
    inst->suppress_context = true;
  }
  if (!f.handling.empty() && !f.handling.back().identical(exc) && inst->context.is_none()) inst->context = f.handling.back();
  in.throw_exception(exc);
}

void exec_del(Interpreter& in, Expr& t, Frame& f) {
  switch (t.kind) {
    case EK::kName: delete_name(in, t, f); return;
    case EK::kSubscript: {
      Value obj = eval(in, *t.a, f);
      del_item(in, obj, eval(in, *t.b, f));
      return;
    }
    case EK::kAttribute: {
      Value obj = eval(in, *t.a, f);
      del_attr(in, obj, t.text);
      return;
    }
    case EK::kTuple: case EK::kList:
      for (auto& item : t.items) exec_del(in, *item, f);
      return;
    default: in.raise("SyntaxError", "cannot delete expression");
  }
}

Value aug_load(Interpreter& in, Expr& target, Frame& f, Value& obj, Value& key) {
  switch (target.kind) {
    case EK::kName: return load_name(in, target, f);
    case EK::kAttribute: obj = eval(in, *target.a, f); return in.getattr(obj, target.text);
    case EK::kSubscript:
      obj = eval(in, *target.a, f);
      key = eval(in, *target.b, f);
      return get_item(in, obj, key);
    default: in.raise("SyntaxError", "illegal expression for augmented assignment");
  }
}

void aug_store(Interpreter& in, Expr& target, Frame& f, Value& obj, Value& key, Value v) {
  switch (target.kind) {
    case EK::kName: store_name(in, target, std::move(v), f); return;
    case EK::kAttribute: in.setattr(obj, target.text, std::move(v)); return;
    default: set_item(in, obj, key, std::move(v));
  }
}

Value inplace_op(Interpreter& in, const std::string& op, Value current, const Value& operand) {
  if (op == "+" && in.type_of(current) == in.t.list) {
    std::vector<Value> items = in.to_vector(operand);
    auto& v = current.as<ListObj>()->v;
    v.insert(v.end(), items.begin(), items.end());
    return current;
  }
  return binary_op(in, op, current, operand);
}

Value define_function(Interpreter& in, Stmt& s, Frame& f, std::vector<Value> defaults, std::vector<Value> kwdefaults) {
  Value fn = make_function(in, s.function, f, std::move(defaults), std::move(kwdefaults));
  if (f.class_namespace) fn.as<FunctionObj>()->owner_class = f.function_class;
  return fn;
}

Value define_class(Interpreter& in, Stmt& s, Frame& f, std::vector<Value> bases) {
  if (bases.size() > 1) in.raise("TypeError", "multiple inheritance is not supported by the aio REPL (class " + s.function->name + ")");
  TypeObj* base = in.t.object;
  Value base_ref;
  if (!bases.empty()) {
    if (!bases[0].is_obj() || in.type_of(bases[0]) != in.t.type) in.raise("TypeError", "the base of class " + s.function->name + " must be a class");
    base = bases[0].as<TypeObj>();
    base_ref = bases[0];
    if (base->construct && !base->is_exception) in.raise("TypeError", "subclassing the built-in type '" + base->name + "' is not supported by the aio REPL");
  }
  auto* type = new TypeObj(s.function->name, base, "__main__");
  type->type = in.t.type;
  type->user_defined = true;
  type->is_exception = base->is_exception;
  type->base_ref = base_ref;
  type->construct = nullptr;
  Value type_value(type);
  Frame body;
  body.def = s.function.get();
  body.globals = f.globals;
  body.class_namespace = &type->attrs;
  body.function = f.function;
  body.function_class = type_value;
  exec_body(in, s.function->body, body);
  type->attrs.emplace("__qualname__", in.str_value(s.function->qualname));
  return type_value;
}

// Evaluates the types of an except clause and tells if `exc` matches.
bool handler_matches(Interpreter& in, const Value& types, const Value& exc) {
  TypeObj* type = in.type_of(exc);
  auto one = [&](const Value& t) {
    if (!t.is_obj() || in.type_of(t) != in.t.type || !t.as<TypeObj>()->is_exception) {
      in.raise("TypeError", "catching classes that do not inherit from BaseException is not allowed");
    }
    return type->is_subtype_of(t.as<TypeObj>());
  };
  if (in.type_of(types) == in.t.tuple) {
    bool any = false;
    for (const Value& t : types.as<TupleObj>()->v) any |= one(t);
    return any;
  }
  return one(types);
}

// except*: splits a group into the part matching `types` and the rest.
std::pair<Value, Value> split_group(Interpreter& in, const Value& group, const Value& types) {
  if (!in.type_of(group)->is_subtype_of(in.exception_type("BaseExceptionGroup"))) {
    if (handler_matches(in, types, group)) return {group, Value()};
    return {Value(), group};
  }
  auto& args = group.as<InstanceObj>()->args.as<TupleObj>()->v;
  std::vector<Value> matched, rest;
  for (const Value& member : args[1].as<ListObj>()->v) {
    auto [m, r] = split_group(in, member, types);
    if (!m.is_none()) matched.push_back(m);
    if (!r.is_none()) rest.push_back(r);
  }
  auto rebuild = [&](std::vector<Value> members) -> Value {
    if (members.empty()) return Value();
    std::vector<Value> a;
    a.push_back(args[0]);
    a.push_back(in.list_value(std::move(members)));
    Value g = in.new_exception(in.type_of(group), std::move(a));
    g.as<InstanceObj>()->traceback = group.as<InstanceObj>()->traceback;
    return g;
  };
  if (rest.empty()) return {group, Value()};
  return {rebuild(std::move(matched)), rebuild(std::move(rest))};
}

Value wrap_in_group(Interpreter& in, const Value& exc) {
  if (in.type_of(exc)->is_subtype_of(in.exception_type("BaseExceptionGroup"))) return exc;
  std::vector<Value> members;
  members.push_back(exc);
  std::vector<Value> a;
  a.push_back(in.str_value(""));
  a.push_back(in.list_value(std::move(members)));
  return in.new_exception(in.exception_type("ExceptionGroup"), std::move(a));
}

Value combine_star_results(Interpreter& in, std::vector<Value> raised, const Value& rest) {
  if (raised.empty()) return rest;
  if (!rest.is_none()) raised.push_back(rest);
  if (raised.size() == 1) return raised[0];
  std::vector<Value> a;
  a.push_back(in.str_value(""));
  a.push_back(in.list_value(std::move(raised)));
  return in.new_exception(in.exception_type("ExceptionGroup"), std::move(a));
}

Value exception_value_of(Interpreter& in, std::exception_ptr error) { return in.exception_from(std::move(error)); }

// Sets __context__ on an exception raised while `handled` was being handled.
std::exception_ptr with_context(Interpreter& in, std::exception_ptr error, const Value& handled) {
  Value exc = in.exception_from(error);
  if (exc.is_obj() && !exc.identical(handled)) {
    auto* inst = exc.as<InstanceObj>();
    if (inst->context.is_none() && !inst->suppress_context) inst->context = handled;
  }
  return in.to_exception_ptr(exc);
}

void bind_handler_name(Interpreter& in, ExceptHandler& h, Frame& f, const Value& exc) {
  if (h.name_expr) store_name(in, *h.name_expr, exc, f);
}
void unbind_handler_name(Interpreter& in, ExceptHandler& h, Frame& f) {
  if (!h.name_expr) return;
  try {
    delete_name(in, *h.name_expr, f);
  } catch (...) {
  }
}

Flow exec(Interpreter& in, Stmt& s, Frame& f);

Flow exec_try(Interpreter& in, Stmt& s, Frame& f) {
  std::exception_ptr pending;
  Flow flow = Flow::kNormal;
  try {
    flow = exec_body(in, s.body, f);
  } catch (...) {
    pending = std::current_exception();
  }
  if (pending && !s.star_handlers) {
    Value exc = exception_value_of(in, pending);
    try {
      for (auto& h : s.handlers) {
        if (h.type && !handler_matches(in, eval(in, *h.type, f), exc)) continue;
        pending = nullptr;
        bind_handler_name(in, h, f, exc);
        f.handling.push_back(exc);
        try {
          flow = exec_body(in, h.body, f);
        } catch (...) {
          pending = with_context(in, std::current_exception(), exc);
        }
        f.handling.pop_back();
        unbind_handler_name(in, h, f);
        break;
      }
    } catch (...) {
      pending = with_context(in, std::current_exception(), exc);
    }
  } else if (pending) {
    Value rest = wrap_in_group(in, exception_value_of(in, pending));
    Value original = rest;
    std::vector<Value> raised;
    pending = nullptr;
    try {
      for (auto& h : s.handlers) {
        if (rest.is_none()) break;
        auto [matched, remaining] = split_group(in, rest, eval(in, *h.type, f));
        if (matched.is_none()) continue;
        rest = remaining;
        bind_handler_name(in, h, f, matched);
        f.handling.push_back(matched);
        try {
          Flow hf = exec_body(in, h.body, f);
          if (hf != Flow::kNormal) in.raise("SyntaxError", "'break', 'continue' and 'return' cannot appear in an except* block");
        } catch (...) {
          Value r = in.exception_from(std::current_exception());
          if (!r.identical(matched)) raised.push_back(r);
          else raised.push_back(matched);
        }
        f.handling.pop_back();
        unbind_handler_name(in, h, f);
      }
      Value left = combine_star_results(in, std::move(raised), rest);
      if (!left.is_none()) {
        if (left.identical(original)) pending = in.to_exception_ptr(original);
        else pending = in.to_exception_ptr(left);
      }
    } catch (...) {
      pending = std::current_exception();
    }
  } else if (flow == Flow::kNormal && !s.orelse.empty()) {
    try {
      flow = exec_body(in, s.orelse, f);
    } catch (...) {
      pending = std::current_exception();
    }
  }
  if (!s.finalbody.empty()) {
    Value saved = f.ret;
    Flow ff = exec_body(in, s.finalbody, f);
    if (ff != Flow::kNormal) {
      pending = nullptr;
      flow = ff;
    } else {
      f.ret = saved;
    }
  }
  if (pending) std::rethrow_exception(pending);
  return flow;
}

Flow exec_for(Interpreter& in, Stmt& s, Frame& f) {
  Value iterable = eval(in, *s.value, f);
  Flow result = Flow::kNormal;
  bool broke = false;
  // Fast path for range(): no iterator object.
  if (iterable.is_obj() && in.type_of(iterable) == in.t.range && s.target->kind == EK::kName) {
    auto* r = iterable.as<RangeObj>();
    std::int64_t n = r->length();
    for (std::int64_t k = 0; k < n; ++k) {
      store_name(in, *s.target, Value::integer(r->start + k * r->step), f);
      Flow fl = exec_body(in, s.body, f);
      if (fl == Flow::kBreak) { broke = true; break; }
      if (fl == Flow::kReturn) return fl;
    }
  } else {
    Value it = in.get_iterator(iterable);
    auto* iter = it.as<IteratorObj>();
    Value item;
    while (iter->next(item)) {
      store(in, *s.target, item, f);
      Flow fl = exec_body(in, s.body, f);
      if (fl == Flow::kBreak) { broke = true; break; }
      if (fl == Flow::kReturn) return fl;
    }
  }
  if (!broke && !s.orelse.empty()) result = exec_body(in, s.orelse, f);
  return result;
}

Flow exec_with(Interpreter& in, Stmt& s, Frame& f, std::size_t index) {
  if (index == s.items.size()) return exec_body(in, s.body, f);
  WithItem& item = s.items[index];
  Value manager = eval(in, *item.context, f);
  TypeObj* type = in.type_of(manager);
  const Value* enter = type->lookup("__enter__");
  const Value* exit = type->lookup("__exit__");
  if (!enter || !exit) {
    in.raise("TypeError", "'" + type->name + "' object does not support the context manager protocol" +
                              (type->lookup("__aenter__") ? " (missed 'async' in 'async with'?)" : ""));
  }
  Value exit_fn = *exit;
  CallArgs ea;
  ea.pos.push_back(manager);
  Value entered = in.call(*enter, ea);
  if (item.target) store(in, *item.target, entered, f);
  Flow flow;
  std::exception_ptr pending;
  try {
    flow = exec_with(in, s, f, index + 1);
  } catch (...) {
    pending = std::current_exception();
  }
  CallArgs xa;
  xa.pos.push_back(manager);
  if (pending) {
    Value exc = in.exception_from(pending);
    xa.pos.push_back(Value(in.type_of(exc)));
    xa.pos.push_back(exc);
    xa.pos.push_back(Value());
    if (in.truthy(in.call(exit_fn, xa))) return Flow::kNormal;
    std::rethrow_exception(pending);
  }
  xa.pos.resize(4);
  in.call(exit_fn, xa);
  return flow;
}

Flow exec(Interpreter& in, Stmt& s, Frame& f) {
  switch (s.kind) {
    case SK::kExpr: eval(in, *s.value, f); return Flow::kNormal;
    case SK::kAssign: {
      Value v = eval(in, *s.value, f);
      for (auto& t : s.targets) store(in, *t, v, f);
      return Flow::kNormal;
    }
    case SK::kAugAssign: {
      Value obj, key;
      Value current = aug_load(in, *s.target, f, obj, key);
      Value operand = eval(in, *s.value, f);
      aug_store(in, *s.target, f, obj, key, inplace_op(in, s.op, std::move(current), operand));
      return Flow::kNormal;
    }
    case SK::kAnnAssign:
      if (s.value) store(in, *s.target, eval(in, *s.value, f), f);
      return Flow::kNormal;
    case SK::kIf:
      if (in.truthy(eval(in, *s.value, f))) return exec_body(in, s.body, f);
      return exec_body(in, s.orelse, f);
    case SK::kWhile:
      while (in.truthy(eval(in, *s.value, f))) {
        Flow fl = exec_body(in, s.body, f);
        if (fl == Flow::kBreak) return Flow::kNormal;
        if (fl == Flow::kReturn) return fl;
      }
      return exec_body(in, s.orelse, f);
    case SK::kFor: return exec_for(in, s, f);
    case SK::kDef: {
      std::vector<Value> defaults, kwdefaults;
      for (auto& p : s.function->params) if (p.default_value) defaults.push_back(eval(in, *p.default_value, f));
      for (auto& p : s.function->kwonly) kwdefaults.push_back(p.default_value ? eval(in, *p.default_value, f) : Value::undef());
      store(in, *s.targets[0], define_function(in, s, f, std::move(defaults), std::move(kwdefaults)), f);
      return Flow::kNormal;
    }
    case SK::kClass: {
      std::vector<Value> bases;
      for (auto& b : s.bases) bases.push_back(eval(in, *b, f));
      store(in, *s.targets[0], define_class(in, s, f, std::move(bases)), f);
      return Flow::kNormal;
    }
    case SK::kReturn:
      f.ret = s.value ? eval(in, *s.value, f) : Value();
      return Flow::kReturn;
    case SK::kPass: case SK::kGlobal: case SK::kNonlocal: return Flow::kNormal;
    case SK::kBreak: return Flow::kBreak;
    case SK::kContinue: return Flow::kContinue;
    case SK::kDel:
      for (auto& t : s.targets) exec_del(in, *t, f);
      return Flow::kNormal;
    case SK::kTry: return exec_try(in, s, f);
    case SK::kRaise: {
      Value exc = s.value ? eval(in, *s.value, f) : Value();
      Value cause = s.cause ? eval(in, *s.cause, f) : Value();
      do_raise(in, s, f, exc, cause, s.cause != nullptr);
    }
    case SK::kWith:
      if (s.is_async) in.raise("SyntaxError", "'async with' outside async function");
      return exec_with(in, s, f, 0);
    case SK::kImport: case SK::kImportFrom: exec_import(in, s, f); return Flow::kNormal;
    case SK::kAssert:
      if (!in.truthy(eval(in, *s.value, f))) {
        std::vector<Value> args;
        if (s.cause) args.push_back(eval(in, *s.cause, f));
        in.throw_exception(in.new_exception(in.exception_type("AssertionError"), std::move(args)));
      }
      return Flow::kNormal;
  }
  return Flow::kNormal;
}

Flow exec_body(Interpreter& in, Body& body, Frame& f) {
  for (auto& s : body) {
    Flow fl;
    try {
      count_statement(in);
      fl = exec(in, *s, f);
    } catch (...) {
      annotate_and_rethrow(in, f, s->line);
    }
    if (fl != Flow::kNormal) return fl;
  }
  return Flow::kNormal;
}

// ---- async statements ---------------------------------------------------------------

aio::Coro<Flow> exec_async(Interpreter* in, Stmt* s, Frame* f);

aio::Coro<Flow> exec_body_async(Interpreter* in, Body* body, Frame* f) {
  for (auto& s : *body) {
    Flow fl = Flow::kNormal;
    try {
      count_statement(*in);
      if (s->has_await) fl = co_await exec_async(in, s.get(), f);
      else fl = exec(*in, *s, *f);
    } catch (...) {
      annotate_and_rethrow(*in, *f, s->line);
    }
    if (fl != Flow::kNormal) co_return fl;
  }
  co_return Flow::kNormal;
}

aio::Coro<Flow> exec_block(Interpreter* in, Body* body, Frame* f, bool has_await) {
  if (!has_await) co_return exec_body(*in, *body, *f);
  co_return co_await exec_body_async(in, body, f);
}


aio::Coro<Flow> exec_try_async(Interpreter* in, Stmt* s, Frame* f) {
  std::exception_ptr pending;
  Flow flow = Flow::kNormal;
  try {
    flow = co_await exec_block(in, &s->body, f, true);
  } catch (...) {
    pending = std::current_exception();
  }
  if (pending && !s->star_handlers) {
    Value exc = exception_value_of(*in, pending);
    ExceptHandler* chosen = nullptr;
    try {
      for (auto& h : s->handlers) {
        if (h.type) {
          Value types = co_await eval_any(in, h.type.get(), f);
          if (!handler_matches(*in, types, exc)) continue;
        }
        chosen = &h;
        break;
      }
    } catch (...) {
      pending = with_context(*in, std::current_exception(), exc);
      chosen = nullptr;
    }
    if (chosen) {
      pending = nullptr;
      bind_handler_name(*in, *chosen, *f, exc);
      f->handling.push_back(exc);
      try {
        flow = co_await exec_block(in, &chosen->body, f, true);
      } catch (...) {
        pending = with_context(*in, std::current_exception(), exc);
      }
      f->handling.pop_back();
      unbind_handler_name(*in, *chosen, *f);
    }
  } else if (pending) {
    Value rest = wrap_in_group(*in, exception_value_of(*in, pending));
    Value original = rest;
    std::vector<Value> raised;
    pending = nullptr;
    try {
      for (auto& h : s->handlers) {
        if (rest.is_none()) break;
        Value types = co_await eval_any(in, h.type.get(), f);
        auto split = split_group(*in, rest, types);
        Value matched = split.first;
        if (matched.is_none()) continue;
        rest = split.second;
        bind_handler_name(*in, h, *f, matched);
        f->handling.push_back(matched);
        std::exception_ptr handler_error;
        try {
          Flow hf = co_await exec_block(in, &h.body, f, true);
          if (hf != Flow::kNormal) in->raise("SyntaxError", "'break', 'continue' and 'return' cannot appear in an except* block");
        } catch (...) {
          handler_error = std::current_exception();
        }
        if (handler_error) raised.push_back(in->exception_from(handler_error));
        f->handling.pop_back();
        unbind_handler_name(*in, h, *f);
      }
      Value left = combine_star_results(*in, std::move(raised), rest);
      if (!left.is_none()) pending = in->to_exception_ptr(left.identical(original) ? original : left);
    } catch (...) {
      pending = std::current_exception();
    }
  } else if (flow == Flow::kNormal && !s->orelse.empty()) {
    try {
      flow = co_await exec_block(in, &s->orelse, f, true);
    } catch (...) {
      pending = std::current_exception();
    }
  }
  if (!s->finalbody.empty()) {
    Value saved = f->ret;
    Flow ff = co_await exec_block(in, &s->finalbody, f, true);
    if (ff != Flow::kNormal) {
      pending = nullptr;
      flow = ff;
    } else {
      f->ret = saved;
    }
  }
  if (pending) std::rethrow_exception(pending);
  co_return flow;
}

aio::Coro<Flow> exec_for_async(Interpreter* in, Stmt* s, Frame* f) {
  Value iterable = co_await eval_any(in, s->value.get(), f);
  bool broke = false;
  if (!s->is_async) {
    Value it = in->get_iterator(iterable);
    auto* iter = it.as<IteratorObj>();
    Value item;
    while (iter->next(item)) {
      store(*in, *s->target, item, *f);
      Flow fl = co_await exec_block(in, &s->body, f, true);
      if (fl == Flow::kBreak) { broke = true; break; }
      if (fl == Flow::kReturn) co_return fl;
    }
  } else {
    Value iterator = iterable;
    if (in->hasattr(iterable, "__aiter__")) iterator = in->call0(in->getattr(iterable, "__aiter__"));
    if (!in->hasattr(iterator, "__anext__")) {
      in->raise("TypeError", "'async for' requires an object with __aiter__ method, got " + in->type_of(iterable)->name);
    }
    Value anext = in->getattr(iterator, "__anext__");
    while (true) {
      Value item;
      bool done = false;
      try {
        Value awaitable = in->call0(anext);
        item = co_await in->await_value(std::move(awaitable));
      } catch (const PyError& e) {
        if (!in->isinstance(e.exc, in->exception_type("StopAsyncIteration"))) throw;
        done = true;
      }
      if (done) break;
      store(*in, *s->target, item, *f);
      Flow fl = co_await exec_block(in, &s->body, f, true);
      if (fl == Flow::kBreak) { broke = true; break; }
      if (fl == Flow::kReturn) co_return fl;
    }
  }
  if (!broke && !s->orelse.empty()) co_return co_await exec_block(in, &s->orelse, f, true);
  co_return Flow::kNormal;
}

aio::Coro<Flow> exec_async_with(Interpreter* in, Stmt* s, Frame* f, std::size_t index);

aio::Coro<Flow> with_items_from(Interpreter* in, Stmt* s, Frame* f, std::size_t index) {
  if (index == s->items.size()) co_return co_await exec_block(in, &s->body, f, true);
  co_return co_await exec_async_with(in, s, f, index);
}

aio::Coro<int> with_items_as_int(Interpreter* in, Stmt* s, Frame* f, std::size_t index) {
  Flow fl = co_await with_items_from(in, s, f, index);
  co_return static_cast<int>(fl);
}

aio::Coro<Flow> exec_async_with(Interpreter* in, Stmt* s, Frame* f, std::size_t index) {
  WithItem& item = s->items[index];
  Value manager = co_await eval_any(in, item.context.get(), f);
  if (s->is_async) {
    auto* native = manager.is_obj() ? dynamic_cast<NativeObj*>(manager.obj()) : nullptr;
    if (native && native->is_async_scope()) {
      // The aio scope function runs the rest of the statement as its body.
      std::function<void(Value)> enter = [in, f, &item](Value entered) {
        if (item.target) store(*in, *item.target, std::move(entered), *f);
      };
      std::function<aio::Coro<int>()> body = [in, s, f, index]() -> aio::Coro<int> {
        return with_items_as_int(in, s, f, index + 1);
      };
      int fl = co_await native->run_scope(in, manager, &enter, &body);
      co_return static_cast<Flow>(fl);
    }
  }
  // The context manager protocol, `with` or `async with` (whose enter and exit
  // results are awaited): one path for both.
  const bool awaits = s->is_async;
  TypeObj* type = in->type_of(manager);
  const Value* enter = type->lookup(awaits ? "__aenter__" : "__enter__");
  const Value* exit = type->lookup(awaits ? "__aexit__" : "__exit__");
  if (!enter || !exit) {
    if (awaits) {
      in->raise("TypeError", "'" + type->name + "' object does not support the asynchronous context manager protocol" +
                                 (type->lookup("__enter__") ? " (missed 'with' instead of 'async with'?)" : ""));
    }
    in->raise("TypeError", "'" + type->name + "' object does not support the context manager protocol" +
                               (type->lookup("__aenter__") ? " (missed 'async' in 'async with'?)" : ""));
  }
  Value exit_fn = *exit;
  CallArgs ea;
  ea.pos.push_back(manager);
  Value entered = in->call(*enter, ea);
  if (awaits) entered = co_await in->await_value(std::move(entered));
  if (item.target) store(*in, *item.target, entered, *f);
  Flow flow = Flow::kNormal;
  std::exception_ptr pending;
  try {
    flow = co_await with_items_from(in, s, f, index + 1);
  } catch (...) {
    pending = std::current_exception();
  }
  CallArgs xa;
  xa.pos.push_back(manager);
  if (pending) {
    Value exc = in->exception_from(pending);
    xa.pos.push_back(Value(in->type_of(exc)));
    xa.pos.push_back(exc);
    xa.pos.push_back(Value());
  } else {
    xa.pos.resize(4);
  }
  Value exited = in->call(exit_fn, xa);
  if (awaits) exited = co_await in->await_value(std::move(exited));
  if (pending) {
    if (in->truthy(exited)) co_return Flow::kNormal;
    std::rethrow_exception(pending);
  }
  co_return flow;
}

aio::Coro<Flow> exec_async(Interpreter* in, Stmt* s, Frame* f) {
  switch (s->kind) {
    case SK::kExpr: {
      Value v = co_await eval_any(in, s->value.get(), f);
      f->ret = std::move(v);
      co_return Flow::kNormal;
    }
    case SK::kAssign: {
      Value v = co_await eval_any(in, s->value.get(), f);
      for (auto& t : s->targets) store(*in, *t, v, *f);
      co_return Flow::kNormal;
    }
    case SK::kAnnAssign: {
      if (s->value) {
        Value v = co_await eval_any(in, s->value.get(), f);
        store(*in, *s->target, v, *f);
      }
      co_return Flow::kNormal;
    }
    case SK::kAugAssign: {
      Value obj, key;
      Value current = aug_load(*in, *s->target, *f, obj, key);
      Value operand = co_await eval_any(in, s->value.get(), f);
      aug_store(*in, *s->target, *f, obj, key, inplace_op(*in, s->op, std::move(current), operand));
      co_return Flow::kNormal;
    }
    case SK::kReturn: {
      Value v;
      if (s->value) v = co_await eval_any(in, s->value.get(), f);
      f->ret = std::move(v);
      co_return Flow::kReturn;
    }
    case SK::kIf: {
      Value test = co_await eval_any(in, s->value.get(), f);
      Body* chosen = in->truthy(test) ? &s->body : &s->orelse;
      co_return co_await exec_block(in, chosen, f, true);
    }
    case SK::kWhile: {
      while (true) {
        Value test = co_await eval_any(in, s->value.get(), f);
        if (!in->truthy(test)) break;
        Flow fl = co_await exec_block(in, &s->body, f, true);
        if (fl == Flow::kBreak) co_return Flow::kNormal;
        if (fl == Flow::kReturn) co_return fl;
      }
      co_return co_await exec_block(in, &s->orelse, f, true);
    }
    case SK::kFor: co_return co_await exec_for_async(in, s, f);
    case SK::kTry: co_return co_await exec_try_async(in, s, f);
    case SK::kWith: co_return co_await exec_async_with(in, s, f, 0);
    case SK::kRaise: {
      Value exc, cause;
      if (s->value) exc = co_await eval_any(in, s->value.get(), f);
      if (s->cause) cause = co_await eval_any(in, s->cause.get(), f);
      do_raise(*in, *s, *f, exc, cause, s->cause != nullptr);
    }
    case SK::kAssert: {
      Value test = co_await eval_any(in, s->value.get(), f);
      if (!in->truthy(test)) {
        std::vector<Value> args;
        if (s->cause) {
          Value message = co_await eval_any(in, s->cause.get(), f);
          args.push_back(message);
        }
        in->throw_exception(in->new_exception(in->exception_type("AssertionError"), std::move(args)));
      }
      co_return Flow::kNormal;
    }
    case SK::kDel: {
      in->raise("SyntaxError", "'await' inside 'del' is not supported by the aio REPL");
    }
    case SK::kDef: case SK::kClass: {
      in->raise("SyntaxError", "'await' in default values or base classes is not supported by the aio REPL");
    }
    default: co_return exec(*in, *s, *f);
  }
}

void bind_arguments(Interpreter& in, FunctionObj* fn, Frame& frame, CallArgs& args) {
  FunctionDef& def = *fn->def;
  const std::string fname = def.name;
  std::size_t nparams = def.params.size();
  std::size_t npos = args.pos.size();
  if (npos > nparams && def.star_slot < 0) {
    std::size_t required = nparams - fn->defaults.size();
    std::string takes = fn->defaults.empty() ? std::to_string(nparams)
                                              : "from " + std::to_string(required) + " to " + std::to_string(nparams);
    in.raise("TypeError", fname + "() takes " + takes + " positional argument" + (nparams == 1 && fn->defaults.empty() ? "" : "s") +
                              " but " + std::to_string(npos) + (npos == 1 ? " was" : " were") + " given");
  }
  for (std::size_t i = 0; i < std::min(npos, nparams); ++i) set_slot(frame, def.params[i].slot, std::move(args.pos[i]));
  if (def.star_slot >= 0) {
    std::vector<Value> rest;
    for (std::size_t i = nparams; i < npos; ++i) rest.push_back(std::move(args.pos[i]));
    set_slot(frame, def.star_slot, in.tuple_value(std::move(rest)));
  }
  Value kwargs;
  if (def.kwargs_slot >= 0) kwargs = in.dict_value();
  auto is_unset = [&](int slot) {
    const Value& v = def.slot_is_cell[slot] ? frame.slots[slot].as<CellObj>()->v : frame.slots[slot];
    return v.is_undef();
  };
  for (auto& [name, value] : args.kw) {
    int slot = -1;
    bool positional = false;
    for (std::size_t i = 0; i < nparams; ++i) if (def.params[i].name == name) { slot = def.params[i].slot; positional = i < npos; }
    if (slot < 0) for (auto& p : def.kwonly) if (p.name == name) slot = p.slot;
    if (slot < 0) {
      if (kwargs.is_obj()) { set_item(in, kwargs, in.str_value(name), value); continue; }
      in.raise("TypeError", fname + "() got an unexpected keyword argument '" + name + "'");
    }
    if (positional || !is_unset(slot)) in.raise("TypeError", fname + "() got multiple values for argument '" + name + "'");
    set_slot(frame, slot, value);
  }
  if (kwargs.is_obj()) set_slot(frame, def.kwargs_slot, kwargs);
  std::size_t first_default = nparams - fn->defaults.size();
  std::vector<std::string> missing;
  for (std::size_t i = 0; i < nparams; ++i) {
    if (!is_unset(def.params[i].slot)) continue;
    if (i >= first_default) set_slot(frame, def.params[i].slot, fn->defaults[i - first_default]);
    else missing.push_back("'" + def.params[i].name + "'");
  }
  auto list_names = [](const std::vector<std::string>& names) {
    std::string out;
    for (std::size_t i = 0; i < names.size(); ++i) {
      if (i) out += names.size() == 2 ? " and " : (i + 1 == names.size() ? ", and " : ", ");
      out += names[i];
    }
    return out;
  };
  if (!missing.empty()) {
    in.raise("TypeError", fname + "() missing " + std::to_string(missing.size()) + " required positional argument" +
                              (missing.size() == 1 ? "" : "s") + ": " + list_names(missing));
  }
  for (std::size_t i = 0; i < def.kwonly.size(); ++i) {
    if (!is_unset(def.kwonly[i].slot)) continue;
    if (i < fn->kwdefaults.size() && !fn->kwdefaults[i].is_undef()) set_slot(frame, def.kwonly[i].slot, fn->kwdefaults[i]);
    else missing.push_back("'" + def.kwonly[i].name + "'");
  }
  if (!missing.empty()) {
    in.raise("TypeError", fname + "() missing " + std::to_string(missing.size()) + " required keyword-only argument" +
                              (missing.size() == 1 ? "" : "s") + ": " + list_names(missing));
  }
}

}  // namespace

Value call_function(Interpreter& in, FunctionObj* fn, CallArgs& args) {
  check_stack(in);
  Value self(fn);
  if (fn->def->is_async) {
    auto frame = std::make_unique<Frame>();
    init_slots(*frame, *fn->def);
    frame->function = self;
    frame->globals = fn->globals_ref;
    bind_arguments(in, fn, *frame, args);
    auto* c = new CoroutineObj(in.t.coroutine, self, std::move(frame));
    c->name = fn->def->name;
    return Value(c);
  }
  Frame frame;
  init_slots(frame, *fn->def);
  frame.function = self;
  frame.globals = fn->globals_ref;
  bind_arguments(in, fn, frame, args);
  if (fn->def->is_lambda) {
    try {
      return eval(in, *fn->def->lambda_body, frame);
    } catch (...) {
      annotate_and_rethrow(in, frame, fn->def->line);
    }
  }
  exec_body(in, fn->def->body, frame);
  return std::move(frame.ret);
}

aio::Coro<Value> run_coroutine(Interpreter* in, Value coroutine) {
  auto* c = coroutine.as<CoroutineObj>();
  if (c->started) in->raise("RuntimeError", "cannot reuse already awaited coroutine");
  c->started = true;
  Frame* frame = c->frame.get();
  FunctionDef* def = frame->def;
  co_await exec_body_async(in, &def->body, frame);
  Value result = std::move(frame->ret);
  c->frame.reset();
  co_return result;
}

void run_module_body(Interpreter& in, const std::shared_ptr<Program>& program, AttrMap& globals) {
  Frame frame;
  frame.def = program->module.get();
  frame.globals = &globals;
  check_stack(in);
  exec_body(in, program->module->body, frame);
}

// One interactive statement: an expression's value comes back to be echoed.
aio::Coro<Value> run_interactive(Interpreter* in, std::shared_ptr<Program> program, std::size_t index, AttrMap* globals) {
  auto frame = std::make_unique<Frame>();
  frame->def = program->module.get();
  frame->globals = globals;
  Stmt* s = program->module->body[index].get();
  Value result = Value::undef();
  try {
    if (s->kind == SK::kExpr) {
      if (s->has_await) result = co_await eval_async(in, s->value.get(), frame.get());
      else result = eval(*in, *s->value, *frame);
    } else if (s->has_await) {
      co_await exec_async(in, s, frame.get());
    } else {
      exec(*in, *s, *frame);
    }
  } catch (...) {
    annotate_and_rethrow(*in, *frame, s->line);
  }
  co_return result;
}

aio::Coro<Value> Interpreter::run_statement(std::shared_ptr<Program> program, std::size_t index) {
  source_lines[program->filename] = program->lines;
  co_return co_await run_interactive(this, std::move(program), index, &main_globals);
}

void Interpreter::run_module(const std::shared_ptr<Program>& program) {
  source_lines[program->filename] = program->lines;
  run_module_body(*this, program, main_globals);
}

}  // namespace repl
