#include "config/json_error.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <random>

namespace instant::config {
namespace {

struct Case {
  std::string_view json;
  size_t line, column;
  std::string_view message_part;
};

TEST(JsonError, ValidDocuments) {
  for (std::string_view ok :
       {"{}", "[]", " {\"a\": [1, -2.5e3, true, false, null, \"x\\u00e9\\n\"]}\n", "\"s\"", "0",
        "-0", "18446744073709551615", "-9223372036854775808", "{\"a\":\"\\ud83d\\ude00\"}",
        "{\"\xc3\xa9\": \"\xe2\x82\xac\"}"}) {
    EXPECT_FALSE(LocateJsonError(ok).has_value()) << ok;
  }
}

TEST(JsonError, PositionsAndMessages) {
  const Case cases[] = {
      // The classic: a missing comma at the end of line 2 is seen at the start of line 3.
      {"{\n  \"port\": 8000\n  \"api_key\": \"x\"\n}", 3, 3,
       "expected ',' or '}' after the value of \"port\": add a ',' at the end of line 2"},
      {"{\"a\": 1 \"b\": 2}", 1, 9, "expected ',' or '}' after the value of \"a\", found '\"'"},
      {"{\"a\": 1,}", 1, 8, "trailing comma before '}'"},
      {"[1, 2,\n]", 1, 6, "trailing comma before ']'"},
      {"{\"a\": \"x}", 1, 7, "unterminated string"},
      {"{\n  // comment\n}", 2, 3, "comments are not allowed"},
      {"{'a': 1}", 1, 2, "double quotes"},
      {"{a: 1}", 1, 2, "keys must be strings in double quotes"},
      {"{\"a\" 1}", 1, 6, "expected ':' after the key \"a\""},
      {"{\"a\": [1, 2}", 1, 12, "mismatched '}'"},
      {"{\"a\": {\"b\": 1}", 1, 15, "'{' opened at line 1 is never closed"},
      {"{\"a\": }", 1, 7, "expected a value"},
      {"{\"a\": True}", 1, 7, "JSON spells them true, false and null"},
      {"{\"a\": yes}", 1, 7, "strings must be in double quotes"},
      {"{\"a\": 01}", 1, 7, "invalid number"},
      {"{\"a\": 1.}", 1, 7, "invalid number"},
      {"{\"a\": +1}", 1, 7, "unexpected '+'"},
      {"{\"a\": 18446744073709551616}", 1, 7, "integer out of range"},
      {"{\"a\": -9223372036854775809}", 1, 7, "integer out of range"},
      {"{\"a\": 1e400}", 1, 7, "number out of range"},
      {"{\"a\": \"\\x\"}", 1, 8, "invalid escape"},
      {"{\"a\": \"\\u12\"}", 1, 8, "4 hex digits"},
      {"{\"a\": \"\\udc00\"}", 1, 8, "lone low surrogate"},
      {"{\"a\": \"\\ud800x\"}", 1, 8, "high surrogate"},
      {"{\"a\": \"x\ty\"}", 1, 9, "control character"},
      {"{\"\xc3\xa9\": \"\xc3\"}", 1, 8, "invalid UTF-8"},  // column counts characters
      {"{\"a\": \"\xed\xa0\x80\"}", 1, 8, "invalid UTF-8"},
      {"{} {}", 1, 4, "only one top-level value"},
      {"", 1, 1, "no JSON value"},
      {"{\"a\":1}\n\n x", 3, 2, "after the end of the JSON document"},
  };
  for (const Case& c : cases) {
    auto e = LocateJsonError(c.json);
    ASSERT_TRUE(e.has_value()) << c.json;
    EXPECT_EQ(e->line, c.line) << c.json << " -> " << e->message;
    EXPECT_EQ(e->column, c.column) << c.json << " -> " << e->message;
    EXPECT_NE(e->message.find(c.message_part), std::string::npos) << c.json << " -> " << e->message;
  }
}

TEST(JsonError, DepthLimit) {
  std::string deep(kMaxJsonDepth + 1, '[');
  deep += std::string(kMaxJsonDepth + 1, ']');
  auto e = LocateJsonError(deep);
  ASSERT_TRUE(e.has_value());
  EXPECT_NE(e->message.find("nesting"), std::string::npos);
  std::string hostile(1 << 20, '[');  // no stack overflow: the scanner is iterative
  EXPECT_TRUE(LocateJsonError(hostile).has_value());
}

// Differential check against simdjson: on mutations of a realistic config, the scanner must call a
// document invalid exactly when simdjson does (except depth, where simdjson counts differently).
TEST(JsonError, AgreesWithSimdjson) {
  const std::string base =
      "{\n  \"port\": 8000, \"ping_interval\": \"25s\", \"x\": [1, -2.5e3, true, null],\n"
      "  \"namespaces\": [{\"name\": \"chat\", \"presence\": false, \"s\": "
      "\"\\u00e9\\n\xc3\xa9\"}]\n}";
  const char alphabet[] = "{}[],:\"\\ 0123456789.eE+-truefalsenul\n\t\xc3\xa9\x80\xff/u";
  std::mt19937 rng(12345);
  simdjson::dom::parser parser;
  int disagreements = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string s = base;
    int edits = 1 + static_cast<int>(rng() % 3);
    for (int k = 0; k < edits; ++k) {
      size_t pos = rng() % (s.size() + 1);
      switch (rng() % 3) {
        case 0:
          if (pos < s.size()) s.erase(pos, 1);
          break;
        case 1:
          s.insert(pos, 1, alphabet[rng() % (sizeof(alphabet) - 1)]);
          break;
        default:
          if (pos < s.size()) s[pos] = alphabet[rng() % (sizeof(alphabet) - 1)];
          break;
      }
    }
    simdjson::dom::element doc;
    bool simdjson_ok = parser.parse(s).get(doc) == simdjson::SUCCESS;
    bool scanner_ok = !LocateJsonError(s).has_value();
    if (simdjson_ok != scanner_ok) {
      ++disagreements;
      ADD_FAILURE() << "simdjson " << (simdjson_ok ? "accepts" : "rejects") << ": " << s;
      if (disagreements > 5) break;
    }
  }
}

}  // namespace
}  // namespace instant::config
