// The load generator's outputs: the human report (modelled on wrk's and
// oha's), the live line, the versioned JSON document (schema documented in
// docs/loadgen.md), the per-second CSV, and the HdrHistogram interval log.
//
// Pure functions of a Result; thread-safe. The JSON is built with
// nlohmann::json, never by hand.
#ifndef AIO_TOOLS_LOADGEN_REPORT_H_
#define AIO_TOOLS_LOADGEN_REPORT_H_

#include <string>

#include "tools/loadgen/loadgen.h"

namespace aio::loadgen {

// The JSON document's schema name and version; bumped on any change that is
// not a pure addition.
inline constexpr const char* kJsonSchema = "aio-loadgen/1";

struct ReportOptions {
  ReportOptions() {}
  bool full_spectrum = false;  // --latency: the whole percentile spectrum
};

// The run's header ("Running 5s test @ http://...").
std::string format_header(const Config& config);
std::string format_report(const Result& result, const ReportOptions& options = {});
// One line without a line end ("[ 3s] 120,345 requests  40.1k req/s  p99 1.23ms  0 errors").
std::string format_progress(const Progress& progress);
std::string format_json(const Result& result);
std::string format_csv(const Result& result);
std::string format_hdr_log(const Result& result);
// Whether the client was the bottleneck, and why (empty when it was not).
std::string bottleneck_reason(const Result& result);

}  // namespace aio::loadgen

#endif  // AIO_TOOLS_LOADGEN_REPORT_H_
