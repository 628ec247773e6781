#include "tools/loadgen/units.h"

#include <stdexcept>

#include "gtest/gtest.h"

namespace aio::loadgen {
namespace {

using namespace std::chrono_literals;

TEST(ParseDuration, UnitsAndErrors) {
  EXPECT_EQ(parse_duration("10s", "-d"), 10s);
  EXPECT_EQ(parse_duration("500ms", "-d"), 500ms);
  EXPECT_EQ(parse_duration("2m", "-d"), 120s);
  EXPECT_EQ(parse_duration("1h", "-d"), 3600s);
  EXPECT_EQ(parse_duration("250us", "-d"), 250us);
  EXPECT_EQ(parse_duration("1.5s", "-d"), 1500ms);
  EXPECT_EQ(parse_duration("3", "-d"), 3s);
  EXPECT_EQ(parse_duration("0s", "-d"), 0s);
  for (const char* bad : {"", "s", "10x", "-1s", "1.2.3s", "ten", "10 s"}) {
    EXPECT_THROW(parse_duration(bad, "-d"), std::invalid_argument) << bad;
  }
  try {
    parse_duration("10x", "--timeout");
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "--timeout: '10x' is not a duration (use e.g. 10s, 500ms, 2m, 250us)");
  }
}

TEST(ParseTarget, HttpAndTcp) {
  Target t = parse_target("http://127.0.0.1:8080/a/b?x=1");
  EXPECT_EQ(t.scheme, Target::Scheme::kHttp);
  EXPECT_EQ(t.host, "127.0.0.1");
  EXPECT_EQ(t.port, 8080);
  EXPECT_EQ(t.path, "/a/b?x=1");
  EXPECT_EQ(t.host_header, "127.0.0.1:8080");
  t = parse_target("http://example.com");
  EXPECT_EQ(t.port, 80);
  EXPECT_EQ(t.path, "/");
  EXPECT_EQ(t.host_header, "example.com");
  t = parse_target("http://[::1]:9000?q");
  EXPECT_EQ(t.host, "::1");
  EXPECT_EQ(t.path, "/?q");
  EXPECT_EQ(t.host_header, "[::1]:9000");
  t = parse_target("tcp://localhost:7000");
  EXPECT_EQ(t.scheme, Target::Scheme::kTcp);
  EXPECT_EQ(t.port, 7000);
}

TEST(ParseTarget, ClearErrors) {
  auto message = [](const char* url) {
    try {
      parse_target(url);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message("ftp://x/"), "target: 'ftp://x/' has an unknown scheme 'ftp' (use http:// or tcp://)");
  EXPECT_NE(message("https://x/").find("TLS"), std::string::npos);
  EXPECT_NE(message("localhost:8080").find("is not a URL"), std::string::npos);
  EXPECT_NE(message("http://").find("no host"), std::string::npos);
  EXPECT_NE(message("http://h:0/").find("1..65535"), std::string::npos);
  EXPECT_NE(message("http://h:99999/").find("1..65535"), std::string::npos);
  EXPECT_NE(message("http://h:8x/").find("1..65535"), std::string::npos);
  EXPECT_NE(message("http://h:/").find("empty port"), std::string::npos);
  EXPECT_NE(message("tcp://h").find("needs a port"), std::string::npos);
  EXPECT_NE(message("tcp://h:1/path").find("path"), std::string::npos);
  EXPECT_NE(message("http://[::1/").find("unclosed"), std::string::npos);
}

TEST(Format, UnitsPerValue) {
  EXPECT_EQ(format_micros(850), "850us");
  EXPECT_EQ(format_micros(1234), "1.23ms");
  EXPECT_EQ(format_micros(2'500'000), "2.50s");
  EXPECT_EQ(format_bytes(512), "512B");
  EXPECT_EQ(format_bytes(1536), "1.50KiB");
  EXPECT_EQ(format_bytes(13.06 * 1024 * 1024), "13.06MiB");
  EXPECT_EQ(format_count(950), "950");
  EXPECT_EQ(format_count(56200), "56.20k");
  EXPECT_EQ(format_count(1230000), "1.23M");
  EXPECT_EQ(format_seconds(5), "5.00s");
  EXPECT_EQ(format_seconds(123), "2m03s");
}

}  // namespace
}  // namespace aio::loadgen
