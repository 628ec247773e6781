// The load generator's engine: what a run is asked to do (Config), what it
// measured (Result), and run_load(), which drives the target from -t threads,
// one aio event loop each, and returns when the run is over.
//
// Models. Closed (rate == 0): each connection keeps `pipeline` requests in
// flight and sends the next as soon as a response completes. Open (rate > 0):
// each connection follows a fixed schedule of rate / connections requests per
// second (wrk2's), latency is measured from the *intended* send time (so a
// server stall shows up in the tail instead of being hidden by the client
// waiting: coordinated omission corrected), and the latency from the actual
// send is reported beside it.
//
// Ending. With `duration`, sending stops at warmup + duration and requests
// still in flight then are dropped (counted as unfinished, not as errors), so
// a run ends on time. With `requests` (-n), exactly that many requests are
// sent, then the run waits for their responses (or their --timeout). Errors
// are counted by class (ErrorKind), never retried: a request lost to an error
// is not sent again.
//
// Threads: run_load() owns its worker threads and joins them before it
// returns; `on_second` runs on the caller's thread. Throws
// std::invalid_argument for a Config that cannot run and std::runtime_error
// (one line, what and why) when the target cannot be reached at all.
#ifndef AIO_TOOLS_LOADGEN_LOADGEN_H_
#define AIO_TOOLS_LOADGEN_LOADGEN_H_

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "tools/loadgen/hdr_histogram.h"
#include "tools/loadgen/units.h"

namespace aio::loadgen {

using Nanos = std::chrono::nanoseconds;

// Not an aggregate (aio's options rule): set fields on a named variable.
struct Config {
  Config() {}
  Target target;
  // Round-robin targets (--urls-file); same scheme, host and port as
  // `target`, which is the first of them. Empty: `target` only.
  std::vector<Target> urls;
  int connections = 10;
  int threads = 1;
  std::optional<Nanos> duration;          // -d
  std::optional<std::uint64_t> requests;  // -n
  double rate = 0;                        // -R, requests per second over all connections; 0: closed model
  int pipeline = 1;
  Nanos timeout = std::chrono::seconds(10);         // per request; 0: none
  Nanos connect_timeout = std::chrono::seconds(5);  // per connection attempt
  Nanos warmup{0};
  // HTTP
  std::string method = "GET";
  std::vector<std::string> headers;  // "Name: value"
  std::string body;
  // tcp://
  std::string payload;                // what each request sends
  std::optional<std::uint64_t> expect;  // a response is this many bytes
  std::string until;                  // or ends with this separator
  // A send later than this after its intended time counts as late (open model).
  Nanos late_threshold = std::chrono::milliseconds(1);
};

enum class ErrorKind : int {
  kConnectRefused,
  kConnectTimeout,
  kConnectOther,
  kReset,
  kReadError,
  kWriteError,
  kClosed,   // the server closed the connection with requests unanswered
  kTimeout,  // a request got no response within --timeout and was aborted
  kProtocol, // the response was not HTTP/1.x or broke its framing
  kCount,
};
// "connect refused", "timeout", ... (for the report) and "connect_refused",
// ... (for JSON).
const char* error_label(ErrorKind kind);
const char* error_key(ErrorKind kind);

// One second of the measured run (merged over threads).
struct IntervalStats {
  std::int64_t second = 0;  // from the end of the warm-up
  std::uint64_t responses = 0;
  std::uint64_t errors = 0;
  std::uint64_t bytes_read = 0;
  // The second's latency histogram as (value, count) pairs (see
  // HdrHistogram::sparse): corrected in the open model, else from the send.
  std::vector<std::pair<std::int64_t, std::int64_t>> latency_counts;
  HdrHistogram histogram() const {
    HdrHistogram h;
    h.add_sparse(latency_counts);
    return h;
  }
};

struct Counters {
  std::uint64_t sent = 0;       // requests written (all, warm-up included)
  std::uint64_t responses = 0;  // measured responses (after the warm-up)
  std::uint64_t warmup_responses = 0;
  std::uint64_t unfinished = 0;  // in flight when the run ended
  std::array<std::uint64_t, 6> status_classes{};  // [1..5] = 1xx..5xx, [0] = other
  std::uint64_t bytes_read = 0;
  std::uint64_t bytes_written = 0;
  std::array<std::uint64_t, static_cast<int>(ErrorKind::kCount)> errors{};
  std::uint64_t connect_attempts = 0;
  std::uint64_t connects = 0;     // established connections, reconnections included
  std::uint64_t reconnects = 0;   // after the server closed or an error
  std::uint64_t peak_open = 0;    // connections open at once, at most
  std::uint64_t late_sends = 0;
  void add(const Counters& other);
  std::uint64_t error_total() const;
};

struct Result {
  Config config;
  double measured_seconds = 0;  // the measured part of the run (after the warm-up)
  Counters counters;
  HdrHistogram latency;    // from the actual send
  HdrHistogram corrected;  // from the intended send (open model; else empty)
  HdrHistogram lag;        // actual send - when it was due (open model; the client's own lateness)
  HdrHistogram connect_time;
  std::vector<IntervalStats> series;
  double client_cpu_seconds = 0;  // user + system of the worker threads
  double start_unix_seconds = 0;  // wall clock at the end of the warm-up
  // A sample error message per error class ("Connection refused", ...).
  std::array<std::string, static_cast<int>(ErrorKind::kCount)> error_examples;
  bool interrupted = false;
};

// What the live line shows, once a second.
struct Progress {
  double elapsed_seconds = 0;  // since the start, warm-up included
  bool warming_up = false;
  std::uint64_t responses = 0;
  std::uint64_t errors = 0;
  double rate = 0;   // responses per second in the last second
  std::int64_t p99_us = 0;  // over the measured run so far
};

// Checks a Config (one-line std::invalid_argument for what is wrong).
void validate(const Config& config);

// Opens and closes one connection to the target (on a loop of its own), so
// that an unreachable target is one clear error before the run starts.
// Throws std::runtime_error("cannot connect to host:port: why").
void probe_target(const Config& config);

// Runs the load; see the file comment. `on_second` (may be empty) gets the
// progress once a second. `stop` (may be null) ends the run early when it
// becomes true (Ctrl-C); the result then says interrupted.
Result run_load(const Config& config, const std::function<void(const Progress&)>& on_second = {},
                const std::atomic<bool>* stop = nullptr);

}  // namespace aio::loadgen

#endif  // AIO_TOOLS_LOADGEN_LOADGEN_H_
