// The console's line editor, its pure parts: no terminal, no threads, no
// interpreter, so every piece is unit-tested on strings
// (tools/repl/line_editor_test.cc).
//
//   KeyDecoder   terminal bytes -> keys (escape sequences, Alt-x, bracketed paste)
//   LineEditor   the buffer (UTF-8, possibly several lines: a block edited as a
//                unit), cursor, kill ring, history navigation, Ctrl-R search;
//                handle(key) says what the console must do next
//   History      entries, ~/.aio_repl_history's format (one entry a line)
//   render()     the prompt area as one string of escape sequences
//   is_complete_input(), highlight_python(), colour_traceback(), completion
//   helpers: the rules of Python 3.13's REPL that need no interpreter.
//
// The terminal side (raw mode, the console thread, output above the prompt) is
// tools/repl/console.h. Everything here is plain value types; not thread-safe,
// used by the console thread only.
#ifndef AIO_TOOLS_REPL_LINE_EDITOR_H_
#define AIO_TOOLS_REPL_LINE_EDITOR_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace repl::editor {

// ---- UTF-8 and display widths ----
// The byte offset of the code point after/before `pos` (clamped to the text).
std::size_t next_char(std::string_view text, std::size_t pos);
std::size_t prev_char(std::string_view text, std::size_t pos);
// Terminal columns of a code point: 0 for combining marks, 2 for East Asian
// wide and emoji, 1 otherwise (control characters count 2, shown as ^X).
int char_width(char32_t cp);
// Columns of a UTF-8 string; ANSI escape sequences (CSI ... letter) count 0.
int display_width(std::string_view text);

// ---- keys ----
enum class KeyKind {
  kText,       // printable text (one code point, or several after a decode)
  kPaste,      // a bracketed paste: text is what was pasted (\r turned into \n)
  kEnter,
  kTab,
  kBackspace,
  kDelete,     // Delete key, and Ctrl-D on a non-empty line
  kLeft, kRight, kUp, kDown,
  kHome, kEnd,
  kWordLeft, kWordRight,   // Alt-b / Alt-f / Ctrl-Left / Ctrl-Right
  kKillWordLeft,           // Ctrl-W, Alt-Backspace
  kKillWordRight,          // Alt-d
  kCtrl,                   // any other control key: text is its letter ("a" for Ctrl-A)
  kUnknown,                // an escape sequence aio does not bind
};
struct Key {
  KeyKind kind = KeyKind::kUnknown;
  std::string text;
  friend bool operator==(const Key& a, const Key& b) { return a.kind == b.kind && a.text == b.text; }
};

// Turns the bytes read from the terminal into keys. An escape sequence or a
// UTF-8 character split across reads waits for its end; so does a paste.
class KeyDecoder {
 public:
  void feed(std::string_view bytes) { pending_.append(bytes); }
  // The next complete key, if any.
  std::optional<Key> next();

 private:
  std::string pending_;
  bool in_paste_ = false;
  std::string paste_;
};

// ---- history ----
// Entries oldest first; consecutive duplicates and blank entries are not kept,
// and only the newest `limit` are. The file holds one entry a line, with "\\"
// and newlines escaped as "\\\\" and "\\n" (a block is one entry).
class History {
 public:
  explicit History(std::size_t limit = 1000) : limit_(limit) {}
  void add(const std::string& entry);
  const std::vector<std::string>& entries() const { return entries_; }
  // Reads `path` (missing file: empty history). Returns false on another error.
  bool load(const std::string& path);
  // Writes the entries to `path` (mode 0600). Returns false on error.
  bool save(const std::string& path) const;
  static std::string encode(const std::string& entry);
  static std::string decode(const std::string& line);

 private:
  std::size_t limit_;
  std::vector<std::string> entries_;
};

// ---- Python 3.13's rules for when input is complete ----
// True when `text` runs as it stands on Enter: no bracket or triple-quoted
// string left open, no trailing backslash, and, if it started a block (a line
// ending in ':' or a decorator), an empty last line.
bool is_complete_input(const std::string& text);

// ---- colour (SGR sequences; the caller decides whether colour is on) ----
// One line of Python source with keywords, builtins, strings, numbers and
// comments coloured as Python 3.14's REPL does. Width is unchanged.
std::string highlight_python(std::string_view line);
// Output lines, coloured where they belong to a traceback (the File lines and
// the final "Type: message" line). `in_traceback` carries the state from one
// chunk of complete lines to the next.
std::string colour_traceback(std::string_view lines, bool* in_traceback);

// ---- completion ----
// The word before `cursor` that Tab completes: identifier characters and dots
// ("asyncio.sl" in "x = asyncio.sl").
std::string completion_word(const std::string& text, std::size_t cursor);
// The candidates starting with `word` (sorted, unique).
std::vector<std::string> filter_completions(const std::vector<std::string>& names, const std::string& word);
std::string common_prefix(const std::vector<std::string>& words);
// Python's keywords, for completion and colouring.
const std::vector<std::string>& python_keywords();

// ---- rendering ----
struct RenderOptions {
  RenderOptions() {}
  int columns = 80;
  bool colour = false;
  std::string prompt = ">>> ";
  std::string continuation = "... ";
  // Reverse search: shown instead of the prompt ("(reverse-i-search)`q': ").
  std::optional<std::string> search_query;
  bool search_failed = false;
};
struct Rendered {
  std::string output;  // what to write: starts by clearing to the end of the screen
  int cursor_row = 0;  // rows from the area's first row to where the cursor ends
  int rows = 1;        // rows the area occupies
};
// Draws `text` (lines joined by '\n') with the prompts, the cursor at byte
// offset `cursor`. Assumes the terminal cursor is at column 0 of the area's
// first row.
Rendered render(const std::string& text, std::size_t cursor, const RenderOptions& options);

// ---- the editor ----
class LineEditor {
 public:
  enum class Action {
    kNone,         // nothing to show
    kRedraw,       // the buffer or cursor changed
    kSubmit,       // take_submitted() is an input to run
    kEof,          // Ctrl-D on an empty buffer
    kInterrupt,    // Ctrl-C: the console clears the line
    kClearScreen,  // Ctrl-L
    kComplete,     // Tab: the console asks for completion_word()'s candidates
    kBell,         // nothing to do (history end, no match)
  };

  explicit LineEditor(History* history) : history_(history) {}

  Action handle(const Key& key);
  const std::string& text() const { return text_; }
  std::size_t cursor() const { return cursor_; }
  void set_text(std::string text, std::size_t cursor);
  // Empties the buffer for a new prompt (history position reset).
  void clear();
  std::string take_submitted();

  // Applies completion candidates for the word before the cursor: a single
  // one is inserted, several insert their common prefix. Returns the
  // candidates to list when the insertion made no progress (else empty).
  std::vector<std::string> apply_completion(const std::vector<std::string>& candidates);

  bool searching() const { return search_.has_value(); }
  const std::string& search_query() const { return search_->query; }
  bool search_failed() const { return search_ && search_->failed; }
  // Text and cursor to display (the search match while searching).
  const std::string& shown_text() const { return searching() ? search_->match : text_; }
  std::size_t shown_cursor() const { return searching() ? search_->match_cursor : cursor_; }

 private:
  struct Search {
    std::string query;
    std::string saved_text;
    std::size_t saved_cursor = 0;
    std::string match;
    std::size_t match_cursor = 0;
    std::size_t next_index = 0;  // history entries below this are searched
    bool failed = false;
  };
  Action handle_search(const Key& key);
  void search_from(std::size_t index);
  void insert(const std::string& s);
  void kill(std::size_t from, std::size_t to);
  std::size_t line_start(std::size_t pos) const;
  std::size_t line_end(std::size_t pos) const;
  std::size_t word_left(std::size_t pos) const;
  std::size_t word_right(std::size_t pos) const;
  Action history_move(int delta);

  History* history_;
  std::string text_;
  std::size_t cursor_ = 0;
  std::string kill_buffer_;
  std::string submitted_;
  // History navigation: index into entries (== size: the draft being typed).
  std::size_t history_index_ = 0;
  bool navigating_ = false;
  std::string draft_;
  std::optional<Search> search_;
};

}  // namespace repl::editor

#endif  // AIO_TOOLS_REPL_LINE_EDITOR_H_
