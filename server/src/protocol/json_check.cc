#include "protocol/json_check.h"

#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace instant::protocol {

namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// The bytes that end a run of plain string content: the closing quote, an escape, or a raw
// control character (invalid in a string).
bool IsStringSpecial(char ch) {
  const unsigned char c = static_cast<unsigned char>(ch);
  return c == '"' || c == '\\' || c < 0x20;
}

// The first string-special byte in [p, end), or end. Payloads are mostly plain string content
// (this check was 19 % of a batch publish's CPU in the S6 profile), so it is scanned 16 bytes at a
// time where SSE2 is available (baseline on x86-64); the loads stay inside [p, end).
const char* SkipStringContent(const char* p, const char* end) {
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  const __m128i control_max = _mm_set1_epi8(0x1f);
  while (end - p >= 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    // Unsigned v <= 0x1f  <=>  max(v, 0x1f) == 0x1f (SSE2 has no unsigned byte compare).
    const __m128i special = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)),
                                         _mm_cmpeq_epi8(_mm_max_epu8(v, control_max), control_max));
    const unsigned mask = static_cast<unsigned>(_mm_movemask_epi8(special));
    if (mask != 0) return p + __builtin_ctz(mask);
    p += 16;
  }
#endif
  while (p < end && !IsStringSpecial(*p)) ++p;
  return p;
}

// A cursor over the text; every read is bounds-checked.
class Scanner {
 public:
  Scanner(const char* p, const char* end) : p_(p), end_(end) {}

  bool AtEnd() const { return p_ == end_; }
  char Peek() const { return p_ < end_ ? *p_ : '\0'; }
  void SkipSpace() {
    while (p_ < end_ && IsSpace(*p_)) ++p_;
  }
  bool Consume(char c) {
    if (p_ < end_ && *p_ == c) {
      ++p_;
      return true;
    }
    return false;
  }

  // At '"'. RFC 8259 §7: escapes \" \\ \/ \b \f \n \r \t \uXXXX; raw bytes < 0x20 are invalid.
  bool String() {
    ++p_;
    while (true) {
      p_ = SkipStringContent(p_, end_);
      if (p_ == end_) return false;  // unterminated
      const unsigned char c = static_cast<unsigned char>(*p_++);
      if (c == '"') return true;
      if (c != '\\') return false;  // a raw control character
      if (p_ == end_) return false;
      switch (*p_++) {
        case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
          break;
        case 'u':
          if (end_ - p_ < 4 || !IsHex(p_[0]) || !IsHex(p_[1]) || !IsHex(p_[2]) || !IsHex(p_[3])) {
            return false;
          }
          p_ += 4;
          break;
        default:
          return false;
      }
    }
  }

  // RFC 8259 §6: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?, any magnitude.
  bool Number() {
    Consume('-');
    if (Consume('0')) {
      // no leading zeros
    } else if (IsDigit(Peek())) {
      while (IsDigit(Peek())) ++p_;
    } else {
      return false;
    }
    if (Consume('.')) {
      if (!IsDigit(Peek())) return false;
      while (IsDigit(Peek())) ++p_;
    }
    if (Peek() == 'e' || Peek() == 'E') {
      ++p_;
      if (!Consume('+')) Consume('-');
      if (!IsDigit(Peek())) return false;
      while (IsDigit(Peek())) ++p_;
    }
    return true;
  }

  // An object member's key and its ':', after optional whitespace.
  bool Key() {
    SkipSpace();
    if (Peek() != '"' || !String()) return false;
    SkipSpace();
    return Consume(':');
  }

  bool Literal(std::string_view word) {
    if (static_cast<size_t>(end_ - p_) < word.size() ||
        std::memcmp(p_, word.data(), word.size()) != 0) {
      return false;
    }
    p_ += word.size();
    return true;
  }

 private:
  const char* p_;
  const char* end_;
};

// Open containers, innermost last: one bit each, 1 = object, 0 = array. The innermost kind is
// kept apart too: it is read after every value.
class ContainerStack {
 public:
  bool Push(bool object) {
    if (depth_ == kMaxJsonDepth) return false;
    const uint8_t mask = static_cast<uint8_t>(1u << (depth_ % 8));
    bits_[depth_ / 8] = object ? (bits_[depth_ / 8] | mask) : (bits_[depth_ / 8] & ~mask);
    ++depth_;
    top_is_object_ = object;
    return true;
  }
  void Pop() {
    --depth_;
    top_is_object_ = depth_ > 0 && ((bits_[(depth_ - 1) / 8] >> ((depth_ - 1) % 8)) & 1u);
  }
  bool empty() const { return depth_ == 0; }
  bool TopIsObject() const { return top_is_object_; }

 private:
  uint8_t bits_[kMaxJsonDepth / 8] = {};
  size_t depth_ = 0;
  bool top_is_object_ = false;
};

}  // namespace

bool IsJsonValue(std::string_view text) {
  Scanner s(text.data(), text.data() + text.size());
  ContainerStack stack;
  // Iterative grammar walk. Each turn reads one value, then what follows it up to the next value:
  // closing brackets, and a ',' (plus, in an object, the next key and its ':'), or the end.
  while (true) {
    s.SkipSpace();
    switch (s.Peek()) {
      case '{':
      case '[': {
        // An empty container is a nesting level too (as in simdjson's depth count).
        const bool object = s.Peek() == '{';
        s.Consume(s.Peek());
        if (!stack.Push(object)) return false;
        s.SkipSpace();
        if (s.Consume(object ? '}' : ']')) {
          stack.Pop();
          break;  // an empty container is a complete value
        }
        if (object && !s.Key()) return false;
        continue;  // its first value
      }
      case '"':
        if (!s.String()) return false;
        break;
      case 't':
        if (!s.Literal("true")) return false;
        break;
      case 'f':
        if (!s.Literal("false")) return false;
        break;
      case 'n':
        if (!s.Literal("null")) return false;
        break;
      default:
        if (s.Peek() != '-' && !IsDigit(s.Peek())) return false;
        if (!s.Number()) return false;
        break;
    }
    // After a complete value.
    while (true) {
      s.SkipSpace();
      if (stack.empty()) return s.AtEnd();
      if (s.Consume(',')) break;
      if (!s.Consume(stack.TopIsObject() ? '}' : ']')) return false;
      stack.Pop();
    }
    if (stack.TopIsObject() && !s.Key()) return false;
  }
}

}  // namespace instant::protocol
