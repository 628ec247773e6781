// The modules: asyncio bound to aio (every primitive is aio's own object; this
// file only converts values), and time, random, sys.
//
// Each asyncio function that returns an awaitable builds a NativeCoroObj whose
// start() calls a coroutine function taking its arguments by value, so the aio
// coroutine owns everything it needs (no lambda captures live in a frame).
// help(name) prints the aio C++ API a name maps to (the help strings here).
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <random>
#include <thread>

#include "async/call_graph.h"
#include "tools/repl/internal.h"

namespace repl {
namespace {

thread_local Interpreter* current_interpreter = nullptr;

double seconds_of(aio::TimePoint t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}
aio::TimePoint time_point_of(double seconds) {
  return aio::TimePoint(std::chrono::duration_cast<aio::Duration>(std::chrono::duration<double>(seconds)));
}

aio::EventLoop& running_loop(Interpreter& in) {
  try {
    return aio::get_running_loop();
  } catch (const std::exception&) {
    in.raise("RuntimeError", "no running event loop");
  }
}

// ---- coroutines that own their arguments ----

aio::Coro<Value> sleep_coro(aio::Duration delay, Value result) {
  co_await aio::sleep(delay);
  co_return result;
}


aio::Coro<Value> gather_coro(Interpreter* in, std::vector<aio::Task<Value>> tasks, bool return_exceptions) {
  std::vector<Value> out;
  if (tasks.empty()) co_return in->list_value();
  if (return_exceptions) {
    std::vector<aio::Outcome<Value>> outcomes = co_await aio::gather(aio::return_exceptions, std::move(tasks));
    for (auto& o : outcomes) out.push_back(o.has_value() ? o.value() : in->exception_from(o.exception()));
  } else {
    std::vector<Value> values = co_await aio::gather(std::move(tasks));
    out = std::move(values);
  }
  co_return in->list_value(std::move(out));
}

aio::Coro<Value> wait_for_task(aio::Task<Value> task, std::optional<aio::Duration> delay) {
  co_return co_await aio::wait_for(std::move(task), delay);
}
aio::Coro<Value> shield_coro(aio::Task<Value> task) { co_return co_await aio::shield(std::move(task)); }

aio::Coro<Value> wait_coro(Interpreter* in, std::vector<Value> originals, std::vector<aio::Task<Value>> tasks,
                           aio::ReturnWhen when, std::optional<aio::Duration> timeout) {
  co_await aio::wait(std::move(tasks), when, timeout);
  Value done = new_set(*in), pending = new_set(*in);
  for (const Value& t : originals) set_add(*in, t.as<TaskObj>()->task.done() ? done : pending, t);
  std::vector<Value> pair;
  pair.push_back(done);
  pair.push_back(pending);
  co_return in->tuple_value(std::move(pair));
}

Value value_or_none(std::optional<std::string> s, Interpreter& in) { return s ? in.bytes_value(std::move(*s)) : Value(); }

TypeObj* native_type(Interpreter& in, const std::string& name, const std::string& module, const std::string& help = {}) {
  TypeObj* type = in.new_type(name, in.t.object, module);
  type->help = help;
  return type;
}

void add_property(Interpreter& in, TypeObj* type, const std::string& name, NativeFn getter) {
  auto* p = new PropertyObj(std::move(getter));
  p->type = in.t.object;
  type->attrs[name] = Value(p);
}

Value make_task(Interpreter& in, aio::Task<Value> task, const Value& coro) {
  return Value(new TaskObj(in.t.task, std::move(task), in.coroutine_name(coro)));
}

Value task_value(Interpreter& in, const aio::AnyTask& any) {
  auto it = task_registry().find(any.id());
  if (it != task_registry().end()) return Value(it->second);
  return Value(new TaskObj(in.t.task, any));
}

TaskObj* as_task(Interpreter& in, const Value& v, const char* method) {
  if (!v.is_obj() || in.type_of(v) != in.t.task) in.raise("TypeError", std::string(method) + ": expected a Task");
  return v.as<TaskObj>();
}

// A Task for an awaitable given to gather/wait_for/shield: tasks as they are,
// coroutines wrapped (asyncio's ensure_future).
aio::Task<Value> ensure_task(Interpreter& in, const Value& v, const char* caller) {
  if (v.is_obj() && in.type_of(v) == in.t.task) {
    auto* t = v.as<TaskObj>();
    if (!t->task.valid()) in.raise("TypeError", std::string(caller) + ": this task is not awaitable from the REPL");
    return t->task;
  }
  if (v.is_obj() && in.type_of(v) == in.t.future) in.raise("TypeError", std::string(caller) + ": Futures are not supported here by the aio REPL; wrap it in a coroutine");
  running_loop(in);
  aio::Coro<Value> coro = in.coroutine_for_task(v, caller);
  return aio::create_task(std::move(coro));
}

void report_callback_error(Interpreter& in, const std::string& what) {
  std::fflush(stdout);
  std::string text = what + "\n" + in.format_exception(in.exception_from(std::current_exception()));
  std::fwrite(text.data(), 1, text.size(), stderr);
}

// ---- native objects ----

struct LoopObj : NativeObj {
  using NativeObj::NativeObj;
  std::string repr(Interpreter&) override { return "<aio.EventLoop running=True closed=False debug=False>"; }
};

struct HandleObj : NativeObj {
  HandleObj(TypeObj* type, aio::Handle handle) : NativeObj(type), handle(std::move(handle)) {}
  aio::Handle handle;
  double when = 0;
};

struct TimeoutObj : NativeObj {
  TimeoutObj(TypeObj* type, std::optional<aio::Duration> delay, std::optional<aio::TimePoint> when, bool absolute)
      : NativeObj(type), delay(delay), when(when), absolute(absolute) {}
  std::optional<aio::Duration> delay;
  std::optional<aio::TimePoint> when;
  bool absolute;
  aio::Timeout* active = nullptr;
  bool expired = false;
  bool entered = false;
  bool is_async_scope() const override { return true; }
  std::string repr(Interpreter&) override {
    std::string state = active ? "active" : (expired ? "expired" : (entered ? "finished" : "created"));
    std::string out = "<Timeout [" + state + "]";
    if (active || !entered) {
      auto w = active ? active->when() : when;
      out += " when=" + (w ? float_repr(seconds_of(*w)) : std::string("None"));
    }
    return out + ">";
  }
  aio::Coro<int> run_scope(Interpreter* in, Value self, std::function<void(Value)>* enter,
                           std::function<aio::Coro<int>()>* body) override;
};

aio::Coro<int> TimeoutObj::run_scope(Interpreter* in, Value self, std::function<void(Value)>* enter,
                                     std::function<aio::Coro<int>()>* body) {
  if (entered) in->raise("RuntimeError", "Timeout has already been entered");
  entered = true;
  TimeoutObj* obj = this;
  auto scope = [obj, self_ptr = self.obj(), enter, body](aio::Timeout& t) -> aio::Coro<int> {
    obj->active = &t;
    (*enter)(Value(self_ptr));
    int flow = 0;
    try {
      flow = co_await (*body)();
    } catch (...) {
      obj->expired = t.expired();
      obj->when = t.when();
      obj->active = nullptr;
      throw;
    }
    obj->expired = t.expired();
    obj->when = t.when();
    obj->active = nullptr;
    co_return flow;
  };
  std::optional<aio::TimePoint> deadline = when;
  if (!absolute && delay) deadline = aio::get_running_loop().time() + *delay;
  if (!absolute && !delay) deadline = std::nullopt;
  int flow = co_await aio::timeout_at(deadline, std::move(scope));
  co_return flow;
}

struct TaskGroupObj : NativeObj {
  using NativeObj::NativeObj;
  aio::TaskGroup* group = nullptr;
  bool entered = false;
  bool is_async_scope() const override { return true; }
  std::string repr(Interpreter&) override { return group ? "<TaskGroup entered>" : "<TaskGroup>"; }
  aio::Coro<int> run_scope(Interpreter* in, Value self, std::function<void(Value)>* enter,
                           std::function<aio::Coro<int>()>* body) override;
};

aio::Coro<int> TaskGroupObj::run_scope(Interpreter* in, Value self, std::function<void(Value)>* enter,
                                       std::function<aio::Coro<int>()>* body) {
  if (entered) in->raise("RuntimeError", "TaskGroup " + repr(*in) + " has already been entered");
  entered = true;
  TaskGroupObj* obj = this;
  auto scope = [obj, self_ptr = self.obj(), enter, body](aio::TaskGroup& group) -> aio::Coro<int> {
    obj->group = &group;
    (*enter)(Value(self_ptr));
    co_return co_await (*body)();
  };
  int flow = 0;
  try {
    flow = co_await aio::task_group(std::move(scope));
  } catch (...) {
    obj->group = nullptr;
    throw;
  }
  obj->group = nullptr;
  co_return flow;
}

// Locks, semaphores and conditions as `async with` scopes.
template <class Primitive>
struct PrimitiveObj : NativeObj {
  template <class... A>
  explicit PrimitiveObj(TypeObj* type, A&&... args) : NativeObj(type), p(std::forward<A>(args)...) {}
  Primitive p;
  bool is_async_scope() const override { return true; }
  std::string repr(Interpreter&) override;
  aio::Coro<int> run_scope(Interpreter*, Value, std::function<void(Value)>* enter,
                           std::function<aio::Coro<int>()>* body) override {
    co_await p.acquire();
    int flow = 0;
    try {
      (*enter)(Value());
      flow = co_await (*body)();
    } catch (...) {
      p.release();
      throw;
    }
    p.release();
    co_return flow;
  }
};
template <>
std::string PrimitiveObj<aio::Lock>::repr(Interpreter&) {
  return std::string("<asyncio.locks.Lock object at ") + address_of(this) + " [" + (p.locked() ? "locked" : "unlocked") + "]>";
}
template <>
std::string PrimitiveObj<aio::Semaphore>::repr(Interpreter&) {
  return std::string("<asyncio.locks.Semaphore object at ") + address_of(this) + " [" +
         (p.locked() ? "locked" : "unlocked, value:" + std::to_string(p.value())) + "]>";
}
template <>
std::string PrimitiveObj<aio::BoundedSemaphore>::repr(Interpreter&) {
  return std::string("<asyncio.locks.BoundedSemaphore object at ") + address_of(this) + " [" +
         (p.locked() ? "locked" : "unlocked, value:" + std::to_string(p.value())) + "]>";
}
template <>
std::string PrimitiveObj<aio::Condition>::repr(Interpreter&) {
  return std::string("<asyncio.locks.Condition object at ") + address_of(this) + " [" + (p.locked() ? "locked" : "unlocked") + "]>";
}
using LockObj = PrimitiveObj<aio::Lock>;
using SemaphoreObj = PrimitiveObj<aio::Semaphore>;
using BoundedSemaphoreObj = PrimitiveObj<aio::BoundedSemaphore>;
using ConditionObj = PrimitiveObj<aio::Condition>;

struct EventObj : NativeObj {
  using NativeObj::NativeObj;
  aio::Event event;
  std::string repr(Interpreter&) override {
    return std::string("<asyncio.locks.Event object at ") + address_of(this) + " [" + (event.is_set() ? "set" : "unset") + "]>";
  }
};

struct BarrierObj : NativeObj {
  BarrierObj(TypeObj* type, long parties) : NativeObj(type), barrier(parties) {}
  aio::Barrier barrier;
};

// The priority queue orders Values with the interpreter's `<`.
struct ValueLess {
  bool operator()(const Value& a, const Value& b) const { return current_interpreter->less(a, b); }
};

struct QueueBase : NativeObj {
  using NativeObj::NativeObj;
  virtual std::size_t qsize() const = 0;
  virtual std::size_t maxsize() const = 0;
  virtual bool full() const = 0;
  virtual void put_nowait(Value v) = 0;
  virtual Value get_nowait() = 0;
  virtual void task_done() = 0;
  virtual void shutdown(bool immediate) = 0;
  virtual aio::Coro<Value> put(Value v) = 0;
  virtual aio::Coro<Value> get() = 0;
  virtual aio::Coro<Value> join() = 0;
  std::string kind;
  std::string repr(Interpreter&) override {
    return "<" + kind + " at " + address_of(this) + " maxsize=" + std::to_string(maxsize()) +
           (qsize() ? " _queue=[...] tasks=" + std::to_string(qsize()) : "") + ">";
  }
};

template <class Q>
struct QueueObj final : QueueBase {
  QueueObj(TypeObj* type, std::ptrdiff_t maxsize, std::string name) : QueueBase(type), q(maxsize) { kind = std::move(name); }
  Q q;
  std::size_t qsize() const override { return q.qsize(); }
  std::size_t maxsize() const override { return q.maxsize(); }
  bool full() const override { return q.full(); }
  void put_nowait(Value v) override { q.put_nowait(std::move(v)); }
  Value get_nowait() override { return q.get_nowait(); }
  void task_done() override { q.task_done(); }
  void shutdown(bool immediate) override { q.shutdown(immediate); }
  aio::Coro<Value> put(Value v) override {
    co_await q.put(std::move(v));
    co_return Value();
  }
  aio::Coro<Value> get() override { co_return co_await q.get(); }
  aio::Coro<Value> join() override {
    co_await q.join();
    co_return Value();
  }
  void clear() override { q.shutdown(true); }
};

aio::Coro<Value> queue_put(Value self, Value item) { co_return co_await self.as<QueueBase>()->put(std::move(item)); }
aio::Coro<Value> queue_get(Value self) { co_return co_await self.as<QueueBase>()->get(); }
aio::Coro<Value> queue_join(Value self) { co_return co_await self.as<QueueBase>()->join(); }

struct ReaderObj : NativeObj {
  ReaderObj(TypeObj* type, aio::StreamReader reader) : NativeObj(type), reader(std::move(reader)) {}
  aio::StreamReader reader;
  std::string repr(Interpreter&) override { return "<StreamReader" + std::string(reader.at_eof() ? " eof" : "") + ">"; }
};
struct WriterObj : NativeObj {
  WriterObj(TypeObj* type, aio::StreamWriter writer) : NativeObj(type), writer(std::move(writer)) {}
  aio::StreamWriter writer;
  std::string repr(Interpreter&) override { return "<StreamWriter>"; }
};
struct ServerObj : NativeObj {
  ServerObj(TypeObj* type, aio::Server server) : NativeObj(type), server(std::move(server)) {}
  aio::Server server;
  bool is_async_scope() const override { return true; }
  std::string repr(Interpreter&) override { return "<Server sockets=(...)>"; }
  aio::Coro<int> run_scope(Interpreter*, Value self, std::function<void(Value)>* enter,
                           std::function<aio::Coro<int>()>* body) override {
    int flow = 0;
    std::exception_ptr error;
    try {
      (*enter)(self);
      flow = co_await (*body)();
    } catch (...) {
      error = std::current_exception();
    }
    server.close();
    co_await server.wait_closed();
    if (error) std::rethrow_exception(error);
    co_return flow;
  }
};
struct SocketObj : NativeObj {
  SocketObj(TypeObj* type, aio::SocketAddress address) : NativeObj(type), address(address) {}
  aio::SocketAddress address;
  std::string repr(Interpreter&) override { return "<asyncio.TransportSocket laddr=" + address.to_string() + ">"; }
};
struct ProcessObj : NativeObj {
  ProcessObj(TypeObj* type, aio::Process process) : NativeObj(type), process(std::move(process)) {}
  aio::Process process;
  Value std_in, std_out, std_err;
  std::string repr(Interpreter&) override { return "<Process " + std::to_string(process.pid()) + ">"; }
  void clear() override { std_in = std_out = std_err = Value(); }
};
struct TransportObj : NativeObj {
  TransportObj(TypeObj* type, std::shared_ptr<aio::Transport> transport) : NativeObj(type), transport(std::move(transport)) {}
  std::shared_ptr<aio::Transport> transport;
  std::string repr(Interpreter&) override { return "<_SelectorSocketTransport>"; }
  void clear() override { transport.reset(); }
};

// An aio::Protocol whose callbacks are the methods of a REPL object (a
// subclass of asyncio.Protocol): aio's transports call the program.
class ReplProtocol final : public aio::Protocol {
 public:
  ReplProtocol(Interpreter* in, Value instance, TypeObj* transport_type)
      : in_(in), instance_(std::move(instance)), transport_type_(transport_type) {}
  const Value& instance() const { return instance_; }
  void connection_made(std::shared_ptr<aio::Transport> transport) override {
    invoke("connection_made", Value(new TransportObj(transport_type_, std::move(transport))));
  }
  void data_received(std::string_view data) override { invoke("data_received", in_->bytes_value(std::string(data))); }
  bool eof_received() override { return in_->truthy(invoke("eof_received", Value::undef())); }
  void connection_lost(std::exception_ptr error) override {
    invoke("connection_lost", error ? in_->exception_from(error) : Value());
  }
  void pause_writing() override { invoke("pause_writing", Value::undef()); }
  void resume_writing() override { invoke("resume_writing", Value::undef()); }

 private:
  Value invoke(const char* method, Value argument) {
    try {
      if (!in_->hasattr(instance_, method)) return Value();
      CallArgs a;
      if (!argument.is_undef()) a.pos.push_back(std::move(argument));
      return in_->call(in_->getattr(instance_, method), a);
    } catch (...) {
      report_callback_error(*in_, std::string("Exception in protocol callback ") + method + "()");
      return Value();
    }
  }
  Interpreter* in_;
  Value instance_;
  TypeObj* transport_type_;
};

struct AsCompletedObj : NativeObj {
  using NativeObj::NativeObj;
  std::unique_ptr<aio::AsCompleted<Value>> iterator;
  std::vector<Value> originals;
  std::size_t handed_out = 0;
};

Value address_tuple(Interpreter& in, const aio::SocketAddress& a) {
  std::vector<Value> parts;
  if (a.family() == AF_UNIX) return in.str_value(a.host());
  parts.push_back(in.str_value(a.host()));
  parts.push_back(Value::integer(a.port()));
  return in.tuple_value(std::move(parts));
}

Value bytes_arg(Interpreter& in, const Value& v, const char* what) {
  if (in.type_of(v) != in.t.bytes) {
    in.raise("TypeError", std::string(what) + ": data should be a bytes-like object, not '" + in.type_of(v)->name + "'");
  }
  return v;
}

struct Types2 {
  TypeObj *loop, *handle, *timeout, *task_group, *lock, *semaphore, *bounded_semaphore, *condition, *event, *barrier,
      *queue, *reader, *writer, *server, *socket, *process, *as_completed, *transport, *protocol;
};
Types2 nt;

Value new_reader(Interpreter&, aio::StreamReader reader) { return Value(new ReaderObj(nt.reader, std::move(reader))); }
Value new_writer(Interpreter&, aio::StreamWriter writer) { return Value(new WriterObj(nt.writer, std::move(writer))); }

aio::Coro<Value> open_connection_coro(Interpreter* in, std::string host, std::uint16_t port) {
  aio::Streams streams = co_await aio::open_connection(host, port);
  std::vector<Value> pair;
  pair.push_back(new_reader(*in, std::move(streams.reader)));
  pair.push_back(new_writer(*in, std::move(streams.writer)));
  co_return in->tuple_value(std::move(pair));
}
aio::Coro<Value> open_unix_connection_coro(Interpreter* in, std::string path) {
  aio::Streams streams = co_await aio::open_unix_connection(path);
  std::vector<Value> pair;
  pair.push_back(new_reader(*in, std::move(streams.reader)));
  pair.push_back(new_writer(*in, std::move(streams.writer)));
  co_return in->tuple_value(std::move(pair));
}

aio::Coro<void> run_client_handler(Interpreter* in, Value handler, aio::StreamReader reader, aio::StreamWriter writer) {
  CallArgs args;
  args.pos.push_back(new_reader(*in, std::move(reader)));
  args.pos.push_back(new_writer(*in, std::move(writer)));
  Value result = in->call(handler, args);
  if (in->is_awaitable(result)) co_await in->await_value(std::move(result));
}

aio::ClientConnected client_handler(Interpreter* in, Value handler) {
  return [in, handler](aio::StreamReader reader, aio::StreamWriter writer) -> aio::Coro<void> {
    return run_client_handler(in, handler, std::move(reader), std::move(writer));
  };
}

aio::Coro<Value> start_server_coro(Interpreter* in, Value handler, std::string host, std::uint16_t port) {
  aio::ClientConnected callback = client_handler(in, handler);
  aio::Server server = co_await aio::start_server(std::move(callback), host, port);
  co_return Value(new ServerObj(nt.server, std::move(server)));
}
aio::Coro<Value> start_unix_server_coro(Interpreter* in, Value handler, std::string path) {
  aio::ClientConnected callback = client_handler(in, handler);
  aio::Server server = co_await aio::start_unix_server(std::move(callback), path);
  co_return Value(new ServerObj(nt.server, std::move(server)));
}

aio::ProtocolFactory protocol_factory(Interpreter* in, Value factory) {
  return [in, factory]() -> std::shared_ptr<aio::BaseProtocol> {
    Value instance = in->call0(factory);
    return std::make_shared<ReplProtocol>(in, std::move(instance), nt.transport);
  };
}

aio::Coro<Value> create_server_coro(Interpreter* in, Value factory, std::string host, std::uint16_t port) {
  aio::ProtocolFactory make = protocol_factory(in, factory);
  aio::Server server = co_await aio::create_server(std::move(make), host, port);
  co_return Value(new ServerObj(nt.server, std::move(server)));
}

aio::Coro<Value> create_connection_coro(Interpreter* in, Value factory, std::string host, std::uint16_t port) {
  aio::ProtocolFactory make = protocol_factory(in, factory);
  aio::Connection<aio::BaseProtocol> connection = co_await aio::create_connection(std::move(make), host, port);
  auto* protocol = static_cast<ReplProtocol*>(connection.protocol.get());
  std::vector<Value> pair;
  pair.push_back(Value(new TransportObj(nt.transport, connection.transport)));
  pair.push_back(protocol->instance());
  co_return in->tuple_value(std::move(pair));
}

aio::Stdio stdio_of(Interpreter& in, const Value& v, const char* what) {
  if (v.is_none()) return aio::Stdio::inherit();
  std::int64_t code = in.to_int(v, what);
  if (code == -1) return aio::subprocess::PIPE;
  if (code == -2) return aio::subprocess::STDOUT;
  if (code == -3) return aio::subprocess::DEVNULL;
  if (code >= 0) return aio::Stdio::from_fd(static_cast<int>(code));
  in.raise("ValueError", std::string(what) + ": expected PIPE, STDOUT, DEVNULL, None or a file descriptor");
}

Value wrap_process(Interpreter& in, aio::Process process) {
  auto* p = new ProcessObj(nt.process, std::move(process));
  Value v(p);
  if (p->process.std_in()) p->std_in = new_writer(in, *p->process.std_in());
  if (p->process.std_out()) p->std_out = new_reader(in, *p->process.std_out());
  if (p->process.std_err()) p->std_err = new_reader(in, *p->process.std_err());
  return v;
}

aio::Coro<Value> exec_coro(Interpreter* in, std::string program, std::vector<std::string> args, aio::SubprocessOptions options) {
  aio::Process process = co_await aio::create_subprocess_exec(program, args, options);
  co_return wrap_process(*in, std::move(process));
}
aio::Coro<Value> shell_coro(Interpreter* in, std::string command, aio::SubprocessOptions options) {
  aio::Process process = co_await aio::create_subprocess_shell(command, options);
  co_return wrap_process(*in, std::move(process));
}

aio::SubprocessOptions subprocess_options(Interpreter& in, CallArgs& a) {
  aio::SubprocessOptions options;
  for (auto& [k, v] : a.kw) {
    if (k == "stdin") options.std_in = stdio_of(in, v, "stdin");
    else if (k == "stdout") options.std_out = stdio_of(in, v, "stdout");
    else if (k == "stderr") options.std_err = stdio_of(in, v, "stderr");
    else if (k == "cwd") { if (!v.is_none()) options.cwd = in.to_str(v, "cwd"); }
    else if (k == "limit") options.limit = static_cast<std::size_t>(in.to_int(v, "limit"));
    else if (k == "env") {
      if (!v.is_none()) {
        std::map<std::string, std::string> env;
        for (auto& e : v.as<DictObj>()->entries) if (!e.key.is_undef()) env[in.str(e.key)] = in.str(e.value);
        options.env = std::move(env);
      }
    } else if (k == "start_new_session") options.start_new_session = in.truthy(v);
    else in.raise("TypeError", "create_subprocess: unexpected keyword argument '" + k + "' (not supported by the aio REPL)");
  }
  return options;
}

std::string text_of(Interpreter& in, const Value& v, const char* what) {
  TypeObj* type = in.type_of(v);
  if (type == in.t.str) return v.as<StrObj>()->s;
  if (type == in.t.bytes) return v.as<BytesObj>()->s;
  in.raise("TypeError", std::string(what) + ": expected str or bytes, not " + type->name);
}

std::uint16_t port_of(Interpreter& in, const Value& v) {
  std::int64_t port = v.is_none() ? 0 : in.to_int(v, "port");
  if (port < 0 || port > 65535) in.raise("OverflowError", "bind(): port must be 0-65535.");
  return static_cast<std::uint16_t>(port);
}

void install_asyncio_exceptions(Interpreter& in, ModuleObj* m) {
  TypeObj* cancelled = in.add_exception("CancelledError", in.exception_type("BaseException"), "asyncio.exceptions");
  cancelled->help = "aio::CancelledError — docs/async.md#cancellation";
  in.add_exception("InvalidStateError", in.exception_type("Exception"), "asyncio.exceptions")->help = "aio::InvalidStateError — async/errors.h";
  TypeObj* incomplete = in.add_exception("IncompleteReadError", in.exception_type("EOFError"), "asyncio.exceptions");
  incomplete->help = "aio::IncompleteReadError (partial, expected) — docs/streams.md#asyncio--aio";
  in.add_exception("LimitOverrunError", in.exception_type("Exception"), "asyncio.exceptions")->help = "aio::LimitOverrunError — docs/streams.md#asyncio--aio";
  in.add_exception("QueueEmpty", in.exception_type("Exception"), "asyncio.queues")->help = "aio::QueueEmpty — docs/queues.md#asyncio--aio";
  in.add_exception("QueueFull", in.exception_type("Exception"), "asyncio.queues")->help = "aio::QueueFull — docs/queues.md#asyncio--aio";
  in.add_exception("QueueShutDown", in.exception_type("Exception"), "asyncio.queues")->help = "aio::QueueShutDown — docs/queues.md#asyncio--aio";
  in.add_exception("BrokenBarrierError", in.exception_type("RuntimeError"), "asyncio.exceptions")->help = "aio::BrokenBarrierError — docs/sync.md";
  in.add_exception("SendfileNotAvailableError", in.exception_type("RuntimeError"), "asyncio.exceptions");
  for (const char* name : {"CancelledError", "InvalidStateError", "IncompleteReadError", "LimitOverrunError", "QueueEmpty",
                           "QueueFull", "QueueShutDown", "BrokenBarrierError", "SendfileNotAvailableError"}) {
    m->attrs[name] = Value(in.exception_type(name));
  }
  m->attrs["TimeoutError"] = Value(in.exception_type("TimeoutError"));
}

}  // namespace

// ---- awaiting -------------------------------------------------------------------

bool Interpreter::is_awaitable(const Value& v) const {
  if (!v.is_obj()) return false;
  TypeObj* type = type_of(v);
  return type == t.coroutine || type == t.native_coroutine || type == t.task || type == t.future ||
         (type->user_defined && type->lookup("__await__"));
}

std::string Interpreter::coroutine_name(const Value& v) const {
  if (!v.is_obj()) return "?";
  TypeObj* type = type_of(v);
  if (type == t.coroutine) return v.as<CoroutineObj>()->name;
  if (type == t.native_coroutine) return v.as<NativeCoroObj>()->name;
  if (type == t.task) return v.as<TaskObj>()->coro_name;
  return type->name;
}

aio::Coro<Value> Interpreter::await_value(Value awaitable) {
  TypeObj* type = type_of(awaitable);
  if (type == t.coroutine) co_return co_await run_coroutine(this, std::move(awaitable));
  if (type == t.native_coroutine) {
    auto* n = awaitable.as<NativeCoroObj>();
    if (n->started) raise("RuntimeError", "cannot reuse already awaited coroutine");
    n->started = true;
    aio::Coro<Value> coro = n->start();
    co_return co_await std::move(coro);
  }
  if (type == t.task) {
    auto* task = awaitable.as<TaskObj>();
    if (!task->task.valid()) raise("TypeError", "this task is not awaitable from the REPL");
    aio::Task<Value> handle = task->task;
    co_return co_await handle;
  }
  if (type == t.future) {
    aio::Future<Value> future = awaitable.as<FutureObj>()->future;
    co_return co_await future;
  }
  raise("TypeError", "object " + type->name + " can't be used in 'await' expression");
}

aio::Coro<Value> Interpreter::coroutine_for_task(const Value& awaitable, const char* caller) {
  TypeObj* type = type_of(awaitable);
  if (type == t.coroutine || type == t.native_coroutine) {
    bool started = type == t.coroutine ? awaitable.as<CoroutineObj>()->started : awaitable.as<NativeCoroObj>()->started;
    if (started) raise("RuntimeError", "cannot reuse already awaited coroutine");
    return await_value(awaitable);
  }
  (void)caller;
  raise("TypeError", "a coroutine was expected, got " + repr(awaitable));
}

// asyncio.capture_call_graph's `limit`: keep |limit| entries of each call
// stack (innermost first): the first ones for limit > 0, the last for < 0.
static void limit_call_stacks(aio::FutureCallGraph& graph, const std::optional<std::int64_t>& limit) {
  if (limit) {
    std::vector<std::string>& stack = graph.call_stack;
    const std::size_t keep = static_cast<std::size_t>(*limit < 0 ? -*limit : *limit);
    if (keep < stack.size()) {
      if (*limit >= 0) {
        stack.erase(stack.begin() + static_cast<std::ptrdiff_t>(keep), stack.end());
      } else {
        stack.erase(stack.begin(), stack.end() - static_cast<std::ptrdiff_t>(keep));
      }
    }
  }
  for (aio::FutureCallGraph& parent : graph.awaited_by) limit_call_stacks(parent, limit);
}

// A FutureCallGraph object: future (the task), call_stack (a tuple of str),
// awaited_by (a tuple of FutureCallGraph).
static Value call_graph_value(Interpreter& in, TypeObj* type, const aio::FutureCallGraph& graph) {
  auto* object = new InstanceObj(type);
  Value result(object);
  object->attrs["future"] = task_value(in, graph.task);
  std::vector<Value> stack;
  for (const std::string& entry : graph.call_stack) stack.push_back(in.str_value(entry));
  object->attrs["call_stack"] = in.tuple_value(std::move(stack));
  std::vector<Value> parents;
  for (const aio::FutureCallGraph& parent : graph.awaited_by) parents.push_back(call_graph_value(in, type, parent));
  object->attrs["awaited_by"] = in.tuple_value(std::move(parents));
  return result;
}

void install_asyncio(Interpreter& in) {
  current_interpreter = &in;
  // Tasks know their age in the task table (`.tasks`); an interpreter can
  // afford the clock read per create_task that aio leaves off by default.
  aio::record_task_creation_times(true);
  auto* m = new ModuleObj("asyncio");
  m->type = in.t.module;
  Value module(m);
  in.modules["asyncio"] = module;
  auto& A = m->attrs;
  A["__doc__"] = in.str_value("asyncio, run by aio: every name is bound to aio's C++ API — docs/repl.md");
  auto def = [&](const std::string& name, NativeFn fn, const std::string& help) {
    A[name] = in.builtin(name, std::move(fn), help);
  };
  install_asyncio_exceptions(in, m);
  in.t.task->help = "aio::Task<T> (cancel, cancelled, cancelling, uncancel, done, result, exception, get_name, set_name, add_done_callback) — docs/async.md#tasks-aiocreate_task";
  in.t.future->help = "aio::Future<T> — docs/async.md#futures-aiofuturet";
  A["Task"] = Value(in.t.task);
  A["Future"] = Value(in.t.future);

  def("run", [](Interpreter& in, CallArgs& a) -> Value {
    Value coro = in.arg(a, 0, "main", "run");
    if (in.in_asyncio_run) in.raise("RuntimeError", "asyncio.run() cannot be called from a running event loop");
    TypeObj* type = in.type_of(coro);
    if (type != in.t.coroutine && type != in.t.native_coroutine) in.raise("ValueError", "a coroutine was expected, got " + in.repr(coro));
    aio::RunOptions options;
    options.virtual_time = in.options.virtual_time;
    Value debug = in.arg(a, 1, "debug", "run", Value());
    if (!debug.is_none()) options.debug = in.truthy(debug);
    in.in_asyncio_run = true;
    struct Reset { Interpreter& in; ~Reset() { in.in_asyncio_run = false; } } reset{in};
    aio::Coro<Value> main = in.coroutine_for_task(coro, "run");
    try {
      return aio::run(std::move(main), options);
    } catch (const aio::KeyboardInterrupt&) {
      in.throw_exception(in.new_exception(in.exception_type("KeyboardInterrupt"), {}));
    }
  }, "aio::run(Coro<T>, RunOptions) — docs/async.md#running-a-program-aiorun");

  def("sleep", [](Interpreter& in, CallArgs& a) -> Value {
    std::optional<aio::Duration> delay = in.to_duration(in.arg(a, 0, "delay", "sleep"), "sleep()");
    Value result = in.arg(a, 1, "result", "sleep", Value());
    aio::Duration d = *delay;
    return in.native_coro("sleep", [d, result] { return sleep_coro(d, result); });
  }, "aio::sleep(duration) / aio::sleep(duration, T result) — docs/async.md#coroutines-aiocorot");

  def("create_task", [](Interpreter& in, CallArgs& a) -> Value {
    Value coro = in.arg(a, 0, "coro", "create_task");
    Value name = in.arg(a, 1, "name", "create_task", Value());
    aio::EventLoop& loop = running_loop(in);
    aio::Coro<Value> c = in.coroutine_for_task(coro, "create_task");
    aio::TaskOptions options;
    if (!name.is_none()) options.name = in.str(name);
    return make_task(in, aio::create_task(loop, std::move(c), options), coro);
  }, "aio::create_task(Coro<T>, name) -> aio::Task<T> — docs/async.md#tasks-aiocreate_task");
  A["ensure_future"] = A["create_task"];

  def("current_task", [](Interpreter& in, CallArgs&) -> Value {
    running_loop(in);
    std::optional<aio::AnyTask> task = aio::current_task();
    if (!task) return Value();
    return task_value(in, *task);
  }, "aio::current_task() -> std::optional<aio::AnyTask> — docs/async.md#tasks-aiocreate_task");

  def("all_tasks", [](Interpreter& in, CallArgs&) -> Value {
    running_loop(in);
    Value out = new_set(in);
    for (const aio::AnyTask& task : aio::all_tasks()) set_add(in, out, task_value(in, task));
    return out;
  }, "aio::all_tasks() -> std::vector<aio::AnyTask> — docs/async.md#tasks-aiocreate_task");

  // Python 3.14's call graph functions (asyncio/graph.py) over aio::capture_call_graph.
  // A call stack entry is what the task is suspended on ("Queue.get"), a str:
  // C++ coroutines have no frames to show. `depth` is accepted and ignored
  // (it skips Python frames of the current task).
  TypeObj* call_graph_type = native_type(in, "FutureCallGraph", "asyncio.graph",
                                         "aio::FutureCallGraph (future, call_stack, awaited_by) — docs/async.md#call-graphs-aiocapture_call_graph");
  A["FutureCallGraph"] = Value(call_graph_type);
  struct GraphArgs {
    std::optional<aio::AnyTask> task;  // empty: no current task
    std::optional<std::int64_t> limit;
  };
  auto graph_args = [](Interpreter& in, CallArgs& a, const char* function, bool with_file) {
    for (auto& [k, v] : a.kw) {
      if (k != "depth" && k != "limit" && !(with_file && k == "file")) {
        in.raise("TypeError", std::string(function) + "() got an unexpected keyword argument '" + k + "'");
      }
    }
    if (a.pos.size() > 1) in.raise("TypeError", std::string(function) + "() takes at most 1 positional argument");
    running_loop(in);
    GraphArgs out;
    for (auto& [k, v] : a.kw) {
      if (k == "limit" && !v.is_none()) out.limit = in.to_int(v, "limit must be an int or None");
    }
    Value future = a.pos.empty() ? Value() : a.pos[0];
    if (future.is_none()) {
      out.task = aio::current_task();
    } else {
      if (!future.is_obj() || in.type_of(future) != in.t.task) {
        in.raise("TypeError", in.repr(future) + " object does not appear to be compatible with asyncio.Future");
      }
      auto* t = future.as<TaskObj>();
      out.task = t->task.valid() ? aio::AnyTask(t->task) : *t->any;
      if (out.task->done()) in.raise("InvalidStateError", "capture_call_graph: " + out.task->get_name() + " is done");
    }
    return out;
  };
  auto capture = [graph_args](Interpreter& in, CallArgs& a, const char* function,
                              bool with_file) -> std::optional<aio::FutureCallGraph> {
    GraphArgs args = graph_args(in, a, function, with_file);
    if (!args.task) return std::nullopt;
    aio::FutureCallGraph graph = aio::capture_call_graph(*args.task);
    limit_call_stacks(graph, args.limit);
    return graph;
  };
  auto graph_value = [call_graph_type](Interpreter& in, const aio::FutureCallGraph& graph) {
    return call_graph_value(in, call_graph_type, graph);
  };
  def("capture_call_graph", [capture, graph_value](Interpreter& in, CallArgs& a) -> Value {
    std::optional<aio::FutureCallGraph> graph = capture(in, a, "capture_call_graph", false);
    return graph ? graph_value(in, *graph) : Value();
  }, "aio::capture_call_graph(AnyTask) -> aio::FutureCallGraph — docs/async.md#call-graphs-aiocapture_call_graph");
  def("format_call_graph", [capture](Interpreter& in, CallArgs& a) -> Value {
    std::optional<aio::FutureCallGraph> graph = capture(in, a, "format_call_graph", false);
    return in.str_value(graph ? aio::format_call_graph(*graph) : std::string());
  }, "aio::format_call_graph(AnyTask) -> std::string — docs/async.md#call-graphs-aiocapture_call_graph");
  def("print_call_graph", [capture](Interpreter& in, CallArgs& a) -> Value {
    Value file;
    for (auto& [k, v] : a.kw) {
      if (k == "file") file = v;
    }
    std::optional<aio::FutureCallGraph> graph = capture(in, a, "print_call_graph", true);
    std::string text = (graph ? aio::format_call_graph(*graph) : std::string()) + "\n";
    if (file.is_none()) {
      std::fwrite(text.data(), 1, text.size(), stdout);
    } else {
      CallArgs write;
      write.pos.push_back(in.str_value(text));
      in.call(in.getattr(file, "write"), write);
    }
    return Value();
  }, "aio::print_call_graph(AnyTask) — docs/async.md#call-graphs-aiocapture_call_graph");

  def("gather", [](Interpreter& in, CallArgs& a) -> Value {
    bool return_exceptions = false;
    for (auto& [k, v] : a.kw) {
      if (k == "return_exceptions") return_exceptions = in.truthy(v);
      else in.raise("TypeError", "gather() got an unexpected keyword argument '" + k + "'");
    }
    std::vector<aio::Task<Value>> tasks;
    for (const Value& aw : a.pos) tasks.push_back(ensure_task(in, aw, "gather"));
    Interpreter* self = &in;
    return in.native_coro("gather", [self, tasks, return_exceptions] { return gather_coro(self, tasks, return_exceptions); });
  }, "aio::gather(std::vector<Task<T>>) / aio::gather(aio::return_exceptions, ...) — docs/async.md#gather-shield-wait-as_completed");

  def("wait_for", [](Interpreter& in, CallArgs& a) -> Value {
    Value aw = in.arg(a, 0, "fut", "wait_for");
    std::optional<aio::Duration> delay = in.to_duration(in.arg(a, 1, "timeout", "wait_for"), "wait_for()");
    if (in.type_of(aw) == in.t.task) {
      aio::Task<Value> task = ensure_task(in, aw, "wait_for");
      return in.native_coro("wait_for", [task, delay] { return wait_for_task(task, delay); });
    }
    aio::Task<Value> task = ensure_task(in, aw, "wait_for");
    return in.native_coro("wait_for", [task, delay] { return wait_for_task(task, delay); });
  }, "aio::wait_for(Awaitable, duration) — docs/async.md#the-timeout-object-and-wait_for");

  def("shield", [](Interpreter& in, CallArgs& a) -> Value {
    aio::Task<Value> task = ensure_task(in, in.arg(a, 0, "arg", "shield"), "shield");
    return in.native_coro("shield", [task] { return shield_coro(task); });
  }, "aio::shield(Task<T>) — docs/async.md#gather-shield-wait-as_completed");

  A["FIRST_COMPLETED"] = in.str_value("FIRST_COMPLETED");
  A["FIRST_EXCEPTION"] = in.str_value("FIRST_EXCEPTION");
  A["ALL_COMPLETED"] = in.str_value("ALL_COMPLETED");
  def("wait", [](Interpreter& in, CallArgs& a) -> Value {
    Value aws = in.arg(a, 0, "fs", "wait");
    std::optional<aio::Duration> timeout = in.to_duration(in.arg(a, 1, "timeout", "wait", Value()), "wait()");
    std::string when = in.str(in.arg(a, 2, "return_when", "wait", in.str_value("ALL_COMPLETED")));
    aio::ReturnWhen rw = aio::ALL_COMPLETED;
    if (when == "FIRST_COMPLETED") rw = aio::FIRST_COMPLETED;
    else if (when == "FIRST_EXCEPTION") rw = aio::FIRST_EXCEPTION;
    else if (when != "ALL_COMPLETED") in.raise("ValueError", "Invalid return_when value: " + when);
    std::vector<Value> originals = in.to_vector(aws);
    if (originals.empty()) in.raise("ValueError", "Set of Tasks/Futures is empty.");
    std::vector<aio::Task<Value>> tasks;
    for (const Value& t : originals) {
      if (in.type_of(t) != in.t.task) {
        in.raise("TypeError", in.type_of(t) == in.t.coroutine || in.type_of(t) == in.t.native_coroutine
                                  ? "Passing coroutines is forbidden, use tasks explicitly."
                                  : "wait(): expected Tasks, got " + in.type_of(t)->name);
      }
      tasks.push_back(ensure_task(in, t, "wait"));
    }
    Interpreter* self = &in;
    return in.native_coro("wait", [self, originals, tasks, rw, timeout] { return wait_coro(self, originals, tasks, rw, timeout); });
  }, "aio::wait(std::vector<Task<T>>, ReturnWhen, timeout) -> WaitResult{done, pending} — docs/async.md#gather-shield-wait-as_completed");

  def("as_completed", [](Interpreter& in, CallArgs& a) -> Value {
    std::vector<Value> items = in.to_vector(in.arg(a, 0, "fs", "as_completed"));
    std::optional<aio::Duration> timeout = in.to_duration(in.arg(a, 1, "timeout", "as_completed", Value()), "as_completed()");
    auto* obj = new AsCompletedObj(nt.as_completed);
    Value v(obj);
    std::vector<aio::Task<Value>> tasks;
    for (const Value& item : items) {
      aio::Task<Value> task = ensure_task(in, item, "as_completed");
      obj->originals.push_back(in.type_of(item) == in.t.task ? item : make_task(in, task, item));
      tasks.push_back(task);
    }
    obj->iterator = std::make_unique<aio::AsCompleted<Value>>(std::move(tasks), timeout);
    return v;
  }, "aio::AsCompleted<T>(std::vector<Task<T>>, timeout).next() — docs/async.md#gather-shield-wait-as_completed");

  def("timeout", [](Interpreter& in, CallArgs& a) -> Value {
    std::optional<aio::Duration> delay = in.to_duration(in.arg(a, 0, "delay", "timeout"), "timeout()");
    return Value(new TimeoutObj(nt.timeout, delay, std::nullopt, false));
  }, "aio::timeout(duration, body(aio::Timeout&)) — docs/async.md#timeouts-aiotimeout");
  def("timeout_at", [](Interpreter& in, CallArgs& a) -> Value {
    Value when = in.arg(a, 0, "when", "timeout_at");
    std::optional<aio::TimePoint> at;
    if (!when.is_none()) at = time_point_of(in.to_float(when, "timeout_at()"));
    return Value(new TimeoutObj(nt.timeout, std::nullopt, at, true));
  }, "aio::timeout_at(TimePoint, body(aio::Timeout&)) — docs/async.md#timeouts-aiotimeout");

  def("TaskGroup", [](Interpreter&, CallArgs&) -> Value { return Value(new TaskGroupObj(nt.task_group)); },
      "aio::task_group([](aio::TaskGroup&) -> Coro<T>) — docs/async.md#structured-concurrency-task_group");

  def("get_running_loop", [](Interpreter& in, CallArgs&) -> Value {
    running_loop(in);
    return Value(new LoopObj(nt.loop));
  }, "aio::get_running_loop() -> aio::EventLoop& — docs/async.md#the-event-loop-aioeventloop");
  A["get_event_loop"] = A["get_running_loop"];

  def("iscoroutine", [](Interpreter& in, CallArgs& a) {
    TypeObj* type = in.type_of(in.arg(a, 0, "obj", "iscoroutine"));
    return Value::boolean(type == in.t.coroutine || type == in.t.native_coroutine);
  }, "a coroutine object: an aio::Coro<Value> not started yet");
  def("iscoroutinefunction", [](Interpreter& in, CallArgs& a) {
    const Value& f = in.arg(a, 0, "func", "iscoroutinefunction");
    return Value::boolean(in.type_of(f) == in.t.function && f.as<FunctionObj>()->def->is_async);
  }, "an `async def` function");
  def("isfuture", [](Interpreter& in, CallArgs& a) {
    TypeObj* type = in.type_of(in.arg(a, 0, "obj", "isfuture"));
    return Value::boolean(type == in.t.task || type == in.t.future);
  }, "aio::Future<T> or aio::Task<T>");

  def("Event", [](Interpreter&, CallArgs&) -> Value { return Value(new EventObj(nt.event)); }, "aio::Event — docs/sync.md#asyncio--aio");
  def("Lock", [](Interpreter&, CallArgs&) -> Value { return Value(new LockObj(nt.lock)); }, "aio::Lock — docs/sync.md#asyncio--aio");
  def("Semaphore", [](Interpreter& in, CallArgs& a) -> Value {
    std::int64_t value = in.to_int(in.arg(a, 0, "value", "Semaphore", Value::integer(1)), "Semaphore");
    if (value < 0) in.raise("ValueError", "Semaphore initial value must be >= 0");
    return Value(new SemaphoreObj(nt.semaphore, static_cast<long>(value)));
  }, "aio::Semaphore(long) — docs/sync.md#asyncio--aio");
  def("BoundedSemaphore", [](Interpreter& in, CallArgs& a) -> Value {
    std::int64_t value = in.to_int(in.arg(a, 0, "value", "BoundedSemaphore", Value::integer(1)), "BoundedSemaphore");
    if (value < 0) in.raise("ValueError", "Semaphore initial value must be >= 0");
    return Value(new BoundedSemaphoreObj(nt.bounded_semaphore, static_cast<long>(value)));
  }, "aio::BoundedSemaphore(long) — docs/sync.md#asyncio--aio");
  def("Condition", [](Interpreter& in, CallArgs& a) -> Value {
    if (!a.pos.empty() && !a.pos[0].is_none()) in.raise("TypeError", "Condition(lock): sharing a Lock is not supported by the aio REPL");
    return Value(new ConditionObj(nt.condition));
  }, "aio::Condition — docs/sync.md#asyncio--aio");
  def("Barrier", [](Interpreter& in, CallArgs& a) -> Value {
    std::int64_t parties = in.to_int(in.arg(a, 0, "parties", "Barrier"), "Barrier");
    if (parties < 1) in.raise("ValueError", "parties must be > 0");
    return Value(new BarrierObj(nt.barrier, static_cast<long>(parties)));
  }, "aio::Barrier(long parties) — docs/sync.md#asyncio--aio");
  auto queue_ctor = [](int kind) {
    return [kind](Interpreter& in, CallArgs& a) -> Value {
      std::int64_t maxsize = in.to_int(in.arg(a, 0, "maxsize", "Queue", Value::integer(0)), "Queue");
      if (kind == 0) return Value(new QueueObj<aio::Queue<Value>>(nt.queue, maxsize, "Queue"));
      if (kind == 1) return Value(new QueueObj<aio::LifoQueue<Value>>(nt.queue, maxsize, "LifoQueue"));
      return Value(new QueueObj<aio::PriorityQueue<Value, ValueLess>>(nt.queue, maxsize, "PriorityQueue"));
    };
  };
  def("Queue", queue_ctor(0), "aio::Queue<T>(maxsize) — docs/queues.md#asyncio--aio");
  def("LifoQueue", queue_ctor(1), "aio::LifoQueue<T>(maxsize) — docs/queues.md#asyncio--aio");
  def("PriorityQueue", queue_ctor(2), "aio::PriorityQueue<T>(maxsize) — docs/queues.md#asyncio--aio");

  def("open_connection", [](Interpreter& in, CallArgs& a) -> Value {
    std::string host = in.str(in.arg(a, 0, "host", "open_connection"));
    std::uint16_t port = port_of(in, in.arg(a, 1, "port", "open_connection"));
    Interpreter* self = &in;
    return in.native_coro("open_connection", [self, host, port] { return open_connection_coro(self, host, port); });
  }, "aio::open_connection(host, port) -> aio::Streams{reader, writer} — docs/streams.md#asyncio--aio");
  def("open_unix_connection", [](Interpreter& in, CallArgs& a) -> Value {
    std::string path = in.str(in.arg(a, 0, "path", "open_unix_connection"));
    Interpreter* self = &in;
    return in.native_coro("open_unix_connection", [self, path] { return open_unix_connection_coro(self, path); });
  }, "aio::open_unix_connection(path) — docs/streams.md#asyncio--aio");
  def("start_server", [](Interpreter& in, CallArgs& a) -> Value {
    Value handler = in.arg(a, 0, "client_connected_cb", "start_server");
    Value host_value = in.arg(a, 1, "host", "start_server", Value());
    std::string host = host_value.is_none() ? "0.0.0.0" : in.str(host_value);
    std::uint16_t port = port_of(in, in.arg(a, 2, "port", "start_server", Value()));
    Interpreter* self = &in;
    return in.native_coro("start_server", [self, handler, host, port] { return start_server_coro(self, handler, host, port); });
  }, "aio::start_server(ClientConnected, host, port) -> aio::Server — docs/streams.md#asyncio--aio");
  def("start_unix_server", [](Interpreter& in, CallArgs& a) -> Value {
    Value handler = in.arg(a, 0, "client_connected_cb", "start_unix_server");
    std::string path = in.str(in.arg(a, 1, "path", "start_unix_server"));
    Interpreter* self = &in;
    return in.native_coro("start_unix_server", [self, handler, path] { return start_unix_server_coro(self, handler, path); });
  }, "aio::start_unix_server(ClientConnected, path) -> aio::Server — docs/streams.md#asyncio--aio");
  def("StreamReader", [](Interpreter& in, CallArgs& a) -> Value {
    std::int64_t limit = in.to_int(in.arg(a, 0, "limit", "StreamReader", Value::integer(64 * 1024)), "StreamReader");
    if (limit <= 0) in.raise("ValueError", "Limit cannot be <= 0");
    return new_reader(in, aio::StreamReader(static_cast<std::size_t>(limit)));
  }, "aio::StreamReader(limit) — docs/streams.md#asyncio--aio");

  // asyncio.subprocess
  auto* sub = new ModuleObj("asyncio.subprocess");
  sub->type = in.t.module;
  Value sub_module(sub);
  sub->attrs["PIPE"] = Value::integer(-1);
  sub->attrs["STDOUT"] = Value::integer(-2);
  sub->attrs["DEVNULL"] = Value::integer(-3);
  A["subprocess"] = sub_module;
  in.modules["asyncio.subprocess"] = sub_module;
  def("create_subprocess_exec", [](Interpreter& in, CallArgs& a) -> Value {
    if (a.pos.empty()) in.raise("TypeError", "create_subprocess_exec() missing required argument 'program'");
    std::string program = text_of(in, a.pos[0], "create_subprocess_exec");
    std::vector<std::string> args;
    for (std::size_t i = 1; i < a.pos.size(); ++i) args.push_back(text_of(in, a.pos[i], "create_subprocess_exec"));
    aio::SubprocessOptions options = subprocess_options(in, a);
    Interpreter* self = &in;
    return in.native_coro("create_subprocess_exec", [self, program, args, options] { return exec_coro(self, program, args, options); });
  }, "aio::create_subprocess_exec(program, args, SubprocessOptions) -> aio::Process — docs/subprocess.md#asyncio--aio");
  def("create_subprocess_shell", [](Interpreter& in, CallArgs& a) -> Value {
    std::string command = text_of(in, in.arg(a, 0, "cmd", "create_subprocess_shell"), "create_subprocess_shell");
    aio::SubprocessOptions options = subprocess_options(in, a);
    Interpreter* self = &in;
    return in.native_coro("create_subprocess_shell", [self, command, options] { return shell_coro(self, command, options); });
  }, "aio::create_subprocess_shell(command, SubprocessOptions) -> aio::Process — docs/subprocess.md#asyncio--aio");
  sub->attrs["create_subprocess_exec"] = A["create_subprocess_exec"];
  sub->attrs["create_subprocess_shell"] = A["create_subprocess_shell"];

  // ---- the native types' methods ----
  nt.loop = native_type(in, "EventLoop", "aio", "aio::EventLoop — docs/async.md#the-event-loop-aioeventloop");
  nt.handle = native_type(in, "TimerHandle", "asyncio.events", "aio::Handle / aio::TimerHandle");
  nt.timeout = native_type(in, "Timeout", "asyncio.timeouts", "aio::Timeout (when, reschedule, expired) — docs/async.md#timeouts-aiotimeout");
  nt.task_group = native_type(in, "TaskGroup", "asyncio.taskgroups", "aio::TaskGroup — docs/async.md#structured-concurrency-task_group");
  nt.lock = native_type(in, "Lock", "asyncio.locks", "aio::Lock — docs/sync.md#asyncio--aio");
  nt.semaphore = native_type(in, "Semaphore", "asyncio.locks", "aio::Semaphore — docs/sync.md#asyncio--aio");
  nt.bounded_semaphore = native_type(in, "BoundedSemaphore", "asyncio.locks", "aio::BoundedSemaphore — docs/sync.md#asyncio--aio");
  nt.condition = native_type(in, "Condition", "asyncio.locks", "aio::Condition — docs/sync.md#asyncio--aio");
  nt.event = native_type(in, "Event", "asyncio.locks", "aio::Event — docs/sync.md#asyncio--aio");
  nt.barrier = native_type(in, "Barrier", "asyncio.locks", "aio::Barrier — docs/sync.md#asyncio--aio");
  nt.queue = native_type(in, "Queue", "asyncio.queues", "aio::Queue<T> — docs/queues.md#asyncio--aio");
  nt.reader = native_type(in, "StreamReader", "asyncio.streams", "aio::StreamReader — docs/streams.md#asyncio--aio");
  nt.writer = native_type(in, "StreamWriter", "asyncio.streams", "aio::StreamWriter — docs/streams.md#asyncio--aio");
  nt.server = native_type(in, "Server", "asyncio.base_events", "aio::Server — docs/streams.md#asyncio--aio");
  nt.socket = native_type(in, "TransportSocket", "asyncio.trsock", "aio::SocketAddress");
  nt.process = native_type(in, "Process", "asyncio.subprocess", "aio::Process — docs/subprocess.md#asyncio--aio");
  nt.as_completed = native_type(in, "as_completed", "asyncio.tasks", "aio::AsCompleted<T> — docs/async.md#gather-shield-wait-as_completed");

  // Task
  TypeObj* task = in.t.task;
  in.add_method(task, "cancel", [](Interpreter& in, CallArgs& a) {
    TaskObj* t = as_task(in, a.pos[0], "cancel");
    Value msg = in.arg(a, 1, "msg", "cancel", Value());
    return Value::boolean(t->any->cancel(msg.is_none() ? std::string() : in.str(msg)));
  }, "aio::Task<T>::cancel(message)");
  in.add_method(task, "cancelled", [](Interpreter& in, CallArgs& a) { return Value::boolean(as_task(in, a.pos[0], "cancelled")->any->cancelled()); });
  in.add_method(task, "done", [](Interpreter& in, CallArgs& a) { return Value::boolean(as_task(in, a.pos[0], "done")->any->done()); });
  in.add_method(task, "cancelling", [](Interpreter& in, CallArgs& a) { return Value::integer(as_task(in, a.pos[0], "cancelling")->any->cancelling()); });
  in.add_method(task, "uncancel", [](Interpreter& in, CallArgs& a) {
    TaskObj* t = as_task(in, a.pos[0], "uncancel");
    if (!t->task.valid()) in.raise("TypeError", "uncancel(): not supported on this task");
    return Value::integer(t->task.uncancel());
  });
  in.add_method(task, "result", [](Interpreter& in, CallArgs& a) {
    TaskObj* t = as_task(in, a.pos[0], "result");
    if (!t->task.valid()) in.raise("TypeError", "result(): not supported on this task");
    return t->task.result();
  }, "aio::Task<T>::result()");
  in.add_method(task, "exception", [](Interpreter& in, CallArgs& a) -> Value {
    TaskObj* t = as_task(in, a.pos[0], "exception");
    if (!t->task.valid()) in.raise("TypeError", "exception(): not supported on this task");
    std::exception_ptr error = t->task.exception();
    return error ? in.exception_from(error) : Value();
  }, "aio::Task<T>::exception()");
  in.add_method(task, "get_name", [](Interpreter& in, CallArgs& a) { return in.str_value(as_task(in, a.pos[0], "get_name")->any->get_name()); });
  in.add_method(task, "set_name", [](Interpreter& in, CallArgs& a) {
    TaskObj* t = as_task(in, a.pos[0], "set_name");
    if (!t->task.valid()) in.raise("TypeError", "set_name(): not supported on this task");
    t->task.set_name(in.str(in.arg(a, 1, "value", "set_name")));
    return Value();
  });
  in.add_method(task, "get_coro", [](Interpreter& in, CallArgs&) -> Value { in.raise("NotImplementedError", "Task.get_coro() is not supported by the aio REPL"); });
  in.add_method(task, "add_done_callback", [](Interpreter& in, CallArgs& a) {
    TaskObj* t = as_task(in, a.pos[0], "add_done_callback");
    Value fn = in.arg(a, 1, "fn", "add_done_callback");
    Value self = a.pos[0];
    Interpreter* interp = &in;
    t->any->add_done_callback([interp, fn, self](aio::AnyTask) {
      try {
        CallArgs c;
        c.pos.push_back(self);
        interp->call(fn, c);
      } catch (...) {
        report_callback_error(*interp, "Exception in callback " + interp->repr(fn));
      }
    });
    return Value();
  }, "aio::Task<T>::add_done_callback(std::function<void(Task)>)");

  // Future
  TypeObj* future = in.t.future;
  auto F = [](Interpreter& in, CallArgs& a) -> aio::Future<Value>& {
    if (a.pos.empty() || in.type_of(a.pos[0]) != in.t.future) in.raise("TypeError", "expected a Future");
    return a.pos[0].as<FutureObj>()->future;
  };
  in.add_method(future, "set_result", [F](Interpreter& in, CallArgs& a) { F(in, a).set_result(in.arg(a, 1, "result", "set_result")); return Value(); });
  in.add_method(future, "set_exception", [F](Interpreter& in, CallArgs& a) {
    Value exc = in.arg(a, 1, "exception", "set_exception");
    if (in.type_of(exc) == in.t.type) exc = in.call0(exc);
    F(in, a).set_exception(in.to_exception_ptr(exc));
    return Value();
  });
  in.add_method(future, "result", [F](Interpreter& in, CallArgs& a) { return F(in, a).result(); });
  in.add_method(future, "exception", [F](Interpreter& in, CallArgs& a) -> Value {
    std::exception_ptr error = F(in, a).exception();
    return error ? in.exception_from(error) : Value();
  });
  in.add_method(future, "done", [F](Interpreter& in, CallArgs& a) { return Value::boolean(F(in, a).done()); });
  in.add_method(future, "cancelled", [F](Interpreter& in, CallArgs& a) { return Value::boolean(F(in, a).cancelled()); });
  in.add_method(future, "cancel", [F](Interpreter& in, CallArgs& a) {
    Value msg = in.arg(a, 1, "msg", "cancel", Value());
    return Value::boolean(F(in, a).cancel(msg.is_none() ? std::string() : in.str(msg)));
  });

  // Loop
  in.add_method(nt.loop, "time", [](Interpreter& in, CallArgs&) { return Value::real(seconds_of(running_loop(in).time())); }, "aio::EventLoop::time()");
  in.add_method(nt.loop, "create_future", [](Interpreter& in, CallArgs&) {
    return Value(new FutureObj(in.t.future, aio::Future<Value>(running_loop(in))));
  }, "aio::Future<T>(loop)");
  auto schedule = [](int mode) {
    return [mode](Interpreter& in, CallArgs& a) -> Value {
      std::size_t first = mode == 0 ? 1 : 2;
      if (a.pos.size() < first + 1) in.raise("TypeError", "call_soon/call_later/call_at: missing the callback");
      Value fn = a.pos[first];
      std::vector<Value> args(a.pos.begin() + first + 1, a.pos.end());
      Interpreter* interp = &in;
      auto callback = [interp, fn, args]() {
        try {
          CallArgs c;
          c.pos = args;
          interp->call(fn, c);
        } catch (...) {
          report_callback_error(*interp, "Exception in callback " + interp->repr(fn) + "()");
        }
      };
      aio::EventLoop& loop = running_loop(in);
      auto* h = new HandleObj(nt.handle, aio::Handle());
      Value handle(h);
      if (mode == 0) {
        h->handle = loop.call_soon(std::move(callback));
      } else {
        double t = in.to_float(a.pos[1], mode == 1 ? "call_later" : "call_at");
        aio::TimePoint when = mode == 1 ? loop.time() + *in.to_duration(a.pos[1], "call_later") : time_point_of(t);
        h->when = seconds_of(when);
        h->handle = loop.call_at(when, std::move(callback));
      }
      return handle;
    };
  };
  in.add_method(nt.loop, "call_soon", schedule(0), "aio::EventLoop::call_soon(callback) -> aio::Handle");
  in.add_method(nt.loop, "call_later", schedule(1), "aio::EventLoop::call_later(delay, callback) -> aio::TimerHandle");
  in.add_method(nt.loop, "call_at", schedule(2), "aio::EventLoop::call_at(when, callback) -> aio::TimerHandle");
  in.add_method(nt.loop, "create_task", [](Interpreter& in, CallArgs& a) {
    CallArgs b;
    b.pos.assign(a.pos.begin() + 1, a.pos.end());
    b.kw = a.kw;
    return in.call(in.getattr(in.modules["asyncio"], "create_task"), b);
  });
  in.add_method(nt.loop, "run_in_executor", [](Interpreter& in, CallArgs& a) -> Value {
    // REPL values are not thread-safe: the callable runs on the loop thread,
    // and the returned future is already done (docs/repl.md).
    if (a.pos.size() < 3) in.raise("TypeError", "run_in_executor(executor, func, *args)");
    CallArgs c;
    c.pos.assign(a.pos.begin() + 3, a.pos.end());
    aio::Future<Value> f(running_loop(in));
    try {
      f.set_result(in.call(a.pos[2], c));
    } catch (...) {
      f.set_exception(std::current_exception());
    }
    return Value(new FutureObj(in.t.future, f));
  }, "aio::EventLoop::run_in_executor (REPL callables run on the loop thread)");
  in.add_method(nt.loop, "is_running", [](Interpreter&, CallArgs&) { return Value::boolean(true); });
  in.add_method(nt.loop, "get_debug", [](Interpreter& in, CallArgs&) { return Value::boolean(running_loop(in).get_debug()); });
  in.add_method(nt.handle, "cancel", [](Interpreter& in, CallArgs& a) { self_as<HandleObj>(in, a, "cancel")->handle.cancel(); return Value(); });
  in.add_method(nt.handle, "cancelled", [](Interpreter& in, CallArgs& a) { return Value::boolean(self_as<HandleObj>(in, a, "cancelled")->handle.cancelled()); });
  in.add_method(nt.handle, "when", [](Interpreter& in, CallArgs& a) { return Value::real(self_as<HandleObj>(in, a, "when")->when); });

  in.add_method(nt.loop, "create_server", [](Interpreter& in, CallArgs& a) -> Value {
    Value factory = in.arg(a, 1, "protocol_factory", "create_server");
    Value host_value = in.arg(a, 2, "host", "create_server", Value());
    std::string host = host_value.is_none() ? "" : in.str(host_value);
    std::uint16_t port = port_of(in, in.arg(a, 3, "port", "create_server", Value()));
    Interpreter* self = &in;
    return in.native_coro("create_server", [self, factory, host, port] { return create_server_coro(self, factory, host, port); });
  }, "aio::create_server(ProtocolFactory, host, port) -> aio::Server — docs/transports.md");
  in.add_method(nt.loop, "create_connection", [](Interpreter& in, CallArgs& a) -> Value {
    Value factory = in.arg(a, 1, "protocol_factory", "create_connection");
    std::string host = in.str(in.arg(a, 2, "host", "create_connection"));
    std::uint16_t port = port_of(in, in.arg(a, 3, "port", "create_connection"));
    Interpreter* self = &in;
    return in.native_coro("create_connection", [self, factory, host, port] { return create_connection_coro(self, factory, host, port); });
  }, "aio::create_connection(ProtocolFactory, host, port) -> aio::Connection — docs/transports.md");
  nt.transport = native_type(in, "Transport", "asyncio.transports", "aio::Transport — docs/transports.md");
  auto T = [](Interpreter& in, CallArgs& a, const char* method) -> aio::Transport& {
    auto* t = self_as<TransportObj>(in, a, method);
    if (!t->transport) in.raise("RuntimeError", "the transport is gone");
    return *t->transport;
  };
  in.add_method(nt.transport, "write", [T](Interpreter& in, CallArgs& a) {
    T(in, a, "write").write(bytes_arg(in, in.arg(a, 1, "data", "write"), "write").as<BytesObj>()->s);
    return Value();
  }, "aio::Transport::write(std::string_view)");
  in.add_method(nt.transport, "close", [T](Interpreter& in, CallArgs& a) { T(in, a, "close").close(); return Value(); }, "aio::Transport::close()");
  in.add_method(nt.transport, "abort", [T](Interpreter& in, CallArgs& a) { T(in, a, "abort").abort(); return Value(); });
  in.add_method(nt.transport, "write_eof", [T](Interpreter& in, CallArgs& a) { T(in, a, "write_eof").write_eof(); return Value(); });
  in.add_method(nt.transport, "can_write_eof", [T](Interpreter& in, CallArgs& a) { return Value::boolean(T(in, a, "can_write_eof").can_write_eof()); });
  in.add_method(nt.transport, "is_closing", [T](Interpreter& in, CallArgs& a) { return Value::boolean(T(in, a, "is_closing").is_closing()); });
  in.add_method(nt.transport, "pause_reading", [T](Interpreter& in, CallArgs& a) { T(in, a, "pause_reading").pause_reading(); return Value(); });
  in.add_method(nt.transport, "resume_reading", [T](Interpreter& in, CallArgs& a) { T(in, a, "resume_reading").resume_reading(); return Value(); });
  in.add_method(nt.transport, "get_extra_info", [T](Interpreter& in, CallArgs& a) -> Value {
    std::any info = T(in, a, "get_extra_info").get_extra_info(in.str(in.arg(a, 1, "name", "get_extra_info")));
    Value def = in.arg(a, 2, "default", "get_extra_info", Value());
    if (auto* addr = std::any_cast<aio::SocketAddress>(&info)) return address_tuple(in, *addr);
    if (auto* fd = std::any_cast<int>(&info)) return Value::integer(*fd);
    return def;
  });
  // asyncio.BaseProtocol / Protocol: classes to subclass; every callback a no-op.
  TypeObj* base_protocol = in.new_type("BaseProtocol", in.t.object, "asyncio.protocols");
  TypeObj* protocol = in.new_type("Protocol", base_protocol, "asyncio.protocols");
  base_protocol->help = "aio::BaseProtocol — docs/transports.md";
  protocol->help = "aio::Protocol (connection_made, data_received, eof_received, connection_lost) — docs/transports.md";
  for (const char* name : {"connection_made", "data_received", "eof_received", "connection_lost", "pause_writing", "resume_writing"}) {
    in.add_method(base_protocol, name, [](Interpreter&, CallArgs&) { return Value(); });
  }
  A["BaseProtocol"] = Value(base_protocol);
  A["Protocol"] = Value(protocol);

  // Timeout
  in.add_method(nt.timeout, "when", [](Interpreter& in, CallArgs& a) -> Value {
    auto* t = self_as<TimeoutObj>(in, a, "when");
    std::optional<aio::TimePoint> w = t->active ? t->active->when() : t->when;
    if (!t->active && !t->entered && !t->absolute && t->delay) return Value();
    return w ? Value::real(seconds_of(*w)) : Value();
  }, "aio::Timeout::when()");
  in.add_method(nt.timeout, "reschedule", [](Interpreter& in, CallArgs& a) {
    auto* t = self_as<TimeoutObj>(in, a, "reschedule");
    Value when = in.arg(a, 1, "when", "reschedule");
    if (!t->active) in.raise("RuntimeError", t->entered ? "Cannot change state of finished Timeout" : "Timeout has not been entered");
    std::optional<aio::TimePoint> at;
    if (!when.is_none()) at = time_point_of(in.to_float(when, "reschedule()"));
    t->active->reschedule(at);
    return Value();
  }, "aio::Timeout::reschedule(std::optional<TimePoint>)");
  in.add_method(nt.timeout, "expired", [](Interpreter& in, CallArgs& a) {
    auto* t = self_as<TimeoutObj>(in, a, "expired");
    return Value::boolean(t->active ? t->active->expired() : t->expired);
  }, "aio::Timeout::expired()");

  // TaskGroup
  in.add_method(nt.task_group, "create_task", [](Interpreter& in, CallArgs& a) -> Value {
    auto* g = self_as<TaskGroupObj>(in, a, "create_task");
    Value coro = in.arg(a, 1, "coro", "create_task");
    Value name = in.arg(a, 2, "name", "create_task", Value());
    if (!g->group) {
      in.raise("RuntimeError", std::string("TaskGroup ") + g->repr(in) + (g->entered ? " is finished" : " has not been entered"));
    }
    aio::Coro<Value> c = in.coroutine_for_task(coro, "create_task");
    return make_task(in, g->group->create_task(std::move(c), name.is_none() ? std::string() : in.str(name)), coro);
  }, "aio::TaskGroup::create_task(Coro<T>, name) -> aio::Task<T>");

  // Lock, semaphores, condition
  auto acquire = [](auto* tag) {
    using P = std::remove_pointer_t<decltype(tag)>;
    return [](Interpreter& in, CallArgs& a) -> Value {
      self_as<P>(in, a, "acquire");
      Value self = a.pos[0];
      return in.native_coro("acquire", [self]() -> aio::Coro<Value> {
        return [](Value s) -> aio::Coro<Value> {
          co_await s.as<P>()->p.acquire();
          co_return Value::boolean(true);
        }(self);
      });
    };
  };
  in.add_method(nt.lock, "acquire", acquire(static_cast<LockObj*>(nullptr)), "aio::Lock::acquire()");
  in.add_method(nt.semaphore, "acquire", acquire(static_cast<SemaphoreObj*>(nullptr)), "aio::Semaphore::acquire()");
  in.add_method(nt.bounded_semaphore, "acquire", acquire(static_cast<BoundedSemaphoreObj*>(nullptr)), "aio::BoundedSemaphore::acquire()");
  in.add_method(nt.condition, "acquire", acquire(static_cast<ConditionObj*>(nullptr)), "aio::Condition::acquire()");
  in.add_method(nt.lock, "release", [](Interpreter& in, CallArgs& a) {
    auto* l = self_as<LockObj>(in, a, "release");
    if (!l->p.locked()) in.raise("RuntimeError", "Lock is not acquired.");
    l->p.release();
    return Value();
  }, "aio::Lock::release()");
  in.add_method(nt.lock, "locked", [](Interpreter& in, CallArgs& a) { return Value::boolean(self_as<LockObj>(in, a, "locked")->p.locked()); });
  in.add_method(nt.semaphore, "release", [](Interpreter& in, CallArgs& a) { self_as<SemaphoreObj>(in, a, "release")->p.release(); return Value(); });
  in.add_method(nt.semaphore, "locked", [](Interpreter& in, CallArgs& a) { return Value::boolean(self_as<SemaphoreObj>(in, a, "locked")->p.locked()); });
  in.add_method(nt.bounded_semaphore, "release", [](Interpreter& in, CallArgs& a) {
    auto* s = self_as<BoundedSemaphoreObj>(in, a, "release");
    try {
      s->p.release();
    } catch (const std::exception&) {
      in.raise("ValueError", "BoundedSemaphore released too many times");
    }
    return Value();
  });
  in.add_method(nt.bounded_semaphore, "locked", [](Interpreter& in, CallArgs& a) { return Value::boolean(self_as<BoundedSemaphoreObj>(in, a, "locked")->p.locked()); });
  in.add_method(nt.condition, "release", [](Interpreter& in, CallArgs& a) {
    auto* c = self_as<ConditionObj>(in, a, "release");
    if (!c->p.locked()) in.raise("RuntimeError", "Lock is not acquired.");
    c->p.release();
    return Value();
  });
  in.add_method(nt.condition, "locked", [](Interpreter& in, CallArgs& a) { return Value::boolean(self_as<ConditionObj>(in, a, "locked")->p.locked()); });
  in.add_method(nt.condition, "notify", [](Interpreter& in, CallArgs& a) {
    auto* c = self_as<ConditionObj>(in, a, "notify");
    if (!c->p.locked()) in.raise("RuntimeError", "cannot notify on un-acquired lock");
    c->p.notify(static_cast<std::size_t>(in.to_int(in.arg(a, 1, "n", "notify", Value::integer(1)), "notify")));
    return Value();
  }, "aio::Condition::notify(n)");
  in.add_method(nt.condition, "notify_all", [](Interpreter& in, CallArgs& a) {
    auto* c = self_as<ConditionObj>(in, a, "notify_all");
    if (!c->p.locked()) in.raise("RuntimeError", "cannot notify on un-acquired lock");
    c->p.notify_all();
    return Value();
  });
  in.add_method(nt.condition, "wait", [](Interpreter& in, CallArgs& a) -> Value {
    auto* c = self_as<ConditionObj>(in, a, "wait");
    if (!c->p.locked()) in.raise("RuntimeError", "cannot wait on un-acquired lock");
    Value self = a.pos[0];
    return in.native_coro("wait", [self]() {
      return [](Value s) -> aio::Coro<Value> {
        co_await s.as<ConditionObj>()->p.wait();
        co_return Value::boolean(true);
      }(self);
    });
  }, "aio::Condition::wait()");
  in.add_method(nt.condition, "wait_for", [](Interpreter& in, CallArgs& a) -> Value {
    auto* c = self_as<ConditionObj>(in, a, "wait_for");
    if (!c->p.locked()) in.raise("RuntimeError", "cannot wait on un-acquired lock");
    Value self = a.pos[0];
    Value predicate = in.arg(a, 1, "predicate", "wait_for");
    Interpreter* interp = &in;
    return in.native_coro("wait_for", [self, predicate, interp]() {
      return [](Value s, Value pred, Interpreter* in) -> aio::Coro<Value> {
        Value result = in->call0(pred);
        while (!in->truthy(result)) {
          co_await s.as<ConditionObj>()->p.wait();
          result = in->call0(pred);
        }
        co_return result;
      }(self, predicate, interp);
    });
  }, "aio::Condition::wait_for(predicate)");

  // Event
  in.add_method(nt.event, "set", [](Interpreter& in, CallArgs& a) { self_as<EventObj>(in, a, "set")->event.set(); return Value(); }, "aio::Event::set()");
  in.add_method(nt.event, "clear", [](Interpreter& in, CallArgs& a) { self_as<EventObj>(in, a, "clear")->event.clear(); return Value(); });
  in.add_method(nt.event, "is_set", [](Interpreter& in, CallArgs& a) { return Value::boolean(self_as<EventObj>(in, a, "is_set")->event.is_set()); });
  in.add_method(nt.event, "wait", [](Interpreter& in, CallArgs& a) -> Value {
    self_as<EventObj>(in, a, "wait");
    Value self = a.pos[0];
    return in.native_coro("wait", [self]() {
      return [](Value s) -> aio::Coro<Value> {
        co_await s.as<EventObj>()->event.wait();
        co_return Value::boolean(true);
      }(self);
    });
  }, "aio::Event::wait()");

  // Barrier
  in.add_method(nt.barrier, "wait", [](Interpreter& in, CallArgs& a) -> Value {
    self_as<BarrierObj>(in, a, "wait");
    Value self = a.pos[0];
    return in.native_coro("wait", [self]() {
      return [](Value s) -> aio::Coro<Value> {
        std::size_t index = co_await s.as<BarrierObj>()->barrier.wait();
        co_return Value::integer(static_cast<std::int64_t>(index));
      }(self);
    });
  }, "aio::Barrier::wait() -> index");
  in.add_method(nt.barrier, "reset", [](Interpreter& in, CallArgs& a) -> Value {
    self_as<BarrierObj>(in, a, "reset");
    Value self = a.pos[0];
    return in.native_coro("reset", [self]() {
      return [](Value s) -> aio::Coro<Value> {
        co_await s.as<BarrierObj>()->barrier.reset();
        co_return Value();
      }(self);
    });
  });
  in.add_method(nt.barrier, "abort", [](Interpreter& in, CallArgs& a) -> Value {
    self_as<BarrierObj>(in, a, "abort");
    Value self = a.pos[0];
    return in.native_coro("abort", [self]() {
      return [](Value s) -> aio::Coro<Value> {
        co_await s.as<BarrierObj>()->barrier.abort();
        co_return Value();
      }(self);
    });
  });
  add_property(in, nt.barrier, "parties", [](Interpreter& in, CallArgs& a) { return Value::integer(self_as<BarrierObj>(in, a, "parties")->barrier.parties()); });
  add_property(in, nt.barrier, "n_waiting", [](Interpreter& in, CallArgs& a) { return Value::integer(static_cast<std::int64_t>(self_as<BarrierObj>(in, a, "n_waiting")->barrier.n_waiting())); });
  add_property(in, nt.barrier, "broken", [](Interpreter& in, CallArgs& a) { return Value::boolean(self_as<BarrierObj>(in, a, "broken")->barrier.broken()); });

  // Queue
  in.add_method(nt.queue, "put", [](Interpreter& in, CallArgs& a) -> Value {
    self_as<QueueBase>(in, a, "put");
    Value self = a.pos[0], item = in.arg(a, 1, "item", "put");
    return in.native_coro("put", [self, item] { return queue_put(self, item); });
  }, "aio::Queue<T>::put(T)");
  in.add_method(nt.queue, "get", [](Interpreter& in, CallArgs& a) -> Value {
    self_as<QueueBase>(in, a, "get");
    Value self = a.pos[0];
    return in.native_coro("get", [self] { return queue_get(self); });
  }, "aio::Queue<T>::get()");
  in.add_method(nt.queue, "join", [](Interpreter& in, CallArgs& a) -> Value {
    self_as<QueueBase>(in, a, "join");
    Value self = a.pos[0];
    return in.native_coro("join", [self] { return queue_join(self); });
  }, "aio::Queue<T>::join()");
  in.add_method(nt.queue, "put_nowait", [](Interpreter& in, CallArgs& a) { self_as<QueueBase>(in, a, "put_nowait")->put_nowait(in.arg(a, 1, "item", "put_nowait")); return Value(); }, "aio::Queue<T>::put_nowait(T)");
  in.add_method(nt.queue, "get_nowait", [](Interpreter& in, CallArgs& a) { return self_as<QueueBase>(in, a, "get_nowait")->get_nowait(); }, "aio::Queue<T>::get_nowait()");
  in.add_method(nt.queue, "task_done", [](Interpreter& in, CallArgs& a) {
    auto* q = self_as<QueueBase>(in, a, "task_done");
    try {
      q->task_done();
    } catch (const aio::ValueError&) {
      in.raise("ValueError", "task_done() called too many times");
    }
    return Value();
  }, "aio::Queue<T>::task_done()");
  in.add_method(nt.queue, "qsize", [](Interpreter& in, CallArgs& a) { return Value::integer(static_cast<std::int64_t>(self_as<QueueBase>(in, a, "qsize")->qsize())); });
  in.add_method(nt.queue, "empty", [](Interpreter& in, CallArgs& a) { return Value::boolean(self_as<QueueBase>(in, a, "empty")->qsize() == 0); });
  in.add_method(nt.queue, "full", [](Interpreter& in, CallArgs& a) { return Value::boolean(self_as<QueueBase>(in, a, "full")->full()); });
  in.add_method(nt.queue, "shutdown", [](Interpreter& in, CallArgs& a) {
    self_as<QueueBase>(in, a, "shutdown")->shutdown(in.truthy(in.arg(a, 1, "immediate", "shutdown", Value::boolean(false))));
    return Value();
  }, "aio::Queue<T>::shutdown(immediate)");
  add_property(in, nt.queue, "maxsize", [](Interpreter& in, CallArgs& a) { return Value::integer(static_cast<std::int64_t>(self_as<QueueBase>(in, a, "maxsize")->maxsize())); });

  // Streams
  auto reader_coro = [](const char* name, int kind) {
    return [name, kind](Interpreter& in, CallArgs& a) -> Value {
      self_as<ReaderObj>(in, a, name);
      Value self = a.pos[0];
      std::int64_t n = -1;
      std::string separator = "\n";
      if (kind == 0) n = in.to_int(in.arg(a, 1, "n", name, Value::integer(-1)), name);
      if (kind == 2) n = in.to_int(in.arg(a, 1, "n", name), name);
      if (kind == 2 && n < 0) in.raise("ValueError", "readexactly size can not be less than zero");
      if (kind == 3) separator = in.arg(a, 1, "separator", name, in.bytes_value("\n")).as<BytesObj>()->s;
      Interpreter* interp = &in;
      return in.native_coro(name, [self, n, separator, kind, interp]() {
        return [](Value s, std::int64_t n, std::string separator, int kind, Interpreter* in) -> aio::Coro<Value> {
          aio::StreamReader& r = s.as<ReaderObj>()->reader;
          std::string data;
          if (kind == 0) data = co_await r.read(n);
          else if (kind == 1) data = co_await r.readline();
          else if (kind == 2) data = co_await r.readexactly(static_cast<std::size_t>(n));
          else data = co_await r.readuntil(separator);
          co_return in->bytes_value(std::move(data));
        }(self, n, separator, kind, interp);
      });
    };
  };
  in.add_method(nt.reader, "read", reader_coro("read", 0), "aio::StreamReader::read(n)");
  in.add_method(nt.reader, "readline", reader_coro("readline", 1), "aio::StreamReader::readline()");
  in.add_method(nt.reader, "readexactly", reader_coro("readexactly", 2), "aio::StreamReader::readexactly(n)");
  in.add_method(nt.reader, "readuntil", reader_coro("readuntil", 3), "aio::StreamReader::readuntil(separator)");
  in.add_method(nt.reader, "at_eof", [](Interpreter& in, CallArgs& a) { return Value::boolean(self_as<ReaderObj>(in, a, "at_eof")->reader.at_eof()); });
  in.add_method(nt.reader, "feed_data", [](Interpreter& in, CallArgs& a) {
    self_as<ReaderObj>(in, a, "feed_data")->reader.feed_data(bytes_arg(in, in.arg(a, 1, "data", "feed_data"), "feed_data").as<BytesObj>()->s);
    return Value();
  }, "aio::StreamReader::feed_data(std::string_view)");
  in.add_method(nt.reader, "feed_eof", [](Interpreter& in, CallArgs& a) { self_as<ReaderObj>(in, a, "feed_eof")->reader.feed_eof(); return Value(); });
  in.add_method(nt.reader, "__aiter__", [](Interpreter&, CallArgs& a) { return a.pos[0]; });
  in.add_method(nt.reader, "__anext__", [](Interpreter& in, CallArgs& a) -> Value {
    self_as<ReaderObj>(in, a, "__anext__");
    Value self = a.pos[0];
    Interpreter* interp = &in;
    return in.native_coro("__anext__", [self, interp]() {
      return [](Value s, Interpreter* in) -> aio::Coro<Value> {
        std::optional<std::string> line = co_await s.as<ReaderObj>()->reader.next_line();
        if (!line) in->throw_exception(in->new_exception(in->exception_type("StopAsyncIteration"), {}));
        co_return in->bytes_value(std::move(*line));
      }(self, interp);
    });
  }, "aio::StreamReader::next_line()");
  in.add_method(nt.writer, "write", [](Interpreter& in, CallArgs& a) {
    self_as<WriterObj>(in, a, "write")->writer.write(bytes_arg(in, in.arg(a, 1, "data", "write"), "write").as<BytesObj>()->s);
    return Value();
  }, "aio::StreamWriter::write(std::string_view)");
  in.add_method(nt.writer, "writelines", [](Interpreter& in, CallArgs& a) {
    auto* w = self_as<WriterObj>(in, a, "writelines");
    for (const Value& chunk : in.to_vector(in.arg(a, 1, "data", "writelines"))) w->writer.write(bytes_arg(in, chunk, "writelines").as<BytesObj>()->s);
    return Value();
  }, "aio::StreamWriter::writelines");
  in.add_method(nt.writer, "drain", [](Interpreter& in, CallArgs& a) -> Value {
    self_as<WriterObj>(in, a, "drain");
    Value self = a.pos[0];
    return in.native_coro("drain", [self]() {
      return [](Value s) -> aio::Coro<Value> {
        co_await s.as<WriterObj>()->writer.drain();
        co_return Value();
      }(self);
    });
  }, "aio::StreamWriter::drain()");
  in.add_method(nt.writer, "close", [](Interpreter& in, CallArgs& a) { self_as<WriterObj>(in, a, "close")->writer.close(); return Value(); }, "aio::StreamWriter::close()");
  in.add_method(nt.writer, "is_closing", [](Interpreter& in, CallArgs& a) { return Value::boolean(self_as<WriterObj>(in, a, "is_closing")->writer.is_closing()); });
  in.add_method(nt.writer, "can_write_eof", [](Interpreter& in, CallArgs& a) { return Value::boolean(self_as<WriterObj>(in, a, "can_write_eof")->writer.can_write_eof()); });
  in.add_method(nt.writer, "write_eof", [](Interpreter& in, CallArgs& a) { self_as<WriterObj>(in, a, "write_eof")->writer.write_eof(); return Value(); });
  in.add_method(nt.writer, "wait_closed", [](Interpreter& in, CallArgs& a) -> Value {
    self_as<WriterObj>(in, a, "wait_closed");
    Value self = a.pos[0];
    return in.native_coro("wait_closed", [self]() {
      return [](Value s) -> aio::Coro<Value> {
        co_await s.as<WriterObj>()->writer.wait_closed();
        co_return Value();
      }(self);
    });
  }, "aio::StreamWriter::wait_closed()");
  in.add_method(nt.writer, "get_extra_info", [](Interpreter& in, CallArgs& a) -> Value {
    auto* w = self_as<WriterObj>(in, a, "get_extra_info");
    std::string name = in.str(in.arg(a, 1, "name", "get_extra_info"));
    Value def = in.arg(a, 2, "default", "get_extra_info", Value());
    std::any info = w->writer.get_extra_info(name);
    if (!info.has_value()) return def;
    if (auto* addr = std::any_cast<aio::SocketAddress>(&info)) return address_tuple(in, *addr);
    if (auto* fd = std::any_cast<int>(&info)) return Value::integer(*fd);
    if (auto* s = std::any_cast<std::string>(&info)) return in.str_value(*s);
    return def;
  }, "aio::StreamWriter::get_extra_info(name) -> std::any");

  // Server
  in.add_method(nt.server, "close", [](Interpreter& in, CallArgs& a) { self_as<ServerObj>(in, a, "close")->server.close(); return Value(); }, "aio::Server::close()");
  in.add_method(nt.server, "is_serving", [](Interpreter& in, CallArgs& a) { return Value::boolean(self_as<ServerObj>(in, a, "is_serving")->server.is_serving()); });
  in.add_method(nt.server, "close_clients", [](Interpreter& in, CallArgs& a) { self_as<ServerObj>(in, a, "close_clients")->server.close_clients(); return Value(); });
  in.add_method(nt.server, "wait_closed", [](Interpreter& in, CallArgs& a) -> Value {
    self_as<ServerObj>(in, a, "wait_closed");
    Value self = a.pos[0];
    return in.native_coro("wait_closed", [self]() {
      return [](Value s) -> aio::Coro<Value> {
        co_await s.as<ServerObj>()->server.wait_closed();
        co_return Value();
      }(self);
    });
  }, "aio::Server::wait_closed()");
  in.add_method(nt.server, "serve_forever", [](Interpreter& in, CallArgs& a) -> Value {
    self_as<ServerObj>(in, a, "serve_forever");
    Value self = a.pos[0];
    return in.native_coro("serve_forever", [self]() {
      return [](Value s) -> aio::Coro<Value> {
        co_await s.as<ServerObj>()->server.serve_forever();
        co_return Value();
      }(self);
    });
  }, "aio::Server::serve_forever()");
  in.add_method(nt.server, "start_serving", [](Interpreter& in, CallArgs& a) -> Value {
    self_as<ServerObj>(in, a, "start_serving");
    Value self = a.pos[0];
    return in.native_coro("start_serving", [self]() {
      return [](Value s) -> aio::Coro<Value> {
        co_await s.as<ServerObj>()->server.start_serving();
        co_return Value();
      }(self);
    });
  });
  add_property(in, nt.server, "sockets", [](Interpreter& in, CallArgs& a) {
    std::vector<Value> out;
    for (const aio::SocketAddress& addr : self_as<ServerObj>(in, a, "sockets")->server.sockets()) out.push_back(Value(new SocketObj(nt.socket, addr)));
    return in.tuple_value(std::move(out));
  });
  in.add_method(nt.socket, "getsockname", [](Interpreter& in, CallArgs& a) { return address_tuple(in, self_as<SocketObj>(in, a, "getsockname")->address); });

  // Process
  add_property(in, nt.process, "pid", [](Interpreter& in, CallArgs& a) { return Value::integer(self_as<ProcessObj>(in, a, "pid")->process.pid()); });
  add_property(in, nt.process, "returncode", [](Interpreter& in, CallArgs& a) -> Value {
    std::optional<int> code = self_as<ProcessObj>(in, a, "returncode")->process.returncode();
    return code ? Value::integer(*code) : Value();
  });
  add_property(in, nt.process, "stdin", [](Interpreter& in, CallArgs& a) { return self_as<ProcessObj>(in, a, "stdin")->std_in; });
  add_property(in, nt.process, "stdout", [](Interpreter& in, CallArgs& a) { return self_as<ProcessObj>(in, a, "stdout")->std_out; });
  add_property(in, nt.process, "stderr", [](Interpreter& in, CallArgs& a) { return self_as<ProcessObj>(in, a, "stderr")->std_err; });
  in.add_method(nt.process, "wait", [](Interpreter& in, CallArgs& a) -> Value {
    self_as<ProcessObj>(in, a, "wait");
    Value self = a.pos[0];
    return in.native_coro("wait", [self]() {
      return [](Value s) -> aio::Coro<Value> {
        int code = co_await s.as<ProcessObj>()->process.wait();
        co_return Value::integer(code);
      }(self);
    });
  }, "aio::Process::wait() -> int");
  in.add_method(nt.process, "communicate", [](Interpreter& in, CallArgs& a) -> Value {
    self_as<ProcessObj>(in, a, "communicate");
    Value self = a.pos[0];
    Value input = in.arg(a, 1, "input", "communicate", Value());
    std::optional<std::string> data;
    if (!input.is_none()) data = bytes_arg(in, input, "communicate").as<BytesObj>()->s;
    Interpreter* interp = &in;
    return in.native_coro("communicate", [self, data, interp]() {
      return [](Value s, std::optional<std::string> data, Interpreter* in) -> aio::Coro<Value> {
        aio::CommunicateResult r = co_await s.as<ProcessObj>()->process.communicate(data);
        std::vector<Value> pair;
        pair.push_back(value_or_none(std::move(r.std_out), *in));
        pair.push_back(value_or_none(std::move(r.std_err), *in));
        co_return in->tuple_value(std::move(pair));
      }(self, data, interp);
    });
  }, "aio::Process::communicate(input) -> CommunicateResult");
  in.add_method(nt.process, "kill", [](Interpreter& in, CallArgs& a) { self_as<ProcessObj>(in, a, "kill")->process.kill(); return Value(); }, "aio::Process::kill()");
  in.add_method(nt.process, "terminate", [](Interpreter& in, CallArgs& a) { self_as<ProcessObj>(in, a, "terminate")->process.terminate(); return Value(); }, "aio::Process::terminate()");
  in.add_method(nt.process, "send_signal", [](Interpreter& in, CallArgs& a) {
    self_as<ProcessObj>(in, a, "send_signal")->process.send_signal(static_cast<int>(in.to_int(in.arg(a, 1, "signal", "send_signal"), "send_signal")));
    return Value();
  });
  sub->attrs["Process"] = Value(nt.process);

  // as_completed: plain iteration yields awaitables (3.11), async for yields tasks (3.13).
  in.add_method(nt.as_completed, "__iter__", [](Interpreter& in, CallArgs& a) {
    auto* obj = self_as<AsCompletedObj>(in, a, "__iter__");
    Value self = a.pos[0];
    auto* it = new IteratorObj();
    it->type = in.t.iterator;
    Interpreter* interp = &in;
    it->next = [self, obj, interp](Value& out) {
      if (obj->handed_out >= obj->originals.size()) return false;
      ++obj->handed_out;
      out = interp->native_coro("_wait_for_one", [self, interp]() {
        return [](Value s, Interpreter* in) -> aio::Coro<Value> {
          std::optional<aio::Task<Value>> next = co_await s.as<AsCompletedObj>()->iterator->next();
          if (!next) in->raise("RuntimeError", "as_completed: no task left");
          co_return next->result();
        }(self, interp);
      });
      return true;
    };
    return Value(it);
  });
  in.add_method(nt.as_completed, "__aiter__", [](Interpreter&, CallArgs& a) { return a.pos[0]; });
  in.add_method(nt.as_completed, "__anext__", [](Interpreter& in, CallArgs& a) -> Value {
    self_as<AsCompletedObj>(in, a, "__anext__");
    Value self = a.pos[0];
    Interpreter* interp = &in;
    return in.native_coro("__anext__", [self, interp]() {
      return [](Value s, Interpreter* in) -> aio::Coro<Value> {
        auto* obj = s.as<AsCompletedObj>();
        std::optional<aio::Task<Value>> next = co_await obj->iterator->next();
        if (!next) in->throw_exception(in->new_exception(in->exception_type("StopAsyncIteration"), {}));
        for (const Value& t : obj->originals) if (t.as<TaskObj>()->task == *next) co_return t;
        co_return make_task(*in, *next, Value());
      }(self, interp);
    });
  });
  (void)nt;
}

void install_time_random_sys(Interpreter& in) {
  // time
  auto* time = new ModuleObj("time");
  time->type = in.t.module;
  in.modules["time"] = Value(time);
  auto& T = time->attrs;
  T["time"] = in.builtin("time", [](Interpreter&, CallArgs&) {
    return Value::real(std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count());
  });
  T["time_ns"] = in.builtin("time_ns", [](Interpreter&, CallArgs&) {
    return Value::integer(std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
  });
  T["monotonic"] = in.builtin("monotonic", [](Interpreter&, CallArgs&) {
    return Value::real(std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count());
  });
  T["perf_counter"] = T["monotonic"];
  T["monotonic_ns"] = in.builtin("monotonic_ns", [](Interpreter&, CallArgs&) {
    return Value::integer(std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count());
  });
  T["perf_counter_ns"] = T["monotonic_ns"];
  T["process_time"] = in.builtin("process_time", [](Interpreter&, CallArgs&) {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return Value::real(static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9);
  }, "clock_gettime(CLOCK_PROCESS_CPUTIME_ID)");
  T["sleep"] = in.builtin("sleep", [](Interpreter& in, CallArgs& a) {
    double s = in.to_float(in.arg(a, 0, "secs", "sleep"), "sleep");
    if (s < 0) in.raise("ValueError", "sleep length must be non-negative");
    std::this_thread::sleep_for(std::chrono::duration<double>(std::min(s, 1e6)));
    return Value();
  }, "blocking sleep (blocks aio's loop, as in asyncio)");
  T["strftime"] = in.builtin("strftime", [](Interpreter& in, CallArgs& a) {
    const std::string& format = in.to_str(in.arg(a, 0, "format", "strftime"), "strftime");
    std::time_t now = std::time(nullptr);
    std::tm tm{};
    localtime_r(&now, &tm);
    char buf[512];
    std::size_t n = std::strftime(buf, sizeof buf, format.c_str(), &tm);
    return in.str_value(std::string(buf, n));
  });
  // random
  auto* random = new ModuleObj("random");
  random->type = in.t.module;
  in.modules["random"] = Value(random);
  auto& R = random->attrs;
  static std::mt19937_64 engine(std::random_device{}());
  R["seed"] = in.builtin("seed", [](Interpreter& in, CallArgs& a) {
    Value s = in.arg(a, 0, "a", "seed", Value());
    engine.seed(s.is_none() ? std::random_device{}() : static_cast<std::uint64_t>(in.hash(s)));
    return Value();
  });
  R["random"] = in.builtin("random", [](Interpreter&, CallArgs&) { return Value::real(std::uniform_real_distribution<double>(0, 1)(engine)); });
  R["uniform"] = in.builtin("uniform", [](Interpreter& in, CallArgs& a) {
    double lo = in.to_float(in.arg(a, 0, "a", "uniform"), "uniform"), hi = in.to_float(in.arg(a, 1, "b", "uniform"), "uniform");
    return Value::real(lo + (hi - lo) * std::uniform_real_distribution<double>(0, 1)(engine));
  });
  R["randint"] = in.builtin("randint", [](Interpreter& in, CallArgs& a) {
    std::int64_t lo = in.to_int(in.arg(a, 0, "a", "randint"), "randint"), hi = in.to_int(in.arg(a, 1, "b", "randint"), "randint");
    if (hi < lo) in.raise("ValueError", "empty range in randrange(" + std::to_string(lo) + ", " + std::to_string(hi + 1) + ")");
    return Value::integer(std::uniform_int_distribution<std::int64_t>(lo, hi)(engine));
  });
  R["randrange"] = in.builtin("randrange", [](Interpreter& in, CallArgs& a) {
    std::int64_t lo = 0, hi;
    if (a.pos.size() == 1) hi = in.to_int(a.pos[0], "randrange");
    else { lo = in.to_int(in.arg(a, 0, "start", "randrange"), "randrange"); hi = in.to_int(in.arg(a, 1, "stop", "randrange"), "randrange"); }
    if (hi <= lo) in.raise("ValueError", "empty range for randrange()");
    return Value::integer(std::uniform_int_distribution<std::int64_t>(lo, hi - 1)(engine));
  });
  R["choice"] = in.builtin("choice", [](Interpreter& in, CallArgs& a) {
    std::vector<Value> items = in.to_vector(in.arg(a, 0, "seq", "choice"));
    if (items.empty()) in.raise("IndexError", "Cannot choose from an empty sequence");
    return items[std::uniform_int_distribution<std::size_t>(0, items.size() - 1)(engine)];
  });
  R["shuffle"] = in.builtin("shuffle", [](Interpreter& in, CallArgs& a) {
    Value list = in.arg(a, 0, "x", "shuffle");
    if (in.type_of(list) != in.t.list) in.raise("TypeError", "shuffle: expected a list");
    std::shuffle(list.as<ListObj>()->v.begin(), list.as<ListObj>()->v.end(), engine);
    return Value();
  });
  // sys
  auto* sys = new ModuleObj("sys");
  sys->type = in.t.module;
  in.modules["sys"] = Value(sys);
  auto& S = sys->attrs;
  S["argv"] = in.list_value();
  S["exit"] = in.builtin("exit", [](Interpreter& in, CallArgs& a) -> Value {
    std::vector<Value> args;
    if (!a.pos.empty()) args.push_back(a.pos[0]);
    in.throw_exception(in.new_exception(in.exception_type("SystemExit"), std::move(args)));
  });
  S["maxsize"] = Value::integer(INT64_MAX);
  S["platform"] = in.str_value("linux");
  S["version"] = in.str_value("3.11 (the aio REPL: asyncio run by aio)");
  S["implementation_name"] = in.str_value("aio");
  TypeObj* stream_type = native_type(in, "TextIOWrapper", "_io");
  struct StreamObj : NativeObj {
    StreamObj(TypeObj* type, FILE* file) : NativeObj(type), file(file) {}
    FILE* file;
  };
  in.add_method(stream_type, "write", [](Interpreter& in, CallArgs& a) {
    auto* s = self_as<StreamObj>(in, a, "write");
    const std::string& text = in.to_str(in.arg(a, 1, "s", "write"), "write() argument must be str");
    if (s->file == stderr) std::fflush(stdout);
    std::fwrite(text.data(), 1, text.size(), s->file);
    std::int64_t n = 0;
    for (unsigned char c : text) if ((c & 0xC0) != 0x80) ++n;
    return Value::integer(n);
  });
  in.add_method(stream_type, "flush", [](Interpreter& in, CallArgs& a) { std::fflush(self_as<StreamObj>(in, a, "flush")->file); return Value(); });
  S["stdout"] = Value(new StreamObj(stream_type, stdout));
  S["stderr"] = Value(new StreamObj(stream_type, stderr));
}

}  // namespace repl
