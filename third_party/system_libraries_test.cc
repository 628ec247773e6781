// Checks that each system-library wrapper in //third_party compiles, links and
// does one real thing, so a missing or broken Debian package fails here with the
// library's name rather than deep inside an aio target.
#include <openssl/evp.h>
#include <openssl/opensslv.h>
#include <gflags/gflags.h>
#include <liburing.h>
#include <nlohmann/json.hpp>
#include <zlib.h>

#include <boost/asio.hpp>
#include <boost/beast/http.hpp>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/debugging/stacktrace.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "benchmark/benchmark.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

DEFINE_int32(system_libraries_test_flag, 7, "a gflags flag");

namespace {

TEST(SystemLibraries, Abseil) {
  absl::flat_hash_map<std::string, int> map;
  map[absl::StrCat("a", 1)] = 2;
  EXPECT_EQ(map.at("a1"), 2);
  EXPECT_EQ(absl::StrFormat("%05d", 42), "00042");
  absl::StatusOr<int> status = absl::InvalidArgumentError("bad");
  EXPECT_FALSE(status.ok());
  absl::Mutex mutex;
  absl::MutexLock lock(&mutex);
  EXPECT_GT(absl::ToUnixSeconds(absl::Now()), 0);
  void* frames[4];
  EXPECT_GT(absl::GetStackTrace(frames, 4, 0), 0);
}

TEST(SystemLibraries, BoostAsioRunsAHandler) {
  boost::asio::io_context context;
  int ran = 0;
  boost::asio::post(context, [&] { ++ran; });
  context.run();
  EXPECT_EQ(ran, 1);
#ifdef BOOST_ASIO_HAS_IO_URING
  RecordProperty("asio_backend", "io_uring");
#endif
}

TEST(SystemLibraries, BoostBeastBuildsARequest) {
  namespace http = boost::beast::http;
  http::request<http::string_body> request{http::verb::get, "/", 11};
  request.set(http::field::host, "localhost");
  EXPECT_EQ(request[http::field::host], "localhost");
}

TEST(SystemLibraries, Gflags) { EXPECT_EQ(FLAGS_system_libraries_test_flag, 7); }

TEST(SystemLibraries, LiburingSetsUpARing) {
  io_uring ring;
  int result = io_uring_queue_init(4, &ring, 0);
  if (result == -ENOSYS || result == -EPERM) {
    GTEST_SKIP() << "io_uring is not available on this kernel: " << result;
  }
  ASSERT_EQ(result, 0);
  io_uring_queue_exit(&ring);
}

// Benchmark 1.7.1's DoNotOptimize(T&) uses the asm constraint "+m,r", which GCC
// miscompiles (the value is clobbered under -O1, seen with --config=asan;
// google/benchmark#1340, fixed in 1.8). aio's benchmarks pass const values.
TEST(SystemLibraries, BenchmarkLinks) {
  const int value = 3;
  benchmark::DoNotOptimize(value);
  benchmark::ClobberMemory();
  EXPECT_EQ(value, 3);
  EXPECT_GT(benchmark::CPUInfo::Get().num_cpus, 0);
}

TEST(SystemLibraries, GoogleMock) { EXPECT_THAT(std::string("aio"), testing::HasSubstr("i")); }

TEST(SystemLibraries, OpenSslDigests) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  ASSERT_EQ(EVP_Digest("abc", 3, digest, &length, EVP_sha256(), nullptr), 1);
  EXPECT_EQ(length, 32u);
  EXPECT_EQ(digest[0], 0xba);  // SHA-256("abc") = ba7816bf...
}

TEST(SystemLibraries, NlohmannJsonRoundTrips) {
  nlohmann::json value = {{"schema", 1}, {"p99_us", 1234.5}};
  EXPECT_EQ(nlohmann::json::parse(value.dump())["schema"], 1);
}

TEST(SystemLibraries, ZlibCompresses) {
  const char text[] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
  unsigned char out[128];
  uLongf size = sizeof out;
  ASSERT_EQ(compress(out, &size, reinterpret_cast<const Bytef*>(text), sizeof text), Z_OK);
  EXPECT_LT(size, sizeof text);
}

}  // namespace
