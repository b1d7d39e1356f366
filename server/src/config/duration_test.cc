#include "config/duration.h"

#include <gtest/gtest.h>

namespace instant::config {
namespace {

using std::chrono::milliseconds;
using namespace std::chrono_literals;

std::optional<milliseconds> Parse(std::string_view s) {
  std::string error;
  return ParseConfigDuration(s, &error);
}

std::string ParseError(std::string_view s) {
  std::string error;
  EXPECT_FALSE(ParseConfigDuration(s, &error).has_value()) << s;
  return error;
}

TEST(Duration, GoForms) {
  EXPECT_EQ(Parse("25s"), 25s);
  EXPECT_EQ(Parse("1m30s"), 90s);
  EXPECT_EQ(Parse("500ms"), 500ms);
  EXPECT_EQ(Parse("1h"), 1h);
  EXPECT_EQ(Parse("0"), 0ms);
  EXPECT_EQ(Parse("0s"), 0ms);
  EXPECT_EQ(Parse("1.5s"), 1500ms);
  EXPECT_EQ(Parse(".5s"), 500ms);
  EXPECT_EQ(Parse("1h2m3s4ms"), 3723004ms);
  EXPECT_EQ(Parse("+5m"), 5min);
  EXPECT_EQ(Parse("1500us"), 1ms);         // truncated to milliseconds
  EXPECT_EQ(Parse("1500\xc2\xb5s"), 1ms);  // µs
  EXPECT_EQ(Parse("1500\xce\xbcs"), 1ms);  // μs
  EXPECT_EQ(Parse("999999ns"), 0ms);
  EXPECT_EQ(Parse("2562047h"), milliseconds(2562047LL * 3600 * 1000));
}

TEST(Duration, PlainNumbersAreSeconds) {
  EXPECT_EQ(Parse("30"), 30s);
  EXPECT_EQ(Parse("0.3"), 300ms);  // exact, not 299 through a double
  EXPECT_EQ(Parse("1.5"), 1500ms);
  EXPECT_EQ(Parse("2."), 2s);
  EXPECT_EQ(Parse("0.0015"), 1ms);
  EXPECT_EQ(DurationFromSeconds(0.3), 300ms);
  EXPECT_EQ(DurationFromSeconds(25), 25s);
  EXPECT_FALSE(DurationFromSeconds(-1).has_value());
  EXPECT_FALSE(DurationFromSeconds(1e300).has_value());
}

TEST(Duration, Errors) {
  EXPECT_NE(ParseError("").find("empty"), std::string::npos);
  EXPECT_NE(ParseError("5 sec").find("unknown unit"), std::string::npos);
  EXPECT_NE(ParseError("5d").find("unknown unit \"d\""), std::string::npos);
  EXPECT_NE(ParseError("s").find("expected a number"), std::string::npos);
  EXPECT_NE(ParseError("-5s").find("negative"), std::string::npos);
  EXPECT_NE(ParseError("1.2.3").find("in duration \"1.2.3\""), std::string::npos);
  EXPECT_NE(ParseError("2562048h").find("out of range"), std::string::npos);
  EXPECT_NE(ParseError("99999999999999999999s").find("out of range"), std::string::npos);
  EXPECT_NE(ParseError("99999999999999999999").find("out of range"), std::string::npos);
  ParseError("1h 30m");
  ParseError("abc");
  ParseError(".s");
}

TEST(Duration, GoNegativeIsParsedThenRejectedByConfig) {
  std::string error;
  auto ns = ParseGoDuration("-1m", &error);
  ASSERT_TRUE(ns.has_value());
  EXPECT_EQ(*ns, -1min);
}

TEST(Duration, FormatLikeGo) {
  EXPECT_EQ(FormatDuration(0ms), "0s");
  EXPECT_EQ(FormatDuration(500ms), "500ms");
  EXPECT_EQ(FormatDuration(1500ms), "1.5s");
  EXPECT_EQ(FormatDuration(8s), "8s");
  EXPECT_EQ(FormatDuration(90s), "1m30s");
  EXPECT_EQ(FormatDuration(1h), "1h0m0s");
  EXPECT_EQ(FormatDuration(1h + 2min + 3s + 40ms), "1h2m3.04s");
}

}  // namespace
}  // namespace instant::config
