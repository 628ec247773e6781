// Streams examples for docs/streams.md: an echo server and client, and a
// line-protocol chat server. Everything runs in one process on loopback.
#include <cstdio>
#include <memory>
#include <set>
#include <string>

#include <optional>

#include "aio.h"

// [START echo_server]
aio::Coro<void> handle_echo(aio::StreamReader reader, aio::StreamWriter writer) {
  std::string data = co_await reader.read(100);
  std::optional<aio::SocketAddress> peer = writer.peername();  // get_extra_info('peername')
  std::printf("server received '%s' from %s\n", data.c_str(), peer ? peer->host().c_str() : "?");
  writer.write(data);
  co_await writer.drain();
  writer.close();
  co_await writer.wait_closed();
}
// [END echo_server]

// [START echo_client]
aio::Coro<void> echo_client(std::uint16_t port, std::string message) {
  auto [reader, writer] = co_await aio::open_connection("127.0.0.1", port);
  writer.write(message);
  co_await writer.drain();
  std::string reply = co_await reader.read(100);
  std::printf("client got '%s' back\n", reply.c_str());
  writer.close();
  co_await writer.wait_closed();
}
// [END echo_client]

// [START chat_server]
// Every line a client sends goes to every other client, prefixed with its name.
class ChatRoom {
 public:
  aio::Coro<void> join(aio::StreamReader reader, aio::StreamWriter writer) {
    writer.write("name? ");
    std::string name = co_await reader.readline();
    if (name.empty()) co_return;  // left before saying anything
    name.pop_back();               // the '\n'
    members_.insert(&writer);
    broadcast(name + " joined\n", &writer);
    while (std::optional<std::string> line = co_await reader.next_line()) {
      broadcast(name + ": " + *line, &writer);
    }
    members_.erase(&writer);
    broadcast(name + " left\n", &writer);
    writer.close();
  }

 private:
  void broadcast(const std::string& text, aio::StreamWriter* from) {
    for (aio::StreamWriter* member : members_) {
      if (member != from) member->write(text);  // buffered; a slow member only costs memory up to its limit
    }
  }
  std::set<aio::StreamWriter*> members_;
};
// [END chat_server]

aio::Coro<void> chat_demo() {
  // [START chat_start]
  auto room = std::make_shared<ChatRoom>();
  auto handler = [room](aio::StreamReader reader, aio::StreamWriter writer) {
    return room->join(std::move(reader), std::move(writer));
  };
  aio::Server server = co_await aio::start_server(handler, "127.0.0.1", 0);
  std::uint16_t port = server.sockets()[0].port();
  // [END chat_start]

  auto [ada_reader, ada] = co_await aio::open_connection("127.0.0.1", port);
  auto [bob_reader, bob] = co_await aio::open_connection("127.0.0.1", port);
  co_await ada_reader.readexactly(6);  // "name? "
  co_await bob_reader.readexactly(6);
  ada.write("ada\n");
  co_await aio::sleep(std::chrono::milliseconds(10));
  bob.write("bob\n");
  std::printf("ada sees: %s", (co_await ada_reader.readline()).c_str());
  bob.write("hi ada\n");
  std::printf("ada sees: %s", (co_await ada_reader.readline()).c_str());
  ada.write("hello bob\n");
  std::printf("bob sees: %s", (co_await bob_reader.readline()).c_str());
  bob.close();
  std::printf("ada sees: %s", (co_await ada_reader.readline()).c_str());
  ada.close();
  co_await ada.wait_closed();
  server.close();
  co_await server.wait_closed();
}

aio::Coro<void> main_coroutine() {
  // [START echo_main]
  aio::Server server = co_await aio::start_server(handle_echo, "127.0.0.1", 0);
  std::uint16_t port = server.sockets()[0].port();
  co_await echo_client(port, "Hello World!");
  server.close();
  co_await server.wait_closed();
  // [END echo_main]
  co_await chat_demo();
}

int main() { return aio::run_main(main_coroutine()); }
