#include "base/json_writer.h"

#include <gtest/gtest.h>

namespace instant::json {
namespace {

TEST(JsonWriter, EscapesStrings) {
  std::string out;
  AppendString(out, std::string_view("a\"b\\c\nd\x01\xc3\xa9", 10));
  EXPECT_EQ(out, "\"a\\\"b\\\\c\\nd\\u0001\xc3\xa9\"");
}

TEST(JsonWriter, RawDropsNewlinesOnly) {
  std::string out;
  AppendRaw(out, "{\n  \"a\": \"x\\ny\"\r\n}\n");
  EXPECT_EQ(out, "{  \"a\": \"x\\ny\"\r}");
  EXPECT_EQ(RawSizeWithoutNewlines("{\n}\n"), 2u);
}

TEST(JsonWriter, Numbers) {
  std::string out;
  AppendUint(out, 18446744073709551615ull);
  out += ',';
  AppendInt(out, -42);
  EXPECT_EQ(out, "18446744073709551615,-42");
}

}  // namespace
}  // namespace instant::json
