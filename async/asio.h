// Awaiting Boost.Asio operations from aio tasks: the completion token
// aio::use_aio and the loop's io_context.
//
//   boost::asio::steady_timer timer(aio::asio_context(), 50ms);
//   co_await timer.async_wait(aio::use_aio);
//   std::size_t n = co_await socket.async_read_some(buffer, aio::use_aio);
//
// The loop drives its io_context itself: once aio::asio_context(loop) has been
// asked for, the loop waits inside Asio (which also watches the loop's own epoll
// descriptor), so Asio handlers and aio tasks run on the same thread, one at a
// time. Programs that never ask for it pay nothing.
//
// co_await op(..., aio::use_aio) returns what the handler receives: nothing for
// void(error_code), the value for void(error_code, T), a tuple for several
// values. A non-zero error_code is thrown as std::system_error. Cancelling the
// awaiting task emits a terminal cancellation on the operation's cancellation
// slot and the await ends with CancelledError (an operation that cannot be
// cancelled is waited for first). I/O objects should use the loop's
// io_context: a handler that completes on another thread is handed to the loop
// safely, but emitting the cancellation from the loop's thread is then up to
// Asio's thread-safety rules for that object.
#ifndef AIO_ASYNC_ASIO_H_
#define AIO_ASYNC_ASIO_H_

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/system_error.hpp>
#include <coroutine>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <tuple>
#include <type_traits>
#include <utility>

#include "async/errors.h"
#include "async/future.h"
#include "async/internal/task_base.h"
#include "async/loop.h"
#include "async/internal/loop_access.h"

namespace aio {

// The completion token: pass it where Asio wants a handler.
struct use_aio_t {};
inline constexpr use_aio_t use_aio{};

// The io_context driven by `loop` (created on first use). Loop thread only.
boost::asio::io_context& asio_context(EventLoop& loop);
// The running loop's io_context. Throws aio::RuntimeError outside a loop.
inline boost::asio::io_context& asio_context() { return asio_context(get_running_loop()); }

namespace internal {

// What the awaiting task gets from the handler's arguments.
template <class... Results>
struct AsioResult {
  using Values = std::tuple<std::decay_t<Results>...>;

  static auto unpack(Values&& values) {
    if constexpr (sizeof...(Results) == 0) {
      return;
    } else {
      using First = std::tuple_element_t<0, Values>;
      if constexpr (std::is_same_v<First, boost::system::error_code>) {
        if (std::get<0>(values)) throw boost::system::system_error(std::get<0>(values));
        return rest(std::move(values), std::make_index_sequence<sizeof...(Results) - 1>{});
      } else if constexpr (std::is_same_v<First, std::exception_ptr>) {
        if (std::get<0>(values)) std::rethrow_exception(std::get<0>(values));
        return rest(std::move(values), std::make_index_sequence<sizeof...(Results) - 1>{});
      } else if constexpr (sizeof...(Results) == 1) {
        return std::move(std::get<0>(values));
      } else {
        return std::move(values);
      }
    }
  }

 private:
  template <std::size_t... Index>
  static auto rest(Values&& values, std::index_sequence<Index...>) {
    if constexpr (sizeof...(Index) == 0) {
      return;
    } else if constexpr (sizeof...(Index) == 1) {
      return std::move(std::get<1>(values));
    } else {
      return std::make_tuple(std::move(std::get<Index + 1>(values))...);
    }
  }
};

// Awaits one Asio operation started with use_aio.
template <class Initiation, class Arguments, class... Results>
class AsioAwaiter final : private Cancellable {
 public:
  AsioAwaiter(Initiation initiation, Arguments arguments)
      : initiation_(std::move(initiation)), arguments_(std::move(arguments)) {}
  AsioAwaiter(AsioAwaiter&& other) noexcept
      : initiation_(std::move(other.initiation_)), arguments_(std::move(other.arguments_)) {}
  ~AsioAwaiter() {
    if (link_) link_->awaiter = nullptr;  // a late completion finds nobody
  }

  bool await_ready() const noexcept { return false; }

  void await_suspend(std::coroutine_handle<> resume_point) {
    TaskBase& task = current_task_or_throw("an Asio operation with aio::use_aio");
    task_ = &task;
    link_ = std::make_shared<Link>(Link{this, &task.loop(), internal::LoopAccess::mailbox(task.loop())});
    signal_ = std::make_unique<boost::asio::cancellation_signal>();
    auto handler = [link = link_](Results... results) mutable {
      deliver(std::move(link), typename AsioResult<Results...>::Values(std::move(results)...));
    };
    std::apply(
        [&](auto&... arguments) {
          std::move(initiation_)(boost::asio::bind_cancellation_slot(signal_->slot(), std::move(handler)),
                                 std::move(arguments)...);
        },
        arguments_);
    task.suspend(resume_point, this);
  }

  auto await_resume() {
    task_->throw_if_cancel_requested();
    if (cancelled_) throw CancelledError(task_->cancel_message());
    return AsioResult<Results...>::unpack(std::move(*values_));
  }

 private:
  Description describe_wait() const noexcept override { return {"asio operation", nullptr}; }
  struct Link {
    AsioAwaiter* awaiter;  // null once the awaiter is gone; loop thread only
    EventLoop* loop;
    std::shared_ptr<Mailbox> mailbox;
  };
  using Values = typename AsioResult<Results...>::Values;

  // Runs where Asio invokes the handler: the loop's thread (its io_context), or
  // another thread, from which the outcome travels through the mailbox.
  static void deliver(std::shared_ptr<Link> link, Values values) {
    if (running_loop_or_null() == link->loop) {
      complete(*link, std::move(values));
      return;
    }
    std::shared_ptr<Mailbox> mailbox = link->mailbox;
    UniqueFunction completion = [link = std::move(link), values = std::move(values)]() mutable {
      complete(*link, std::move(values));
    };
    mailbox->post(completion);  // a closed loop has no awaiter left to tell
  }
  static void complete(Link& link, Values&& values) {
    if (AsioAwaiter* awaiter = link.awaiter) {
      awaiter->values_.emplace(std::move(values));
      awaiter->task_->wake();
    }
  }

  bool cancel_wait(const std::string& message) override {
    cancelled_ = true;
    task_->set_cancel_message(message);
    signal_->emit(boost::asio::cancellation_type::terminal);
    return true;  // the wait ends in CancelledError when the operation returns
  }

  Initiation initiation_;
  Arguments arguments_;
  TaskBase* task_ = nullptr;
  std::shared_ptr<Link> link_;
  std::unique_ptr<boost::asio::cancellation_signal> signal_;
  std::optional<Values> values_;
  bool cancelled_ = false;
};

}  // namespace internal
}  // namespace aio

namespace boost::asio {

template <class Return, class... Results>
class async_result<aio::use_aio_t, Return(Results...)> {
 public:
  template <class Initiation, class... Arguments>
  static auto initiate(Initiation&& initiation, aio::use_aio_t, Arguments&&... arguments) {
    return aio::internal::AsioAwaiter<std::decay_t<Initiation>, std::tuple<std::decay_t<Arguments>...>, Results...>(
        std::forward<Initiation>(initiation), std::make_tuple(std::forward<Arguments>(arguments)...));
  }
};

}  // namespace boost::asio

#endif  // AIO_ASYNC_ASIO_H_
