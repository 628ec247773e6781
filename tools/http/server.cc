// The HTTP/1.1 server: one HttpConnection (an aio::Protocol) per accepted
// socket. Read this first:
//
// - data_received() parses the requests in the view it is given, in place;
//   only the unparsed tail of a read (a request split across reads) is copied
//   into the connection's buffer_, and the next read is appended there.
// - The handler's responses are appended to out_, and out_ goes to the
//   transport in one write() at the end of the read: one send per batch of
//   pipelined requests, and no epoll_ctl (the transport arms write-readiness
//   only when the kernel refuses bytes).
// - A deferred response stops parsing (and pauses reading) until it is sent,
//   which keeps pipelined responses in order without a queue of them.
// - Timeouts use one timer per connection, armed for the nearest deadline and
//   re-armed lazily: a request only moves deadline_, so keep-alive traffic
//   costs no timer operation per request.
#include "tools/http/server.h"

#include <sys/socket.h>

#include <charconv>
#include <ctime>
#include <exception>
#include <optional>
#include <stdexcept>
#include <utility>

#include "net/transport.h"
#include "tools/http/parse.h"

namespace aio::http {

std::string_view reason_phrase(int status) {
  switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 416: return "Range Not Satisfiable";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
  }
}

std::string_view Request::path() const {
  std::size_t q = target_.find('?');
  return q == std::string_view::npos ? target_ : target_.substr(0, q);
}

std::string_view Request::query() const {
  std::size_t q = target_.find('?');
  return q == std::string_view::npos ? std::string_view() : target_.substr(q + 1);
}

std::string_view Request::header(std::string_view name) const {
  for (std::size_t i = 0; i < header_count_; ++i) {
    if (equals_ignore_case(headers_[i].name, name)) return headers_[i].value;
  }
  return {};
}

bool Request::has_header(std::string_view name) const {
  for (std::size_t i = 0; i < header_count_; ++i) {
    if (equals_ignore_case(headers_[i].name, name)) return true;
  }
  return false;
}

namespace internal {

namespace {

// Formats the Date header once per second per thread.
std::string_view http_date() {
  thread_local std::time_t cached_second = -1;
  thread_local char text[64];
  thread_local std::size_t length = 0;
  std::time_t now = std::time(nullptr);
  if (now != cached_second) {
    std::tm parts;
    ::gmtime_r(&now, &parts);
    length = std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &parts);
    cached_second = now;
  }
  return std::string_view(text, length);
}

void append_number(std::string& out, std::uint64_t n) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, n);
  (void)ec;
  out.append(digits, static_cast<std::size_t>(end - digits));
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Bodies at least this large are written beside the head (writev) instead of
// being copied into the connection's output buffer.
constexpr std::size_t kLargeBody = 16 * 1024;

}  // namespace

// What every connection of one server shares.
struct ServerShared {
  Handler handler;
  ServerOptions options;
  std::string fixed_headers;  // "Server: ...\r\n"
  std::shared_ptr<ServerStats> stats;
};

class HttpConnection final : public aio::Protocol, public std::enable_shared_from_this<HttpConnection> {
 public:
  explicit HttpConnection(std::shared_ptr<ServerShared> shared)
      : shared_(std::move(shared)), options_(shared_->options), response_(this) {}

  void connection_made(std::shared_ptr<Transport> transport) override {
    transport_ = std::move(transport);
    loop_ = &get_running_loop();
    shared_->stats->connections_accepted.fetch_add(1, std::memory_order_relaxed);
    shared_->stats->connections_open.fetch_add(1, std::memory_order_relaxed);
    arm_timer(loop_->time() + options_.idle_timeout);
  }

  void data_received(std::string_view data) override {
    if (closing_ || phase_ == Phase::kDeferred) {
      // Reading is paused while a response is deferred; bytes the transport
      // had already read wait in buffer_.
      if (!closing_) buffer_.append(data);
      return;
    }
    now_ = loop_->time();
    batching_ = true;
    if (buffer_.empty()) {
      std::size_t used = process(data);
      if (!closing_ && used < data.size()) buffer_.assign(data.substr(used));
    } else {
      buffer_.append(data);
      consume_buffer();
    }
    batching_ = false;
    flush();
    after_batch();
  }

  bool eof_received() override {
    // A client that half-closes after its request still gets the answer.
    if (phase_ == Phase::kDeferred && !closing_) {
      close_when_answered_ = true;
      return true;
    }
    return false;
  }

  void connection_lost(std::exception_ptr) override {
    lost_ = true;
    closing_ = true;
    timer_.cancel();
    shared_->stats->connections_open.fetch_sub(1, std::memory_order_relaxed);
    transport_.reset();
  }

  // --- called by Response and DeferredResponse ---------------------------------
  void write_response(int status, std::string_view body, std::string_view content_type) {
    if (closing_ && !in_handler_) return;
    Response& r = response_;
    std::string& out = out_;
    out.append("HTTP/1.1 ");
    append_number(out, static_cast<std::uint64_t>(status));
    out.push_back(' ');
    out.append(reason_phrase(status));
    out.append("\r\n");
    out.append(shared_->fixed_headers);
    if (options_.date_header) {
      out.append("Date: ");
      out.append(http_date());
      out.append("\r\n");
    }
    if (!content_type.empty()) {
      out.append("Content-Type: ");
      out.append(content_type);
      out.append("\r\n");
    }
    bool no_body_status = status < 200 || status == 204 || status == 304;
    if (status >= 200 && status != 204) {
      out.append("Content-Length: ");
      append_number(out, body.size());
      out.append("\r\n");
    }
    if (r.close_after_) {
      out.append("Connection: close\r\n");
    } else if (request_minor_version_ == 0) {
      out.append("Connection: keep-alive\r\n");
    }
    out.append(r.extra_headers_);
    out.append("\r\n");
    bool send_body = !r.head_ && !no_body_status && !body.empty();
    if (send_body && body.size() >= kLargeBody) {
      std::string_view parts[2] = {out, body};
      if (transport_) transport_->writelines(parts);
      out.clear();
    } else if (send_body) {
      out.append(body);
    }
    r.state_ = Response::State::kSent;
    if (r.close_after_) closing_ = true;
    if (!batching_) flush();
  }

  void write_raw(std::string_view bytes) {
    if (closing_ && !in_handler_) return;
    out_.append(bytes);
    response_.state_ = Response::State::kSent;
    if (!batching_) flush();
  }

  void reset() {
    response_.state_ = Response::State::kSent;
    if (lost_ || !transport_) return;
    flush();
    std::any fd = transport_->get_extra_info("socket");
    if (const int* socket = std::any_cast<int>(&fd)) {
      ::linger reset_on_close{1, 0};
      ::setsockopt(*socket, SOL_SOCKET, SO_LINGER, &reset_on_close, sizeof reset_on_close);
    }
    closing_ = true;
    transport_->abort();
  }

  DeferredResponse defer() {
    response_.state_ = Response::State::kDeferred;
    return DeferredResponse(shared_from_this());
  }

  // A deferred response was sent (or reset): carry on with buffered requests.
  void deferred_done() {
    if (phase_ != Phase::kDeferred) return;
    phase_ = Phase::kIdle;
    if (lost_) return;
    if (close_when_answered_) closing_ = true;
    now_ = loop_->time();
    if (!closing_ && !buffer_.empty()) {
      batching_ = true;
      consume_buffer();
      batching_ = false;
    }
    flush();
    after_batch();
    if (!closing_ && phase_ != Phase::kDeferred) transport_->resume_reading();
  }

  // A DeferredResponse went away unsent: nobody will answer, so close.
  void abandon_deferred() {
    if (lost_) return;
    closing_ = true;
    response_.state_ = Response::State::kSent;
    if (in_handler_) return;  // dispatch() sees closing_ and after_batch() closes
    phase_ = Phase::kIdle;
    timer_.cancel();
    if (transport_) transport_->close();
  }

  bool connected() const { return !lost_ && !closing_; }
  Response& response() { return response_; }

 private:
  enum class Phase { kIdle, kReading, kDeferred };

  void consume_buffer() {
    std::size_t used = process(buffer_);
    if (closing_) {
      buffer_.clear();
    } else {
      buffer_.erase(0, used);
    }
  }

  // Handles every complete request at the start of `data`; returns how many
  // bytes they took.
  std::size_t process(std::string_view data) {
    std::size_t pos = 0;
    while (!closing_ && phase_ != Phase::kDeferred && pos < data.size()) {
      if (phase_ == Phase::kIdle) {
        phase_ = Phase::kReading;
        request_deadline_ = now_ + options_.request_timeout;
      }
      std::string_view rest = data.substr(pos);
      std::size_t head_end = find_head_end(rest);
      if (head_end == std::string_view::npos) {
        if (rest.size() > options_.max_header_bytes) fail(431);
        else if (!plausible_start(rest)) fail(400);
        break;
      }
      if (head_end > options_.max_header_bytes) {
        fail(431);
        break;
      }
      std::uint64_t content_length = 0;
      int error = parse_head(rest.substr(0, head_end), content_length);
      if (error != 0) {
        fail(error);
        break;
      }
      if (content_length > options_.max_body_bytes) {
        fail(413);
        break;
      }
      if (rest.size() - head_end < content_length) break;  // the body is still coming
      request_.body_ = rest.substr(head_end, content_length);
      pos += head_end + content_length;
      dispatch();
      if (phase_ != Phase::kDeferred) phase_ = Phase::kIdle;
    }
    return pos;
  }

  // Whether an incomplete head can still become a request: catches garbage
  // early instead of waiting for 8 KiB of it or the timeout.
  static bool plausible_start(std::string_view rest) {
    for (char c : rest.substr(0, 32)) {
      if (c == ' ') return true;
      if (!is_token_char(c)) return false;
    }
    return true;
  }

  // Fills request_ from a complete head; returns 0 or the status to fail with.
  int parse_head(std::string_view head, std::uint64_t& content_length) {
    Request& r = request_;
    std::size_t line_end = head.find("\r\n");
    std::string_view line = head.substr(0, line_end);
    head.remove_prefix(line_end + 2);
    head.remove_suffix(2);  // the empty line's CRLF
    std::size_t sp1 = line.find(' ');
    if (sp1 == 0 || sp1 == std::string_view::npos) return 400;
    r.method_ = line.substr(0, sp1);
    for (char c : r.method_) {
      if (!is_token_char(c)) return 400;
    }
    std::size_t sp2 = line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos || sp2 == sp1 + 1) return 400;
    r.target_ = line.substr(sp1 + 1, sp2 - sp1 - 1);
    for (char c : r.target_) {
      if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) return 400;
    }
    std::string_view version = line.substr(sp2 + 1);
    if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[6] != '.' ||
        version[5] < '0' || version[5] > '9' || version[7] < '0' || version[7] > '9') {
      return 400;
    }
    if (version[5] != '1' || (version[7] != '0' && version[7] != '1')) return 505;
    r.minor_version_ = version[7] - '0';
    request_minor_version_ = r.minor_version_;
    bool keep_alive = r.minor_version_ == 1;
    bool has_length = false;
    r.header_count_ = 0;
    while (!head.empty()) {
      line_end = head.find("\r\n");
      line = head.substr(0, line_end);
      head.remove_prefix(line_end == std::string_view::npos ? head.size() : line_end + 2);
      if (r.header_count_ == Request::kMaxHeaders) return 431;
      std::size_t colon = line.find(':');
      if (colon == 0 || colon == std::string_view::npos) return 400;
      std::string_view name = line.substr(0, colon);
      for (char c : name) {
        if (!is_token_char(c)) return 400;  // also rejects obsolete line folding
      }
      std::string_view value = trim(line.substr(colon + 1));
      for (char c : value) {
        if ((static_cast<unsigned char>(c) < ' ' && c != '\t') || c == 0x7f) return 400;
      }
      r.headers_[r.header_count_++] = Header{name, value};
      if (name.size() == 14 && equals_ignore_case(name, "content-length")) {
        std::uint64_t length = 0;
        if (!parse_content_length(value, length)) return 400;
        if (has_length && length != content_length) return 400;
        has_length = true;
        content_length = length;
      } else if (name.size() == 10 && equals_ignore_case(name, "connection")) {
        if (has_token(value, "close")) keep_alive = false;
        else if (has_token(value, "keep-alive")) keep_alive = true;
      } else if (name.size() == 17 && equals_ignore_case(name, "transfer-encoding")) {
        return 501;
      }
    }
    r.keep_alive_ = keep_alive;
    return 0;
  }

  void dispatch() {
    Response& r = response_;
    r.state_ = Response::State::kPending;
    r.close_after_ = !request_.keep_alive_;
    r.head_ = request_.is_head();
    r.extra_headers_.clear();
    shared_->stats->requests.fetch_add(1, std::memory_order_relaxed);
    in_handler_ = true;
    try {
      shared_->handler(request_, r);
    } catch (...) {
      if (r.state_ == Response::State::kPending) {
        r.close_after_ = true;
        r.extra_headers_.clear();
        write_response(500, "internal server error\n", "text/plain");
      }
    }
    in_handler_ = false;
    if (r.state_ == Response::State::kPending) {
      write_response(500, "the handler sent no response\n", "text/plain");
    } else if (r.state_ == Response::State::kDeferred) {
      phase_ = Phase::kDeferred;
      if (transport_ && !closing_) transport_->pause_reading();
    }
  }

  // Answers a request the server rejects itself, and closes.
  void fail(int status) {
    shared_->stats->bad_requests.fetch_add(1, std::memory_order_relaxed);
    Response& r = response_;
    r.close_after_ = true;
    r.head_ = false;
    r.extra_headers_.clear();
    std::string body(reason_phrase(status));
    body.push_back('\n');
    write_response(status, body, "text/plain");
  }

  void flush() {
    if (out_.empty()) return;
    if (transport_) transport_->write(out_);
    out_.clear();
  }

  void after_batch() {
    if (lost_) return;
    if (closing_) {
      timer_.cancel();
      if (transport_) transport_->close();
      return;
    }
    if (phase_ == Phase::kReading) {
      deadline_ = request_deadline_;
    } else if (phase_ == Phase::kIdle) {
      deadline_ = now_ + options_.idle_timeout;
    } else {
      return;  // deferred: the handler owns the time now
    }
    if (!timer_armed_ || timer_when_ > deadline_) arm_timer(deadline_);
  }

  void arm_timer(TimePoint when) {
    timer_.cancel();
    deadline_ = when;
    timer_when_ = when;
    timer_armed_ = true;
    timer_ = loop_->call_at(when, [this] { on_timer(); });
  }

  void on_timer() {
    timer_armed_ = false;
    if (lost_ || closing_) return;
    if (phase_ == Phase::kDeferred) return;  // re-armed when the response goes out
    TimePoint now = loop_->time();
    if (now < deadline_) {
      arm_timer(deadline_);
      return;
    }
    shared_->stats->timeouts.fetch_add(1, std::memory_order_relaxed);
    if (phase_ == Phase::kReading) {
      shared_->stats->bad_requests.fetch_add(1, std::memory_order_relaxed);
      Response& r = response_;
      r.close_after_ = true;
      r.head_ = false;
      r.extra_headers_.clear();
      write_response(408, "Request Timeout\n", "text/plain");
      flush();
    }
    closing_ = true;
    buffer_.clear();
    if (transport_) transport_->close();
  }

  std::shared_ptr<ServerShared> shared_;
  const ServerOptions& options_;
  std::shared_ptr<Transport> transport_;
  EventLoop* loop_ = nullptr;
  std::string buffer_;
  std::string out_;
  Request request_;
  Response response_;
  Phase phase_ = Phase::kIdle;
  int request_minor_version_ = 1;
  bool closing_ = false;
  bool lost_ = false;
  bool batching_ = false;
  bool in_handler_ = false;
  bool close_when_answered_ = false;
  TimePoint now_{};
  TimePoint request_deadline_{};
  TimePoint deadline_{};
  TimePoint timer_when_{};
  bool timer_armed_ = false;
  TimerHandle timer_;
};

}  // namespace internal

// --- Response -------------------------------------------------------------------

void Response::add_header(std::string_view name, std::string_view value) {
  if (state_ == State::kSent) throw std::logic_error("aio::http::Response::add_header after send()");
  extra_headers_.append(name);
  extra_headers_.append(": ");
  extra_headers_.append(value);
  extra_headers_.append("\r\n");
}

void Response::send(int status, std::string_view body, std::string_view content_type) {
  if (state_ != State::kPending) throw std::logic_error("aio::http::Response::send: the response was already sent or deferred");
  if (status < 100 || status > 999) throw std::invalid_argument("aio::http::Response::send: status must be 100..999");
  connection_->write_response(status, body, content_type);
}

DeferredResponse Response::defer() {
  if (state_ != State::kPending) throw std::logic_error("aio::http::Response::defer: the response was already sent or deferred");
  return connection_->defer();
}

void Response::reset_connection() { connection_->reset(); }

void Response::send_raw(std::string_view bytes) { connection_->write_raw(bytes); }

// --- DeferredResponse ---------------------------------------------------------------

DeferredResponse& DeferredResponse::operator=(DeferredResponse&& other) noexcept {
  if (this != &other) {
    if (connection_) connection_->abandon_deferred();
    connection_ = std::move(other.connection_);
  }
  return *this;
}

DeferredResponse::~DeferredResponse() {
  if (connection_) connection_->abandon_deferred();
}

void DeferredResponse::add_header(std::string_view name, std::string_view value) {
  if (!connection_) throw std::logic_error("aio::http::DeferredResponse::add_header: nothing pending");
  connection_->response().add_header(name, value);
}

void DeferredResponse::send(int status, std::string_view body, std::string_view content_type) {
  if (!connection_) throw std::logic_error("aio::http::DeferredResponse::send: nothing pending");
  if (status < 100 || status > 999) throw std::invalid_argument("aio::http::DeferredResponse::send: status must be 100..999");
  std::shared_ptr<internal::HttpConnection> connection = std::move(connection_);
  connection->write_response(status, body, content_type);
  connection->deferred_done();
}

void DeferredResponse::reset_connection() {
  if (!connection_) throw std::logic_error("aio::http::DeferredResponse::reset_connection: nothing pending");
  std::shared_ptr<internal::HttpConnection> connection = std::move(connection_);
  connection->reset();
  connection->deferred_done();
}

void DeferredResponse::send_raw(std::string_view bytes) {
  if (!connection_) throw std::logic_error("aio::http::DeferredResponse::send_raw: nothing pending");
  std::shared_ptr<internal::HttpConnection> connection = std::move(connection_);
  connection->write_raw(bytes);
  connection->deferred_done();
}

bool DeferredResponse::connected() const { return connection_ && connection_->connected(); }

// --- HttpServer ---------------------------------------------------------------------

HttpServer::HttpServer(aio::Server server, std::shared_ptr<ServerStats> stats, std::uint16_t port)
    : server_(std::move(server)), stats_(std::move(stats)), port_(port) {}

HttpServer::~HttpServer() = default;

Coro<HttpServer> HttpServer::start(Handler handler, std::string host, std::uint16_t port, ServerOptions options) {
  if (!handler) throw std::invalid_argument("aio::http::HttpServer::start: the handler is empty");
  auto shared = std::make_shared<internal::ServerShared>();
  shared->handler = std::move(handler);
  shared->options = std::move(options);
  if (!shared->options.server_name.empty()) {
    shared->fixed_headers = "Server: " + shared->options.server_name + "\r\n";
  }
  shared->stats = std::make_shared<ServerStats>();
  ServeOptions serve;
  serve.backlog = shared->options.backlog;
  serve.reuse_port = shared->options.reuse_port;
  ProtocolFactory factory = [shared] { return std::make_shared<internal::HttpConnection>(shared); };
  aio::Server server = co_await create_server(std::move(factory), std::move(host), port, serve);
  std::vector<SocketAddress> sockets = server.sockets();
  std::uint16_t bound = sockets.empty() ? port : sockets[0].port();
  co_return HttpServer(std::move(server), shared->stats, bound);
}

Coro<void> HttpServer::serve_forever() { return server_.serve_forever(); }
void HttpServer::close() { server_.close(); }
void HttpServer::close_clients() { server_.close_clients(); }
Coro<void> HttpServer::wait_closed() { return server_.wait_closed(); }

}  // namespace aio::http
