// The tutorial, step 3 (docs/tutorial/shutdown.md): the chat room of step 2
// with an idle timeout (aio::timeout around each read) and a graceful shutdown
// on SIGTERM (an aio::Event, Server::close, and the outboxes shut down so each
// client gets a last line before its connection closes).
#include <csignal>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "aio.h"
#include "docs/examples/tutorial.h"

using namespace std::chrono_literals;

struct Member {
  explicit Member(std::string name) : name(std::move(name)), outbox(100) {}
  std::string name;
  aio::Queue<std::string> outbox;
};

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
  void broadcast(const std::string& text, const Member* from) {
    for (Member* member : members_) {
      if (member != from && !member->outbox.full()) member->outbox.put_nowait(text);
    }
  }
  // The last line for everyone: each sender sends what its outbox holds, then
  // finds the queue shut down and closes its connection.
  void close(const std::string& last_line) {
    for (Member* member : members_) {
      if (!member->outbox.full()) member->outbox.put_nowait(last_line);
      member->outbox.shutdown();
    }
  }

  // Each client's handler holds a Presence while it runs, so that a shutdown
  // can wait for the last one: a connection ends (Server::wait_closed) before
  // its handler has finished leaving the room.
  class Presence {
   public:
    explicit Presence(Room& room) : room_(room) {
      ++room_.handlers_;
      room_.no_handlers_.clear();
    }
    Presence(const Presence&) = delete;
    Presence& operator=(const Presence&) = delete;
    ~Presence() {
      if (--room_.handlers_ == 0) room_.no_handlers_.set();
    }

   private:
    Room& room_;
  };
  aio::Coro<void> wait_for_handlers() {
    while (handlers_ > 0) co_await no_handlers_.wait();
  }

 private:
  std::set<Member*> members_;
  int handlers_ = 0;
  aio::Event no_handlers_;
};
// [END room]

// [START send]
aio::Coro<void> send_outbox(Member& member, aio::StreamWriter writer) {
  try {
    while (true) {
      std::string line = co_await member.outbox.get();
      writer.write(line);
      co_await writer.drain();
    }
  } catch (const aio::QueueShutDown&) {
    writer.close();  // the room closed; the reader then sees EOF and the handler ends
  }
}
// [END send]

// [START handle]
aio::Coro<void> handle_client(Room& room, aio::Duration idle_timeout,
                              aio::StreamReader reader, aio::StreamWriter writer) {
  Room::Presence presence(room);
  writer.write("name? ");
  std::string name = co_await reader.readline();
  if (name.empty()) co_return;
  name.pop_back();
  Member member(name);
  writer.write("welcome, " + name + "\n");
  room.join(member);
  co_await aio::task_group([&](aio::TaskGroup& group) -> aio::Coro<> {
    aio::Task<> sender = group.create_task(send_outbox(member, writer));
    while (true) {
      std::optional<std::string> line;
      try {
        line = co_await aio::timeout(idle_timeout, reader.next_line());
      } catch (const aio::TimeoutError&) {
        writer.write("idle for too long, bye\n");
        break;
      }
      if (!line) break;  // EOF
      room.broadcast(member.name + ": " + *line, &member);
    }
    sender.cancel();
  });
  room.leave(member);
  writer.close();
  co_await writer.wait_closed();
}
// [END handle]

// [START serve]
// Serves until `stop` is set, then shuts down gracefully: no new clients, a
// last line to every client, and returns once every connection has ended.
aio::Coro<void> serve_until(aio::Event& stop, std::uint16_t port,
                            aio::Duration idle_timeout,
                            std::function<void(std::uint16_t)> on_listening) {
  auto room = std::make_shared<Room>();  // owned by the handler, as in step 2
  auto handler = [room, idle_timeout](aio::StreamReader reader,
                                      aio::StreamWriter writer) {
    return handle_client(*room, idle_timeout, std::move(reader), std::move(writer));
  };
  aio::Server server = co_await aio::start_server(handler, "127.0.0.1", port);
  on_listening(server.sockets()[0].port());
  co_await stop.wait();
  server.close();                     // stop accepting
  room->close("server shutting down\n");
  co_await server.wait_closed();      // every connection has ended
  co_await room->wait_for_handlers();  // and every handler has finished
}

aio::Coro<void> serve(std::uint16_t port) {
  aio::Event stop;
  aio::get_running_loop().add_signal_handler(SIGTERM, [&stop] { stop.set(); });
  auto print_port = [](std::uint16_t bound) {
    std::printf("chat server on 127.0.0.1:%u (SIGTERM shuts it down)\n", bound);
    std::fflush(stdout);
  };
  co_await serve_until(stop, port, 5min, print_port);
  aio::get_running_loop().remove_signal_handler(SIGTERM);
  std::printf("shut down\n");
}
// [END serve]

aio::Coro<std::pair<aio::StreamReader, aio::StreamWriter>> join(std::uint16_t port, std::string name) {
  auto [reader, writer] = co_await aio::open_connection("127.0.0.1", port);
  co_await reader.readexactly(6);  // "name? "
  writer.write(name + "\n");
  co_await tutorial::expect_line(reader, name.c_str());
  co_return std::pair(reader, writer);
}

aio::Coro<void> demo() {
  aio::Event stop;
  std::uint16_t port = 0;
  aio::Event listening;
  auto on_listening = [&](std::uint16_t bound) {
    port = bound;
    listening.set();
  };
  aio::Task<> server = aio::create_task(serve_until(stop, 0, 200ms, on_listening));
  co_await listening.wait();
  auto [ada_reader, ada] = co_await join(port, "ada");
  co_await tutorial::expect_line(ada_reader, "ada");  // silent for 200 ms: bye
  co_await tutorial::expect_line(ada_reader, "ada");  // then the connection closes
  auto [bob_reader, bob] = co_await join(port, "bob");
  stop.set();  // what SIGTERM does
  co_await tutorial::expect_line(bob_reader, "bob");
  co_await tutorial::expect_line(bob_reader, "bob");
  co_await server;
  std::printf("the server has shut down\n");
  ada.close();
  bob.close();
}

int main(int argc, char** argv) { return tutorial::main(argc, argv, serve, demo); }
