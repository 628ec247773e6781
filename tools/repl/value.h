// The REPL's values: one Value type, Python's object model.
//
// A Value is a small tagged union: None, bool, int (64-bit) and float are held
// inline; everything else is a reference-counted heap Object (str, bytes, list,
// tuple, dict, set, functions, types, exceptions, aio's tasks and primitives).
// Copying a Value shares the object, which gives Python's aliasing and identity
// (`is` compares object addresses). Counts are not atomic: values belong to the
// loop's thread.
//
// Reference cycles (a closure that refers to itself, `self.me = self`) are not
// collected while the program runs; Heap::clear_all() breaks every cycle when the
// interpreter shuts down, so nothing leaks.
#ifndef AIO_TOOLS_REPL_VALUE_H_
#define AIO_TOOLS_REPL_VALUE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace repl {

struct TypeObj;
class Interpreter;

struct Object {
  explicit Object(TypeObj* type);
  virtual ~Object();
  Object(const Object&) = delete;
  Object& operator=(const Object&) = delete;
  // Drops every reference this object holds (cycle breaking at shutdown).
  virtual void clear() {}
  std::int64_t refs = 0;
  TypeObj* type;
  Object* heap_prev = nullptr;
  Object* heap_next = nullptr;
};

enum class VT : std::uint8_t { kUndef, kNone, kBool, kInt, kFloat, kObj };

class Value {
 public:
  Value() noexcept : t_(VT::kNone) { u_.i = 0; }
  static Value undef() noexcept { Value v; v.t_ = VT::kUndef; return v; }
  static Value boolean(bool b) noexcept { Value v; v.t_ = VT::kBool; v.u_.b = b; return v; }
  static Value integer(std::int64_t i) noexcept { Value v; v.t_ = VT::kInt; v.u_.i = i; return v; }
  static Value real(double f) noexcept { Value v; v.t_ = VT::kFloat; v.u_.f = f; return v; }
  explicit Value(Object* o) noexcept : t_(VT::kObj) { u_.o = o; ++o->refs; }
  Value(const Value& other) noexcept : t_(other.t_), u_(other.u_) { if (t_ == VT::kObj) ++u_.o->refs; }
  Value(Value&& other) noexcept : t_(other.t_), u_(other.u_) { other.t_ = VT::kNone; }
  Value& operator=(const Value& other) noexcept {
    if (other.t_ == VT::kObj) ++other.u_.o->refs;
    release();
    t_ = other.t_;
    u_ = other.u_;
    return *this;
  }
  Value& operator=(Value&& other) noexcept {
    if (this != &other) {
      release();
      t_ = other.t_;
      u_ = other.u_;
      other.t_ = VT::kNone;
    }
    return *this;
  }
  ~Value() { release(); }

  VT tag() const noexcept { return t_; }
  bool is_undef() const noexcept { return t_ == VT::kUndef; }
  bool is_none() const noexcept { return t_ == VT::kNone; }
  bool is_bool() const noexcept { return t_ == VT::kBool; }
  bool is_int() const noexcept { return t_ == VT::kInt; }
  bool is_float() const noexcept { return t_ == VT::kFloat; }
  bool is_obj() const noexcept { return t_ == VT::kObj; }
  bool as_bool() const noexcept { return u_.b; }
  std::int64_t as_int() const noexcept { return u_.i; }
  double as_float() const noexcept { return u_.f; }
  Object* obj() const noexcept { return u_.o; }
  template <class T>
  T* as() const noexcept { return static_cast<T*>(u_.o); }
  // Same object (or same inline value): Python's `is`.
  bool identical(const Value& other) const noexcept;

 private:
  void release() noexcept {
    if (t_ == VT::kObj && --u_.o->refs == 0) delete u_.o;
  }
  VT t_;
  union {
    bool b;
    std::int64_t i;
    double f;
    Object* o;
  } u_;
};

template <class T, class... A>
Value make(A&&... args) {
  return Value(new T(std::forward<A>(args)...));
}

// Every live object, to break cycles at shutdown.
struct Heap {
  static Object*& head();
  static void clear_all();
};

struct ValueHash { std::size_t operator()(const Value& v) const; };
struct ValueEq { bool operator()(const Value& a, const Value& b) const; };

using AttrMap = std::unordered_map<std::string, Value>;

struct CallArgs {
  std::vector<Value> pos;
  std::vector<std::pair<std::string, Value>> kw;
};

using NativeFn = std::function<Value(Interpreter&, CallArgs&)>;

struct TypeObj : Object {
  TypeObj(std::string name, TypeObj* base, std::string module = "builtins");
  std::string name;
  std::string module;
  TypeObj* base;  // kept alive by the interpreter's registry
  Value base_ref;  // for user classes
  AttrMap attrs;
  NativeFn construct;  // null: a plain object (user classes: InstanceObj)
  bool is_exception = false;
  bool user_defined = false;
  std::string help;  // help(): the aio C++ signature and docs page
  bool is_subtype_of(const TypeObj* other) const {
    for (const TypeObj* t = this; t; t = t->base) {
      if (t == other || t->extra_base == other) return true;
    }
    return false;
  }
  // A second base for the one built-in class that has two: ExceptionGroup is
  // both a BaseExceptionGroup and an Exception.
  TypeObj* extra_base = nullptr;
  // Finds an attribute along the base chain.
  const Value* lookup(const std::string& attr) const {
    for (const TypeObj* t = this; t; t = t->base) {
      auto it = t->attrs.find(attr);
      if (it != t->attrs.end()) return &it->second;
    }
    return nullptr;
  }
  void clear() override { attrs.clear(); base_ref = Value(); construct = nullptr; }
};

struct StrObj : Object {
  explicit StrObj(std::string s);
  std::string s;
};
struct BytesObj : Object {
  explicit BytesObj(std::string s);
  std::string s;
};
struct ListObj : Object {
  ListObj();
  explicit ListObj(std::vector<Value> v);
  std::vector<Value> v;
  void clear() override { std::vector<Value>().swap(v); }
};
struct TupleObj : Object {
  explicit TupleObj(std::vector<Value> v);
  std::vector<Value> v;
  void clear() override { std::vector<Value>().swap(v); }
};

// Insertion-ordered hash map (Python's dict); deleted entries are tombstones
// (an undefined key) until the next compaction.
struct DictObj : Object {
  DictObj();
  struct Entry { Value key; Value value; };
  std::vector<Entry> entries;
  std::unordered_map<Value, std::size_t, ValueHash, ValueEq> index;
  std::size_t live = 0;
  Value* find(const Value& key);
  void set(const Value& key, Value value);
  bool erase(const Value& key);
  void clear() override { entries.clear(); index.clear(); live = 0; }
  void compact();
};
struct SetObj : Object {
  explicit SetObj(bool frozen = false);
  DictObj items;  // values unused
  bool frozen;
  void clear() override { items.clear(); }
};
struct RangeObj : Object {
  RangeObj(std::int64_t start, std::int64_t stop, std::int64_t step);
  std::int64_t start, stop, step;
  std::int64_t length() const;
};
struct SliceObj : Object {
  SliceObj(Value a, Value b, Value c);
  Value start, stop, step;
  void clear() override { start = stop = step = Value(); }
};
struct CellObj : Object {
  CellObj();
  Value v = Value::undef();
  void clear() override { v = Value::undef(); }
};

struct FunctionDef;
struct Program;
struct FunctionObj : Object {
  FunctionObj(std::shared_ptr<FunctionDef> def, std::shared_ptr<Program> program);
  std::shared_ptr<FunctionDef> def;
  std::shared_ptr<Program> program;
  std::vector<Value> defaults;    // for the trailing positional params
  std::vector<Value> kwdefaults;  // one per kwonly param (undef: required)
  std::vector<Value> closure;     // CellObj values
  AttrMap* globals_ref = nullptr;  // the module's globals (owned by the interpreter)
  Value owner_class;  // the class whose body defined it (for super())
  AttrMap attrs;
  void clear() override { defaults.clear(); kwdefaults.clear(); closure.clear(); attrs.clear(); owner_class = Value(); }
};
struct BuiltinObj : Object {
  BuiltinObj(std::string name, NativeFn fn, std::string help = {});
  std::string name;
  NativeFn fn;
  std::string help;
  void clear() override { fn = nullptr; }
};
struct BoundMethodObj : Object {
  BoundMethodObj(Value self, Value function);
  Value self, function;
  void clear() override { self = function = Value(); }
};
struct ModuleObj : Object {
  explicit ModuleObj(std::string name);
  std::string name;
  AttrMap attrs;
  void clear() override { attrs.clear(); }
};
// Instances of user classes and of every exception type.
struct InstanceObj : Object {
  explicit InstanceObj(TypeObj* type);
  Value type_ref;
  AttrMap attrs;
  // Exceptions: args, __cause__, __context__, the traceback (innermost last).
  Value args;
  Value cause, context;
  bool suppress_context = false;
  struct TracebackEntry { std::string file; int line; std::string function; const void* frame; };
  std::vector<TracebackEntry> traceback;
  void clear() override { attrs.clear(); args = cause = context = Value(); type_ref = Value(); }
};
// An iterator over a snapshot or a live container.
struct IteratorObj : Object {
  IteratorObj();
  std::function<bool(Value&)> next;  // false when exhausted
  void clear() override { next = nullptr; }
};

}  // namespace repl

#endif  // AIO_TOOLS_REPL_VALUE_H_
