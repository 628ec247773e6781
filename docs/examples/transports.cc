// Transports and protocols examples for docs/transports.md.
#include <cstdio>
#include <memory>
#include <span>
#include <string>

#include "aio.h"

// [START echo_protocol]
class EchoServerProtocol : public aio::Protocol {
 public:
  void connection_made(std::shared_ptr<aio::Transport> transport) override {
    auto peer = std::any_cast<aio::SocketAddress>(transport->get_extra_info("peername"));
    std::printf("connection from %s\n", peer.host().c_str());
    transport_ = std::move(transport);
  }
  void data_received(std::string_view data) override {
    std::printf("server received: %.*s\n", static_cast<int>(data.size()), data.data());
    transport_->write(data);
    transport_->close();
  }

 private:
  std::shared_ptr<aio::Transport> transport_;
};
// [END echo_protocol]

// [START client_protocol]
class EchoClientProtocol : public aio::Protocol {
 public:
  EchoClientProtocol(std::string message, aio::Future<void> done) : message_(std::move(message)), done_(done) {}
  void connection_made(std::shared_ptr<aio::Transport> transport) override {
    transport->write(message_);
    std::printf("client sent: %s\n", message_.c_str());
  }
  void data_received(std::string_view data) override {
    std::printf("client received: %.*s\n", static_cast<int>(data.size()), data.data());
  }
  void connection_lost(std::exception_ptr) override {
    std::printf("the server closed the connection\n");
    done_.set_result();
  }

 private:
  std::string message_;
  aio::Future<void> done_;
};
// [END client_protocol]

// [START buffered_protocol]
// Counts bytes without copying them anywhere: the transport reads straight
// into `storage_`.
class ByteCounter : public aio::BufferedProtocol {
 public:
  std::span<char> get_buffer(std::size_t) override { return storage_; }
  void buffer_updated(std::size_t bytes) override { total_ += bytes; }
  bool eof_received() override {
    std::printf("counted %zu bytes\n", total_);
    return false;  // let the transport close
  }

 private:
  char storage_[16 * 1024];
  std::size_t total_ = 0;
};
// [END buffered_protocol]

// [START flow_control]
// Writes a large payload in pieces, stopping while the transport's buffer is
// over its high-water mark.
class Producer : public aio::Protocol {
 public:
  explicit Producer(std::size_t total) : left_(total) {}
  void connection_made(std::shared_ptr<aio::Transport> transport) override {
    transport_ = std::move(transport);
    produce();
  }
  void pause_writing() override { paused_ = true; }
  void resume_writing() override {
    paused_ = false;
    produce();
  }
  void connection_lost(std::exception_ptr) override { transport_.reset(); }

 private:
  void produce() {
    static const std::string chunk(64 * 1024, 'x');
    while (!paused_ && left_ > 0) {
      std::size_t size = std::min(left_, chunk.size());
      transport_->write(std::string_view(chunk).substr(0, size));
      left_ -= size;
    }
    if (left_ == 0) transport_->close();  // sends what is buffered, then closes
  }
  std::shared_ptr<aio::Transport> transport_;
  std::size_t left_;
  bool paused_ = false;
};
// [END flow_control]

aio::Coro<void> main_coroutine() {
  // [START echo_main]
  auto factory = [] { return std::make_shared<EchoServerProtocol>(); };
  aio::Server server = co_await aio::create_server(factory, "127.0.0.1", 0);
  aio::Future<void> done;
  auto client_factory = [done] { return std::make_shared<EchoClientProtocol>("Hello World!", done); };
  auto [transport, protocol] =
      co_await aio::create_connection(client_factory, "127.0.0.1", server.sockets()[0].port());
  co_await done;
  server.close();
  // [END echo_main]

  auto counter = [] { return std::make_shared<ByteCounter>(); };
  aio::Server counting = co_await aio::create_server(counter, "127.0.0.1", 0);
  auto producer = [] { return std::make_shared<Producer>(10 * 1024 * 1024); };
  auto sending = co_await aio::create_connection(producer, "127.0.0.1", counting.sockets()[0].port());
  counting.close();
  co_await counting.wait_closed();  // returns once the counted connection ended
}

int main() { return aio::run_main(main_coroutine()); }
