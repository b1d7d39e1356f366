#include "base/log.h"

#include <gtest/gtest.h>

namespace instant::log {
namespace {

constexpr int64_t kT = 1796000000123;  // 2026-11-30T...

TEST(LogTest, TextRecordWithFields) {
  EXPECT_EQ(FormatRecord(Format::kText, kT, Level::kInfo, With{{"client", "ab12"}, {"user", "jo e"}}, "slow, 12 bytes"),
            "2026-11-30T00:53:20.123Z info  slow, 12 bytes client=ab12 user=\"jo e\"");
  EXPECT_EQ(FormatRecord(Format::kText, kT, Level::kError, With{}, "x"), "2026-11-30T00:53:20.123Z error x");
}

TEST(LogTest, TextEscapesControlCharactersSoNoLineCanBeForged) {
  const std::string line = FormatRecord(Format::kText, kT, Level::kWarn, With{{"channel", "a\nb"}, {"empty", ""}},
                                        "bad\r\n2026-01-01T00:00:00.000Z error forged\x01");
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_EQ(line, "2026-11-30T00:53:20.123Z warn  bad\\r\\n2026-01-01T00:00:00.000Z error forged\\x01 "
                  "channel=a\\nb empty=\"\"");
  EXPECT_EQ(FormatRecord(Format::kText, kT, Level::kInfo, With{{"k", "say \"hi\"=\\"}}, "m"),
            "2026-11-30T00:53:20.123Z info  m k=\"say \\\"hi\\\"=\\\\\"");
}

TEST(LogTest, JsonRecord) {
  EXPECT_EQ(FormatRecord(Format::kJson, kT, Level::kWarn, With{{"client", "ab12"}}, "a \"q\"\n"),
            R"({"time":"2026-11-30T00:53:20.123Z","level":"warn","msg":"a \"q\"\n","client":"ab12"})");
}

TEST(LogTest, JsonReplacesInvalidUtf8) {
  EXPECT_EQ(FormatRecord(Format::kJson, kT, Level::kInfo, With{{"u", "\xC3\xA9\xFF"}}, "\xE2\x82"),
            "{\"time\":\"2026-11-30T00:53:20.123Z\",\"level\":\"info\",\"msg\":\"\xEF\xBF\xBD\xEF\xBF\xBD\","
            "\"u\":\"\xC3\xA9\xEF\xBF\xBD\"}");
}

TEST(LogTest, ParseLevelAndFormat) {
  Level l;
  EXPECT_TRUE(ParseLevel("warning", &l));
  EXPECT_EQ(l, Level::kWarn);
  EXPECT_FALSE(ParseLevel("loud", &l));
  Format f;
  EXPECT_TRUE(ParseFormat("json", &f));
  EXPECT_EQ(f, Format::kJson);
  EXPECT_FALSE(ParseFormat("xml", &f));
}

}  // namespace
}  // namespace instant::log
