#include "config/duration.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>

namespace instant::config {
namespace {

constexpr uint64_t kMaxNanos = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Consumes leading digits of *s into *value (Go's leadingInt). Returns false on overflow.
bool LeadingInt(std::string_view* s, uint64_t* value) {
  uint64_t x = 0;
  size_t i = 0;
  for (; i < s->size() && IsDigit((*s)[i]); ++i) {
    if (x > kMaxNanos / 10) return false;
    x = x * 10 + static_cast<uint64_t>((*s)[i] - '0');
    if (x > kMaxNanos) return false;
  }
  *value = x;
  s->remove_prefix(i);
  return true;
}

// Consumes the fraction digits of *s (Go's leadingFraction): the value and its power-of-ten
// scale, dropping digits that no longer fit (they are below a nanosecond anyway).
void LeadingFraction(std::string_view* s, uint64_t* value, double* scale) {
  uint64_t x = 0;
  double sc = 1;
  bool overflow = false;
  size_t i = 0;
  for (; i < s->size() && IsDigit((*s)[i]); ++i) {
    if (overflow) continue;
    if (x > kMaxNanos / 10) {
      overflow = true;
      continue;
    }
    uint64_t y = x * 10 + static_cast<uint64_t>((*s)[i] - '0');
    if (y > kMaxNanos) {
      overflow = true;
      continue;
    }
    x = y;
    sc *= 10;
  }
  *value = x;
  *scale = sc;
  s->remove_prefix(i);
}

uint64_t UnitNanos(std::string_view unit) {
  if (unit == "ns") return 1;
  if (unit == "us" || unit == "\xc2\xb5s" || unit == "\xce\xbcs")
    return 1000;  // µ (U+00B5), μ (U+03BC)
  if (unit == "ms") return 1000 * 1000;
  if (unit == "s") return 1000 * 1000 * 1000;
  if (unit == "m") return 60ull * 1000 * 1000 * 1000;
  if (unit == "h") return 3600ull * 1000 * 1000 * 1000;
  return 0;
}

std::string Quote(std::string_view text) {
  std::string out = "\"";
  for (char c : text.substr(0, 64)) {
    if (c == '"' || c == '\\') out += '\\';
    out += (static_cast<unsigned char>(c) < 0x20) ? '?' : c;
  }
  if (text.size() > 64) out += "...";
  return out + "\"";
}

}  // namespace

std::optional<std::chrono::nanoseconds> ParseGoDuration(std::string_view text, std::string* error) {
  const std::string_view orig = text;
  auto fail = [&](std::string_view why) -> std::optional<std::chrono::nanoseconds> {
    *error = fmt::format("{} in duration {}", why, Quote(orig));
    return std::nullopt;
  };
  bool neg = false;
  if (!text.empty() && (text[0] == '-' || text[0] == '+')) {
    neg = text[0] == '-';
    text.remove_prefix(1);
  }
  if (text == "0") return std::chrono::nanoseconds(0);
  if (text.empty()) return fail("empty value");
  uint64_t total = 0;
  while (!text.empty()) {
    if (!(text[0] == '.' || IsDigit(text[0]))) return fail("expected a number");
    uint64_t whole = 0;
    size_t before = text.size();
    if (!LeadingInt(&text, &whole)) return fail("value out of range");
    bool had_whole = text.size() != before;
    uint64_t frac = 0;
    double scale = 1;
    bool had_frac = false;
    if (!text.empty() && text[0] == '.') {
      text.remove_prefix(1);
      size_t b = text.size();
      LeadingFraction(&text, &frac, &scale);
      had_frac = text.size() != b;
    }
    if (!had_whole && !had_frac) return fail("expected a number");
    size_t u = 0;
    while (u < text.size() && text[u] != '.' && !IsDigit(text[u])) ++u;
    if (u == 0) return fail("missing unit (use ns, us, ms, s, m or h)");
    uint64_t unit = UnitNanos(text.substr(0, u));
    if (unit == 0) return fail(fmt::format("unknown unit {}", Quote(text.substr(0, u))));
    text.remove_prefix(u);
    if (whole > kMaxNanos / unit) return fail("value out of range");
    uint64_t v = whole * unit;
    if (frac > 0) {
      // Same float step as Go: the fraction contributes less than one unit, so a double suffices.
      v += static_cast<uint64_t>(static_cast<double>(frac) * (static_cast<double>(unit) / scale));
      if (v > kMaxNanos) return fail("value out of range");
    }
    total += v;
    if (total > kMaxNanos) return fail("value out of range");
  }
  int64_t signed_total = static_cast<int64_t>(total);
  return std::chrono::nanoseconds(neg ? -signed_total : signed_total);
}

std::optional<std::chrono::milliseconds> ParseConfigDuration(std::string_view text,
                                                             std::string* error) {
  // Plain decimal number: seconds (v2/v3 configs, environment variables). Parsed exactly rather
  // than through a double so "0.3" is 300ms, not 299.
  bool plain = !text.empty();
  bool seen_digit = false;
  int dots = 0;
  for (char c : text) {
    if (IsDigit(c)) {
      seen_digit = true;
    } else if (c == '.') {
      ++dots;
    } else {
      plain = false;
      break;
    }
  }
  if (plain && seen_digit && dots <= 1) {
    size_t dot = text.find('.');
    std::string_view whole = text.substr(0, dot);
    std::string_view frac =
        dot == std::string_view::npos ? std::string_view() : text.substr(dot + 1);
    uint64_t secs = 0;
    for (char c : whole) {
      if (secs > 9'000'000'000'000'000ull / 10000) {  // keeps secs * 1000 far from int64 overflow
        *error = fmt::format("value out of range in duration {}", Quote(text));
        return std::nullopt;
      }
      secs = secs * 10 + static_cast<uint64_t>(c - '0');
    }
    uint64_t ms = secs * 1000;
    uint64_t scale = 100;
    for (size_t i = 0; i < frac.size() && i < 3; ++i, scale /= 10) {
      ms += static_cast<uint64_t>(frac[i] - '0') * scale;
    }
    return std::chrono::milliseconds(static_cast<int64_t>(ms));
  }
  auto ns = ParseGoDuration(text, error);
  if (!ns) return std::nullopt;
  if (ns->count() < 0) {
    *error = fmt::format("negative duration {}", Quote(text));
    return std::nullopt;
  }
  return std::chrono::duration_cast<std::chrono::milliseconds>(*ns);
}

std::optional<std::chrono::milliseconds> DurationFromSeconds(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0 || seconds > 9.0e15) return std::nullopt;
  return std::chrono::milliseconds(std::llround(seconds * 1000.0));
}

std::string FormatDuration(std::chrono::milliseconds d) {
  int64_t ms = d.count();
  if (ms == 0) return "0s";
  std::string out;
  if (ms < 0) {
    out = "-";
    ms = -ms;  // durations in a Config are never negative; this only keeps the output sane
  }
  if (ms < 1000) return out + fmt::format("{}ms", ms);
  int64_t h = ms / 3'600'000;
  int64_t m = (ms / 60'000) % 60;
  int64_t s = (ms / 1000) % 60;
  int64_t frac = ms % 1000;
  if (h > 0) out += fmt::format("{}h", h);
  if (h > 0 || m > 0) out += fmt::format("{}m", m);
  out += fmt::format("{}", s);
  if (frac > 0) {
    std::string f = fmt::format("{:03}", frac);
    while (f.back() == '0') f.pop_back();
    out += "." + f;
  }
  return out + "s";
}

}  // namespace instant::config
