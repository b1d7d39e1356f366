#pragma once
// Durations as config.json spells them. Centrifugo (Go) writes them as Go duration strings
// ("25s", "1m30s", "500ms", "1h", "0"); v2/v3-era configs and environment variables also carry
// plain numbers, which we read as seconds. Internally every duration is milliseconds.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace instant::config {

// Parses Go's time.ParseDuration syntax: an optional sign, then one or more decimal numbers with a
// unit (ns, us, µs, μs, ms, s, m, h), e.g. "1h2m3.5s"; "0" needs no unit. Range is Go's (about
// ±292 years). Returns nullopt and sets *error ("missing unit in \"30\"") on failure.
std::optional<std::chrono::nanoseconds> ParseGoDuration(std::string_view text, std::string* error);

// A config duration from text: a Go duration or a plain non-negative decimal number of seconds
// ("30", "1.5"). Negative values are rejected. Sub-millisecond parts are truncated ("1500us" ->
// 1ms). Returns nullopt and sets *error on failure.
std::optional<std::chrono::milliseconds> ParseConfigDuration(std::string_view text,
                                                             std::string* error);

// A config duration from a JSON number of seconds (may be fractional). Rounded to the nearest
// millisecond. Returns nullopt for negative, non-finite or out-of-range values.
std::optional<std::chrono::milliseconds> DurationFromSeconds(double seconds);

// Formats like Go's Duration.String(), so messages echo the user's spelling: 0 -> "0s",
// 500ms -> "500ms", 1500ms -> "1.5s", 90s -> "1m30s", 3600s -> "1h0m0s".
std::string FormatDuration(std::chrono::milliseconds d);

}  // namespace instant::config
