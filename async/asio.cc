// The loop's Boost.Asio driver: the loop waits inside io_context::run_one_for,
// with the loop's epoll descriptor registered in Asio's reactor (epoll
// descriptors can be watched like any other), so readiness of either side wakes
// the thread.
#include "async/asio.h"
#include "async/internal/loop_access.h"

#include <unistd.h>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <cerrno>
#include <chrono>
#include <system_error>

namespace aio {
namespace {

class AsioPoller final : public internal::ExternalPoller {
 public:
  explicit AsioPoller(int epoll_fd) : loop_events_(context_) {
    // Asio closes what it owns; the loop keeps its own descriptor.
    int watched = ::dup(epoll_fd);
    if (watched < 0) throw std::system_error(errno, std::system_category(), "dup of the loop's epoll descriptor");
    loop_events_.assign(watched);
  }

  boost::asio::io_context& context() { return context_; }

  void wait(int timeout_milliseconds) override {
    if (!watching_) {
      watching_ = true;
      loop_events_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                              [this](const boost::system::error_code&) { watching_ = false; });
    }
    if (context_.stopped()) context_.restart();
    if (timeout_milliseconds < 0) {
      context_.run_one();
    } else if (timeout_milliseconds > 0) {
      context_.run_one_for(std::chrono::milliseconds(timeout_milliseconds));
    }
    context_.poll();  // everything else that is ready now
  }

 private:
  boost::asio::io_context context_{1};  // one thread: the loop's
  boost::asio::posix::stream_descriptor loop_events_;
  bool watching_ = false;
};

}  // namespace

boost::asio::io_context& asio_context(EventLoop& loop) {
  if (auto* poller = dynamic_cast<AsioPoller*>(internal::LoopAccess::external_poller(loop))) return poller->context();
  auto poller = std::make_unique<AsioPoller>(internal::LoopAccess::epoll_descriptor(loop));
  boost::asio::io_context& context = poller->context();
  internal::LoopAccess::set_external_poller(loop, std::move(poller));
  return context;
}

}  // namespace aio
