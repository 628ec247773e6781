// Design: one pass over the text with a cursor. At the start of each logical
// line (outside brackets) the indentation is measured and compared with the
// stack of open block columns, emitting INDENT/DEDENT exactly as CPython's
// tokenizer does; blank and comment-only lines produce nothing. Strings are
// decoded here (except f-strings, whose body the parser splits).
#include "tools/repl/lexer.h"

#include <cctype>
#include <cstdint>
#include <cstring>

namespace repl {
namespace {

bool is_name_start(unsigned char c) { return std::isalpha(c) || c == '_' || c >= 0x80; }
bool is_name_char(unsigned char c) { return std::isalnum(c) || c == '_' || c >= 0x80; }

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

const char* const kThreeCharOps[] = {"**=", "//=", ">>=", "<<=", "...", nullptr};
const char* const kTwoCharOps[] = {"**", "//", "==", "!=", "<=", ">=", "<<", ">>", "+=", "-=", "*=", "/=", "%=",
                                   "&=", "|=", "^=", "->", ":=", "@=", nullptr};
const char kOneCharOps[] = "+-*/%<>=()[]{},:.;@&|^~";

}  // namespace

std::string decode_escapes(const std::string& body, bool bytes, int line, int column) {
  std::string out;
  for (std::size_t i = 0; i < body.size(); ++i) {
    char c = body[i];
    if (bytes && static_cast<unsigned char>(c) >= 0x80) {
      throw SyntaxError("SyntaxError", "bytes can only contain ASCII literal characters", line, column);
    }
    if (c != '\\' || i + 1 >= body.size()) {
      out += c;
      continue;
    }
    char e = body[++i];
    auto hex = [&](int digits) -> std::uint32_t {
      std::uint32_t value = 0;
      for (int k = 0; k < digits; ++k) {
        if (i + 1 >= body.size() || !std::isxdigit(static_cast<unsigned char>(body[i + 1]))) {
          throw SyntaxError("SyntaxError",
                            std::string("(unicode error) 'unicodeescape' codec can't decode bytes: truncated \\") + e +
                                "XX escape",
                            line, column);
        }
        char h = body[++i];
        value = value * 16 + static_cast<std::uint32_t>(std::isdigit(static_cast<unsigned char>(h))
                                                            ? h - '0'
                                                            : std::tolower(static_cast<unsigned char>(h)) - 'a' + 10);
      }
      return value;
    };
    switch (e) {
      case '\n': break;
      case '\\': out += '\\'; break;
      case '\'': out += '\''; break;
      case '"': out += '"'; break;
      case 'a': out += '\a'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'v': out += '\v'; break;
      case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7': {
        int value = e - '0';
        for (int k = 0; k < 2 && i + 1 < body.size() && body[i + 1] >= '0' && body[i + 1] <= '7'; ++k) {
          value = value * 8 + (body[++i] - '0');
        }
        if (bytes) out += static_cast<char>(value & 0xFF); else append_utf8(out, static_cast<std::uint32_t>(value));
        break;
      }
      case 'x': {
        std::uint32_t value = hex(2);
        if (bytes) out += static_cast<char>(value); else append_utf8(out, value);
        break;
      }
      case 'u':
        if (bytes) { out += "\\u"; break; }
        append_utf8(out, hex(4));
        break;
      case 'U':
        if (bytes) { out += "\\U"; break; }
        append_utf8(out, hex(8));
        break;
      default:
        out += '\\';
        out += e;
    }
  }
  return out;
}

std::vector<Token> tokenize(const std::string& src) { return tokenize(src, nullptr); }

std::vector<Token> tokenize(const std::string& src, std::optional<SyntaxError>* unclosed) {
  std::vector<Token> tokens;
  std::vector<int> indents{0};
  std::vector<std::pair<char, Token>> brackets;
  std::size_t i = 0;
  int line = 1;
  std::size_t line_start = 0;
  bool at_line_start = true;
  auto column = [&](std::size_t pos) { return static_cast<int>(pos - line_start) + 1; };
  auto push = [&](Tok kind, std::string text, std::size_t pos) {
    Token t;
    t.kind = kind;
    t.text = std::move(text);
    t.line = line;
    t.column = column(pos);
    tokens.push_back(std::move(t));
  };

  while (true) {
    if (at_line_start && brackets.empty()) {
      // Measure this line's indentation; skip it if blank or a comment.
      int width = 0;
      std::size_t j = i;
      while (j < src.size() && (src[j] == ' ' || src[j] == '\t' || src[j] == '\f')) {
        width = src[j] == '\t' ? (width / 8 + 1) * 8 : (src[j] == ' ' ? width + 1 : 0);
        ++j;
      }
      if (j >= src.size()) { i = j; break; }
      if (src[j] == '#' || src[j] == '\n' || src[j] == '\r' || (src[j] == '\\' && j + 1 < src.size() && src[j + 1] == '\n')) {
        while (j < src.size() && src[j] != '\n') ++j;
        if (j < src.size()) { ++j; ++line; line_start = j; }
        i = j;
        continue;
      }
      i = j;
      at_line_start = false;
      if (width > indents.back()) {
        indents.push_back(width);
        if (indents.size() > 100) throw SyntaxError("IndentationError", "too many levels of indentation", line, column(i));
        push(Tok::kIndent, "", i);
      } else {
        while (width < indents.back()) {
          indents.pop_back();
          push(Tok::kDedent, "", i);
        }
        if (width != indents.back()) {
          throw SyntaxError("IndentationError", "unindent does not match any outer indentation level", line, column(i));
        }
      }
    }
    if (i >= src.size()) break;
    char c = src[i];
    if (c == ' ' || c == '\t' || c == '\f' || c == '\r') { ++i; continue; }
    if (c == '#') {
      while (i < src.size() && src[i] != '\n') ++i;
      continue;
    }
    if (c == '\\') {
      if (i + 1 < src.size() && (src[i + 1] == '\n' || (src[i + 1] == '\r' && i + 2 < src.size() && src[i + 2] == '\n'))) {
        i += src[i + 1] == '\n' ? 2 : 3;
        ++line;
        line_start = i;
        if (i >= src.size()) throw SyntaxError("SyntaxError", "unexpected EOF while parsing", line - 1, 1);
        continue;
      }
      throw SyntaxError("SyntaxError", "unexpected character after line continuation character", line, column(i) + 1);
    }
    if (c == '\n') {
      if (brackets.empty()) {
        push(Tok::kNewline, "", i);
        at_line_start = true;
      }
      ++i;
      ++line;
      line_start = i;
      continue;
    }
    std::size_t start = i;
    // String literal (with optional prefix).
    {
      std::size_t j = i;
      bool bytes = false, raw = false, fstr = false, prefix_ok = true;
      while (j < src.size() && j - i < 3 && std::isalpha(static_cast<unsigned char>(src[j]))) {
        char p = static_cast<char>(std::tolower(static_cast<unsigned char>(src[j])));
        if (p == 'b' && !bytes && !fstr) bytes = true;
        else if (p == 'r' && !raw) raw = true;
        else if (p == 'f' && !fstr && !bytes) fstr = true;
        else if (p == 'u' && j == i && !bytes && !raw && !fstr) {}
        else { prefix_ok = false; break; }
        ++j;
      }
      if (prefix_ok && j < src.size() && (src[j] == '\'' || src[j] == '"')) {
        char q = src[j];
        bool triple = j + 2 < src.size() && src[j + 1] == q && src[j + 2] == q;
        int start_line = line;
        int start_col = column(start);
        std::size_t k = j + (triple ? 3 : 1);
        std::string body;
        while (true) {
          if (k >= src.size()) {
            if (triple) {
              throw SyntaxError("SyntaxError", "unterminated triple-quoted string literal (detected at line " +
                                                   std::to_string(line) + ")",
                                start_line, start_col);
            }
            throw SyntaxError("SyntaxError", "unterminated string literal (detected at line " + std::to_string(line) + ")",
                              start_line, start_col);
          }
          char d = src[k];
          if (d == '\\' && k + 1 < src.size()) {
            body += d;
            body += src[k + 1];
            if (src[k + 1] == '\n') { ++line; line_start = k + 2; }
            k += 2;
            continue;
          }
          if (d == '\n') {
            if (!triple) {
              throw SyntaxError("SyntaxError", "unterminated string literal (detected at line " + std::to_string(line) + ")",
                                start_line, start_col);
            }
            ++line;
            line_start = k + 1;
          }
          if (d == q && (!triple || (k + 2 < src.size() && src[k + 1] == q && src[k + 2] == q))) {
            k += triple ? 3 : 1;
            break;
          }
          body += d;
          ++k;
        }
        Token t;
        t.kind = Tok::kString;
        t.line = start_line;
        t.column = start_col;
        t.is_bytes = bytes;
        t.is_fstring = fstr;
        t.is_raw = raw;
        if (fstr || raw) {
          if (bytes) {
            for (unsigned char b : body) {
              if (b >= 0x80) throw SyntaxError("SyntaxError", "bytes can only contain ASCII literal characters", start_line, start_col);
            }
          }
          t.text = body;
        } else {
          t.text = decode_escapes(body, bytes, start_line, start_col);
        }
        tokens.push_back(std::move(t));
        i = k;
        continue;
      }
    }
    if (is_name_start(static_cast<unsigned char>(c))) {
      while (i < src.size() && is_name_char(static_cast<unsigned char>(src[i]))) ++i;
      push(Tok::kName, src.substr(start, i - start), start);
      continue;
    }
    if (std::isdigit(static_cast<unsigned char>(c)) || (c == '.' && i + 1 < src.size() && std::isdigit(static_cast<unsigned char>(src[i + 1])))) {
      bool is_float = false;
      std::string digits;
      if (c == '0' && i + 1 < src.size() && std::strchr("xXoObB", src[i + 1]) != nullptr) {
        digits = src.substr(i, 2);
        i += 2;
        while (i < src.size() && (std::isxdigit(static_cast<unsigned char>(src[i])) || src[i] == '_')) {
          if (src[i] != '_') digits += src[i];
          ++i;
        }
      } else {
        while (i < src.size()) {
          char d = src[i];
          if (std::isdigit(static_cast<unsigned char>(d)) || d == '_') {
            if (d != '_') digits += d;
            ++i;
          } else if (d == '.' && !is_float) {
            is_float = true;
            digits += d;
            ++i;
          } else if ((d == 'e' || d == 'E') && i + 1 < src.size() &&
                     (std::isdigit(static_cast<unsigned char>(src[i + 1])) ||
                      ((src[i + 1] == '+' || src[i + 1] == '-') && i + 2 < src.size() &&
                       std::isdigit(static_cast<unsigned char>(src[i + 2]))))) {
            is_float = true;
            digits += 'e';
            digits += src[i + 1];
            i += 2;
            while (i < src.size() && std::isdigit(static_cast<unsigned char>(src[i]))) digits += src[i++];
            break;
          } else {
            break;
          }
        }
      }
      if (i < src.size() && (src[i] == 'j' || src[i] == 'J')) {
        throw SyntaxError("SyntaxError", "complex numbers are not supported by the aio REPL", line, column(start));
      }
      if (i < src.size() && is_name_start(static_cast<unsigned char>(src[i]))) {
        throw SyntaxError("SyntaxError", "invalid decimal literal", line, column(start));
      }
      push(is_float ? Tok::kFloat : Tok::kInt, digits, start);
      continue;
    }
    std::string op;
    for (int n = 0; kThreeCharOps[n] && op.empty(); ++n) {
      if (src.compare(i, 3, kThreeCharOps[n]) == 0) op = kThreeCharOps[n];
    }
    for (int n = 0; kTwoCharOps[n] && op.empty(); ++n) {
      if (src.compare(i, 2, kTwoCharOps[n]) == 0) op = kTwoCharOps[n];
    }
    if (op.empty() && c != '\0' && std::strchr(kOneCharOps, c) != nullptr) op = std::string(1, c);
    if (op.empty()) {
      if (c == '!') throw SyntaxError("SyntaxError", "invalid syntax", line, column(i));
      std::string shown = static_cast<unsigned char>(c) < 0x20 ? "U+" + std::to_string(static_cast<int>(c)) : std::string(1, c);
      throw SyntaxError("SyntaxError", "invalid character '" + shown + "'", line, column(i));
    }
    if (op == "(" || op == "[" || op == "{") {
      if (brackets.size() >= 200) throw SyntaxError("SyntaxError", "too many nested parentheses", line, column(i));
      push(Tok::kOp, op, i);
      brackets.emplace_back(op[0], tokens.back());
    } else if (op == ")" || op == "]" || op == "}") {
      char open = op == ")" ? '(' : (op == "]" ? '[' : '{');
      if (brackets.empty()) throw SyntaxError("SyntaxError", "unmatched '" + op + "'", line, column(i));
      if (brackets.back().first != open) {
        const Token& o = brackets.back().second;
        std::string msg = "closing parenthesis '" + op + "' does not match opening parenthesis '" +
                          std::string(1, brackets.back().first) + "'";
        if (o.line != line) msg += " on line " + std::to_string(o.line);
        throw SyntaxError("SyntaxError", msg, line, column(i));
      }
      brackets.pop_back();
      push(Tok::kOp, op, i);
    } else {
      push(Tok::kOp, op, i);
    }
    i += op.size();
  }
  if (!brackets.empty()) {
    const Token& o = brackets.back().second;
    SyntaxError error("SyntaxError", "'" + std::string(1, brackets.back().first) + "' was never closed", o.line, o.column);
    if (unclosed == nullptr) throw error;
    unclosed->emplace(error);
    push(Tok::kEnd, "", i);
    return tokens;
  }
  if (!tokens.empty() && tokens.back().kind != Tok::kNewline && tokens.back().kind != Tok::kDedent) {
    push(Tok::kNewline, "", i);
  }
  while (indents.size() > 1) {
    indents.pop_back();
    push(Tok::kDedent, "", i);
  }
  push(Tok::kEnd, "", i);
  return tokens;
}

}  // namespace repl
