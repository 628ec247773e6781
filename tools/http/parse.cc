// HTTP/1.1 framing helpers. Design: each function scans its view once, left
// to right, with memchr/memmem doing the long searches; a chunked body is a
// small state machine so that a size line or CRLF split across two reads
// needs no buffering by the caller.
#include "tools/http/parse.h"

#include <cstring>

namespace aio::http {
namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::size_t find_head_end(std::string_view data, std::size_t from) {
  from = from >= 3 ? from - 3 : 0;
  if (data.size() < from + 4) return std::string_view::npos;
  const void* found = ::memmem(data.data() + from, data.size() - from, "\r\n\r\n", 4);
  if (found == nullptr) return std::string_view::npos;
  return static_cast<std::size_t>(static_cast<const char*>(found) - data.data()) + 4;
}

bool equals_ignore_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

bool has_token(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    std::size_t comma = list.find(',');
    std::string_view item = trim(list.substr(0, comma));
    if (equals_ignore_case(item, token)) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

bool parse_content_length(std::string_view value, std::uint64_t& length) {
  if (value.empty() || value.size() > 18) return false;
  std::uint64_t n = 0;
  for (char c : value) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + static_cast<std::uint64_t>(c - '0');
  }
  length = n;
  return true;
}

namespace {
// RFC 9110 tchar, as a table: the parsers test every byte of every name.
struct TokenTable {
  bool allowed[256] = {};
  constexpr TokenTable() {
    for (int c = 'a'; c <= 'z'; ++c) allowed[c] = true;
    for (int c = 'A'; c <= 'Z'; ++c) allowed[c] = true;
    for (int c = '0'; c <= '9'; ++c) allowed[c] = true;
    for (char c : {'!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~'}) {
      allowed[static_cast<unsigned char>(c)] = true;
    }
  }
};
constexpr TokenTable kTokens;

// The next line of `rest` (without its CRLF); advances `rest` past it. A
// line ending in a bare LF is returned with the LF's position marked bad.
bool next_line(std::string_view& rest, std::string_view& line) {
  const void* lf = std::memchr(rest.data(), '\n', rest.size());
  if (lf == nullptr) return false;
  std::size_t at = static_cast<std::size_t>(static_cast<const char*>(lf) - rest.data());
  if (at == 0 || rest[at - 1] != '\r') return false;
  line = rest.substr(0, at - 1);
  rest.remove_prefix(at + 1);
  return true;
}
}  // namespace

bool is_token_char(char c) { return kTokens.allowed[static_cast<unsigned char>(c)]; }

ParseStatus parse_response_head(std::string_view data, ResponseHead& head) {
  head = ResponseHead();
  auto fail = [&head](const char* why) {
    head.error = why;
    return ParseStatus::kError;
  };
  // A status line is at least "HTTP/1.1 200\r\n"; check its shape before the
  // head is complete so that garbage is an error at once, not a wait.
  constexpr std::string_view kPrefix = "HTTP/1.";
  std::size_t check = data.size() < kPrefix.size() ? data.size() : kPrefix.size();
  if (data.substr(0, check) != kPrefix.substr(0, check)) return fail("malformed status line");
  std::size_t end = find_head_end(data);
  if (end == std::string_view::npos) return ParseStatus::kIncomplete;
  head.head_size = end;
  std::string_view rest = data.substr(0, end - 2);  // keeps the last header's CRLF
  std::string_view line;
  if (!next_line(rest, line)) return fail("malformed status line");
  if (line.size() < 12 || (line[7] != '0' && line[7] != '1') || line[8] != ' ') {
    return fail("malformed status line");
  }
  head.minor_version = line[7] - '0';
  for (int i = 9; i < 12; ++i) {
    if (line[i] < '0' || line[i] > '9') return fail("malformed status code");
    head.status = head.status * 10 + (line[i] - '0');
  }
  if (line.size() > 12 && line[12] != ' ') return fail("malformed status line");
  if (head.status < 100) return fail("malformed status code");
  bool keep_alive = head.minor_version == 1;
  while (!rest.empty()) {
    if (!next_line(rest, line)) return fail("malformed header line");
    // The name runs to the colon; every byte of it must be a token byte
    // (which also rejects a space before the colon and obsolete folding).
    std::size_t colon = 0;
    while (colon < line.size() && kTokens.allowed[static_cast<unsigned char>(line[colon])]) ++colon;
    if (colon == 0 || colon == line.size() || line[colon] != ':') {
      return fail(colon < line.size() && line[colon] != ':' ? "malformed header name" : "malformed header line");
    }
    std::string_view name = line.substr(0, colon);
    // Only three headers matter to a client; tell them apart by length first.
    char first = static_cast<char>(name[0] | 0x20);
    if (name.size() == 14 && first == 'c' && equals_ignore_case(name, "content-length")) {
      std::uint64_t length = 0;
      if (!parse_content_length(trim(line.substr(colon + 1)), length)) return fail("malformed Content-Length");
      if (head.has_content_length && length != head.content_length) return fail("conflicting Content-Length");
      head.has_content_length = true;
      head.content_length = length;
    } else if (name.size() == 17 && first == 't' && equals_ignore_case(name, "transfer-encoding")) {
      if (has_token(trim(line.substr(colon + 1)), "chunked")) head.chunked = true;
    } else if (name.size() == 10 && first == 'c' && equals_ignore_case(name, "connection")) {
      std::string_view value = trim(line.substr(colon + 1));
      if (has_token(value, "close")) keep_alive = false;
      if (has_token(value, "keep-alive")) keep_alive = true;
    }
  }
  head.close = !keep_alive;
  return ParseStatus::kComplete;
}

ParseStatus ChunkedDecoder::feed(std::string_view data, std::size_t& consumed) {
  std::size_t i = 0;
  const std::size_t n = data.size();
  while (i < n) {
    char c = data[i];
    switch (state_) {
      case State::kSize: {
        int v = hex_value(c);
        if (v >= 0) {
          if (++size_digits_ > 15) return ParseStatus::kError;
          remaining_ = remaining_ * 16 + static_cast<std::uint64_t>(v);
          ++i;
        } else if (size_digits_ == 0) {
          return ParseStatus::kError;
        } else if (c == '\r') {
          state_ = State::kSizeLf;
          ++i;
        } else if (c == ';' || c == ' ' || c == '\t') {
          state_ = State::kSizeExtension;
          ++i;
        } else {
          return ParseStatus::kError;
        }
        break;
      }
      case State::kSizeExtension: {
        const void* cr = std::memchr(data.data() + i, '\r', n - i);
        if (cr == nullptr) {
          i = n;
        } else {
          i = static_cast<std::size_t>(static_cast<const char*>(cr) - data.data()) + 1;
          state_ = State::kSizeLf;
        }
        break;
      }
      case State::kSizeLf:
        if (c != '\n') return ParseStatus::kError;
        ++i;
        size_digits_ = 0;
        state_ = remaining_ == 0 ? State::kTrailerLineStart : State::kData;
        break;
      case State::kData: {
        std::uint64_t take = n - i < remaining_ ? n - i : remaining_;
        i += take;
        remaining_ -= take;
        body_bytes_ += take;
        if (remaining_ == 0) state_ = State::kDataCr;
        break;
      }
      case State::kDataCr:
        if (c != '\r') return ParseStatus::kError;
        ++i;
        state_ = State::kDataLf;
        break;
      case State::kDataLf:
        if (c != '\n') return ParseStatus::kError;
        ++i;
        state_ = State::kSize;
        break;
      case State::kTrailerLineStart:
        ++i;
        state_ = c == '\r' ? State::kFinalLf : State::kTrailerLine;
        break;
      case State::kTrailerLine:
        ++i;
        if (c == '\r') state_ = State::kTrailerLf;
        break;
      case State::kTrailerLf:
        if (c != '\n') return ParseStatus::kError;
        ++i;
        state_ = State::kTrailerLineStart;
        break;
      case State::kFinalLf:
        if (c != '\n') return ParseStatus::kError;
        consumed = i + 1;
        return ParseStatus::kComplete;
    }
  }
  consumed = n;
  return ParseStatus::kIncomplete;
}

}  // namespace aio::http
