// Report formatting. The text report follows wrk's layout (a header, a
// latency table, the distribution, totals, errors only when there are some)
// with oha's per-value units, and adds what wrk leaves out: the corrected and
// uncorrected latency side by side in the open model, the error classes,
// connections established vs requested, and the client's own health.
#include "tools/loadgen/report.h"

#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string_view>

namespace aio::loadgen {
namespace {

std::string line(const char* format, ...) __attribute__((format(printf, 1, 2)));
std::string line(const char* format, ...) {
  char text[1024];
  va_list args;
  va_start(args, format);
  std::vsnprintf(text, sizeof text, format, args);
  va_end(args);
  return text;
}

std::string with_commas(std::uint64_t n) {
  std::string digits = std::to_string(n);
  std::string out;
  int count = 0;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    if (count && count % 3 == 0) out.push_back(',');
    out.push_back(*it);
    ++count;
  }
  return std::string(out.rbegin(), out.rend());
}

constexpr double kPercentiles[] = {50, 75, 90, 99, 99.9, 99.99};

std::string model_text(const Config& c) {
  std::string s = c.rate > 0 ? line("open model at %s req/s", format_count(c.rate).c_str()) : "closed model";
  if (c.pipeline > 1) s += line(", pipeline %d", c.pipeline);
  return s;
}

double rate_of(const Result& r, double n) { return r.measured_seconds > 0 ? n / r.measured_seconds : 0; }

}  // namespace

std::string format_header(const Config& c) {
  std::string what = c.requests ? with_commas(*c.requests) + " requests"
                                : format_seconds(std::chrono::duration<double>(*c.duration).count()) + " test";
  if (c.requests && c.duration) {
    what += " within " + format_seconds(std::chrono::duration<double>(*c.duration).count());
  }
  std::string s = "Running " + what + " @ " + c.target.text;
  if (!c.urls.empty()) s += line(" (and %zu more URLs)", c.urls.size() - 1);
  s += "\n";
  s += line("  %d thread%s and %d connection%s, %s", c.threads, c.threads == 1 ? "" : "s", c.connections,
            c.connections == 1 ? "" : "s", model_text(c).c_str());
  if (c.warmup.count() > 0) s += ", warm-up " + format_seconds(std::chrono::duration<double>(c.warmup).count());
  s += "\n";
  return s;
}

std::string bottleneck_reason(const Result& r) {
  double capacity = r.measured_seconds * r.config.threads;
  if (capacity > 0.5) {
    double cpu = r.client_cpu_seconds / (capacity + std::chrono::duration<double>(r.config.warmup).count() *
                                                        r.config.threads);
    if (cpu >= 0.95) {
      return line("the client used %.0f%% of its %d thread%s: these figures are the client's limit, "
                  "not the server's (add -t or another machine)",
                  cpu * 100, r.config.threads, r.config.threads == 1 ? "" : "s");
    }
  }
  if (r.config.rate > 0 && r.lag.total_count() > 0) {
    std::int64_t p99 = r.lag.value_at_percentile(99);
    if (p99 > 10'000) {
      return "sends ran " + format_micros(static_cast<double>(p99)) +
             " behind schedule at p99: the client could not keep the rate (more -t or -c)";
    }
  }
  return {};
}

std::string format_report(const Result& r, const ReportOptions& options) {
  const Config& c = r.config;
  const Counters& n = r.counters;
  bool open = c.rate > 0;
  const HdrHistogram& primary = open ? r.corrected : r.latency;
  std::string s;
  auto stats_row = [&](const char* name, const HdrHistogram& h) {
    s += line("    %-12s %9s %9s %9s %9s %9s\n", name, format_micros(h.mean()).c_str(),
              format_micros(h.stddev()).c_str(), format_micros(static_cast<double>(h.value_at_percentile(50))).c_str(),
              format_micros(static_cast<double>(h.value_at_percentile(99))).c_str(),
              format_micros(static_cast<double>(h.max())).c_str());
  };
  s += line("  %-16s %9s %9s %9s %9s %9s\n", "Latency", "Avg", "Stdev", "p50", "p99", "Max");
  if (open) {
    stats_row("corrected", r.corrected);
    stats_row("uncorrected", r.latency);
  } else {
    stats_row("", r.latency);
  }
  s += line("  Latency Distribution (HdrHistogram%s)\n",
            open ? "; corrected: from the intended send / uncorrected: from the actual send" : "");
  for (double p : kPercentiles) {
    if (open) {
      s += line("  %7.3f%% %9s %9s\n", p, format_micros(static_cast<double>(r.corrected.value_at_percentile(p))).c_str(),
                format_micros(static_cast<double>(r.latency.value_at_percentile(p))).c_str());
    } else {
      s += line("  %7.3f%% %9s\n", p, format_micros(static_cast<double>(primary.value_at_percentile(p))).c_str());
    }
  }
  if (options.full_spectrum && primary.total_count() > 0) {
    s += "  Detailed Percentile spectrum:\n";
    s += line("  %12s %12s %12s %14s\n", "Value(us)", "Percentile", "TotalCount", "1/(1-Percentile)");
    // As HdrHistogram's percentile output: 5 steps per halving of the tail.
    for (double p = 0; p < 100;) {
      std::int64_t v = primary.value_at_percentile(p == 0 ? 0.0001 : p);
      auto count = static_cast<std::int64_t>(std::llround(p / 100 * static_cast<double>(primary.total_count())));
      s += line("  %12lld %12.6f %12lld %14.2f\n", static_cast<long long>(v), p / 100, static_cast<long long>(count),
                1 / (1 - p / 100));
      double remaining = 100 - p;
      p += remaining / 10;
      if (remaining < 1e-4) break;
    }
    s += line("  %12lld %12.6f %12lld %14s\n", static_cast<long long>(primary.max()), 1.0,
              static_cast<long long>(primary.total_count()), "inf");
  }
  s += line("  %s requests in %s, %s read", with_commas(n.responses).c_str(), format_seconds(r.measured_seconds).c_str(),
            format_bytes(static_cast<double>(n.bytes_read)).c_str());
  if (n.warmup_responses) s += line(" (and %s in the warm-up)", with_commas(n.warmup_responses).c_str());
  s += "\n";
  std::uint64_t errors = n.error_total();
  if (errors > 0) {
    s += "  Errors:";
    bool first = true;
    for (int k = 0; k < static_cast<int>(ErrorKind::kCount); ++k) {
      if (n.errors[k] == 0) continue;
      s += line("%s %s %s", first ? "" : ",", error_label(static_cast<ErrorKind>(k)), with_commas(n.errors[k]).c_str());
      first = false;
    }
    s += "\n";
    for (int k = 0; k < static_cast<int>(ErrorKind::kCount); ++k) {
      if (n.errors[k] && !r.error_examples[k].empty()) {
        s += line("    %s: %s\n", error_label(static_cast<ErrorKind>(k)), r.error_examples[k].c_str());
      }
    }
  }
  std::uint64_t bad = n.status_classes[0] + n.status_classes[1] + n.status_classes[4] + n.status_classes[5];
  if (c.target.scheme == Target::Scheme::kHttp) {
    s += "  Status codes:";
    const char* names[] = {"other", "1xx", "2xx", "3xx", "4xx", "5xx"};
    bool any = false;
    for (int k = 1; k <= 5; ++k) {
      if (n.status_classes[k]) {
        s += line(" %s %s", names[k], with_commas(n.status_classes[k]).c_str());
        any = true;
      }
    }
    if (n.status_classes[0]) s += line(" other %s", with_commas(n.status_classes[0]).c_str());
    if (!any && !n.status_classes[0]) s += " none";
    s += "\n";
    if (bad) s += line("  Non-2xx or 3xx responses: %s\n", with_commas(bad).c_str());
  }
  if (n.unfinished) s += line("  In flight at the end (not counted): %s\n", with_commas(n.unfinished).c_str());
  s += line("  Connections: %llu of %d open at the peak, %llu established in all, %llu reconnects",
            static_cast<unsigned long long>(n.peak_open), c.connections, static_cast<unsigned long long>(n.connects),
            static_cast<unsigned long long>(n.reconnects));
  if (r.connect_time.total_count()) {
    s += ", connect p50 " + format_micros(static_cast<double>(r.connect_time.value_at_percentile(50)));
  }
  s += "\n";
  double cpu_share = r.measured_seconds > 0
                         ? r.client_cpu_seconds /
                               ((r.measured_seconds + std::chrono::duration<double>(c.warmup).count()) * c.threads)
                         : 0;
  s += line("  Client: %.0f%% CPU of %d thread%s (%.2fs)", cpu_share * 100, c.threads, c.threads == 1 ? "" : "s",
            r.client_cpu_seconds);
  if (open) {
    s += line(", send lag p99 %s max %s, %s late sends (> %s)",
              format_micros(static_cast<double>(r.lag.value_at_percentile(99))).c_str(),
              format_micros(static_cast<double>(r.lag.max())).c_str(), with_commas(n.late_sends).c_str(),
              format_micros(static_cast<double>(std::chrono::duration_cast<std::chrono::microseconds>(c.late_threshold).count())).c_str());
  }
  s += "\n";
  s += line("Requests/sec: %12.2f", rate_of(r, static_cast<double>(n.responses)));
  if (open) s += line("   (target %.2f)", c.rate);
  s += "\n";
  s += line("Transfer/sec: %12s\n", format_bytes(rate_of(r, static_cast<double>(n.bytes_read))).c_str());
  std::string reason = bottleneck_reason(r);
  if (!reason.empty()) s += "Note: " + reason + "\n";
  if (r.interrupted) s += "Note: interrupted before the end; the figures cover the part that ran\n";
  return s;
}

std::string format_progress(const Progress& p) {
  return line("[%6.1fs]%s %s responses  %s req/s  p99 %s  %s errors", p.elapsed_seconds,
              p.warming_up ? " warm-up" : "", with_commas(p.responses).c_str(), format_count(p.rate).c_str(),
              format_micros(static_cast<double>(p.p99_us)).c_str(), with_commas(p.errors).c_str());
}

namespace {

nlohmann::json latency_json(const HdrHistogram& h) {
  nlohmann::json j;
  j["count"] = h.total_count();
  j["min"] = h.min();
  j["mean"] = std::round(h.mean() * 10) / 10;
  j["stdev"] = std::round(h.stddev() * 10) / 10;
  j["p50"] = h.value_at_percentile(50);
  j["p75"] = h.value_at_percentile(75);
  j["p90"] = h.value_at_percentile(90);
  j["p99"] = h.value_at_percentile(99);
  j["p99_9"] = h.value_at_percentile(99.9);
  j["p99_99"] = h.value_at_percentile(99.99);
  j["max"] = h.max();
  return j;
}

}  // namespace

std::string format_json(const Result& r) {
  const Config& c = r.config;
  const Counters& n = r.counters;
  nlohmann::json j;
  j["schema"] = kJsonSchema;
  nlohmann::json& config = j["config"];
  config["target"] = c.target.text;
  config["connections"] = c.connections;
  config["threads"] = c.threads;
  config["model"] = c.rate > 0 ? "open" : "closed";
  config["rate_per_s"] = c.rate;
  config["pipeline"] = c.pipeline;
  config["duration_s"] = c.duration ? nlohmann::json(std::chrono::duration<double>(*c.duration).count()) : nullptr;
  config["requests"] = c.requests ? nlohmann::json(*c.requests) : nullptr;
  config["warmup_s"] = std::chrono::duration<double>(c.warmup).count();
  config["timeout_s"] = std::chrono::duration<double>(c.timeout).count();
  config["method"] = c.method;
  nlohmann::json& summary = j["summary"];
  summary["measured_s"] = r.measured_seconds;
  summary["requests_sent"] = n.sent;
  summary["responses"] = n.responses;
  summary["warmup_responses"] = n.warmup_responses;
  summary["unfinished"] = n.unfinished;
  summary["requests_per_s"] = rate_of(r, static_cast<double>(n.responses));
  summary["bytes_read"] = n.bytes_read;
  summary["bytes_written"] = n.bytes_written;
  summary["bytes_read_per_s"] = rate_of(r, static_cast<double>(n.bytes_read));
  std::uint64_t ok = n.status_classes[2] + n.status_classes[3];
  std::uint64_t attempts = n.responses + n.error_total();
  summary["success_rate"] = attempts ? static_cast<double>(ok) / static_cast<double>(attempts) : 0.0;
  summary["interrupted"] = r.interrupted;
  j["latency_us"] = latency_json(r.latency);
  j["corrected_latency_us"] = c.rate > 0 ? latency_json(r.corrected) : nullptr;
  nlohmann::json& status = j["status"];
  const char* names[] = {"other", "1xx", "2xx", "3xx", "4xx", "5xx"};
  for (int k = 0; k <= 5; ++k) status[names[k]] = n.status_classes[k];
  nlohmann::json& errors = j["errors"];
  for (int k = 0; k < static_cast<int>(ErrorKind::kCount); ++k) errors[error_key(static_cast<ErrorKind>(k))] = n.errors[k];
  nlohmann::json& connections = j["connections"];
  connections["requested"] = c.connections;
  connections["peak_open"] = n.peak_open;
  connections["established"] = n.connects;
  connections["attempts"] = n.connect_attempts;
  connections["reconnects"] = n.reconnects;
  connections["connect_time_us"] = latency_json(r.connect_time);
  nlohmann::json& client = j["client"];
  client["cpu_s"] = r.client_cpu_seconds;
  client["send_lag_us"] = c.rate > 0 ? latency_json(r.lag) : nullptr;
  client["late_sends"] = n.late_sends;
  std::string reason = bottleneck_reason(r);
  client["bottleneck"] = reason.empty() ? nullptr : nlohmann::json(reason);
  nlohmann::json series = nlohmann::json::array();
  for (const IntervalStats& i : r.series) {
    HdrHistogram h = i.histogram();
    nlohmann::json s;
    s["second"] = i.second;
    s["responses"] = i.responses;
    s["errors"] = i.errors;
    s["bytes_read"] = i.bytes_read;
    s["p50_us"] = h.value_at_percentile(50);
    s["p99_us"] = h.value_at_percentile(99);
    s["max_us"] = h.max();
    series.push_back(std::move(s));
  }
  j["series"] = std::move(series);
  return j.dump(2) + "\n";
}

std::string format_csv(const Result& r) {
  std::string s = "second,responses,errors,bytes_read,p50_us,p90_us,p99_us,max_us\n";
  for (const IntervalStats& i : r.series) {
    HdrHistogram h = i.histogram();
    s += line("%lld,%llu,%llu,%llu,%lld,%lld,%lld,%lld\n", static_cast<long long>(i.second),
              static_cast<unsigned long long>(i.responses), static_cast<unsigned long long>(i.errors),
              static_cast<unsigned long long>(i.bytes_read), static_cast<long long>(h.value_at_percentile(50)),
              static_cast<long long>(h.value_at_percentile(90)), static_cast<long long>(h.value_at_percentile(99)),
              static_cast<long long>(h.max()));
  }
  return s;
}

std::string format_hdr_log(const Result& r) {
  HdrLogWriter log(r.start_unix_seconds);
  for (const IntervalStats& i : r.series) {
    log.add_interval(static_cast<double>(i.second), 1.0, i.histogram());
  }
  return log.text();
}

}  // namespace aio::loadgen
