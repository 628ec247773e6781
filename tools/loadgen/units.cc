// Value parsing and formatting for the load generator's flags and report.
// Everything here is strict on input (a clear error beats a guess) and
// chooses a unit per value on output, as oha and wrk do.
#include "tools/loadgen/units.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace aio::loadgen {
namespace {

[[noreturn]] void bad(std::string_view what, std::string_view text, std::string_view why) {
  throw std::invalid_argument(std::string(what) + ": '" + std::string(text) + "' " + std::string(why));
}

std::string printf_string(const char* format, double value, const char* unit) {
  char text[64];
  std::snprintf(text, sizeof text, format, value, unit);
  return text;
}

}  // namespace

std::chrono::nanoseconds parse_duration(std::string_view text, std::string_view what) {
  constexpr std::string_view kExpect = "is not a duration (use e.g. 10s, 500ms, 2m, 250us)";
  if (text.empty()) bad(what, text, kExpect);
  std::size_t unit_at = 0;
  while (unit_at < text.size() && ((text[unit_at] >= '0' && text[unit_at] <= '9') || text[unit_at] == '.')) {
    ++unit_at;
  }
  std::string_view number = text.substr(0, unit_at);
  std::string_view unit = text.substr(unit_at);
  if (number.empty()) bad(what, text, kExpect);
  double value = 0;
  auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
  if (ec != std::errc() || end != number.data() + number.size()) bad(what, text, kExpect);
  double nanos_per_unit;
  if (unit.empty() || unit == "s") nanos_per_unit = 1e9;
  else if (unit == "ms") nanos_per_unit = 1e6;
  else if (unit == "us" || unit == "µs") nanos_per_unit = 1e3;
  else if (unit == "ns") nanos_per_unit = 1;
  else if (unit == "m" || unit == "min") nanos_per_unit = 60e9;
  else if (unit == "h") nanos_per_unit = 3600e9;
  else bad(what, text, kExpect);
  double nanos = value * nanos_per_unit;
  if (nanos > 1e18) bad(what, text, "is too long");
  return std::chrono::nanoseconds(static_cast<std::int64_t>(std::llround(nanos)));
}

Target parse_target(std::string_view url) {
  Target target;
  target.text = std::string(url);
  std::size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) {
    bad("target", url, "is not a URL (expected http://host:port/path or tcp://host:port)");
  }
  std::string_view scheme = url.substr(0, scheme_end);
  std::string_view rest = url.substr(scheme_end + 3);
  if (scheme == "http") {
    target.scheme = Target::Scheme::kHttp;
  } else if (scheme == "tcp") {
    target.scheme = Target::Scheme::kTcp;
  } else if (scheme == "https") {
    bad("target", url, "uses https://, which loadgen does not support yet (TLS); use http:// or tcp://");
  } else {
    bad("target", url, "has an unknown scheme '" + std::string(scheme) + "' (use http:// or tcp://)");
  }
  std::size_t path_at = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, path_at);
  std::string_view path = path_at == std::string_view::npos ? std::string_view() : rest.substr(path_at);
  if (authority.find('@') != std::string_view::npos) bad("target", url, "has user info, which is not supported");
  std::string_view host;
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    std::size_t close = authority.find(']');
    if (close == std::string_view::npos) bad("target", url, "has an unclosed '[' in its host");
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') bad("target", url, "has junk after its IPv6 host");
      port = after.substr(1);
      if (port.empty()) bad("target", url, "has an empty port");
    }
  } else {
    std::size_t colon = authority.rfind(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
      if (port.empty()) bad("target", url, "has an empty port");
    }
  }
  if (host.empty()) bad("target", url, "has no host");
  for (char c : host) {
    if (c == ' ' || c == '/' || static_cast<unsigned char>(c) < 0x21) bad("target", url, "has an invalid host");
  }
  if (!port.empty()) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
      bad("target", url, "has port '" + std::string(port) + "', not a number in 1..65535");
    }
    target.port = static_cast<std::uint16_t>(value);
  } else if (target.scheme == Target::Scheme::kTcp) {
    bad("target", url, "needs a port (tcp://host:port)");
  }
  target.host = std::string(host);
  if (target.scheme == Target::Scheme::kHttp) {
    std::size_t fragment = path.find('#');
    if (fragment != std::string_view::npos) path = path.substr(0, fragment);
    if (path.empty()) target.path = "/";
    else if (path.front() == '?') target.path = "/" + std::string(path);
    else target.path = std::string(path);
    for (char c : target.path) {
      if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) bad("target", url, "has a space or control byte in its path");
    }
  } else if (!path.empty() && path != "/") {
    bad("target", url, "has a path, which tcp:// targets do not take");
  }
  bool bracket = target.host.find(':') != std::string::npos;
  target.host_header = (bracket ? "[" + target.host + "]" : target.host);
  if (!(target.scheme == Target::Scheme::kHttp && target.port == 80)) {
    target.host_header += ":" + std::to_string(target.port);
  }
  return target;
}

std::string format_micros(double micros) {
  if (micros < 1000) return printf_string("%.0f%s", micros, "us");
  if (micros < 1e6) return printf_string("%.2f%s", micros / 1e3, "ms");
  if (micros < 60e6) return printf_string("%.2f%s", micros / 1e6, "s");
  return printf_string("%.1f%s", micros / 60e6, "m");
}

std::string format_bytes(double bytes) {
  if (bytes < 1024) return printf_string("%.0f%s", bytes, "B");
  if (bytes < 1024.0 * 1024) return printf_string("%.2f%s", bytes / 1024, "KiB");
  if (bytes < 1024.0 * 1024 * 1024) return printf_string("%.2f%s", bytes / (1024.0 * 1024), "MiB");
  return printf_string("%.2f%s", bytes / (1024.0 * 1024 * 1024), "GiB");
}

std::string format_count(double count) {
  if (count < 1000) return printf_string("%.0f%s", count, "");
  if (count < 1e6) return printf_string("%.2f%s", count / 1e3, "k");
  return printf_string("%.2f%s", count / 1e6, "M");
}

std::string format_seconds(double seconds) {
  if (seconds < 120) return printf_string("%.2f%s", seconds, "s");
  char text[64];
  auto whole = static_cast<long long>(seconds);
  std::snprintf(text, sizeof text, "%lldm%02llds", whole / 60, whole % 60);
  return text;
}

}  // namespace aio::loadgen
