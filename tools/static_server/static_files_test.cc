// Tests of the file-serving rules (static_files.h) on a temporary tree,
// without HTTP: traversal attempts, symlinks out of the root, directories,
// conditional requests, types and dates. Each test checks that it leaves as
// many descriptors open as it found.
#include "tools/static_server/static_files.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "gtest/gtest.h"

namespace aio::static_files {
namespace {

int open_fds() {
  int count = 0;
  DIR* dir = ::opendir("/proc/self/fd");
  while (dirent* entry = ::readdir(dir)) count += entry->d_name[0] != '.';
  ::closedir(dir);
  return count - 1;  // the directory stream's own
}

void write_file(const std::string& path, const std::string& content) {
  std::ofstream(path, std::ios::binary) << content;
}

std::string header(const Answer& answer, const std::string& name) {
  for (const auto& [key, value] : answer.headers) {
    if (key == name) return value;
  }
  return "";
}

class StaticFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fds_before_ = open_fds();
    const char* tmp = std::getenv("TEST_TMPDIR");
    base_ = std::string(tmp ? tmp : "/tmp") + "/static_files_XXXXXX";
    ASSERT_NE(::mkdtemp(base_.data()), nullptr);
    root_ = base_ + "/site";
    ASSERT_EQ(::mkdir(root_.c_str(), 0755), 0);
    ASSERT_EQ(::mkdir((root_ + "/api").c_str(), 0755), 0);
    ASSERT_EQ(::mkdir((root_ + "/empty").c_str(), 0755), 0);
    write_file(root_ + "/index.html", "<h1>aio</h1>");
    write_file(root_ + "/api/index.html", "<h1>api</h1>");
    write_file(root_ + "/style.css", "body{}");
    write_file(root_ + "/searchindex.js", "Search.setIndex({})");
    write_file(root_ + "/.buildinfo", "secret");
    write_file(base_ + "/outside.txt", "outside the root");
    ASSERT_EQ(::mkdir((base_ + "/outside_dir").c_str(), 0755), 0);
    write_file(base_ + "/outside_dir/index.html", "outside the root");
  }
  void TearDown() override {
    std::string command = "rm -rf '" + base_ + "'";
    ASSERT_EQ(std::system(command.c_str()), 0);
    EXPECT_EQ(open_fds(), fds_before_) << "descriptors leaked";
  }

  std::string base_, root_;
  int fds_before_ = 0;
};

TEST_F(StaticFilesTest, ServesAFileWithItsTypeAndDate) {
  StaticFiles files(root_);
  Answer answer = files.answer("GET", "/style.css", "");
  EXPECT_EQ(answer.status, 200);
  EXPECT_EQ(answer.body, "body{}");
  EXPECT_EQ(answer.content_length, 6);
  EXPECT_EQ(answer.content_type, "text/css; charset=utf-8");
  struct stat status;
  ASSERT_EQ(::stat((root_ + "/style.css").c_str(), &status), 0);
  EXPECT_EQ(header(answer, "Last-Modified"), format_http_date(status.st_mtim.tv_sec));
  EXPECT_EQ(files.answer("GET", "/searchindex.js?x=1", "").content_type, "text/javascript; charset=utf-8");
}

TEST_F(StaticFilesTest, HeadHasTheLengthButReadsNothing) {
  StaticFiles files(root_);
  Answer answer = files.answer("HEAD", "/index.html", "");
  EXPECT_EQ(answer.status, 200);
  EXPECT_TRUE(answer.body.empty());
  EXPECT_EQ(answer.content_length, std::string("<h1>aio</h1>").size());
  EXPECT_EQ(answer.content_type, "text/html; charset=utf-8");
}

TEST_F(StaticFilesTest, DirectoriesServeTheirIndex) {
  StaticFiles files(root_);
  EXPECT_EQ(files.answer("GET", "/", "").body, "<h1>aio</h1>");
  EXPECT_EQ(files.answer("GET", "/api/", "").body, "<h1>api</h1>");
  EXPECT_EQ(files.answer("GET", "/api/", "").content_type, "text/html; charset=utf-8");
  Answer redirect = files.answer("GET", "/api?q=1", "");
  EXPECT_EQ(redirect.status, 301);
  EXPECT_EQ(header(redirect, "Location"), "/api/?q=1");
  EXPECT_EQ(files.answer("GET", "/empty/", "").status, 404);  // no listings
}

TEST_F(StaticFilesTest, MissingFilesAndDotfilesAre404) {
  StaticFiles files(root_);
  Answer answer = files.answer("GET", "/nope.html", "");
  EXPECT_EQ(answer.status, 404);
  EXPECT_EQ(answer.content_type, "text/html; charset=utf-8");
  EXPECT_NE(answer.body.find("404 Not Found"), std::string::npos);
  EXPECT_EQ(files.answer("GET", "/.buildinfo", "").status, 404);
  EXPECT_EQ(files.answer("GET", "/index.html/x", "").status, 404);  // ENOTDIR
}

TEST_F(StaticFilesTest, DotDotIsRefusedInEveryEncoding) {
  StaticFiles files(root_);
  for (const char* target : {"/../outside.txt", "/api/../../outside.txt", "/%2e%2e/outside.txt", "/%2E%2E/outside.txt",
                             "/.%2e/outside.txt", "/..%2foutside.txt", "/api/..%2F..%2Foutside.txt", "/api/.."}) {
    Answer answer = files.answer("GET", target, "");
    EXPECT_EQ(answer.status, 403) << target;
    EXPECT_EQ(answer.body.find("outside the root"), std::string::npos) << target;
  }
}

TEST_F(StaticFilesTest, AbsolutePathsStayInTheRoot) {
  StaticFiles files(root_);
  std::string outside = base_ + "/outside.txt";
  for (std::string target : {"//" + outside.substr(1), "/" + outside, "/%2F" + outside.substr(1)}) {
    Answer answer = files.answer("GET", target, "");
    EXPECT_EQ(answer.status, 404) << target;  // names root/<that path>, which does not exist
  }
  EXPECT_EQ(files.answer("GET", "//etc/passwd", "").status, 404);
}

TEST_F(StaticFilesTest, SymlinksOutOfTheRootAreRefused) {
  ASSERT_EQ(::symlink((base_ + "/outside.txt").c_str(), (root_ + "/leak.txt").c_str()), 0);
  ASSERT_EQ(::symlink("../outside_dir", (root_ + "/leakdir").c_str()), 0);
  ASSERT_EQ(::symlink("/etc/passwd", (root_ + "/passwd").c_str()), 0);
  ASSERT_EQ(::symlink("style.css", (root_ + "/alias.css").c_str()), 0);
  StaticFiles files(root_);
  for (const char* target : {"/leak.txt", "/leakdir/", "/leakdir/index.html", "/passwd"}) {
    Answer answer = files.answer("GET", target, "");
    EXPECT_EQ(answer.status, 403) << target;
    EXPECT_EQ(answer.body.find("outside the root"), std::string::npos) << target;
  }
  EXPECT_EQ(files.answer("GET", "/alias.css", "").body, "body{}");  // a symlink inside the root is fine
}

TEST_F(StaticFilesTest, MalformedTargetsAre400) {
  StaticFiles files(root_);
  for (const char* target : {"/a%zz", "/a%2", "/a%", "/index.html%00.txt", "index.html", "*", "http://host/index.html"}) {
    EXPECT_EQ(files.answer("GET", target, "").status, 400) << target;
  }
}

TEST_F(StaticFilesTest, OnlyGetAndHead) {
  StaticFiles files(root_);
  Answer answer = files.answer("POST", "/index.html", "");
  EXPECT_EQ(answer.status, 405);
  EXPECT_EQ(header(answer, "Allow"), "GET, HEAD");
}

TEST_F(StaticFilesTest, SpecialFilesAndBigFilesAreNotServed) {
  ASSERT_EQ(::mkfifo((root_ + "/fifo").c_str(), 0644), 0);
  write_file(root_ + "/big.bin", std::string(2000, 'x'));
  StaticFiles files(root_, 1000);
  EXPECT_EQ(files.answer("GET", "/fifo", "").status, 403);  // and did not block opening it
  EXPECT_EQ(files.answer("GET", "/big.bin", "").status, 403);
}

TEST_F(StaticFilesTest, IfModifiedSince) {
  struct timespec times[2] = {{1700000000, 0}, {1700000000, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, (root_ + "/index.html").c_str(), times, 0), 0);
  StaticFiles files(root_);
  std::string modified = format_http_date(1700000000);
  EXPECT_EQ(modified, "Tue, 14 Nov 2023 22:13:20 GMT");
  Answer same = files.answer("GET", "/index.html", modified);
  EXPECT_EQ(same.status, 304);
  EXPECT_TRUE(same.body.empty());
  EXPECT_EQ(same.content_length, std::string("<h1>aio</h1>").size());
  EXPECT_EQ(header(same, "Last-Modified"), modified);
  EXPECT_EQ(files.answer("GET", "/", format_http_date(1700000001)).status, 304);
  EXPECT_EQ(files.answer("GET", "/index.html", format_http_date(1699999999)).status, 200);
  EXPECT_EQ(files.answer("GET", "/index.html", "yesterday").status, 200);  // ignored, not an error
}

TEST(HttpDateTest, ParsesTheThreeFormats) {
  EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777);
  EXPECT_EQ(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), 784111777);
  EXPECT_EQ(parse_http_date("Sun Nov  6 08:49:37 1994"), 784111777);
  EXPECT_EQ(format_http_date(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_FALSE(parse_http_date(""));
  EXPECT_FALSE(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT trailing"));
  EXPECT_FALSE(parse_http_date("06 Nov 1994"));
}

TEST(SplitPathTest, DecodesAndSplits) {
  using Segments = std::vector<std::string>;
  EXPECT_EQ(split_path("/a/b.html?x=1"), Segments({"a", "b.html"}));
  EXPECT_EQ(split_path("//a///b/./"), Segments({"a", "b"}));
  EXPECT_EQ(split_path("/%61%2fb"), Segments({"a", "b"}));
  EXPECT_EQ(split_path("/%2e%2e/x"), Segments({"..", "x"}));
  EXPECT_EQ(split_path("/"), Segments({}));
  EXPECT_EQ(split_path("/a%20b"), Segments({"a b"}));
}

TEST(ContentTypeTest, ByExtension) {
  EXPECT_EQ(content_type_for("a/b/index.HTML"), "text/html; charset=utf-8");
  EXPECT_EQ(content_type_for("x.svg"), "image/svg+xml");
  EXPECT_EQ(content_type_for("x.woff2"), "font/woff2");
  EXPECT_EQ(content_type_for("objects.inv"), "application/octet-stream");
  EXPECT_EQ(content_type_for("Makefile"), "application/octet-stream");
  EXPECT_EQ(content_type_for("dir.d/file"), "application/octet-stream");
}

TEST(ErrorPageTest, EscapesThePath) {
  std::string page = error_page(404, "/<script>alert('x')</script>");
  EXPECT_EQ(page.find("<script>"), std::string::npos);
  EXPECT_NE(page.find("&lt;script&gt;"), std::string::npos);
  EXPECT_NE(page.find("404 Not Found"), std::string::npos);
}

TEST(StaticFilesRootTest, AMissingRootThrows) {
  EXPECT_THROW(StaticFiles("/nonexistent/aio/site"), std::system_error);
}

}  // namespace
}  // namespace aio::static_files
