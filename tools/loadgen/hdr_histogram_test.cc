#include "tools/loadgen/hdr_histogram.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace aio::loadgen {
namespace {

// The exact percentile of sorted samples, by HdrHistogram's rank rule.
std::int64_t exact_percentile(const std::vector<std::int64_t>& sorted, double percentile) {
  auto rank = static_cast<std::int64_t>(percentile / 100.0 * static_cast<double>(sorted.size()) + 0.5);
  if (rank < 1) rank = 1;
  return sorted[static_cast<std::size_t>(rank - 1)];
}

TEST(HdrHistogram, LayoutMatchesHdrHistogramC) {
  HdrHistogram h;  // 1 .. 3.6e9, 3 figures
  // HdrHistogram_c: sub_bucket_count 2048; 3.6e9 needs 22 buckets; (22 + 1) * 1024 counts.
  EXPECT_EQ(h.counts_length(), 23u * 1024u);
  EXPECT_EQ(h.lowest_equivalent(2047), 2047);
  EXPECT_EQ(h.lowest_equivalent(2049), 2048);  // resolution 2 from 2048
  EXPECT_EQ(h.highest_equivalent(2048), 2049);
  EXPECT_EQ(h.lowest_equivalent(10007), 10000);  // resolution 8 from 8192
  EXPECT_EQ(h.highest_equivalent(10000), 10007);
  EXPECT_THROW(HdrHistogram(0, 100, 3), std::invalid_argument);
  EXPECT_THROW(HdrHistogram(1, 100, 6), std::invalid_argument);
  EXPECT_THROW(HdrHistogram(10, 15, 3), std::invalid_argument);
}

TEST(HdrHistogram, PercentilesWithinThreeSignificantFigures) {
  std::mt19937_64 random(42);
  std::lognormal_distribution<double> latency(std::log(200.0), 1.5);  // µs, with a long tail
  std::vector<std::int64_t> samples;
  HdrHistogram h;
  for (int i = 0; i < 200000; ++i) {
    auto v = static_cast<std::int64_t>(latency(random)) + 1;
    samples.push_back(v);
    h.record(v);
  }
  std::sort(samples.begin(), samples.end());
  EXPECT_EQ(h.total_count(), 200000);
  EXPECT_EQ(h.min(), samples.front());
  EXPECT_EQ(h.max(), samples.back());
  for (double p : {1.0, 10.0, 50.0, 75.0, 90.0, 99.0, 99.9, 99.99, 99.999}) {
    std::int64_t exact = exact_percentile(samples, p);
    std::int64_t reported = h.value_at_percentile(p);
    // The reported value is the top of the exact value's bucket: never below
    // it, and above it by less than 1 part in 1000.
    EXPECT_GE(reported, exact) << "p" << p;
    EXPECT_LE(static_cast<double>(reported - exact), static_cast<double>(exact) / 1000.0 + 1) << "p" << p;
    EXPECT_EQ(reported, std::min(h.highest_equivalent(exact), h.max())) << "p" << p;
  }
  EXPECT_EQ(h.value_at_percentile(100), samples.back());
  double exact_mean = 0;
  for (auto v : samples) exact_mean += static_cast<double>(v);
  exact_mean /= static_cast<double>(samples.size());
  EXPECT_NEAR(h.mean(), exact_mean, exact_mean * 0.001);
}

TEST(HdrHistogram, SmallExactCases) {
  HdrHistogram h;
  EXPECT_EQ(h.value_at_percentile(50), 0);
  EXPECT_EQ(h.min(), 0);
  for (int v = 1; v <= 100; ++v) h.record(v);
  EXPECT_EQ(h.value_at_percentile(50), 50);
  EXPECT_EQ(h.value_at_percentile(99), 99);
  EXPECT_EQ(h.value_at_percentile(100), 100);
  EXPECT_DOUBLE_EQ(h.mean(), 50.5);
  h.record(0);               // below the range: counts as 1
  h.record(10'000'000'000);  // above: clamped and counted
  EXPECT_EQ(h.min(), 1);
  EXPECT_EQ(h.max(), 3'600'000'000);
  EXPECT_EQ(h.saturated(), 1);
  h.reset();
  EXPECT_EQ(h.total_count(), 0);
  EXPECT_EQ(h.max(), 0);
}

TEST(HdrHistogram, MergeEqualsOneHistogramOfBoth) {
  std::mt19937_64 random(7);
  std::uniform_int_distribution<std::int64_t> small(1, 5000), large(1000, 50'000'000);
  HdrHistogram a, b, both;
  for (int i = 0; i < 50000; ++i) {
    std::int64_t x = small(random), y = large(random);
    a.record(x);
    b.record(y);
    both.record(x);
    both.record(y);
  }
  a.add(b);
  EXPECT_EQ(a.total_count(), both.total_count());
  EXPECT_EQ(a.min(), both.min());
  EXPECT_EQ(a.max(), both.max());
  EXPECT_EQ(a.sparse(), both.sparse());
  for (double p : {50.0, 90.0, 99.0, 99.99}) EXPECT_EQ(a.value_at_percentile(p), both.value_at_percentile(p));
  HdrHistogram other(1, 1000, 2);
  EXPECT_THROW(a.add(other), std::invalid_argument);
  // A sparse snapshot adds back to the same counts.
  HdrHistogram c;
  c.add_sparse(both.sparse());
  EXPECT_EQ(c.sparse(), both.sparse());
}

TEST(HdrHistogram, EncodingRoundTripsAndIntervalLog) {
  HdrHistogram first, second;
  for (int i = 1; i <= 10000; ++i) first.record(i * 13);
  second.record(5, 1000);
  second.record(3'000'000'000);
  // Decoding gives the same counts.
  HdrHistogram decoded = HdrHistogram::decode_compressed(first.encode_compressed());
  EXPECT_EQ(decoded.sparse(), first.sparse());
  EXPECT_EQ(decoded.total_count(), first.total_count());
  // The encoding starts with the V2 compressed cookie 0x1c849314, "HISTF" in base64.
  EXPECT_EQ(first.encode_compressed().substr(0, 5), "HISTF");

  HdrLogWriter log(1700000000.25);
  log.add_interval(0.0, 1.0, first);
  log.add_interval(1.0, 1.0, second);
  const std::string& text = log.text();
  EXPECT_EQ(text.rfind("#[Histogram log format version 1.3]\n", 0), 0u);
  EXPECT_NE(text.find("#[StartTime: 1700000000.250 (seconds since epoch)"), std::string::npos);
  std::vector<HdrLogInterval> intervals = read_hdr_log(text);
  ASSERT_EQ(intervals.size(), 2u);
  EXPECT_EQ(intervals[0].histogram.sparse(), first.sparse());
  EXPECT_EQ(intervals[1].histogram.sparse(), second.sparse());
  EXPECT_DOUBLE_EQ(intervals[1].start_seconds, 1.0);
  EXPECT_NEAR(intervals[0].max_seconds, 0.130000, 1e-9);
  EXPECT_THROW(read_hdr_log("0.0,1.0,2.0,notbase64!\n"), std::invalid_argument);
  EXPECT_THROW(read_hdr_log("0.0,1.0\n"), std::invalid_argument);
  EXPECT_THROW(HdrHistogram::decode_compressed("AAAA"), std::invalid_argument);
}

}  // namespace
}  // namespace aio::loadgen
