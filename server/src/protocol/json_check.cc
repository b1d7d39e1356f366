#include "protocol/json_check.h"

#include <cstdint>
#include <cstring>

namespace instant::protocol {

namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

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
    while (p_ < end_) {
      const unsigned char c = static_cast<unsigned char>(*p_++);
      if (c == '"') return true;
      if (c < 0x20) return false;
      if (c != '\\') continue;
      if (p_ == end_) return false;
      const char e = *p_++;
      if (e == 'u') {
        if (end_ - p_ < 4 || !IsHex(p_[0]) || !IsHex(p_[1]) || !IsHex(p_[2]) || !IsHex(p_[3])) {
          return false;
        }
        p_ += 4;
      } else if (std::strchr("\"\\/bfnrt", e) == nullptr || e == '\0') {
        return false;
      }
    }
    return false;  // unterminated
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

// Open containers, innermost last: one bit each, 1 = object, 0 = array.
class ContainerStack {
 public:
  bool Push(bool object) {
    if (depth_ == kMaxJsonDepth) return false;
    const uint8_t mask = static_cast<uint8_t>(1u << (depth_ % 8));
    bits_[depth_ / 8] = object ? (bits_[depth_ / 8] | mask) : (bits_[depth_ / 8] & ~mask);
    ++depth_;
    return true;
  }
  void Pop() { --depth_; }
  bool empty() const { return depth_ == 0; }
  bool TopIsObject() const { return (bits_[(depth_ - 1) / 8] >> ((depth_ - 1) % 8)) & 1u; }

 private:
  uint8_t bits_[kMaxJsonDepth / 8] = {};
  size_t depth_ = 0;
};

}  // namespace

bool IsJsonValue(std::string_view text) {
  Scanner s(text.data(), text.data() + text.size());
  ContainerStack stack;
  // Iterative grammar walk: kValue expects a value, kKey an object key (after '{' or ','),
  // kAfter the ',' or closing bracket that follows a value inside a container.
  enum class State { kValue, kKey, kAfter } state = State::kValue;
  while (true) {
    s.SkipSpace();
    switch (state) {
      case State::kValue:
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
              state = State::kAfter;
            } else {
              state = object ? State::kKey : State::kValue;
            }
            break;
          }
          case '"':
            if (!s.String()) return false;
            state = State::kAfter;
            break;
          case 't':
            if (!s.Literal("true")) return false;
            state = State::kAfter;
            break;
          case 'f':
            if (!s.Literal("false")) return false;
            state = State::kAfter;
            break;
          case 'n':
            if (!s.Literal("null")) return false;
            state = State::kAfter;
            break;
          default:
            if (s.Peek() != '-' && !IsDigit(s.Peek())) return false;
            if (!s.Number()) return false;
            state = State::kAfter;
            break;
        }
        break;
      case State::kKey:
        if (s.Peek() != '"' || !s.String()) return false;
        s.SkipSpace();
        if (!s.Consume(':')) return false;
        state = State::kValue;
        break;
      case State::kAfter:
        if (stack.empty()) return s.AtEnd();
        if (s.Consume(',')) {
          state = stack.TopIsObject() ? State::kKey : State::kValue;
        } else if (s.Consume(stack.TopIsObject() ? '}' : ']')) {
          stack.Pop();
        } else {
          return false;
        }
        break;
    }
  }
}

}  // namespace instant::protocol
