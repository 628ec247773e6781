#include "async/run.h"

#include "async/executor.h"
#include "async/inspect.h"

#include <cxxabi.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <string>
#include <typeinfo>
#include <vector>

namespace aio {

namespace internal {
namespace {
// "aio::TimeoutError" for the type of the exception being handled.
std::string current_exception_type_name() {
  const std::type_info* type = abi::__cxa_current_exception_type();
  if (type == nullptr) return "unknown exception";
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> name(abi::__cxa_demangle(type->name(), nullptr, nullptr, &status),
                                              std::free);
  return status == 0 && name ? std::string(name.get()) : std::string(type->name());
}
}  // namespace

int report_uncaught_exception() noexcept {
  try {
    throw;
  } catch (const KeyboardInterrupt&) {
    std::fprintf(stderr, "KeyboardInterrupt\n");
    return 130;
  } catch (const CancelledError& cancelled) {
    // asyncio prints "asyncio.exceptions.CancelledError" (and the message).
    std::fprintf(stderr, "aio::%s\n", cancelled.describe().c_str());
    return 1;
  } catch (const std::exception& error) {
    const std::string type = current_exception_type_name();
    const char* message = error.what();
    if (message == nullptr || *message == '\0') {
      std::fprintf(stderr, "%s\n", type.c_str());
    } else {
      std::fprintf(stderr, "%s: %s\n", type.c_str(), message);
    }
    return 1;
  } catch (...) {
    std::fprintf(stderr, "%s\n", current_exception_type_name().c_str());
    return 1;
  }
}
}  // namespace internal

Runner::Runner(RunOptions options)
    : loop_(std::make_unique<EventLoop>(
          EventLoop::Options{.virtual_time = options.virtual_time,
                             .debug = options.debug,
                             .shuffle_seed = options.shuffle_seed,
                             .ordered = options.ordered})) {
  const char* requested = std::getenv("AIO_INSPECT");
  const bool from_environment = requested != nullptr && *requested != '\0' && std::string(requested) != "0";
  if (options.inspect) {
    inspect_ = std::make_unique<InspectServer>(*loop_);
  } else if (from_environment) {
    try {
      inspect_ = std::make_unique<InspectServer>(*loop_);
    } catch (const std::exception& error) {
      std::fprintf(stderr, "aio: AIO_INSPECT is set but the inspection socket cannot be served: %s\n", error.what());
    }
  }
}

Runner::~Runner() {
  try {
    close();
  } catch (...) {
    // close() throws only when misused from a running loop; a destructor cannot
    // report that, and the loop's own destructor still frees everything.
  }
}

Runner::SigintHandling::SigintHandling(EventLoop& loop, AnyTask main_task)
    : loop_(loop), main_task_(std::move(main_task)) {
  const bool main_thread = ::getpid() == static_cast<pid_t>(::syscall(SYS_gettid));
  struct sigaction current {};
  if (!main_thread || ::sigaction(SIGINT, nullptr, &current) != 0 || current.sa_handler != SIG_DFL) {
    return;  // the program handles SIGINT itself, or this is not the main thread
  }
  loop_.add_signal_handler(SIGINT, [this] {
    ++interrupts_;
    // From now on a second Ctrl-C ends the process at once (the default action).
    loop_.remove_signal_handler(SIGINT);
    installed_ = false;
    if (!main_task_.done()) main_task_.cancel();
  });
  internal::set_repeat_signal_terminates(SIGINT, true);  // even if the loop is stuck
  installed_ = true;
}

Runner::SigintHandling::~SigintHandling() {
  if (installed_) loop_.remove_signal_handler(SIGINT);
}

void Runner::throw_if_unusable() const {
  if (!loop_) throw RuntimeError("Runner is closed");
  if (running_loop_or_null() != nullptr) {
    throw RuntimeError("aio::run() cannot be called from a running event loop");
  }
}

EventLoop& Runner::get_loop() {
  if (!loop_) throw RuntimeError("Runner is closed");
  return *loop_;
}

void Runner::close() {
  if (!loop_) return;
  if (loop_->is_running()) throw RuntimeError("Runner::close() called while the loop is running");
  inspect_.reset();  // the socket goes first: a snapshot of a closing loop would mislead
  cancel_remaining_tasks();
  // Jobs still running in the default pool finish first; their results then
  // find the loop closed and are dropped.
  loop_->shutdown_default_executor();
  loop_->close();
  loop_.reset();
}

void Runner::cancel_remaining_tasks() {
  std::vector<AnyTask> tasks = loop_->all_tasks();
  if (tasks.empty()) return;
  for (AnyTask& task : tasks) task.cancel();
  // Run until every cancelled task has finished its clean-up (which may await),
  // like asyncio's gather(*tasks, return_exceptions=True).
  EventLoop& loop = *loop_;
  std::size_t pending = 0;
  for (AnyTask& task : tasks) {
    if (task.done()) continue;
    ++pending;
    task.add_done_callback([&loop, &pending](const AnyTask&) {
      if (--pending == 0) loop.stop();
    });
  }
  if (pending > 0) loop.run_forever();
  for (AnyTask& task : tasks) {
    internal::TaskBase* state = internal::TaskBase::of(task);
    if (state->cancelled()) continue;
    if (std::exception_ptr error = state->error_for_result()) {
      loop.call_exception_handler({.message = "unhandled exception during aio::run() shutdown",
                                   .exception = error,
                                   .task = task,
                                   .future = state->describe()});
    }
  }
}

}  // namespace aio
