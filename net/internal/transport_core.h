// What every transport on aio's loop shares: write flow control (asyncio's
// _FlowControlMixin) and the way a transport closes (asyncio's
// _SelectorTransport._force_close / _call_connection_lost).
//
// Design. TransportCore<Derived, ProtocolType> is a CRTP base, not a virtual
// one: the stream transport (sockets and pipes, stream_transport.cc) and the
// datagram transport (datagram_transport.cc) call it on every write and every
// readiness event, so everything here is inline and non-virtual and a
// transport pays what it paid when each had its own copy. The base owns the
// state the close path needs (the loop, the descriptor and its epoll
// registration, the protocol, the loop's reference `self_`, the closing and
// lost flags, the watermarks); the transport keeps its own buffer and tells
// the base, through two hooks, how to drop it and what else to let go of:
//
//   void drop_write_buffer() noexcept;   // force_close, on_loop_close
//   void release_references() noexcept;  // after connection_lost / loop close
//
// Lifetime rules, the same for every transport: `self_` is the loop's
// reference while the connection is open; connection_lost runs from
// call_soon (which holds that reference) in a later iteration than the call
// that closed the transport; on_io may therefore use `this` freely, as no
// callback can free the transport inside it. When the loop closes first,
// on_loop_close closes the descriptor and breaks the transport <-> protocol
// cycle without callbacks.
//
// The TLS transport (tls_transport.h) has no buffer of its own to limit: its
// set_write_buffer_limits is the raw transport's, whose pause_writing /
// resume_writing it passes on to the application's protocol.
#ifndef AIO_NET_INTERNAL_TRANSPORT_CORE_H_
#define AIO_NET_INTERNAL_TRANSPORT_CORE_H_

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

#include "async/errors.h"
#include "async/internal/loop_access.h"
#include "async/loop.h"

namespace aio::internal {

// asyncio's flow-control defaults (transports.py _FlowControlMixin): pause
// above 64 KiB, resume at 16 KiB.
inline constexpr std::size_t kDefaultHighWater = 64 * 1024;
inline constexpr std::size_t kDefaultLowWater = kDefaultHighWater / 4;
// After this many writes to a lost connection, warn once (asyncio's
// LOG_THRESHOLD_FOR_CONNLOST_WRITES).
inline constexpr int kLostWritesBeforeWarning = 5;

// The watermarks and whether the protocol is paused.
class WriteFlowControl {
 public:
  // asyncio's _set_write_buffer_limits: with neither given, the defaults; with
  // only `high`, low = high / 4; with only `low`, high = 4 * low. Throws
  // aio::ValueError, naming both values, if low > high.
  void set_limits(std::optional<std::size_t> high, std::optional<std::size_t> low) {
    const std::size_t new_high = high ? *high : (low ? 4 * *low : kDefaultHighWater);
    const std::size_t new_low = low ? *low : new_high / 4;
    if (new_low > new_high) {
      throw ValueError("set_write_buffer_limits: high (" + std::to_string(new_high) +
                       ") must be >= low (" + std::to_string(new_low) + ")");
    }
    high_ = new_high;
    low_ = new_low;
  }
  // (low, high), as asyncio's get_write_buffer_limits.
  std::pair<std::size_t, std::size_t> limits() const noexcept { return {low_, high_}; }

  // Whether `buffered` bytes cross a mark the protocol must hear of; each
  // flips the paused state, so pause and resume come in pairs.
  bool pause_needed(std::size_t buffered) noexcept {
    if (paused_ || buffered <= high_) return false;
    paused_ = true;
    return true;
  }
  bool resume_needed(std::size_t buffered) noexcept {
    if (!paused_ || buffered > low_) return false;
    paused_ = false;
    return true;
  }

 private:
  std::size_t high_ = kDefaultHighWater;
  std::size_t low_ = kDefaultLowWater;
  bool paused_ = false;
};

template <class Derived, class ProtocolType>
class TransportCore : private IoWatcher, private LoopResource {
 public:
  TransportCore(const TransportCore&) = delete;
  TransportCore& operator=(const TransportCore&) = delete;

 protected:
  TransportCore(EventLoop& loop, int fd, std::shared_ptr<ProtocolType> protocol) noexcept
      : loop_(loop), fd_(fd), protocol_(std::move(protocol)) {}

  ~TransportCore() {
    if (fd_ >= 0) {
      if (registered_) LoopAccess::unwatch_io(loop_, fd_);
      ::close(fd_);
    }
    if (tracked_by_loop()) LoopAccess::untrack_resource(loop_, this);
  }

  // The loop's reference and tracking, from start() (the object is owned by a
  // shared_ptr by then). Undone by the close path.
  void start_tracking(std::shared_ptr<Derived> self) {
    self_ = std::move(self);
    LoopAccess::track_resource(loop_, this);
  }
  // start() failed after start_tracking: the caller throws, nothing else runs.
  void abandon_start() noexcept { self_.reset(); }

  // --- epoll registration ----------------------------------------------------
  // Watches `wanted` (0: nothing). With `keep_registered` the descriptor stays
  // in epoll with no events (a write pipe: epoll still reports EPOLLERR when
  // the reading end closes). Throws std::system_error if epoll refuses.
  void set_interest(std::uint32_t wanted, bool keep_registered) {
    if (fd_ < 0) return;
    if (registered_ && wanted == registered_events_) return;
    if (wanted == 0 && !keep_registered) {
      if (registered_) LoopAccess::unwatch_io(loop_, fd_);
      registered_ = false;
    } else {
      LoopAccess::watch_io(loop_, fd_, static_cast<IoWatcher*>(this), wanted, registered_);
      registered_ = true;
    }
    registered_events_ = wanted;
  }
  // Derived::update_interest() computes what to watch and calls set_interest.
  // epoll refuses a change only for a descriptor it cannot watch, which one it
  // watched before is not; if it does, the connection is lost.
  void update_interest_quietly() noexcept {
    try {
      derived().update_interest();
    } catch (...) {
      force_close(std::current_exception());
    }
  }
  void unwatch() noexcept {
    if (fd_ >= 0 && registered_) LoopAccess::unwatch_io(loop_, fd_);
    registered_ = false;
    registered_events_ = 0;
  }
  // on_io's guard: readiness for a transport closed earlier in the same poll.
  bool watching() const noexcept { return fd_ >= 0 && registered_; }

  // --- flow control ----------------------------------------------------------
  void set_write_buffer_limits_to(std::optional<std::size_t> high, std::optional<std::size_t> low,
                                  std::size_t buffered) {
    flow_.set_limits(high, low);
    maybe_pause_protocol(buffered);
  }
  // Called from inside the write() that crossed the mark, as asyncio does.
  void maybe_pause_protocol(std::size_t buffered) {
    if (!protocol_ || !flow_.pause_needed(buffered)) return;
    // A copy: the callback may replace the protocol.
    std::shared_ptr<ProtocolType> protocol = protocol_;
    try {
      protocol->pause_writing();
    } catch (...) {
      report(std::current_exception(), "protocol.pause_writing() failed");
    }
  }
  void maybe_resume_protocol(std::size_t buffered) {
    if (!protocol_ || !flow_.resume_needed(buffered)) return;
    std::shared_ptr<ProtocolType> protocol = protocol_;
    try {
      protocol->resume_writing();
    } catch (...) {
      report(std::current_exception(), "protocol.resume_writing() failed");
    }
  }

  // --- errors and closing ----------------------------------------------------
  // Counts a write dropped because the connection is gone; the counter's
  // kLostWritesBeforeWarning-th increment past the limit warns once.
  void note_dropped_write(int& counter, const char* warning) noexcept {
    if (++counter > kLostWritesBeforeWarning && !warned_dropped_writes_) {
      warned_dropped_writes_ = true;
      std::fprintf(stderr, "%s\n", warning);
    }
  }

  void report(std::exception_ptr error, const std::string& message) {
    ExceptionContext context;
    context.message = message;
    context.exception = std::move(error);
    loop_.call_exception_handler(context);
  }

  // A protocol callback threw: the loop's handler hears of it and the
  // connection is lost with that error.
  void fatal_error(std::exception_ptr error, const char* message) {
    report(error, message);
    force_close(std::move(error));
  }

  // Closes at once, dropping what is buffered; connection_lost(error) follows
  // in a later iteration. Does nothing once the connection is lost.
  void force_close(std::exception_ptr error) {
    if (lost_count_ > 0) return;
    derived().drop_write_buffer();
    closing_ = true;
    ++lost_count_;
    schedule_connection_lost(std::move(error));
  }

  // The end of a close: leaves epoll, and connection_lost runs from the loop
  // (never inside the transport call that closed it).
  void schedule_connection_lost(std::exception_ptr error) {
    unwatch();
    loop_.call_soon([self = self_, error = std::move(error)]() mutable {
      if (self) self->call_connection_lost(std::move(error));
    });
  }

  // A close() with nothing left to send: the connection is lost now.
  void finish_close() {
    ++lost_count_;
    schedule_connection_lost(nullptr);
  }

  EventLoop& loop_;
  int fd_;
  std::shared_ptr<ProtocolType> protocol_;
  bool closing_ = false;
  // > 0 once the connection is lost (force_close, or a close that finished).
  int lost_count_ = 0;

 private:
  friend Derived;

  Derived& derived() noexcept { return static_cast<Derived&>(*this); }

  void call_connection_lost(std::exception_ptr error) {
    std::shared_ptr<Derived> keep = std::move(self_);
    LoopAccess::untrack_resource(loop_, this);
    if (protocol_) {
      try {
        protocol_->connection_lost(std::move(error));
      } catch (...) {
        report(std::current_exception(), "protocol.connection_lost() failed");
      }
    }
    close_descriptor();
    // Break the transport <-> protocol cycle (asyncio sets _protocol = None).
    protocol_.reset();
    derived().release_references();
  }

  // The loop is closing with this connection still open (a program that ends
  // without closing it): close the descriptor and break the cycle with the
  // protocol, without callbacks (nothing can be scheduled any more).
  void on_loop_close() noexcept override {
    std::shared_ptr<Derived> keep = std::move(self_);
    closing_ = true;
    if (lost_count_ == 0) ++lost_count_;
    derived().drop_write_buffer();
    // The loop's epoll goes with it: nothing to unwatch.
    registered_ = false;
    registered_events_ = 0;
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    protocol_.reset();
    derived().release_references();
  }

  void close_descriptor() noexcept {
    if (fd_ < 0) return;
    unwatch();
    ::close(fd_);
    fd_ = -1;
  }

  WriteFlowControl flow_;
  bool registered_ = false;  // in the loop's epoll set
  bool warned_dropped_writes_ = false;
  std::uint32_t registered_events_ = 0;
  // The loop's reference: set while the connection is open, dropped after
  // connection_lost.
  std::shared_ptr<Derived> self_;

 public:
  // The limits a transport's get_write_buffer_limits returns.
  std::pair<std::size_t, std::size_t> write_buffer_limits() const noexcept { return flow_.limits(); }
};

}  // namespace aio::internal

#endif  // AIO_NET_INTERNAL_TRANSPORT_CORE_H_
