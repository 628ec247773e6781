// Operators, item access, attribute lookup, calls and iteration, with
// CPython's results and error messages. ints are 64-bit: overflow raises
// OverflowError instead of growing (docs/repl.md).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "tools/repl/internal.h"

namespace repl {

aio::Coro<int> NativeObj::run_scope(Interpreter* in, Value, std::function<void(Value)>*, std::function<aio::Coro<int>()>*) {
  in->raise("TypeError", "not an asynchronous context manager");
}

namespace {

bool is_number(const Value& v) { return v.is_int() || v.is_bool() || v.is_float(); }
std::int64_t int_of(const Value& v) { return v.is_bool() ? (v.as_bool() ? 1 : 0) : v.as_int(); }
double float_of(const Value& v) { return v.is_float() ? v.as_float() : static_cast<double>(int_of(v)); }

[[noreturn]] void overflow(Interpreter& in) {
  in.raise("OverflowError", "integer overflow: the aio REPL's int is 64-bit");
}

std::int64_t floor_div(Interpreter& in, std::int64_t a, std::int64_t b) {
  if (b == 0) in.raise("ZeroDivisionError", "integer division or modulo by zero");
  if (a == INT64_MIN && b == -1) overflow(in);
  std::int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}
std::int64_t floor_mod(Interpreter& in, std::int64_t a, std::int64_t b) {
  if (b == 0) in.raise("ZeroDivisionError", "integer division or modulo by zero");
  if (b == -1) return 0;
  std::int64_t r = a % b;
  if (r != 0 && ((r < 0) != (b < 0))) r += b;
  return r;
}

Value repeat(Interpreter& in, const Value& seq, std::int64_t n) {
  if (n < 0) n = 0;
  TypeObj* type = in.type_of(seq);
  if (type == in.t.str || type == in.t.bytes) {
    const std::string& s = type == in.t.str ? seq.as<StrObj>()->s : seq.as<BytesObj>()->s;
    if (!s.empty() && static_cast<std::uint64_t>(n) > (1ULL << 31) / s.size()) in.raise("MemoryError", "");
    std::string out;
    out.reserve(s.size() * n);
    for (std::int64_t i = 0; i < n; ++i) out += s;
    return type == in.t.str ? in.str_value(std::move(out)) : in.bytes_value(std::move(out));
  }
  const std::vector<Value>& items = type == in.t.list ? seq.as<ListObj>()->v : seq.as<TupleObj>()->v;
  if (!items.empty() && static_cast<std::uint64_t>(n) > (1ULL << 27) / items.size()) in.raise("MemoryError", "");
  std::vector<Value> out;
  out.reserve(items.size() * n);
  for (std::int64_t i = 0; i < n; ++i) out.insert(out.end(), items.begin(), items.end());
  return type == in.t.list ? in.list_value(std::move(out)) : in.tuple_value(std::move(out));
}

std::int64_t int_pow(Interpreter& in, std::int64_t base, std::int64_t exp) {
  std::int64_t result = 1;
  while (exp > 0) {
    if (exp & 1) {
      if (__builtin_mul_overflow(result, base, &result)) overflow(in);
    }
    exp >>= 1;
    if (exp > 0 && __builtin_mul_overflow(base, base, &base)) overflow(in);
  }
  return result;
}

}  // namespace

Value binary_op(Interpreter& in, const std::string& op, const Value& a, const Value& b) {
  char c = op[0];
  bool two = op.size() == 2;
  if ((a.is_int() || a.is_bool()) && (b.is_int() || b.is_bool())) {
    std::int64_t x = int_of(a), y = int_of(b), r = 0;
    switch (c) {
      case '+': if (__builtin_add_overflow(x, y, &r)) overflow(in); return Value::integer(r);
      case '-': if (__builtin_sub_overflow(x, y, &r)) overflow(in); return Value::integer(r);
      case '*':
        if (two) {
          if (y < 0) {
            if (x == 0) in.raise("ZeroDivisionError", "0.0 cannot be raised to a negative power");
            return Value::real(std::pow(static_cast<double>(x), static_cast<double>(y)));
          }
          return Value::integer(int_pow(in, x, y));
        }
        if (__builtin_mul_overflow(x, y, &r)) overflow(in);
        return Value::integer(r);
      case '/':
        if (two) return Value::integer(floor_div(in, x, y));
        if (y == 0) in.raise("ZeroDivisionError", "division by zero");
        return Value::real(static_cast<double>(x) / static_cast<double>(y));
      case '%': return Value::integer(floor_mod(in, x, y));
      case '&': if (a.is_bool() && b.is_bool()) return Value::boolean(x & y); return Value::integer(x & y);
      case '|': if (a.is_bool() && b.is_bool()) return Value::boolean(x | y); return Value::integer(x | y);
      case '^': if (a.is_bool() && b.is_bool()) return Value::boolean(x ^ y); return Value::integer(x ^ y);
      case '<':
        if (y < 0) in.raise("ValueError", "negative shift count");
        if (y >= 63 || (x != 0 && (x > (INT64_MAX >> y) || x < (INT64_MIN >> y)))) { if (x == 0) return Value::integer(0); overflow(in); }
        return Value::integer(static_cast<std::int64_t>(static_cast<std::uint64_t>(x) << y));
      case '>':
        if (y < 0) in.raise("ValueError", "negative shift count");
        return Value::integer(y >= 64 ? (x < 0 ? -1 : 0) : x >> y);
      default: break;
    }
  } else if (is_number(a) && is_number(b)) {
    double x = float_of(a), y = float_of(b);
    switch (c) {
      case '+': return Value::real(x + y);
      case '-': return Value::real(x - y);
      case '*':
        if (two) {
          if (x == 0 && y < 0) in.raise("ZeroDivisionError", "0.0 cannot be raised to a negative power");
          if (x < 0 && std::floor(y) != y) in.raise("ValueError", "negative number cannot be raised to a fractional power (complex numbers are not supported by the aio REPL)");
          double r = std::pow(x, y);
          if (std::isinf(r) && !std::isinf(x) && !std::isinf(y)) in.raise("OverflowError", "(34, 'Numerical result out of range')");
          return Value::real(r);
        }
        return Value::real(x * y);
      case '/':
        if (y == 0) in.raise("ZeroDivisionError", two ? "float floor division by zero" : "float division by zero");
        return Value::real(two ? std::floor(x / y) : x / y);
      case '%': {
        if (y == 0) in.raise("ZeroDivisionError", "float modulo");
        double r = std::fmod(x, y);
        if (r != 0 && ((r < 0) != (y < 0))) r += y;
        return Value::real(r);
      }
      default: break;
    }
  } else {
    TypeObj* ta = in.type_of(a);
    TypeObj* tb = in.type_of(b);
    if (c == '+' && !two) {
      if (ta == in.t.str && tb == in.t.str) return in.str_value(a.as<StrObj>()->s + b.as<StrObj>()->s);
      if (ta == in.t.bytes && tb == in.t.bytes) return in.bytes_value(a.as<BytesObj>()->s + b.as<BytesObj>()->s);
      if (ta == in.t.list && tb == in.t.list) {
        std::vector<Value> v = a.as<ListObj>()->v;
        v.insert(v.end(), b.as<ListObj>()->v.begin(), b.as<ListObj>()->v.end());
        return in.list_value(std::move(v));
      }
      if (ta == in.t.tuple && tb == in.t.tuple) {
        std::vector<Value> v = a.as<TupleObj>()->v;
        v.insert(v.end(), b.as<TupleObj>()->v.begin(), b.as<TupleObj>()->v.end());
        return in.tuple_value(std::move(v));
      }
      if (ta == in.t.str) in.raise("TypeError", "can only concatenate str (not \"" + tb->name + "\") to str");
      if (ta == in.t.list) in.raise("TypeError", "can only concatenate list (not \"" + tb->name + "\") to list");
      if (ta == in.t.tuple) in.raise("TypeError", "can only concatenate tuple (not \"" + tb->name + "\") to tuple");
    }
    if (c == '*' && !two) {
      bool seq_a = ta == in.t.str || ta == in.t.bytes || ta == in.t.list || ta == in.t.tuple;
      bool seq_b = tb == in.t.str || tb == in.t.bytes || tb == in.t.list || tb == in.t.tuple;
      if (seq_a && (b.is_int() || b.is_bool())) return repeat(in, a, int_of(b));
      if (seq_b && (a.is_int() || a.is_bool())) return repeat(in, b, int_of(a));
      if (seq_a || seq_b) in.raise("TypeError", "can't multiply sequence by non-int of type '" + (seq_a ? tb : ta)->name + "'");
    }
    if (c == '%' && ta == in.t.str) return in.str_value(percent_format(in, a.as<StrObj>()->s, b));
    if ((ta == in.t.set || ta == in.t.frozenset) && (tb == in.t.set || tb == in.t.frozenset) && !two) {
      Value out = new_set(in, ta == in.t.frozenset);
      auto& x = a.as<SetObj>()->items;
      auto& y = b.as<SetObj>()->items;
      auto has = [](DictObj& d, const Value& k) { return d.index.count(k) != 0; };
      for (auto& e : x.entries) {
        if (e.key.is_undef()) continue;
        bool in_y = has(y, e.key);
        if ((c == '|') || (c == '&' && in_y) || (c == '-' && !in_y) || (c == '^' && !in_y)) set_add(in, out, e.key);
      }
      if (c == '|' || c == '^') {
        for (auto& e : y.entries) {
          if (e.key.is_undef()) continue;
          if (c == '|' || !has(x, e.key)) set_add(in, out, e.key);
        }
      }
      if (c == '|' || c == '&' || c == '-' || c == '^') return out;
    }
    if (c == '|' && ta == in.t.dict && tb == in.t.dict) {
      Value out = in.dict_value();
      dict_update(in, out, a);
      dict_update(in, out, b);
      return out;
    }
    // User classes: __add__ and friends.
    static const std::pair<const char*, const char*> kDunders[] = {
        {"+", "__add__"}, {"-", "__sub__"}, {"*", "__mul__"}, {"/", "__truediv__"}, {"//", "__floordiv__"},
        {"%", "__mod__"}, {"**", "__pow__"}, {"&", "__and__"}, {"|", "__or__"}, {"^", "__xor__"}, {"@", "__matmul__"}};
    if (ta->user_defined) {
      for (auto& [o, name] : kDunders) {
        if (op == o) {
          if (const Value* m = ta->lookup(name)) {
            CallArgs args;
            args.pos.push_back(a);
            args.pos.push_back(b);
            return in.call(*m, args);
          }
        }
      }
    }
  }
  in.raise("TypeError", "unsupported operand type(s) for " + op + ": '" + in.type_of(a)->name + "' and '" + in.type_of(b)->name + "'");
}

Value unary_op(Interpreter& in, const std::string& op, const Value& a) {
  if (a.is_int() || a.is_bool()) {
    std::int64_t x = int_of(a);
    if (op == "-") { if (x == INT64_MIN) overflow(in); return Value::integer(-x); }
    if (op == "+") return Value::integer(x);
    return Value::integer(~x);
  }
  if (a.is_float()) {
    if (op == "-") return Value::real(-a.as_float());
    if (op == "+") return a;
  }
  in.raise("TypeError", "bad operand type for unary " + op + ": '" + in.type_of(a)->name + "'");
}

bool contains(Interpreter& in, const Value& container, const Value& item) {
  TypeObj* type = in.type_of(container);
  if (type == in.t.str) {
    if (in.type_of(item) != in.t.str) in.raise("TypeError", "'in <string>' requires string as left operand, not " + in.type_of(item)->name);
    return container.as<StrObj>()->s.find(item.as<StrObj>()->s) != std::string::npos;
  }
  if (type == in.t.bytes) {
    if (item.is_int()) return container.as<BytesObj>()->s.find(static_cast<char>(item.as_int())) != std::string::npos;
    if (in.type_of(item) != in.t.bytes) in.raise("TypeError", "a bytes-like object is required, not '" + in.type_of(item)->name + "'");
    return container.as<BytesObj>()->s.find(item.as<BytesObj>()->s) != std::string::npos;
  }
  if (type == in.t.dict) {
    in.hash(item);
    return container.as<DictObj>()->find(item) != nullptr;
  }
  if (type == in.t.set || type == in.t.frozenset) {
    in.hash(item);
    return container.as<SetObj>()->items.find(item) != nullptr;
  }
  if (type == in.t.range && (item.is_int() || item.is_bool())) {
    auto* r = container.as<RangeObj>();
    std::int64_t x = int_of(item);
    if (r->step > 0 ? (x < r->start || x >= r->stop) : (x > r->start || x <= r->stop)) return false;
    return (x - r->start) % r->step == 0;
  }
  if (type->user_defined) {
    if (const Value* m = type->lookup("__contains__")) {
      CallArgs args;
      args.pos.push_back(container);
      args.pos.push_back(item);
      return in.truthy(in.call(*m, args));
    }
  }
  bool found = false;
  in.iterate(container, [&](const Value& v) {
    if (v.identical(item) || in.equals(v, item)) { found = true; return false; }
    return true;
  });
  return found;
}

bool compare_op(Interpreter& in, const std::string& op, const Value& a, const Value& b) {
  switch (op[0]) {
    case '=': return in.equals(a, b);
    case '!': return !in.equals(a, b);
    case '<':
      if (op.size() == 1) return in.less(a, b);
      return !in.less(b, a) && (in.less(a, b) || in.equals(a, b));
    case '>':
      if (op.size() == 1) return in.less(b, a);
      return !in.less(a, b) && (in.less(b, a) || in.equals(a, b));
    case 'i':
      if (op == "in") return contains(in, b, a);
      if (op == "is") return a.identical(b) || (a.is_undef() && b.is_none());
      return !a.identical(b);
    case 'n': return !contains(in, b, a);
  }
  return false;
}

bool Interpreter::truthy(const Value& v) {
  switch (v.tag()) {
    case VT::kUndef: case VT::kNone: return false;
    case VT::kBool: return v.as_bool();
    case VT::kInt: return v.as_int() != 0;
    case VT::kFloat: return v.as_float() != 0;
    case VT::kObj: break;
  }
  TypeObj* type = type_of(v);
  if (type == t.str) return !v.as<StrObj>()->s.empty();
  if (type == t.bytes) return !v.as<BytesObj>()->s.empty();
  if (type == t.list) return !v.as<ListObj>()->v.empty();
  if (type == t.tuple) return !v.as<TupleObj>()->v.empty();
  if (type == t.dict) return v.as<DictObj>()->live != 0;
  if (type == t.set || type == t.frozenset) return v.as<SetObj>()->items.live != 0;
  if (type == t.range) return v.as<RangeObj>()->length() != 0;
  if (type->user_defined) {
    if (const Value* m = type->lookup("__bool__")) { CallArgs a; a.pos.push_back(v); return truthy(call(*m, a)); }
    if (const Value* m = type->lookup("__len__")) { CallArgs a; a.pos.push_back(v); return truthy(call(*m, a)); }
  }
  return true;
}

bool Interpreter::equals(const Value& a, const Value& b) {
  if (is_number(a) && is_number(b)) {
    if (a.is_float() || b.is_float()) return float_of(a) == float_of(b);
    return int_of(a) == int_of(b);
  }
  if (!a.is_obj() || !b.is_obj()) return a.identical(b) || (a.is_none() && b.is_none());
  if (a.obj() == b.obj()) return true;
  TypeObj* ta = type_of(a);
  TypeObj* tb = type_of(b);
  if (ta->user_defined) {
    if (const Value* m = ta->lookup("__eq__")) {
      CallArgs args;
      args.pos.push_back(a);
      args.pos.push_back(b);
      return truthy(call(*m, args));
    }
  }
  if (ta == t.str && tb == t.str) return a.as<StrObj>()->s == b.as<StrObj>()->s;
  if (ta == t.bytes && tb == t.bytes) return a.as<BytesObj>()->s == b.as<BytesObj>()->s;
  auto seq_equal = [&](const std::vector<Value>& x, const std::vector<Value>& y) {
    if (x.size() != y.size()) return false;
    for (std::size_t i = 0; i < x.size(); ++i) if (!x[i].identical(y[i]) && !equals(x[i], y[i])) return false;
    return true;
  };
  if (ta == t.list && tb == t.list) return seq_equal(a.as<ListObj>()->v, b.as<ListObj>()->v);
  if (ta == t.tuple && tb == t.tuple) return seq_equal(a.as<TupleObj>()->v, b.as<TupleObj>()->v);
  if (ta == t.dict && tb == t.dict) {
    auto* x = a.as<DictObj>();
    auto* y = b.as<DictObj>();
    if (x->live != y->live) return false;
    for (auto& e : x->entries) {
      if (e.key.is_undef()) continue;
      Value* other = y->find(e.key);
      if (!other || !equals(e.value, *other)) return false;
    }
    return true;
  }
  if ((ta == t.set || ta == t.frozenset) && (tb == t.set || tb == t.frozenset)) {
    auto& x = a.as<SetObj>()->items;
    auto& y = b.as<SetObj>()->items;
    if (x.live != y.live) return false;
    for (auto& e : x.entries) if (!e.key.is_undef() && !y.find(e.key)) return false;
    return true;
  }
  if (ta == t.range && tb == t.range) {
    auto* x = a.as<RangeObj>();
    auto* y = b.as<RangeObj>();
    return x->length() == y->length() && (x->length() == 0 || (x->start == y->start && (x->length() == 1 || x->step == y->step)));
  }
  return false;
}

bool Interpreter::less(const Value& a, const Value& b) {
  if (is_number(a) && is_number(b)) {
    if (a.is_float() || b.is_float()) return float_of(a) < float_of(b);
    return int_of(a) < int_of(b);
  }
  TypeObj* ta = type_of(a);
  TypeObj* tb = type_of(b);
  if (ta == t.str && tb == t.str) return a.as<StrObj>()->s < b.as<StrObj>()->s;
  if (ta == t.bytes && tb == t.bytes) return a.as<BytesObj>()->s < b.as<BytesObj>()->s;
  if ((ta == t.list && tb == t.list) || (ta == t.tuple && tb == t.tuple)) {
    const auto& x = ta == t.list ? a.as<ListObj>()->v : a.as<TupleObj>()->v;
    const auto& y = tb == t.list ? b.as<ListObj>()->v : b.as<TupleObj>()->v;
    for (std::size_t i = 0; i < std::min(x.size(), y.size()); ++i) {
      if (x[i].identical(y[i]) || equals(x[i], y[i])) continue;
      return less(x[i], y[i]);
    }
    return x.size() < y.size();
  }
  if ((ta == t.set || ta == t.frozenset) && (tb == t.set || tb == t.frozenset)) {
    auto& x = a.as<SetObj>()->items;
    auto& y = b.as<SetObj>()->items;
    if (x.live >= y.live) return false;
    for (auto& e : x.entries) if (!e.key.is_undef() && !y.find(e.key)) return false;
    return true;
  }
  if (ta->user_defined) {
    if (const Value* m = ta->lookup("__lt__")) {
      CallArgs args;
      args.pos.push_back(a);
      args.pos.push_back(b);
      return truthy(call(*m, args));
    }
  }
  raise("TypeError", "'<' not supported between instances of '" + ta->name + "' and '" + tb->name + "'");
}

std::int64_t Interpreter::hash(const Value& v) {
  if (v.is_obj()) {
    TypeObj* type = type_of(v);
    if (type == t.list || type == t.dict || type == t.set) raise("TypeError", "unhashable type: '" + type->name + "'");
    if (type == t.tuple) for (const Value& item : v.as<TupleObj>()->v) hash(item);
  }
  std::int64_t h = static_cast<std::int64_t>(ValueHash()(v));
  return h == -1 ? -2 : h;
}

// ---- items ------------------------------------------------------------------------

namespace {

std::int64_t normalize_index(Interpreter& in, const Value& key, std::size_t size, const char* what) {
  if (!key.is_int() && !key.is_bool()) {
    in.raise("TypeError", std::string(what) + " indices must be integers or slices, not " + in.type_of(key)->name);
  }
  std::int64_t i = int_of(key);
  if (i < 0) i += static_cast<std::int64_t>(size);
  if (i < 0 || i >= static_cast<std::int64_t>(size)) in.raise("IndexError", std::string(what) + " index out of range");
  return i;
}

struct SliceBounds { std::int64_t start, stop, step, length; };

SliceBounds slice_bounds(Interpreter& in, SliceObj* s, std::int64_t size) {
  auto get = [&](const Value& v, std::int64_t def) -> std::int64_t {
    if (v.is_none()) return def;
    if (!v.is_int() && !v.is_bool()) in.raise("TypeError", "slice indices must be integers or None or have an __index__ method");
    return int_of(v);
  };
  std::int64_t step = get(s->step, 1);
  if (step == 0) in.raise("ValueError", "slice step cannot be zero");
  std::int64_t start, stop;
  if (step > 0) {
    start = get(s->start, 0);
    stop = get(s->stop, size);
    if (start < 0) start = std::max<std::int64_t>(0, start + size);
    if (stop < 0) stop = std::max<std::int64_t>(0, stop + size);
    start = std::min(start, size);
    stop = std::min(stop, size);
  } else {
    start = get(s->start, size - 1);
    stop = s->stop.is_none() ? -1 : get(s->stop, -1);
    if (!s->start.is_none() && start < 0) start += size;
    if (!s->stop.is_none() && stop < 0) stop = std::max<std::int64_t>(-1, stop + size);
    start = std::min(start, size - 1);
  }
  std::int64_t length = 0;
  if (step > 0 && start < stop) length = (stop - start - 1) / step + 1;
  if (step < 0 && start > stop) length = (start - stop - 1) / (-step) + 1;
  return {start, stop, step, length};
}

}  // namespace

bool is_ascii(const std::string& s) {
  for (unsigned char c : s) if (c >= 0x80) return false;
  return true;
}

std::vector<std::uint32_t> utf8_decode(const std::string& s) {
  std::vector<std::uint32_t> out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
    if (i + len > s.size()) len = 1;
    std::uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1Fu) : len == 3 ? (c & 0x0Fu) : (c & 0x07u);
    for (std::size_t k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3Fu);
    out.push_back(cp);
    i += len;
  }
  return out;
}

std::string utf8_encode(const std::vector<std::uint32_t>& cps) {
  std::string out;
  for (std::uint32_t u : cps) {
    if (u < 0x80) out += static_cast<char>(u);
    else if (u < 0x800) { out += static_cast<char>(0xC0 | (u >> 6)); out += static_cast<char>(0x80 | (u & 0x3F)); }
    else if (u < 0x10000) { out += static_cast<char>(0xE0 | (u >> 12)); out += static_cast<char>(0x80 | ((u >> 6) & 0x3F)); out += static_cast<char>(0x80 | (u & 0x3F)); }
    else { out += static_cast<char>(0xF0 | (u >> 18)); out += static_cast<char>(0x80 | ((u >> 12) & 0x3F)); out += static_cast<char>(0x80 | ((u >> 6) & 0x3F)); out += static_cast<char>(0x80 | (u & 0x3F)); }
  }
  return out;
}

// Case mapping for ASCII, Latin-1, Greek and Cyrillic (docs/repl.md).
std::uint32_t to_upper_cp(std::uint32_t cp) {
  if (cp >= 'a' && cp <= 'z') return cp - 32;
  if (cp >= 0xE0 && cp <= 0xFE && cp != 0xF7) return cp - 32;
  if (cp >= 0x3B1 && cp <= 0x3C9 && cp != 0x3C2) return cp - 32;
  if (cp >= 0x430 && cp <= 0x44F) return cp - 32;
  if (cp >= 0x450 && cp <= 0x45F) return cp - 80;
  return cp;
}
std::uint32_t to_lower_cp(std::uint32_t cp) {
  if (cp >= 'A' && cp <= 'Z') return cp + 32;
  if (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7) return cp + 32;
  if (cp >= 0x391 && cp <= 0x3A9 && cp != 0x3A2) return cp + 32;
  if (cp >= 0x410 && cp <= 0x42F) return cp + 32;
  if (cp >= 0x400 && cp <= 0x40F) return cp + 80;
  return cp;
}

Value get_item(Interpreter& in, const Value& obj, const Value& key) {
  TypeObj* type = in.type_of(obj);
  bool is_slice = key.is_obj() && in.type_of(key) == in.t.slice;
  if (type == in.t.list || type == in.t.tuple) {
    const auto& v = type == in.t.list ? obj.as<ListObj>()->v : obj.as<TupleObj>()->v;
    if (is_slice) {
      SliceBounds b = slice_bounds(in, key.as<SliceObj>(), static_cast<std::int64_t>(v.size()));
      std::vector<Value> out;
      for (std::int64_t i = 0, k = b.start; i < b.length; ++i, k += b.step) out.push_back(v[k]);
      return type == in.t.list ? in.list_value(std::move(out)) : in.tuple_value(std::move(out));
    }
    return v[normalize_index(in, key, v.size(), type == in.t.list ? "list" : "tuple")];
  }
  if (type == in.t.str && !is_ascii(obj.as<StrObj>()->s)) {
    std::vector<std::uint32_t> cps = utf8_decode(obj.as<StrObj>()->s);
    if (is_slice) {
      SliceBounds b = slice_bounds(in, key.as<SliceObj>(), static_cast<std::int64_t>(cps.size()));
      std::vector<std::uint32_t> out;
      for (std::int64_t i = 0, k = b.start; i < b.length; ++i, k += b.step) out.push_back(cps[k]);
      return in.str_value(utf8_encode(out));
    }
    std::int64_t i = normalize_index(in, key, cps.size(), "string");
    return in.str_value(utf8_encode({cps[i]}));
  }
  if (type == in.t.str || type == in.t.bytes) {
    const std::string& s = type == in.t.str ? obj.as<StrObj>()->s : obj.as<BytesObj>()->s;
    if (is_slice) {
      SliceBounds b = slice_bounds(in, key.as<SliceObj>(), static_cast<std::int64_t>(s.size()));
      std::string out;
      for (std::int64_t i = 0, k = b.start; i < b.length; ++i, k += b.step) out += s[k];
      return type == in.t.str ? in.str_value(std::move(out)) : in.bytes_value(std::move(out));
    }
    std::int64_t i = normalize_index(in, key, s.size(), type == in.t.str ? "string" : "index");
    if (type == in.t.bytes) return Value::integer(static_cast<unsigned char>(s[i]));
    return in.str_value(std::string(1, s[i]));
  }
  if (type == in.t.dict) {
    in.hash(key);
    if (Value* v = obj.as<DictObj>()->find(key)) return *v;
    std::vector<Value> args;
    args.push_back(key);
    in.throw_exception(in.new_exception(in.exception_type("KeyError"), std::move(args)));
  }
  if (type == in.t.range) {
    auto* r = obj.as<RangeObj>();
    std::int64_t i = normalize_index(in, key, r->length(), "range object");
    return Value::integer(r->start + i * r->step);
  }
  if (const Value* m = type->lookup("__getitem__"); m && type->user_defined) {
    CallArgs args;
    args.pos.push_back(obj);
    args.pos.push_back(key);
    return in.call(*m, args);
  }
  if (type == in.t.type) {
    // list[int], dict[str, int]: annotations.
    return obj;
  }
  in.raise("TypeError", "'" + type->name + "' object is not subscriptable");
}

void set_item(Interpreter& in, const Value& obj, const Value& key, Value value) {
  TypeObj* type = in.type_of(obj);
  if (type == in.t.dict) {
    in.hash(key);
    obj.as<DictObj>()->set(key, std::move(value));
    return;
  }
  if (type == in.t.list) {
    auto& v = obj.as<ListObj>()->v;
    if (key.is_obj() && in.type_of(key) == in.t.slice) {
      SliceBounds b = slice_bounds(in, key.as<SliceObj>(), static_cast<std::int64_t>(v.size()));
      std::vector<Value> items = in.to_vector(value);
      if (b.step != 1) {
        if (static_cast<std::int64_t>(items.size()) != b.length) {
          in.raise("ValueError", "attempt to assign sequence of size " + std::to_string(items.size()) +
                                     " to extended slice of size " + std::to_string(b.length));
        }
        for (std::int64_t i = 0, k = b.start; i < b.length; ++i, k += b.step) v[k] = items[i];
        return;
      }
      std::int64_t stop = std::max(b.start, b.stop);
      v.erase(v.begin() + b.start, v.begin() + stop);
      v.insert(v.begin() + b.start, items.begin(), items.end());
      return;
    }
    v[normalize_index(in, key, v.size(), "list assignment")] = std::move(value);
    return;
  }
  if (const Value* m = type->lookup("__setitem__"); m && type->user_defined) {
    CallArgs args;
    args.pos.push_back(obj);
    args.pos.push_back(key);
    args.pos.push_back(std::move(value));
    in.call(*m, args);
    return;
  }
  in.raise("TypeError", "'" + type->name + "' object does not support item assignment");
}

void del_item(Interpreter& in, const Value& obj, const Value& key) {
  TypeObj* type = in.type_of(obj);
  if (type == in.t.dict) {
    in.hash(key);
    if (!obj.as<DictObj>()->erase(key)) {
      std::vector<Value> args;
      args.push_back(key);
      in.throw_exception(in.new_exception(in.exception_type("KeyError"), std::move(args)));
    }
    return;
  }
  if (type == in.t.list) {
    auto& v = obj.as<ListObj>()->v;
    if (key.is_obj() && in.type_of(key) == in.t.slice) {
      SliceBounds b = slice_bounds(in, key.as<SliceObj>(), static_cast<std::int64_t>(v.size()));
      std::vector<Value> kept;
      std::vector<bool> drop(v.size(), false);
      for (std::int64_t i = 0, k = b.start; i < b.length; ++i, k += b.step) drop[k] = true;
      for (std::size_t i = 0; i < v.size(); ++i) if (!drop[i]) kept.push_back(v[i]);
      v = std::move(kept);
      return;
    }
    v.erase(v.begin() + normalize_index(in, key, v.size(), "list assignment"));
    return;
  }
  in.raise("TypeError", "'" + type->name + "' object doesn't support item deletion");
}

// ---- attributes ---------------------------------------------------------------------

namespace {

Value bind(Interpreter& in, const Value& self, const Value& function) {
  auto* m = new BoundMethodObj(self, function);
  m->type = in.t.method;
  return Value(m);
}

bool is_plain_function(Interpreter& in, const Value& v) {
  if (!v.is_obj()) return false;
  TypeObj* type = in.type_of(v);
  return type == in.t.function || type == in.t.builtin;
}

[[noreturn]] void no_attribute(Interpreter& in, const Value& obj, const std::string& name) {
  TypeObj* type = in.type_of(obj);
  if (type == in.t.module) {
    in.raise("AttributeError", "module '" + obj.as<ModuleObj>()->name + "' has no attribute '" + name + "'" +
                                   (obj.as<ModuleObj>()->name == "asyncio" ? " (not provided by the aio REPL)" : ""));
  }
  if (type == in.t.type) in.raise("AttributeError", "type object '" + obj.as<TypeObj>()->name + "' has no attribute '" + name + "'");
  in.raise("AttributeError", "'" + type->name + "' object has no attribute '" + name + "'");
}

bool find_attr(Interpreter& in, const Value& obj, const std::string& name, Value& out, bool for_call, bool& unbound) {
  unbound = false;
  TypeObj* type = in.type_of(obj);
  Object* o = obj.is_obj() ? obj.obj() : nullptr;
  if (type == in.t.module) {
    auto& attrs = obj.as<ModuleObj>()->attrs;
    auto it = attrs.find(name);
    if (it == attrs.end()) return false;
    out = it->second;
    return true;
  }
  if (type == in.t.type) {
    auto* cls = obj.as<TypeObj>();
    if (name == "__name__") { out = in.str_value(cls->name); return true; }
    if (name == "__qualname__" && !cls->lookup("__qualname__")) { out = in.str_value(cls->name); return true; }
    if (name == "__module__") { out = in.str_value(cls->module); return true; }
    if (name == "__doc__") { out = in.str_value(cls->help); return true; }
    if (name == "__base__") { out = cls->base ? Value(cls->base) : Value(); return true; }
    if (const Value* v = cls->lookup(name)) {
      if (v->is_obj() && dynamic_cast<PropertyObj*>(v->obj())) return false;
      out = *v;
      return true;
    }
    return false;
  }
  if (auto* sup = o ? dynamic_cast<SuperObj*>(o) : nullptr) {
    for (TypeObj* t = sup->start; t; t = t->base) {
      auto it = t->attrs.find(name);
      if (it == t->attrs.end()) continue;
      if (is_plain_function(in, it->second)) {
        out = bind(in, sup->self, it->second);
        return true;
      }
      out = it->second;
      return true;
    }
    return false;
  }
  if (auto* inst = o ? dynamic_cast<InstanceObj*>(o) : nullptr) {
    auto it = inst->attrs.find(name);
    if (it != inst->attrs.end()) { out = it->second; return true; }
    if (type->is_exception) {
      if (name == "args") { out = inst->args; return true; }
      if (name == "__cause__") { out = inst->cause; return true; }
      if (name == "__context__") { out = inst->context; return true; }
      if (name == "__traceback__") { out = Value(); return true; }
      if (name == "__suppress_context__") { out = Value::boolean(inst->suppress_context); return true; }
      if (type->is_subtype_of(in.exception_type("BaseExceptionGroup"))) {
        auto& args = inst->args.as<TupleObj>()->v;
        if (name == "message" && !args.empty()) { out = args[0]; return true; }
        if (name == "exceptions" && args.size() > 1) { out = in.tuple_value(in.to_vector(args[1])); return true; }
      }
    }
  }
  if (type == in.t.function) {
    auto* f = obj.as<FunctionObj>();
    if (name == "__name__") { out = in.str_value(f->def->name); return true; }
    if (name == "__qualname__") { out = in.str_value(f->def->qualname); return true; }
    auto it = f->attrs.find(name);
    if (it != f->attrs.end()) { out = it->second; return true; }
  }
  if (type == in.t.builtin && name == "__name__") {
    std::string n = obj.as<BuiltinObj>()->name;
    out = in.str_value(n.substr(n.rfind('.') + 1));
    return true;
  }
  if (type == in.t.method) {
    auto* m = obj.as<BoundMethodObj>();
    if (name == "__self__") { out = m->self; return true; }
    if (name == "__func__") { out = m->function; return true; }
    return find_attr(in, m->function, name, out, false, unbound);
  }
  if (name == "__class__") { out = Value(type); return true; }
  if (const Value* v = type->lookup(name)) {
    if (v->is_obj() && dynamic_cast<PropertyObj*>(v->obj())) {
      CallArgs a;
      a.pos.push_back(obj);
      out = v->obj() ? static_cast<PropertyObj*>(v->obj())->getter(in, a) : Value();
      return true;
    }
    if (is_plain_function(in, *v)) {
      if (for_call) { out = *v; unbound = true; return true; }
      out = bind(in, obj, *v);
      return true;
    }
    out = *v;
    return true;
  }
  return false;
}

}  // namespace

bool load_method(Interpreter& in, const Value& obj, const std::string& name, Value& callee) {
  bool unbound = false;
  if (!find_attr(in, obj, name, callee, true, unbound)) {
    TypeObj* type = in.type_of(obj);
    if (type->user_defined) {
      if (const Value* ga = type->lookup("__getattr__")) {
        CallArgs a;
        a.pos.push_back(obj);
        a.pos.push_back(in.str_value(name));
        callee = in.call(*ga, a);
        return false;
      }
    }
    no_attribute(in, obj, name);
  }
  return unbound;
}

Value Interpreter::getattr(const Value& obj, const std::string& name) {
  Value out;
  bool unbound = false;
  if (find_attr(*this, obj, name, out, false, unbound)) return out;
  TypeObj* type = type_of(obj);
  if (type->user_defined) {
    if (const Value* ga = type->lookup("__getattr__")) {
      CallArgs a;
      a.pos.push_back(obj);
      a.pos.push_back(str_value(name));
      return call(*ga, a);
    }
  }
  no_attribute(*this, obj, name);
}

bool Interpreter::hasattr(const Value& obj, const std::string& name) {
  Value out;
  bool unbound = false;
  return find_attr(*this, obj, name, out, true, unbound);
}

void Interpreter::setattr(const Value& obj, const std::string& name, Value value) {
  if (obj.is_obj()) {
    Object* o = obj.obj();
    if (auto* inst = dynamic_cast<InstanceObj*>(o)) {
      if (name == "__cause__") { inst->cause = value; inst->suppress_context = true; return; }
      if (name == "__context__") { inst->context = value; return; }
      inst->attrs[name] = std::move(value);
      return;
    }
    if (auto* type = dynamic_cast<TypeObj*>(o); type && type->user_defined) {
      type->attrs[name] = std::move(value);
      return;
    }
    if (auto* f = dynamic_cast<FunctionObj*>(o)) {
      f->attrs[name] = std::move(value);
      return;
    }
    if (auto* m = dynamic_cast<ModuleObj*>(o)) {
      m->attrs[name] = std::move(value);
      return;
    }
  }
  TypeObj* type = type_of(obj);
  if (type->lookup(name)) raise("AttributeError", "'" + type->name + "' object attribute '" + name + "' is read-only");
  raise("AttributeError", "'" + type->name + "' object has no attribute '" + name + "'");
}

void del_attr(Interpreter& in, const Value& obj, const std::string& name) {
  if (obj.is_obj()) {
    if (auto* inst = dynamic_cast<InstanceObj*>(obj.obj())) {
      if (inst->attrs.erase(name)) return;
    }
  }
  no_attribute(in, obj, name);
}

// ---- calls -----------------------------------------------------------------------

void merge_kwargs(Interpreter& in, CallArgs& args, const Value& mapping) {
  if (in.type_of(mapping) != in.t.dict) {
    in.raise("TypeError", "argument after ** must be a mapping, not " + in.type_of(mapping)->name);
  }
  for (auto& e : mapping.as<DictObj>()->entries) {
    if (e.key.is_undef()) continue;
    if (in.type_of(e.key) != in.t.str) in.raise("TypeError", "keywords must be strings");
    const std::string& name = e.key.as<StrObj>()->s;
    for (auto& [k, v] : args.kw) if (k == name) in.raise("TypeError", "got multiple values for keyword argument '" + name + "'");
    args.kw.emplace_back(name, e.value);
  }
}

Value Interpreter::call(const Value& callee, CallArgs& args) {
  if (callee.is_obj()) {
    Object* o = callee.obj();
    TypeObj* type = type_of(callee);
    if (type == t.builtin) return static_cast<BuiltinObj*>(o)->fn(*this, args);
    if (type == t.function) return call_function(*this, static_cast<FunctionObj*>(o), args);
    if (type == t.method) {
      auto* m = static_cast<BoundMethodObj*>(o);
      args.pos.insert(args.pos.begin(), m->self);
      Value function = m->function;
      return call(function, args);
    }
    if (type == t.type) {
      auto* cls = static_cast<TypeObj*>(o);
      if (cls->construct) return cls->construct(*this, args);
      if (!cls->user_defined && !cls->is_exception && cls != t.object) raise("TypeError", "cannot create '" + cls->name + "' instances");
      auto* inst = new InstanceObj(cls);
      inst->type_ref = callee;
      Value self(inst);
      inst->args = tuple_value(cls->is_exception ? args.pos : std::vector<Value>{});
      if (const Value* init = cls->lookup("__init__")) {
        CallArgs a;
        a.pos.reserve(args.pos.size() + 1);
        a.pos.push_back(self);
        a.pos.insert(a.pos.end(), args.pos.begin(), args.pos.end());
        a.kw = std::move(args.kw);
        Value r = call(*init, a);
        if (!r.is_none()) raise("TypeError", "__init__() should return None, not '" + type_of(r)->name + "'");
      } else if (!args.kw.empty()) {
        raise("TypeError", cls->name + "() takes no keyword arguments");
      } else if (!cls->is_exception && !args.pos.empty()) {
        raise("TypeError", cls->name + "() takes no arguments");
      }
      return self;
    }
    if (type->user_defined) {
      if (const Value* m = type->lookup("__call__")) {
        args.pos.insert(args.pos.begin(), callee);
        return call(*m, args);
      }
    }
  }
  raise("TypeError", "'" + type_of(callee)->name + "' object is not callable");
}

// ---- iteration ---------------------------------------------------------------------

Value Interpreter::get_iterator(const Value& iterable) {
  TypeObj* type = type_of(iterable);
  auto* it = new IteratorObj();
  it->type = t.iterator;
  Value result(it);
  if (type == t.iterator) return iterable;
  if (type == t.list) {
    Value list = iterable;
    std::size_t i = 0;
    it->next = [list, i](Value& out) mutable {
      auto& v = list.as<ListObj>()->v;
      if (i >= v.size()) return false;
      out = v[i++];
      return true;
    };
  } else if (type == t.tuple) {
    Value tuple = iterable;
    std::size_t i = 0;
    it->next = [tuple, i](Value& out) mutable {
      auto& v = tuple.as<TupleObj>()->v;
      if (i >= v.size()) return false;
      out = v[i++];
      return true;
    };
  } else if (type == t.range) {
    auto* r = iterable.as<RangeObj>();
    std::int64_t k = 0, n = r->length(), start = r->start, step = r->step;
    it->next = [k, n, start, step](Value& out) mutable {
      if (k >= n) return false;
      out = Value::integer(start + (k++) * step);
      return true;
    };
  } else if (type == t.str || type == t.bytes) {
    bool bytes = type == t.bytes;
    std::string s = bytes ? iterable.as<BytesObj>()->s : iterable.as<StrObj>()->s;
    std::size_t i = 0;
    Interpreter* self = this;
    it->next = [s, i, bytes, self](Value& out) mutable {
      if (i >= s.size()) return false;
      if (bytes) {
        out = Value::integer(static_cast<unsigned char>(s[i++]));
        return true;
      }
      // One code point of UTF-8.
      std::size_t len = 1;
      unsigned char c = static_cast<unsigned char>(s[i]);
      if (c >= 0xF0) len = 4; else if (c >= 0xE0) len = 3; else if (c >= 0xC0) len = 2;
      out = self->str_value(s.substr(i, len));
      i += len;
      return true;
    };
  } else if (type == t.dict || type == t.set || type == t.frozenset) {
    std::vector<Value> keys;
    auto& d = type == t.dict ? *iterable.as<DictObj>() : iterable.as<SetObj>()->items;
    keys.reserve(d.live);
    for (auto& e : d.entries) if (!e.key.is_undef()) keys.push_back(e.key);
    std::size_t i = 0;
    it->next = [keys = std::move(keys), i](Value& out) mutable {
      if (i >= keys.size()) return false;
      out = keys[i++];
      return true;
    };
  } else if (type->lookup("__iter__")) {
    CallArgs a;
    a.pos.push_back(iterable);
    Value inner = call(*type->lookup("__iter__"), a);
    if (type_of(inner) == t.iterator) return inner;
    Value next_fn = getattr(inner, "__next__");
    Interpreter* self = this;
    it->next = [self, next_fn](Value& out) {
      try {
        out = self->call0(next_fn);
        return true;
      } catch (const PyError& e) {
        if (self->isinstance(e.exc, self->exception_type("StopIteration"))) return false;
        throw;
      }
    };
  } else {
    raise("TypeError", "'" + type->name + "' object is not iterable");
  }
  return result;
}

void Interpreter::iterate(const Value& iterable, const std::function<bool(const Value&)>& each) {
  TypeObj* type = type_of(iterable);
  if (type == t.list) {
    Value hold = iterable;
    auto& v = hold.as<ListObj>()->v;
    for (std::size_t i = 0; i < v.size(); ++i) {
      Value item = v[i];
      if (!each(item)) return;
    }
    return;
  }
  if (type == t.tuple) {
    Value hold = iterable;
    for (const Value& item : hold.as<TupleObj>()->v) if (!each(item)) return;
    return;
  }
  if (type == t.range) {
    auto* r = iterable.as<RangeObj>();
    std::int64_t n = r->length();
    for (std::int64_t k = 0; k < n; ++k) if (!each(Value::integer(r->start + k * r->step))) return;
    return;
  }
  Value it = get_iterator(iterable);
  auto* iter = it.as<IteratorObj>();
  Value item;
  while (iter->next && iter->next(item)) if (!each(item)) return;
}

std::vector<Value> Interpreter::to_vector(const Value& iterable) {
  TypeObj* type = type_of(iterable);
  if (type == t.list) return iterable.as<ListObj>()->v;
  if (type == t.tuple) return iterable.as<TupleObj>()->v;
  std::vector<Value> out;
  iterate(iterable, [&](const Value& v) { out.push_back(v); return true; });
  return out;
}

Value new_set(Interpreter& in, bool frozen) {
  auto* s = new SetObj(frozen);
  s->type = frozen ? in.t.frozenset : in.t.set;
  return Value(s);
}

void set_add(Interpreter& in, const Value& set, const Value& item) {
  in.hash(item);
  set.as<SetObj>()->items.set(item, Value());
}

void dict_update(Interpreter& in, const Value& dict, const Value& other) {
  TypeObj* type = in.type_of(other);
  if (type == in.t.dict) {
    for (auto& e : other.as<DictObj>()->entries) if (!e.key.is_undef()) dict.as<DictObj>()->set(e.key, e.value);
    return;
  }
  in.iterate(other, [&](const Value& pair) {
    std::vector<Value> kv = in.to_vector(pair);
    if (kv.size() != 2) in.raise("ValueError", "dictionary update sequence element has length " + std::to_string(kv.size()) + "; 2 is required");
    set_item(in, dict, kv[0], kv[1]);
    return true;
  });
}

// ---- argument helpers ---------------------------------------------------------------

Value Interpreter::arg(CallArgs& a, std::size_t index, const char* name, const char* function, Value default_value) {
  for (auto& [k, v] : a.kw) if (k == name) return v;
  if (index < a.pos.size()) return a.pos[index];
  if (default_value.is_undef()) {
    raise("TypeError", std::string(function) + "() missing required argument '" + name + "' (pos " + std::to_string(index + 1) + ")");
  }
  return default_value;
}

std::int64_t Interpreter::to_int(const Value& v, const char* what) {
  if (v.is_int() || v.is_bool()) return int_of(v);
  raise("TypeError", std::string(what) + ": '" + type_of(v)->name + "' object cannot be interpreted as an integer");
}

double Interpreter::to_float(const Value& v, const char* what) {
  if (is_number(v)) return float_of(v);
  raise("TypeError", std::string(what) + ": must be real number, not " + type_of(v)->name);
}

const std::string& Interpreter::to_str(const Value& v, const char* what) {
  if (type_of(v) != t.str) raise("TypeError", std::string(what) + ": expected str, got " + type_of(v)->name);
  return v.as<StrObj>()->s;
}

std::optional<aio::Duration> Interpreter::to_duration(const Value& v, const char* what) {
  if (v.is_none()) return std::nullopt;
  double seconds = to_float(v, what);
  if (std::isnan(seconds)) raise("ValueError", std::string(what) + ": delay is NaN");
  if (seconds > 1e9) seconds = 1e9;
  if (seconds < -1e9) seconds = -1e9;
  return std::chrono::duration_cast<aio::Duration>(std::chrono::duration<double>(seconds));
}

// ---- format ----------------------------------------------------------------------

std::string Interpreter::format(const Value& v, const std::string& spec) {
  TypeObj* type = type_of(v);
  if (spec.empty()) return str(v);
  if (type->user_defined) {
    if (const Value* m = type->lookup("__format__")) {
      CallArgs a;
      a.pos.push_back(v);
      a.pos.push_back(str_value(spec));
      return str(call(*m, a));
    }
  }
  // [[fill]align][sign][#][0][width][,|_][.precision][type]
  std::size_t i = 0;
  char fill = ' ', align = 0, sign = '-';
  bool alternate = false, zero = false;
  char grouping = 0;
  int width = -1, precision = -1;
  char kind = 0;
  if (spec.size() >= 2 && std::strchr("<>=^", spec[1])) { fill = spec[0]; align = spec[1]; i = 2; }
  else if (!spec.empty() && std::strchr("<>=^", spec[0])) { align = spec[0]; i = 1; }
  if (i < spec.size() && std::strchr("+- ", spec[i])) sign = spec[i++];
  if (i < spec.size() && spec[i] == '#') { alternate = true; ++i; }
  if (i < spec.size() && spec[i] == '0') { zero = true; ++i; }
  if (i < spec.size() && std::isdigit(static_cast<unsigned char>(spec[i]))) {
    width = 0;
    while (i < spec.size() && std::isdigit(static_cast<unsigned char>(spec[i]))) width = width * 10 + (spec[i++] - '0');
    if (width > 10000) raise("ValueError", "Too many decimal digits in format string");
  }
  if (i < spec.size() && (spec[i] == ',' || spec[i] == '_')) grouping = spec[i++];
  if (i < spec.size() && spec[i] == '.') {
    ++i;
    precision = 0;
    if (i >= spec.size() || !std::isdigit(static_cast<unsigned char>(spec[i]))) raise("ValueError", "Format specifier missing precision");
    while (i < spec.size() && std::isdigit(static_cast<unsigned char>(spec[i]))) precision = precision * 10 + (spec[i++] - '0');
    if (precision > 1000) raise("ValueError", "Too many decimal digits in format string");
  }
  if (i < spec.size()) kind = spec[i++];
  if (i != spec.size()) raise("ValueError", "Invalid format specifier '" + spec + "' for object of type '" + type->name + "'");
  std::string body;
  bool numeric = is_number(v);
  if (numeric) {
    bool as_float = v.is_float() || (kind && std::strchr("eEfFgG%", kind));
    if (!as_float && kind && !std::strchr("dbxXocn", kind)) {
      raise("ValueError", std::string("Unknown format code '") + kind + "' for object of type '" + type->name + "'");
    }
    if (v.is_float() && kind && std::strchr("dbxXoc", kind)) {
      raise("ValueError", std::string("Unknown format code '") + kind + "' for object of type 'float'");
    }
    bool negative;
    std::string digits;
    if (as_float) {
      double x = float_of(v);
      negative = std::signbit(x) && !std::isnan(x);
      double ax = std::fabs(x);
      char buf[1100];
      char k = kind ? kind : 0;
      if (k == '%') {
        std::snprintf(buf, sizeof buf, "%.*f", precision < 0 ? 6 : precision, ax * 100);
        digits = std::string(buf) + "%";
      } else if (k == 0) {
        if (precision < 0) digits = float_repr(ax);
        else {
          std::snprintf(buf, sizeof buf, "%.*g", precision == 0 ? 1 : precision, ax);
          digits = buf;
          if (digits.find_first_of(".e") == std::string::npos && !std::isinf(ax) && !std::isnan(ax)) digits += ".0";
        }
      } else {
        char f[8];
        std::snprintf(f, sizeof f, "%%.*%c", k == 'F' ? 'f' : k);
        std::snprintf(buf, sizeof buf, f, precision < 0 ? 6 : precision, ax);
        digits = buf;
        if (alternate && digits.find('.') == std::string::npos) digits += ".";
      }
    } else {
      std::int64_t x = int_of(v);
      negative = x < 0;
      std::uint64_t ax = negative ? 0 - static_cast<std::uint64_t>(x) : static_cast<std::uint64_t>(x);
      if (kind == 'c') {
        digits = std::string(1, static_cast<char>(ax));
      } else {
        int base = kind == 'x' || kind == 'X' ? 16 : kind == 'o' ? 8 : kind == 'b' ? 2 : 10;
        if (ax == 0) digits = "0";
        while (ax) {
          int d = static_cast<int>(ax % base);
          digits.insert(digits.begin(), static_cast<char>(d < 10 ? '0' + d : (kind == 'X' ? 'A' : 'a') + d - 10));
          ax /= base;
        }
        if (alternate && base != 10) digits = std::string("0") + (kind == 'X' ? 'X' : kind) + digits;
      }
    }
    if (grouping) {
      std::size_t end = digits.find_first_of(".e%");
      if (end == std::string::npos) end = digits.size();
      std::string int_part = digits.substr(0, end);
      std::string grouped;
      int count = 0;
      for (auto it = int_part.rbegin(); it != int_part.rend(); ++it) {
        if (count && count % 3 == 0) grouped.insert(grouped.begin(), grouping);
        grouped.insert(grouped.begin(), *it);
        ++count;
      }
      digits = grouped + digits.substr(end);
    }
    std::string sign_text = negative ? "-" : (sign == '+' ? "+" : (sign == ' ' ? " " : ""));
    if (zero && !align) { align = '='; fill = '0'; }
    if (align == '=') {
      int pad = width - static_cast<int>(sign_text.size() + digits.size());
      return sign_text + (pad > 0 ? std::string(pad, fill) : "") + digits;
    }
    body = sign_text + digits;
    if (!align) align = '>';
  } else {
    if (kind && kind != 's') raise("ValueError", std::string("Unknown format code '") + kind + "' for object of type '" + type->name + "'");
    body = str(v);
    if (precision >= 0 && static_cast<int>(body.size()) > precision) body = body.substr(0, precision);
    if (!align) align = '<';
    if (align == '=') raise("ValueError", "'=' alignment not allowed in string format specifier");
  }
  // Width counts code points.
  int length = 0;
  for (unsigned char c : body) if ((c & 0xC0) != 0x80) ++length;
  int pad = width - length;
  if (pad <= 0) return body;
  std::string fill_text(1, fill);
  auto repeat_fill = [&](int n) { std::string s; for (int k = 0; k < n; ++k) s += fill_text; return s; };
  if (align == '<') return body + repeat_fill(pad);
  if (align == '>') return repeat_fill(pad) + body;
  return repeat_fill(pad / 2) + body + repeat_fill(pad - pad / 2);
}

std::string percent_format(Interpreter& in, const std::string& format, const Value& args) {
  std::vector<Value> values;
  bool mapping = in.type_of(args) == in.t.dict;
  if (in.type_of(args) == in.t.tuple) values = args.as<TupleObj>()->v;
  else values.push_back(args);
  std::size_t next = 0;
  std::string out;
  for (std::size_t i = 0; i < format.size(); ++i) {
    char c = format[i];
    if (c != '%') { out += c; continue; }
    if (++i >= format.size()) in.raise("ValueError", "incomplete format");
    if (format[i] == '%') { out += '%'; continue; }
    Value v;
    if (format[i] == '(' && mapping) {
      std::size_t close = format.find(')', i);
      if (close == std::string::npos) in.raise("ValueError", "incomplete format key");
      v = get_item(in, args, in.str_value(format.substr(i + 1, close - i - 1)));
      i = close + 1;
    }
    std::string spec;
    while (i < format.size() && std::strchr("-+ #0123456789.", format[i])) spec += format[i++];
    if (i >= format.size()) in.raise("ValueError", "incomplete format");
    char conv = format[i];
    if (v.is_none() && !(mapping && format[i - 1 - spec.size()] == ')')) {
      if (next >= values.size()) in.raise("TypeError", "not enough arguments for format string");
      v = values[next++];
    }
    std::string py_spec;
    bool left = false;
    std::string rest;
    for (char s : spec) {
      if (s == '-') left = true;
      else rest += s;
    }
    if (left) py_spec = "<";
    py_spec += rest;
    switch (conv) {
      case 's': out += in.format(in.str_value(in.str(v)), py_spec); break;
      case 'r': out += in.format(in.str_value(in.repr(v)), py_spec); break;
      case 'd': case 'i': case 'u':
        if (!is_number(v)) in.raise("TypeError", "%" + std::string(1, conv) + " format: a real number is required, not " + in.type_of(v)->name);
        out += in.format(Value::integer(v.is_float() ? static_cast<std::int64_t>(v.as_float()) : int_of(v)), py_spec + "d");
        break;
      case 'f': case 'F': case 'e': case 'E': case 'g': case 'G': case 'x': case 'X': case 'o':
        if (!is_number(v)) in.raise("TypeError", "must be real number, not " + in.type_of(v)->name);
        out += in.format(v, py_spec + conv);
        break;
      default: in.raise("ValueError", std::string("unsupported format character '") + conv + "'");
    }
  }
  if (!mapping && next < values.size()) in.raise("TypeError", "not all arguments converted during string formatting");
  return out;
}

}  // namespace repl
