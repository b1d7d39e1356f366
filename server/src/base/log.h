#pragma once
// Leveled, structured logging to stderr, one line per record, one write(2) per record (so lines
// stay whole when several loops log at once). Cheap when the level is filtered out: nothing is
// formatted.
//
// A record is a level, a message and optional fields (key/value pairs, e.g. the client id):
//
//   log::Info(log::With{{"client", id}, {"user", user}}, "disconnecting slow client, {} bytes queued", n);
//
// Two output formats (log_format):
//   text: 2026-11-29T21:20:00.123Z info  disconnecting slow client, 12 bytes queued client=ab12 user="jo e"
//   json: {"time":"2026-11-29T21:20:00.123Z","level":"info","msg":"disconnecting ...","client":"ab12","user":"jo e"}
// Text values are quoted when they hold a space, '"' or '=' (or are empty). Control characters
// in messages and values are escaped in both formats (\n, \t, \xNN), so a channel name or header
// sent by a client can never start a forged log line; in json, invalid UTF-8 bytes become U+FFFD.

#include <initializer_list>
#include <string_view>

#include <fmt/core.h>

namespace instant::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3, kOff = 4 };
enum class Format { kText = 0, kJson = 1 };

void SetLevel(Level level);
Level GetLevel();
// Parses "debug"/"trace", "info", "warn"/"warning", "error", "none"/"off". Returns false if unknown.
bool ParseLevel(std::string_view text, Level* out);

void SetFormat(Format format);
Format GetFormat();
// Parses "text" or "json". Returns false if unknown.
bool ParseFormat(std::string_view text, Format* out);

struct Field {
  std::string_view key;    // a plain identifier, written as is
  std::string_view value;  // any bytes
};
// The fields of one record; the views must outlive the log call only.
struct With {
  With() = default;
  With(std::initializer_list<Field> f) : fields(f) {}
  std::initializer_list<Field> fields;
};

void Write(Level level, const With& with, fmt::string_view format, fmt::format_args args);

// Formats one record as Write would, without the trailing newline (tests, and `now_ms` fixed).
std::string FormatRecord(Format format, int64_t now_ms, Level level, const With& with,
                         std::string_view message);

#define INSTANT_LOG_LEVEL_FUNCTION(Name, level)                                               \
  template <typename... Args>                                                                 \
  void Name(fmt::format_string<Args...> f, Args&&... args) {                                  \
    if (GetLevel() <= (level)) Write((level), With{}, f, fmt::make_format_args(args...));     \
  }                                                                                           \
  template <typename... Args>                                                                 \
  void Name(const With& with, fmt::format_string<Args...> f, Args&&... args) {               \
    if (GetLevel() <= (level)) Write((level), with, f, fmt::make_format_args(args...));       \
  }

INSTANT_LOG_LEVEL_FUNCTION(Debug, Level::kDebug)
INSTANT_LOG_LEVEL_FUNCTION(Info, Level::kInfo)
INSTANT_LOG_LEVEL_FUNCTION(Warn, Level::kWarn)
INSTANT_LOG_LEVEL_FUNCTION(Error, Level::kError)
#undef INSTANT_LOG_LEVEL_FUNCTION

}  // namespace instant::log
