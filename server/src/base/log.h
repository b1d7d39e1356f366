#pragma once
// Leveled logging to stderr, one line per record: "2026-11-29T21:20:00.123Z info  message".
// Thread-safe (one write(2) per record). Cheap when the level is filtered out: the format
// arguments are not evaluated into a string.

#include <string_view>

#include <fmt/core.h>

namespace instant::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3, kOff = 4 };

void SetLevel(Level level);
Level GetLevel();
// Parses "debug", "info", "warn"/"warning", "error", "none"/"off". Returns false if unknown.
bool ParseLevel(std::string_view text, Level* out);

void Write(Level level, fmt::string_view format, fmt::format_args args);

template <typename... Args>
void Debug(fmt::format_string<Args...> f, Args&&... args) {
  if (GetLevel() <= Level::kDebug) Write(Level::kDebug, f, fmt::make_format_args(args...));
}
template <typename... Args>
void Info(fmt::format_string<Args...> f, Args&&... args) {
  if (GetLevel() <= Level::kInfo) Write(Level::kInfo, f, fmt::make_format_args(args...));
}
template <typename... Args>
void Warn(fmt::format_string<Args...> f, Args&&... args) {
  if (GetLevel() <= Level::kWarn) Write(Level::kWarn, f, fmt::make_format_args(args...));
}
template <typename... Args>
void Error(fmt::format_string<Args...> f, Args&&... args) {
  if (GetLevel() <= Level::kError) Write(Level::kError, f, fmt::make_format_args(args...));
}

}  // namespace instant::log
