// How a request becomes a file. The security rests on two independent
// barriers: the path is refused lexically (a ".." segment after decoding is
// 403, dotfiles are 404), and the file is opened relative to the root's
// descriptor with openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS), so the
// kernel refuses any resolution that would leave the root, whether through
// "..", an absolute path or a symlink. The first gives clear answers; the
// second holds even if the first has a bug or the tree changes underneath.
#include "tools/static_server/static_files.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <algorithm>
#include <system_error>

namespace aio::static_files {
namespace {

// Closes a descriptor when it goes out of scope. Movable.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    std::swap(fd_, other.fd_);
    return *this;
  }
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

int open_beneath(int root_fd, const std::string& relative, int flags) {
  open_how how{};
  how.flags = static_cast<std::uint64_t>(flags | O_CLOEXEC | O_NOCTTY);
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  long fd;
  do {
    fd = ::syscall(SYS_openat2, root_fd, relative.c_str(), &how, sizeof how);
  } while (fd < 0 && (errno == EINTR || errno == EAGAIN));
  return static_cast<int>(fd);
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string_view reason(int status) {
  switch (status) {
    case 301: return "Moved Permanently";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    default: return "Internal Server Error";
  }
}

std::string html_escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

Answer error(int status, std::string_view path) {
  Answer answer;
  answer.status = status;
  answer.content_type = "text/html; charset=utf-8";
  answer.body = error_page(status, path);
  answer.content_length = answer.body.size();
  return answer;
}

constexpr std::array<const char*, 7> kDays = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr std::array<const char*, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

}  // namespace

StaticFiles::StaticFiles(const std::string& root, std::size_t max_file_bytes)
    : root_fd_(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC)), max_file_bytes_(max_file_bytes) {
  if (root_fd_ < 0) {
    throw std::system_error(errno, std::system_category(), "static_files: cannot open the root directory " + root);
  }
}

StaticFiles::~StaticFiles() { ::close(root_fd_); }

Answer StaticFiles::answer(std::string_view method, std::string_view target,
                           std::string_view if_modified_since) const {
  std::string_view path = target.substr(0, target.find('?'));
  if (method != "GET" && method != "HEAD") {
    Answer answer = error(405, path);
    answer.headers.emplace_back("Allow", "GET, HEAD");
    return answer;
  }
  std::optional<std::vector<std::string>> segments = split_path(target);
  if (!segments) return error(400, path);
  std::string relative = ".";
  for (const std::string& segment : *segments) {
    if (segment == "..") return error(403, path);
    if (segment[0] == '.') return error(404, path);
    relative += '/';
    relative += segment;
  }

  Fd file(open_beneath(root_fd_, relative, O_RDONLY | O_NONBLOCK));
  if (file.get() < 0) {
    // EXDEV: the resolution would leave the root (a symlink out of it).
    return error(errno == ENOENT || errno == ENOTDIR || errno == ENAMETOOLONG ? 404 : 403, path);
  }
  struct stat status;
  if (::fstat(file.get(), &status) != 0) return error(403, path);
  if (S_ISDIR(status.st_mode)) {
    if (path.back() != '/') {
      Answer answer = error(301, path);
      std::string location(path);
      location += '/';
      if (std::size_t query = target.find('?'); query != std::string_view::npos) location += target.substr(query);
      answer.headers.emplace_back("Location", location);
      return answer;
    }
    relative += "/index.html";
    file = Fd(open_beneath(root_fd_, relative, O_RDONLY | O_NONBLOCK));
    if (file.get() < 0) return error(errno == ENOENT ? 404 : 403, path);
    if (::fstat(file.get(), &status) != 0) return error(403, path);
  }
  if (!S_ISREG(status.st_mode)) return error(403, path);
  if (static_cast<std::size_t>(status.st_size) > max_file_bytes_) return error(403, path);

  Answer answer;
  std::string last_modified = format_http_date(status.st_mtim.tv_sec);
  answer.headers.emplace_back("Last-Modified", last_modified);
  answer.headers.emplace_back("Cache-Control", "no-cache");  // revalidate: 304 when unchanged
  answer.content_type = content_type_for(relative);
  answer.content_length = static_cast<std::size_t>(status.st_size);
  if (std::optional<std::time_t> since = parse_http_date(if_modified_since);
      since && status.st_mtim.tv_sec <= *since) {
    answer.status = 304;
    return answer;
  }
  answer.status = 200;
  answer.headers.emplace_back("X-Content-Type-Options", "nosniff");
  if (method == "HEAD") return answer;
  answer.body.resize(static_cast<std::size_t>(status.st_size));
  std::size_t done = 0;
  while (done < answer.body.size()) {
    ssize_t n = ::pread(file.get(), answer.body.data() + done, answer.body.size() - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // an error, or the file shrank: send what was read
    done += static_cast<std::size_t>(n);
  }
  answer.body.resize(done);
  answer.content_length = done;
  return answer;
}

std::optional<std::vector<std::string>> split_path(std::string_view target) {
  std::string_view path = target.substr(0, target.find('?'));
  if (path.empty() || path[0] != '/') return std::nullopt;
  std::string decoded;
  decoded.reserve(path.size());
  for (std::size_t i = 0; i < path.size(); ++i) {
    char c = path[i];
    if (c == '%') {
      if (i + 2 >= path.size()) return std::nullopt;
      int high = hex_value(path[i + 1]), low = hex_value(path[i + 2]);
      if (high < 0 || low < 0) return std::nullopt;
      c = static_cast<char>(high * 16 + low);
      i += 2;
    }
    if (c == '\0') return std::nullopt;
    decoded += c;
  }
  std::vector<std::string> segments;
  std::size_t start = 0;
  while (start <= decoded.size()) {
    std::size_t end = decoded.find('/', start);
    if (end == std::string::npos) end = decoded.size();
    std::string_view segment(decoded.data() + start, end - start);
    if (!segment.empty() && segment != ".") segments.emplace_back(segment);
    start = end + 1;
  }
  return segments;
}

std::string_view content_type_for(std::string_view name) {
  static constexpr std::pair<std::string_view, std::string_view> kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".htm", "text/html; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".json", "application/json"},
      {".map", "application/json"},
      {".txt", "text/plain; charset=utf-8"},
      {".md", "text/markdown; charset=utf-8"},
      {".xml", "application/xml"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},
      {".gif", "image/gif"},
      {".webp", "image/webp"},
      {".ico", "image/vnd.microsoft.icon"},
      {".woff", "font/woff"},
      {".woff2", "font/woff2"},
      {".ttf", "font/ttf"},
      {".pdf", "application/pdf"},
      {".wasm", "application/wasm"},
  };
  std::size_t slash = name.rfind('/');
  std::string_view base = slash == std::string_view::npos ? name : name.substr(slash + 1);
  std::size_t dot = base.rfind('.');
  if (dot != std::string_view::npos) {
    std::string_view extension = base.substr(dot);
    for (const auto& [known, type] : kTypes) {
      if (extension.size() == known.size() &&
          std::equal(extension.begin(), extension.end(), known.begin(),
                     [](char a, char b) { return (a | 0x20) == b || a == b; })) {
        return type;
      }
    }
  }
  return "application/octet-stream";
}

std::string format_http_date(std::time_t time) {
  std::tm tm{};
  ::gmtime_r(&time, &tm);
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday], tm.tm_mday,
                kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buffer;
}

std::optional<std::time_t> parse_http_date(std::string_view text) {
  if (text.empty() || text.size() > 64) return std::nullopt;
  std::string copy(text);
  std::tm tm{};
  char* end = nullptr;
  // IMF-fixdate, RFC 850, asctime (RFC 9110 5.6.7); strptime's %b/%a ignore case.
  for (const char* format : {"%a, %d %b %Y %H:%M:%S GMT", "%A, %d-%b-%y %H:%M:%S GMT", "%a %b %e %H:%M:%S %Y"}) {
    tm = std::tm{};
    end = ::strptime(copy.c_str(), format, &tm);
    if (end != nullptr && *end == '\0') {
      std::time_t time = ::timegm(&tm);
      if (time == static_cast<std::time_t>(-1)) return std::nullopt;
      return time;
    }
  }
  return std::nullopt;
}

std::string error_page(int status, std::string_view path) {
  std::string title = std::to_string(status) + " " + std::string(reason(status));
  std::string detail;
  switch (status) {
    case 301: detail = "This is a directory; its page is at the same address with a trailing slash."; break;
    case 400: detail = "The request's path is malformed."; break;
    case 403: detail = "This path is outside what this server serves."; break;
    case 404: detail = "There is no page at this address."; break;
    case 405: detail = "This server only answers GET and HEAD."; break;
    default: detail = "The server could not answer."; break;
  }
  return "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + title +
         "</title></head>\n<body><h1>" + title + "</h1>\n<p>" + detail + "</p>\n<p><code>" + html_escape(path) +
         "</code></p>\n<p><a href=\"/\">The documentation's start page</a></p></body></html>\n";
}

}  // namespace aio::static_files
