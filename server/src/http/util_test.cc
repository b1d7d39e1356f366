#include "http/util.h"

#include <gtest/gtest.h>

namespace instant::http {
namespace {

TEST(EqualsIgnoreCase, Ascii) {
  EXPECT_TRUE(EqualsIgnoreCase("Content-Length", "content-length"));
  EXPECT_TRUE(EqualsIgnoreCase("", ""));
  EXPECT_TRUE(EqualsIgnoreCase("X-API-KEY", "x-api-key"));
  EXPECT_FALSE(EqualsIgnoreCase("Host", "Hos"));
  EXPECT_FALSE(EqualsIgnoreCase("Host", "Hosx"));
  // Only ASCII letters fold: '@' (0x40) is not '`' (0x60), and bytes >= 0x80 match exactly.
  EXPECT_FALSE(EqualsIgnoreCase("@", "`"));
  EXPECT_FALSE(EqualsIgnoreCase("[", "{"));
  EXPECT_FALSE(EqualsIgnoreCase("\xc3\xa9", "\xc3\x89"));
}

TEST(HeaderHasToken, CommaList) {
  EXPECT_TRUE(HeaderHasToken("keep-alive, Upgrade", "upgrade"));
  EXPECT_TRUE(HeaderHasToken("Upgrade", "upgrade"));
  EXPECT_TRUE(HeaderHasToken(" close ", "close"));
  EXPECT_TRUE(HeaderHasToken("\tclose\t,x", "close"));
  EXPECT_TRUE(HeaderHasToken(",,close,,", "close"));
  EXPECT_TRUE(HeaderHasToken("a ,b, c", "c"));
  EXPECT_FALSE(HeaderHasToken("closed", "close"));
  EXPECT_FALSE(HeaderHasToken("keep-alive; close", "close"));
  EXPECT_FALSE(HeaderHasToken("", "close"));
  EXPECT_FALSE(HeaderHasToken("a,,b", ""));
  EXPECT_FALSE(HeaderHasToken("clo se", "close"));
}

TEST(QueryParam, Basic) {
  EXPECT_EQ(QueryParam("api_key=secret", "api_key").value(), "secret");
  EXPECT_EQ(QueryParam("a=1&api_key=secret&b=2", "api_key").value(), "secret");
  EXPECT_EQ(QueryParam("api_key=first&api_key=second", "api_key").value(), "first");
  EXPECT_FALSE(QueryParam("a=1&b=2", "api_key").has_value());
  EXPECT_FALSE(QueryParam("", "api_key").has_value());
  EXPECT_FALSE(QueryParam("api_key_x=1&xapi_key=2", "api_key").has_value());
  EXPECT_FALSE(QueryParam("API_KEY=1", "api_key").has_value());  // names are case-sensitive
}

TEST(QueryParam, EmptyValuesAndPairs) {
  EXPECT_EQ(QueryParam("flag", "flag").value(), "");
  EXPECT_EQ(QueryParam("flag=", "flag").value(), "");
  EXPECT_EQ(QueryParam("&&a=1&&", "a").value(), "1");
  EXPECT_EQ(QueryParam("a=b=c", "a").value(), "b=c");
  EXPECT_EQ(QueryParam("=x", "").value(), "x");
}

TEST(QueryParam, PercentDecoding) {
  EXPECT_EQ(QueryParam("k=a+b%20c%2Bd%2b", "k").value(), "a b c+d+");
  EXPECT_EQ(QueryParam("k=%e2%82%AC", "k").value(), "\xe2\x82\xac");
  EXPECT_EQ(QueryParam("k=%00", "k").value(), std::string(1, '\0'));
  EXPECT_EQ(QueryParam("api%5Fkey=1", "api_key").value(), "1");  // names are decoded too
  EXPECT_EQ(QueryParam("my+name=1", "my name").value(), "1");
  EXPECT_EQ(QueryParam("k=%26&x=1", "k").value(), "&");
}

TEST(QueryParam, BadEncoding) {
  EXPECT_FALSE(QueryParam("k=%zz", "k").has_value());
  EXPECT_FALSE(QueryParam("k=%4", "k").has_value());
  EXPECT_FALSE(QueryParam("k=%", "k").has_value());
  EXPECT_FALSE(QueryParam("k=a%g1", "k").has_value());
  // A badly encoded parameter that is not the one asked for does not matter...
  EXPECT_EQ(QueryParam("x=%zz&k=1", "k").value(), "1");
  EXPECT_EQ(QueryParam("%zz=1&k=2", "k").value(), "2");
  // ...but the first match decides: no fallback to a later copy.
  EXPECT_FALSE(QueryParam("k=%zz&k=1", "k").has_value());
}

}  // namespace
}  // namespace instant::http
