// The load generator's accuracy against its embedded server's knobs, in real
// time: the --delay median, the open model's rate, and the corrected vs
// uncorrected tail under stalls. The bounds are the issue's. Not run under
// TSan, whose slowdown (5-15x) is not the machine these figures describe;
// the same code paths run under TSan in loadgen_test.
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


// Runs and checks the run ended on time (within `slack` of `expected`).
Result timed_run(const Config& c, std::chrono::milliseconds expected, std::chrono::milliseconds slack = 800ms) {
  Clock::time_point start = Clock::now();
  Result r = run_load(c);
  auto took = Clock::now() - start;
  EXPECT_LT(took, expected + slack) << "the run did not end on time";
  return r;
}

TEST(Loadgen, DelayShowsInTheMedian) {
  HelloOptions o;
  o.delay = 2ms;
  HelloServer server;
  server.start(o);
  Config c = config_for(server);
  c.duration = 1500ms;
  Result r = timed_run(c, 1500ms);
  server.stop();
  std::int64_t p50 = r.latency.value_at_percentile(50);
  EXPECT_GE(p50, 1500);
  EXPECT_LE(p50, 2500);
  EXPECT_GT(r.counters.responses, 1000u);
  EXPECT_EQ(r.counters.error_total(), 0u);
}

TEST(Loadgen, OpenModelSendsAtTheRate) {
  HelloServer server;
  server.start(HelloOptions());
  Config c = config_for(server);
  c.rate = 2000;
  c.duration = 3s;
  Result r = timed_run(c, 3000ms);
  server.stop();
  EXPECT_GE(r.counters.sent, 5880u);
  EXPECT_LE(r.counters.sent, 6120u);
  EXPECT_GE(server.requests(), 5880u);
  EXPECT_LE(server.requests(), 6120u);
  EXPECT_EQ(r.corrected.total_count(), static_cast<std::int64_t>(r.counters.responses));
  EXPECT_GE(r.series.size(), 2u);
}

TEST(Loadgen, StallsShowInTheCorrectedTailOnly) {
  HelloOptions o;
  o.stall_every = 1s;
  o.stall_for = 100ms;
  HelloServer server;
  server.start(o);
  Config c = config_for(server);
  c.rate = 1000;
  c.duration = 3s;
  Result r = timed_run(c, 3000ms);
  server.stop();
  std::int64_t corrected = r.corrected.value_at_percentile(99);
  std::int64_t uncorrected = r.latency.value_at_percentile(99);
  EXPECT_GE(corrected, 90'000) << "corrected p99 " << corrected << "us";
  EXPECT_LT(uncorrected, 90'000) << "uncorrected p99 " << uncorrected << "us";
  // The stall is the server's lateness, not the client's: sends that waited
  // for a stalled response are not counted as send lag.
  std::int64_t lag = r.lag.value_at_percentile(99);
  EXPECT_LT(lag, 50'000) << "send lag p99 " << lag << "us";
}

}  // namespace
}  // namespace aio::loadgen
