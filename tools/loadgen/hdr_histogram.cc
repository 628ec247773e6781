// HdrHistogram, after HdrHistogram_c (src/hdr_histogram.c) and the Java
// encoder (AbstractHistogram.encodeIntoByteBuffer, HistogramLogWriter).
//
// Layout: bucket 0 holds values 0 .. sub_bucket_count - 1 at full resolution;
// each later bucket covers the next power of two with half as many new
// sub-buckets (the lower half overlaps the previous bucket), so counts_ has
// (bucket_count + 1) * sub_bucket_count / 2 slots.
//
// Encoding (V2): a 40-byte big-endian header (cookie, payload length,
// normalizing offset, significant figures, lowest, highest, conversion ratio)
// then the counts as ZigZag LEB128 varints, a run of zeros written as one
// negative number. The "compressed" form is a cookie, a length, and the zlib
// deflate of that.
#include "tools/loadgen/hdr_histogram.h"

#include <zlib.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <algorithm>
#include <stdexcept>

namespace aio::loadgen {
namespace {

constexpr std::uint32_t kV2EncodingCookie = 0x1c849303 | 0x10;
constexpr std::uint32_t kV2CompressedEncodingCookie = 0x1c849304 | 0x10;

void put_u32(std::string& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}
void put_u64(std::string& out, std::uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}
std::uint32_t get_u32(std::string_view in, std::size_t at) {
  if (at + 4 > in.size()) throw std::invalid_argument("HDR histogram encoding: truncated header");
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(in[at + i]);
  return v;
}
std::uint64_t get_u64(std::string_view in, std::size_t at) {
  if (at + 8 > in.size()) throw std::invalid_argument("HDR histogram encoding: truncated header");
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(in[at + i]);
  return v;
}

void put_zigzag(std::string& out, std::int64_t value) {
  std::uint64_t v = (static_cast<std::uint64_t>(value) << 1) ^ static_cast<std::uint64_t>(value >> 63);
  // HdrHistogram's LEB128 variant: at most 9 bytes, the 9th carries 8 bits.
  for (int i = 0; i < 8; ++i) {
    if (v < 0x80) {
      out.push_back(static_cast<char>(v));
      return;
    }
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

std::int64_t get_zigzag(std::string_view in, std::size_t& at) {
  std::uint64_t v = 0;
  for (int i = 0; i < 9; ++i) {
    if (at >= in.size()) throw std::invalid_argument("HDR histogram encoding: truncated counts");
    std::uint64_t byte = static_cast<unsigned char>(in[at++]);
    if (i == 8) {
      v |= byte << 56;
      break;
    }
    v |= (byte & 0x7f) << (7 * i);
    if ((byte & 0x80) == 0) break;
  }
  return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
}

constexpr char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string base64_encode(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    std::uint32_t n = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) |
                      static_cast<unsigned char>(in[i + 2]);
    out.push_back(kBase64[(n >> 18) & 63]);
    out.push_back(kBase64[(n >> 12) & 63]);
    out.push_back(kBase64[(n >> 6) & 63]);
    out.push_back(kBase64[n & 63]);
  }
  if (i + 1 == in.size()) {
    std::uint32_t n = static_cast<unsigned char>(in[i]) << 16;
    out.push_back(kBase64[(n >> 18) & 63]);
    out.push_back(kBase64[(n >> 12) & 63]);
    out.append("==");
  } else if (i + 2 == in.size()) {
    std::uint32_t n = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8);
    out.push_back(kBase64[(n >> 18) & 63]);
    out.push_back(kBase64[(n >> 12) & 63]);
    out.push_back(kBase64[(n >> 6) & 63]);
    out.push_back('=');
  }
  return out;
}

std::string base64_decode(std::string_view in) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  while (!in.empty() && in.back() == '=') in.remove_suffix(1);
  std::string out;
  std::uint32_t bits = 0;
  int count = 0;
  for (char c : in) {
    int v = value(c);
    if (v < 0) throw std::invalid_argument("HDR histogram encoding: not base64");
    bits = (bits << 6) | static_cast<std::uint32_t>(v);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out.push_back(static_cast<char>((bits >> count) & 0xff));
    }
  }
  return out;
}

}  // namespace

HdrHistogram::HdrHistogram(std::int64_t lowest, std::int64_t highest, int significant_figures)
    : lowest_(lowest), highest_(highest), significant_figures_(significant_figures) {
  if (lowest < 1) throw std::invalid_argument("HdrHistogram: the lowest trackable value must be >= 1");
  if (significant_figures < 1 || significant_figures > 5) {
    throw std::invalid_argument("HdrHistogram: significant figures must be 1..5");
  }
  if (highest < 2 * lowest) throw std::invalid_argument("HdrHistogram: highest must be >= 2 * lowest");
  std::int64_t largest_single_unit = 2 * static_cast<std::int64_t>(std::pow(10, significant_figures));
  int sub_bucket_count_magnitude = static_cast<int>(std::ceil(std::log2(static_cast<double>(largest_single_unit))));
  sub_bucket_half_count_magnitude_ = (sub_bucket_count_magnitude > 1 ? sub_bucket_count_magnitude : 1) - 1;
  unit_magnitude_ = static_cast<int>(std::floor(std::log2(static_cast<double>(lowest))));
  sub_bucket_count_ = std::int64_t{1} << (sub_bucket_half_count_magnitude_ + 1);
  sub_bucket_half_count_ = sub_bucket_count_ / 2;
  sub_bucket_mask_ = (sub_bucket_count_ - 1) << unit_magnitude_;
  if (unit_magnitude_ + sub_bucket_half_count_magnitude_ > 61) {
    throw std::invalid_argument("HdrHistogram: lowest value and precision too large together");
  }
  std::int64_t smallest_untrackable = sub_bucket_count_ << unit_magnitude_;
  int buckets = 1;
  while (smallest_untrackable <= highest) {
    if (smallest_untrackable > INT64_MAX / 2) {
      ++buckets;
      break;
    }
    smallest_untrackable <<= 1;
    ++buckets;
  }
  bucket_count_ = buckets;
  counts_.assign(static_cast<std::size_t>((bucket_count_ + 1) * sub_bucket_half_count_), 0);
}

void HdrHistogram::add(const HdrHistogram& other) {
  if (other.lowest_ != lowest_ || other.highest_ != highest_ || other.significant_figures_ != significant_figures_) {
    throw std::invalid_argument("HdrHistogram::add: the histograms differ in range or precision");
  }
  for (std::size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  total_ += other.total_;
  saturated_ += other.saturated_;
  if (other.total_ > 0) {
    if (other.min_ < min_) min_ = other.min_;
    if (other.max_ > max_) max_ = other.max_;
  }
}

void HdrHistogram::reset() {
  std::fill(counts_.begin(), counts_.end(), 0);
  total_ = 0;
  min_ = INT64_MAX;
  max_ = 0;
  saturated_ = 0;
}

std::int64_t HdrHistogram::value_at_index(std::size_t index) const {
  int bucket = static_cast<int>(index >> sub_bucket_half_count_magnitude_) - 1;
  std::int64_t sub_bucket = static_cast<std::int64_t>(index & static_cast<std::size_t>(sub_bucket_half_count_ - 1)) +
                            sub_bucket_half_count_;
  if (bucket < 0) {
    sub_bucket -= sub_bucket_half_count_;
    bucket = 0;
  }
  return sub_bucket << (bucket + unit_magnitude_);
}

std::int64_t HdrHistogram::equivalent_range(std::int64_t value) const {
  int pow2ceiling = 64 - std::countl_zero(static_cast<std::uint64_t>(value | sub_bucket_mask_));
  int bucket = pow2ceiling - unit_magnitude_ - (sub_bucket_half_count_magnitude_ + 1);
  std::int64_t sub_bucket = value >> (bucket + unit_magnitude_);
  int adjusted = sub_bucket >= sub_bucket_count_ ? bucket + 1 : bucket;
  return std::int64_t{1} << (unit_magnitude_ + adjusted);
}

std::int64_t HdrHistogram::lowest_equivalent(std::int64_t value) const { return value_at_index(index_of(value)); }

std::int64_t HdrHistogram::highest_equivalent(std::int64_t value) const {
  return lowest_equivalent(value) + equivalent_range(value) - 1;
}

double HdrHistogram::mean() const {
  if (total_ == 0) return 0;
  double sum = 0;
  for (std::size_t i = 0; i < counts_.size(); ++i) {
    if (counts_[i] == 0) continue;
    std::int64_t v = value_at_index(i);
    sum += static_cast<double>(v + (equivalent_range(v) >> 1)) * static_cast<double>(counts_[i]);
  }
  return sum / static_cast<double>(total_);
}

double HdrHistogram::stddev() const {
  if (total_ == 0) return 0;
  double m = mean();
  double sum = 0;
  for (std::size_t i = 0; i < counts_.size(); ++i) {
    if (counts_[i] == 0) continue;
    std::int64_t v = value_at_index(i);
    double d = static_cast<double>(v + (equivalent_range(v) >> 1)) - m;
    sum += d * d * static_cast<double>(counts_[i]);
  }
  return std::sqrt(sum / static_cast<double>(total_));
}

std::int64_t HdrHistogram::value_at_percentile(double percentile) const {
  if (total_ == 0) return 0;
  if (percentile >= 100) return max();
  if (percentile < 0) percentile = 0;
  std::int64_t rank = static_cast<std::int64_t>(percentile / 100.0 * static_cast<double>(total_) + 0.5);
  if (rank < 1) rank = 1;
  std::int64_t seen = 0;
  for (std::size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      std::int64_t v = highest_equivalent(value_at_index(i));
      return v < max_ ? v : max_;
    }
  }
  return max();
}

std::vector<std::pair<std::int64_t, std::int64_t>> HdrHistogram::sparse() const {
  std::vector<std::pair<std::int64_t, std::int64_t>> out;
  for (std::size_t i = 0; i < counts_.size(); ++i) {
    if (counts_[i] != 0) out.emplace_back(value_at_index(i), counts_[i]);
  }
  return out;
}

void HdrHistogram::add_sparse(const std::vector<std::pair<std::int64_t, std::int64_t>>& counts) {
  for (const auto& [value, count] : counts) record(value, count);
}

std::string HdrHistogram::encode_compressed() const {
  std::string payload;
  std::size_t last = 0;
  for (std::size_t i = 0; i < counts_.size(); ++i) {
    if (counts_[i] != 0) last = i + 1;
  }
  for (std::size_t i = 0; i < last;) {
    if (counts_[i] == 0) {
      std::size_t zeros = 0;
      while (i < last && counts_[i] == 0) {
        ++zeros;
        ++i;
      }
      if (zeros > 1) {
        put_zigzag(payload, -static_cast<std::int64_t>(zeros));
      } else {
        put_zigzag(payload, 0);
      }
    } else {
      put_zigzag(payload, counts_[i]);
      ++i;
    }
  }
  std::string raw;
  put_u32(raw, kV2EncodingCookie);
  put_u32(raw, static_cast<std::uint32_t>(payload.size()));
  put_u32(raw, 0);  // normalizing index offset
  put_u32(raw, static_cast<std::uint32_t>(significant_figures_));
  put_u64(raw, static_cast<std::uint64_t>(lowest_));
  put_u64(raw, static_cast<std::uint64_t>(highest_));
  double ratio = 1.0;
  std::uint64_t ratio_bits;
  std::memcpy(&ratio_bits, &ratio, sizeof ratio);
  put_u64(raw, ratio_bits);
  raw.append(payload);

  uLongf compressed_size = compressBound(static_cast<uLong>(raw.size()));
  std::string compressed(compressed_size, '\0');
  if (compress(reinterpret_cast<Bytef*>(compressed.data()), &compressed_size,
               reinterpret_cast<const Bytef*>(raw.data()), static_cast<uLong>(raw.size())) != Z_OK) {
    throw std::runtime_error("HdrHistogram: zlib compress failed");
  }
  compressed.resize(compressed_size);
  std::string out;
  put_u32(out, kV2CompressedEncodingCookie);
  put_u32(out, static_cast<std::uint32_t>(compressed.size()));
  out.append(compressed);
  return base64_encode(out);
}

HdrHistogram HdrHistogram::decode_compressed(std::string_view base64) {
  std::string bytes = base64_decode(base64);
  if (get_u32(bytes, 0) != kV2CompressedEncodingCookie) {
    throw std::invalid_argument("HDR histogram encoding: not a V2 compressed histogram");
  }
  std::uint32_t length = get_u32(bytes, 4);
  if (8 + static_cast<std::size_t>(length) > bytes.size()) {
    throw std::invalid_argument("HDR histogram encoding: truncated compressed data");
  }
  std::string raw;
  z_stream stream{};
  if (inflateInit(&stream) != Z_OK) throw std::runtime_error("HdrHistogram: zlib inflateInit failed");
  stream.next_in = reinterpret_cast<Bytef*>(bytes.data() + 8);
  stream.avail_in = length;
  char chunk[16384];
  int status = Z_OK;
  while (status == Z_OK) {
    stream.next_out = reinterpret_cast<Bytef*>(chunk);
    stream.avail_out = sizeof chunk;
    status = inflate(&stream, Z_NO_FLUSH);
    if (status != Z_OK && status != Z_STREAM_END) {
      inflateEnd(&stream);
      throw std::invalid_argument("HDR histogram encoding: bad zlib data");
    }
    raw.append(chunk, sizeof chunk - stream.avail_out);
    if (raw.size() > (64u << 20)) {
      inflateEnd(&stream);
      throw std::invalid_argument("HDR histogram encoding: too large");
    }
    if (status == Z_OK && stream.avail_in == 0 && stream.avail_out != 0) break;
  }
  inflateEnd(&stream);
  if (get_u32(raw, 0) != kV2EncodingCookie) throw std::invalid_argument("HDR histogram encoding: bad inner cookie");
  std::uint32_t payload_length = get_u32(raw, 4);
  int figures = static_cast<int>(get_u32(raw, 12));
  auto lowest = static_cast<std::int64_t>(get_u64(raw, 16));
  auto highest = static_cast<std::int64_t>(get_u64(raw, 24));
  if (40 + static_cast<std::size_t>(payload_length) > raw.size()) {
    throw std::invalid_argument("HDR histogram encoding: truncated payload");
  }
  HdrHistogram h(lowest, highest, figures);
  std::string_view payload(raw.data() + 40, payload_length);
  std::size_t at = 0;
  std::size_t index = 0;
  while (at < payload.size()) {
    std::int64_t v = get_zigzag(payload, at);
    if (v < 0) {
      index += static_cast<std::size_t>(-v);
      continue;
    }
    if (index >= h.counts_.size()) throw std::invalid_argument("HDR histogram encoding: counts past the range");
    if (v > 0) {
      std::int64_t value = h.value_at_index(index);
      h.counts_[index] += v;
      h.total_ += v;
      // Extremes as HdrHistogram reconstructs them: the bucket's bounds.
      if (value < h.min_) h.min_ = value < 1 ? 1 : value;
      std::int64_t top = h.highest_equivalent(value);
      if (top > h.max_) h.max_ = top;
    }
    ++index;
  }
  return h;
}

HdrLogWriter::HdrLogWriter(double start_unix_seconds) {
  char line[256];
  std::time_t whole = static_cast<std::time_t>(start_unix_seconds);
  std::tm parts;
  ::gmtime_r(&whole, &parts);
  char date[64];
  std::strftime(date, sizeof date, "%a %b %d %H:%M:%S UTC %Y", &parts);
  text_ = "#[Histogram log format version 1.3]\n";
  std::snprintf(line, sizeof line, "#[StartTime: %.3f (seconds since epoch), %s]\n", start_unix_seconds, date);
  text_ += line;
  text_ += "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\"\n";
}

void HdrLogWriter::add_interval(double start_seconds, double length_seconds, const HdrHistogram& interval) {
  char prefix[128];
  std::snprintf(prefix, sizeof prefix, "%.3f,%.3f,%.6f,", start_seconds, length_seconds,
                static_cast<double>(interval.max()) / 1e6);
  text_ += prefix;
  text_ += interval.encode_compressed();
  text_ += '\n';
}

std::vector<HdrLogInterval> read_hdr_log(std::string_view text) {
  std::vector<HdrLogInterval> out;
  while (!text.empty()) {
    std::size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    if (line.empty() || line[0] == '#' || line[0] == '"') continue;
    std::string fields[4];
    int field = 0;
    for (char c : line) {
      if (c == ',' && field < 3) {
        ++field;
      } else {
        fields[field].push_back(c);
      }
    }
    // Lines may start with a "Tag=..." field (format 1.3).
    if (fields[0].rfind("Tag=", 0) == 0) {
      throw std::invalid_argument("HDR log: tagged lines are not supported");
    }
    if (field != 3) throw std::invalid_argument("HDR log: malformed line: " + std::string(line));
    HdrLogInterval interval;
    char* end = nullptr;
    interval.start_seconds = std::strtod(fields[0].c_str(), &end);
    interval.length_seconds = std::strtod(fields[1].c_str(), &end);
    interval.max_seconds = std::strtod(fields[2].c_str(), &end);
    interval.histogram = HdrHistogram::decode_compressed(fields[3]);
    out.push_back(std::move(interval));
  }
  return out;
}

}  // namespace aio::loadgen
