// The event loop's iteration (asyncio's BaseEventLoop._run_once):
//   1. wait for I/O: no wait when something is ready, else until the next timer;
//   2. move the timers that are due into the run queue, in deadline order;
//   3. run the callbacks that are ready now, and only those: anything they
//      schedule runs in the next iteration, after the next poll.
//
// Rule numbers cited here are those of docs/design/asyncio_rules.md.
#include "async/loop.h"

#include "async/internal/coroutine_debug.h"
#include "async/internal/exceptions.h"

#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <system_error>

namespace aio {
namespace {
// What the wake-up descriptor's epoll entry points at: it has no watcher.
char kWakeUpMarker;
}  // namespace
namespace internal {

CallbackState::CallbackState(EventLoop& loop, UniqueFunction callback)
    : loop(&loop), callback(std::move(callback)) {
  ReadyNode::run = &CallbackState::run_ready;
  TimerNode::fire = &CallbackState::fire_timer;
}

void CallbackState::schedule() {
  if (queued) return;
  add_ref();  // the run queue's reference
  loop->ready_.push_back(this);
}

void CallbackState::run_ready(ReadyNode* node) {
  auto* self = static_cast<CallbackState*>(node);
  Ref<CallbackState> keep(self);
  self->release_ref();  // the run queue's reference
  if (self->cancelled) return;
  try {
    self->callback();
  } catch (...) {
    self->loop->call_exception_handler({.message = "Exception in callback",
                                        .exception = std::current_exception(),
                                        .handle = Handle(keep)});
  }
}

void CallbackState::fire_timer(TimerNode* node) {
  // The heap's reference moves to the run queue.
  auto* self = static_cast<CallbackState*>(node);
  self->loop->ready_.push_back(self);
}

}  // namespace internal

namespace {

thread_local EventLoop* running_loop = nullptr;

// For each signal, the write end of the pipe of the loop that handles it (-1:
// none). Read by the signal handler, so only lock-free atomics.
std::atomic<int> signal_pipe_for[NSIG];
// How many times each signal arrived since its loop last read the pipe, and
// whether a repeat that arrives before then ends the process (Ctrl-C twice).
std::atomic<unsigned> signals_not_yet_read[NSIG];
std::atomic<bool> repeat_signal_terminates[NSIG];
struct SignalPipesInitializer {
  SignalPipesInitializer() {
    for (auto& fd : signal_pipe_for) fd.store(-1);
  }
} signal_pipes_initializer;

extern "C" void forward_signal_to_loop(int signal) {
  const int saved_errno = errno;  // the interrupted code may be reading errno
  if (signals_not_yet_read[signal].fetch_add(1) > 0 && repeat_signal_terminates[signal].load()) {
    // The loop has not even seen the first one (it may be stuck): take the
    // default action now. sigaction and raise are async-signal-safe.
    struct sigaction default_action {};
    default_action.sa_handler = SIG_DFL;
    ::sigaction(signal, &default_action, nullptr);
    ::raise(signal);  // delivered as soon as this handler returns
    errno = saved_errno;
    return;
  }
  int fd = signal_pipe_for[signal].load(std::memory_order_relaxed);
  if (fd >= 0) {
    unsigned char number = static_cast<unsigned char>(signal);
    // A full pipe drops the byte: thousands of the same signal are pending.
    [[maybe_unused]] ssize_t written = ::write(fd, &number, 1);
  }
  errno = saved_errno;
}

// A poll's timeout: negative waits without limit, zero does not block.
constexpr Duration kWaitWithoutLimit = Duration(-1);

// For epoll_wait and the external poller, which take milliseconds: a timer due
// in 0.3 ms must not turn into a busy loop of zero-timeout polls, so round up.
int milliseconds_until(Duration duration) {
  if (duration < Duration::zero()) return -1;
  if (duration == Duration::zero()) return 0;
  auto milliseconds = std::chrono::ceil<std::chrono::milliseconds>(duration).count();
  return milliseconds > 1'000'000 ? 1'000'000 : static_cast<int>(milliseconds);
}

// epoll_pwait2 (Linux 5.11) takes its timeout in nanoseconds. epoll_wait takes
// milliseconds, which makes sleep(100us) wait a whole millisecond and an open
// model's schedule of sends (tools/loadgen -R) late by up to one. On a kernel
// without it (ENOSYS, remembered), epoll_wait with the timeout rounded up.
std::atomic<bool> epoll_pwait2_missing{false};

int wait_for_events(int epoll_fd, epoll_event* events, int max_events, Duration timeout) {
  if (!epoll_pwait2_missing.load(std::memory_order_relaxed)) {
    timespec limit{};
    if (timeout >= Duration::zero()) {
      const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(timeout);
      limit.tv_sec = static_cast<time_t>(seconds.count());
      limit.tv_nsec = static_cast<long>(std::chrono::nanoseconds(timeout - seconds).count());
    }
    int count = epoll_pwait2(epoll_fd, events, max_events, timeout >= Duration::zero() ? &limit : nullptr, nullptr);
    if (count >= 0 || errno != ENOSYS) return count;
    epoll_pwait2_missing.store(true, std::memory_order_relaxed);
  }
  return epoll_wait(epoll_fd, events, max_events, milliseconds_until(timeout));
}

bool debug_from_environment() {
  const char* value = std::getenv("AIO_DEBUG");
  return value != nullptr && value[0] != '\0' && std::strcmp(value, "0") != 0;
}

// The shuffle seed from the options or from AIO_SHUFFLE (a number, or "random").
std::optional<std::uint64_t> shuffle_seed_from(const std::optional<std::uint64_t>& configured) {
  if (configured) return configured;
  const char* value = std::getenv("AIO_SHUFFLE");
  if (value == nullptr || value[0] == '\0' || std::strcmp(value, "0") == 0) return std::nullopt;
  char* end = nullptr;
  unsigned long long seed = std::strtoull(value, &end, 10);
  if (end != value && *end == '\0') return seed;
  return std::random_device{}() * 0x9e3779b97f4a7c15ull ^ std::random_device{}();
}

std::string describe_node(internal::ReadyNode* node) {
  if (node->run == &internal::CallbackState::run_ready) return "<Handle>";
  return "<" + static_cast<internal::LoopTask*>(node)->describe() + ">";
}

}  // namespace

namespace internal {

bool Mailbox::post(UniqueFunction& callback) {
  std::lock_guard lock(mutex_);
  if (closed_) return false;
  callbacks_.push_back(std::move(callback));
  has_mail_.store(true, std::memory_order_release);
  // Under the lock, so close() cannot close the descriptor meanwhile. A full
  // eventfd counter (EAGAIN) still wakes the loop.
  std::uint64_t one = 1;
  [[maybe_unused]] ssize_t written = ::write(wake_fd_, &one, sizeof one);
  return true;
}

std::vector<UniqueFunction> Mailbox::take() {
  std::vector<UniqueFunction> callbacks;
  std::lock_guard lock(mutex_);
  callbacks.swap(callbacks_);
  has_mail_.store(false, std::memory_order_relaxed);
  return callbacks;
}

std::vector<UniqueFunction> Mailbox::close() {
  std::lock_guard lock(mutex_);
  closed_ = true;
  has_mail_.store(false, std::memory_order_relaxed);
  return std::move(callbacks_);
}

}  // namespace internal

void Handle::cancel() {
  if (!state_ || state_->cancelled) return;
  state_->cancelled = true;
  if (state_->in_heap()) {
    if (state_->in_heap()) state_->loop->timers_.remove(state_.get());
    state_->release_ref();  // the heap's reference
  }
}

bool Handle::cancelled() const { return state_ && state_->cancelled; }

TimePoint TimerHandle::when() const { return state_->deadline; }

EventLoop::EventLoop() : EventLoop(Options{}) {}

EventLoop::EventLoop(Options options)
    : options_(options),
      debug_(options.debug || debug_from_environment()),
      anchor_(new internal::LoopAnchor(this)) {
  std::optional<std::uint64_t> seed;
  if (!options.ordered) seed = shuffle_seed_from(options.shuffle_seed);
  if (seed) {
    shuffle_random_ = std::make_unique<std::mt19937_64>(*seed);
    std::fprintf(stderr, "aio: shuffle mode, seed %llu (AIO_SHUFFLE=%llu replays it)\n",
                 static_cast<unsigned long long>(*seed), static_cast<unsigned long long>(*seed));
  }
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) throw std::system_error(errno, std::system_category(), "epoll_create1");
  wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd_ < 0) {
    int error = errno;
    ::close(epoll_fd_);
    throw std::system_error(error, std::system_category(), "eventfd");
  }
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.ptr = &kWakeUpMarker;  // the wake-up descriptor: no watcher
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &event);
  mailbox_ = std::make_shared<internal::Mailbox>(wake_fd_);
}

EventLoop::~EventLoop() {
  // Nothing queued runs any more: drop the queues first, so that destroying a
  // task below cannot leave a dangling node in them.
  while (!ready_.empty()) {
    internal::ReadyNode* node = ready_.pop_front();
    if (node->run == &internal::CallbackState::run_ready) {
      static_cast<internal::CallbackState*>(node)->release_ref();
    }
  }
  while (!timers_.empty()) {
    internal::TimerNode* node = timers_.pop();
    if (node->fire == &internal::CallbackState::fire_timer) {
      static_cast<internal::CallbackState*>(node)->release_ref();
    }
  }
  // Destroying pending tasks' coroutines runs their destructors, which may
  // remove readers or unlink waiters: the loop must still be intact for that.
  while (first_task_ != nullptr) {
    internal::LoopTask* task = first_task_;
    AnyTask keep(task);
    unregister_task(task);
    task->drop_task_reference();  // the loop's reference (see LoopAccess::register_task)
    call_exception_handler({.message = "Task was destroyed but it is pending!",
                            .task = keep,
                            .future = task->describe()});
    task->destroy_coroutine();
  }
  held_.clear();
  if (!closed_ && !running_) close();
  default_executor_.reset();  // joins its threads
  anchor_->loop = nullptr;
}


Handle EventLoop::call_soon(Callback callback) {
  throw_if_closed();
  internal::Ref<internal::CallbackState> state(new internal::CallbackState(*this, std::move(callback)));
  state->schedule();
  return Handle(std::move(state));
}

TimerHandle EventLoop::call_later(Duration delay, Callback callback) {
  return call_at(time() + delay, std::move(callback));
}

TimerHandle EventLoop::call_at(TimePoint when, Callback callback) {
  throw_if_closed();
  internal::Ref<internal::CallbackState> state(new internal::CallbackState(*this, std::move(callback)));
  state->deadline = when;
  timers_.push(state.get());
  state->add_ref();  // held by the heap until it fires or is cancelled
  return TimerHandle(std::move(state));
}

void EventLoop::call_soon_threadsafe(Callback callback) {
  if (!mailbox_->post(callback)) throw RuntimeError("Event loop is closed");
}

std::uint64_t EventLoop::hold(internal::Ref<internal::RefCounted> state) {
  std::uint64_t id = ++next_held_id_;
  held_.emplace(id, std::move(state));
  return id;
}

internal::Ref<internal::RefCounted> EventLoop::take_held(std::uint64_t id) {
  auto found = held_.find(id);
  if (found == held_.end()) return {};
  internal::Ref<internal::RefCounted> state = std::move(found->second);
  held_.erase(found);
  return state;
}

internal::RefCounted* EventLoop::find_held(std::uint64_t id) const {
  auto found = held_.find(id);
  return found == held_.end() ? nullptr : found->second.get();
}

TimePoint EventLoop::time() const noexcept {
  return options_.virtual_time ? virtual_now_ : Clock::now();
}

void EventLoop::throw_if_closed() const {
  if (closed_) throw RuntimeError("Event loop is closed");
}

void EventLoop::run_forever() {
  throw_if_closed();
  if (running_) throw RuntimeError("This event loop is already running");
  if (running_loop != nullptr) {
    throw RuntimeError("Cannot run the event loop while another loop is running");
  }
  running_ = true;
  running_loop = this;
  internal::record_coroutine_origins = debug_;
  struct Reset {
    EventLoop* loop;
    ~Reset() {
      loop->stopping_ = false;
      loop->running_ = false;
      running_loop = nullptr;
      internal::record_coroutine_origins = false;
    }
  } reset{this};
  for (;;) {
    run_once();
    if (stopping_) break;
  }
}

void EventLoop::stop() noexcept { stopping_ = true; }

void EventLoop::close() {
  if (running_) throw RuntimeError("Cannot close a running event loop");
  if (closed_) return;
  closed_ = true;
  // Work other threads posted and the loop never ran is dropped here, on the
  // loop's thread (it may hold references to loop objects).
  { std::vector<Callback> dropped = mailbox_->close(); }
  while (!signal_handlers_.empty()) remove_signal_handler(signal_handlers_.begin()->first);
  external_poller_.reset();  // its pending operations are dropped
  while (first_resource_ != nullptr) {
    internal::LoopResource* resource = first_resource_;
    untrack_resource(resource);
    resource->on_loop_close();
  }
  watches_.clear();
  if (signal_pipe_[0] >= 0) {
    ::close(signal_pipe_[0]);
    ::close(signal_pipe_[1]);
  }
  ::close(wake_fd_);
  ::close(epoll_fd_);
  epoll_fd_ = -1;  // a late unwatch_io must not touch a reused descriptor
}

void EventLoop::track_resource(internal::LoopResource* resource) noexcept {
  if (resource->tracked_) return;
  resource->tracked_ = true;
  resource->previous_resource_ = nullptr;
  resource->next_resource_ = first_resource_;
  if (first_resource_) first_resource_->previous_resource_ = resource;
  first_resource_ = resource;
}

void EventLoop::untrack_resource(internal::LoopResource* resource) noexcept {
  if (!resource->tracked_) return;
  resource->tracked_ = false;
  if (resource->previous_resource_) {
    resource->previous_resource_->next_resource_ = resource->next_resource_;
  } else {
    first_resource_ = resource->next_resource_;
  }
  if (resource->next_resource_) resource->next_resource_->previous_resource_ = resource->previous_resource_;
  resource->previous_resource_ = resource->next_resource_ = nullptr;
}

void EventLoop::run_once() {
  // Poll for I/O when nothing is ready (then it may block until the next timer),
  // and otherwise once every kIterationsBetweenPolls iterations. asyncio polls
  // every iteration; a poll is a system call that costs more than a task step,
  // so, like Tokio, aio skips it while the run queue is busy. I/O readiness is
  // thus noticed at most kIterationsBetweenPolls iterations late.
  if (ready_.empty() || stopping_ || ++iterations_since_poll_ >= kIterationsBetweenPolls) {
    iterations_since_poll_ = 0;
    Duration timeout = kWaitWithoutLimit;
    if (!ready_.empty() || stopping_) {
      timeout = Duration::zero();
    } else if (!timers_.empty()) {
      timeout = std::max(Duration::zero(), timers_.top()->deadline - time());
    }
    if (options_.virtual_time) {
      // A transport's protocol runs inside the poll and may have answered a
      // peer on this loop without queueing anything: time may jump only once a
      // poll finds nothing at all.
      int dispatched = poll_io(Duration::zero());
      const bool idle = dispatched == 0 && ready_.empty() && !mailbox_->has_mail();
      if (idle && real_time_holds_ > 0) {
        // Something outside this process will complete in real time (a child
        // process exiting): jumping would fire a guarding timeout at once. Wait
        // for real, up to the next deadline, and let virtual time advance by
        // what passed.
        const Duration wait = timers_.empty() ? kWaitWithoutLimit
                                              : std::max(Duration::zero(), timers_.top()->deadline - virtual_now_);
        const TimePoint before = Clock::now();
        poll_io(wait);
        virtual_now_ += Clock::now() - before;
        if (!timers_.empty() && ready_.empty() && timers_.top()->deadline > virtual_now_ &&
            wait >= Duration::zero() && Clock::now() - before >= wait) {
          virtual_now_ = timers_.top()->deadline;  // waited it out (clock granularity)
        }
      } else if (idle && !timers_.empty() && timers_.top()->deadline > virtual_now_) {
        virtual_now_ = timers_.top()->deadline;  // nothing to do until then: jump
      } else if (ready_.empty() && timers_.empty() && timeout == kWaitWithoutLimit) {
        poll_io(kWaitWithoutLimit);  // only I/O or another thread can wake us
      }
    } else {
      poll_io(timeout);
    }
  } else if (mailbox_->has_mail()) {
    take_threadsafe_callbacks();
  }

  if (!timers_.empty()) {
    const TimePoint now = time();
    while (!timers_.empty() && timers_.top()->deadline <= now) {
      internal::TimerNode* timer = timers_.pop();
      timer->fire(timer);
    }
  }

  // Only what is ready now runs in this iteration (rule 1).
  std::size_t count = ready_.size();
  if (debug_ || shuffle_random_) {
    run_batch_checked(count);
    return;
  }
  for (; count > 0; --count) {
    internal::ReadyNode* node = ready_.pop_front();
    node->run(node);
  }
}

void EventLoop::run_batch_checked(std::size_t count) {
  std::vector<internal::ReadyNode*> batch;
  batch.reserve(count);
  for (; count > 0; --count) batch.push_back(ready_.pop_front());
  if (shuffle_random_) {
    // Permute the task steps among the slots tasks occupy; callbacks stay put.
    std::vector<std::size_t> task_slots;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (batch[i]->run != &internal::CallbackState::run_ready) task_slots.push_back(i);
    }
    for (std::size_t i = task_slots.size(); i > 1; --i) {
      std::size_t j = std::uniform_int_distribution<std::size_t>(0, i - 1)(*shuffle_random_);
      std::swap(batch[task_slots[i - 1]], batch[task_slots[j]]);
    }
  }
  for (internal::ReadyNode* node : batch) {
    if (!debug_) {
      node->run(node);
      continue;
    }
    // Described before running: a task that finishes may be freed by its step.
    std::string description = describe_node(node);
    const Clock::time_point start = Clock::now();
    node->run(node);
    const Duration took = Clock::now() - start;
    if (took >= slow_callback_duration_) {
      std::fprintf(stderr, "aio: Executing %s took %.3f seconds\n", description.c_str(),
                   std::chrono::duration<double>(took).count());
    }
  }
}

void EventLoop::set_external_poller(std::unique_ptr<internal::ExternalPoller> poller) {
  throw_if_closed();
  external_poller_ = std::move(poller);
}

int EventLoop::poll_io(Duration timeout) {
  constexpr int kMaxEvents = 128;  // more wait for the next poll, in order
  epoll_event events[kMaxEvents];
  if (external_poller_) {
    // Wait in the other event system (which also watches our epoll descriptor),
    // then collect our own events without blocking.
    external_poller_->wait(milliseconds_until(timeout));
    timeout = Duration::zero();
  }
  int count = wait_for_events(epoll_fd_, events, kMaxEvents, timeout);
  if (count < 0) {
    if (errno == EINTR) return 0;
    throw std::system_error(errno, std::system_category(), "epoll_wait");
  }
  dispatching_events_ = events;
  dispatch_count_ = count;
  for (dispatch_next_ = 0; dispatch_next_ < dispatch_count_;) {
    const epoll_event& event = events[dispatch_next_++];
    if (event.data.ptr == &kWakeUpMarker) {
      std::uint64_t value;
      [[maybe_unused]] ssize_t read_bytes = ::read(wake_fd_, &value, sizeof value);
      continue;
    }
    auto* watcher = static_cast<internal::IoWatcher*>(event.data.ptr);
    if (watcher != nullptr) watcher->on_io(event.events);  // null: unwatched during this dispatch
  }
  dispatching_events_ = nullptr;
  dispatch_count_ = 0;
  retired_watches_.clear();
  take_threadsafe_callbacks();
  return count;
}

void EventLoop::take_threadsafe_callbacks() {
  if (!mailbox_->has_mail()) return;
  for (Callback& callback : mailbox_->take()) call_soon(std::move(callback));
}

void EventLoop::Watch::on_io(std::uint32_t events) {
  // Errors and hang-ups wake both sides: the callbacks find out by reading or
  // writing, as with asyncio's selector loop.
  constexpr std::uint32_t kAlways = EPOLLERR | EPOLLHUP;
  if ((events & (EPOLLIN | kAlways)) && reader && !reader->cancelled) reader->schedule();
  if ((events & (EPOLLOUT | kAlways)) && writer && !writer->cancelled) writer->schedule();
}

void EventLoop::watch_io(int fd, internal::IoWatcher* watcher, std::uint32_t events, bool registered) {
  throw_if_closed();
  epoll_event event{};
  event.events = events;
  event.data.ptr = watcher;
  if (epoll_ctl(epoll_fd_, registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &event) < 0) {
    throw std::system_error(errno, std::system_category(),
                            "epoll_ctl on file descriptor " + std::to_string(fd));
  }
  if (fd >= 0) {
    if (static_cast<std::size_t>(fd) >= io_watchers_.size()) io_watchers_.resize(fd + 1, nullptr);
    io_watchers_[fd] = watcher;
  }
}

void EventLoop::unwatch_io(int fd) noexcept {
  if (epoll_fd_ < 0 || fd < 0) return;
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  if (static_cast<std::size_t>(fd) >= io_watchers_.size()) return;
  internal::IoWatcher* watcher = std::exchange(io_watchers_[fd], nullptr);
  if (watcher == nullptr || dispatching_events_ == nullptr) return;
  // This poll may still hold readiness for it: drop that, the watcher may be
  // about to be freed.
  for (int i = dispatch_next_; i < dispatch_count_; ++i) {
    if (dispatching_events_[i].data.ptr == watcher) dispatching_events_[i].data.ptr = nullptr;
  }
}

void EventLoop::add_reader(int fd, std::function<void()> callback) {
  throw_if_closed();
  std::unique_ptr<Watch>& slot = watches_[fd];
  if (!slot) slot = std::make_unique<Watch>();
  Watch& watch = *slot;
  if (watch.reader) watch.reader->cancelled = true;
  watch.reader = internal::Ref<internal::CallbackState>(
      new internal::CallbackState(*this, std::move(callback)));
  update_watch(fd, watch);
}

void EventLoop::add_writer(int fd, std::function<void()> callback) {
  throw_if_closed();
  std::unique_ptr<Watch>& slot = watches_[fd];
  if (!slot) slot = std::make_unique<Watch>();
  Watch& watch = *slot;
  if (watch.writer) watch.writer->cancelled = true;
  watch.writer = internal::Ref<internal::CallbackState>(
      new internal::CallbackState(*this, std::move(callback)));
  update_watch(fd, watch);
}

bool EventLoop::remove_reader(int fd) { return remove_watch(fd, /*reader=*/true); }
bool EventLoop::remove_writer(int fd) { return remove_watch(fd, /*reader=*/false); }

bool EventLoop::remove_watch(int fd, bool reader) {
  if (closed_) return false;
  auto found = watches_.find(fd);
  if (found == watches_.end()) return false;
  Watch& watch = *found->second;
  internal::Ref<internal::CallbackState>& slot = reader ? watch.reader : watch.writer;
  if (!slot) return false;
  slot->cancelled = true;  // a readiness already queued must not run
  slot = {};
  update_watch(fd, watch);
  if (!watch.reader && !watch.writer) {
    retired_watches_.push_back(std::move(found->second));  // a poll may still report it
    watches_.erase(found);
  }
  return true;
}

void EventLoop::update_watch(int fd, Watch& watch) {
  std::uint32_t wanted = (watch.reader ? EPOLLIN : 0u) | (watch.writer ? EPOLLOUT : 0u);
  if (wanted == watch.registered_events) return;
  epoll_event event{};
  event.events = wanted;
  event.data.ptr = &watch;
  int operation = watch.registered_events == 0 ? EPOLL_CTL_ADD
                  : wanted == 0                ? EPOLL_CTL_DEL
                                               : EPOLL_CTL_MOD;
  if (epoll_ctl(epoll_fd_, operation, fd, &event) < 0) {
    int error = errno;
    if (operation == EPOLL_CTL_ADD) {
      watch.reader = {};
      watch.writer = {};
      watches_.erase(fd);  // frees `watch`: epoll never saw it
    }
    if (!(operation == EPOLL_CTL_DEL && (error == EBADF || error == ENOENT))) {
      throw std::system_error(error, std::system_category(),
                              "epoll_ctl on file descriptor " + std::to_string(fd));
    }
  }
  watch.registered_events = wanted;
}

struct EventLoop::SignalHandler {
  std::function<void()> callback;
  struct sigaction previous {};
};

void EventLoop::add_signal_handler(int signal, std::function<void()> callback) {
  throw_if_closed();
  if (signal <= 0 || signal >= NSIG || signal == SIGKILL || signal == SIGSTOP) {
    throw ValueError("add_signal_handler: signal " + std::to_string(signal) + " cannot be caught");
  }
  if (auto found = signal_handlers_.find(signal); found != signal_handlers_.end()) {
    found->second->callback = std::move(callback);
    return;
  }
  if (signal_pipe_for[signal].load() >= 0) {
    throw RuntimeError("add_signal_handler: signal " + std::to_string(signal) +
                             " is already handled by another event loop");
  }
  if (signal_pipe_[0] < 0) {
    if (::pipe2(signal_pipe_, O_NONBLOCK | O_CLOEXEC) < 0) {
      throw std::system_error(errno, std::system_category(), "pipe2 for signals");
    }
    add_reader(signal_pipe_[0], [this] { read_signal_pipe(); });
  }
  auto handler = std::make_unique<SignalHandler>();
  handler->callback = std::move(callback);
  struct sigaction action {};
  action.sa_handler = &forward_signal_to_loop;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;  // other threads' blocking calls are not interrupted
  signal_pipe_for[signal].store(signal_pipe_[1]);
  if (::sigaction(signal, &action, &handler->previous) < 0) {
    int error = errno;
    signal_pipe_for[signal].store(-1);
    throw std::system_error(error, std::system_category(), "sigaction(" + std::to_string(signal) + ")");
  }
  signal_handlers_.emplace(signal, std::move(handler));
}

bool EventLoop::remove_signal_handler(int signal) {
  auto found = signal_handlers_.find(signal);
  if (found == signal_handlers_.end()) return false;
  ::sigaction(signal, &found->second->previous, nullptr);
  signal_pipe_for[signal].store(-1);
  repeat_signal_terminates[signal].store(false);
  signals_not_yet_read[signal].store(0);
  signal_handlers_.erase(found);
  return true;
}

void EventLoop::read_signal_pipe() {
  unsigned char signals[64];
  for (;;) {
    ssize_t count = ::read(signal_pipe_[0], signals, sizeof signals);
    if (count <= 0) return;
    for (ssize_t i = 0; i < count; ++i) {
      signals_not_yet_read[signals[i]].store(0);
      auto found = signal_handlers_.find(signals[i]);
      if (found == signal_handlers_.end()) continue;  // removed meanwhile
      // Copied: the callback may remove or replace its own handler.
      std::function<void()> callback = found->second->callback;
      try {
        callback();
      } catch (...) {
        call_exception_handler({.message = "Exception in signal handler for signal " +
                                           std::to_string(signals[i]),
                                .exception = std::current_exception()});
      }
    }
  }
}

void EventLoop::set_exception_handler(ExceptionHandler handler) {
  exception_handler_ = std::move(handler);
}

void EventLoop::call_exception_handler(const ExceptionContext& context) {
  if (exception_handler_) {
    try {
      exception_handler_(*this, context);
      return;
    } catch (...) {
      // asyncio: an error in the handler is reported by the default handler.
      default_exception_handler({.message = "Unhandled error in exception handler",
                                 .exception = std::current_exception()});
    }
  }
  default_exception_handler(context);
}

void EventLoop::default_exception_handler(const ExceptionContext& context) {
  std::string text = context.message.empty() ? "Unhandled exception in event loop" : context.message;
  if (!context.future.empty()) text += "\n  future: " + context.future;
  if (context.exception) text += "\n  exception: " + internal::describe_exception(context.exception);
  std::fprintf(stderr, "%s\n", text.c_str());
}

std::vector<AnyTask> EventLoop::all_tasks() const {
  std::vector<AnyTask> tasks;
  for (internal::LoopTask* task = first_task_; task != nullptr; task = task->next_task) {
    tasks.push_back(AnyTask(task));
  }
  return tasks;
}

void EventLoop::register_task(internal::LoopTask* task) noexcept {  // the loop owns every pending task (no weak-reference footgun)
  task->previous_task = nullptr;
  task->next_task = first_task_;
  if (first_task_) first_task_->previous_task = task;
  first_task_ = task;
}

void EventLoop::unregister_task(internal::LoopTask* task) noexcept {
  if (task->previous_task) {
    task->previous_task->next_task = task->next_task;
  } else {
    first_task_ = task->next_task;
  }
  if (task->next_task) task->next_task->previous_task = task->previous_task;
  task->previous_task = task->next_task = nullptr;
}

std::uint64_t EventLoop::next_task_number() noexcept {
  // asyncio numbers tasks per process; so does aio (Task-1, Task-2, ...). Each
  // thread takes numbers from the process-wide counter in blocks, so that
  // create_task does not pay for an atomic increment: numbers stay unique in the
  // process and increase within a thread.
  constexpr std::uint64_t kBlock = 1024;
  static std::atomic<std::uint64_t> next_block{0};
  thread_local std::uint64_t next = 0;
  thread_local std::uint64_t end = 0;
  if (next == end) {
    next = next_block.fetch_add(kBlock, std::memory_order_relaxed) + 1;
    end = next + kBlock;
  }
  return next++;
}

namespace internal {
void set_repeat_signal_terminates(int signal, bool terminates) noexcept {
  if (signal > 0 && signal < NSIG) repeat_signal_terminates[signal].store(terminates);
}
}  // namespace internal

EventLoop& get_running_loop() {
  if (running_loop == nullptr) throw RuntimeError("no running event loop");
  return *running_loop;
}

EventLoop* running_loop_or_null() noexcept { return running_loop; }

}  // namespace aio
