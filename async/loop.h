// aio::EventLoop: one loop per thread, asyncio's event loop in C++.
//
// The loop runs ready callbacks and task steps in FIFO batches (a callback
// scheduled during a batch runs in the next iteration, after the next I/O poll),
// fires timers in deadline order, and waits for file-descriptor readiness with
// epoll when nothing is ready. Everything here must be called from the loop's
// thread, except call_soon_threadsafe().
//
// Most code never touches the loop directly: aio::run() creates one, runs a
// coroutine in it, and closes it. Use the loop for callbacks, timers, and raw
// file descriptors; use aio::get_running_loop() to find it from inside a task.
//
// Errors: scheduling on a closed loop throws aio::RuntimeError("Event loop is
// closed"); an exception escaping a callback goes to the exception handler and
// the loop keeps running.
//
// What aio's own awaiters, transports and tools need beyond this public
// interface (the ready queue, timers, task bookkeeping, epoll registration) is
// private, reached only through internal::LoopAccess (internal/loop_access.h,
// the //async:loop_internal target, visible inside aio only).
#ifndef AIO_ASYNC_LOOP_H_
#define AIO_ASYNC_LOOP_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <random>
#include <mutex>
#include <optional>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "async/errors.h"
#include "async/internal/loop_task.h"
#include "async/internal/ready_queue.h"
#include "async/internal/ref.h"
#include "async/internal/timer_heap.h"
#include "async/internal/unique_function.h"

struct epoll_event;

namespace aio {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using Duration = Clock::duration;

class EventLoop;
class Executor;
class ThreadPoolExecutor;
template <class T>
class Future;
template <class T>
class Task;
template <class T>
class Coro;

namespace internal {
class LoopAccess;

// Lets objects that may outlive their loop (a Task handle kept after run()
// returned) find out whether the loop still exists.
class LoopAnchor final : public RefCounted {
 public:
  explicit LoopAnchor(EventLoop* loop) : loop(loop) {}
  EventLoop* loop;
};

// A call_soon/call_later/add_reader callback. Lives on the heap, shared by the
// Handle the caller holds and by the loop while it is scheduled or in the timer
// heap (each holds a reference).
class CallbackState final : public RefCounted, public ReadyNode, public TimerNode {
 public:
  CallbackState(EventLoop& loop, UniqueFunction callback);
  // Queues the callback unless it is queued already.
  void schedule();
  static void run_ready(ReadyNode* node);
  static void fire_timer(TimerNode* node);

  EventLoop* loop;
  UniqueFunction callback;
  bool cancelled = false;
};
// Where other threads leave work for a loop (call_soon_threadsafe). Shared with
// whatever may outlive the loop (an executor job, run_coroutine_threadsafe), so
// that posting to a loop that is closed or gone is a clean refusal instead of a
// write to a closed (or reused) file descriptor.
class Mailbox {
 public:
  explicit Mailbox(int wake_fd) : wake_fd_(wake_fd) {}
  // Queues `callback` and wakes the loop. Returns false, leaving `callback` with
  // the caller, once the loop is closed. Thread-safe.
  bool post(UniqueFunction& callback);
  bool has_mail() const noexcept { return has_mail_.load(std::memory_order_acquire); }
  std::vector<UniqueFunction> take();
  // Refuses later posts and returns what is still queued. Loop thread only.
  std::vector<UniqueFunction> close();

 private:
  std::mutex mutex_;
  std::vector<UniqueFunction> callbacks_;
  std::atomic<bool> has_mail_{false};
  const int wake_fd_;
  bool closed_ = false;
};

// Another event system the loop waits in instead of epoll_wait, so that both
// make progress on one thread (aio's Boost.Asio bridge, async/asio.h). It must
// return once the loop's epoll descriptor is readable, its own work completed
// something, or the timeout passed.
class ExternalPoller {
 public:
  virtual ~ExternalPoller() = default;
  // timeout_milliseconds: -1 waits without limit, 0 does not block.
  virtual void wait(int timeout_milliseconds) = 0;
};

// What the loop notifies directly, from its I/O poll, when a file descriptor it
// watches through EventLoop::watch_io is ready: aio's transports. No callback
// object, no hash lookup, no queueing: the readiness goes straight to the
// object that owns the descriptor, as in libuv. The owner must stay alive until
// the poll that may still report it has finished: unwatch, then free it from a
// later callback (transports release themselves with call_soon).
class IoWatcher {
 public:
  // `events` is the epoll event mask (EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP, ...).
  virtual void on_io(std::uint32_t events) = 0;

 protected:
  ~IoWatcher() = default;
};

// Something that must let go of the loop when the loop closes: an open
// transport, a server's listening sockets. close() calls on_loop_close() on
// each one still tracked, so that descriptors are closed and reference cycles
// (a transport and its protocol) broken even when a program ends with
// connections open. Called once; the object is untracked first.
class LoopResource {
 public:
  virtual void on_loop_close() noexcept = 0;

 protected:
  ~LoopResource() = default;
  // Whether the loop still tracks this object: false before track_resource,
  // after untrack_resource, and once the loop has closed (when the loop may be
  // gone: do not touch it then).
  bool tracked_by_loop() const noexcept { return tracked_; }

 private:
  friend class aio::EventLoop;
  LoopResource* previous_resource_ = nullptr;
  LoopResource* next_resource_ = nullptr;
  bool tracked_ = false;
};

}  // namespace internal

// A scheduled callback (call_soon, add_reader). Copyable handle; cancel() makes
// sure the callback does not run (if it has not run yet).
class Handle {
 public:
  Handle() = default;
  void cancel();
  bool cancelled() const;

 protected:
  explicit Handle(internal::Ref<internal::CallbackState> state) : state_(std::move(state)) {}
  internal::Ref<internal::CallbackState> state_;
  friend class EventLoop;
  friend class internal::CallbackState;
};

// A callback scheduled for a point in time (call_later, call_at).
class TimerHandle : public Handle {
 public:
  TimerHandle() = default;
  // The deadline on the loop's clock (EventLoop::time()).
  TimePoint when() const;

 private:
  using Handle::Handle;
  friend class EventLoop;
};

// A type-erased handle to a task: what current_task(), all_tasks() and the
// exception handler's context give, with asyncio's whole Task interface except
// the typed result (convert back with Task<T>::from(any) when the type is
// known). A cheap copyable handle, as Task<T> is; loop thread only.
class AnyTask {
 public:
  AnyTask(const AnyTask& other) noexcept : task_(other.task_) { task_->add_task_reference(); }
  AnyTask& operator=(const AnyTask& other) noexcept {
    other.task_->add_task_reference();
    task_->drop_task_reference();
    task_ = other.task_;
    return *this;
  }
  ~AnyTask() { task_->drop_task_reference(); }

  const std::string& get_name() const { return task_->task_name(); }
  void set_name(std::string name) { task_->set_task_name(std::move(name)); }
  bool done() const noexcept { return task_->task_done(); }
  bool cancelled() const noexcept { return task_->task_cancelled(); }
  // asyncio's Task.cancel / cancelling / uncancel (docs/design/cancellation.md).
  bool cancel(std::string message = {}) { return task_->cancel_task(std::move(message)); }
  int cancelling() const noexcept { return task_->task_cancelling(); }
  int uncancel() noexcept { return task_->uncancel_task(); }
  // Null when the task succeeded, its exception when it failed; throws
  // CancelledError if it was cancelled and InvalidStateError while it runs.
  std::exception_ptr exception() const { return task_->task_exception(); }
  // Schedules `callback(task)` once the task is done (at once if it is).
  void add_done_callback(std::function<void(AnyTask)> callback) { task_->add_done_callback(std::move(callback)); }
  // An identity, the same for every handle to this task and distinct from every
  // other live task's (Python's id(task)): a key for maps of tasks.
  const void* id() const noexcept { return task_; }
  friend bool operator==(const AnyTask& a, const AnyTask& b) noexcept { return a.task_ == b.task_; }

 private:
  friend class internal::LoopAccess;
  friend class EventLoop;
  explicit AnyTask(internal::LoopTask* task) noexcept : task_(task) { task_->add_task_reference(); }
  internal::LoopTask* task_;
};

// What call_exception_handler() receives: asyncio's context dict as a struct.
struct ExceptionContext {
  std::string message;
  std::exception_ptr exception;  // may be null
  std::optional<AnyTask> task;   // the task involved, if it is still alive
  std::string future;            // description of the future or task ("Task 'Task-3'")
  std::optional<Handle> handle;  // the callback that raised, if any
};

class EventLoop {
 public:
  using Callback = internal::UniqueFunction;
  using ExceptionHandler = std::function<void(EventLoop&, const ExceptionContext&)>;

  struct Options {
    // The test loop (see async/testing.h): time() starts at 0 and, when nothing is
    // ready and no I/O is pending, jumps straight to the next timer's deadline.
    bool virtual_time = false;
    // asyncio's debug mode; also turned on by the environment variable AIO_DEBUG=1.
    // Adds slow-callback warnings and records where each coroutine was created,
    // for the "never awaited" report.
    bool debug = false;
    // Shuffle mode: each iteration runs its ready task steps in a random order
    // (callbacks keep their FIFO order, which asyncio guarantees), so that code
    // relying on an order aio does not promise fails in tests. The seed is printed
    // to stderr; the same seed replays the same orders. Also turned on by the
    // environment: AIO_SHUFFLE=<seed>, or AIO_SHUFFLE=random.
    std::optional<std::uint64_t> shuffle_seed;
    // Never shuffle, whatever AIO_SHUFFLE says: for tests of the scheduling
    // order itself.
    bool ordered = false;
  };

  EventLoop();
  explicit EventLoop(Options options);
  // Closes the loop if needed. Tasks still pending are destroyed and reported
  // ("Task was destroyed but it is pending!").
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // --- callbacks and timers --------------------------------------------------
  // Runs `callback` in the next iteration, after those scheduled before it (FIFO).
  Handle call_soon(Callback callback);
  // Runs `callback` once `delay` has passed; a delay <= 0 means the next iteration.
  TimerHandle call_later(Duration delay, Callback callback);
  // Runs `callback` at `when` on the loop's clock.
  TimerHandle call_at(TimePoint when, Callback callback);
  // The only thread-safe scheduling call: queues `callback` and wakes the loop.
  // Throws aio::RuntimeError if the loop is closed.
  void call_soon_threadsafe(Callback callback);
  // The loop's monotonic clock (virtual on a test loop).
  TimePoint time() const noexcept;

  // --- running ---------------------------------------------------------------
  // Runs the loop until `task` (or a task made of `coro`) is done and returns its
  // result or rethrows its exception. Throws aio::RuntimeError if the loop
  // stops first. Defined in async/task.h (//async:task).
  template <class T>
  T run_until_complete(Task<T> task);
  template <class T>
  T run_until_complete(Coro<T> coro);
  // Runs until stop() is called. Throws aio::RuntimeError if the loop is closed
  // or already running, or another loop runs on this thread.
  void run_forever();
  // Lets the current batch finish, then returns from run_forever(). Called
  // before run_forever(), the loop runs one iteration and returns.
  void stop() noexcept;
  // Frees the loop's resources. Throws aio::RuntimeError if the loop is running.
  // Idempotent.
  void close();
  bool is_running() const noexcept { return running_; }
  bool is_closed() const noexcept { return closed_; }

  // --- file descriptors ------------------------------------------------------
  // Calls `callback` whenever `fd` is readable (writable), until removed. Adding
  // again replaces the callback. The loop does not own `fd`: remove it before
  // closing it. Throws std::system_error if epoll rejects the descriptor.
  void add_reader(int fd, std::function<void()> callback);
  void add_writer(int fd, std::function<void()> callback);
  // Returns true if a callback was registered.
  bool remove_reader(int fd);
  bool remove_writer(int fd);


  // --- signals ---------------------------------------------------------------
  // Runs `callback` on the loop (as a callback, never inside the signal handler)
  // each time `signal` arrives. Adding again replaces the callback. Signals are
  // process-wide: one loop at a time can handle a given signal. Throws
  // aio::ValueError for a signal number that cannot be caught (SIGKILL,
  // SIGSTOP, out of range), aio::RuntimeError if another loop handles it, and
  // std::system_error if the kernel refuses.
  void add_signal_handler(int signal, std::function<void()> callback);
  // Restores the disposition the signal had before add_signal_handler; returns
  // false if this loop had no handler for it.
  bool remove_signal_handler(int signal);

  // --- errors ----------------------------------------------------------------
  // Replaces the handler; an empty handler restores the default, which writes
  // the context to stderr.
  void set_exception_handler(ExceptionHandler handler);
  void call_exception_handler(const ExceptionContext& context);
  void default_exception_handler(const ExceptionContext& context);

  // --- executors (async/executor.h) ---------------------------------------------
  // Runs `function()` on `executor` (the loop's default thread pool when null)
  // and returns a Future for its result, settled on this loop. Cancelling the
  // future before the job starts keeps it from running; a job already running
  // finishes, and its result is dropped. Defined in async/executor.h, as are the
  // two below (//async:executor: the loop itself does not depend on it).
  template <class Function>
  auto run_in_executor(Executor* executor, Function function)
      -> Future<std::invoke_result_t<Function&>>;
  // The pool that run_in_executor(nullptr, ...) and aio::to_thread use, created on
  // first use.
  ThreadPoolExecutor& default_executor();
  // Waits for the default pool's jobs to finish and stops its threads (aio::run
  // does this before closing the loop). Later jobs get a new pool.
  void shutdown_default_executor();

  bool get_debug() const noexcept { return debug_; }
  void set_debug(bool enabled) noexcept { debug_ = enabled; }
  // In debug mode, a callback or task step that runs at least this long is
  // reported on stderr ("Executing <Task 'x'> took 0.150 seconds"). 100 ms by
  // default, as asyncio's loop.slow_callback_duration.
  Duration slow_callback_duration() const noexcept { return slow_callback_duration_; }
  void set_slow_callback_duration(Duration duration) noexcept { slow_callback_duration_ = duration; }

  // Every task of this loop that has not finished (asyncio.all_tasks(loop)).
  std::vector<AnyTask> all_tasks() const;

 private:
  // What aio's own awaiters and transports use (internal/loop_access.h).
  friend class internal::LoopAccess;
  friend class internal::CallbackState;
  friend class Handle;
  internal::ExternalPoller* external_poller() const noexcept { return external_poller_.get(); }
  void set_external_poller(std::unique_ptr<internal::ExternalPoller> poller);
  // Keeps a future alive on the loop's thread while another thread works for it;
  // the other thread refers to it by the returned id only (a reference count
  // must never be touched off the loop's thread). take_held() hands it back.
  std::uint64_t hold(internal::Ref<internal::RefCounted> state);
  internal::Ref<internal::RefCounted> take_held(std::uint64_t id);
  internal::RefCounted* find_held(std::uint64_t id) const;
  void throw_if_closed() const;
  void register_task(internal::LoopTask* task) noexcept;
  void unregister_task(internal::LoopTask* task) noexcept;
  static std::uint64_t next_task_number() noexcept;
  // Watches `fd` for `events` (EPOLLIN / EPOLLOUT, level triggered) and calls
  // watcher->on_io() from the poll. Again changes the events; events 0 keeps the
  // registration but watches nothing. An fd is watched either this way or with
  // add_reader/add_writer, not both. Throws std::system_error if epoll refuses.
  void watch_io(int fd, internal::IoWatcher* watcher, std::uint32_t events, bool registered);
  // Stops watching `fd` (before it is closed). No-op for an fd epoll forgot,
  // and after close(). Readiness of `fd` that the current poll reported but has
  // not dispatched yet is dropped, so a watcher may be freed right after it was
  // unwatched, even from inside another watcher's on_io().
  void unwatch_io(int fd) noexcept;
  // See internal::LoopResource. Tracking again, or untracking an object that is
  // not tracked, does nothing.
  void track_resource(internal::LoopResource* resource) noexcept;
  void untrack_resource(internal::LoopResource* resource) noexcept;

  // Callbacks registered for one file descriptor.
  struct Watch final : internal::IoWatcher {
    void on_io(std::uint32_t events) override;
    internal::Ref<internal::CallbackState> reader;
    internal::Ref<internal::CallbackState> writer;
    std::uint32_t registered_events = 0;  // what epoll currently watches
  };
  void run_once();
  // The batch loop with debug timing and/or shuffling; run_once's slow path.
  void run_batch_checked(std::size_t count);
  // Returns how many readiness events it dispatched.
  // Waits up to `timeout` (negative: without limit; zero: not at all) and
  // dispatches what is ready. Returns how many events it dispatched.
  int poll_io(Duration timeout);
  void take_threadsafe_callbacks();
  void update_watch(int fd, Watch& watch);
  bool remove_watch(int fd, bool reader);

  // How many iterations may run without an I/O poll while tasks are ready. The
  // same figure as Tokio's event_interval: polls stay rare under load, and I/O
  // is still seen within a bounded number of task steps.
  static constexpr unsigned kIterationsBetweenPolls = 61;

  Options options_;
  unsigned iterations_since_poll_ = 0;
  bool debug_ = false;
  Duration slow_callback_duration_ = std::chrono::milliseconds(100);
  std::unique_ptr<std::mt19937_64> shuffle_random_;
  bool running_ = false;
  bool stopping_ = false;
  bool closed_ = false;
  internal::ReadyQueue ready_;
  internal::TimerHeap timers_;
  internal::LoopTask* current_task_ = nullptr;
  internal::LoopTask* first_task_ = nullptr;  // pending tasks, owned by the loop
  TimePoint virtual_now_{};
  // Things that complete in real time whatever the clock says (child processes
  // being watched): while any is held, the test loop waits for real instead of
  // jumping (see run_once and LoopAccess::hold_real_time).
  int real_time_holds_ = 0;
  internal::Ref<internal::LoopAnchor> anchor_;
  ExceptionHandler exception_handler_;

  int epoll_fd_ = -1;
  int wake_fd_ = -1;  // eventfd written by call_soon_threadsafe
  std::unordered_map<int, std::unique_ptr<Watch>> watches_;
  internal::LoopResource* first_resource_ = nullptr;
  // The watcher of each descriptor watched with watch_io (indexed by fd), and
  // the poll's events still to dispatch, for unwatch_io's scrubbing.
  std::vector<internal::IoWatcher*> io_watchers_;
  epoll_event* dispatching_events_ = nullptr;
  int dispatch_next_ = 0;
  int dispatch_count_ = 0;
  // Watches removed while a poll may still report them; freed after the poll.
  std::vector<std::unique_ptr<Watch>> retired_watches_;

  // Signals: the process-wide handler writes the signal number into this pipe;
  // its reader runs the callbacks.
  void read_signal_pipe();
  struct SignalHandler;
  std::unordered_map<int, std::unique_ptr<SignalHandler>> signal_handlers_;
  int signal_pipe_[2] = {-1, -1};

  std::shared_ptr<internal::Mailbox> mailbox_;
  // A shared_ptr so that the loop can destroy (join) the pool without the
  // executor's definition: //async:executor creates it, the loop only owns it.
  std::shared_ptr<ThreadPoolExecutor> default_executor_;
  std::unique_ptr<internal::ExternalPoller> external_poller_;
  std::unordered_map<std::uint64_t, internal::Ref<internal::RefCounted>> held_;
  std::uint64_t next_held_id_ = 0;
};

namespace internal {
// For a signal handled with add_signal_handler: if it arrives again before the
// loop has read the first one, take the default action at once (aio::run's
// second Ctrl-C). Reset by remove_signal_handler.
void set_repeat_signal_terminates(int signal, bool terminates) noexcept;
}  // namespace internal

// The loop running on this thread. Throws aio::RuntimeError("no running event
// loop") outside a running loop (asyncio.get_running_loop).
EventLoop& get_running_loop();
// Same, or null instead of throwing.
EventLoop* running_loop_or_null() noexcept;

}  // namespace aio

#endif  // AIO_ASYNC_LOOP_H_
