// HTTP/1.1 message framing shared by aio's HTTP server and the load
// generator's client: finding the end of a head, reading header values,
// parsing a response head, and decoding a chunked body incrementally.
//
// Everything works on views of bytes already received and allocates nothing;
// the parsers never read past the view they are given. Syntax follows RFC
// 9112 strictly where being lax would be a request-smuggling risk (two
// different Content-Lengths, a space before a header's colon, obsolete line
// folding are errors) and accepts nothing but CRLF line ends. Pure functions:
// thread-safe.
#ifndef AIO_TOOLS_HTTP_PARSE_H_
#define AIO_TOOLS_HTTP_PARSE_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace aio::http {

// The offset just past the "\r\n\r\n" that ends a head, or npos if `data`
// holds none. `from` lets a caller that already searched a prefix skip it
// (it may be up to 3 bytes into a terminator; the search backs up for that).
std::size_t find_head_end(std::string_view data, std::size_t from = 0);

// ASCII case-insensitive equality (header names, tokens).
bool equals_ignore_case(std::string_view a, std::string_view b);
// Whether a comma-separated header value (Connection, Transfer-Encoding)
// holds `token`, case-insensitively.
bool has_token(std::string_view list, std::string_view token);
// A Content-Length value: digits only, at most 18 of them. False otherwise.
bool parse_content_length(std::string_view value, std::uint64_t& length);
// Whether `c` may appear in a token (method, header name), RFC 9110 5.6.2.
bool is_token_char(char c);

enum class ParseStatus { kComplete, kIncomplete, kError };

// What a client needs from a response head.
struct ResponseHead {
  int status = 0;
  int minor_version = 1;
  bool has_content_length = false;
  std::uint64_t content_length = 0;
  bool chunked = false;
  // The server will close after this response (Connection: close, or
  // HTTP/1.0 without keep-alive).
  bool close = false;
  std::size_t head_size = 0;  // bytes of the status line and headers
  const char* error = nullptr;  // what was wrong, for kError
};

// Parses the status line and headers at the start of `data`. kIncomplete
// when the head has not all arrived (find_head_end found no end).
ParseStatus parse_response_head(std::string_view data, ResponseHead& head);

// Decodes a chunked body as it arrives, without copying: feed() reports how
// many bytes of the input belong to the body (chunk sizes, data, trailers)
// and whether the body is complete. Extensions and trailers are skipped.
class ChunkedDecoder {
 public:
  void reset() { *this = ChunkedDecoder(); }
  // Consumes from `data` what belongs to the body; `consumed` says how much.
  // kComplete once the last chunk and the trailers are in (the bytes after
  // are the next message), kError for a malformed body.
  ParseStatus feed(std::string_view data, std::size_t& consumed);
  // Bytes of chunk data seen so far (the body's length).
  std::uint64_t body_bytes() const { return body_bytes_; }

 private:
  enum class State { kSize, kSizeExtension, kSizeLf, kData, kDataCr, kDataLf, kTrailerLineStart,
                     kTrailerLine, kTrailerLf, kFinalLf };
  State state_ = State::kSize;
  std::uint64_t remaining_ = 0;
  std::uint64_t body_bytes_ = 0;
  int size_digits_ = 0;
};

}  // namespace aio::http

#endif  // AIO_TOOLS_HTTP_PARSE_H_
