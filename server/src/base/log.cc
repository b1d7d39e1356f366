#include "base/log.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <ctime>

#include <fmt/format.h>

namespace instant::log {
namespace {
std::atomic<Level> g_level{Level::kInfo};
constexpr const char* kNames[] = {"debug", "info ", "warn ", "error"};
}  // namespace

void SetLevel(Level level) { g_level.store(level, std::memory_order_relaxed); }
Level GetLevel() { return g_level.load(std::memory_order_relaxed); }

bool ParseLevel(std::string_view t, Level* out) {
  if (t == "debug" || t == "trace") *out = Level::kDebug;
  else if (t == "info") *out = Level::kInfo;
  else if (t == "warn" || t == "warning") *out = Level::kWarn;
  else if (t == "error") *out = Level::kError;
  else if (t == "none" || t == "off") *out = Level::kOff;
  else return false;
  return true;
}

void Write(Level level, fmt::string_view format, fmt::format_args args) {
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  fmt::memory_buffer buf;
  fmt::format_to(std::back_inserter(buf), "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z {} ",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                 static_cast<int>(ms % 1000), kNames[static_cast<int>(level)]);
  fmt::vformat_to(std::back_inserter(buf), format, args);
  buf.push_back('\n');
  // One write per record keeps lines whole when several loops log at once.
  ssize_t ignored = ::write(STDERR_FILENO, buf.data(), buf.size());
  (void)ignored;
}

}  // namespace instant::log
