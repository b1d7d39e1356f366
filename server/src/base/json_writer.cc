#include "base/json_writer.h"

#include <charconv>
#include <cstring>

namespace instant::json {

void AppendString(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.reserve(out.size() + s.size() + 2);
  out += '"';
  size_t start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + start, i - start);
    start = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default: {
        char esc[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
        out.append(esc, 6);
      }
    }
  }
  out.append(s.data() + start, s.size() - start);
  out += '"';
}

void AppendRaw(std::string& out, std::string_view raw) {
  size_t start = 0;
  while (true) {
    const void* nl = std::memchr(raw.data() + start, '\n', raw.size() - start);
    if (nl == nullptr) break;
    size_t pos = static_cast<const char*>(nl) - raw.data();
    out.append(raw.data() + start, pos - start);
    start = pos + 1;
  }
  out.append(raw.data() + start, raw.size() - start);
}

size_t RawSizeWithoutNewlines(std::string_view raw) {
  size_t n = raw.size();
  for (char c : raw) n -= (c == '\n');
  return n;
}

void AppendUint(std::string& out, uint64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, r.ptr - buf);
}

void AppendInt(std::string& out, int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, r.ptr - buf);
}

}  // namespace instant::json
