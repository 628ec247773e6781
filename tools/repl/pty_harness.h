// A test harness for terminal programs: runs one in a pseudo-terminal
// (forkpty), sends it keys, and keeps a model of the screen it draws, so a
// test can check what a user would see (the typed line intact below output
// printed while typing, the cursor where it belongs).
//
//   repl::testing::PtyProcess p({"tools/repl/repl"}, options);
//   ASSERT_TRUE(p.wait_for_text(">>> "));
//   p.send("1 + 1\r");
//   ASSERT_TRUE(p.wait_for_text("2\n"));
//
// Waits are bounded by a deadline and return false when it passes (never a
// fixed sleep: they return as soon as the output shows what they wait for).
// The destructor kills and reaps a child still running. Single-threaded.
#ifndef AIO_TOOLS_REPL_PTY_HARNESS_H_
#define AIO_TOOLS_REPL_PTY_HARNESS_H_

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace repl::testing {

// The screen of a VT100-like terminal, enough of it for line editors: text
// with line wrap (the pending-wrap rule of xterm), \r \n \b \t, CSI cursor
// moves (A B C D G H f), erases (J K) and scrolling into a scrollback; SGR
// and mode sequences are accepted and ignored. One cell per code point.
class Screen {
 public:
  Screen(int rows, int columns);
  void feed(std::string_view bytes);
  // Row `row` of the screen (0 = top), trailing blanks removed.
  std::string line(int row) const;
  // The scrollback and the screen, one line each, trailing blank lines removed.
  std::vector<std::string> lines() const;
  std::string text() const;  // lines() joined with '\n'
  int cursor_row() const { return row_; }
  int cursor_column() const { return std::min(column_, columns_ - 1); }
  int rows() const { return rows_; }
  int columns() const { return columns_; }

 private:
  void put(std::string cell);
  void newline();
  void csi(const std::string& params, char final);
  std::string row_text(const std::vector<std::string>& row) const;

  int rows_, columns_;
  std::vector<std::vector<std::string>> cells_;
  std::vector<std::vector<std::string>> scrollback_;
  int row_ = 0, column_ = 0;  // column_ == columns_: the pending wrap
  std::string pending_;       // an incomplete escape or UTF-8 sequence
};

class PtyProcess {
 public:
  struct Options {
    Options() {}
    int rows = 24;
    int columns = 80;
    // Set in the child's environment (after the parent's); an empty value unsets.
    std::vector<std::pair<std::string, std::string>> env;
  };
  // Starts argv[0] (a path) on a new pseudo-terminal. Throws std::runtime_error.
  PtyProcess(const std::vector<std::string>& argv, const Options& options = Options());
  ~PtyProcess();
  PtyProcess(const PtyProcess&) = delete;
  PtyProcess& operator=(const PtyProcess&) = delete;

  void send(std::string_view keys);
  // Reads output until `done()` holds; false if `deadline` passes first or the
  // child exits without it holding.
  bool wait_for(const std::function<bool()>& done, std::chrono::milliseconds deadline = std::chrono::seconds(30));
  // Waits until `text` is in the screen's text (scrollback included).
  bool wait_for_text(const std::string& text, std::chrono::milliseconds deadline = std::chrono::seconds(30));
  // Waits until `text` appears in the output after byte offset `from` of raw().
  bool wait_for_raw(const std::string& text, std::size_t from = 0,
                    std::chrono::milliseconds deadline = std::chrono::seconds(30));
  // Waits for the child to exit; its exit status (128+N for signal N).
  std::optional<int> wait_exit(std::chrono::milliseconds deadline = std::chrono::seconds(30));

  const Screen& screen() const { return screen_; }
  const std::string& raw() const { return raw_; }
  pid_t pid() const { return pid_; }
  void signal(int sig);

 private:
  // Reads what is there, waiting up to `wait` for the first byte. False at EOF.
  bool pump(std::chrono::milliseconds wait);

  pid_t pid_ = -1;
  int master_ = -1;
  bool exited_ = false;
  bool closed_ = false;  // the master read EOF/EIO
  int status_ = 0;
  Screen screen_;
  std::string raw_;
};

}  // namespace repl::testing

#endif  // AIO_TOOLS_REPL_PTY_HARNESS_H_
