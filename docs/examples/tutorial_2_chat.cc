// The tutorial, step 2 (docs/tutorial/chat.md): the echo server becomes a chat
// room. Each client has a bounded outbox (an aio::Queue) and two tasks in a
// TaskGroup: one reads the client's lines and broadcasts them, one sends the
// outbox to the client.
#include <cstdio>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "aio.h"
#include "docs/examples/tutorial.h"

// [START member]
// A connected client: its name and the lines waiting to be sent to it.
struct Member {
  explicit Member(std::string name) : name(std::move(name)), outbox(100) {}
  std::string name;
  aio::Queue<std::string> outbox;  // bounded: a client that stops reading cannot grow it
};
// [END member]

// [START room]
class Room {
 public:
  void join(Member& member) {
    broadcast(member.name + " joined\n", &member);
    members_.insert(&member);
  }
  void leave(Member& member) {
    members_.erase(&member);
    broadcast(member.name + " left\n", &member);
  }
  // Puts `text` in every other member's outbox. Never waits: a member whose
  // outbox is full misses the line instead of slowing the room down.
  void broadcast(const std::string& text, const Member* from) {
    for (Member* member : members_) {
      if (member != from && !member->outbox.full()) member->outbox.put_nowait(text);
    }
  }

 private:
  std::set<Member*> members_;
};
// [END room]

// [START send]
aio::Coro<void> send_outbox(Member& member, aio::StreamWriter writer) {
  while (true) {
    std::string line = co_await member.outbox.get();
    writer.write(line);
    co_await writer.drain();
  }
}
// [END send]

// [START handle]
aio::Coro<void> handle_client(Room& room, aio::StreamReader reader,
                              aio::StreamWriter writer) {
  writer.write("name? ");
  std::string name = co_await reader.readline();
  if (name.empty()) co_return;  // left before saying anything
  name.pop_back();               // the '\n'
  Member member(name);
  writer.write("welcome, " + name + "\n");
  room.join(member);
  co_await aio::task_group([&](aio::TaskGroup& group) -> aio::Coro<> {
    aio::Task<> sender = group.create_task(send_outbox(member, writer));
    while (std::optional<std::string> line = co_await reader.next_line()) {
      room.broadcast(member.name + ": " + *line, &member);
    }
    sender.cancel();  // the client left: nothing more to send
  });
  room.leave(member);
  writer.close();
  co_await writer.wait_closed();
}
// [END handle]

// [START serve]
aio::Coro<void> serve(std::uint16_t port) {
  // The handler owns the room: start_server keeps its handler alive while any
  // of its coroutines runs, so the room outlives every client's handler, even
  // one still leaving after the server has closed.
  auto room = std::make_shared<Room>();
  auto handler = [room](aio::StreamReader reader, aio::StreamWriter writer) {
    return handle_client(*room, std::move(reader), std::move(writer));
  };
  aio::Server server = co_await aio::start_server(handler, "127.0.0.1", port);
  std::printf("chat server on %s\n", server.sockets()[0].to_string().c_str());
  std::fflush(stdout);
  co_await server.serve_forever();
}
// [END serve]

// Connects and answers the name prompt; returns once the server said welcome.
aio::Coro<std::pair<aio::StreamReader, aio::StreamWriter>> join(std::uint16_t port, std::string name) {
  auto [reader, writer] = co_await aio::open_connection("127.0.0.1", port);
  co_await reader.readexactly(6);  // "name? "
  writer.write(name + "\n");
  co_await tutorial::expect_line(reader, name.c_str());
  co_return std::pair(reader, writer);
}

aio::Coro<void> demo() {
  auto room = std::make_shared<Room>();
  auto handler = [room](aio::StreamReader reader, aio::StreamWriter writer) {
    return handle_client(*room, std::move(reader), std::move(writer));
  };
  aio::Server server = co_await aio::start_server(handler, "127.0.0.1", 0);
  std::uint16_t port = server.sockets()[0].port();
  auto [ada_reader, ada] = co_await join(port, "ada");
  auto [bob_reader, bob] = co_await join(port, "bob");
  co_await tutorial::expect_line(ada_reader, "ada");  // bob joined
  bob.write("hi ada\n");
  co_await tutorial::expect_line(ada_reader, "ada");
  ada.write("hello bob\n");
  co_await tutorial::expect_line(bob_reader, "bob");
  bob.close();
  co_await tutorial::expect_line(ada_reader, "ada");  // bob left
  ada.close();
  server.close();
  co_await server.wait_closed();
}

int main(int argc, char** argv) { return tutorial::main(argc, argv, serve, demo); }
