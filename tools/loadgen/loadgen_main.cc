// loadgen: the command line. Parses flags (gflags; -H may repeat, so it is
// taken out of argv first), checks them with one-line errors, starts the
// embedded hello server when no target is given, runs the load and prints
// the report and the files asked for. Exit status: 0 after a run, 1 when the
// run could not happen (unreachable target, fd limit), 2 for bad flags.
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <gflags/gflags.h>

#include "tools/loadgen/hello_server.h"
#include "tools/loadgen/loadgen.h"
#include "tools/loadgen/report.h"
#include "tools/loadgen/units.h"

DEFINE_int32(c, 10, "connections to keep open, split evenly over the threads");
DEFINE_int32(t, 1, "threads, one aio event loop each");
DEFINE_string(d, "", "duration of the measured run, e.g. 10s, 500ms, 2m (default 10s; 5s against the embedded server)");
DEFINE_uint64(n, 0, "send exactly this many requests, then stop (0: use -d)");
DEFINE_double(R, 0, "open model: requests per second over all connections, latency measured from the intended "
                    "send time (0: closed model, each connection sends when its previous response is in)");
DEFINE_int32(pipeline, 1, "requests in flight per connection (HTTP/1.1 pipelining), 1..1024");
DEFINE_string(timeout, "10s", "per request: a request without a response after this is aborted and counted as a "
                              "timeout (0: none)");
DEFINE_string(connect_timeout, "5s", "per connection attempt");
DEFINE_string(warmup, "0s", "run this long before measuring; its responses are left out of the statistics");
DEFINE_string(m, "GET", "HTTP method");
DEFINE_string(H, "", "request header 'Name: value'; repeat -H for several");
DEFINE_string(body, "", "request body (sets Content-Length)");
DEFINE_string(body_file, "", "read the request body from this file");
DEFINE_string(urls_file, "", "file of URLs (one per line, same host and port) sent round-robin");
DEFINE_string(payload, "", "tcp:// mode: the bytes each request sends (\\n and \\r are unescaped)");
DEFINE_string(payload_file, "", "tcp:// mode: read the payload from this file");
DEFINE_uint64(expect, 0, "tcp:// mode: a response is this many bytes (default: the payload's size, an echo)");
DEFINE_string(until, "", "tcp:// mode: a response ends with this separator (\\n and \\r are unescaped)");
DEFINE_bool(latency, false, "print the full percentile spectrum");
DEFINE_string(json, "", "write the results as JSON (schema aio-loadgen/1, see docs/loadgen.md) to this file");
DEFINE_string(csv, "", "write the per-second series as CSV to this file");
DEFINE_string(hdr_log, "", "write HdrHistogram's interval log (one histogram per second, microseconds) to this file");
DEFINE_string(live, "auto", "the live line once a second on stderr: auto (when stderr is a terminal), on, off");
DEFINE_int32(serve, -1, "run only the embedded hello server on this port (0: any) until Ctrl-C");
DEFINE_string(delay, "0s", "embedded server: answer each request after this long");
DEFINE_string(stall_every, "0s", "embedded server: stop answering for --stall_for once per this period");
DEFINE_string(stall_for, "100ms", "embedded server: length of each stall");
DEFINE_uint64(close_every, 0, "embedded server: answer every Nth request with Connection: close");
DEFINE_uint64(reset_every, 0, "embedded server: reset the connection instead of answering every Nth request");
DEFINE_uint64(garbage_every, 0, "embedded server: answer every Nth request with a malformed status line");

namespace {

using namespace aio::loadgen;

std::atomic<bool> g_stop{false};

void on_signal(int) { g_stop.store(true); }

[[noreturn]] void usage_error(const std::string& message) {
  std::fprintf(stderr, "loadgen: %s\n(loadgen --help lists every flag)\n", message.c_str());
  std::exit(2);
}

std::string read_file(const std::string& path, const char* flag) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::invalid_argument(std::string(flag) + ": cannot read '" + path + "'");
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::string unescape(const std::string& text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 1 < text.size()) {
      char next = text[i + 1];
      if (next == 'n') { out.push_back('\n'); ++i; continue; }
      if (next == 'r') { out.push_back('\r'); ++i; continue; }
      if (next == 't') { out.push_back('\t'); ++i; continue; }
      if (next == '\\') { out.push_back('\\'); ++i; continue; }
    }
    out.push_back(text[i]);
  }
  return out;
}

void write_file(const std::string& path, const std::string& text, const char* flag) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) throw std::runtime_error(std::string(flag) + ": cannot write '" + path + "'");
}

// Takes every -H/--H/--header out of argv (gflags keeps only the last one).
std::vector<std::string> take_headers(int& argc, char** argv) {
  std::vector<std::string> headers;
  int out = 1;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--") {
      for (; i < argc; ++i) argv[out++] = argv[i];
      break;
    }
    if (a == "-H" || a == "--H" || a == "--header") {
      if (i + 1 >= argc) usage_error(a + " needs a value 'Name: value'");
      headers.push_back(argv[++i]);
      continue;
    }
    for (const char* prefix : {"-H=", "--H=", "--header="}) {
      if (a.rfind(prefix, 0) == 0) {
        headers.push_back(a.substr(std::string(prefix).size()));
        a.clear();
        break;
      }
    }
    if (a.empty()) continue;
    argv[out++] = argv[i];
  }
  argc = out;
  return headers;
}

// Enough descriptors for the connections (twice, when the embedded server in
// this process holds the other ends; plus the loops' own and a margin): raise
// the soft limit up to the hard one, or say what the limit is.
void ensure_fd_limit(int connections, bool embedded) {
  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  rlim_t need = static_cast<rlim_t>(connections) * (embedded ? 2 : 1) + 64;
  if (limit.rlim_cur >= need) return;
  if (limit.rlim_max >= need) {
    limit.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &limit) == 0) return;
  }
  throw std::runtime_error("-c " + std::to_string(connections) + " needs about " + std::to_string(need) +
                           " file descriptors, but the limit is " + std::to_string(limit.rlim_cur) +
                           " (hard limit " + std::to_string(limit.rlim_max) + "; raise it with ulimit -n)");
}

HelloOptions hello_options() {
  HelloOptions o;
  o.delay = parse_duration(FLAGS_delay, "--delay");
  o.stall_every = parse_duration(FLAGS_stall_every, "--stall_every");
  o.stall_for = parse_duration(FLAGS_stall_for, "--stall_for");
  o.close_every = FLAGS_close_every;
  o.reset_every = FLAGS_reset_every;
  o.garbage_every = FLAGS_garbage_every;
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> headers = take_headers(argc, argv);
  gflags::SetUsageMessage(
      "an HTTP/1.1 and TCP load generator built on aio\n\n"
      "  loadgen [flags] [http://host:port/path | tcp://host:port]\n\n"
      "With no target it loads its own embedded server on 127.0.0.1 for 5 s.\n"
      "Durations take a unit: 250us, 500ms, 10s, 2m, 1h. Examples:\n"
      "  loadgen -c 50 -d 10s http://127.0.0.1:8080/\n"
      "  loadgen -R 2000 -c 20 -d 30s --latency http://127.0.0.1:8080/api\n"
      "  loadgen -n 10000 --pipeline 16 http://127.0.0.1:8080/\n"
      "  loadgen --payload 'ping\\n' --until '\\n' tcp://127.0.0.1:7000\n"
      "  loadgen --serve 8080 --delay 2ms");
  gflags::SetVersionString("aio-loadgen 1");
  gflags::ParseCommandLineFlags(&argc, &argv, true);

  try {
    if (FLAGS_serve >= 0) {
      if (FLAGS_serve > 65535) usage_error("--serve: the port must be 0..65535");
      HelloOptions o = hello_options();
      o.port = static_cast<std::uint16_t>(FLAGS_serve);
      HelloServer::serve_until_signal(o);
      return 0;
    }
    if (argc > 2) usage_error("one target at most (got '" + std::string(argv[1]) + "' and '" + argv[2] + "')");

    Config config;
    HelloServer embedded;
    bool use_embedded = argc < 2;
    if (use_embedded) {
      embedded.start(hello_options());
      config.target = parse_target("http://127.0.0.1:" + std::to_string(embedded.port()) + "/");
    } else {
      config.target = parse_target(argv[1]);
    }
    config.connections = FLAGS_c;
    config.threads = FLAGS_t;
    if (!FLAGS_d.empty()) config.duration = parse_duration(FLAGS_d, "-d");
    if (FLAGS_n > 0) config.requests = FLAGS_n;
    if (!config.duration && !config.requests) {
      config.duration = use_embedded ? std::chrono::seconds(5) : std::chrono::seconds(10);
    }
    if (gflags::GetCommandLineFlagInfoOrDie("R").is_default == false && FLAGS_R <= 0) {
      usage_error("-R: the rate must be positive (requests per second); leave -R out for the closed model");
    }
    config.rate = FLAGS_R;
    config.pipeline = FLAGS_pipeline;
    config.timeout = parse_duration(FLAGS_timeout, "--timeout");
    config.connect_timeout = parse_duration(FLAGS_connect_timeout, "--connect_timeout");
    config.warmup = parse_duration(FLAGS_warmup, "--warmup");
    config.method = FLAGS_m;
    config.headers = headers;
    if (!FLAGS_H.empty()) config.headers.push_back(FLAGS_H);
    config.body = FLAGS_body_file.empty() ? FLAGS_body : read_file(FLAGS_body_file, "--body_file");
    config.payload = FLAGS_payload_file.empty() ? unescape(FLAGS_payload) : read_file(FLAGS_payload_file, "--payload_file");
    if (FLAGS_expect > 0) config.expect = FLAGS_expect;
    config.until = unescape(FLAGS_until);
    if (!FLAGS_urls_file.empty()) {
      std::istringstream lines(read_file(FLAGS_urls_file, "--urls_file"));
      std::string url;
      while (std::getline(lines, url)) {
        while (!url.empty() && (url.back() == '\r' || url.back() == ' ')) url.pop_back();
        if (url.empty() || url[0] == '#') continue;
        config.urls.push_back(parse_target(url));
      }
      if (config.urls.empty()) usage_error("--urls_file: '" + FLAGS_urls_file + "' holds no URL");
      if (use_embedded) {
        for (Target& t : config.urls) t.port = config.target.port;
      }
      if (!use_embedded) config.target = config.urls.front();
    }
    if (FLAGS_live != "auto" && FLAGS_live != "on" && FLAGS_live != "off") {
      usage_error("--live: '" + FLAGS_live + "' is not auto, on or off");
    }
    validate(config);
    ensure_fd_limit(config.connections, use_embedded);
    probe_target(config);

    if (use_embedded) {
      std::printf("No target given: loading aio's embedded hello server at %s (give a URL to load your own)\n",
                  config.target.text.c_str());
    }
    std::fputs(format_header(config).c_str(), stdout);
    std::fflush(stdout);
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    bool live = FLAGS_live == "on" || (FLAGS_live == "auto" && ::isatty(STDERR_FILENO));
    std::function<void(const Progress&)> on_second;
    if (live) {
      on_second = [](const Progress& p) {
        std::fprintf(stderr, "\r%s\x1b[K", format_progress(p).c_str());
        std::fflush(stderr);
      };
    }
    Result result = run_load(config, on_second, &g_stop);
    if (live) std::fputs("\r\x1b[K", stderr);
    embedded.stop();
    ReportOptions report;
    report.full_spectrum = FLAGS_latency;
    std::fputs(format_report(result, report).c_str(), stdout);
    if (use_embedded) {
      std::printf("(the embedded server counted %llu requests)\n",
                  static_cast<unsigned long long>(embedded.requests()));
    }
    if (!FLAGS_json.empty()) write_file(FLAGS_json, format_json(result), "--json");
    if (!FLAGS_csv.empty()) write_file(FLAGS_csv, format_csv(result), "--csv");
    if (!FLAGS_hdr_log.empty()) write_file(FLAGS_hdr_log, format_hdr_log(result), "--hdr_log");
    return 0;
  } catch (const std::invalid_argument& e) {
    usage_error(e.what());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "loadgen: %s\n", e.what());
    return 1;
  }
}
