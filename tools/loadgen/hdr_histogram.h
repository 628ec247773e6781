// HdrHistogram for the load generator: latencies from 1 µs to 1 hour (any
// range, in fact) at a fixed number of significant figures, recorded in O(1)
// with no allocation, mergeable, and written to HdrHistogram's interval log
// format (the ".hlog" files HdrHistogram's own tools read).
//
// The layout is HdrHistogram_c's: 2^k sub-buckets per power-of-two bucket,
// where 2^k >= 2 * 10^significant_figures, so every recorded value is
// resolved to within 1 part in 10^significant_figures (for 3 figures: 0.1%).
// Percentiles are reported as the highest value equivalent to the bucket the
// rank falls in, as HdrHistogram does. Values above the highest trackable one
// are clamped to it (and counted in saturated()); values below 1 count as 1.
//
// A histogram is a plain value (copyable, movable); not thread-safe: one per
// thread, merged with add(). Constructors throw std::invalid_argument for a
// range or precision HdrHistogram cannot represent.
#ifndef AIO_TOOLS_LOADGEN_HDR_HISTOGRAM_H_
#define AIO_TOOLS_LOADGEN_HDR_HISTOGRAM_H_

#include <bit>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace aio::loadgen {

class HdrHistogram {
 public:
  // 1 µs .. 1 h in microseconds, 3 significant figures: the load generator's.
  HdrHistogram() : HdrHistogram(1, 3'600'000'000, 3) {}
  // `lowest` >= 1, `highest` >= 2 * lowest, `significant_figures` in 1..5.
  HdrHistogram(std::int64_t lowest, std::int64_t highest, int significant_figures);

  // O(1), no allocation.
  void record(std::int64_t value) { record(value, 1); }
  void record(std::int64_t value, std::int64_t count) {
    if (value < 1) value = 1;
    if (value > highest_) {
      value = highest_;
      saturated_ += count;
    }
    counts_[index_of(value)] += count;
    total_ += count;
    if (value < min_) min_ = value;
    if (value > max_) max_ = value;
  }
  // Adds every count of `other`. Throws std::invalid_argument if the two
  // differ in range or precision.
  void add(const HdrHistogram& other);
  void reset();

  std::int64_t total_count() const { return total_; }
  // Exact extremes of the recorded values (0 when empty).
  std::int64_t min() const { return total_ ? min_ : 0; }
  std::int64_t max() const { return total_ ? max_ : 0; }
  double mean() const;
  double stddev() const;
  std::int64_t saturated() const { return saturated_; }
  // The value at `percentile` (0..100]: the highest value equivalent to the
  // bucket holding the sample of that rank; 0 when empty. 100 gives max().
  std::int64_t value_at_percentile(double percentile) const;

  // Equivalence ranges: every value in [lowest_equivalent(v),
  // highest_equivalent(v)] lands in the same count.
  std::int64_t lowest_equivalent(std::int64_t value) const;
  std::int64_t highest_equivalent(std::int64_t value) const;

  // The non-zero counts as (value, count) pairs, ascending (value = the
  // bucket's lowest equivalent value): a compact snapshot for per-interval
  // series. add_sparse() adds such a snapshot back.
  std::vector<std::pair<std::int64_t, std::int64_t>> sparse() const;
  void add_sparse(const std::vector<std::pair<std::int64_t, std::int64_t>>& counts);

  // HdrHistogram's V2 compressed encoding (zlib), base64, as one line of an
  // interval log holds it; decode_compressed() reads it back (and logs
  // written by HdrHistogram's Java and C tools). decode throws
  // std::invalid_argument for malformed input.
  std::string encode_compressed() const;
  static HdrHistogram decode_compressed(std::string_view base64);

  std::int64_t lowest_trackable() const { return lowest_; }
  std::int64_t highest_trackable() const { return highest_; }
  int significant_figures() const { return significant_figures_; }
  std::size_t counts_length() const { return counts_.size(); }

 private:
  std::size_t index_of(std::int64_t value) const {
    // The bucket is the power of two above the value's top bits; the
    // sub-bucket is the value shifted down to the bucket's resolution.
    int pow2ceiling = 64 - std::countl_zero(static_cast<std::uint64_t>(value | sub_bucket_mask_));
    int bucket = pow2ceiling - unit_magnitude_ - (sub_bucket_half_count_magnitude_ + 1);
    std::int64_t sub_bucket = value >> (bucket + unit_magnitude_);
    return (static_cast<std::size_t>(bucket + 1) << sub_bucket_half_count_magnitude_) +
           static_cast<std::size_t>(sub_bucket - sub_bucket_half_count_);
  }
  std::int64_t value_at_index(std::size_t index) const;
  std::int64_t equivalent_range(std::int64_t value) const;

  std::int64_t lowest_;
  std::int64_t highest_;
  int significant_figures_;
  int unit_magnitude_;
  int sub_bucket_half_count_magnitude_;
  std::int64_t sub_bucket_count_;
  std::int64_t sub_bucket_half_count_;
  std::int64_t sub_bucket_mask_;
  int bucket_count_;
  std::vector<std::int64_t> counts_;
  std::int64_t total_ = 0;
  std::int64_t min_ = INT64_MAX;
  std::int64_t max_ = 0;
  std::int64_t saturated_ = 0;
};

// Writes HdrHistogram's interval log (format version 1.3): a header, then
// one line per interval: start (s, relative to the start time), length (s),
// the interval's max (in seconds, for microsecond values) and the encoded
// histogram. Not thread-safe.
class HdrLogWriter {
 public:
  // `start_unix_seconds`: the wall-clock time the log's intervals count from.
  explicit HdrLogWriter(double start_unix_seconds);
  const std::string& text() const { return text_; }
  void add_interval(double start_seconds, double length_seconds, const HdrHistogram& interval);

 private:
  std::string text_;
};

// One interval read back from a log.
struct HdrLogInterval {
  double start_seconds = 0;
  double length_seconds = 0;
  double max_seconds = 0;
  HdrHistogram histogram;
};
// Parses an interval log's text (comment and header lines skipped). Throws
// std::invalid_argument for a malformed line.
std::vector<HdrLogInterval> read_hdr_log(std::string_view text);

}  // namespace aio::loadgen

#endif  // AIO_TOOLS_LOADGEN_HDR_HISTOGRAM_H_
