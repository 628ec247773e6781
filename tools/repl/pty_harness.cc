// The pty harness: forkpty for the child, poll on the master for bounded
// waits, and a screen model fed with every byte the child writes.
#include "tools/repl/pty_harness.h"

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace repl::testing {

// ---- Screen ----

Screen::Screen(int rows, int columns)
    : rows_(rows), columns_(columns), cells_(rows, std::vector<std::string>(columns, " ")) {}

void Screen::newline() {
  if (row_ + 1 < rows_) {
    ++row_;
    return;
  }
  scrollback_.push_back(cells_.front());
  cells_.erase(cells_.begin());
  cells_.emplace_back(columns_, " ");
}

void Screen::put(std::string cell) {
  if (column_ >= columns_) {
    column_ = 0;
    newline();
  }
  cells_[row_][column_] = std::move(cell);
  ++column_;
}

void Screen::csi(const std::string& params, char final) {
  if (!params.empty() && (params[0] == '?' || params[0] == '>')) return;  // modes
  std::vector<int> n;
  std::size_t start = 0;
  while (start <= params.size()) {
    std::size_t end = params.find(';', start);
    std::string p = params.substr(start, end == std::string::npos ? std::string::npos : end - start);
    n.push_back(p.empty() ? -1 : std::atoi(p.c_str()));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  auto arg = [&n](std::size_t i, int def) { return i < n.size() && n[i] >= 0 ? n[i] : def; };
  int col = std::min(column_, columns_ - 1);
  switch (final) {
    case 'A': row_ = std::max(0, row_ - std::max(1, arg(0, 1))); column_ = col; break;
    case 'B': row_ = std::min(rows_ - 1, row_ + std::max(1, arg(0, 1))); column_ = col; break;
    case 'C': column_ = std::min(columns_ - 1, col + std::max(1, arg(0, 1))); break;
    case 'D': column_ = std::max(0, col - std::max(1, arg(0, 1))); break;
    case 'G': column_ = std::clamp(arg(0, 1) - 1, 0, columns_ - 1); break;
    case 'H':
    case 'f':
      row_ = std::clamp(arg(0, 1) - 1, 0, rows_ - 1);
      column_ = std::clamp(arg(1, 1) - 1, 0, columns_ - 1);
      break;
    case 'J': {
      int mode = arg(0, 0);
      if (mode == 0) {
        for (int c = col; c < columns_; ++c) cells_[row_][c] = " ";
        for (int r = row_ + 1; r < rows_; ++r) std::fill(cells_[r].begin(), cells_[r].end(), " ");
      } else if (mode == 2 || mode == 3) {
        for (auto& r : cells_) std::fill(r.begin(), r.end(), " ");
      }
      break;
    }
    case 'K': {
      int mode = arg(0, 0);
      int from = mode == 0 ? col : 0;
      int to = mode == 1 ? col + 1 : columns_;
      for (int c = from; c < to; ++c) cells_[row_][c] = " ";
      break;
    }
    default:
      break;  // SGR (m) and the rest: no effect on the text
  }
}

void Screen::feed(std::string_view bytes) {
  std::string data = pending_ + std::string(bytes);
  pending_.clear();
  std::size_t i = 0;
  while (i < data.size()) {
    auto c = static_cast<unsigned char>(data[i]);
    if (c == 0x1b) {
      if (i + 1 >= data.size()) { pending_ = data.substr(i); return; }
      if (data[i + 1] == '[') {
        std::size_t j = i + 2;
        while (j < data.size() && !(data[j] >= 0x40 && data[j] <= 0x7e)) ++j;
        if (j >= data.size()) { pending_ = data.substr(i); return; }
        csi(data.substr(i + 2, j - i - 2), data[j]);
        i = j + 1;
      } else {
        i += 2;
      }
      continue;
    }
    if (c == '\r') { column_ = 0; ++i; continue; }
    if (c == '\n') { newline(); ++i; continue; }
    if (c == '\b') { column_ = std::max(0, std::min(column_, columns_ - 1) - 1); ++i; continue; }
    if (c == '\t') {
      int target = std::min(columns_ - 1, (std::min(column_, columns_ - 1) / 8 + 1) * 8);
      column_ = target;
      ++i;
      continue;
    }
    if (c < 0x20 || c == 0x7f) { ++i; continue; }
    std::size_t n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1;
    if (i + n > data.size()) { pending_ = data.substr(i); return; }
    put(data.substr(i, n));
    i += n;
  }
}

std::string Screen::row_text(const std::vector<std::string>& row) const {
  std::string out;
  for (const auto& cell : row) out += cell;
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

std::string Screen::line(int row) const { return row_text(cells_.at(row)); }

std::vector<std::string> Screen::lines() const {
  std::vector<std::string> out;
  for (const auto& r : scrollback_) out.push_back(row_text(r));
  for (const auto& r : cells_) out.push_back(row_text(r));
  while (!out.empty() && out.back().empty()) out.pop_back();
  return out;
}

std::string Screen::text() const {
  std::string out;
  for (const auto& l : lines()) out += l + "\n";
  return out;
}

// ---- PtyProcess ----

PtyProcess::PtyProcess(const std::vector<std::string>& argv, const Options& options)
    : screen_(options.rows, options.columns) {
  if (argv.empty()) throw std::runtime_error("PtyProcess: no program");
  struct winsize ws;
  std::memset(&ws, 0, sizeof ws);
  ws.ws_row = static_cast<unsigned short>(options.rows);
  ws.ws_col = static_cast<unsigned short>(options.columns);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_ = ::forkpty(&master_, nullptr, nullptr, &ws);
  if (pid_ < 0) throw std::runtime_error(std::string("forkpty: ") + std::strerror(errno));
  if (pid_ == 0) {
    for (const auto& [name, value] : options.env) {
      if (value.empty()) ::unsetenv(name.c_str());
      else ::setenv(name.c_str(), value.c_str(), 1);
    }
    ::execv(args[0], args.data());
    std::fprintf(stderr, "exec %s: %s\n", args[0], std::strerror(errno));
    ::_exit(127);
  }
  ::fcntl(master_, F_SETFL, O_NONBLOCK);
  ::fcntl(master_, F_SETFD, FD_CLOEXEC);
}

PtyProcess::~PtyProcess() {
  if (!exited_ && pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  if (master_ >= 0) ::close(master_);
}

void PtyProcess::send(std::string_view keys) {
  while (!keys.empty()) {
    ssize_t n = ::write(master_, keys.data(), keys.size());
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
      struct pollfd p = {master_, POLLOUT, 0};
      ::poll(&p, 1, 1000);
      continue;
    }
    if (n <= 0) throw std::runtime_error(std::string("PtyProcess::send: ") + std::strerror(errno));
    keys.remove_prefix(static_cast<std::size_t>(n));
  }
}

void PtyProcess::signal(int sig) { ::kill(pid_, sig); }

bool PtyProcess::pump(std::chrono::milliseconds wait) {
  struct pollfd p = {master_, POLLIN, 0};
  int ready = ::poll(&p, 1, static_cast<int>(wait.count()));
  if (ready <= 0) return true;
  char buf[8192];
  while (true) {
    ssize_t n = ::read(master_, buf, sizeof buf);
    if (n > 0) {
      raw_.append(buf, static_cast<std::size_t>(n));
      screen_.feed(std::string_view(buf, static_cast<std::size_t>(n)));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return true;
    return false;  // EIO: the child closed the terminal
  }
}

bool PtyProcess::wait_for(const std::function<bool()>& done, std::chrono::milliseconds deadline) {
  auto until = std::chrono::steady_clock::now() + deadline;
  while (true) {
    if (done()) return true;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    if (!pump(std::min(left, std::chrono::milliseconds(1000)))) return done();
  }
}

bool PtyProcess::wait_for_text(const std::string& text, std::chrono::milliseconds deadline) {
  return wait_for([&] { return screen_.text().find(text) != std::string::npos; }, deadline);
}

bool PtyProcess::wait_for_raw(const std::string& text, std::size_t from, std::chrono::milliseconds deadline) {
  return wait_for([&] { return raw_.find(text, std::min(from, raw_.size())) != std::string::npos; }, deadline);
}

std::optional<int> PtyProcess::wait_exit(std::chrono::milliseconds deadline) {
  auto until = std::chrono::steady_clock::now() + deadline;
  while (!exited_) {
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      exited_ = true;
      status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      break;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    // Keep reading, so the child never blocks writing to a full terminal;
    // once the terminal is closed, poll the exit in short steps.
    if (closed_ || !pump(std::min(left, std::chrono::milliseconds(50)))) {
      closed_ = true;
      ::poll(nullptr, 0, 20);
    }
  }
  if (!closed_) pump(std::chrono::milliseconds(0));
  return status_;
}

}  // namespace repl::testing
