#include "base/log.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <string>

#include <fmt/format.h>

#include "base/json_writer.h"

namespace instant::log {
namespace {

std::atomic<Level> g_level{Level::kInfo};
std::atomic<Format> g_format{Format::kText};
constexpr const char* kTextNames[] = {"debug", "info ", "warn ", "error"};
constexpr const char* kJsonNames[] = {"debug", "info", "warn", "error"};

// Length of the valid UTF-8 sequence starting at s[i], or 0 if it is not one.
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  size_t n;
  uint32_t cp;
  if (c >= 0xC2 && c <= 0xDF) n = 2, cp = c & 0x1F;
  else if (c >= 0xE0 && c <= 0xEF) n = 3, cp = c & 0x0F;
  else if (c >= 0xF0 && c <= 0xF4) n = 4, cp = c & 0x07;
  else return 0;
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b(i + k) & 0x3F);
  }
  const bool overlong = (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000);
  if (overlong || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

// Text format: control characters escaped, everything else as is.
void AppendTextEscaped(std::string& out, std::string_view s) {
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if (c == '\t') out += "\\t";
    else if (c < 0x20 || c == 0x7F) fmt::format_to(std::back_inserter(out), "\\x{:02x}", c);
    else out.push_back(ch);
  }
}

void AppendTextValue(std::string& out, std::string_view v) {
  bool quote = v.empty();
  for (char c : v) quote = quote || c == ' ' || c == '"' || c == '=';
  if (!quote) return AppendTextEscaped(out, v);
  out.push_back('"');
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '"' || v[i] == '\\') {
      out.push_back('\\');
      out.push_back(v[i]);
    } else {
      AppendTextEscaped(out, v.substr(i, 1));
    }
  }
  out.push_back('"');
}

// JSON string: the json writer escapes quotes and control characters; invalid UTF-8 is replaced
// first (the writer's contract is valid UTF-8, and log input may come from any client).
void AppendJsonString(std::string& out, std::string_view s) {
  std::string clean;
  clean.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      clean.push_back(s[i++]);
    } else if (size_t n = Utf8SequenceLength(s, i); n != 0) {
      clean.append(s.substr(i, n));
      i += n;
    } else {
      clean += "\xEF\xBF\xBD";
      ++i;
    }
  }
  json::AppendString(out, clean);
}

}  // namespace

void SetLevel(Level level) { g_level.store(level, std::memory_order_relaxed); }
Level GetLevel() { return g_level.load(std::memory_order_relaxed); }
void SetFormat(Format format) { g_format.store(format, std::memory_order_relaxed); }
Format GetFormat() { return g_format.load(std::memory_order_relaxed); }

bool ParseLevel(std::string_view t, Level* out) {
  if (t == "debug" || t == "trace") *out = Level::kDebug;
  else if (t == "info") *out = Level::kInfo;
  else if (t == "warn" || t == "warning") *out = Level::kWarn;
  else if (t == "error") *out = Level::kError;
  else if (t == "none" || t == "off") *out = Level::kOff;
  else return false;
  return true;
}

bool ParseFormat(std::string_view t, Format* out) {
  if (t == "text") *out = Format::kText;
  else if (t == "json") *out = Format::kJson;
  else return false;
  return true;
}

std::string FormatRecord(Format format, int64_t now_ms, Level level, const With& with,
                         std::string_view message) {
  const std::time_t secs = static_cast<std::time_t>(now_ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  const std::string time = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900,
                                       tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                                       static_cast<int>(now_ms % 1000));
  const int lv = static_cast<int>(level);
  std::string out;
  out.reserve(64 + message.size());
  if (format == Format::kJson) {
    out += "{\"time\":\"" + time + "\",\"level\":\"" + kJsonNames[lv] + "\",\"msg\":";
    AppendJsonString(out, message);
    for (const Field& f : with.fields) {
      out.push_back(',');
      AppendJsonString(out, f.key);
      out.push_back(':');
      AppendJsonString(out, f.value);
    }
    out.push_back('}');
    return out;
  }
  out += time;
  out.push_back(' ');
  out += kTextNames[lv];
  out.push_back(' ');
  AppendTextEscaped(out, message);
  for (const Field& f : with.fields) {
    out.push_back(' ');
    AppendTextEscaped(out, f.key);
    out.push_back('=');
    AppendTextValue(out, f.value);
  }
  return out;
}

void Write(Level level, const With& with, fmt::string_view format, fmt::format_args args) {
  const auto now = std::chrono::system_clock::now();
  const int64_t ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  std::string line = FormatRecord(GetFormat(), ms, level, with, fmt::vformat(format, args));
  line.push_back('\n');
  ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;
}

}  // namespace instant::log
