// The object model: types and their registry, exceptions, printing (repr/str/
// format exactly as CPython 3.11), attribute access, calls of native
// callables, iteration, equality/ordering/hashing.
#include <algorithm>
#include <charconv>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "tools/repl/interpreter.h"
#include "tools/repl/internal.h"

namespace repl {

CoroutineObj::CoroutineObj(TypeObj* type, Value function, std::unique_ptr<Frame> frame)
    : Object(type), function(std::move(function)), frame(std::move(frame)) {}
void CoroutineObj::clear() {
  function = Value();
  frame.reset();
}
NativeCoroObj::NativeCoroObj(TypeObj* type, std::string name, std::function<aio::Coro<Value>()> start)
    : Object(type), name(std::move(name)), start(std::move(start)) {}
TaskObj::TaskObj(TypeObj* type, aio::Task<Value> task, std::string coro_name)
    : Object(type), task(std::move(task)), coro_name(std::move(coro_name)) {
  any.emplace(this->task);
  task_registry()[any->id()] = this;
}
TaskObj::TaskObj(TypeObj* type, aio::AnyTask any_task) : Object(type), any(std::move(any_task)) {
  task_registry()[any->id()] = this;
}
TaskObj::~TaskObj() {
  auto it = task_registry().find(any->id());
  if (it != task_registry().end() && it->second == this) task_registry().erase(it);
}
std::unordered_map<const void*, TaskObj*>& task_registry() {
  static std::unordered_map<const void*, TaskObj*> registry;
  return registry;
}
FutureObj::FutureObj(TypeObj* type, aio::Future<Value> future) : Object(type), future(std::move(future)) {}
PropertyObj::PropertyObj(NativeFn getter) : Object(nullptr), getter(std::move(getter)) {}
SuperObj::SuperObj(TypeObj* start, Value self) : Object(nullptr), start(start), self(std::move(self)) {}

std::string address_of(const void* p) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%012" PRIxPTR, reinterpret_cast<std::uintptr_t>(p));
  return buf;
}

TypeObj* Interpreter::new_type(const std::string& name, TypeObj* base, const std::string& module) {
  auto* type = new TypeObj(name, base, module);
  type->type = t.type;
  type_registry_.push_back(Value(type));
  return type;
}

void Interpreter::add_method(TypeObj* type, const std::string& name, NativeFn fn, const std::string& help) {
  type->attrs[name] = builtin(type->name + "." + name, std::move(fn), help);
}

Value Interpreter::builtin(const std::string& name, NativeFn fn, const std::string& help) {
  auto* b = new BuiltinObj(name, std::move(fn), help);
  b->type = t.builtin;
  return Value(b);
}

Value Interpreter::native_coro(const std::string& name, std::function<aio::Coro<Value>()> start) {
  return Value(new NativeCoroObj(t.native_coroutine, name, std::move(start)));
}

Value Interpreter::str_value(std::string s) {
  auto* o = new StrObj(std::move(s));
  o->type = t.str;
  return Value(o);
}
Value Interpreter::bytes_value(std::string s) {
  auto* o = new BytesObj(std::move(s));
  o->type = t.bytes;
  return Value(o);
}
Value Interpreter::list_value(std::vector<Value> v) {
  auto* o = new ListObj(std::move(v));
  o->type = t.list;
  return Value(o);
}
Value Interpreter::tuple_value(std::vector<Value> v) {
  auto* o = new TupleObj(std::move(v));
  o->type = t.tuple;
  return Value(o);
}
Value Interpreter::dict_value() {
  auto* o = new DictObj();
  o->type = t.dict;
  return Value(o);
}

TypeObj* Interpreter::type_of(const Value& v) const {
  switch (v.tag()) {
    case VT::kUndef: case VT::kNone: return t.none;
    case VT::kBool: return t.bool_;
    case VT::kInt: return t.int_;
    case VT::kFloat: return t.float_;
    case VT::kObj: break;
  }
  Object* o = v.obj();
  if (o->type) return o->type;
  // Objects made before their type was known (value.cc constructors).
  if (dynamic_cast<StrObj*>(o)) o->type = t.str;
  else if (dynamic_cast<BytesObj*>(o)) o->type = t.bytes;
  else if (dynamic_cast<ListObj*>(o)) o->type = t.list;
  else if (dynamic_cast<TupleObj*>(o)) o->type = t.tuple;
  else if (dynamic_cast<DictObj*>(o)) o->type = t.dict;
  else if (auto* s = dynamic_cast<SetObj*>(o)) o->type = s->frozen ? t.frozenset : t.set;
  else if (dynamic_cast<RangeObj*>(o)) o->type = t.range;
  else if (dynamic_cast<SliceObj*>(o)) o->type = t.slice;
  else if (dynamic_cast<FunctionObj*>(o)) o->type = t.function;
  else if (dynamic_cast<BuiltinObj*>(o)) o->type = t.builtin;
  else if (dynamic_cast<BoundMethodObj*>(o)) o->type = t.method;
  else if (dynamic_cast<ModuleObj*>(o)) o->type = t.module;
  else if (dynamic_cast<CellObj*>(o)) o->type = t.cell;
  else if (dynamic_cast<TypeObj*>(o)) o->type = t.type;
  else o->type = t.iterator;
  return o->type;
}

// ---- exceptions -------------------------------------------------------------------

TypeObj* Interpreter::add_exception(const std::string& name, TypeObj* base, const std::string& module) {
  TypeObj* type = new_type(name, base, module);
  type->is_exception = true;
  exceptions_[name] = type;
  return type;
}

TypeObj* Interpreter::exception_type(const std::string& name) const {
  auto it = exceptions_.find(name);
  return it == exceptions_.end() ? nullptr : it->second;
}

Value Interpreter::new_exception(TypeObj* type, std::vector<Value> args) {
  auto* e = new InstanceObj(type);
  e->type_ref = Value(type);
  e->args = tuple_value(std::move(args));
  return Value(e);
}

void Interpreter::raise(TypeObj* type, const std::string& message) {
  std::vector<Value> args;
  args.push_back(str_value(message));
  throw_exception(new_exception(type, std::move(args)));
}

void Interpreter::raise(const std::string& type_name, const std::string& message) {
  TypeObj* type = exception_type(type_name);
  raise(type ? type : exception_type("RuntimeError"), message);
}

void Interpreter::throw_exception(const Value& exc) {
  TypeObj* type = type_of(exc);
  if (type->is_subtype_of(exception_type("CancelledError"))) {
    auto* inst = exc.as<InstanceObj>();
    std::string message;
    if (auto& args = inst->args.as<TupleObj>()->v; !args.empty()) message = str(args[0]);
    throw PyCancelled(exc, message);
  }
  throw PyError(exc, str(exc));
}

std::exception_ptr Interpreter::to_exception_ptr(const Value& exc) {
  try {
    throw_exception(exc);
  } catch (...) {
    return std::current_exception();
  }
}

Value Interpreter::exception_from(std::exception_ptr error) {
  auto make_exc = [&](const char* name, const std::string& message) {
    std::vector<Value> args;
    if (!message.empty()) args.push_back(str_value(message));
    return new_exception(exception_type(name), std::move(args));
  };
  try {
    std::rethrow_exception(error);
  } catch (const PyError& e) {
    return e.exc;
  } catch (const PyCancelled& e) {
    return e.exc;
  } catch (const aio::CancelledError& e) {
    return make_exc("CancelledError", e.message());
  } catch (const aio::ExceptionGroup& e) {
    std::vector<Value> members;
    for (const auto& member : e.exceptions()) members.push_back(exception_from(member));
    std::vector<Value> args;
    args.push_back(str_value(e.message()));
    args.push_back(list_value(std::move(members)));
    Value group = new_exception(exception_type("ExceptionGroup"), std::move(args));
    return group;
  } catch (const aio::TimeoutError& e) {
    return make_exc("TimeoutError", "");
  } catch (const aio::InvalidStateError& e) {
    return make_exc("InvalidStateError", e.what());
  } catch (const aio::QueueEmpty&) {
    return make_exc("QueueEmpty", "");
  } catch (const aio::QueueFull&) {
    return make_exc("QueueFull", "");
  } catch (const aio::QueueShutDown&) {
    return make_exc("QueueShutDown", "");
  } catch (const aio::BrokenBarrierError& e) {
    return make_exc("BrokenBarrierError", e.what());
  } catch (const aio::IncompleteReadError& e) {
    std::vector<Value> args;
    args.push_back(str_value(std::to_string(e.partial.size()) + " bytes read on a total of " +
                             (e.expected ? std::to_string(e.expected) : std::string("undefined")) +
                             " expected bytes"));
    Value exc = new_exception(exception_type("IncompleteReadError"), std::move(args));
    exc.as<InstanceObj>()->attrs["partial"] = bytes_value(e.partial);
    exc.as<InstanceObj>()->attrs["expected"] = e.expected ? Value::integer(static_cast<std::int64_t>(e.expected)) : Value();
    return exc;
  } catch (const aio::LimitOverrunError& e) {
    return make_exc("LimitOverrunError", e.what());
  } catch (const aio::KeyboardInterrupt&) {
    return make_exc("KeyboardInterrupt", "");
  } catch (const aio::ValueError& e) {
    return make_exc("ValueError", e.what());
  } catch (const std::system_error& e) {
    int code = e.code().value();
    const char* name = "OSError";
    switch (code) {
      case ECONNREFUSED: name = "ConnectionRefusedError"; break;
      case ECONNRESET: name = "ConnectionResetError"; break;
      case ECONNABORTED: name = "ConnectionAbortedError"; break;
      case EPIPE: name = "BrokenPipeError"; break;
      case ENOENT: name = "FileNotFoundError"; break;
      case EACCES: case EPERM: name = "PermissionError"; break;
      case ETIMEDOUT: name = "TimeoutError"; break;
      case EEXIST: name = "FileExistsError"; break;
      case ECHILD: name = "ChildProcessError"; break;
      case ESRCH: name = "ProcessLookupError"; break;
      default: break;
    }
    std::vector<Value> args;
    args.push_back(Value::integer(code));
    args.push_back(str_value(e.what()));
    Value exc = new_exception(exception_type(name), std::move(args));
    exc.as<InstanceObj>()->attrs["errno"] = Value::integer(code);
    exc.as<InstanceObj>()->attrs["strerror"] = str_value(std::strerror(code));
    return exc;
  } catch (const aio::RuntimeError& e) {
    return make_exc("RuntimeError", e.what());
  } catch (const std::invalid_argument& e) {
    return make_exc("ValueError", e.what());
  } catch (const std::bad_alloc&) {
    return make_exc("MemoryError", "");
  } catch (const std::exception& e) {
    return make_exc("RuntimeError", e.what());
  } catch (...) {
    return make_exc("RuntimeError", "unknown C++ exception");
  }
}

// ---- printing -----------------------------------------------------------------------

std::string float_repr(double f) {
  if (std::isnan(f)) return "nan";
  if (std::isinf(f)) return f > 0 ? "inf" : "-inf";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, f, std::chars_format::scientific);
  (void)ec;
  std::string sci(buf, end);
  // sci = [-]d[.ddd]e[+-]XX
  bool negative = sci[0] == '-';
  std::size_t epos = sci.find('e');
  std::string mantissa = sci.substr(negative ? 1 : 0, epos - (negative ? 1 : 0));
  int exponent = std::atoi(sci.c_str() + epos + 1);
  std::string digits;
  for (char c : mantissa) if (c != '.') digits += c;
  std::string out = negative ? "-" : "";
  if (exponent >= -5 && exponent < 16) {
    // Python's repr switches to exponent form below 1e-4 and from 1e16.
    if (exponent < -4) {
    } else {
      if (exponent >= 0) {
        std::string int_part = digits.substr(0, std::min<std::size_t>(digits.size(), exponent + 1));
        while (static_cast<int>(int_part.size()) < exponent + 1) int_part += '0';
        std::string frac = digits.size() > static_cast<std::size_t>(exponent + 1) ? digits.substr(exponent + 1) : "0";
        return out + int_part + "." + frac;
      }
      return out + "0." + std::string(-exponent - 1, '0') + digits;
    }
  }
  out += digits.substr(0, 1);
  if (digits.size() > 1) out += "." + digits.substr(1);
  char e[16];
  std::snprintf(e, sizeof e, "e%c%02d", exponent < 0 ? '-' : '+', std::abs(exponent));
  return out + e;
}

std::string str_repr(const std::string& s) {
  bool has_single = s.find('\'') != std::string::npos;
  bool has_double = s.find('"') != std::string::npos;
  char quote = has_single && !has_double ? '"' : '\'';
  std::string out(1, quote);
  for (unsigned char c : s) {
    if (c == static_cast<unsigned char>(quote) || c == '\\') { out += '\\'; out += static_cast<char>(c); }
    else if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if (c == '\t') out += "\\t";
    else if (c < 0x20 || c == 0x7f) {
      char b[8];
      std::snprintf(b, sizeof b, "\\x%02x", c);
      out += b;
    } else out += static_cast<char>(c);
  }
  out += quote;
  return out;
}

std::string bytes_repr(const std::string& s) {
  bool has_single = s.find('\'') != std::string::npos;
  bool has_double = s.find('"') != std::string::npos;
  char quote = has_single && !has_double ? '"' : '\'';
  std::string out = "b";
  out += quote;
  for (unsigned char c : s) {
    if (c == static_cast<unsigned char>(quote) || c == '\\') { out += '\\'; out += static_cast<char>(c); }
    else if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if (c == '\t') out += "\\t";
    else if (c < 0x20 || c >= 0x7f) {
      char b[8];
      std::snprintf(b, sizeof b, "\\x%02x", c);
      out += b;
    } else out += static_cast<char>(c);
  }
  out += quote;
  return out;
}

static std::string type_display_name(const TypeObj* type) {
  if (type->module == "builtins" || type->module == "__main__") return type->name;
  return type->module + "." + type->name;
}

std::string Interpreter::repr(const Value& v) {
  switch (v.tag()) {
    case VT::kUndef: return "<undefined>";
    case VT::kNone: return "None";
    case VT::kBool: return v.as_bool() ? "True" : "False";
    case VT::kInt: return std::to_string(v.as_int());
    case VT::kFloat: return float_repr(v.as_float());
    case VT::kObj: break;
  }
  TypeObj* type = type_of(v);
  Object* o = v.obj();
  if (type == t.str) return str_repr(v.as<StrObj>()->s);
  if (type == t.bytes) return bytes_repr(v.as<BytesObj>()->s);
  RecursionGuard guard(*this, o);
  if (guard.recursive) {
    if (type == t.list) return "[...]";
    if (type == t.dict) return "{...}";
    return "...";
  }
  auto join = [&](const std::vector<Value>& items) {
    std::string out;
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (i) out += ", ";
      out += repr(items[i]);
    }
    return out;
  };
  if (type == t.list) return "[" + join(v.as<ListObj>()->v) + "]";
  if (type == t.tuple) {
    auto& items = v.as<TupleObj>()->v;
    if (items.size() == 1) return "(" + repr(items[0]) + ",)";
    return "(" + join(items) + ")";
  }
  if (type == t.dict) {
    std::string out = "{";
    bool first = true;
    for (auto& e : v.as<DictObj>()->entries) {
      if (e.key.is_undef()) continue;
      if (!first) out += ", ";
      first = false;
      out += repr(e.key) + ": " + repr(e.value);
    }
    return out + "}";
  }
  if (type == t.set || type == t.frozenset) {
    auto* s = v.as<SetObj>();
    std::vector<Value> items;
    for (auto& e : s->items.entries) if (!e.key.is_undef()) items.push_back(e.key);
    if (type == t.frozenset) return items.empty() ? "frozenset()" : "frozenset({" + join(items) + "})";
    return items.empty() ? "set()" : "{" + join(items) + "}";
  }
  if (type == t.range) {
    auto* r = v.as<RangeObj>();
    std::string out = "range(" + std::to_string(r->start) + ", " + std::to_string(r->stop);
    if (r->step != 1) out += ", " + std::to_string(r->step);
    return out + ")";
  }
  if (type == t.slice) {
    auto* s = v.as<SliceObj>();
    return "slice(" + repr(s->start) + ", " + repr(s->stop) + ", " + repr(s->step) + ")";
  }
  if (type == t.ellipsis) return "Ellipsis";
  if (type == t.function) {
    auto* f = v.as<FunctionObj>();
    return "<function " + (f->def->qualname.empty() ? f->def->name : f->def->qualname) + " at " + address_of(o) + ">";
  }
  if (type == t.builtin) {
    auto* b = v.as<BuiltinObj>();
    if (b->name.find('.') != std::string::npos) {
      return "<method '" + b->name.substr(b->name.find('.') + 1) + "' of '" + b->name.substr(0, b->name.find('.')) + "' objects>";
    }
    return "<built-in function " + b->name + ">";
  }
  if (type == t.method) {
    auto* m = v.as<BoundMethodObj>();
    std::string name;
    if (m->function.is_obj() && type_of(m->function) == t.function) name = m->function.as<FunctionObj>()->def->qualname;
    else if (m->function.is_obj() && type_of(m->function) == t.builtin) {
      name = m->function.as<BuiltinObj>()->name;
      return "<built-in method " + name.substr(name.find('.') + 1) + " of " + type_of(m->self)->name + " object at " +
             address_of(m->self.is_obj() ? m->self.obj() : nullptr) + ">";
    }
    return "<bound method " + name + " of " + repr(m->self) + ">";
  }
  if (type == t.module) return "<module '" + v.as<ModuleObj>()->name + "' (aio)>";
  if (type == t.type) {
    auto* ty = v.as<TypeObj>();
    return "<class '" + (ty->module == "builtins" ? ty->name : ty->module + "." + ty->name) + "'>";
  }
  if (type == t.coroutine || type == t.native_coroutine) {
    return "<coroutine object " + coroutine_name(v) + " at " + address_of(o) + ">";
  }
  if (type == t.task) {
    auto* task = v.as<TaskObj>();
    std::string out = "<Task ";
    const aio::Task<Value>& tk = task->task;
    std::string coro = "coro=<" + task->coro_name + "()";
    if (!tk.valid()) {
      const aio::AnyTask& any = *task->any;
      return out + (any.done() ? (any.cancelled() ? "cancelled" : "finished") : "pending") + " name=" + str_repr(any.get_name()) + ">";
    }
    if (!tk.done()) return out + "pending name=" + str_repr(tk.get_name()) + " " + coro + " running>>";
    if (tk.cancelled()) return out + "cancelled name=" + str_repr(tk.get_name()) + " " + coro + " done>>";
    out += "finished name=" + str_repr(tk.get_name()) + " " + coro + " done>";
    if (std::exception_ptr error = tk.exception()) return out + " exception=" + repr(exception_from(error)) + ">";
    return out + " result=" + repr(tk.result()) + ">";
  }
  if (type == t.future) {
    auto* f = v.as<FutureObj>();
    if (!f->future.done()) return "<Future pending>";
    if (f->future.cancelled()) return "<Future cancelled>";
    if (std::exception_ptr error = f->future.exception()) return "<Future finished exception=" + repr(exception_from(error)) + ">";
    return "<Future finished result=" + repr(f->future.result()) + ">";
  }
  if (type->is_exception) {
    auto* e = v.as<InstanceObj>();
    if (type->user_defined) {
      if (const Value* r = type->lookup("__repr__"); r && type_of(*r) == t.function) {
        CallArgs a;
        a.pos.push_back(v);
        return str(call(*r, a));
      }
    }
    auto& args = e->args.as<TupleObj>()->v;
    if (args.size() == 1) return type->name + "(" + repr(args[0]) + ")";
    return type->name + repr(e->args);
  }
  if (auto* inst = dynamic_cast<InstanceObj*>(o)) {
    if (const Value* r = type->lookup("__repr__")) {
      CallArgs a;
      a.pos.push_back(v);
      Value s = call(*r, a);
      if (type_of(s) != t.str) raise("TypeError", "__repr__ returned non-string (type " + type_of(s)->name + ")");
      return s.as<StrObj>()->s;
    }
    (void)inst;
    return "<" + type->module + "." + type->name + " object at " + address_of(o) + ">";
  }
  if (auto* native = dynamic_cast<NativeObj*>(o)) return native->repr(*this);
  if (dynamic_cast<PropertyObj*>(o)) return "<property object at " + address_of(o) + ">";
  return "<" + type_display_name(type) + " object at " + address_of(o) + ">";
}

std::string Interpreter::str(const Value& v) {
  if (v.is_obj()) {
    TypeObj* type = type_of(v);
    if (type == t.str) return v.as<StrObj>()->s;
    if (type->is_exception) {
      if (type->user_defined) {
        if (const Value* s = type->lookup("__str__"); s && type_of(*s) == t.function) {
          CallArgs a;
          a.pos.push_back(v);
          return str(call(*s, a));
        }
      }
      auto* e = v.as<InstanceObj>();
      auto& args = e->args.as<TupleObj>()->v;
      if (type->is_subtype_of(exception_type("KeyError")) && args.size() == 1) return repr(args[0]);
      if (type->is_subtype_of(exception_type("BaseExceptionGroup")) && args.size() == 2 && type_of(args[1]) == t.list) {
        std::size_t n = args[1].as<ListObj>()->v.size();
        return str(args[0]) + " (" + std::to_string(n) + " sub-exception" + (n == 1 ? "" : "s") + ")";
      }
      if (type->is_subtype_of(exception_type("OSError")) && args.size() == 2 && args[0].is_int()) {
        return "[Errno " + std::to_string(args[0].as_int()) + "] " + str(args[1]);
      }
      if (args.empty()) return "";
      if (args.size() == 1) return str(args[0]);
      return repr(e->args);
    }
    if (dynamic_cast<InstanceObj*>(v.obj())) {
      if (const Value* s = type->lookup("__str__")) {
        CallArgs a;
        a.pos.push_back(v);
        Value r = call(*s, a);
        if (type_of(r) != t.str) raise("TypeError", "__str__ returned non-string (type " + type_of(r)->name + ")");
        return r.as<StrObj>()->s;
      }
    }
  }
  return repr(v);
}

std::string Interpreter::format_exception(const Value& exc) {
  std::string out;
  auto one = [&](const Value& e) {
    std::string text;
    auto* inst = e.as<InstanceObj>();
    if (!inst->traceback.empty()) {
      text += "Traceback (most recent call last):\n";
      for (auto it = inst->traceback.rbegin(); it != inst->traceback.rend(); ++it) {
        text += "  File \"" + it->file + "\", line " + std::to_string(it->line) + ", in " + it->function + "\n";
        auto lines = source_lines.find(it->file);
        if (lines != source_lines.end() && it->line >= 1 && it->line <= static_cast<int>(lines->second.size())) {
          std::string line = lines->second[it->line - 1];
          std::size_t first = line.find_first_not_of(" \t");
          if (first != std::string::npos) text += "    " + line.substr(first) + "\n";
        }
      }
    }
    TypeObj* type = type_of(e);
    std::string message = str(e);
    text += type_display_name(type) + (message.empty() ? "" : ": " + message) + "\n";
    return text;
  };
  // The chain: causes and contexts first, as CPython prints them.
  std::vector<std::pair<Value, int>> chain;  // 0: first, 1: cause, 2: context
  Value current = exc;
  int guard = 0;
  while (current.is_obj() && guard++ < 16) {
    auto* inst = current.as<InstanceObj>();
    if (!inst->cause.is_none()) {
      chain.emplace_back(current, 1);
      current = inst->cause;
    } else if (!inst->context.is_none() && !inst->suppress_context) {
      chain.emplace_back(current, 2);
      current = inst->context;
    } else {
      chain.emplace_back(current, 0);
      break;
    }
  }
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    out += one(it->first);
    auto next = it + 1;
    if (next != chain.rend()) {
      out += next->second == 1 ? "\nThe above exception was the direct cause of the following exception:\n\n"
                               : "\nDuring handling of the above exception, another exception occurred:\n\n";
    }
  }
  return out;
}

}  // namespace repl
