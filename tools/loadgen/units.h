// The load generator's command-line values: durations ("10s", "500ms",
// "2m"), targets ("http://host:port/path", "tcp://host:port"), and the
// human units the report prints (1.23ms, 56.20k, 12.3MiB).
//
// Parsers throw std::invalid_argument with a one-line message that names
// the value and says what was expected; they never return a half-parsed
// value. Pure functions: thread-safe.
#ifndef AIO_TOOLS_LOADGEN_UNITS_H_
#define AIO_TOOLS_LOADGEN_UNITS_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace aio::loadgen {

// "250us", "500ms", "10s", "2m", "1h", "1.5s"; a bare number is seconds.
// Negative values, unknown units and empty text are errors. `what` names the
// flag in the message ("--duration: ...").
std::chrono::nanoseconds parse_duration(std::string_view text, std::string_view what);

struct Target {
  enum class Scheme { kHttp, kTcp };
  Scheme scheme = Scheme::kHttp;
  std::string host;         // without brackets for IPv6
  std::uint16_t port = 80;
  std::string path = "/";   // path and query, for HTTP
  std::string host_header;  // what the Host header says ("host:port")
  std::string text;         // as given
};

// Parses "http://host[:port][/path]" (port 80 by default) or
// "tcp://host:port". IPv6 hosts go in brackets ("http://[::1]:8080/").
// https:// is refused with a message saying TLS is not supported.
Target parse_target(std::string_view url);

// Microseconds in the unit that fits: "850us", "1.23ms", "2.50s", "3.1m".
std::string format_micros(double micros);
// Bytes: "512B", "1.50KiB", "12.34MiB", "1.02GiB".
std::string format_bytes(double bytes);
// Counts: "950", "56.20k", "1.23M".
std::string format_count(double count);
// Seconds: "5.00s", "2m03s".
std::string format_seconds(double seconds);

}  // namespace aio::loadgen

#endif  // AIO_TOOLS_LOADGEN_UNITS_H_
