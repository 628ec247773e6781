// The interpreter's construction: the built-in types and their methods, the
// exception hierarchy of Python 3.11 (plus asyncio's), and the built-in
// functions (print, len, sorted, isinstance, ...).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "tools/repl/internal.h"

namespace repl {
namespace {

std::string& S(Interpreter& in, CallArgs& a, const char* method) {
  if (a.pos.empty() || in.type_of(a.pos[0]) != in.t.str) in.raise("TypeError", std::string("descriptor '") + method + "' for 'str' objects doesn't apply to this object");
  return a.pos[0].as<StrObj>()->s;
}
std::string& B(Interpreter& in, CallArgs& a, const char* method) {
  if (a.pos.empty() || in.type_of(a.pos[0]) != in.t.bytes) in.raise("TypeError", std::string("descriptor '") + method + "' for 'bytes' objects doesn't apply to this object");
  return a.pos[0].as<BytesObj>()->s;
}
std::vector<Value>& L(Interpreter& in, CallArgs& a, const char* method) {
  if (a.pos.empty() || in.type_of(a.pos[0]) != in.t.list) in.raise("TypeError", std::string("descriptor '") + method + "' for 'list' objects doesn't apply to this object");
  return a.pos[0].as<ListObj>()->v;
}
DictObj& D(Interpreter& in, CallArgs& a, const char* method) {
  if (a.pos.empty() || in.type_of(a.pos[0]) != in.t.dict) in.raise("TypeError", std::string("descriptor '") + method + "' for 'dict' objects doesn't apply to this object");
  return *a.pos[0].as<DictObj>();
}

void max_args(Interpreter& in, CallArgs& a, std::size_t n, const char* name) {
  if (a.pos.size() > n) {
    in.raise("TypeError", std::string(name) + "() takes at most " + std::to_string(n) + " argument" + (n == 1 ? "" : "s") +
                              " (" + std::to_string(a.pos.size()) + " given)");
  }
}

std::string strip_chars(const std::string& s, const std::string& chars, bool left, bool right) {
  std::size_t b = 0, e = s.size();
  if (left) while (b < e && chars.find(s[b]) != std::string::npos) ++b;
  if (right) while (e > b && chars.find(s[e - 1]) != std::string::npos) --e;
  return s.substr(b, e - b);
}

std::vector<std::string> split(const std::string& s, const std::string* sep, std::int64_t maxsplit) {
  std::vector<std::string> out;
  if (!sep) {
    std::size_t i = 0;
    while (i < s.size()) {
      while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
      if (i >= s.size()) break;
      if (maxsplit >= 0 && static_cast<std::int64_t>(out.size()) == maxsplit) {
        std::string rest = s.substr(i);
        while (!rest.empty() && std::isspace(static_cast<unsigned char>(rest.back()))) rest.pop_back();
        out.push_back(rest);
        return out;
      }
      std::size_t j = i;
      while (j < s.size() && !std::isspace(static_cast<unsigned char>(s[j]))) ++j;
      out.push_back(s.substr(i, j - i));
      i = j;
    }
    return out;
  }
  std::size_t start = 0;
  while (true) {
    if (maxsplit >= 0 && static_cast<std::int64_t>(out.size()) == maxsplit) break;
    std::size_t at = s.find(*sep, start);
    if (at == std::string::npos) break;
    out.push_back(s.substr(start, at - start));
    start = at + sep->size();
  }
  out.push_back(s.substr(start));
  return out;
}

std::size_t utf8_length(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s) if ((c & 0xC0) != 0x80) ++n;
  return n;
}

Value sorted_list(Interpreter& in, std::vector<Value> items, const Value& key, bool reverse) {
  std::vector<Value> keys;
  if (!key.is_none()) {
    for (auto& item : items) {
      CallArgs a;
      a.pos.push_back(item);
      keys.push_back(in.call(key, a));
    }
  }
  std::vector<std::size_t> order(items.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  const std::vector<Value>& k = key.is_none() ? items : keys;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) {
    return reverse ? in.less(k[y], k[x]) : in.less(k[x], k[y]);
  });
  std::vector<Value> out;
  out.reserve(items.size());
  for (std::size_t i : order) out.push_back(items[i]);
  return in.list_value(std::move(out));
}

Value kw_or(CallArgs& a, const char* name, Value def) {
  for (auto& [k, v] : a.kw) if (k == name) return v;
  return def;
}

void reject_kwargs(Interpreter& in, CallArgs& a, const char* name, std::initializer_list<const char*> allowed) {
  for (auto& [k, v] : a.kw) {
    bool ok = false;
    for (const char* n : allowed) ok |= k == n;
    if (!ok) in.raise("TypeError", "'" + k + "' is an invalid keyword argument for " + name + "()");
  }
}

Value int_from_string(Interpreter& in, const std::string& text, int base) {
  std::string s = strip_chars(text, " \t\n\r", true, true);
  std::string digits;
  for (char c : s) if (c != '_') digits += c;
  bool negative = false;
  std::size_t i = 0;
  if (i < digits.size() && (digits[i] == '-' || digits[i] == '+')) negative = digits[i++] == '-';
  if (base == 0 || base == 16 || base == 8 || base == 2) {
    if (i + 1 < digits.size() && digits[i] == '0' && std::strchr("xXoObB", digits[i + 1])) {
      char p = static_cast<char>(std::tolower(static_cast<unsigned char>(digits[i + 1])));
      int b = p == 'x' ? 16 : p == 'o' ? 8 : 2;
      if (base == 0 || base == b) { base = b; i += 2; }
    }
    if (base == 0) base = 10;
  }
  if (i >= digits.size()) in.raise("ValueError", "invalid literal for int() with base " + std::to_string(base) + ": " + str_repr(text));
  std::uint64_t value = 0;
  for (; i < digits.size(); ++i) {
    char c = static_cast<char>(std::tolower(static_cast<unsigned char>(digits[i])));
    int d = std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : (c >= 'a' && c <= 'z') ? c - 'a' + 10 : 99;
    if (d >= base) in.raise("ValueError", "invalid literal for int() with base " + std::to_string(base) + ": " + str_repr(text));
    if (value > (UINT64_MAX - d) / base) in.raise("OverflowError", "integer overflow: the aio REPL's int is 64-bit");
    value = value * base + d;
  }
  if (value > static_cast<std::uint64_t>(INT64_MAX) + (negative ? 1 : 0)) in.raise("OverflowError", "integer overflow: the aio REPL's int is 64-bit");
  return Value::integer(negative ? static_cast<std::int64_t>(0 - value) : static_cast<std::int64_t>(value));
}

std::string capitalize_words(std::string s, bool title) {
  bool start = true;
  for (char& c : s) {
    if (std::isalpha(static_cast<unsigned char>(c))) {
      c = start ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      start = false;
    } else if (title) {
      start = true;
    } else {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      start = false;
    }
  }
  return s;
}

std::string str_format(Interpreter& in, const std::string& format, CallArgs& a) {
  std::string out;
  std::size_t auto_index = 1;
  for (std::size_t i = 0; i < format.size(); ++i) {
    char c = format[i];
    if (c == '{' && i + 1 < format.size() && format[i + 1] == '{') { out += '{'; ++i; continue; }
    if (c == '}' && i + 1 < format.size() && format[i + 1] == '}') { out += '}'; ++i; continue; }
    if (c == '}') in.raise("ValueError", "Single '}' encountered in format string");
    if (c != '{') { out += c; continue; }
    std::size_t close = format.find('}', i);
    if (close == std::string::npos) in.raise("ValueError", "Single '{' encountered in format string");
    std::string field = format.substr(i + 1, close - i - 1);
    i = close;
    std::string spec;
    char conversion = 0;
    if (std::size_t colon = field.find(':'); colon != std::string::npos) { spec = field.substr(colon + 1); field = field.substr(0, colon); }
    if (std::size_t bang = field.find('!'); bang != std::string::npos) {
      if (bang + 1 < field.size()) conversion = field[bang + 1];
      field = field.substr(0, bang);
    }
    std::string name = field;
    std::string attr;
    if (std::size_t dot = name.find('.'); dot != std::string::npos) { attr = name.substr(dot + 1); name = name.substr(0, dot); }
    Value v;
    if (name.empty()) {
      if (auto_index >= a.pos.size()) in.raise("IndexError", "Replacement index " + std::to_string(auto_index - 1) + " out of range for positional args tuple");
      v = a.pos[auto_index++];
    } else if (std::isdigit(static_cast<unsigned char>(name[0]))) {
      std::size_t k = std::stoul(name) + 1;
      if (k >= a.pos.size()) in.raise("IndexError", "Replacement index " + name + " out of range for positional args tuple");
      v = a.pos[k];
    } else {
      bool found = false;
      for (auto& [k, val] : a.kw) if (k == name) { v = val; found = true; }
      if (!found) {
        std::vector<Value> args;
        args.push_back(in.str_value(name));
        in.throw_exception(in.new_exception(in.exception_type("KeyError"), std::move(args)));
      }
    }
    if (!attr.empty()) v = in.getattr(v, attr);
    if (conversion == 'r') v = in.str_value(in.repr(v));
    else if (conversion == 's') v = in.str_value(in.str(v));
    out += in.format(v, spec);
  }
  return out;
}

}  // namespace

Interpreter::Interpreter(Options options) : options(options) {
  // The type of types first, then the rest.
  auto* type_type = new TypeObj("type", nullptr);
  type_type->type = type_type;
  type_registry_.push_back(Value(type_type));
  t.type = type_type;
  t.object = new_type("object", nullptr);
  t.type->base = t.object;
  t.none = new_type("NoneType", t.object);
  t.int_ = new_type("int", t.object);
  t.bool_ = new_type("bool", t.int_);
  t.float_ = new_type("float", t.object);
  t.str = new_type("str", t.object);
  t.bytes = new_type("bytes", t.object);
  t.list = new_type("list", t.object);
  t.tuple = new_type("tuple", t.object);
  t.dict = new_type("dict", t.object);
  t.set = new_type("set", t.object);
  t.frozenset = new_type("frozenset", t.object);
  t.range = new_type("range", t.object);
  t.slice = new_type("slice", t.object);
  t.function = new_type("function", t.object);
  t.builtin = new_type("builtin_function_or_method", t.object);
  t.method = new_type("method", t.object);
  t.module = new_type("module", t.object);
  t.cell = new_type("cell", t.object);
  t.iterator = new_type("iterator", t.object);
  t.coroutine = new_type("coroutine", t.object);
  t.native_coroutine = new_type("coroutine", t.object);
  t.task = new_type("Task", t.object, "_asyncio");
  t.future = new_type("Future", t.object, "_asyncio");
  t.ellipsis = new_type("ellipsis", t.object);
  install_builtins();
  install_modules();
}

Interpreter::~Interpreter() {
  main_globals.clear();
  modules.clear();
  builtins.clear();
  Heap::clear_all();
}

void Interpreter::install_modules() {
  install_time_random_sys(*this);
  install_asyncio(*this);
}

void Interpreter::install_builtins() {
  // ---- exceptions ----
  struct E { const char* name; const char* base; };
  static const E kExceptions[] = {
      {"BaseException", nullptr}, {"Exception", "BaseException"}, {"SystemExit", "BaseException"},
      {"KeyboardInterrupt", "BaseException"}, {"GeneratorExit", "BaseException"},
      {"BaseExceptionGroup", "BaseException"}, {"ExceptionGroup", "BaseExceptionGroup"},
      {"ArithmeticError", "Exception"}, {"ZeroDivisionError", "ArithmeticError"}, {"OverflowError", "ArithmeticError"},
      {"FloatingPointError", "ArithmeticError"}, {"AssertionError", "Exception"}, {"AttributeError", "Exception"},
      {"EOFError", "Exception"}, {"ImportError", "Exception"}, {"ModuleNotFoundError", "ImportError"},
      {"LookupError", "Exception"}, {"IndexError", "LookupError"}, {"KeyError", "LookupError"},
      {"MemoryError", "Exception"}, {"NameError", "Exception"}, {"UnboundLocalError", "NameError"},
      {"OSError", "Exception"}, {"ConnectionError", "OSError"}, {"BrokenPipeError", "ConnectionError"},
      {"ConnectionAbortedError", "ConnectionError"}, {"ConnectionRefusedError", "ConnectionError"},
      {"ConnectionResetError", "ConnectionError"}, {"BlockingIOError", "OSError"}, {"ChildProcessError", "OSError"},
      {"FileExistsError", "OSError"}, {"FileNotFoundError", "OSError"}, {"InterruptedError", "OSError"},
      {"IsADirectoryError", "OSError"}, {"NotADirectoryError", "OSError"}, {"PermissionError", "OSError"},
      {"ProcessLookupError", "OSError"}, {"TimeoutError", "OSError"}, {"RuntimeError", "Exception"},
      {"NotImplementedError", "RuntimeError"}, {"RecursionError", "RuntimeError"}, {"StopIteration", "Exception"},
      {"StopAsyncIteration", "Exception"}, {"SyntaxError", "Exception"}, {"IndentationError", "SyntaxError"},
      {"SystemError", "Exception"}, {"TypeError", "Exception"}, {"ValueError", "Exception"},
      {"UnicodeError", "ValueError"}, {"UnicodeDecodeError", "UnicodeError"}, {"UnicodeEncodeError", "UnicodeError"},
      {"Warning", "Exception"}, {"RuntimeWarning", "Warning"}, {"DeprecationWarning", "Warning"},
      {"UserWarning", "Warning"},
  };
  for (const E& e : kExceptions) {
    TypeObj* type = new_type(e.name, e.base ? exceptions_.at(e.base) : t.object);
    type->is_exception = true;
    exceptions_[e.name] = type;
    builtins[e.name] = Value(type);
  }
  exceptions_.at("ExceptionGroup")->extra_base = exceptions_.at("Exception");
  TypeObj* base_exception = exceptions_.at("BaseException");
  add_method(base_exception, "__init__", [](Interpreter& in, CallArgs& a) {
    auto* self = self_as<InstanceObj>(in, a, "__init__");
    self->args = in.tuple_value(std::vector<Value>(a.pos.begin() + 1, a.pos.end()));
    return Value();
  });
  add_method(base_exception, "with_traceback", [](Interpreter&, CallArgs& a) { return a.pos[0]; });
  add_method(base_exception, "add_note", [](Interpreter& in, CallArgs& a) {
    auto* self = self_as<InstanceObj>(in, a, "add_note");
    Value notes = self->attrs.count("__notes__") ? self->attrs["__notes__"] : in.list_value();
    notes.as<ListObj>()->v.push_back(in.arg(a, 1, "note", "add_note"));
    self->attrs["__notes__"] = notes;
    return Value();
  });
  // Python's ExceptionGroup(message, exceptions) checks its arguments.
  TypeObj* group = exceptions_.at("ExceptionGroup");
  auto group_init = [](Interpreter& in, CallArgs& a) {
    auto* self = self_as<InstanceObj>(in, a, "__init__");
    if (a.pos.size() != 3) in.raise("TypeError", "BaseExceptionGroup.__new__() takes exactly 2 arguments (" + std::to_string(a.pos.size() - 1) + " given)");
    if (in.type_of(a.pos[1]) != in.t.str) in.raise("TypeError", "argument 1 must be str, not " + in.type_of(a.pos[1])->name);
    std::vector<Value> members = in.to_vector(a.pos[2]);
    if (members.empty()) in.raise("ValueError", "second argument (exceptions) must be a non-empty sequence");
    for (auto& m : members) {
      if (!in.type_of(m)->is_exception) in.raise("ValueError", "Item " + std::to_string(&m - &members[0]) + " of second argument (exceptions) is not an exception");
    }
    std::vector<Value> args;
    args.push_back(a.pos[1]);
    args.push_back(in.list_value(std::move(members)));
    self->args = in.tuple_value(std::move(args));
    return Value();
  };
  add_method(group, "__init__", group_init);
  add_method(exceptions_.at("BaseExceptionGroup"), "__init__", group_init);
  auto subgroup = [](bool split) {
    return [split](Interpreter& in, CallArgs& a) -> Value {
      auto* self = self_as<InstanceObj>(in, a, "subgroup");
      Value types = in.arg(a, 1, "condition", "subgroup");
      std::vector<Value> matched, rest;
      for (const Value& m : self->args.as<TupleObj>()->v[1].as<ListObj>()->v) {
        bool match = in.type_of(types) == in.t.tuple
                         ? std::any_of(types.as<TupleObj>()->v.begin(), types.as<TupleObj>()->v.end(),
                                       [&](const Value& t) { return in.isinstance(m, t.as<TypeObj>()); })
                         : in.isinstance(m, types.as<TypeObj>());
        (match ? matched : rest).push_back(m);
      }
      auto make = [&](std::vector<Value> members) -> Value {
        if (members.empty()) return Value();
        std::vector<Value> args;
        args.push_back(self->args.as<TupleObj>()->v[0]);
        args.push_back(in.list_value(std::move(members)));
        return in.new_exception(self->type, std::move(args));
      };
      if (!split) return make(std::move(matched));
      std::vector<Value> pair;
      pair.push_back(make(std::move(matched)));
      pair.push_back(make(std::move(rest)));
      return in.tuple_value(std::move(pair));
    };
  };
  add_method(group, "subgroup", subgroup(false));
  add_method(group, "split", subgroup(true));
  builtins["Ellipsis"] = Value(new InstanceObj(t.ellipsis));
  builtins["NotImplemented"] = Value(new InstanceObj(t.object));

  // ---- types as constructors ----
  t.object->construct = nullptr;
  t.int_->construct = [](Interpreter& in, CallArgs& a) -> Value {
    if (a.pos.empty()) return Value::integer(0);
    const Value& v = a.pos[0];
    Value base = kw_or(a, "base", a.pos.size() > 1 ? a.pos[1] : Value());
    if (in.type_of(v) == in.t.str) return int_from_string(in, v.as<StrObj>()->s, base.is_none() ? 10 : static_cast<int>(in.to_int(base, "int")));
    if (in.type_of(v) == in.t.bytes) return int_from_string(in, v.as<BytesObj>()->s, base.is_none() ? 10 : static_cast<int>(in.to_int(base, "int")));
    if (v.is_int()) return v;
    if (v.is_bool()) return Value::integer(v.as_bool());
    if (v.is_float()) {
      double f = v.as_float();
      if (std::isnan(f)) in.raise("ValueError", "cannot convert float NaN to integer");
      if (std::isinf(f)) in.raise("OverflowError", "cannot convert float infinity to integer");
      if (std::fabs(f) >= 9.2233720368547758e18) in.raise("OverflowError", "integer overflow: the aio REPL's int is 64-bit");
      return Value::integer(static_cast<std::int64_t>(f));
    }
    in.raise("TypeError", "int() argument must be a string, a bytes-like object or a real number, not '" + in.type_of(v)->name + "'");
  };
  t.float_->construct = [](Interpreter& in, CallArgs& a) -> Value {
    if (a.pos.empty()) return Value::real(0);
    const Value& v = a.pos[0];
    if (in.type_of(v) == in.t.str) {
      std::string s = strip_chars(v.as<StrObj>()->s, " \t\n\r", true, true);
      std::string lower;
      for (char c : s) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (lower == "inf" || lower == "+inf" || lower == "infinity") return Value::real(INFINITY);
      if (lower == "-inf" || lower == "-infinity") return Value::real(-INFINITY);
      if (lower == "nan" || lower == "+nan" || lower == "-nan") return Value::real(NAN);
      char* end = nullptr;
      double f = std::strtod(s.c_str(), &end);
      if (s.empty() || end != s.c_str() + s.size() || lower.find("in") != std::string::npos || lower.find("x") != std::string::npos) {
        in.raise("ValueError", "could not convert string to float: " + str_repr(v.as<StrObj>()->s));
      }
      return Value::real(f);
    }
    return Value::real(in.to_float(v, "float()"));
  };
  t.bool_->construct = [](Interpreter& in, CallArgs& a) -> Value { return Value::boolean(!a.pos.empty() && in.truthy(a.pos[0])); };
  t.str->construct = [](Interpreter& in, CallArgs& a) -> Value {
    if (a.pos.empty()) return in.str_value("");
    if (in.type_of(a.pos[0]) == in.t.bytes && (a.pos.size() > 1 || !a.kw.empty())) return in.str_value(a.pos[0].as<BytesObj>()->s);
    return in.str_value(in.str(a.pos[0]));
  };
  t.bytes->construct = [](Interpreter& in, CallArgs& a) -> Value {
    if (a.pos.empty()) return in.bytes_value("");
    const Value& v = a.pos[0];
    if (in.type_of(v) == in.t.str) {
      if (a.pos.size() < 2 && a.kw.empty()) in.raise("TypeError", "string argument without an encoding");
      return in.bytes_value(v.as<StrObj>()->s);
    }
    if (v.is_int()) {
      if (v.as_int() < 0) in.raise("ValueError", "negative count");
      if (v.as_int() > (1 << 28)) in.raise("MemoryError", "");
      return in.bytes_value(std::string(v.as_int(), '\0'));
    }
    std::string out;
    in.iterate(v, [&](const Value& item) {
      std::int64_t b = in.to_int(item, "bytes");
      if (b < 0 || b > 255) in.raise("ValueError", "bytes must be in range(0, 256)");
      out += static_cast<char>(b);
      return true;
    });
    return in.bytes_value(std::move(out));
  };
  t.list->construct = [](Interpreter& in, CallArgs& a) -> Value {
    max_args(in, a, 1, "list");
    return in.list_value(a.pos.empty() ? std::vector<Value>{} : in.to_vector(a.pos[0]));
  };
  t.tuple->construct = [](Interpreter& in, CallArgs& a) -> Value {
    max_args(in, a, 1, "tuple");
    if (!a.pos.empty() && in.type_of(a.pos[0]) == in.t.tuple) return a.pos[0];
    return in.tuple_value(a.pos.empty() ? std::vector<Value>{} : in.to_vector(a.pos[0]));
  };
  t.dict->construct = [](Interpreter& in, CallArgs& a) -> Value {
    max_args(in, a, 1, "dict");
    Value d = in.dict_value();
    if (!a.pos.empty()) dict_update(in, d, a.pos[0]);
    for (auto& [k, v] : a.kw) set_item(in, d, in.str_value(k), v);
    return d;
  };
  auto make_set = [](bool frozen) {
    return [frozen](Interpreter& in, CallArgs& a) -> Value {
      max_args(in, a, 1, frozen ? "frozenset" : "set");
      Value s = new_set(in, frozen);
      if (!a.pos.empty()) in.iterate(a.pos[0], [&](const Value& v) { set_add(in, s, v); return true; });
      return s;
    };
  };
  t.set->construct = make_set(false);
  t.frozenset->construct = make_set(true);
  t.range->construct = [](Interpreter& in, CallArgs& a) -> Value {
    if (a.pos.empty() || a.pos.size() > 3) in.raise("TypeError", "range expected at most 3 arguments, got " + std::to_string(a.pos.size()));
    std::int64_t start = 0, stop, step = 1;
    if (a.pos.size() == 1) stop = in.to_int(a.pos[0], "range");
    else {
      start = in.to_int(a.pos[0], "range");
      stop = in.to_int(a.pos[1], "range");
      if (a.pos.size() == 3) step = in.to_int(a.pos[2], "range");
    }
    if (step == 0) in.raise("ValueError", "range() arg 3 must not be zero");
    auto* r = new RangeObj(start, stop, step);
    r->type = in.t.range;
    return Value(r);
  };
  t.slice->construct = [](Interpreter& in, CallArgs& a) -> Value {
    Value x = a.pos.size() > 0 ? a.pos[0] : Value(), y = a.pos.size() > 1 ? a.pos[1] : Value(), z = a.pos.size() > 2 ? a.pos[2] : Value();
    auto* s = a.pos.size() == 1 ? new SliceObj(Value(), x, Value()) : new SliceObj(x, y, z);
    s->type = in.t.slice;
    return Value(s);
  };
  t.type->construct = [](Interpreter& in, CallArgs& a) -> Value {
    if (a.pos.size() != 1) in.raise("TypeError", "type() takes 1 argument (creating classes with type() is not supported by the aio REPL)");
    return Value(in.type_of(a.pos[0]));
  };
  t.object->construct = [](Interpreter& in, CallArgs& a) -> Value {
    if (!a.pos.empty()) in.raise("TypeError", "object() takes no arguments");
    auto* o = new InstanceObj(in.t.object);
    return Value(o);
  };
  for (TypeObj* type : {t.object, t.int_, t.bool_, t.float_, t.str, t.bytes, t.list, t.tuple, t.dict, t.set, t.frozenset,
                        t.range, t.slice, t.type}) {
    builtins[type->name] = Value(type);
  }
  // object() instances are plain: the user class machinery handles them.
  t.object->construct = nullptr;

  // ---- str methods ----
  add_method(t.str, "upper", [](Interpreter& in, CallArgs& a) {
    std::vector<std::uint32_t> cps = utf8_decode(S(in, a, "upper"));
    for (auto& cp : cps) cp = to_upper_cp(cp);
    return in.str_value(utf8_encode(cps));
  });
  add_method(t.str, "lower", [](Interpreter& in, CallArgs& a) {
    std::vector<std::uint32_t> cps = utf8_decode(S(in, a, "lower"));
    for (auto& cp : cps) cp = to_lower_cp(cp);
    return in.str_value(utf8_encode(cps));
  });
  add_method(t.str, "title", [](Interpreter& in, CallArgs& a) { return in.str_value(capitalize_words(S(in, a, "title"), true)); });
  add_method(t.str, "capitalize", [](Interpreter& in, CallArgs& a) { return in.str_value(capitalize_words(S(in, a, "capitalize"), false)); });
  auto strip = [](bool left, bool right, const char* name) {
    return [left, right, name](Interpreter& in, CallArgs& a) {
      bool bytes = !a.pos.empty() && in.type_of(a.pos[0]) == in.t.bytes;
      const std::string& s = bytes ? B(in, a, name) : S(in, a, name);
      std::string chars = " \t\n\r\x0b\x0c";
      if (a.pos.size() > 1 && !a.pos[1].is_none()) chars = bytes ? a.pos[1].as<BytesObj>()->s : in.to_str(a.pos[1], name);
      std::string r = strip_chars(s, chars, left, right);
      return bytes ? in.bytes_value(std::move(r)) : in.str_value(std::move(r));
    };
  };
  add_method(t.str, "strip", strip(true, true, "strip"));
  add_method(t.str, "lstrip", strip(true, false, "lstrip"));
  add_method(t.str, "rstrip", strip(false, true, "rstrip"));
  add_method(t.bytes, "strip", strip(true, true, "strip"));
  add_method(t.bytes, "lstrip", strip(true, false, "lstrip"));
  add_method(t.bytes, "rstrip", strip(false, true, "rstrip"));
  auto split_method = [](bool bytes) {
    return [bytes](Interpreter& in, CallArgs& a) {
      const std::string& s = bytes ? B(in, a, "split") : S(in, a, "split");
      Value sep = in.arg(a, 1, "sep", "split", Value());
      std::int64_t maxsplit = in.to_int(in.arg(a, 2, "maxsplit", "split", Value::integer(-1)), "split");
      std::string sep_text;
      if (!sep.is_none()) {
        sep_text = bytes ? sep.as<BytesObj>()->s : in.to_str(sep, "split");
        if (sep_text.empty()) in.raise("ValueError", "empty separator");
      }
      std::vector<Value> out;
      for (auto& part : split(s, sep.is_none() ? nullptr : &sep_text, maxsplit)) out.push_back(bytes ? in.bytes_value(part) : in.str_value(part));
      return in.list_value(std::move(out));
    };
  };
  add_method(t.str, "split", split_method(false));
  add_method(t.bytes, "split", split_method(true));
  add_method(t.str, "splitlines", [](Interpreter& in, CallArgs& a) {
    const std::string& s = S(in, a, "splitlines");
    std::vector<Value> out;
    std::size_t start = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '\n' || s[i] == '\r') {
        out.push_back(in.str_value(s.substr(start, i - start)));
        if (s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n') ++i;
        start = i + 1;
      }
    }
    if (start < s.size()) out.push_back(in.str_value(s.substr(start)));
    return in.list_value(std::move(out));
  });
  auto join = [](bool bytes) {
    return [bytes](Interpreter& in, CallArgs& a) {
      const std::string& sep = bytes ? B(in, a, "join") : S(in, a, "join");
      std::string out;
      bool first = true;
      std::size_t index = 0;
      in.iterate(in.arg(a, 1, "iterable", "join"), [&](const Value& v) {
        if (in.type_of(v) != (bytes ? in.t.bytes : in.t.str)) {
          in.raise("TypeError", "sequence item " + std::to_string(index) + ": expected " + (bytes ? "a bytes-like object" : "str instance") + ", " + in.type_of(v)->name + " found");
        }
        if (!first) out += sep;
        first = false;
        out += bytes ? v.as<BytesObj>()->s : v.as<StrObj>()->s;
        ++index;
        return true;
      });
      return bytes ? in.bytes_value(std::move(out)) : in.str_value(std::move(out));
    };
  };
  add_method(t.str, "join", join(false));
  add_method(t.bytes, "join", join(true));
  auto affix = [](bool start, bool bytes) {
    return [start, bytes](Interpreter& in, CallArgs& a) {
      const char* name = start ? "startswith" : "endswith";
      const std::string& s = bytes ? B(in, a, name) : S(in, a, name);
      Value what = in.arg(a, 1, "prefix", name);
      auto test = [&](const Value& p) {
        const std::string& x = bytes ? p.as<BytesObj>()->s : in.to_str(p, name);
        if (x.size() > s.size()) return false;
        return start ? s.compare(0, x.size(), x) == 0 : s.compare(s.size() - x.size(), x.size(), x) == 0;
      };
      if (in.type_of(what) == in.t.tuple) {
        for (const Value& p : what.as<TupleObj>()->v) if (test(p)) return Value::boolean(true);
        return Value::boolean(false);
      }
      return Value::boolean(test(what));
    };
  };
  add_method(t.str, "startswith", affix(true, false));
  add_method(t.str, "endswith", affix(false, false));
  add_method(t.bytes, "startswith", affix(true, true));
  add_method(t.bytes, "endswith", affix(false, true));
  add_method(t.str, "replace", [](Interpreter& in, CallArgs& a) {
    std::string s = S(in, a, "replace");
    const std::string& from = in.to_str(in.arg(a, 1, "old", "replace"), "replace");
    const std::string& to = in.to_str(in.arg(a, 2, "new", "replace"), "replace");
    std::int64_t count = in.to_int(in.arg(a, 3, "count", "replace", Value::integer(-1)), "replace");
    std::string out;
    std::size_t pos = 0;
    std::int64_t done = 0;
    if (from.empty()) {
      for (std::size_t i = 0; i <= s.size(); ++i) {
        if (count < 0 || done < count) { out += to; ++done; }
        if (i < s.size()) out += s[i];
      }
      return in.str_value(std::move(out));
    }
    while (count < 0 || done < count) {
      std::size_t at = s.find(from, pos);
      if (at == std::string::npos) break;
      out += s.substr(pos, at - pos) + to;
      pos = at + from.size();
      ++done;
    }
    out += s.substr(pos);
    return in.str_value(std::move(out));
  });
  auto find = [](bool raise_missing, bool reverse) {
    return [raise_missing, reverse](Interpreter& in, CallArgs& a) {
      bool bytes = in.type_of(a.pos[0]) == in.t.bytes;
      const std::string& s = bytes ? B(in, a, "find") : S(in, a, "find");
      Value needle = in.arg(a, 1, "sub", "find");
      const std::string& x = bytes ? needle.as<BytesObj>()->s : in.to_str(needle, "find");
      std::size_t at = reverse ? s.rfind(x) : s.find(x);
      if (at == std::string::npos) {
        if (raise_missing) in.raise("ValueError", "substring not found");
        return Value::integer(-1);
      }
      return Value::integer(static_cast<std::int64_t>(at));
    };
  };
  add_method(t.str, "find", find(false, false));
  add_method(t.str, "rfind", find(false, true));
  add_method(t.str, "index", find(true, false));
  add_method(t.bytes, "find", find(false, false));
  add_method(t.str, "count", [](Interpreter& in, CallArgs& a) {
    const std::string& s = S(in, a, "count");
    const std::string& x = in.to_str(in.arg(a, 1, "sub", "count"), "count");
    if (x.empty()) return Value::integer(static_cast<std::int64_t>(utf8_length(s) + 1));
    std::int64_t n = 0;
    for (std::size_t at = s.find(x); at != std::string::npos; at = s.find(x, at + x.size())) ++n;
    return Value::integer(n);
  });
  add_method(t.str, "encode", [](Interpreter& in, CallArgs& a) { return in.bytes_value(S(in, a, "encode")); });
  add_method(t.bytes, "decode", [](Interpreter& in, CallArgs& a) {
    const std::string& b = B(in, a, "decode");
    // UTF-8 validation: Python raises UnicodeDecodeError on bad input.
    for (std::size_t i = 0; i < b.size();) {
      unsigned char c = static_cast<unsigned char>(b[i]);
      std::size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
      bool ok = len != 0 && i + len <= b.size();
      for (std::size_t k = 1; ok && k < len; ++k) ok = (static_cast<unsigned char>(b[i + k]) & 0xC0) == 0x80;
      if (!ok) {
        char msg[160];
        std::snprintf(msg, sizeof msg, "'utf-8' codec can't decode byte 0x%02x in position %zu: invalid start byte", c, i);
        in.raise("UnicodeDecodeError", msg);
      }
      i += len;
    }
    return in.str_value(b);
  });
  add_method(t.bytes, "hex", [](Interpreter& in, CallArgs& a) {
    std::string out;
    char buf[4];
    for (unsigned char c : B(in, a, "hex")) { std::snprintf(buf, sizeof buf, "%02x", c); out += buf; }
    return in.str_value(out);
  });
  add_method(t.str, "format", [](Interpreter& in, CallArgs& a) { return in.str_value(str_format(in, S(in, a, "format"), a)); });
  auto classify = [](int (*pred)(int), const char* name) {
    return [pred, name](Interpreter& in, CallArgs& a) {
      const std::string& s = S(in, a, name);
      if (s.empty()) return Value::boolean(false);
      for (unsigned char c : s) if (!pred(c)) return Value::boolean(false);
      return Value::boolean(true);
    };
  };
  add_method(t.str, "isdigit", classify(::isdigit, "isdigit"));
  add_method(t.str, "isnumeric", classify(::isdigit, "isnumeric"));
  add_method(t.str, "isalpha", classify(::isalpha, "isalpha"));
  add_method(t.str, "isalnum", classify(::isalnum, "isalnum"));
  add_method(t.str, "isspace", classify(::isspace, "isspace"));
  add_method(t.str, "isupper", [](Interpreter& in, CallArgs& a) {
    bool any = false;
    for (unsigned char c : S(in, a, "isupper")) { if (std::islower(c)) return Value::boolean(false); any |= std::isupper(c) != 0; }
    return Value::boolean(any);
  });
  add_method(t.str, "islower", [](Interpreter& in, CallArgs& a) {
    bool any = false;
    for (unsigned char c : S(in, a, "islower")) { if (std::isupper(c)) return Value::boolean(false); any |= std::islower(c) != 0; }
    return Value::boolean(any);
  });
  auto justify = [](char mode) {
    return [mode](Interpreter& in, CallArgs& a) {
      const std::string& s = S(in, a, "ljust");
      std::int64_t width = in.to_int(in.arg(a, 1, "width", "ljust"), "ljust");
      std::string fill = a.pos.size() > 2 ? in.to_str(a.pos[2], "ljust") : " ";
      std::int64_t pad = width - static_cast<std::int64_t>(utf8_length(s));
      if (pad <= 0) return in.str_value(s);
      if (mode == 'z') {
        std::string sign = (!s.empty() && (s[0] == '-' || s[0] == '+')) ? s.substr(0, 1) : "";
        return in.str_value(sign + std::string(pad, '0') + s.substr(sign.size()));
      }
      std::string p;
      auto rep = [&](std::int64_t n) { std::string r; for (std::int64_t i = 0; i < n; ++i) r += fill; return r; };
      if (mode == 'l') return in.str_value(s + rep(pad));
      if (mode == 'r') return in.str_value(rep(pad) + s);
      std::int64_t left = pad / 2 + (pad & width & 1);
      return in.str_value(rep(left) + s + rep(pad - left));
    };
  };
  add_method(t.str, "ljust", justify('l'));
  add_method(t.str, "rjust", justify('r'));
  add_method(t.str, "center", justify('c'));
  add_method(t.str, "zfill", justify('z'));
  add_method(t.str, "partition", [](Interpreter& in, CallArgs& a) {
    const std::string& s = S(in, a, "partition");
    const std::string& sep = in.to_str(in.arg(a, 1, "sep", "partition"), "partition");
    std::size_t at = s.find(sep);
    std::vector<Value> parts;
    if (at == std::string::npos) {
      parts = {in.str_value(s), in.str_value(""), in.str_value("")};
    } else {
      parts = {in.str_value(s.substr(0, at)), in.str_value(sep), in.str_value(s.substr(at + sep.size()))};
    }
    return in.tuple_value(std::move(parts));
  });
  add_method(t.str, "removeprefix", [](Interpreter& in, CallArgs& a) {
    const std::string& s = S(in, a, "removeprefix");
    const std::string& p = in.to_str(in.arg(a, 1, "prefix", "removeprefix"), "removeprefix");
    return in.str_value(s.compare(0, p.size(), p) == 0 ? s.substr(p.size()) : s);
  });
  add_method(t.str, "removesuffix", [](Interpreter& in, CallArgs& a) {
    const std::string& s = S(in, a, "removesuffix");
    const std::string& p = in.to_str(in.arg(a, 1, "suffix", "removesuffix"), "removesuffix");
    return in.str_value(!p.empty() && s.size() >= p.size() && s.compare(s.size() - p.size(), p.size(), p) == 0 ? s.substr(0, s.size() - p.size()) : s);
  });

  // bytes share str's byte-wise methods: arguments and results convert.
  for (const char* name : {"upper", "lower", "replace", "count", "index", "rfind", "title", "capitalize", "isdigit",
                           "isalpha", "isspace", "isalnum", "isupper", "islower", "ljust", "rjust", "center", "zfill",
                           "partition", "removeprefix", "removesuffix", "splitlines"}) {
    Value str_method = t.str->attrs.at(name);
    t.bytes->attrs[name] = builtin(std::string("bytes.") + name, [str_method](Interpreter& in, CallArgs& a) {
      for (auto& v : a.pos) if (in.type_of(v) == in.t.bytes) v = in.str_value(v.as<BytesObj>()->s);
      Value r = in.call(str_method, a);
      auto back = [&](Value& v) { if (in.type_of(v) == in.t.str) v = in.bytes_value(v.as<StrObj>()->s); };
      back(r);
      if (in.type_of(r) == in.t.list) for (auto& v : r.as<ListObj>()->v) back(v);
      if (in.type_of(r) == in.t.tuple) for (auto& v : r.as<TupleObj>()->v) back(v);
      return r;
    });
  }

  // bytes case mapping is ASCII-only, byte for byte.
  add_method(t.bytes, "upper", [](Interpreter& in, CallArgs& a) {
    std::string s = B(in, a, "upper");
    for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return in.bytes_value(std::move(s));
  });
  add_method(t.bytes, "lower", [](Interpreter& in, CallArgs& a) {
    std::string s = B(in, a, "lower");
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return in.bytes_value(std::move(s));
  });

  // ---- list methods ----
  add_method(t.list, "append", [](Interpreter& in, CallArgs& a) {
    auto& v = L(in, a, "append");
    if (a.pos.size() != 2) in.raise("TypeError", "list.append() takes exactly one argument (" + std::to_string(a.pos.size() - 1) + " given)");
    v.push_back(a.pos[1]);
    return Value();
  });
  add_method(t.list, "extend", [](Interpreter& in, CallArgs& a) {
    auto& v = L(in, a, "extend");
    std::vector<Value> items = in.to_vector(in.arg(a, 1, "iterable", "extend"));
    v.insert(v.end(), items.begin(), items.end());
    return Value();
  });
  add_method(t.list, "insert", [](Interpreter& in, CallArgs& a) {
    auto& v = L(in, a, "insert");
    std::int64_t i = in.to_int(in.arg(a, 1, "index", "insert"), "insert");
    std::int64_t n = static_cast<std::int64_t>(v.size());
    if (i < 0) i = std::max<std::int64_t>(0, i + n);
    i = std::min(i, n);
    v.insert(v.begin() + i, in.arg(a, 2, "object", "insert"));
    return Value();
  });
  add_method(t.list, "pop", [](Interpreter& in, CallArgs& a) {
    auto& v = L(in, a, "pop");
    if (v.empty()) in.raise("IndexError", "pop from empty list");
    std::int64_t n = static_cast<std::int64_t>(v.size());
    std::int64_t i = a.pos.size() > 1 ? in.to_int(a.pos[1], "pop") : n - 1;
    if (i < 0) i += n;
    if (i < 0 || i >= n) in.raise("IndexError", "pop index out of range");
    Value out = v[i];
    v.erase(v.begin() + i);
    return out;
  });
  add_method(t.list, "remove", [](Interpreter& in, CallArgs& a) {
    auto& v = L(in, a, "remove");
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (in.equals(v[i], a.pos[1])) { v.erase(v.begin() + i); return Value(); }
    }
    in.raise("ValueError", "list.remove(x): x not in list");
  });
  auto index_of = [](bool is_list) {
    return [is_list](Interpreter& in, CallArgs& a) {
      const auto& v = is_list ? L(in, a, "index") : a.pos[0].as<TupleObj>()->v;
      for (std::size_t i = 0; i < v.size(); ++i) if (in.equals(v[i], in.arg(a, 1, "value", "index"))) return Value::integer(static_cast<std::int64_t>(i));
      in.raise("ValueError", is_list ? in.repr(a.pos[1]) + " is not in list" : "tuple.index(x): x not in tuple");
    };
  };
  add_method(t.list, "index", index_of(true));
  add_method(t.tuple, "index", index_of(false));
  auto count_of = [](Interpreter& in, CallArgs& a) {
    const auto& v = in.type_of(a.pos[0]) == in.t.list ? a.pos[0].as<ListObj>()->v : a.pos[0].as<TupleObj>()->v;
    std::int64_t n = 0;
    for (const Value& x : v) n += in.equals(x, in.arg(a, 1, "value", "count"));
    return Value::integer(n);
  };
  add_method(t.list, "count", count_of);
  add_method(t.tuple, "count", count_of);
  add_method(t.list, "clear", [](Interpreter& in, CallArgs& a) { L(in, a, "clear").clear(); return Value(); });
  add_method(t.list, "copy", [](Interpreter& in, CallArgs& a) { return in.list_value(L(in, a, "copy")); });
  add_method(t.list, "reverse", [](Interpreter& in, CallArgs& a) {
    auto& v = L(in, a, "reverse");
    std::reverse(v.begin(), v.end());
    return Value();
  });
  add_method(t.list, "sort", [](Interpreter& in, CallArgs& a) {
    reject_kwargs(in, a, "sort", {"key", "reverse"});
    if (a.pos.size() > 1) in.raise("TypeError", "sort() takes no positional arguments");
    auto& v = L(in, a, "sort");
    Value sorted = sorted_list(in, v, kw_or(a, "key", Value()), in.truthy(kw_or(a, "reverse", Value::boolean(false))));
    v = sorted.as<ListObj>()->v;
    return Value();
  });

  // ---- dict methods ----
  add_method(t.dict, "get", [](Interpreter& in, CallArgs& a) {
    auto& d = D(in, a, "get");
    in.hash(in.arg(a, 1, "key", "get"));
    Value* v = d.find(a.pos[1]);
    return v ? *v : (a.pos.size() > 2 ? a.pos[2] : Value());
  });
  add_method(t.dict, "setdefault", [](Interpreter& in, CallArgs& a) {
    auto& d = D(in, a, "setdefault");
    in.hash(in.arg(a, 1, "key", "setdefault"));
    if (Value* v = d.find(a.pos[1])) return *v;
    Value def = a.pos.size() > 2 ? a.pos[2] : Value();
    d.set(a.pos[1], def);
    return def;
  });
  add_method(t.dict, "pop", [](Interpreter& in, CallArgs& a) {
    auto& d = D(in, a, "pop");
    Value key = in.arg(a, 1, "key", "pop");
    in.hash(key);
    if (Value* v = d.find(key)) {
      Value out = *v;
      d.erase(key);
      return out;
    }
    if (a.pos.size() > 2) return a.pos[2];
    std::vector<Value> args;
    args.push_back(key);
    in.throw_exception(in.new_exception(in.exception_type("KeyError"), std::move(args)));
  });
  add_method(t.dict, "popitem", [](Interpreter& in, CallArgs& a) {
    auto& d = D(in, a, "popitem");
    for (auto it = d.entries.rbegin(); it != d.entries.rend(); ++it) {
      if (it->key.is_undef()) continue;
      std::vector<Value> pair;
      pair.push_back(it->key);
      pair.push_back(it->value);
      Value key = it->key;
      d.erase(key);
      return in.tuple_value(std::move(pair));
    }
    in.raise("KeyError", "popitem(): dictionary is empty");
  });
  auto view = [](int which) {
    return [which](Interpreter& in, CallArgs& a) {
      auto& d = D(in, a, "items");
      std::vector<Value> out;
      out.reserve(d.live);
      for (auto& e : d.entries) {
        if (e.key.is_undef()) continue;
        if (which == 0) out.push_back(e.key);
        else if (which == 1) out.push_back(e.value);
        else {
          std::vector<Value> pair;
          pair.push_back(e.key);
          pair.push_back(e.value);
          out.push_back(in.tuple_value(std::move(pair)));
        }
      }
      // A list stands in for the view (docs/repl.md).
      return in.list_value(std::move(out));
    };
  };
  add_method(t.dict, "keys", view(0));
  add_method(t.dict, "values", view(1));
  add_method(t.dict, "items", view(2));
  add_method(t.dict, "update", [](Interpreter& in, CallArgs& a) {
    D(in, a, "update");
    if (a.pos.size() > 1) dict_update(in, a.pos[0], a.pos[1]);
    for (auto& [k, v] : a.kw) set_item(in, a.pos[0], in.str_value(k), v);
    return Value();
  });
  add_method(t.dict, "clear", [](Interpreter& in, CallArgs& a) { D(in, a, "clear").clear(); return Value(); });
  add_method(t.dict, "copy", [](Interpreter& in, CallArgs& a) {
    D(in, a, "copy");
    Value d = in.dict_value();
    dict_update(in, d, a.pos[0]);
    return d;
  });

  // ---- set methods ----
  add_method(t.set, "add", [](Interpreter& in, CallArgs& a) { set_add(in, a.pos[0], in.arg(a, 1, "elem", "add")); return Value(); });
  add_method(t.set, "discard", [](Interpreter& in, CallArgs& a) {
    in.hash(in.arg(a, 1, "elem", "discard"));
    a.pos[0].as<SetObj>()->items.erase(a.pos[1]);
    return Value();
  });
  add_method(t.set, "remove", [](Interpreter& in, CallArgs& a) {
    in.hash(in.arg(a, 1, "elem", "remove"));
    if (!a.pos[0].as<SetObj>()->items.erase(a.pos[1])) {
      std::vector<Value> args;
      args.push_back(a.pos[1]);
      in.throw_exception(in.new_exception(in.exception_type("KeyError"), std::move(args)));
    }
    return Value();
  });
  add_method(t.set, "pop", [](Interpreter& in, CallArgs& a) {
    auto& items = a.pos[0].as<SetObj>()->items;
    for (auto& e : items.entries) {
      if (e.key.is_undef()) continue;
      Value k = e.key;
      items.erase(k);
      return k;
    }
    in.raise("KeyError", "pop from an empty set");
  });
  add_method(t.set, "clear", [](Interpreter&, CallArgs& a) { a.pos[0].as<SetObj>()->items.clear(); return Value(); });
  add_method(t.set, "update", [](Interpreter& in, CallArgs& a) {
    for (std::size_t i = 1; i < a.pos.size(); ++i) in.iterate(a.pos[i], [&](const Value& v) { set_add(in, a.pos[0], v); return true; });
    return Value();
  });
  auto set_op = [](const char* op) {
    return [op](Interpreter& in, CallArgs& a) {
      Value other = new_set(in);
      in.iterate(in.arg(a, 1, "other", op), [&](const Value& v) { set_add(in, other, v); return true; });
      return binary_op(in, op, a.pos[0], other);
    };
  };
  for (TypeObj* st : {t.set, t.frozenset}) {
    add_method(st, "union", set_op("|"));
    add_method(st, "intersection", set_op("&"));
    add_method(st, "difference", set_op("-"));
    add_method(st, "symmetric_difference", set_op("^"));
    add_method(st, "issubset", [](Interpreter& in, CallArgs& a) {
      Value other = new_set(in);
      in.iterate(in.arg(a, 1, "other", "issubset"), [&](const Value& v) { set_add(in, other, v); return true; });
      return Value::boolean(compare_op(in, "<=", a.pos[0], other));
    });
  }
  add_method(t.int_, "bit_length", [](Interpreter& in, CallArgs& a) {
    std::int64_t x = in.to_int(a.pos[0], "bit_length");
    std::uint64_t ax = x < 0 ? 0 - static_cast<std::uint64_t>(x) : static_cast<std::uint64_t>(x);
    int n = 0;
    while (ax) { ++n; ax >>= 1; }
    return Value::integer(n);
  });
  add_method(t.float_, "is_integer", [](Interpreter& in, CallArgs& a) {
    double f = in.to_float(a.pos[0], "is_integer");
    return Value::boolean(std::isfinite(f) && std::floor(f) == f);
  });

  // ---- functions ----
  builtins["print"] = builtin("print", [](Interpreter& in, CallArgs& a) {
    reject_kwargs(in, a, "print", {"sep", "end", "file", "flush"});
    Value sep = kw_or(a, "sep", Value());
    Value end = kw_or(a, "end", Value());
    Value file = kw_or(a, "file", Value());
    std::string sep_text = sep.is_none() ? " " : in.to_str(sep, "sep must be None or a string");
    std::string out;
    for (std::size_t i = 0; i < a.pos.size(); ++i) {
      if (i) out += sep_text;
      out += in.str(a.pos[i]);
    }
    out += end.is_none() ? "\n" : in.to_str(end, "end must be None or a string");
    FILE* stream = stdout;
    if (!file.is_none()) {
      Value module = in.modules["sys"];
      if (file.identical(module.as<ModuleObj>()->attrs["stderr"])) {
        std::fflush(stdout);
        stream = stderr;
      } else if (!file.identical(module.as<ModuleObj>()->attrs["stdout"])) {
        CallArgs w;
        w.pos.push_back(in.str_value(out));
        in.call(in.getattr(file, "write"), w);
        return Value();
      }
    }
    std::fwrite(out.data(), 1, out.size(), stream);
    if (in.truthy(kw_or(a, "flush", Value::boolean(false)))) std::fflush(stream);
    return Value();
  }, "std::fwrite to stdout (the REPL's own print, not aio)");
  builtins["repr"] = builtin("repr", [](Interpreter& in, CallArgs& a) { return in.str_value(in.repr(in.arg(a, 0, "obj", "repr"))); });
  builtins["ascii"] = builtin("ascii", [](Interpreter& in, CallArgs& a) { return in.str_value(in.repr(in.arg(a, 0, "obj", "ascii"))); });
  builtins["format"] = builtin("format", [](Interpreter& in, CallArgs& a) {
    Value spec = in.arg(a, 1, "format_spec", "format", in.str_value(""));
    return in.str_value(in.format(in.arg(a, 0, "value", "format"), in.to_str(spec, "format")));
  });
  builtins["len"] = builtin("len", [](Interpreter& in, CallArgs& a) -> Value {
    if (a.pos.size() != 1) in.raise("TypeError", "len() takes exactly one argument (" + std::to_string(a.pos.size()) + " given)");
    const Value& v = a.pos[0];
    TypeObj* type = in.type_of(v);
    if (type == in.t.str) return Value::integer(static_cast<std::int64_t>(utf8_length(v.as<StrObj>()->s)));
    if (type == in.t.bytes) return Value::integer(static_cast<std::int64_t>(v.as<BytesObj>()->s.size()));
    if (type == in.t.list) return Value::integer(static_cast<std::int64_t>(v.as<ListObj>()->v.size()));
    if (type == in.t.tuple) return Value::integer(static_cast<std::int64_t>(v.as<TupleObj>()->v.size()));
    if (type == in.t.dict) return Value::integer(static_cast<std::int64_t>(v.as<DictObj>()->live));
    if (type == in.t.set || type == in.t.frozenset) return Value::integer(static_cast<std::int64_t>(v.as<SetObj>()->items.live));
    if (type == in.t.range) return Value::integer(v.as<RangeObj>()->length());
    if (const Value* m = type->lookup("__len__")) {
      CallArgs c;
      c.pos.push_back(v);
      return in.call(*m, c);
    }
    in.raise("TypeError", "object of type '" + type->name + "' has no len()");
  });
  builtins["abs"] = builtin("abs", [](Interpreter& in, CallArgs& a) -> Value {
    const Value& v = in.arg(a, 0, "x", "abs");
    if (v.is_float()) return Value::real(std::fabs(v.as_float()));
    std::int64_t x = in.to_int(v, "abs");
    if (x == INT64_MIN) in.raise("OverflowError", "integer overflow: the aio REPL's int is 64-bit");
    return Value::integer(x < 0 ? -x : x);
  });
  builtins["round"] = builtin("round", [](Interpreter& in, CallArgs& a) -> Value {
    const Value& v = in.arg(a, 0, "number", "round");
    Value nd = in.arg(a, 1, "ndigits", "round", Value());
    if (v.is_int() || v.is_bool()) return nd.is_none() ? Value::integer(in.to_int(v, "round")) : v;
    double x = in.to_float(v, "round");
    if (nd.is_none()) {
      double r = std::nearbyint(x);  // banker's rounding (FE_TONEAREST)
      if (!std::isfinite(r)) in.raise(std::isnan(r) ? "ValueError" : "OverflowError", std::isnan(r) ? "cannot convert float NaN to integer" : "cannot convert float infinity to integer");
      return Value::integer(static_cast<std::int64_t>(r));
    }
    std::int64_t digits = in.to_int(nd, "round");
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", static_cast<int>(std::clamp<std::int64_t>(digits, 0, 30)), x);
    if (digits < 0) {
      double p = std::pow(10.0, static_cast<double>(-digits));
      return Value::real(std::nearbyint(x / p) * p);
    }
    return Value::real(std::strtod(buf, nullptr));
  });
  auto min_max = [](bool is_max) {
    return [is_max](Interpreter& in, CallArgs& a) -> Value {
      const char* name = is_max ? "max" : "min";
      reject_kwargs(in, a, name, {"key", "default"});
      std::vector<Value> items = a.pos.size() == 1 ? in.to_vector(a.pos[0]) : a.pos;
      Value key = kw_or(a, "key", Value());
      if (items.empty()) {
        for (auto& [k, v] : a.kw) if (k == "default") return v;
        in.raise("ValueError", std::string(name) + "() arg is an empty sequence");
      }
      Value best = items[0];
      Value best_key = key.is_none() ? best : in.call(key, *std::make_unique<CallArgs>(CallArgs{{best}, {}}));
      for (std::size_t i = 1; i < items.size(); ++i) {
        Value k = key.is_none() ? items[i] : in.call(key, *std::make_unique<CallArgs>(CallArgs{{items[i]}, {}}));
        if (is_max ? in.less(best_key, k) : in.less(k, best_key)) { best = items[i]; best_key = k; }
      }
      return best;
    };
  };
  builtins["max"] = builtin("max", min_max(true));
  builtins["min"] = builtin("min", min_max(false));
  builtins["sum"] = builtin("sum", [](Interpreter& in, CallArgs& a) {
    Value total = in.arg(a, 1, "start", "sum", Value::integer(0));
    in.iterate(in.arg(a, 0, "iterable", "sum"), [&](const Value& v) { total = binary_op(in, "+", total, v); return true; });
    return total;
  });
  builtins["sorted"] = builtin("sorted", [](Interpreter& in, CallArgs& a) {
    reject_kwargs(in, a, "sorted", {"key", "reverse"});
    if (a.pos.size() != 1) in.raise("TypeError", "sorted expected 1 argument, got " + std::to_string(a.pos.size()));
    return sorted_list(in, in.to_vector(a.pos[0]), kw_or(a, "key", Value()), in.truthy(kw_or(a, "reverse", Value::boolean(false))));
  });
  builtins["reversed"] = builtin("reversed", [](Interpreter& in, CallArgs& a) {
    std::vector<Value> items = in.to_vector(in.arg(a, 0, "sequence", "reversed"));
    std::reverse(items.begin(), items.end());
    return in.get_iterator(in.list_value(std::move(items)));
  });
  builtins["enumerate"] = builtin("enumerate", [](Interpreter& in, CallArgs& a) {
    std::int64_t start = in.to_int(in.arg(a, 1, "start", "enumerate", Value::integer(0)), "enumerate");
    Value inner = in.get_iterator(in.arg(a, 0, "iterable", "enumerate"));
    auto* it = new IteratorObj();
    it->type = in.t.iterator;
    Interpreter* self = &in;
    it->next = [self, inner, start](Value& out) mutable {
      Value item;
      if (!inner.as<IteratorObj>()->next(item)) return false;
      std::vector<Value> pair;
      pair.push_back(Value::integer(start++));
      pair.push_back(std::move(item));
      out = self->tuple_value(std::move(pair));
      return true;
    };
    return Value(it);
  });
  builtins["zip"] = builtin("zip", [](Interpreter& in, CallArgs& a) {
    bool strict = in.truthy(kw_or(a, "strict", Value::boolean(false)));
    std::vector<Value> iters;
    for (auto& v : a.pos) iters.push_back(in.get_iterator(v));
    auto* it = new IteratorObj();
    it->type = in.t.iterator;
    Interpreter* self = &in;
    it->next = [self, iters, strict](Value& out) {
      if (iters.empty()) return false;
      std::vector<Value> items;
      for (std::size_t i = 0; i < iters.size(); ++i) {
        Value item;
        if (!iters[i].as<IteratorObj>()->next(item)) {
          if (strict && i > 0) self->raise("ValueError", "zip() argument " + std::to_string(i + 1) + " is shorter than argument 1");
          return false;
        }
        items.push_back(std::move(item));
      }
      out = self->tuple_value(std::move(items));
      return true;
    };
    return Value(it);
  });
  builtins["map"] = builtin("map", [](Interpreter& in, CallArgs& a) {
    if (a.pos.size() < 2) in.raise("TypeError", "map() must have at least two arguments.");
    Value fn = a.pos[0];
    std::vector<Value> iters;
    for (std::size_t i = 1; i < a.pos.size(); ++i) iters.push_back(in.get_iterator(a.pos[i]));
    auto* it = new IteratorObj();
    it->type = in.t.iterator;
    Interpreter* self = &in;
    it->next = [self, fn, iters](Value& out) {
      CallArgs c;
      for (auto& i : iters) {
        Value item;
        if (!i.as<IteratorObj>()->next(item)) return false;
        c.pos.push_back(std::move(item));
      }
      out = self->call(fn, c);
      return true;
    };
    return Value(it);
  });
  builtins["filter"] = builtin("filter", [](Interpreter& in, CallArgs& a) {
    Value fn = in.arg(a, 0, "function", "filter");
    Value inner = in.get_iterator(in.arg(a, 1, "iterable", "filter"));
    auto* it = new IteratorObj();
    it->type = in.t.iterator;
    Interpreter* self = &in;
    it->next = [self, fn, inner](Value& out) {
      Value item;
      while (inner.as<IteratorObj>()->next(item)) {
        bool keep = fn.is_none() ? self->truthy(item) : self->truthy(self->call(fn, *std::make_unique<CallArgs>(CallArgs{{item}, {}})));
        if (keep) { out = item; return true; }
      }
      return false;
    };
    return Value(it);
  });
  builtins["iter"] = builtin("iter", [](Interpreter& in, CallArgs& a) { return in.get_iterator(in.arg(a, 0, "object", "iter")); });
  builtins["next"] = builtin("next", [](Interpreter& in, CallArgs& a) -> Value {
    Value it = in.arg(a, 0, "iterator", "next");
    if (in.type_of(it) != in.t.iterator) {
      if (in.hasattr(it, "__next__")) return in.call0(in.getattr(it, "__next__"));
      in.raise("TypeError", "'" + in.type_of(it)->name + "' object is not an iterator");
    }
    Value out;
    if (it.as<IteratorObj>()->next(out)) return out;
    if (a.pos.size() > 1) return a.pos[1];
    in.throw_exception(in.new_exception(in.exception_type("StopIteration"), {}));
  });
  builtins["any"] = builtin("any", [](Interpreter& in, CallArgs& a) {
    bool found = false;
    in.iterate(in.arg(a, 0, "iterable", "any"), [&](const Value& v) { found = in.truthy(v); return !found; });
    return Value::boolean(found);
  });
  builtins["all"] = builtin("all", [](Interpreter& in, CallArgs& a) {
    bool ok = true;
    in.iterate(in.arg(a, 0, "iterable", "all"), [&](const Value& v) { ok = in.truthy(v); return ok; });
    return Value::boolean(ok);
  });
  builtins["isinstance"] = builtin("isinstance", [](Interpreter& in, CallArgs& a) {
    if (a.pos.size() != 2) in.raise("TypeError", "isinstance expected 2 arguments, got " + std::to_string(a.pos.size()));
    auto check = [&](const Value& t) {
      if (!t.is_obj() || in.type_of(t) != in.t.type) in.raise("TypeError", "isinstance() arg 2 must be a type, a tuple of types, or a union");
      return in.isinstance(a.pos[0], t.as<TypeObj>());
    };
    if (in.type_of(a.pos[1]) == in.t.tuple) {
      for (const Value& t : a.pos[1].as<TupleObj>()->v) if (check(t)) return Value::boolean(true);
      return Value::boolean(false);
    }
    return Value::boolean(check(a.pos[1]));
  });
  builtins["issubclass"] = builtin("issubclass", [](Interpreter& in, CallArgs& a) {
    if (a.pos.size() != 2 || in.type_of(a.pos[0]) != in.t.type) in.raise("TypeError", "issubclass() arg 1 must be a class");
    auto check = [&](const Value& t) {
      if (!t.is_obj() || in.type_of(t) != in.t.type) in.raise("TypeError", "issubclass() arg 2 must be a class, a tuple of classes, or a union");
      return a.pos[0].as<TypeObj>()->is_subtype_of(t.as<TypeObj>());
    };
    if (in.type_of(a.pos[1]) == in.t.tuple) {
      for (const Value& t : a.pos[1].as<TupleObj>()->v) if (check(t)) return Value::boolean(true);
      return Value::boolean(false);
    }
    return Value::boolean(check(a.pos[1]));
  });
  builtins["id"] = builtin("id", [](Interpreter& in, CallArgs& a) {
    const Value& v = in.arg(a, 0, "obj", "id");
    if (v.is_obj()) return Value::integer(static_cast<std::int64_t>(reinterpret_cast<std::uintptr_t>(v.obj())));
    return Value::integer(static_cast<std::int64_t>(ValueHash()(v)) ^ 0x5a5a5a5a);
  });
  builtins["hash"] = builtin("hash", [](Interpreter& in, CallArgs& a) { return Value::integer(in.hash(in.arg(a, 0, "obj", "hash"))); });
  builtins["callable"] = builtin("callable", [](Interpreter& in, CallArgs& a) {
    TypeObj* type = in.type_of(in.arg(a, 0, "obj", "callable"));
    return Value::boolean(type == in.t.function || type == in.t.builtin || type == in.t.method || type == in.t.type || type->lookup("__call__"));
  });
  builtins["getattr"] = builtin("getattr", [](Interpreter& in, CallArgs& a) -> Value {
    const std::string& name = in.to_str(in.arg(a, 1, "name", "getattr"), "getattr(): attribute name must be string");
    if (a.pos.size() > 2 && !in.hasattr(a.pos[0], name)) return a.pos[2];
    return in.getattr(a.pos[0], name);
  });
  builtins["setattr"] = builtin("setattr", [](Interpreter& in, CallArgs& a) {
    in.setattr(in.arg(a, 0, "obj", "setattr"), in.to_str(in.arg(a, 1, "name", "setattr"), "setattr"), in.arg(a, 2, "value", "setattr"));
    return Value();
  });
  builtins["hasattr"] = builtin("hasattr", [](Interpreter& in, CallArgs& a) {
    return Value::boolean(in.hasattr(in.arg(a, 0, "obj", "hasattr"), in.to_str(in.arg(a, 1, "name", "hasattr"), "hasattr")));
  });
  builtins["chr"] = builtin("chr", [](Interpreter& in, CallArgs& a) {
    std::int64_t cp = in.to_int(in.arg(a, 0, "i", "chr"), "chr");
    if (cp < 0 || cp > 0x10FFFF) in.raise("ValueError", "chr() arg not in range(0x110000)");
    std::string out;
    auto u = static_cast<std::uint32_t>(cp);
    if (u < 0x80) out += static_cast<char>(u);
    else if (u < 0x800) { out += static_cast<char>(0xC0 | (u >> 6)); out += static_cast<char>(0x80 | (u & 0x3F)); }
    else if (u < 0x10000) { out += static_cast<char>(0xE0 | (u >> 12)); out += static_cast<char>(0x80 | ((u >> 6) & 0x3F)); out += static_cast<char>(0x80 | (u & 0x3F)); }
    else { out += static_cast<char>(0xF0 | (u >> 18)); out += static_cast<char>(0x80 | ((u >> 12) & 0x3F)); out += static_cast<char>(0x80 | ((u >> 6) & 0x3F)); out += static_cast<char>(0x80 | (u & 0x3F)); }
    return in.str_value(out);
  });
  builtins["ord"] = builtin("ord", [](Interpreter& in, CallArgs& a) {
    const Value& v = in.arg(a, 0, "c", "ord");
    if (in.type_of(v) == in.t.bytes && v.as<BytesObj>()->s.size() == 1) return Value::integer(static_cast<unsigned char>(v.as<BytesObj>()->s[0]));
    const std::string& s = in.to_str(v, "ord()");
    if (utf8_length(s) != 1) in.raise("TypeError", "ord() expected a character, but string of length " + std::to_string(utf8_length(s)) + " found");
    auto c = static_cast<unsigned char>(s[0]);
    std::uint32_t cp = c;
    if (c >= 0xF0) cp = ((c & 0x07u) << 18) | ((s[1] & 0x3Fu) << 12) | ((s[2] & 0x3Fu) << 6) | (s[3] & 0x3Fu);
    else if (c >= 0xE0) cp = ((c & 0x0Fu) << 12) | ((s[1] & 0x3Fu) << 6) | (s[2] & 0x3Fu);
    else if (c >= 0xC0) cp = ((c & 0x1Fu) << 6) | (s[1] & 0x3Fu);
    return Value::integer(cp);
  });
  auto radix = [](int base, const char* prefix) {
    return [base, prefix](Interpreter& in, CallArgs& a) {
      std::int64_t x = in.to_int(in.arg(a, 0, "number", prefix), prefix);
      std::string spec = std::string("#") + (base == 16 ? "x" : base == 8 ? "o" : "b");
      return in.str_value(in.format(Value::integer(x), spec));
    };
  };
  builtins["hex"] = builtin("hex", radix(16, "hex"));
  builtins["oct"] = builtin("oct", radix(8, "oct"));
  builtins["bin"] = builtin("bin", radix(2, "bin"));
  builtins["divmod"] = builtin("divmod", [](Interpreter& in, CallArgs& a) {
    std::vector<Value> pair;
    pair.push_back(binary_op(in, "//", in.arg(a, 0, "x", "divmod"), in.arg(a, 1, "y", "divmod")));
    pair.push_back(binary_op(in, "%", a.pos[0], a.pos[1]));
    return in.tuple_value(std::move(pair));
  });
  builtins["pow"] = builtin("pow", [](Interpreter& in, CallArgs& a) {
    return binary_op(in, "**", in.arg(a, 0, "base", "pow"), in.arg(a, 1, "exp", "pow"));
  });
  builtins["input"] = builtin("input", [](Interpreter& in, CallArgs& a) -> Value {
    if (in.console_owns_stdin) {
      in.raise("RuntimeError", "input() is not available in the interactive console (its thread reads the terminal); "
                               "pipe the input to the REPL or run a script");
    }
    if (!a.pos.empty()) {
      std::string prompt = in.str(a.pos[0]);
      std::fwrite(prompt.data(), 1, prompt.size(), stdout);
      std::fflush(stdout);
    }
    std::string line;
    int c;
    while ((c = std::fgetc(stdin)) != EOF && c != '\n') line += static_cast<char>(c);
    if (c == EOF && line.empty()) in.throw_exception(in.new_exception(in.exception_type("EOFError"), {}));
    return in.str_value(line);
  });
  builtins["vars"] = builtin("vars", [](Interpreter& in, CallArgs& a) {
    Value d = in.dict_value();
    auto* inst = dynamic_cast<InstanceObj*>(in.arg(a, 0, "object", "vars").obj());
    if (!inst) in.raise("TypeError", "vars() argument must have __dict__ attribute");
    for (auto& [k, v] : inst->attrs) set_item(in, d, in.str_value(k), v);
    return d;
  });
  builtins["help"] = builtin("help", [](Interpreter& in, CallArgs& a) {
    const Value& v = in.arg(a, 0, "request", "help");
    std::string text;
    TypeObj* type = in.type_of(v);
    std::string name;
    if (type == in.t.builtin) { text = v.as<BuiltinObj>()->help; name = v.as<BuiltinObj>()->name; }
    else if (type == in.t.type) { text = v.as<TypeObj>()->help; name = v.as<TypeObj>()->name; }
    else if (type == in.t.module) { name = v.as<ModuleObj>()->name; if (v.as<ModuleObj>()->attrs.count("__doc__")) text = in.str(v.as<ModuleObj>()->attrs["__doc__"]); }
    else if (type == in.t.method) {
      Value f = v.as<BoundMethodObj>()->function;
      if (in.type_of(f) == in.t.builtin) { text = f.as<BuiltinObj>()->help; name = f.as<BuiltinObj>()->name; }
    } else if (type == in.t.function) {
      auto* f = v.as<FunctionObj>();
      name = f->def->qualname;
      text = std::string(f->def->is_async ? "async def " : "def ") + f->def->name + "(...): a REPL function (defined at " +
             f->def->filename + ":" + std::to_string(f->def->line) + ")";
    } else {
      text = in.type_of(v)->help;
      name = in.type_of(v)->name;
    }
    if (text.empty()) text = "(no aio mapping recorded: a REPL-level object)";
    std::string out = text + "\n";
    std::fwrite(out.data(), 1, out.size(), stdout);
    return Value();
  }, "help(name): prints the aio C++ API a name maps to and its docs page");
  builtins["exit"] = builtin("exit", [](Interpreter& in, CallArgs& a) -> Value {
    std::vector<Value> args;
    if (!a.pos.empty()) args.push_back(a.pos[0]);
    in.throw_exception(in.new_exception(in.exception_type("SystemExit"), std::move(args)));
  });
  builtins["quit"] = builtins["exit"];
  builtins["__name__"] = str_value("__main__");
}

}  // namespace repl
