// The load generator against its embedded server on loopback, in real time
// (latency is what is measured, so a virtual clock cannot stand in). Runs
// are short (1-3 s) and the bounds are the issue's: wide enough for a loaded
// 2-core machine, narrow enough that a broken model fails them.
#include <chrono>
#include <future>
#include <optional>
#include <memory>
#include <stdexcept>
#include <thread>

#include "async/run.h"
#include "async/task.h"
#include "gtest/gtest.h"
#include "net/server.h"
#include "net/transport.h"
#include "tools/loadgen/hello_server.h"
#include "tools/loadgen/loadgen.h"
#include "tools/loadgen/report.h"

namespace aio::loadgen {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

Config config_for(const HelloServer& server) {
  Config c;
  c.target = parse_target("http://127.0.0.1:" + std::to_string(server.port()) + "/");
  c.connections = 10;
  return c;
}

std::uint64_t errors(const Result& r, ErrorKind kind) { return r.counters.errors[static_cast<int>(kind)]; }

// Runs and checks the run ended on time (within `slack` of `expected`).
Result timed_run(const Config& c, std::chrono::milliseconds expected, std::chrono::milliseconds slack = 800ms) {
  Clock::time_point start = Clock::now();
  Result r = run_load(c);
  auto took = Clock::now() - start;
  EXPECT_LT(took, expected + slack) << "the run did not end on time";
  return r;
}

TEST(Loadgen, ExactRequestCountOverThreads) {
  HelloServer server;
  server.start(HelloOptions());
  Config c = config_for(server);
  c.requests = 10000;
  c.threads = 2;
  c.connections = 7;  // an uneven split over threads and connections
  Result r = run_load(c);
  server.stop();
  EXPECT_EQ(r.counters.sent, 10000u);
  EXPECT_EQ(r.counters.responses, 10000u);
  EXPECT_EQ(r.counters.status_classes[2], 10000u);
  EXPECT_EQ(r.latency.total_count(), 10000);
  EXPECT_EQ(r.counters.error_total(), 0u);
  EXPECT_EQ(server.requests(), 10000u);
  EXPECT_EQ(r.counters.peak_open, 7u);
}

TEST(Loadgen, ExactCountWithPipelining) {
  HelloServer server;
  server.start(HelloOptions());
  Config c = config_for(server);
  c.requests = 5000;
  c.pipeline = 16;
  Result r = run_load(c);
  server.stop();
  EXPECT_EQ(r.counters.responses, 5000u);
  EXPECT_EQ(server.requests(), 5000u);
}

TEST(Loadgen, ServerClosingEveryNRequestsIsAReconnectNotAnError) {
  HelloOptions o;
  o.close_every = 10;
  HelloServer server;
  server.start(o);
  Config c = config_for(server);
  c.requests = 2000;
  Result r = run_load(c);
  server.stop();
  EXPECT_EQ(r.counters.responses, 2000u);
  EXPECT_EQ(r.counters.error_total(), 0u);
  EXPECT_GE(r.counters.reconnects, 150u);
}

TEST(Loadgen, ResetsAreCountedAsResets) {
  HelloOptions o;
  o.reset_every = 50;
  HelloServer server;
  server.start(o);
  Config c = config_for(server);
  c.duration = 1s;
  Result r = timed_run(c, 1000ms);
  server.stop();
  EXPECT_GT(errors(r, ErrorKind::kReset), 0u);
  EXPECT_EQ(errors(r, ErrorKind::kProtocol), 0u);
  EXPECT_EQ(errors(r, ErrorKind::kTimeout), 0u);
  EXPECT_GT(r.counters.responses, 0u);
}

TEST(Loadgen, MalformedStatusLinesAreProtocolErrors) {
  HelloOptions o;
  o.garbage_every = 50;
  HelloServer server;
  server.start(o);
  Config c = config_for(server);
  c.requests = 1000;
  Result r = run_load(c);
  server.stop();
  EXPECT_EQ(errors(r, ErrorKind::kProtocol), 20u);
  EXPECT_EQ(r.counters.responses, 980u);
  EXPECT_EQ(r.counters.responses + r.counters.error_total(), 1000u);
}

TEST(Loadgen, StalledRequestsTimeOutAndTheRunEndsOnTime) {
  HelloOptions o;
  o.stall_every = 10s;
  o.stall_for = 10s;  // the server never answers during the test
  HelloServer server;
  server.start(o);
  Config c = config_for(server);
  c.duration = 1s;
  c.timeout = 200ms;
  Result r = timed_run(c, 1000ms);
  server.stop();
  EXPECT_EQ(r.counters.responses, 0u);
  // Each connection times out about every 200 ms (plus the reconnect).
  EXPECT_GE(errors(r, ErrorKind::kTimeout), 20u);
  EXPECT_EQ(errors(r, ErrorKind::kReset), 0u);
}

TEST(Loadgen, RefusedConnectionsAreCountedAndClear) {
  // A port nobody listens on: take one and close it.
  HelloServer server;
  server.start(HelloOptions());
  std::uint16_t port = server.port();
  server.stop();
  Config c;
  c.target = parse_target("http://127.0.0.1:" + std::to_string(port) + "/");
  c.connections = 2;
  c.duration = 1s;
  try {
    probe_target(c);
    ADD_FAILURE() << "probe_target did not throw";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()), "cannot connect to 127.0.0.1:" + std::to_string(port) + ": Connection refused");
  }
  Result r = timed_run(c, 1000ms);
  EXPECT_GT(errors(r, ErrorKind::kConnectRefused), 2u);
  EXPECT_EQ(r.counters.connects, 0u);
  EXPECT_EQ(r.counters.responses, 0u);
}

TEST(Loadgen, WarmupIsLeftOutOfTheStatistics) {
  HelloServer server;
  server.start(HelloOptions());
  Config c = config_for(server);
  c.duration = 500ms;
  c.warmup = 500ms;
  Result r = timed_run(c, 1000ms);
  server.stop();
  EXPECT_GT(r.counters.warmup_responses, 0u);
  EXPECT_EQ(r.latency.total_count(), static_cast<std::int64_t>(r.counters.responses));
  EXPECT_NEAR(r.measured_seconds, 0.5, 0.05);
}

// A tcp:// echo server: a Protocol that writes back what it reads.
struct Echo : Protocol {
  void connection_made(std::shared_ptr<Transport> t) override { transport = std::move(t); }
  void data_received(std::string_view data) override { transport->write(data); }
  std::shared_ptr<Transport> transport;
};

TEST(Loadgen, TcpRequestResponseWithExpectAndUntil) {
  std::promise<std::uint16_t> ready;
  EventLoop* server_loop = nullptr;
  std::optional<Task<void>> serving;
  std::thread thread([&] {
    aio::run([](std::promise<std::uint16_t>* r, EventLoop** l, std::optional<Task<void>>* s) -> Coro<void> {
      Server echo = co_await create_server([] { return std::make_shared<Echo>(); }, "127.0.0.1", 0);
      *l = &get_running_loop();
      Task<void> task = create_task(echo.serve_forever());
      *s = task;
      r->set_value(echo.sockets()[0].port());
      try {
        co_await task;
      } catch (const CancelledError&) {
      }
    }(&ready, &server_loop, &serving));
  });
  std::uint16_t port = ready.get_future().get();
  Config c;
  c.target = parse_target("tcp://127.0.0.1:" + std::to_string(port));
  c.connections = 4;
  c.requests = 3000;
  c.payload = "ping\n";
  Result by_size = run_load(c);  // --expect defaults to the payload's size
  EXPECT_EQ(by_size.counters.responses, 3000u);
  EXPECT_EQ(by_size.counters.bytes_read, 3000u * 5);
  c.until = "\n";
  c.pipeline = 4;
  Result by_separator = run_load(c);
  EXPECT_EQ(by_separator.counters.responses, 3000u);
  EXPECT_EQ(by_separator.counters.error_total(), 0u);
  server_loop->call_soon_threadsafe([&] { serving->cancel(); });
  thread.join();
}

TEST(Loadgen, OutputsHoldTheRun) {
  HelloServer server;
  server.start(HelloOptions());
  Config c = config_for(server);
  c.duration = 1200ms;
  c.rate = 500;
  Result r = run_load(c);
  server.stop();
  std::string json = format_json(r);
  EXPECT_NE(json.find("\"schema\": \"aio-loadgen/1\""), std::string::npos);
  EXPECT_NE(json.find("\"corrected_latency_us\""), std::string::npos);
  std::string report = format_report(r);
  EXPECT_NE(report.find("corrected"), std::string::npos);
  EXPECT_NE(report.find("Requests/sec:"), std::string::npos);
  std::string csv = format_csv(r);
  EXPECT_EQ(csv.rfind("second,responses,", 0), 0u);
  std::vector<HdrLogInterval> intervals = read_hdr_log(format_hdr_log(r));
  ASSERT_EQ(intervals.size(), r.series.size());
  std::int64_t total = 0;
  for (const HdrLogInterval& i : intervals) total += i.histogram.total_count();
  EXPECT_EQ(total, r.corrected.total_count());
}

TEST(Loadgen, BadConfigsAreOneLineErrors) {
  Config c;
  c.target = parse_target("http://127.0.0.1:1/");
  c.duration = 1s;
  auto message = [](Config config) {
    try {
      validate(config);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  Config bad = c;
  bad.connections = 0;
  EXPECT_EQ(message(bad), "-c: the number of connections must be at least 1");
  bad = c;
  bad.threads = 4;
  bad.connections = 2;
  EXPECT_NE(message(bad).find("each thread needs at least one connection"), std::string::npos);
  bad = c;
  bad.rate = -5;
  EXPECT_NE(message(bad).find("-R"), std::string::npos);
  bad = c;
  bad.pipeline = 0;
  EXPECT_NE(message(bad).find("--pipeline"), std::string::npos);
  bad = c;
  bad.headers = {"NoColon"};
  EXPECT_NE(message(bad).find("-H"), std::string::npos);
  bad = c;
  bad.target = parse_target("tcp://127.0.0.1:1");
  EXPECT_NE(message(bad).find("--payload"), std::string::npos);
  bad = c;
  bad.duration.reset();
  EXPECT_NE(message(bad).find("-d"), std::string::npos);
  EXPECT_EQ(message(c), "no error");
}

}  // namespace
}  // namespace aio::loadgen
