// Pieces shared by the interpreter's .cc files (not part of the REPL's API).
#ifndef AIO_TOOLS_REPL_INTERNAL_H_
#define AIO_TOOLS_REPL_INTERNAL_H_

#include <set>
#include <unordered_map>
#include <cstdint>
#include <vector>
#include <string>

#include "tools/repl/interpreter.h"

namespace repl {

std::string address_of(const void* p);
std::string float_repr(double f);
std::string str_repr(const std::string& s);
std::string bytes_repr(const std::string& s);

// A computed attribute of a native type (proc.returncode, exc.partial, ...).
struct PropertyObj : Object {
  explicit PropertyObj(NativeFn getter);
  NativeFn getter;
  void clear() override { getter = nullptr; }
};

// super(): attribute lookup starting above the defining class.
struct SuperObj : Object {
  SuperObj(TypeObj* start, Value self);
  TypeObj* start;
  Value self;
  void clear() override { self = Value(); }
};

// A native object of a module (a Queue, a Lock, a StreamWriter...): its type
// holds the methods; repr() is its own.
struct NativeObj : Object {
  explicit NativeObj(TypeObj* type) : Object(type) {}
  virtual std::string repr(Interpreter& in) {
    (void)in;
    return "<" + type->module + "." + type->name + " object at " + address_of(this) + ">";
  }
  // `async with` managers that are aio scopes (TaskGroup, timeout, locks):
  // run `body` inside the scope after `enter` bound the `as` target.
  virtual bool is_async_scope() const { return false; }
  virtual aio::Coro<int> run_scope(Interpreter* in, Value self, std::function<void(Value)>* enter,
                                   std::function<aio::Coro<int>()>* body);
};

// Detects recursion while printing a container that contains itself.
struct RecursionGuard {
  RecursionGuard(Interpreter&, const void* object) : object(object) {
    recursive = !active().insert(object).second;
  }
  ~RecursionGuard() {
    if (!recursive) active().erase(object);
  }
  static std::set<const void*>& active() {
    static std::set<const void*> set;
    return set;
  }
  const void* object;
  bool recursive;
};

// Gives a native object of type T (with `self` checked), or raises TypeError.
template <class T>
T* self_as(Interpreter& in, CallArgs& a, const char* method) {
  if (a.pos.empty() || !a.pos[0].is_obj() || !dynamic_cast<T*>(a.pos[0].obj())) {
    in.raise("TypeError", std::string("descriptor '") + method + "' requires a matching object");
  }
  return static_cast<T*>(a.pos[0].obj());
}

// UTF-8 (ops.cc): str values hold UTF-8; indexing and slicing count code points.
bool is_ascii(const std::string& s);
std::vector<std::uint32_t> utf8_decode(const std::string& s);
std::string utf8_encode(const std::vector<std::uint32_t>& cps);
std::uint32_t to_upper_cp(std::uint32_t cp);
std::uint32_t to_lower_cp(std::uint32_t cp);

// Operators, items, attributes (ops.cc).
Value binary_op(Interpreter& in, const std::string& op, const Value& a, const Value& b);
Value unary_op(Interpreter& in, const std::string& op, const Value& a);
bool compare_op(Interpreter& in, const std::string& op, const Value& a, const Value& b);
bool contains(Interpreter& in, const Value& container, const Value& item);
Value get_item(Interpreter& in, const Value& obj, const Value& key);
void set_item(Interpreter& in, const Value& obj, const Value& key, Value value);
void del_item(Interpreter& in, const Value& obj, const Value& key);
void del_attr(Interpreter& in, const Value& obj, const std::string& name);
// Looks up obj.name for a call: true when `callee` is an unbound function that
// takes obj as its first argument (no bound-method object is made).
bool load_method(Interpreter& in, const Value& obj, const std::string& name, Value& callee);
void merge_kwargs(Interpreter& in, CallArgs& args, const Value& mapping);
Value new_set(Interpreter& in, bool frozen = false);
void set_add(Interpreter& in, const Value& set, const Value& item);
void dict_update(Interpreter& in, const Value& dict, const Value& other);
std::string percent_format(Interpreter& in, const std::string& format, const Value& args);

// TaskObj for each aio task state that has one (current_task() identity).
std::unordered_map<const void*, TaskObj*>& task_registry();

// The evaluator (eval.cc).
Value call_function(Interpreter& in, FunctionObj* f, CallArgs& args);
aio::Coro<Value> run_coroutine(Interpreter* in, Value coroutine);
void run_module_body(Interpreter& in, const std::shared_ptr<Program>& program, AttrMap& globals);

}  // namespace repl

#endif  // AIO_TOOLS_REPL_INTERNAL_H_
