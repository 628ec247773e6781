// Values and the heap list. Hashing and equality here are the structural ones
// dict keys need (numbers across int/float/bool, str, bytes, tuples,
// frozensets); other objects hash and compare by identity.
#include "tools/repl/value.h"

#include <cmath>
#include <cstring>

namespace repl {

Object*& Heap::head() {
  static Object* head = nullptr;
  return head;
}

Object::Object(TypeObj* type) : type(type) {
  Object*& head = Heap::head();
  heap_next = head;
  if (head) head->heap_prev = this;
  head = this;
}

Object::~Object() {
  if (heap_prev) heap_prev->heap_next = heap_next; else Heap::head() = heap_next;
  if (heap_next) heap_next->heap_prev = heap_prev;
}

void Heap::clear_all() {
  // Hold every object, drop the references they hold to each other, release.
  std::vector<Object*> all;
  for (Object* o = head(); o; o = o->heap_next) all.push_back(o);
  for (Object* o : all) ++o->refs;
  for (Object* o : all) o->clear();
  for (Object* o : all) {
    if (--o->refs == 0) delete o;
  }
}

bool Value::identical(const Value& other) const noexcept {
  if (t_ != other.t_) return false;
  switch (t_) {
    case VT::kUndef: case VT::kNone: return true;
    case VT::kBool: return u_.b == other.u_.b;
    case VT::kInt: return u_.i == other.u_.i;
    case VT::kFloat: return std::memcmp(&u_.f, &other.u_.f, sizeof(double)) == 0;
    case VT::kObj: return u_.o == other.u_.o;
  }
  return false;
}

StrObj::StrObj(std::string s) : Object(nullptr), s(std::move(s)) {}
BytesObj::BytesObj(std::string s) : Object(nullptr), s(std::move(s)) {}
ListObj::ListObj() : Object(nullptr) {}
ListObj::ListObj(std::vector<Value> v) : Object(nullptr), v(std::move(v)) {}
TupleObj::TupleObj(std::vector<Value> v) : Object(nullptr), v(std::move(v)) {}
DictObj::DictObj() : Object(nullptr) {}
SetObj::SetObj(bool frozen) : Object(nullptr), frozen(frozen) {}
RangeObj::RangeObj(std::int64_t start, std::int64_t stop, std::int64_t step)
    : Object(nullptr), start(start), stop(stop), step(step) {}
std::int64_t RangeObj::length() const {
  if (step > 0 && start < stop) return (stop - start - 1) / step + 1;
  if (step < 0 && start > stop) return (start - stop - 1) / (-step) + 1;
  return 0;
}
SliceObj::SliceObj(Value a, Value b, Value c) : Object(nullptr), start(std::move(a)), stop(std::move(b)), step(std::move(c)) {}
CellObj::CellObj() : Object(nullptr) {}
FunctionObj::FunctionObj(std::shared_ptr<FunctionDef> def, std::shared_ptr<Program> program)
    : Object(nullptr), def(std::move(def)), program(std::move(program)) {}
BuiltinObj::BuiltinObj(std::string name, NativeFn fn, std::string help)
    : Object(nullptr), name(std::move(name)), fn(std::move(fn)), help(std::move(help)) {}
BoundMethodObj::BoundMethodObj(Value self, Value function) : Object(nullptr), self(std::move(self)), function(std::move(function)) {}
ModuleObj::ModuleObj(std::string name) : Object(nullptr), name(std::move(name)) {}
InstanceObj::InstanceObj(TypeObj* type) : Object(type) {}
IteratorObj::IteratorObj() : Object(nullptr) {}
TypeObj::TypeObj(std::string name, TypeObj* base, std::string module)
    : Object(nullptr), name(std::move(name)), module(std::move(module)), base(base) {}

Value* DictObj::find(const Value& key) {
  auto it = index.find(key);
  return it == index.end() ? nullptr : &entries[it->second].value;
}

void DictObj::set(const Value& key, Value value) {
  auto it = index.find(key);
  if (it != index.end()) {
    entries[it->second].value = std::move(value);
    return;
  }
  index.emplace(key, entries.size());
  entries.push_back(Entry{key, std::move(value)});
  ++live;
}

bool DictObj::erase(const Value& key) {
  auto it = index.find(key);
  if (it == index.end()) return false;
  std::size_t at = it->second;
  index.erase(it);
  entries[at].key = Value::undef();
  entries[at].value = Value();
  --live;
  if (entries.size() > 32 && live * 2 < entries.size()) compact();
  return true;
}

void DictObj::compact() {
  std::vector<Entry> kept;
  kept.reserve(live);
  for (auto& e : entries) if (!e.key.is_undef()) kept.push_back(std::move(e));
  entries = std::move(kept);
  index.clear();
  for (std::size_t i = 0; i < entries.size(); ++i) index.emplace(entries[i].key, i);
}

namespace {
enum class Kind { kOther, kNumber, kStr, kBytes, kTuple, kFrozen };
}

// Structural kinds are recognised by the object's C++ type (the interpreter
// sets `type`, but hashing must not depend on it being set).
static Kind kind_of(const Value& v) {
  if (v.is_bool() || v.is_int() || v.is_float()) return Kind::kNumber;
  if (!v.is_obj()) return Kind::kOther;
  Object* o = v.obj();
  if (dynamic_cast<StrObj*>(o)) return Kind::kStr;
  if (dynamic_cast<BytesObj*>(o)) return Kind::kBytes;
  if (dynamic_cast<TupleObj*>(o)) return Kind::kTuple;
  if (auto* s = dynamic_cast<SetObj*>(o); s && s->frozen) return Kind::kFrozen;
  return Kind::kOther;
}

static double number_of(const Value& v) {
  if (v.is_bool()) return v.as_bool() ? 1 : 0;
  if (v.is_int()) return static_cast<double>(v.as_int());
  return v.as_float();
}

std::size_t ValueHash::operator()(const Value& v) const {
  switch (v.tag()) {
    case VT::kUndef: return 7;
    case VT::kNone: return 0x345678;
    case VT::kBool: return v.as_bool() ? 1 : 0;
    case VT::kInt: return static_cast<std::size_t>(v.as_int());
    case VT::kFloat: {
      double f = v.as_float();
      if (std::floor(f) == f && std::fabs(f) < 9.2e18) return static_cast<std::size_t>(static_cast<std::int64_t>(f));
      return std::hash<double>()(f);
    }
    case VT::kObj: break;
  }
  switch (kind_of(v)) {
    case Kind::kStr: return std::hash<std::string>()(v.as<StrObj>()->s);
    case Kind::kBytes: return std::hash<std::string>()(v.as<BytesObj>()->s) ^ 0x5bd1e995;
    case Kind::kTuple: {
      std::size_t h = 0x345678;
      for (const Value& item : v.as<TupleObj>()->v) h = h * 1000003 ^ (*this)(item);
      return h;
    }
    case Kind::kFrozen: {
      std::size_t h = 0;
      for (const auto& e : v.as<SetObj>()->items.entries) if (!e.key.is_undef()) h ^= (*this)(e.key) * 0x9e3779b9;
      return h;
    }
    default: return std::hash<const void*>()(v.obj());
  }
}

bool ValueEq::operator()(const Value& a, const Value& b) const {
  Kind ka = kind_of(a), kb = kind_of(b);
  if (ka != kb) return false;
  switch (ka) {
    case Kind::kNumber:
      if (a.is_float() || b.is_float()) return number_of(a) == number_of(b);
      return (a.is_bool() ? a.as_bool() : a.as_int()) == (b.is_bool() ? b.as_bool() : b.as_int());
    case Kind::kStr: return a.as<StrObj>()->s == b.as<StrObj>()->s;
    case Kind::kBytes: return a.as<BytesObj>()->s == b.as<BytesObj>()->s;
    case Kind::kTuple: {
      auto& x = a.as<TupleObj>()->v;
      auto& y = b.as<TupleObj>()->v;
      if (x.size() != y.size()) return false;
      for (std::size_t i = 0; i < x.size(); ++i) if (!x[i].identical(y[i]) && !(*this)(x[i], y[i])) return false;
      return true;
    }
    case Kind::kFrozen: {
      auto& x = a.as<SetObj>()->items;
      auto& y = b.as<SetObj>()->items;
      if (x.live != y.live) return false;
      for (const auto& e : x.entries) if (!e.key.is_undef() && !y.index.count(e.key)) return false;
      return true;
    }
    default: return a.identical(b);
  }
}

}  // namespace repl
