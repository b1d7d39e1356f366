#include "auth/claims_parser.h"

#include <string>

#include <gtest/gtest.h>

#include "base/base64.h"

namespace instant::auth {
namespace {

constexpr int64_t kNow = 1'700'000'000;

TokenStatus Connection(std::string_view payload, ConnectionClaims* out = nullptr,
                       ClaimChecks checks = {"", "", kNow}) {
  ConnectionClaims ignored;
  return ParseConnectionClaims(payload, checks, out ? out : &ignored);
}

TokenStatus Subscription(std::string_view payload, SubscriptionClaims* out = nullptr,
                         ClaimChecks checks = {"", "", kNow}) {
  SubscriptionClaims ignored;
  return ParseSubscriptionClaims(payload, checks, out ? out : &ignored);
}

TEST(TopLevelMemberValue, ReturnsRawBytesOfEachMember) {
  std::string json =
      " {\"a\" : 1 , \"b\":{ \"x\" : [1, \"]}\\\"\" ] }\r\n,\"c\":\"s\\\"}\",\"d\":null}  ";
  EXPECT_EQ(TopLevelMemberValue(json, 0).value(), "1");
  EXPECT_EQ(TopLevelMemberValue(json, 1).value(), "{ \"x\" : [1, \"]}\\\"\" ] }");
  EXPECT_EQ(TopLevelMemberValue(json, 2).value(), "\"s\\\"}\"");
  EXPECT_EQ(TopLevelMemberValue(json, 3).value(), "null");
  EXPECT_FALSE(TopLevelMemberValue(json, 4).has_value());
  EXPECT_FALSE(TopLevelMemberValue("{}", 0).has_value());
  EXPECT_FALSE(TopLevelMemberValue("[1]", 0).has_value());
  EXPECT_FALSE(TopLevelMemberValue("", 0).has_value());
  EXPECT_FALSE(TopLevelMemberValue("{\"a\":", 0).has_value());
  EXPECT_FALSE(TopLevelMemberValue("{\"a\":{", 0).has_value());
  EXPECT_FALSE(TopLevelMemberValue("{\"a", 0).has_value());
}

TEST(ClaimsParser, MinimalAndEmptyPayloads) {
  ConnectionClaims c;
  EXPECT_EQ(Connection("{}", &c), TokenStatus::kOk);
  EXPECT_EQ(c.user, "");
  EXPECT_FALSE(c.exp.has_value());
  EXPECT_EQ(c.info, "");
  // RFC 7519 §7.2 step 10: the claims set must be a JSON object.
  for (const char* payload :
       {"", " ", "[]", "[{}]", "1", "\"{}\"", "null", "true", "{", "{}x", "{\"sub\":\"u\",}",
        "{'sub':'u'}", "\xef\xbb\xbf{}", "{\"a\":\"\xff\"}"}) {
    EXPECT_EQ(Connection(payload), TokenStatus::kInvalid) << payload;
  }
}

TEST(ClaimsParser, ClaimTypes) {
  EXPECT_EQ(Connection(R"({"sub":1})"), TokenStatus::kInvalid);
  EXPECT_EQ(Connection(R"({"sub":["u"]})"), TokenStatus::kInvalid);
  EXPECT_EQ(Connection(R"({"sub":null})"), TokenStatus::kOk);  // null = absent
  EXPECT_EQ(Connection(R"({"exp":"2000000000"})"), TokenStatus::kInvalid);
  EXPECT_EQ(Connection(R"({"exp":true})"), TokenStatus::kInvalid);
  EXPECT_EQ(Connection(R"({"nbf":{}})"), TokenStatus::kInvalid);
  EXPECT_EQ(Connection(R"({"expire_at":"0"})"), TokenStatus::kInvalid);
  EXPECT_EQ(Connection(R"({"iss":5})"), TokenStatus::kInvalid);
  EXPECT_EQ(Connection(R"({"aud":5})"), TokenStatus::kInvalid);  // checked even when unconfigured
  EXPECT_EQ(Connection(R"({"aud":["a",5]})"), TokenStatus::kInvalid);
  EXPECT_EQ(Connection(R"({"channels":"news"})"), TokenStatus::kInvalid);
  EXPECT_EQ(Connection(R"({"channels":["a",1]})"), TokenStatus::kInvalid);
  EXPECT_EQ(Connection(R"({"subs":[]})"), TokenStatus::kInvalid);
  EXPECT_EQ(Connection(R"({"b64info":{}})"), TokenStatus::kInvalid);
  // Claims of the other kind and unknown claims are not looked at.
  EXPECT_EQ(Connection(R"({"client":1,"data":1,"override":1,"iat":"x","jti":[]})"),
            TokenStatus::kOk);
  EXPECT_EQ(Subscription(R"({"channel":"c","channels":1,"meta":1,"subs":1})"), TokenStatus::kOk);
  EXPECT_EQ(Subscription(R"({"channel":"c","client":1})"), TokenStatus::kInvalid);
  EXPECT_EQ(Subscription(R"({"channel":"c","override":"x"})"), TokenStatus::kInvalid);
}

TEST(ClaimsParser, DuplicateClaimsAreAmbiguous) {
  EXPECT_EQ(Connection(R"({"sub":"a","sub":"b"})"), TokenStatus::kInvalid);
  EXPECT_EQ(Connection(R"({"exp":1,"exp":9999999999})"), TokenStatus::kInvalid);
  // Escapes do not hide a duplicate: keys are compared unescaped.
  EXPECT_EQ(Connection(R"({"sub":"a","s\u0075b":"b"})"), TokenStatus::kInvalid);
  EXPECT_EQ(Connection(R"({"x":1,"x":2})"), TokenStatus::kOk);  // not ours to judge
}

TEST(ClaimsParser, NumericDates) {
  ConnectionClaims c;
  EXPECT_EQ(Connection(R"({"exp":1700000001})", &c), TokenStatus::kOk);
  EXPECT_EQ(c.exp, 1700000001);
  EXPECT_EQ(Connection(R"({"exp":1700000000})"), TokenStatus::kExpired);  // exp <= now
  EXPECT_EQ(Connection(R"({"exp":0})"), TokenStatus::kExpired);
  EXPECT_EQ(Connection(R"({"exp":-5})"), TokenStatus::kExpired);
  EXPECT_EQ(Connection(R"({"nbf":1700000000})"), TokenStatus::kOk);
  EXPECT_EQ(Connection(R"({"nbf":1700000001})"), TokenStatus::kExpired);
  // Fractional: exp floors, nbf ceils (both towards rejection).
  EXPECT_EQ(Connection(R"({"exp":1700000000.9})"), TokenStatus::kExpired);
  EXPECT_EQ(Connection(R"({"exp":1700000001.5})", &c), TokenStatus::kOk);
  EXPECT_EQ(c.exp, 1700000001);
  EXPECT_EQ(Connection(R"({"nbf":1700000000.1})"), TokenStatus::kExpired);
  EXPECT_EQ(Connection(R"({"nbf":1699999999.1})"), TokenStatus::kOk);
  EXPECT_EQ(Connection(R"({"nbf":1699999999.0})"), TokenStatus::kOk);
  EXPECT_EQ(Connection(R"({"exp":1.7e9,"nbf":1.6e9})"), TokenStatus::kExpired);
  // Saturation instead of overflow.
  EXPECT_EQ(Connection(R"({"exp":18446744073709551615})", &c), TokenStatus::kOk);
  EXPECT_EQ(c.exp, INT64_MAX);
  EXPECT_EQ(Connection(R"({"exp":1e300})", &c), TokenStatus::kOk);
  EXPECT_EQ(c.exp, INT64_MAX);
  EXPECT_EQ(Connection(R"({"nbf":-1e300})"), TokenStatus::kOk);
  EXPECT_EQ(Connection(R"({"exp":1e999})"), TokenStatus::kInvalid);  // not a JSON double
  // expire_at: passed through for the session (0 = never; the past is the session's 110).
  EXPECT_EQ(Connection(R"({"exp":1700000100,"expire_at":0})", &c), TokenStatus::kOk);
  EXPECT_EQ(c.expire_at, 0);
  EXPECT_EQ(Connection(R"({"expire_at":5})", &c), TokenStatus::kOk);
  EXPECT_EQ(c.expire_at, 5);
  EXPECT_FALSE(c.exp.has_value());
}

TEST(ClaimsParser, ExpiryIsReportedBeforeAudienceAndIssuer) {
  ClaimChecks checks{"aud1", "iss1", kNow};
  EXPECT_EQ(Connection(R"({"exp":1,"aud":"other"})", nullptr, checks), TokenStatus::kExpired);
  EXPECT_EQ(Connection(R"({"exp":1,"sub":5})", nullptr, checks), TokenStatus::kInvalid);
}

TEST(ClaimsParser, RawJsonKeepsIssuerBytes) {
  ConnectionClaims c;
  std::string payload =
      "{\"sub\":\"42\",\"info\" :\t{ \"name\" : \"Ann\",\r\n \"tags\":[1, 2.50, \"\\u00e9\"] } ,"
      "\"meta\":[ true ],\"subs\":{\"c\": {\"data\" : 1}}}";
  ASSERT_EQ(Connection(payload, &c), TokenStatus::kOk);
  EXPECT_EQ(c.user, "42");
  EXPECT_EQ(c.info, "{ \"name\" : \"Ann\",\r\n \"tags\":[1, 2.50, \"\\u00e9\"] }");
  EXPECT_EQ(c.meta, "[ true ]");
  EXPECT_EQ(c.subs, "{\"c\": {\"data\" : 1}}");
  ASSERT_EQ(Connection(R"({"info":"str"})", &c), TokenStatus::kOk);
  EXPECT_EQ(c.info, "\"str\"");
  ASSERT_EQ(Connection(R"({"info":12.0e1 })", &c), TokenStatus::kOk);
  EXPECT_EQ(c.info, "12.0e1");
  ASSERT_EQ(Connection(R"({"info":null})", &c), TokenStatus::kOk);
  EXPECT_EQ(c.info, "");
}

TEST(ClaimsParser, Base64Info) {
  ConnectionClaims c;
  std::string b64 = Base64Encode("{\"a\": 1}");
  ASSERT_EQ(Connection("{\"b64info\":\"" + b64 + "\"}", &c), TokenStatus::kOk);
  EXPECT_EQ(c.info, "{\"a\": 1}");
  // b64info wins over info (Centrifugo); url alphabet and missing padding are accepted.
  ASSERT_EQ(Connection("{\"info\":[1],\"b64info\":\"" + Base64UrlEncode("[2]") + "\"}", &c),
            TokenStatus::kOk);
  EXPECT_EQ(c.info, "[2]");
  // Not base64: the token is broken.
  EXPECT_EQ(Connection(R"({"b64info":"!!"})"), TokenStatus::kInvalid);
  // Base64 of non-JSON (binary meant for protobuf clients): ignored, info stays.
  ASSERT_EQ(Connection("{\"info\":[1],\"b64info\":\"" + Base64Encode("\x01\x02") + "\"}", &c),
            TokenStatus::kOk);
  EXPECT_EQ(c.info, "[1]");
  ASSERT_EQ(Connection(R"({"b64info":""})", &c), TokenStatus::kOk);
  EXPECT_EQ(c.info, "");
}

TEST(ClaimsParser, ConnectionChannelRules) {
  ConnectionClaims c;
  ASSERT_EQ(Connection(R"({"channels":["news","chat:1",""]})", &c), TokenStatus::kOk);
  EXPECT_EQ(c.channels, (std::vector<std::string>{"news", "chat:1", ""}));
  EXPECT_EQ(Connection(R"({"channel":"news"})"), TokenStatus::kInvalid);
  EXPECT_EQ(Connection(R"({"channel":5})"), TokenStatus::kInvalid);
  EXPECT_EQ(Connection(R"({"channel":""})"), TokenStatus::kOk);  // as Centrifugo
  EXPECT_EQ(Connection(R"({"channel":null})"), TokenStatus::kOk);
}

TEST(ClaimsParser, SubscriptionClaims) {
  SubscriptionClaims s;
  std::string payload =
      "{\"sub\":\"u1\",\"channel\":\"$private:1\",\"client\":\"c-1\","
      "\"exp\":1700000100,\"expire_at\":1700000200,\"info\":{\"role\": 1},"
      "\"data\":[ \"x\" ],\"override\":{\"presence\":{\"value\":true}}}";
  ASSERT_EQ(Subscription(payload, &s), TokenStatus::kOk);
  EXPECT_EQ(s.user, "u1");
  EXPECT_EQ(s.channel, "$private:1");
  EXPECT_EQ(s.client, "c-1");
  EXPECT_EQ(s.exp, 1700000100);
  EXPECT_EQ(s.expire_at, 1700000200);
  EXPECT_EQ(s.info, "{\"role\": 1}");
  EXPECT_EQ(s.data, "[ \"x\" ]");
  EXPECT_EQ(s.overrides, "{\"presence\":{\"value\":true}}");

  std::string b64 = "{\"channel\":\"c\",\"data\":1,\"b64data\":\"" + Base64Encode("{\"d\":2}") +
                    "\",\"b64info\":\"" + Base64Encode("\"i\"") + "\"}";
  ASSERT_EQ(Subscription(b64, &s), TokenStatus::kOk);
  EXPECT_EQ(s.data, "{\"d\":2}");
  EXPECT_EQ(s.info, "\"i\"");
  EXPECT_EQ(Subscription(R"({"channel":"c","b64data":"%"})"), TokenStatus::kInvalid);

  EXPECT_EQ(Subscription(R"({"sub":"u"})"), TokenStatus::kInvalid);  // a connection token
  EXPECT_EQ(Subscription(R"({"channel":""})"), TokenStatus::kInvalid);
  EXPECT_EQ(Subscription(R"({"channel":null})"), TokenStatus::kInvalid);
  EXPECT_EQ(Subscription(R"({"channel":["c"]})"), TokenStatus::kInvalid);
  EXPECT_EQ(Subscription(R"({"channel":"c","exp":5})"), TokenStatus::kExpired);
}

TEST(ClaimsParser, OutputUntouchedOnFailure) {
  ConnectionClaims c;
  c.user = "keep";
  EXPECT_EQ(Connection(R"({"sub":"x","exp":1})", &c), TokenStatus::kExpired);
  EXPECT_EQ(Connection(R"({"sub":"x","channel":"c"})", &c), TokenStatus::kInvalid);
  EXPECT_EQ(c.user, "keep");
}

TEST(ClaimsParser, LargePayloadUsesItsOwnParser) {
  std::string big = "{\"sub\":\"u\",\"info\":\"" + std::string(200 * 1024, 'a') + "\"}";
  ConnectionClaims c;
  ASSERT_EQ(Connection(big, &c), TokenStatus::kOk);
  EXPECT_EQ(c.info.size(), 200u * 1024 + 2);
  ASSERT_EQ(Connection(R"({"sub":"small"})", &c), TokenStatus::kOk);
  EXPECT_EQ(c.user, "small");
}

}  // namespace
}  // namespace instant::auth
