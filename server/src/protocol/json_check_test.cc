#include "protocol/json_check.h"

#include <cstring>
#include <memory>
#include <string>

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

TEST(JsonCheckTest, NeverReadsPastTheEnd) {
  // Slices of a valid document that stop inside a token must be rejected by looking only at
  // the slice (ASan builds catch any overread).
  const std::string doc = R"({"a":[1.5e3,"x\u0041",true,null,{"b":false}]})";
  for (size_t n = 0; n < doc.size(); ++n) {
    std::unique_ptr<char[]> exact(new char[n]);
    std::memcpy(exact.get(), doc.data(), n);
    EXPECT_FALSE(IsJsonValue(std::string_view(exact.get(), n))) << n;
  }
  EXPECT_TRUE(IsJsonValue(doc));
}

}  // namespace
}  // namespace instant::protocol
