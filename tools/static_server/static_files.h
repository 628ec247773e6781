// aio::static_files: what a static file server answers, without the HTTP
// transport. Given a request's method, target and If-Modified-Since header,
// StaticFiles::answer() returns the status, headers and body to send; the HTTP
// server (static_server.h, on //tools/http:server) only carries them.
//
//   aio::static_files::StaticFiles files("/srv/site");
//   aio::static_files::Answer answer = files.answer("GET", "/api/index.html", "");
//   // answer.status == 200, answer.content_type == "text/html; charset=utf-8", ...
//
// The rules:
// - GET and HEAD only (405 with Allow otherwise). The target is origin-form
//   ("/a/b?x"); anything else is 400. The query is ignored.
// - The path is percent-decoded once, then split on '/'. A malformed escape
//   or a NUL byte is 400. A ".." segment, decoded or not (`..`, `%2e%2e`,
//   `..%2f`), is refused with 403, never normalized. Empty and "." segments
//   are skipped, so `//etc/passwd` names root/etc/passwd, never /etc/passwd.
//   Names starting with '.' (dotfiles) are 404.
// - The file is opened with openat2(RESOLVE_BENEATH) below the root's
//   descriptor: a symlink that leads out of the root is refused by the kernel
//   (403), also when it is planted while the server runs. Linux >= 5.6.
// - A directory is served by its index.html; "/dir" without its slash is
//   redirected (301) to "/dir/" so relative links work. No listings.
// - Only regular files are served (opened O_NONBLOCK, so a FIFO cannot stall
//   the loop); files above max_file_bytes are 403.
// - Last-Modified is the file's mtime; If-Modified-Since at or after it gives
//   304 with no body (a date that does not parse is ignored, RFC 9110 13.1.3).
// - Errors come with a small HTML page naming the status (the path is escaped).
//
// The file is read in the calling thread with pread(): meant for local files of
// modest size (a documentation site), not for a disk that can stall.
// Thread-safety: answer() is const and may be called from several threads.
#ifndef AIO_TOOLS_STATIC_SERVER_STATIC_FILES_H_
#define AIO_TOOLS_STATIC_SERVER_STATIC_FILES_H_

#include <cstddef>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace aio::static_files {

// What to send back for one request.
struct Answer {
  int status = 500;
  std::string content_type;
  // The file or the error page. Empty for HEAD and 304, which send no body,
  // but whose Content-Length must still be the file's (RFC 9110 8.6, 9.3.2).
  std::string body;
  std::size_t content_length = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // Last-Modified, Location, Allow, ...
};

class StaticFiles {
 public:
  // Serves the directory `root`. Throws std::system_error if it cannot be
  // opened as a directory.
  explicit StaticFiles(const std::string& root, std::size_t max_file_bytes = 64 << 20);
  StaticFiles(const StaticFiles&) = delete;
  StaticFiles& operator=(const StaticFiles&) = delete;
  ~StaticFiles();

  Answer answer(std::string_view method, std::string_view target, std::string_view if_modified_since) const;

 private:
  int root_fd_;
  std::size_t max_file_bytes_;
};

// The target's path percent-decoded and split into its segments, without
// empty and "." segments. nullopt for a malformed target (not starting with
// '/', a bad %XX escape, a NUL byte); a ".." segment is returned as is for the
// caller to refuse.
std::optional<std::vector<std::string>> split_path(std::string_view target);

// The Content-Type for a file name, by extension ("application/octet-stream"
// when unknown).
std::string_view content_type_for(std::string_view name);

// An IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") and back; parse_http_date
// also takes RFC 850 and asctime dates, as RFC 9110 asks, and returns nullopt
// for anything else.
std::string format_http_date(std::time_t time);
std::optional<std::time_t> parse_http_date(std::string_view text);

// The HTML page sent with an error status.
std::string error_page(int status, std::string_view path);

}  // namespace aio::static_files

#endif  // AIO_TOOLS_STATIC_SERVER_STATIC_FILES_H_
