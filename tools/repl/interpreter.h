// The REPL's interpreter: runs parsed programs (ast.h) on values (value.h).
//
// Statements and expressions that contain no await (decided by the parser) run
// on a plain synchronous path, exec()/eval(). Those that can suspend run as aio
// coroutines, exec_async()/eval_async(), so an await anywhere in a call chain
// suspends only the aio task running it. A REPL `async def`, called, gives a
// coroutine object; awaiting it (or create_task, gather, wait_for, TaskGroup)
// runs its body as an aio::Coro<Value> on aio's loop.
//
// Python exceptions travel as C++ exceptions: PyError (an aio::Error, so aio's
// own machinery sees an ordinary error) or, for asyncio.CancelledError,
// PyCancelled (an aio::CancelledError, so aio's tasks, timeouts and TaskGroups
// treat it as the cancellation it is). aio's own exceptions are turned into
// the matching Python exception where the program can see them (except).
//
// Not thread-safe: one interpreter, one thread (the loop's).
#ifndef AIO_TOOLS_REPL_INTERPRETER_H_
#define AIO_TOOLS_REPL_INTERPRETER_H_

#include <atomic>
#include <exception>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "aio.h"
#include "tools/repl/ast.h"
#include "tools/repl/value.h"

namespace repl {

// A Python exception in flight (any type but CancelledError).
struct PyError : aio::Error {
  PyError(Value exc, const std::string& what) : aio::Error(what), exc(std::move(exc)) {}
  Value exc;
};
// asyncio.CancelledError in flight: aio sees a cancellation.
struct PyCancelled : aio::CancelledError {
  PyCancelled(Value exc, std::string message) : aio::CancelledError(std::move(message)), exc(std::move(exc)) {}
  Value exc;
};

struct Frame {
  Value function;             // FunctionObj, or none for the module
  FunctionDef* def = nullptr;
  std::vector<Value> slots;
  AttrMap* globals = nullptr;
  AttrMap* class_namespace = nullptr;
  Value function_class;       // while a class body runs: the class
  Value ret;
  int line = 0;
  // Exceptions being handled by except blocks of this frame (bare `raise`).
  std::vector<Value> handling;
};

// A called `async def`: runs once, when awaited or made a task.
struct CoroutineObj : Object {
  CoroutineObj(TypeObj* type, Value function, std::unique_ptr<Frame> frame);
  Value function;
  std::unique_ptr<Frame> frame;
  bool started = false;
  std::string name;
  void clear() override;
};
// An awaitable built by a native function (asyncio.sleep(), queue.get(), ...):
// `start` makes the aio coroutine that does the work.
struct NativeCoroObj : Object {
  NativeCoroObj(TypeObj* type, std::string name, std::function<aio::Coro<Value>()> start);
  std::string name;
  std::function<aio::Coro<Value>()> start;
  bool started = false;
  void clear() override { start = nullptr; }
};
// A task: `task` for the REPL's own tasks (Task<Value>); tasks aio made for
// other purposes (a server's connection handlers) have only `any`.
struct TaskObj : Object {
  TaskObj(TypeObj* type, aio::Task<Value> task, std::string coro_name);
  TaskObj(TypeObj* type, aio::AnyTask any);
  ~TaskObj() override;
  aio::Task<Value> task;
  std::optional<aio::AnyTask> any;
  std::string coro_name;
};
struct FutureObj : Object {
  FutureObj(TypeObj* type, aio::Future<Value> future);
  aio::Future<Value> future;
};

struct Types {
  TypeObj *object, *type, *none, *bool_, *int_, *float_, *str, *bytes, *list, *tuple, *dict, *set, *frozenset,
      *range, *slice, *function, *builtin, *method, *module, *cell, *iterator, *coroutine, *native_coroutine, *task,
      *future, *ellipsis;
};

class Interpreter {
 public:
  struct Options {
    Options() {}
    bool virtual_time = false;
    // Stops a program after this many statements (0: no limit): for fuzzing.
    std::uint64_t max_statements = 0;
  };
  explicit Interpreter(Options options = Options());
  ~Interpreter();
  Interpreter(const Interpreter&) = delete;
  Interpreter& operator=(const Interpreter&) = delete;

  // Runs a whole program synchronously (script mode). Exceptions escape as
  // PyError/PyCancelled.
  void run_module(const std::shared_ptr<Program>& program);
  // Runs top-level statement `index` of an interactive program inside the
  // current aio task (top-level await allowed); returns the value of an
  // expression statement (undef for other statements).
  aio::Coro<Value> run_statement(std::shared_ptr<Program> program, std::size_t index);

  // Printing exactly as CPython.
  std::string repr(const Value& v);
  std::string str(const Value& v);
  std::string format(const Value& v, const std::string& spec);
  // The Python traceback and "Type: message" lines for an exception value.
  std::string format_exception(const Value& exc);

  // ---- the object model, for builtins and modules ----
  TypeObj* type_of(const Value& v) const;
  bool truthy(const Value& v);
  Value call(const Value& callee, CallArgs& args);
  Value call0(const Value& callee) { CallArgs a; return call(callee, a); }
  Value getattr(const Value& obj, const std::string& name);
  bool hasattr(const Value& obj, const std::string& name);
  void setattr(const Value& obj, const std::string& name, Value value);
  // Iterates, calling `each` until it returns false.
  void iterate(const Value& iterable, const std::function<bool(const Value&)>& each);
  std::vector<Value> to_vector(const Value& iterable);
  Value get_iterator(const Value& iterable);
  bool equals(const Value& a, const Value& b);
  bool less(const Value& a, const Value& b);
  std::int64_t hash(const Value& v);
  bool isinstance(const Value& v, TypeObj* type) const { return type_of(v)->is_subtype_of(type); }

  // Values.
  Value str_value(std::string s);
  Value bytes_value(std::string s);
  Value list_value(std::vector<Value> v = {});
  Value tuple_value(std::vector<Value> v);
  Value dict_value();
  Value builtin(const std::string& name, NativeFn fn, const std::string& help = {});
  Value native_coro(const std::string& name, std::function<aio::Coro<Value>()> start);
  TypeObj* new_type(const std::string& name, TypeObj* base, const std::string& module = "builtins");
  void add_method(TypeObj* type, const std::string& name, NativeFn fn, const std::string& help = {});

  // Exceptions.
  TypeObj* exception_type(const std::string& name) const;
  TypeObj* add_exception(const std::string& name, TypeObj* base, const std::string& module);
  Value new_exception(TypeObj* type, std::vector<Value> args);
  [[noreturn]] void raise(TypeObj* type, const std::string& message);
  [[noreturn]] void raise(const std::string& type_name, const std::string& message);
  [[noreturn]] void throw_exception(const Value& exc);
  // Any C++ exception -> the Python exception it stands for.
  Value exception_from(std::exception_ptr error);
  // Python exception -> a C++ exception_ptr that aio understands.
  std::exception_ptr to_exception_ptr(const Value& exc);

  // Awaiting any awaitable value (coroutine, task, future, native awaitable).
  aio::Coro<Value> await_value(Value awaitable);
  // A coroutine object for create_task/gather/TaskGroup: TypeError otherwise.
  aio::Coro<Value> coroutine_for_task(const Value& awaitable, const char* caller);
  bool is_awaitable(const Value& v) const;
  std::string coroutine_name(const Value& v) const;

  // Argument helpers for builtins: the positional or keyword argument `name`.
  Value arg(CallArgs& a, std::size_t index, const char* name, const char* function, Value default_value = Value::undef());
  std::int64_t to_int(const Value& v, const char* what);
  double to_float(const Value& v, const char* what);
  const std::string& to_str(const Value& v, const char* what);
  std::optional<aio::Duration> to_duration(const Value& v, const char* what);

  Types t;
  AttrMap builtins;
  std::map<std::string, Value> modules;
  std::map<std::string, std::vector<std::string>> source_lines;
  AttrMap main_globals;
  std::vector<std::string> argv;
  Options options;
  bool in_asyncio_run = false;
  // Ctrl-C for a statement that never awaits (the console, tools/repl/console.h):
  // another thread stores interrupt_requested_at (steady_clock nanoseconds),
  // then sets interrupt_requested. A statement boundary run by the task whose
  // id() is interrupt_task (set on the loop thread), kInterruptGrace or more
  // after the request, clears it and raises KeyboardInterrupt; before that,
  // the console's cancellation (delivered at the task's next await) is given
  // the chance to win. The only members another thread may touch.
  static constexpr std::int64_t kInterruptGraceNs = 200'000'000;
  std::atomic<bool> interrupt_requested{false};
  std::atomic<std::int64_t> interrupt_requested_at{0};
  const void* interrupt_task = nullptr;
  // Set while the interactive console reads the terminal: input() is refused.
  bool console_owns_stdin = false;
  std::uint64_t statements_run = 0;
  std::uint64_t random_state[2] = {0x853c49e6748fea9bULL, 0xda3e39cb94b95bdbULL};

 private:
  friend struct Evaluator;
  void install_builtins();
  void install_modules();
  std::vector<Value> type_registry_;
  std::map<std::string, TypeObj*> exceptions_;
};

// The modules (modules.cc).
void install_asyncio(Interpreter& in);
void install_time_random_sys(Interpreter& in);

}  // namespace repl

#endif  // AIO_TOOLS_REPL_INTERPRETER_H_
