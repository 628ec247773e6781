// The line editor's pure parts. Design: the editor is a value (a buffer and a
// cursor) changed by keys; every drawing is a full redraw of the prompt area
// into one string, so the console can erase the area, print output above it
// and draw it again without the editor knowing (the point of issue #14's item
// 3). Nothing here reads or writes a file descriptor except History's file.
#include "tools/repl/line_editor.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

namespace repl::editor {

namespace {

bool is_continuation(unsigned char c) { return (c & 0xC0) == 0x80; }

int utf8_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead & 0xE0) == 0xC0) return 2;
  if ((lead & 0xF0) == 0xE0) return 3;
  if ((lead & 0xF8) == 0xF0) return 4;
  return 0;  // invalid lead byte
}

char32_t decode_at(std::string_view s, std::size_t pos, std::size_t* length) {
  auto lead = static_cast<unsigned char>(s[pos]);
  int n = utf8_length(lead);
  if (n == 0 || pos + n > s.size()) {
    *length = 1;
    return 0xFFFD;
  }
  char32_t cp = n == 1 ? lead : lead & (0xFF >> (n + 1));
  for (int k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[pos + k]) & 0x3F);
  *length = n;
  return cp;
}

bool is_word_byte(unsigned char c) { return c >= 0x80 || c == '_' || std::isalnum(c); }

// What a line looks like on screen: tabs as four spaces, control characters
// as ^X, so that widths computed from it are what the terminal shows.
std::string display_form(std::string_view line) {
  std::string out;
  for (char c : line) {
    auto u = static_cast<unsigned char>(c);
    if (c == '\t') out += "    ";
    else if (u < 0x20 || u == 0x7f) { out += '^'; out += static_cast<char>(u == 0x7f ? '?' : u + '@'); }
    else out += c;
  }
  return out;
}

const char* kReset = "\x1b[0m";
const char* kKeywordColour = "\x1b[1;34m";
const char* kBuiltinColour = "\x1b[36m";
const char* kStringColour = "\x1b[32m";
const char* kNumberColour = "\x1b[33m";
const char* kCommentColour = "\x1b[31m";
const char* kDefinitionColour = "\x1b[1;33m";
const char* kPromptColour = "\x1b[1;35m";
const char* kTracebackName = "\x1b[35m";
const char* kTracebackType = "\x1b[1;35m";

const std::set<std::string>& builtin_names() {
  static const std::set<std::string> names = {
      "abs", "all", "any", "bool", "bytes", "callable", "chr", "dict", "divmod", "enumerate", "exit", "filter",
      "float", "format", "frozenset", "getattr", "hasattr", "hash", "help", "hex", "id", "input", "int",
      "isinstance", "issubclass", "iter", "len", "list", "map", "max", "min", "next", "object", "open", "ord",
      "pow", "print", "quit", "range", "repr", "reversed", "round", "set", "setattr", "slice", "sorted", "str",
      "sum", "super", "tuple", "type", "vars", "zip"};
  return names;
}

bool is_string_prefix(const std::string& word) {
  std::string w;
  for (char c : word) w += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return w == "r" || w == "b" || w == "f" || w == "rb" || w == "br" || w == "fr" || w == "rf" || w == "u";
}

}  // namespace

// ---- UTF-8 ----

std::size_t next_char(std::string_view text, std::size_t pos) {
  if (pos >= text.size()) return text.size();
  ++pos;
  while (pos < text.size() && is_continuation(static_cast<unsigned char>(text[pos]))) ++pos;
  return pos;
}

std::size_t prev_char(std::string_view text, std::size_t pos) {
  if (pos == 0) return 0;
  if (pos > text.size()) pos = text.size();
  --pos;
  while (pos > 0 && is_continuation(static_cast<unsigned char>(text[pos]))) --pos;
  return pos;
}

int char_width(char32_t cp) {
  if (cp < 0x20 || cp == 0x7f) return 2;
  if ((cp >= 0x0300 && cp <= 0x036F) || (cp >= 0x200B && cp <= 0x200F) || (cp >= 0xFE00 && cp <= 0xFE0F) ||
      (cp >= 0x20D0 && cp <= 0x20FF)) {
    return 0;
  }
  if ((cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0x303E) || (cp >= 0x3041 && cp <= 0x33FF) ||
      (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0xA000 && cp <= 0xA4CF) ||
      (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0xFE30 && cp <= 0xFE4F) ||
      (cp >= 0xFF00 && cp <= 0xFF60) || (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x1F300 && cp <= 0x1F64F) ||
      (cp >= 0x1F900 && cp <= 0x1F9FF) || (cp >= 0x20000 && cp <= 0x3FFFD)) {
    return 2;
  }
  return 1;
}

int display_width(std::string_view text) {
  int width = 0;
  for (std::size_t i = 0; i < text.size();) {
    if (text[i] == '\x1b' && i + 1 < text.size() && text[i + 1] == '[') {
      i += 2;
      while (i < text.size() && !(text[i] >= 0x40 && text[i] <= 0x7e)) ++i;
      ++i;
      continue;
    }
    std::size_t n;
    char32_t cp = decode_at(text, i, &n);
    width += char_width(cp);
    i += n;
  }
  return width;
}

// ---- keys ----

std::optional<Key> KeyDecoder::next() {
  static const std::string kPasteEnd = "\x1b[201~";
  if (in_paste_) {
    std::size_t end = pending_.find(kPasteEnd);
    if (end == std::string::npos) {
      // Keep what could be the start of the end marker.
      std::size_t keep = std::min(pending_.size(), kPasteEnd.size() - 1);
      paste_.append(pending_, 0, pending_.size() - keep);
      pending_.erase(0, pending_.size() - keep);
      return std::nullopt;
    }
    paste_.append(pending_, 0, end);
    pending_.erase(0, end + kPasteEnd.size());
    in_paste_ = false;
    std::string text;
    for (std::size_t i = 0; i < paste_.size(); ++i) {
      if (paste_[i] == '\r') {
        text += '\n';
        if (i + 1 < paste_.size() && paste_[i + 1] == '\n') ++i;
      } else {
        text += paste_[i];
      }
    }
    paste_.clear();
    return Key{KeyKind::kPaste, text};
  }
  if (pending_.empty()) return std::nullopt;
  auto c = static_cast<unsigned char>(pending_[0]);
  auto take = [this](std::size_t n, KeyKind kind, std::string text = {}) {
    pending_.erase(0, n);
    return Key{kind, std::move(text)};
  };
  if (c == 0x1b) {
    if (pending_.size() == 1) return std::nullopt;
    char second = pending_[1];
    if (second == '[') {
      std::size_t end = 2;
      while (end < pending_.size() && !(pending_[end] >= 0x40 && pending_[end] <= 0x7e)) ++end;
      if (end >= pending_.size()) {
        if (pending_.size() > 32) return take(pending_.size(), KeyKind::kUnknown);
        return std::nullopt;
      }
      std::string seq = pending_.substr(2, end - 1);
      pending_.erase(0, end + 1);
      if (seq == "A") return Key{KeyKind::kUp, {}};
      if (seq == "B") return Key{KeyKind::kDown, {}};
      if (seq == "C") return Key{KeyKind::kRight, {}};
      if (seq == "D") return Key{KeyKind::kLeft, {}};
      if (seq == "H" || seq == "1~" || seq == "7~") return Key{KeyKind::kHome, {}};
      if (seq == "F" || seq == "4~" || seq == "8~") return Key{KeyKind::kEnd, {}};
      if (seq == "3~") return Key{KeyKind::kDelete, {}};
      if (seq == "1;5C" || seq == "5C" || seq == "1;3C") return Key{KeyKind::kWordRight, {}};
      if (seq == "1;5D" || seq == "5D" || seq == "1;3D") return Key{KeyKind::kWordLeft, {}};
      if (seq == "200~") {
        in_paste_ = true;
        paste_.clear();
        return next();
      }
      return Key{KeyKind::kUnknown, seq};
    }
    if (second == 'O') {
      if (pending_.size() < 3) return std::nullopt;
      char k = pending_[2];
      pending_.erase(0, 3);
      if (k == 'A') return Key{KeyKind::kUp, {}};
      if (k == 'B') return Key{KeyKind::kDown, {}};
      if (k == 'C') return Key{KeyKind::kRight, {}};
      if (k == 'D') return Key{KeyKind::kLeft, {}};
      if (k == 'H') return Key{KeyKind::kHome, {}};
      if (k == 'F') return Key{KeyKind::kEnd, {}};
      return Key{KeyKind::kUnknown, std::string(1, k)};
    }
    if (second == 'b' || second == 'B') return take(2, KeyKind::kWordLeft);
    if (second == 'f' || second == 'F') return take(2, KeyKind::kWordRight);
    if (second == 'd' || second == 'D') return take(2, KeyKind::kKillWordRight);
    if (second == 0x7f || second == 0x08) return take(2, KeyKind::kKillWordLeft);
    if (second == 0x1b) return take(1, KeyKind::kUnknown);
    return take(2, KeyKind::kUnknown, std::string(1, second));
  }
  if (c == '\r' || c == '\n') {
    std::size_t n = (c == '\r' && pending_.size() > 1 && pending_[1] == '\n') ? 2 : 1;
    return take(n, KeyKind::kEnter);
  }
  if (c == '\t') return take(1, KeyKind::kTab);
  if (c == 0x7f || c == 0x08) return take(1, KeyKind::kBackspace);
  if (c == 0x17) return take(1, KeyKind::kKillWordLeft);
  if (c == 0) return take(1, KeyKind::kUnknown);
  if (c < 0x20) return take(1, KeyKind::kCtrl, std::string(1, static_cast<char>(c + 'a' - 1)));
  int n = utf8_length(c);
  if (n == 0) return take(1, KeyKind::kUnknown);
  if (pending_.size() < static_cast<std::size_t>(n)) return std::nullopt;
  for (int k = 1; k < n; ++k) {
    if (!is_continuation(static_cast<unsigned char>(pending_[k]))) return take(k, KeyKind::kUnknown);
  }
  return take(n, KeyKind::kText, pending_.substr(0, n));
}

// ---- history ----

void History::add(const std::string& entry) {
  if (entry.find_first_not_of(" \t\n") == std::string::npos) return;
  if (!entries_.empty() && entries_.back() == entry) return;
  entries_.push_back(entry);
  if (entries_.size() > limit_) entries_.erase(entries_.begin(), entries_.begin() + (entries_.size() - limit_));
}

std::string History::encode(const std::string& entry) {
  std::string out;
  for (char c : entry) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string History::decode(const std::string& line) {
  std::string out;
  for (std::size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '\\' && i + 1 < line.size()) {
      ++i;
      out += line[i] == 'n' ? '\n' : line[i];
    } else {
      out += line[i];
    }
  }
  return out;
}

bool History::load(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return errno == ENOENT;
  std::string line;
  while (std::getline(file, line)) add(decode(line));
  return true;
}

bool History::save(const std::string& path) const {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  std::string text;
  for (const auto& e : entries_) text += encode(e) + "\n";
  std::size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      return false;
    }
    done += static_cast<std::size_t>(n);
  }
  return ::close(fd) == 0;
}

// ---- completeness ----

bool is_complete_input(const std::string& text) {
  int depth = 0;
  char quote = 0;
  bool triple = false;
  bool block = false;
  char last_significant = 0;  // at depth 0, outside strings and comments, on this line
  bool line_has_text = false;
  bool first_line = true;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quote) {
      if (c == '\\') { ++i; continue; }
      if (triple) {
        if (c == quote && text.compare(i, 3, std::string(3, quote)) == 0) { quote = 0; i += 2; last_significant = 'x'; }
      } else if (c == '\n') {
        quote = 0;  // unterminated: a syntax error the parser reports
        --i;
      } else if (c == quote) {
        quote = 0;
        last_significant = 'x';
      }
      continue;
    }
    if (c == '\n') {
      if (depth == 0 && last_significant == ':') block = true;
      if (first_line && depth == 0) first_line = false;
      last_significant = 0;
      line_has_text = false;
      continue;
    }
    if (c == '#') {
      while (i + 1 < text.size() && text[i + 1] != '\n') ++i;
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\r') continue;
    if (c == '@' && !line_has_text && depth == 0 && first_line) block = true;
    line_has_text = true;
    if (c == '\'' || c == '"') {
      quote = c;
      triple = text.compare(i, 3, std::string(3, c)) == 0;
      if (triple) i += 2;
      continue;
    }
    if (c == '(' || c == '[' || c == '{') ++depth;
    else if ((c == ')' || c == ']' || c == '}') && depth > 0) --depth;
    last_significant = c;
  }
  if (quote && triple) return false;
  if (depth > 0) return false;
  if (!text.empty() && text.back() == '\\') return false;
  if (depth == 0 && last_significant == ':') block = true;
  if (!block) return true;
  // A block ends on an empty line.
  std::size_t last_newline = text.rfind('\n');
  if (last_newline == std::string::npos) return false;
  return text.find_first_not_of(" \t\r", last_newline + 1) == std::string::npos;
}

// ---- colour ----

namespace {

// Where the string literal whose quote is at `line[i]` ends (past its closing
// quote, or the line's end for one that continues on the next line).
std::size_t string_literal_end(std::string_view line, std::size_t i) {
  const char quote = line[i];
  const bool triple = line.compare(i, 3, std::string(3, quote)) == 0;
  std::size_t k = i + (triple ? 3 : 1);
  while (k < line.size()) {
    if (line[k] == '\\') {
      k += 2;
      continue;
    }
    if (triple ? line.compare(k, 3, std::string(3, quote)) == 0 : line[k] == quote) {
      k += triple ? 3 : 1;
      break;
    }
    ++k;
  }
  return std::min(k, line.size());
}

}  // namespace

std::string highlight_python(std::string_view line) {
  std::string out;
  const auto& keywords = python_keywords();
  bool after_def = false;
  std::size_t i = 0;
  while (i < line.size()) {
    char c = line[i];
    auto u = static_cast<unsigned char>(c);
    if (c == '#') {
      out += kCommentColour;
      out.append(line.substr(i));
      out += kReset;
      break;
    }
    if (std::isalpha(u) || c == '_' || u >= 0x80) {
      std::size_t j = i;
      while (j < line.size() && is_word_byte(static_cast<unsigned char>(line[j]))) ++j;
      std::string word(line.substr(i, j - i));
      if (j < line.size() && (line[j] == '\'' || line[j] == '"') && is_string_prefix(word)) {
        out += kStringColour;
        out += word;
        i = j;
        std::size_t k = string_literal_end(line, i);
        out.append(line.substr(i, k - i));
        out += kReset;
        i = k;
        continue;
      }
      if (after_def) out += kDefinitionColour + word + kReset;
      else if (std::find(keywords.begin(), keywords.end(), word) != keywords.end()) out += kKeywordColour + word + kReset;
      else if (builtin_names().count(word)) out += kBuiltinColour + word + kReset;
      else out += word;
      after_def = word == "def" || word == "class";
      i = j;
      continue;
    }
    if (c == '\'' || c == '"') {
      std::size_t k = string_literal_end(line, i);
      out += kStringColour;
      out.append(line.substr(i, k - i));
      out += kReset;
      i = k;
      after_def = false;
      continue;
    }
    if (std::isdigit(u)) {
      std::size_t j = i;
      while (j < line.size() && (is_word_byte(static_cast<unsigned char>(line[j])) || line[j] == '.')) ++j;
      out += kNumberColour;
      out.append(line.substr(i, j - i));
      out += kReset;
      i = j;
      after_def = false;
      continue;
    }
    if (c != ' ') after_def = false;
    out += c;
    ++i;
  }
  return out;
}

std::string colour_traceback(std::string_view lines, bool* in_traceback) {
  std::string out;
  std::size_t start = 0;
  while (start < lines.size()) {
    std::size_t end = lines.find('\n', start);
    std::size_t stop = end == std::string_view::npos ? lines.size() : end;
    std::string_view line = lines.substr(start, stop - start);
    std::string shown(line);
    if (line == "Traceback (most recent call last):") {
      *in_traceback = true;
    } else if (*in_traceback && line.rfind("  File \"", 0) == 0) {
      std::size_t q = line.find('"', 8);
      std::size_t comma = q == std::string_view::npos ? q : line.find(", line ", q);
      if (comma != std::string_view::npos) {
        std::size_t number_end = line.find(',', comma + 7);
        std::string_view number = line.substr(comma + 7, number_end == std::string_view::npos ? std::string_view::npos : number_end - comma - 7);
        shown = "  File " + std::string(kTracebackName) + std::string(line.substr(7, q + 1 - 7)) + kReset + ", line " +
                kTracebackName + std::string(number) + kReset;
        if (number_end != std::string_view::npos) {
          std::string_view rest = line.substr(number_end);
          if (rest.rfind(", in ", 0) == 0) shown += ", in " + std::string(kTracebackName) + std::string(rest.substr(5)) + kReset;
          else shown += std::string(rest);
        }
      }
    } else if (*in_traceback && !line.empty() && line[0] != ' ') {
      *in_traceback = false;
      std::size_t colon = line.find(':');
      if (colon == std::string_view::npos) shown = kTracebackType + std::string(line) + kReset;
      else shown = kTracebackType + std::string(line.substr(0, colon)) + kReset + ":" + kTracebackName +
                   std::string(line.substr(colon + 1)) + kReset;
    }
    out += shown;
    if (end == std::string_view::npos) break;
    out += '\n';
    start = end + 1;
  }
  return out;
}

// ---- completion ----

std::string completion_word(const std::string& text, std::size_t cursor) {
  std::size_t start = std::min(cursor, text.size());
  while (start > 0) {
    auto c = static_cast<unsigned char>(text[start - 1]);
    if (!is_word_byte(c) && c != '.') break;
    --start;
  }
  return text.substr(start, cursor - start);
}

std::vector<std::string> filter_completions(const std::vector<std::string>& names, const std::string& word) {
  std::set<std::string> matches;
  for (const auto& n : names) {
    if (n.compare(0, word.size(), word) == 0) matches.insert(n);
  }
  return {matches.begin(), matches.end()};
}

std::string common_prefix(const std::vector<std::string>& words) {
  if (words.empty()) return {};
  std::string prefix = words[0];
  for (const auto& w : words) {
    std::size_t n = 0;
    while (n < prefix.size() && n < w.size() && prefix[n] == w[n]) ++n;
    prefix.resize(n);
  }
  // Never end inside a UTF-8 character.
  while (!prefix.empty() && is_continuation(static_cast<unsigned char>(prefix.back()))) prefix.pop_back();
  if (!prefix.empty() && static_cast<unsigned char>(prefix.back()) >= 0xC0) prefix.pop_back();
  return prefix;
}

const std::vector<std::string>& python_keywords() {
  static const std::vector<std::string> keywords = {
      "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue", "def",
      "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import", "in", "is",
      "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while", "with", "yield"};
  return keywords;
}

// ---- rendering ----

Rendered render(const std::string& text, std::size_t cursor, const RenderOptions& options) {
  const int cols = std::max(options.columns, 1);
  Rendered r;
  r.output = "\x1b[J";
  std::vector<std::string> lines;
  {
    std::size_t start = 0;
    while (true) {
      std::size_t end = text.find('\n', start);
      lines.push_back(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
      if (end == std::string::npos) break;
      start = end + 1;
    }
  }
  // Where the cursor is: line index and byte offset in that line.
  std::size_t cursor_line = 0, cursor_offset = 0;
  {
    std::size_t pos = 0;
    for (std::size_t i = 0; i < lines.size(); ++i) {
      if (cursor <= pos + lines[i].size()) {
        cursor_line = i;
        cursor_offset = cursor - pos;
        break;
      }
      pos += lines[i].size() + 1;
    }
  }
  int row = 0;
  int cursor_row = 0, cursor_col = 0;
  int end_col = 0;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    std::string prompt = i == 0 ? options.prompt : options.continuation;
    if (i == 0 && options.search_query) {
      prompt = std::string(options.search_failed ? "(failed reverse-i-search)`" : "(reverse-i-search)`") +
               *options.search_query + "': ";
    }
    std::string shown = display_form(lines[i]);
    int prompt_width = display_width(prompt);
    int width = prompt_width + display_width(shown);
    if (i > 0) r.output += "\r\n";
    if (options.colour && !options.search_query) r.output += kPromptColour + prompt + kReset;
    else r.output += prompt;
    r.output += options.colour ? highlight_python(shown) : shown;
    if (i == cursor_line) {
      int col = prompt_width + display_width(display_form(std::string_view(lines[i]).substr(0, cursor_offset)));
      cursor_row = row + col / cols;
      cursor_col = col % cols;
    }
    int rows = width == 0 ? 1 : (width + cols - 1) / cols;
    if (i + 1 == lines.size()) {
      if (width > 0 && width % cols == 0) {
        // The terminal waits at the last column; make the wrap happen.
        r.output += "\r\n";
        ++rows;
        end_col = 0;
      } else {
        end_col = width % cols;
      }
    }
    row += rows;
  }
  int end_row = row - 1;
  r.rows = row;
  if (end_row > cursor_row) r.output += "\x1b[" + std::to_string(end_row - cursor_row) + "A";
  if (end_col != cursor_col || end_row != cursor_row) {
    r.output += "\r";
    if (cursor_col > 0) r.output += "\x1b[" + std::to_string(cursor_col) + "C";
  }
  r.cursor_row = cursor_row;
  return r;
}

// ---- the editor ----

void LineEditor::set_text(std::string text, std::size_t cursor) {
  text_ = std::move(text);
  cursor_ = std::min(cursor, text_.size());
}

void LineEditor::clear() {
  text_.clear();
  cursor_ = 0;
  navigating_ = false;
  draft_.clear();
  search_.reset();
}

std::string LineEditor::take_submitted() { return std::move(submitted_); }

void LineEditor::insert(const std::string& s) {
  text_.insert(cursor_, s);
  cursor_ += s.size();
}

void LineEditor::kill(std::size_t from, std::size_t to) {
  if (from >= to) return;
  kill_buffer_ = text_.substr(from, to - from);
  text_.erase(from, to - from);
  cursor_ = from;
}

std::size_t LineEditor::line_start(std::size_t pos) const {
  std::size_t nl = pos == 0 ? std::string::npos : text_.rfind('\n', pos - 1);
  return nl == std::string::npos ? 0 : nl + 1;
}

std::size_t LineEditor::line_end(std::size_t pos) const {
  std::size_t nl = text_.find('\n', pos);
  return nl == std::string::npos ? text_.size() : nl;
}

std::size_t LineEditor::word_left(std::size_t pos) const {
  while (pos > 0 && !is_word_byte(static_cast<unsigned char>(text_[pos - 1]))) --pos;
  while (pos > 0 && is_word_byte(static_cast<unsigned char>(text_[pos - 1]))) --pos;
  return pos;
}

std::size_t LineEditor::word_right(std::size_t pos) const {
  while (pos < text_.size() && !is_word_byte(static_cast<unsigned char>(text_[pos]))) ++pos;
  while (pos < text_.size() && is_word_byte(static_cast<unsigned char>(text_[pos]))) ++pos;
  return pos;
}

LineEditor::Action LineEditor::history_move(int delta) {
  const auto& entries = history_->entries();
  if (!navigating_) {
    history_index_ = entries.size();
    draft_ = text_;
    navigating_ = true;
  }
  if (delta < 0 && history_index_ == 0) return Action::kBell;
  if (delta > 0 && history_index_ >= entries.size()) return Action::kBell;
  history_index_ = delta < 0 ? history_index_ - 1 : history_index_ + 1;
  text_ = history_index_ == entries.size() ? draft_ : entries[history_index_];
  cursor_ = text_.size();
  return Action::kRedraw;
}

void LineEditor::search_from(std::size_t index) {
  const auto& entries = history_->entries();
  for (std::size_t j = std::min(index, entries.size()); j-- > 0;) {
    std::size_t pos = entries[j].rfind(search_->query);
    if (pos != std::string::npos) {
      search_->match = entries[j];
      search_->match_cursor = pos;
      search_->next_index = j;
      search_->failed = false;
      return;
    }
  }
  search_->failed = true;
}

LineEditor::Action LineEditor::handle_search(const Key& key) {
  Search& s = *search_;
  switch (key.kind) {
    case KeyKind::kText:
      s.query += key.text;
      search_from(s.next_index + 1);
      return Action::kRedraw;
    case KeyKind::kBackspace:
      if (!s.query.empty()) s.query.erase(prev_char(s.query, s.query.size()));
      search_from(history_->entries().size());
      return Action::kRedraw;
    case KeyKind::kCtrl:
      if (key.text == "r") {
        search_from(s.next_index);
        return s.failed ? Action::kBell : Action::kRedraw;
      }
      if (key.text == "g" || key.text == "c") {
        text_ = s.saved_text;
        cursor_ = s.saved_cursor;
        search_.reset();
        return Action::kRedraw;
      }
      break;
    default:
      break;
  }
  // Any other key accepts the match and then does what it does.
  text_ = s.match;
  cursor_ = std::min(s.match_cursor, text_.size());
  search_.reset();
  navigating_ = false;
  Action a = handle(key);
  return a == Action::kNone ? Action::kRedraw : a;
}

LineEditor::Action LineEditor::handle(const Key& key) {
  if (search_) return handle_search(key);
  switch (key.kind) {
    case KeyKind::kText:
      insert(key.text);
      return Action::kRedraw;
    case KeyKind::kPaste: {
      std::string pasted = key.text;
      bool run = !pasted.empty() && pasted.back() == '\n';
      insert(pasted);
      if (!run) return Action::kRedraw;
      std::string block = text_;
      while (!block.empty() && (block.back() == '\n' || block.back() == ' ')) block.pop_back();
      submitted_ = block;
      return Action::kSubmit;
    }
    case KeyKind::kEnter:
      if (is_complete_input(text_)) {
        std::string block = text_;
        // The empty line that ended a block is not part of it.
        while (!block.empty() && (block.back() == '\n' || block.back() == ' ' || block.back() == '\t')) block.pop_back();
        submitted_ = block;
        return Action::kSubmit;
      }
      cursor_ = text_.size();
      insert("\n");
      return Action::kRedraw;
    case KeyKind::kTab: {
      std::size_t start = line_start(cursor_);
      if (text_.substr(start, cursor_ - start).find_first_not_of(" ") == std::string::npos) {
        insert("    ");
        return Action::kRedraw;
      }
      return Action::kComplete;
    }
    case KeyKind::kBackspace:
      if (cursor_ == 0) return Action::kBell;
      {
        std::size_t p = prev_char(text_, cursor_);
        text_.erase(p, cursor_ - p);
        cursor_ = p;
      }
      return Action::kRedraw;
    case KeyKind::kDelete:
      if (cursor_ >= text_.size()) return Action::kBell;
      text_.erase(cursor_, next_char(text_, cursor_) - cursor_);
      return Action::kRedraw;
    case KeyKind::kLeft:
      cursor_ = prev_char(text_, cursor_);
      return Action::kRedraw;
    case KeyKind::kRight:
      cursor_ = next_char(text_, cursor_);
      return Action::kRedraw;
    case KeyKind::kHome:
      cursor_ = line_start(cursor_);
      return Action::kRedraw;
    case KeyKind::kEnd:
      cursor_ = line_end(cursor_);
      return Action::kRedraw;
    case KeyKind::kUp:
    case KeyKind::kDown: {
      bool up = key.kind == KeyKind::kUp;
      std::size_t start = line_start(cursor_);
      bool first = start == 0;
      bool last = line_end(cursor_) == text_.size();
      if ((up && first) || (!up && last)) return history_move(up ? -1 : 1);
      // Inside a block: the same column on the line above or below.
      int column = display_width(std::string_view(text_).substr(start, cursor_ - start));
      std::size_t target = up ? line_start(start - 1) : line_end(cursor_) + 1;
      std::size_t target_end = line_end(target);
      std::size_t pos = target;
      while (pos < target_end && display_width(std::string_view(text_).substr(target, next_char(text_, pos) - target)) <= column) {
        pos = next_char(text_, pos);
      }
      cursor_ = pos;
      return Action::kRedraw;
    }
    case KeyKind::kWordLeft:
      cursor_ = word_left(cursor_);
      return Action::kRedraw;
    case KeyKind::kWordRight:
      cursor_ = word_right(cursor_);
      return Action::kRedraw;
    case KeyKind::kKillWordLeft:
      kill(word_left(cursor_), cursor_);
      return Action::kRedraw;
    case KeyKind::kKillWordRight:
      kill(cursor_, word_right(cursor_));
      return Action::kRedraw;
    case KeyKind::kCtrl: {
      char k = key.text.empty() ? 0 : key.text[0];
      switch (k) {
        case 'a': cursor_ = line_start(cursor_); return Action::kRedraw;
        case 'e': cursor_ = line_end(cursor_); return Action::kRedraw;
        case 'b': cursor_ = prev_char(text_, cursor_); return Action::kRedraw;
        case 'f': cursor_ = next_char(text_, cursor_); return Action::kRedraw;
        case 'k': kill(cursor_, line_end(cursor_)); return Action::kRedraw;
        case 'u': kill(line_start(cursor_), cursor_); return Action::kRedraw;
        case 'y': insert(kill_buffer_); return Action::kRedraw;
        case 'l': return Action::kClearScreen;
        case 'c': return Action::kInterrupt;
        case 'p': return history_move(-1);
        case 'n': return history_move(1);
        case 'd':
          if (text_.empty()) return Action::kEof;
          if (cursor_ >= text_.size()) return Action::kBell;
          text_.erase(cursor_, next_char(text_, cursor_) - cursor_);
          return Action::kRedraw;
        case 'r':
          search_ = Search();
          search_->saved_text = text_;
          search_->saved_cursor = cursor_;
          search_->match = text_;
          search_->match_cursor = cursor_;
          search_->next_index = history_->entries().size();
          return Action::kRedraw;
        default:
          return Action::kBell;
      }
    }
    case KeyKind::kUnknown:
      return Action::kNone;
  }
  return Action::kNone;
}

std::vector<std::string> LineEditor::apply_completion(const std::vector<std::string>& candidates) {
  std::string word = completion_word(text_, cursor_);
  std::vector<std::string> matches = filter_completions(candidates, word);
  if (matches.empty()) return {};
  if (matches.size() == 1) {
    insert(matches[0].substr(word.size()));
    return {};
  }
  std::string prefix = common_prefix(matches);
  if (prefix.size() > word.size()) {
    insert(prefix.substr(word.size()));
    return {};
  }
  return matches;
}

}  // namespace repl::editor
