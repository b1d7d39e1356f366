#include "config/json_error.h"

#include <fmt/format.h>

#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <vector>

namespace instant::config {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsWs(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Printable form of the byte at a position, for "unexpected character" messages.
std::string Describe(std::string_view s, size_t pos) {
  if (pos >= s.size()) return "end of file";
  unsigned char c = static_cast<unsigned char>(s[pos]);
  if (c == '\'') return "\"'\"";
  if (c >= 0x21 && c < 0x7f) return fmt::format("'{}'", static_cast<char>(c));
  if (c == ' ') return "a space";
  return fmt::format("byte 0x{:02x}", c);
}

// Truncated key text for messages.
std::string ShortKey(std::string_view key) {
  if (key.size() <= 40) return std::string(key);
  return std::string(key.substr(0, 40)) + "...";
}

class Scanner {
 public:
  explicit Scanner(std::string_view s) : s_(s) {}

  std::optional<JsonErrorLocation> Run();

 private:
  // kValue: top level or after ':'; kArrayValue: after ',' in an array; kValueOrClose: after '['.
  enum class State {
    kValue,
    kArrayValue,
    kValueOrClose,
    kKeyOrClose,
    kKey,
    kColon,
    kCommaOrClose,
    kEnd
  };
  struct Open {
    char bracket;  // '{' or '['
    size_t pos;
  };

  bool Fail(size_t pos, std::string message) {
    error_.offset = pos;
    error_.message = std::move(message);
    return false;
  }
  bool SkipWs();
  bool ScanString(std::string_view* contents);
  bool ScanNumber();
  bool ScanLiteral();
  bool Utf8Sequence(size_t* pos);
  State AfterValue() const { return stack_.empty() ? State::kEnd : State::kCommaOrClose; }
  bool LineBreakBetween(size_t from, size_t to) const {
    return s_.substr(from, to - from).find('\n') != std::string_view::npos;
  }
  size_t LineOf(size_t offset) const {
    size_t line, col;
    LineAndColumn(s_, offset, &line, &col);
    return line;
  }

  std::string_view s_;
  size_t pos_ = 0;
  std::vector<Open> stack_;
  std::string_view last_key_;
  size_t last_value_end_ = 0;
  size_t last_comma_ = 0;
  JsonErrorLocation error_;
};

bool Scanner::SkipWs() {
  while (pos_ < s_.size()) {
    char c = s_[pos_];
    if (IsWs(c)) {
      ++pos_;
    } else if (c == '/' && pos_ + 1 < s_.size() && (s_[pos_ + 1] == '/' || s_[pos_ + 1] == '*')) {
      return Fail(pos_, "comments are not allowed in JSON: remove the comment");
    } else {
      break;
    }
  }
  return true;
}

// Validates one UTF-8 sequence starting at *pos (a byte >= 0x80) per RFC 3629: no overlongs, no
// surrogates, nothing above U+10FFFF. Advances *pos past it.
bool Scanner::Utf8Sequence(size_t* pos) {
  auto byte = [&](size_t i) -> unsigned {
    return i < s_.size() ? static_cast<unsigned char>(s_[i]) : 0u;
  };
  unsigned b0 = byte(*pos);
  size_t len;
  unsigned lo = 0x80, hi = 0xbf;  // allowed range of the second byte
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    len = 2;
  } else if (b0 >= 0xe0 && b0 <= 0xef) {
    len = 3;
    if (b0 == 0xe0) lo = 0xa0;
    if (b0 == 0xed) hi = 0x9f;  // U+D800..U+DFFF are not characters
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    len = 4;
    if (b0 == 0xf0) lo = 0x90;
    if (b0 == 0xf4) hi = 0x8f;
  } else {
    return Fail(*pos, "invalid UTF-8: save the file as UTF-8");
  }
  for (size_t i = 1; i < len; ++i) {
    unsigned b = byte(*pos + i);
    unsigned l = i == 1 ? lo : 0x80, h = i == 1 ? hi : 0xbf;
    if (b < l || b > h) return Fail(*pos, "invalid UTF-8: save the file as UTF-8");
  }
  *pos += len;
  return true;
}

bool Scanner::ScanString(std::string_view* contents) {
  size_t start = pos_;
  size_t p = pos_ + 1;
  while (true) {
    if (p >= s_.size()) {
      return Fail(start, "unterminated string: add the closing '\"'");
    }
    unsigned char c = static_cast<unsigned char>(s_[p]);
    if (c == '"') break;
    if (c == '\\') {
      if (p + 1 >= s_.size()) return Fail(start, "unterminated string: add the closing '\"'");
      char e = s_[p + 1];
      if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' || e == 'r' ||
          e == 't') {
        p += 2;
        continue;
      }
      if (e != 'u') {
        return Fail(
            p, fmt::format("invalid escape '\\{}' in string: write '\\\\' for a backslash", e));
      }
      auto hex4 = [&](size_t at, unsigned* out) {
        if (at + 4 > s_.size()) return false;
        unsigned v = 0;
        for (size_t i = 0; i < 4; ++i) {
          int h = HexValue(s_[at + i]);
          if (h < 0) return false;
          v = v * 16 + static_cast<unsigned>(h);
        }
        *out = v;
        return true;
      };
      unsigned cp;
      if (!hex4(p + 2, &cp)) return Fail(p, "invalid \\u escape: expected 4 hex digits");
      if (cp >= 0xdc00 && cp <= 0xdfff) {
        return Fail(p, "invalid \\u escape: lone low surrogate");
      }
      if (cp >= 0xd800 && cp <= 0xdbff) {
        unsigned low;
        if (p + 7 >= s_.size() || s_[p + 6] != '\\' || s_[p + 7] != 'u' || !hex4(p + 8, &low) ||
            low < 0xdc00 || low > 0xdfff) {
          return Fail(p, "invalid \\u escape: high surrogate not followed by a low surrogate");
        }
        p += 12;
      } else {
        p += 6;
      }
      continue;
    }
    if (c < 0x20) {
      return Fail(p, "control character in string: escape it (\\n, \\t, \\u00XX)");
    }
    if (c >= 0x80) {
      if (!Utf8Sequence(&p)) return false;
      continue;
    }
    ++p;
  }
  *contents = s_.substr(start + 1, p - start - 1);
  pos_ = p + 1;
  return true;
}

bool Scanner::ScanNumber() {
  size_t start = pos_;
  size_t p = pos_;
  bool neg = false;
  if (s_[p] == '-') {
    neg = true;
    ++p;
  }
  auto bad = [&]() {
    return Fail(start,
                "invalid number: JSON numbers look like 12, -3, 1.5 or 2e10 (no leading "
                "zeros, '+', hex or trailing '.')");
  };
  if (p >= s_.size() || !IsDigit(s_[p])) return bad();
  if (s_[p] == '0') {
    ++p;
  } else {
    while (p < s_.size() && IsDigit(s_[p])) ++p;
  }
  size_t int_end = p;
  bool is_float = false;
  if (p < s_.size() && s_[p] == '.') {
    is_float = true;
    ++p;
    if (p >= s_.size() || !IsDigit(s_[p])) return bad();
    while (p < s_.size() && IsDigit(s_[p])) ++p;
  }
  if (p < s_.size() && (s_[p] == 'e' || s_[p] == 'E')) {
    is_float = true;
    ++p;
    if (p < s_.size() && (s_[p] == '+' || s_[p] == '-')) ++p;
    if (p >= s_.size() || !IsDigit(s_[p])) return bad();
    while (p < s_.size() && IsDigit(s_[p])) ++p;
  }
  // A number must be followed by a delimiter; "1true" or "01" are one bad token for simdjson.
  if (p < s_.size() && !IsWs(s_[p]) && s_[p] != ',' && s_[p] != '}' && s_[p] != ']' &&
      s_[p] != '/') {
    return bad();
  }
  std::string_view token = s_.substr(start, p - start);
  if (!is_float) {
    // simdjson keeps integers exact: int64 for negatives, uint64 for positives; beyond that it
    // reports a number error rather than falling back to a double.
    std::string_view digits = s_.substr(start + (neg ? 1 : 0), int_end - start - (neg ? 1 : 0));
    std::string_view limit = neg ? "9223372036854775808" : "18446744073709551615";
    if (digits.size() > limit.size() || (digits.size() == limit.size() && digits > limit)) {
      return Fail(start, "integer out of range (beyond 64 bits)");
    }
  } else {
    std::string copy(token);
    double v = std::strtod(copy.c_str(), nullptr);
    if (std::isinf(v)) return Fail(start, "number out of range (too large for a double)");
  }
  pos_ = p;
  return true;
}

bool Scanner::ScanLiteral() {
  static constexpr std::string_view kLiterals[] = {"true", "false", "null"};
  for (std::string_view lit : kLiterals) {
    if (s_.substr(pos_, lit.size()) == lit) {
      size_t end = pos_ + lit.size();
      if (end < s_.size() && !IsWs(s_[end]) && s_[end] != ',' && s_[end] != '}' && s_[end] != ']') {
        break;  // "truex": report the whole word below
      }
      pos_ = end;
      return true;
    }
  }
  size_t end = pos_;
  while (end < s_.size() && end - pos_ < 40 &&
         (std::isalnum(static_cast<unsigned char>(s_[end])) || s_[end] == '_')) {
    ++end;
  }
  std::string_view word = s_.substr(pos_, end - pos_);
  if (word == "True" || word == "False" || word == "None" || word == "NULL" || word == "Null") {
    return Fail(pos_,
                fmt::format("unknown literal '{}': JSON spells them true, false and null", word));
  }
  return Fail(pos_, fmt::format("unexpected '{}': strings must be in double quotes", word));
}

std::optional<JsonErrorLocation> Scanner::Run() {
  State state = State::kValue;
  bool ok = true;
  while (ok) {
    if (!SkipWs()) break;
    bool eof = pos_ >= s_.size();
    char c = eof ? '\0' : s_[pos_];
    switch (state) {
      case State::kValueOrClose:
      case State::kArrayValue:
      case State::kValue: {
        if (eof) {
          ok = stack_.empty()
                   ? Fail(pos_, "the file holds no JSON value: write {} for an empty config")
                   : Fail(pos_, fmt::format("unexpected end of file: '{}' opened at line {} is "
                                            "never closed",
                                            stack_.back().bracket, LineOf(stack_.back().pos)));
          break;
        }
        if (state == State::kValueOrClose && c == ']') {
          stack_.pop_back();
          ++pos_;
          last_value_end_ = pos_;
          state = AfterValue();
          break;
        }
        if (c == '{' || c == '[') {
          if (stack_.size() >= kMaxJsonDepth) {
            ok = Fail(pos_, fmt::format("nesting deeper than {} levels", kMaxJsonDepth));
            break;
          }
          stack_.push_back({c, pos_});
          ++pos_;
          state = c == '{' ? State::kKeyOrClose : State::kValueOrClose;
          break;
        }
        if (c == '"') {
          std::string_view ignored;
          ok = ScanString(&ignored);
        } else if (c == '-' || IsDigit(c)) {
          ok = ScanNumber();
        } else if (std::isalpha(static_cast<unsigned char>(c))) {
          ok = ScanLiteral();
        } else if (c == ']' && state == State::kArrayValue) {
          ok = Fail(last_comma_, "trailing comma before ']': remove this ','");
          break;
        } else if (c == '\'') {
          ok = Fail(pos_, "strings must use double quotes, not single quotes");
          break;
        } else {
          ok = Fail(pos_, fmt::format("unexpected {}: expected a value (string, number, object, "
                                      "array, true, false or null)",
                                      Describe(s_, pos_)));
          break;
        }
        if (ok) {
          last_value_end_ = pos_;
          state = AfterValue();
        }
        break;
      }
      case State::kKeyOrClose:
      case State::kKey: {
        if (!eof && c == '}') {
          if (state == State::kKey) {
            ok = Fail(last_comma_, "trailing comma before '}': remove this ','");
            break;
          }
          stack_.pop_back();
          ++pos_;
          last_value_end_ = pos_;
          state = AfterValue();
          break;
        }
        if (!eof && c == '"') {
          ok = ScanString(&last_key_);
          state = State::kColon;
          break;
        }
        if (eof) {
          ok = Fail(pos_, fmt::format("unexpected end of file: '{{' opened at line {} is never "
                                      "closed",
                                      LineOf(stack_.back().pos)));
        } else if (c == '\'') {
          ok = Fail(pos_, "object keys must use double quotes, not single quotes");
        } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
          ok = Fail(pos_, "object keys must be strings in double quotes");
        } else {
          ok = Fail(pos_, fmt::format("unexpected {}: expected a key in double quotes",
                                      Describe(s_, pos_)));
        }
        break;
      }
      case State::kColon:
        if (!eof && c == ':') {
          ++pos_;
          state = State::kValue;
        } else {
          ok = Fail(pos_, fmt::format("expected ':' after the key \"{}\"", ShortKey(last_key_)));
        }
        break;
      case State::kCommaOrClose: {
        const Open& top = stack_.back();
        char close = top.bracket == '{' ? '}' : ']';
        if (!eof && c == ',') {
          last_comma_ = pos_;
          ++pos_;
          state = top.bracket == '{' ? State::kKey : State::kArrayValue;
          break;
        }
        if (!eof && c == close) {
          stack_.pop_back();
          ++pos_;
          last_value_end_ = pos_;
          state = AfterValue();
          break;
        }
        if (eof) {
          ok = Fail(pos_, fmt::format("unexpected end of file: '{}' opened at line {} is never "
                                      "closed",
                                      top.bracket, LineOf(top.pos)));
          break;
        }
        std::string what = top.bracket == '{'
                               ? fmt::format("after the value of \"{}\"", ShortKey(last_key_))
                               : std::string("after an array element");
        if (c == '}' || c == ']') {
          ok = Fail(pos_, fmt::format("mismatched '{}': the '{}' opened at line {} must be closed "
                                      "with '{}'",
                                      c, top.bracket, LineOf(top.pos), close));
        } else if (LineBreakBetween(last_value_end_, pos_)) {
          ok = Fail(pos_, fmt::format("expected ',' or '{}' {}: add a ',' at the end of line {}",
                                      close, what, LineOf(last_value_end_)));
        } else {
          ok = Fail(pos_, fmt::format("expected ',' or '{}' {}, found {}", close, what,
                                      Describe(s_, pos_)));
        }
        break;
      }
      case State::kEnd:
        if (eof) return std::nullopt;
        ok = Fail(pos_, fmt::format("unexpected {} after the end of the JSON document (only one "
                                    "top-level value is allowed)",
                                    Describe(s_, pos_)));
        break;
    }
  }
  LineAndColumn(s_, error_.offset, &error_.line, &error_.column);
  return error_;
}

}  // namespace

void LineAndColumn(std::string_view text, size_t offset, size_t* line, size_t* column) {
  if (offset > text.size()) offset = text.size();
  size_t l = 1, col = 1;
  for (size_t i = 0; i < offset; ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      ++l;
      col = 1;
    } else if ((c & 0xc0) != 0x80) {  // count code points, not continuation bytes
      ++col;
    }
  }
  *line = l;
  *column = col;
}

std::optional<JsonErrorLocation> LocateJsonError(std::string_view text) {
  return Scanner(text).Run();
}

}  // namespace instant::config
