// The load generator's engine. Read this first:
//
// - One Worker per thread, each running its own aio event loop. A Worker owns
//   its connections (Slots), its histograms and counters: nothing is shared
//   between threads while the run goes, except a mutex-guarded per-second
//   feed the main thread reads once a second, and a stop flag.
// - A Slot is an aio::Protocol, so responses arrive in data_received() from
//   the transport's read buffer, straight from the loop's poll: no task, no
//   coroutine, no copy per response. Responses are parsed in place; only a
//   response head split across two reads is copied.
// - The clock is read once per read: that instant is the completion time of
//   every response in the read and the send time of the requests written at
//   its end. All the requests a read makes room for go out in one write(), and
//   the transport sends at once (write-readiness is armed only if the kernel
//   refuses bytes), so a request costs about one send and one recv.
// - The open model gives each connection a fixed schedule (wrk2's):
//   intended_k = start + offset + k * interval. A connection sends when it has
//   room and the next intended time has come, or arms one timer for it.
// - A Slot's connect task loops: connect (with the connect timeout), wait
//   until the connection is lost, count why, connect again.
#include "tools/loadgen/loadgen.h"

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>

#include "async/errors.h"
#include "async/loop.h"
#include "async/run.h"
#include "async/sleep.h"
#include "async/task.h"
#include "async/timeouts.h"
#include "net/transport.h"
#include "sync/event.h"
#include "tools/http/parse.h"

namespace aio::loadgen {

const char* error_label(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kConnectRefused: return "connect refused";
    case ErrorKind::kConnectTimeout: return "connect timeout";
    case ErrorKind::kConnectOther: return "connect error";
    case ErrorKind::kReset: return "reset";
    case ErrorKind::kReadError: return "read error";
    case ErrorKind::kWriteError: return "write error";
    case ErrorKind::kClosed: return "closed early";
    case ErrorKind::kTimeout: return "timeout";
    case ErrorKind::kProtocol: return "protocol error";
    case ErrorKind::kCount: break;
  }
  return "?";
}

const char* error_key(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kConnectRefused: return "connect_refused";
    case ErrorKind::kConnectTimeout: return "connect_timeout";
    case ErrorKind::kConnectOther: return "connect_error";
    case ErrorKind::kReset: return "reset";
    case ErrorKind::kReadError: return "read_error";
    case ErrorKind::kWriteError: return "write_error";
    case ErrorKind::kClosed: return "closed_early";
    case ErrorKind::kTimeout: return "timeout";
    case ErrorKind::kProtocol: return "protocol_error";
    case ErrorKind::kCount: break;
  }
  return "?";
}

void Counters::add(const Counters& o) {
  sent += o.sent;
  responses += o.responses;
  warmup_responses += o.warmup_responses;
  unfinished += o.unfinished;
  for (std::size_t i = 0; i < status_classes.size(); ++i) status_classes[i] += o.status_classes[i];
  bytes_read += o.bytes_read;
  bytes_written += o.bytes_written;
  for (std::size_t i = 0; i < errors.size(); ++i) errors[i] += o.errors[i];
  connect_attempts += o.connect_attempts;
  connects += o.connects;
  reconnects += o.reconnects;
  peak_open += o.peak_open;
  late_sends += o.late_sends;
}

std::uint64_t Counters::error_total() const {
  std::uint64_t total = 0;
  for (std::uint64_t e : errors) total += e;
  return total;
}

void validate(const Config& c) {
  auto fail = [](const std::string& why) { throw std::invalid_argument(why); };
  if (c.connections < 1) fail("-c: the number of connections must be at least 1");
  if (c.threads < 1) fail("-t: the number of threads must be at least 1");
  if (c.threads > c.connections) {
    fail("-t: " + std::to_string(c.threads) + " threads for " + std::to_string(c.connections) +
         " connections; each thread needs at least one connection");
  }
  if (c.pipeline < 1 || c.pipeline > 1024) fail("--pipeline: the depth must be 1..1024");
  if (c.rate < 0) fail("-R: the rate must be positive (requests per second)");
  if (c.requests && *c.requests == 0) fail("-n: the number of requests must be at least 1");
  if (c.duration && c.duration->count() <= 0) fail("-d: the duration must be positive");
  if (!c.duration && !c.requests) fail("give a duration (-d 10s) or a number of requests (-n 1000)");
  if (c.timeout.count() < 0) fail("--timeout: must not be negative");
  if (c.connect_timeout.count() <= 0) fail("--connect-timeout: must be positive");
  if (c.warmup.count() < 0) fail("--warmup: must not be negative");
  if (c.target.scheme == Target::Scheme::kTcp) {
    if (c.payload.empty()) fail("tcp:// targets need --payload (the bytes each request sends)");
    if (c.expect && *c.expect == 0) fail("--expect: must be at least 1 byte");
    if (c.expect && !c.until.empty()) fail("--expect and --until exclude each other");
  }
  for (const std::string& h : c.headers) {
    std::size_t colon = h.find(':');
    if (colon == 0 || colon == std::string::npos) fail("-H: '" + h + "' is not 'Name: value'");
    for (char ch : std::string_view(h).substr(0, colon)) {
      if (!http::is_token_char(ch)) fail("-H: '" + h + "' has an invalid header name");
    }
    if (h.find_first_of("\r\n") != std::string::npos) fail("-H: '" + h + "' holds a line break");
  }
  for (char ch : c.method) {
    if (!http::is_token_char(ch)) fail("-m: '" + c.method + "' is not an HTTP method");
  }
  if (c.method.empty()) fail("-m: the method is empty");
  for (const Target& t : c.urls) {
    if (t.scheme != c.target.scheme || t.host != c.target.host || t.port != c.target.port) {
      fail("--urls-file: '" + t.text + "' is on another host or port than '" + c.target.text +
           "' (all URLs must share scheme, host and port)");
    }
  }
}

namespace {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;

double thread_cpu_seconds() {
  rusage usage{};
  ::getrusage(RUSAGE_THREAD, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

std::int64_t micros(Clock::duration d) {
  return std::chrono::duration_cast<std::chrono::microseconds>(d).count();
}

// What every worker reads and nobody changes once the run starts.
struct Plan {
  const Config* config = nullptr;
  std::vector<std::string> requests;  // serialized requests (or tcp payloads), round-robin
  bool tcp = false;
  bool head_requests = false;
  int total_connections = 1;
  TimePoint start;          // when sending starts
  TimePoint measure_start;  // end of the warm-up
  TimePoint end;            // when sending stops (max() with -n only)
  Clock::duration interval{0};  // open model: between two sends of one connection
};

std::string serialize_request(const Config& c, const Target& t) {
  std::string r = c.method + " " + t.path + " HTTP/1.1\r\n";
  bool has_host = false;
  for (const std::string& h : c.headers) {
    if (http::equals_ignore_case(std::string_view(h).substr(0, h.find(':')), "host")) has_host = true;
  }
  if (!has_host) r += "Host: " + t.host_header + "\r\n";
  for (const std::string& h : c.headers) r += h + "\r\n";
  if (!c.body.empty() || c.method == "POST" || c.method == "PUT" || c.method == "PATCH") {
    r += "Content-Length: " + std::to_string(c.body.size()) + "\r\n";
  }
  r += "\r\n";
  r += c.body;
  return r;
}

struct PublishedInterval {
  std::int64_t second = 0;
  std::uint64_t responses = 0;
  std::uint64_t errors = 0;
  std::uint64_t bytes_read = 0;
  std::vector<std::pair<std::int64_t, std::int64_t>> latency;
};

class Worker;

class Slot final : public Protocol {
 public:
  Slot(Worker& worker, int global_index);

  void connection_made(std::shared_ptr<Transport> transport) override;
  void data_received(std::string_view data) override;
  bool eof_received() override { return false; }
  void connection_lost(std::exception_ptr error) override;

  // Sends what the model allows now. `room_since`: since when the connection
  // has had room to send (now, after a response or a connect; min() from the
  // send timer), so that the send lag counts only the client's own lateness,
  // not time spent waiting for the server.
  void top_up(TimePoint now, TimePoint room_since);
  // Ends the connection because its oldest request passed --timeout.
  void abort_for_timeout();
  // The run is over: drop what is in flight.
  void stop();
  std::size_t in_flight() const { return count_; }
  TimePoint oldest_send() const { return sent_at_[head_]; }
  bool connected() const { return transport_ != nullptr; }
  Event& lost() { return lost_; }

 private:
  enum class ReadState { kHead, kBody, kChunked, kUntilClose, kTcp };
  void push(TimePoint sent, TimePoint intended);
  void complete(TimePoint now);
  std::size_t parse(std::string_view in, TimePoint now);
  void fail(ErrorKind kind, const char* why);
  void arm_send_timer(TimePoint when);

  Worker& w_;
  const Plan& plan_;
  std::shared_ptr<Transport> transport_;
  Event lost_;
  // Requests in flight, oldest first (a ring of `pipeline` entries).
  std::vector<TimePoint> sent_at_, intended_at_;
  std::size_t head_ = 0, count_ = 0;
  bool closing_ = false;       // no more sends on this connection
  bool aborted_ = false;       // we ended it and counted why already
  bool stopped_ = false;
  // Open model.
  std::uint64_t scheduled_ = 0;
  TimePoint schedule_start_;
  TimerHandle send_timer_;
  bool send_timer_armed_ = false;
  // Reading.
  ReadState read_state_ = ReadState::kHead;
  std::string partial_;
  std::string out_;
  std::uint64_t body_remaining_ = 0;
  http::ChunkedDecoder chunked_;
  int status_ = 0;
  bool close_after_ = false;
  std::size_t until_matched_ = 0;  // tcp --until: bytes of the separator seen
};

class Worker {
 public:
  Worker(const Plan& plan, int index, int first_global_slot, int connections, std::optional<std::uint64_t> quota,
         const std::atomic<bool>* stop)
      : plan_(plan), index_(index), quota_(quota), stop_(stop) {
    for (int i = 0; i < connections; ++i) slots_.push_back(std::make_shared<Slot>(*this, first_global_slot + i));
  }

  void thread_main() {
    try {
      aio::run(main());
    } catch (...) {
      failure_ = std::current_exception();
    }
  }

  const Plan& plan() const { return plan_; }
  bool stopping() const { return stopping_; }

  // Takes one request from the quota; false when there is none left (or the
  // run is over).
  bool take_request() {
    if (stopping_) return false;
    if (quota_) {
      if (*quota_ == 0) return false;
      --*quota_;
    }
    ++counters.sent;
    ++in_flight_;
    return true;
  }
  const std::string& next_request() {
    const std::string& r = plan_.requests[next_request_];
    if (++next_request_ == plan_.requests.size()) next_request_ = 0;
    return r;
  }

  void on_response(TimePoint now, TimePoint sent, TimePoint intended, int status) {
    --in_flight_;
    if (now < plan_.measure_start) {
      ++counters.warmup_responses;
    } else {
      ++counters.responses;
      int cls = status / 100;
      ++counters.status_classes[(cls >= 1 && cls <= 5) ? cls : 0];
      std::int64_t service = micros(now - sent);
      latency.record(service);
      std::int64_t primary = service;
      if (plan_.config->rate > 0) {
        primary = micros(now - intended);
        corrected.record(primary);
      }
      interval_latency_.record(primary);
      ++interval_responses_;
      live_responses.fetch_add(1, std::memory_order_relaxed);
    }
    check_done();
  }
  // `due`: when the send could have gone out at the earliest (its intended
  // time, or later if the connection had no room until then).
  void on_sent(TimePoint now, TimePoint due) {
    if (plan_.config->rate > 0) {
      lag.record(micros(now - due));
      if (now - due > plan_.config->late_threshold) ++counters.late_sends;
    }
  }
  void on_error(ErrorKind kind, std::uint64_t requests_lost, std::string_view message) {
    std::uint64_t n = requests_lost > 0 ? requests_lost : 1;
    counters.errors[static_cast<int>(kind)] += n;
    if (in_flight_ >= requests_lost) in_flight_ -= requests_lost;
    interval_errors_ += n;
    live_errors.fetch_add(n, std::memory_order_relaxed);
    std::string& example = error_examples[static_cast<int>(kind)];
    if (example.empty()) example = std::string(message);
    check_done();
  }
  void on_unfinished(std::uint64_t n) {
    counters.unfinished += n;
    if (in_flight_ >= n) in_flight_ -= n;
  }
  void on_bytes(std::uint64_t read, std::uint64_t written) {
    counters.bytes_read += read;
    counters.bytes_written += written;
    interval_bytes_ += read;
  }
  void on_open() {
    ++open_;
    if (open_ > counters.peak_open) counters.peak_open = open_;
  }
  void on_close() { --open_; }

  std::vector<PublishedInterval> take_published() {
    std::lock_guard<std::mutex> guard(feed_mutex_);
    return std::move(published_);
  }
  // The whole series, after the thread has ended.
  std::vector<PublishedInterval>& all_published() { return published_; }

  Counters counters;
  HdrHistogram latency, corrected, lag, connect_time;
  std::array<std::string, static_cast<int>(ErrorKind::kCount)> error_examples;
  double cpu_seconds = 0;
  std::exception_ptr failure_;
  std::atomic<std::uint64_t> live_responses{0}, live_errors{0};

 private:
  Coro<void> main() {
    loop_ = &get_running_loop();
    Clock::duration until_start = plan_.start - Clock::now();
    if (until_start > Clock::duration::zero()) co_await sleep(until_start);
    double cpu_start = thread_cpu_seconds();
    std::vector<Task<void>> connectors;
    connectors.reserve(slots_.size());
    for (auto& slot : slots_) connectors.push_back(create_task(connect_loop(slot)));
    if (plan_.end != TimePoint::max()) {
      end_timer_ = loop_->call_at(plan_.end, [this] { finish(); });
    }
    next_interval_ = plan_.measure_start + std::chrono::seconds(1);
    interval_timer_ = loop_->call_at(next_interval_, [this] { on_interval(); });
    schedule_tick();
    co_await done_.wait();
    end_timer_.cancel();
    interval_timer_.cancel();
    tick_timer_.cancel();
    for (Task<void>& task : connectors) task.cancel();
    for (auto& slot : slots_) slot->stop();
    // The last, partial second, if the measured run reached it.
    TimePoint now = Clock::now();
    if (now > plan_.measure_start && (interval_responses_ > 0 || interval_errors_ > 0)) publish();
    for (Task<void>& task : connectors) {
      try {
        co_await task;
      } catch (const CancelledError&) {
      }
    }
    cpu_seconds = thread_cpu_seconds() - cpu_start;
  }

  Coro<void> connect_loop(std::shared_ptr<Slot> slot) {
    const Config& c = *plan_.config;
    Clock::duration backoff = std::chrono::milliseconds(10);
    int failures = 0;
    bool first = true;
    while (!stopping_) {
      if (!first) ++counters.reconnects;
      ++counters.connect_attempts;
      TimePoint started = Clock::now();
      ErrorKind kind = ErrorKind::kConnectOther;
      std::string message;
      bool ok = false;
      try {
        ProtocolFactory factory = [slot] { return std::static_pointer_cast<BaseProtocol>(slot); };
        Coro<Connection<BaseProtocol>> attempt =
            create_connection(std::move(factory), plan_.config->target.host, plan_.config->target.port);
        Connection<BaseProtocol> connection = co_await timeout(c.connect_timeout, std::move(attempt));
        (void)connection;
        ok = true;
      } catch (const TimeoutError&) {
        kind = ErrorKind::kConnectTimeout;
        message = "no connection within --connect-timeout";
      } catch (const std::system_error& e) {
        kind = e.code().value() == ECONNREFUSED ? ErrorKind::kConnectRefused : ErrorKind::kConnectOther;
        message = e.what();
      } catch (const CancelledError&) {
        throw;
      } catch (const std::exception& e) {
        message = e.what();
      }
      first = false;
      if (ok) {
        connect_time.record(micros(Clock::now() - started));
        ++counters.connects;
        failures = 0;
        backoff = std::chrono::milliseconds(10);
        co_await slot->lost().wait();
        slot->lost().clear();
        continue;
      }
      on_error(kind, 0, message);
      if (++failures >= kMaxConnectFailures) {
        // This connection gives up; the run ends when all have.
        if (++gave_up_ == static_cast<int>(slots_.size())) finish();
        co_return;
      }
      co_await sleep(backoff);
      backoff = std::min<Clock::duration>(backoff * 2, std::chrono::milliseconds(500));
    }
  }

  void check_done() {
    if (quota_ && *quota_ == 0 && in_flight_ == 0) finish();
  }

  void finish() {
    if (stopping_) return;
    stopping_ = true;
    done_.set();
  }

  void schedule_tick() {
    const Config& c = *plan_.config;
    Clock::duration tick = std::chrono::milliseconds(100);
    if (c.timeout.count() > 0) {
      Clock::duration fraction = std::chrono::duration_cast<Clock::duration>(c.timeout) / 10;
      if (fraction < tick) tick = std::max<Clock::duration>(fraction, std::chrono::milliseconds(1));
    }
    tick_timer_ = loop_->call_later(tick, [this] { on_tick(); });
  }

  // Request timeouts and the stop flag, checked a few times per timeout.
  void on_tick() {
    if (stopping_) return;
    if (stop_ && stop_->load(std::memory_order_relaxed)) {
      finish();
      return;
    }
    const Config& c = *plan_.config;
    if (c.timeout.count() > 0) {
      TimePoint limit = Clock::now() - c.timeout;
      for (auto& slot : slots_) {
        if (slot->in_flight() > 0 && slot->oldest_send() < limit) slot->abort_for_timeout();
      }
    }
    if (!stopping_) schedule_tick();
  }

  void on_interval() {
    publish();
    next_interval_ += std::chrono::seconds(1);
    if (!stopping_) interval_timer_ = loop_->call_at(next_interval_, [this] { on_interval(); });
  }

  void publish() {
    PublishedInterval p;
    p.second = std::chrono::duration_cast<std::chrono::seconds>(next_interval_ - plan_.measure_start).count() - 1;
    p.responses = interval_responses_;
    p.errors = interval_errors_;
    p.bytes_read = interval_bytes_;
    p.latency = interval_latency_.sparse();
    interval_latency_.reset();
    interval_responses_ = interval_errors_ = interval_bytes_ = 0;
    std::lock_guard<std::mutex> guard(feed_mutex_);
    published_.push_back(std::move(p));
  }

  static constexpr int kMaxConnectFailures = 10;

  const Plan& plan_;
  int index_;
  std::optional<std::uint64_t> quota_;
  const std::atomic<bool>* stop_;
  EventLoop* loop_ = nullptr;
  std::vector<std::shared_ptr<Slot>> slots_;
  std::size_t next_request_ = 0;
  std::uint64_t in_flight_ = 0;
  std::uint64_t open_ = 0;
  int gave_up_ = 0;
  bool stopping_ = false;
  Event done_;
  TimerHandle end_timer_, interval_timer_, tick_timer_;
  TimePoint next_interval_;
  HdrHistogram interval_latency_;
  std::uint64_t interval_responses_ = 0, interval_errors_ = 0, interval_bytes_ = 0;
  std::mutex feed_mutex_;
  std::vector<PublishedInterval> published_;
};

// --- Slot ----------------------------------------------------------------------------

Slot::Slot(Worker& worker, int global_index) : w_(worker), plan_(worker.plan()) {
  std::size_t depth = static_cast<std::size_t>(plan_.config->pipeline);
  sent_at_.resize(depth);
  intended_at_.resize(depth);
  if (plan_.config->rate > 0) {
    // Spread the connections' schedules evenly over one interval.
    schedule_start_ = plan_.start + plan_.interval * global_index / plan_.total_connections;
  }
  if (plan_.tcp) read_state_ = ReadState::kTcp;
}

void Slot::connection_made(std::shared_ptr<Transport> transport) {
  transport_ = std::move(transport);
  closing_ = aborted_ = false;
  read_state_ = plan_.tcp ? ReadState::kTcp : ReadState::kHead;
  partial_.clear();
  until_matched_ = 0;
  body_remaining_ = 0;
  w_.on_open();
  if (stopped_ || w_.stopping()) {
    transport_->abort();
    return;
  }
  TimePoint now = Clock::now();
  top_up(now, now);
}

void Slot::push(TimePoint sent, TimePoint intended) {
  std::size_t depth = sent_at_.size();
  std::size_t at = head_ + count_;
  if (at >= depth) at -= depth;
  sent_at_[at] = sent;
  intended_at_[at] = intended;
  ++count_;
}

void Slot::top_up(TimePoint now, TimePoint room_since) {
  if (!transport_ || closing_ || stopped_ || aborted_ || transport_->is_closing()) return;
  const Config& c = *plan_.config;
  std::size_t depth = sent_at_.size();
  // Pipelined closed model: the next batch of `depth` requests goes out once
  // every response of the last one has come, as wrk's pipeline.lua does: one
  // send per `depth` responses. Refilling at half the window instead cost
  // about 10% more client CPU per request against nginx (two sends per
  // window, and nginx woken twice as often); docs/design/performance.md.
  if (c.rate == 0 && depth > 1 && count_ > 0) return;
  out_.clear();
  std::size_t sent = 0;
  while (count_ < depth) {
    TimePoint intended = now;
    if (c.rate > 0) {
      intended = schedule_start_ + plan_.interval * static_cast<std::int64_t>(scheduled_);
      if (intended > now) {
        arm_send_timer(intended);
        break;
      }
    }
    if (!w_.take_request()) break;
    if (c.rate > 0) ++scheduled_;
    push(now, intended);
    w_.on_sent(now, std::max(intended, room_since));
    out_.append(w_.next_request());
    ++sent;
  }
  if (sent > 0) {
    w_.on_bytes(0, out_.size());
    transport_->write(out_);
  }
}

void Slot::arm_send_timer(TimePoint when) {
  if (send_timer_armed_) return;
  send_timer_armed_ = true;
  send_timer_ = get_running_loop().call_at(when, [this] {
    send_timer_armed_ = false;
    top_up(Clock::now(), TimePoint::min());
  });
}

void Slot::data_received(std::string_view data) {
  TimePoint now = Clock::now();
  w_.on_bytes(data.size(), 0);
  if (partial_.empty()) {
    std::size_t used = parse(data, now);
    if (used < data.size() && transport_ && !aborted_) partial_.assign(data.substr(used));
  } else {
    partial_.append(data);
    std::size_t used = parse(partial_, now);
    if (aborted_) partial_.clear();
    else partial_.erase(0, used);
  }
  if (partial_.size() > 64 * 1024) return fail(ErrorKind::kProtocol, "response head larger than 64 KiB");
  if (closing_ && count_ == 0 && transport_) {
    transport_->close();
    return;
  }
  top_up(now, now);
}

std::size_t Slot::parse(std::string_view in, TimePoint now) {
  std::size_t pos = 0;
  const Config& c = *plan_.config;
  while (pos < in.size() && !aborted_) {
    if (count_ == 0) {
      fail(ErrorKind::kProtocol, "bytes received with no request in flight");
      return in.size();
    }
    switch (read_state_) {
      case ReadState::kHead: {
        http::ResponseHead head;
        http::ParseStatus status = http::parse_response_head(in.substr(pos), head);
        if (status == http::ParseStatus::kIncomplete) return pos;
        if (status == http::ParseStatus::kError) {
          fail(ErrorKind::kProtocol, head.error);
          return in.size();
        }
        pos += head.head_size;
        if (head.status < 200) break;  // 1xx: the real response follows
        status_ = head.status;
        close_after_ = head.close;
        if (plan_.head_requests || head.status == 204 || head.status == 304) {
          complete(now);
        } else if (head.chunked) {
          chunked_.reset();
          read_state_ = ReadState::kChunked;
        } else if (head.has_content_length) {
          body_remaining_ = head.content_length;
          if (body_remaining_ == 0) complete(now);
          else read_state_ = ReadState::kBody;
        } else {
          read_state_ = ReadState::kUntilClose;
          close_after_ = true;
        }
        break;
      }
      case ReadState::kBody: {
        std::uint64_t take = std::min<std::uint64_t>(body_remaining_, in.size() - pos);
        pos += take;
        body_remaining_ -= take;
        if (body_remaining_ == 0) complete(now);
        break;
      }
      case ReadState::kChunked: {
        std::size_t used = 0;
        http::ParseStatus status = chunked_.feed(in.substr(pos), used);
        if (status == http::ParseStatus::kError) {
          fail(ErrorKind::kProtocol, "malformed chunked body");
          return in.size();
        }
        pos += used;
        if (status == http::ParseStatus::kComplete) complete(now);
        break;
      }
      case ReadState::kUntilClose:
        return in.size();  // the response ends with the connection
      case ReadState::kTcp: {
        std::string_view rest = in.substr(pos);
        if (!c.until.empty()) {
          // Match the separator byte by byte, so that one split across reads
          // is found without keeping the bytes.
          std::size_t i = 0;
          bool found = false;
          for (; i < rest.size(); ++i) {
            if (rest[i] == c.until[until_matched_]) {
              if (++until_matched_ == c.until.size()) {
                found = true;
                ++i;
                break;
              }
            } else {
              until_matched_ = rest[i] == c.until[0] ? 1 : 0;
            }
          }
          pos += i;
          if (found) {
            until_matched_ = 0;
            complete(now);
          }
        } else {
          std::uint64_t expect = c.expect ? *c.expect : c.payload.size();
          if (body_remaining_ == 0) body_remaining_ = expect;
          std::uint64_t take = std::min<std::uint64_t>(body_remaining_, rest.size());
          pos += take;
          body_remaining_ -= take;
          if (body_remaining_ == 0) complete(now);
        }
        break;
      }
    }
  }
  return pos;
}

void Slot::complete(TimePoint now) {
  TimePoint sent = sent_at_[head_];
  TimePoint intended = intended_at_[head_];
  if (++head_ == sent_at_.size()) head_ = 0;
  --count_;
  if (!plan_.tcp) read_state_ = ReadState::kHead;
  w_.on_response(now, sent, intended, plan_.tcp ? 200 : status_);
  if (close_after_) closing_ = true;
  close_after_ = false;
}

void Slot::fail(ErrorKind kind, const char* why) {
  if (aborted_) return;
  aborted_ = true;
  std::size_t lost = count_;
  count_ = 0;
  head_ = 0;
  w_.on_error(kind, lost, why);
  if (transport_) transport_->abort();
}

void Slot::abort_for_timeout() {
  if (aborted_ || count_ == 0) return;
  fail(ErrorKind::kTimeout, "no response within --timeout");
}

void Slot::stop() {
  stopped_ = true;
  send_timer_.cancel();
  send_timer_armed_ = false;
  if (count_ > 0) w_.on_unfinished(count_);
  count_ = 0;
  head_ = 0;
  aborted_ = true;
  if (transport_) transport_->abort();
}

void Slot::connection_lost(std::exception_ptr error) {
  send_timer_.cancel();
  send_timer_armed_ = false;
  if (read_state_ == ReadState::kUntilClose && count_ > 0 && !error && !aborted_) complete(Clock::now());
  if (!aborted_ && count_ > 0) {
    std::string message = "the server closed the connection";
    ErrorKind kind = ErrorKind::kClosed;
    if (error) {
      try {
        std::rethrow_exception(error);
      } catch (const std::system_error& e) {
        message = e.what();
        int code = e.code().value();
        if (code == ECONNRESET || code == EPIPE) kind = ErrorKind::kReset;
        else if (message.find("write") != std::string::npos) kind = ErrorKind::kWriteError;
        else kind = ErrorKind::kReadError;
      } catch (const std::exception& e) {
        message = e.what();
        kind = ErrorKind::kReadError;
      }
    }
    w_.on_error(kind, count_, message);
  } else if (!aborted_ && error && !closing_) {
    // An error with nothing in flight (a reset on an idle connection).
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      w_.on_error(ErrorKind::kReset, 0, e.what());
    }
  }
  count_ = 0;
  head_ = 0;
  partial_.clear();
  transport_.reset();
  w_.on_close();
  lost_.set();
}

}  // namespace

void probe_target(const Config& config) {
  std::string where = config.target.host + ":" + std::to_string(config.target.port);
  try {
    aio::run([](const Config* c) -> Coro<void> {
      ProtocolFactory factory = [] { return std::make_shared<Protocol>(); };
      Coro<Connection<BaseProtocol>> attempt = create_connection(std::move(factory), c->target.host, c->target.port);
      Connection<BaseProtocol> connection = co_await timeout(c->connect_timeout, std::move(attempt));
      connection.transport->abort();
    }(&config));
  } catch (const TimeoutError&) {
    throw std::runtime_error("cannot connect to " + where + ": no answer within --connect-timeout (" +
                             format_micros(static_cast<double>(config.connect_timeout.count()) / 1e3) + ")");
  } catch (const std::system_error& e) {
    throw std::runtime_error("cannot connect to " + where + ": " + e.code().message());
  } catch (const std::exception& e) {
    throw std::runtime_error("cannot connect to " + where + ": " + e.what());
  }
}

Result run_load(const Config& config, const std::function<void(const Progress&)>& on_second,
                const std::atomic<bool>* stop) {
  validate(config);
  Plan plan;
  plan.config = &config;
  plan.tcp = config.target.scheme == Target::Scheme::kTcp;
  plan.head_requests = config.method == "HEAD";
  plan.total_connections = config.connections;
  if (plan.tcp) {
    plan.requests.push_back(config.payload);
  } else if (config.urls.empty()) {
    plan.requests.push_back(serialize_request(config, config.target));
  } else {
    for (const Target& t : config.urls) plan.requests.push_back(serialize_request(config, t));
  }
  if (config.rate > 0) {
    plan.interval = std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(static_cast<double>(config.connections) / config.rate));
    if (plan.interval.count() <= 0) plan.interval = Clock::duration(1);
  }
  // Threads start together, shortly after they are created.
  plan.start = Clock::now() + std::chrono::milliseconds(20);
  plan.measure_start = plan.start + std::chrono::duration_cast<Clock::duration>(config.warmup);
  plan.end = config.duration ? plan.measure_start + std::chrono::duration_cast<Clock::duration>(*config.duration)
                             : TimePoint::max();

  std::vector<std::unique_ptr<Worker>> workers;
  int first = 0;
  for (int t = 0; t < config.threads; ++t) {
    int connections = config.connections / config.threads + (t < config.connections % config.threads ? 1 : 0);
    std::optional<std::uint64_t> quota;
    if (config.requests) {
      // Split -n in proportion to the connections, exactly.
      std::uint64_t n = *config.requests;
      auto c = static_cast<std::uint64_t>(config.connections);
      auto before = static_cast<std::uint64_t>(first);
      auto after = before + static_cast<std::uint64_t>(connections);
      quota = n * after / c - n * before / c;
    }
    workers.push_back(std::make_unique<Worker>(plan, t, first, connections, quota, stop));
    first += connections;
  }
  // The workers' threads; each says when it is done, so that the loop below
  // wakes once a second for the live line and at once at the end.
  std::mutex done_mutex;
  std::condition_variable done_cv;
  int finished = 0;
  std::vector<std::thread> threads;
  for (auto& w : workers) {
    threads.emplace_back([&w, &done_mutex, &done_cv, &finished] {
      w->thread_main();
      std::lock_guard<std::mutex> guard(done_mutex);
      ++finished;
      done_cv.notify_all();
    });
  }
  Result result;
  std::vector<PublishedInterval> collected;
  HdrHistogram so_far;
  std::uint64_t last_responses = 0;
  TimePoint next = plan.start + std::chrono::seconds(1);
  {
    std::unique_lock<std::mutex> lock(done_mutex);
    while (finished < static_cast<int>(threads.size())) {
      if (done_cv.wait_until(lock, next) != std::cv_status::timeout) continue;
      lock.unlock();
      // Only atomics and the workers' published seconds (a mutex each) are read.
      Progress p;
      TimePoint now = Clock::now();
      p.elapsed_seconds = std::chrono::duration<double>(now - plan.start).count();
      p.warming_up = now < plan.measure_start;
      for (auto& w : workers) {
        p.responses += w->live_responses.load(std::memory_order_relaxed);
        p.errors += w->live_errors.load(std::memory_order_relaxed);
        for (PublishedInterval& i : w->take_published()) {
          so_far.add_sparse(i.latency);
          collected.push_back(std::move(i));
        }
      }
      p.rate = static_cast<double>(p.responses - last_responses);
      last_responses = p.responses;
      p.p99_us = so_far.value_at_percentile(99);
      if (on_second) on_second(p);
      next += std::chrono::seconds(1);
      lock.lock();
    }
  }
  for (auto& t : threads) t.join();
  TimePoint ended = Clock::now();

  for (auto& w : workers) {
    if (w->failure_) std::rethrow_exception(w->failure_);
  }
  result.config = config;
  for (auto& w : workers) {
    result.counters.add(w->counters);
    result.latency.add(w->latency);
    result.corrected.add(w->corrected);
    result.lag.add(w->lag);
    result.connect_time.add(w->connect_time);
    result.client_cpu_seconds += w->cpu_seconds;
    for (std::size_t k = 0; k < result.error_examples.size(); ++k) {
      if (result.error_examples[k].empty()) result.error_examples[k] = w->error_examples[k];
    }
    for (PublishedInterval& i : w->all_published()) collected.push_back(std::move(i));
  }
  TimePoint measured_end = std::min(ended, plan.end);
  result.measured_seconds = std::max(0.0, std::chrono::duration<double>(measured_end - plan.measure_start).count());
  if (config.duration && result.measured_seconds > std::chrono::duration<double>(*config.duration).count()) {
    result.measured_seconds = std::chrono::duration<double>(*config.duration).count();
  }
  // Merge the seconds of all threads.
  std::int64_t seconds = 0;
  for (const PublishedInterval& i : collected) seconds = std::max(seconds, i.second + 1);
  result.series.resize(static_cast<std::size_t>(seconds));
  for (std::int64_t s = 0; s < seconds; ++s) result.series[static_cast<std::size_t>(s)].second = s;
  for (PublishedInterval& i : collected) {
    if (i.second < 0) continue;
    IntervalStats& s = result.series[static_cast<std::size_t>(i.second)];
    s.responses += i.responses;
    s.errors += i.errors;
    s.bytes_read += i.bytes_read;
    if (s.latency_counts.empty()) {
      s.latency_counts = std::move(i.latency);
    } else if (!i.latency.empty()) {
      HdrHistogram h = s.histogram();
      h.add_sparse(i.latency);
      s.latency_counts = h.sparse();
    }
  }
  auto since_start = std::chrono::duration<double>(Clock::now() - plan.measure_start).count();
  result.start_unix_seconds =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count() - since_start;
  result.interrupted = stop && stop->load();
  return result;
}

}  // namespace aio::loadgen
