#include "tools/http/parse.h"

#include <string>
#include <string_view>

#include "gtest/gtest.h"

namespace aio::http {
namespace {

TEST(FindHeadEnd, FindsTheBlankLine) {
  EXPECT_EQ(find_head_end("GET / HTTP/1.1\r\n\r\nrest"), 18u);
  EXPECT_EQ(find_head_end("GET / HTTP/1.1\r\n\r"), std::string_view::npos);
  EXPECT_EQ(find_head_end(""), std::string_view::npos);
  // Resuming a search that stopped inside the terminator still finds it.
  std::string head = "GET / HTTP/1.1\r\nA: b\r\n\r\n";
  EXPECT_EQ(find_head_end(head, head.size() - 2), head.size());
}

TEST(Tokens, CaseInsensitiveListsAndLengths) {
  EXPECT_TRUE(equals_ignore_case("Content-Length", "content-length"));
  EXPECT_FALSE(equals_ignore_case("Content-Length", "content-lengt"));
  EXPECT_TRUE(has_token("keep-alive, Close", "close"));
  EXPECT_TRUE(has_token(" upgrade ,keep-alive", "keep-alive"));
  EXPECT_FALSE(has_token("closed", "close"));
  std::uint64_t n = 0;
  EXPECT_TRUE(parse_content_length("1234", n));
  EXPECT_EQ(n, 1234u);
  EXPECT_FALSE(parse_content_length("", n));
  EXPECT_FALSE(parse_content_length("-1", n));
  EXPECT_FALSE(parse_content_length("12a", n));
  EXPECT_FALSE(parse_content_length("1234567890123456789", n));
}

TEST(ResponseHead, ParsesStatusLengthAndConnection) {
  ResponseHead head;
  std::string text = "HTTP/1.1 200 OK\r\nContent-Length: 12\r\nServer: x\r\n\r\nhello world\n";
  ASSERT_EQ(parse_response_head(text, head), ParseStatus::kComplete);
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.has_content_length);
  EXPECT_EQ(head.content_length, 12u);
  EXPECT_FALSE(head.close);
  EXPECT_EQ(head.head_size, text.size() - 12);

  ASSERT_EQ(parse_response_head("HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n", head), ParseStatus::kComplete);
  EXPECT_EQ(head.status, 404);
  EXPECT_TRUE(head.close);
  ASSERT_EQ(parse_response_head("HTTP/1.0 200 OK\r\n\r\n", head), ParseStatus::kComplete);
  EXPECT_TRUE(head.close);
  ASSERT_EQ(parse_response_head("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\n", head), ParseStatus::kComplete);
  EXPECT_FALSE(head.close);
  ASSERT_EQ(parse_response_head("HTTP/1.1 204\r\nTransfer-Encoding: chunked\r\n\r\n", head), ParseStatus::kComplete);
  EXPECT_TRUE(head.chunked);
  EXPECT_EQ(head.status, 204);
}

TEST(ResponseHead, IncompleteAndMalformed) {
  ResponseHead head;
  EXPECT_EQ(parse_response_head("HTTP/1.1 200 OK\r\nContent-Le", head), ParseStatus::kIncomplete);
  EXPECT_EQ(parse_response_head("HTT", head), ParseStatus::kIncomplete);
  // Garbage is an error as soon as its first bytes show it, without waiting for a head end.
  EXPECT_EQ(parse_response_head("SSH-2.0", head), ParseStatus::kError);
  EXPECT_EQ(parse_response_head("HTTP/1.1 2x0 OK\r\n\r\n", head), ParseStatus::kError);
  EXPECT_EQ(parse_response_head("HTTP/1.1 200OK\r\n\r\n", head), ParseStatus::kError);
  EXPECT_EQ(parse_response_head("HTTP/1.1 200 OK\r\nNoColon\r\n\r\n", head), ParseStatus::kError);
  EXPECT_EQ(parse_response_head("HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n", head), ParseStatus::kError);
  EXPECT_EQ(parse_response_head("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", head),
            ParseStatus::kError);
  EXPECT_STREQ(head.error, "conflicting Content-Length");
  EXPECT_EQ(parse_response_head("HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", head), ParseStatus::kError);
}

// Feeds `body` to a decoder in pieces of `step` bytes; returns the body
// length decoded and how many bytes were consumed in all.
std::pair<std::uint64_t, std::size_t> decode(std::string_view body, std::size_t step, ParseStatus& status) {
  ChunkedDecoder decoder;
  std::size_t total = 0;
  status = ParseStatus::kIncomplete;
  while (total < body.size()) {
    std::string_view piece = body.substr(total, step);
    std::size_t used = 0;
    status = decoder.feed(piece, used);
    if (status == ParseStatus::kError) break;
    total += used;
    if (status == ParseStatus::kComplete) break;
    EXPECT_EQ(used, piece.size());
  }
  return {decoder.body_bytes(), total};
}

TEST(ChunkedDecoder, DecodesInAnySplit) {
  std::string body = "5\r\nhello\r\n1A;ext=1\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nTrailer: x\r\n\r\n";
  std::string input = body + "HTTP/1.1 200 OK";  // the next response follows
  for (std::size_t step = 1; step <= input.size(); ++step) {
    ParseStatus status;
    auto [length, used] = decode(input, step, status);
    EXPECT_EQ(status, ParseStatus::kComplete) << "step " << step;
    EXPECT_EQ(length, 31u) << "step " << step;
    EXPECT_EQ(used, body.size()) << "step " << step;
  }
}

TEST(ChunkedDecoder, RejectsMalformedBodies) {
  for (std::string_view bad : {"x\r\n", "5\r\nhelloXX", "5\nhello", "\r\n", "5\r\nhello\r\n0\r\n\rX",
                               "1234567890abcdef0\r\n"}) {
    ParseStatus status;
    decode(bad, bad.size(), status);
    EXPECT_EQ(status, ParseStatus::kError) << bad;
  }
}

}  // namespace
}  // namespace aio::http
