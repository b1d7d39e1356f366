#include "http/util.h"

namespace instant::http {
namespace {

constexpr char ToLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

bool IsOws(char c) { return c == ' ' || c == '\t'; }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes the byte of `s` at *i (one of: '%XY', '+', or a literal), advancing *i. False on a
// malformed escape.
bool DecodeOne(std::string_view s, size_t* i, char* out) {
  char c = s[*i];
  if (c == '+') {
    *out = ' ';
    ++*i;
    return true;
  }
  if (c != '%') {
    *out = c;
    ++*i;
    return true;
  }
  if (s.size() - *i < 3) return false;
  int hi = HexValue(s[*i + 1]);
  int lo = HexValue(s[*i + 2]);
  if (hi < 0 || lo < 0) return false;
  *out = static_cast<char>(hi * 16 + lo);
  *i += 3;
  return true;
}

// True if `encoded` percent-decodes to exactly `plain`. Compares while decoding so that the
// names of the parameters we skip cost no allocation.
bool DecodedEquals(std::string_view encoded, std::string_view plain) {
  size_t i = 0, j = 0;
  while (i < encoded.size()) {
    char c;
    if (!DecodeOne(encoded, &i, &c)) return false;
    if (j == plain.size() || plain[j] != c) return false;
    ++j;
  }
  return j == plain.size();
}

}  // namespace

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (ToLower(a[i]) != ToLower(b[i])) return false;
  }
  return true;
}

bool HeaderHasToken(std::string_view value, std::string_view token) {
  while (!value.empty()) {
    size_t comma = value.find(',');
    std::string_view element = value.substr(0, comma);
    while (!element.empty() && IsOws(element.front())) element.remove_prefix(1);
    while (!element.empty() && IsOws(element.back())) element.remove_suffix(1);
    if (!element.empty() && EqualsIgnoreCase(element, token)) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

std::optional<std::string> QueryParam(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::string_view key = pair.substr(0, eq);
    if (!DecodedEquals(key, name)) continue;
    std::string_view raw = eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    std::string value;
    value.reserve(raw.size());
    for (size_t i = 0; i < raw.size();) {
      char c;
      if (!DecodeOne(raw, &i, &c)) return std::nullopt;
      value += c;
    }
    return value;
  }
  return std::nullopt;
}

}  // namespace instant::http
