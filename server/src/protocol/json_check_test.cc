#include "protocol/json_check.h"

#include <cctype>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <simdjson.h>

namespace instant::protocol {
namespace {

TEST(JsonCheckTest, AcceptsEveryKindOfValue) {
  for (const char* json : {"{}",
                           "[]",
                           "\"\"",
                           "0",
                           "-0",
                           "1",
                           "-1",
                           "12.5",
                           "-0.0e0",
                           "1E+2",
                           "1e-2",
                           "0.1e1",
                           "true",
                           "false",
                           "null",
                           R"({"a":1})",
                           R"({"a":{"b":[1,2,{"c":null}]},"d":"e"})",
                           R"([1,"x",[],{},true,false,null])",
                           R"("\" \\ \/ \b \f \n \r \t \u0000 \u00e9 \uFFFF")",
                           "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"",
                           " \t\r\n{ \"a\" : [ 1 , 2 ] }\r\n ",
                           R"({"a":1,"a":2})",
                           R"({"":""})"}) {
    EXPECT_TRUE(IsJsonValue(json)) << json;
  }
}

TEST(JsonCheckTest, AcceptsWhatGoAndJsAcceptButSimdjsonDomDoesNot) {
  // Syntax only, like Go's json.Valid and JS JSON.parse: magnitude and surrogate pairing are not
  // the splicer's business, and rejecting them would disconnect the client (3501).
  for (const char* json :
       {"123456789012345678901234567890", "1e400", "-1e400", "[18446744073709551616]",
        R"("\ud800")", R"("\udc00x")", R"({"emoji":"cut \ud83d"})"}) {
    EXPECT_TRUE(IsJsonValue(json)) << json;
    simdjson::dom::parser dom;
    simdjson::padded_string padded{std::string(json)};
    EXPECT_NE(dom.parse(padded).error(), simdjson::SUCCESS) << json;  // documents the difference
  }
}

TEST(JsonCheckTest, RejectsEverythingElse) {
  for (const char* json : {"",
                           " ",
                           "{",
                           "}",
                           "[",
                           "]",
                           "{]",
                           "[}",
                           "{\"a\":1",
                           "[1",
                           "[1,]",
                           "{\"a\":1,}",
                           "[,1]",
                           "{,}",
                           "{\"a\"}",
                           "{\"a\" 1}",
                           "{\"a\":}",
                           "{1:2}",
                           "{a:1}",
                           "{'a':1}",
                           "[1 2]",
                           "[1]]",
                           "{}}",
                           "{} {}",
                           "1 2",
                           "tru",
                           "nul",
                           "fals",
                           "truex",
                           "True",
                           "NULL",
                           "01",
                           "-",
                           "+1",
                           "1.",
                           ".5",
                           "1e",
                           "1e+",
                           "-a",
                           "0x10",
                           "NaN",
                           "Infinity",
                           "\"",
                           "\"abc",
                           "\"\\\"",
                           "\"\\x\"",
                           "\"\\u12\"",
                           "\"\\u12g4\"",
                           "\"\\U0041\"",
                           "\"a\tb\"",
                           "\"a\nb\"",
                           "\"\x01\"",
                           "'x'",
                           "undefined",
                           "[1,\"a\":2]",
                           "{\"a\":1 \"b\":2}",
                           "\xef\xbb\xbf{}"}) {
    EXPECT_FALSE(IsJsonValue(json)) << json;
  }
  EXPECT_FALSE(IsJsonValue(std::string_view("\"a\0b\"", 5)));
  EXPECT_FALSE(IsJsonValue(std::string_view("[1]\0", 4)));
}

TEST(JsonCheckTest, NestingIsBounded) {
  std::string ok = std::string(kMaxJsonDepth, '[') + std::string(kMaxJsonDepth, ']');
  EXPECT_TRUE(IsJsonValue(ok));
  std::string deep = std::string(kMaxJsonDepth + 1, '[') + std::string(kMaxJsonDepth + 1, ']');
  EXPECT_FALSE(IsJsonValue(deep));
  std::string objects;
  for (size_t i = 0; i < kMaxJsonDepth; ++i) objects += "{\"k\":";
  objects += "0" + std::string(kMaxJsonDepth, '}');
  EXPECT_TRUE(IsJsonValue(objects));
  std::string mixed = "{\"a\":[{\"b\":[[{}]]}]}";
  EXPECT_TRUE(IsJsonValue(mixed));
  EXPECT_FALSE(IsJsonValue("{\"a\":[{\"b\":[[{}]]]}]"));  // brackets of the wrong kind
}

// A plain, byte-at-a-time reading of one JSON string value surrounded by optional whitespace:
// the reference the scanner (16 bytes at a time where SSE2 is available) must agree with.
bool ReferenceStringDocument(std::string_view doc) {
  size_t i = 0;
  auto space = [&] {
    while (i < doc.size() && (doc[i] == ' ' || doc[i] == '\t' || doc[i] == '\n' || doc[i] == '\r')) ++i;
  };
  space();
  if (i == doc.size() || doc[i] != '"') return false;
  ++i;
  while (true) {
    if (i == doc.size()) return false;
    const unsigned char c = static_cast<unsigned char>(doc[i++]);
    if (c == '"') break;
    if (c < 0x20) return false;
    if (c != '\\') continue;
    if (i == doc.size()) return false;
    const char e = doc[i++];
    if (e == 'u') {
      for (int k = 0; k < 4; ++k, ++i) {
        if (i == doc.size() || !std::isxdigit(static_cast<unsigned char>(doc[i]))) return false;
      }
    } else if (std::string_view("\"\\/bfnrt").find(e) == std::string_view::npos) {
      return false;
    }
  }
  space();
  return i == doc.size();
}

// Checks `doc` in a buffer of exactly its size, so that ASan sees any read past its end.
bool CheckExact(const std::string& doc) {
  std::unique_ptr<char[]> exact(new char[doc.size() + 1]);
  std::memcpy(exact.get(), doc.data(), doc.size());
  return IsJsonValue(std::string_view(exact.get(), doc.size()));
}

TEST(JsonCheckTest, StringScanningAgreesWithTheByteAtATimeGrammarAtEveryOffset) {
  // One special byte (or escape) at every offset of strings from 0 to 49 bytes long, with the
  // string at different distances from the start and the end of the text: every 16-byte block
  // boundary and the scalar tail of the scan are crossed.
  const std::vector<std::string> specials = {
      "\"", "\\", "\\\"", "\\\\", "\\/", "\\b", "\\f", "\\n", "\\r", "\\t", "\\u00e9", "\\uD83D",
      "\\u12", "\\u12g4", "\\x", "\\", "\\U0041", std::string(1, '\0'), "\x01", "\x1f", "\t", "\n",
      " ", "\x7f", "\x80", "\xc3\xa9", "\xff", "'", "/"};
  size_t checked = 0;
  for (size_t length = 0; length < 50; ++length) {
    for (size_t at = 0; at <= length; ++at) {
      for (const std::string& special : specials) {
        const std::string content = std::string(at, 'x') + special + std::string(length - at, 'y');
        for (size_t before : {0, 1, 7}) {
          for (size_t after : {0, 1, 15, 16, 17}) {
            const std::string doc = std::string(before, ' ') + '"' + content + '"' + std::string(after, ' ');
            ASSERT_EQ(CheckExact(doc), ReferenceStringDocument(doc)) << doc;
            ++checked;
          }
        }
      }
    }
  }
  EXPECT_GT(checked, 100000u);
}

TEST(JsonCheckTest, QuoteAtEveryOffsetEndsTheString) {
  // ["<n bytes>",1]: the closing quote found at every position of a block, then the rest parsed.
  for (size_t n = 0; n < 70; ++n) {
    const std::string doc = "[\"" + std::string(n, 'a') + "\",1]";
    EXPECT_TRUE(CheckExact(doc)) << n;
    EXPECT_FALSE(CheckExact("[\"" + std::string(n, 'a') + "\"1]")) << n;
    EXPECT_FALSE(CheckExact("[\"" + std::string(n, 'a') + "\"")) << n;  // cut after the string
    EXPECT_FALSE(CheckExact("[\"" + std::string(n, 'a'))) << n;           // cut inside it
  }
}

TEST(JsonCheckTest, ControlBytesAreRefusedAnywhereInLongStrings) {
  for (int c = 0; c < 0x20; ++c) {
    for (size_t at : {0, 5, 15, 16, 17, 31, 32, 40}) {
      std::string doc = "{\"k\":\"" + std::string(48, 'v') + "\"}";
      doc[6 + at] = static_cast<char>(c);
      EXPECT_FALSE(CheckExact(doc)) << c << " at " << at;
    }
  }
  // 0x7f and bytes >= 0x80 are string content (UTF-8 is checked elsewhere).
  std::string doc(1, '"');
  doc.append(40, '\x7f').append(40, '\xff') += '"';
  EXPECT_TRUE(CheckExact(doc));
}

TEST(JsonCheckTest, EscapesAcrossBlockBoundaries) {
  for (size_t n = 0; n < 40; ++n) {
    const std::string pad(n, 'p');
    EXPECT_TRUE(CheckExact("\"" + pad + "\\\"" + pad + "\"")) << n;
    EXPECT_TRUE(CheckExact("\"" + pad + "\\\\\"")) << n;
    EXPECT_FALSE(CheckExact("\"" + pad + "\\\"")) << n;  // the escaped quote does not end it
    EXPECT_TRUE(CheckExact("\"" + pad + "\\u0041" + pad + "\"")) << n;
    EXPECT_FALSE(CheckExact("\"" + pad + "\\u004\"")) << n;
    EXPECT_FALSE(CheckExact("\"" + pad + "\\")) << n;
  }
}

TEST(JsonCheckTest, NeverReadsPastTheEnd) {
  // Slices of a valid document that stop inside a token must be rejected by looking only at
  // the slice (ASan builds catch any overread).
  const std::string doc =
      R"({"a":[1.5e3,"x\u0041",true,null,{"b":false}],"long string past one block":"0123456789abcdef0123"})";
  for (size_t n = 0; n < doc.size(); ++n) {
    std::unique_ptr<char[]> exact(new char[n]);
    std::memcpy(exact.get(), doc.data(), n);
    EXPECT_FALSE(IsJsonValue(std::string_view(exact.get(), n))) << n;
  }
  EXPECT_TRUE(IsJsonValue(doc));
}

}  // namespace
}  // namespace instant::protocol
