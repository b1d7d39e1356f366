#include "redis/address.h"

#include <netinet/in.h>

#include <gtest/gtest.h>

namespace instant::redis {
namespace {

Address Parse(std::string_view text) {
  Address a;
  std::string error;
  EXPECT_TRUE(ParseAddress(text, &a, &error)) << text << ": " << error;
  return a;
}

std::string Error(std::string_view text) {
  Address a;
  std::string error;
  EXPECT_FALSE(ParseAddress(text, &a, &error)) << text;
  return error;
}

TEST(Address, HostPortForms) {
  Address a = Parse("localhost");
  EXPECT_EQ(a.host, "localhost");
  EXPECT_EQ(a.port, 6379);
  a = Parse("10.0.0.5:6380");
  EXPECT_EQ(a.host, "10.0.0.5");
  EXPECT_EQ(a.port, 6380);
  a = Parse("[::1]:7000");
  EXPECT_EQ(a.host, "::1");
  EXPECT_EQ(a.port, 7000);
  a = Parse("[::1]");
  EXPECT_EQ(a.port, 6379);
  EXPECT_TRUE(a.password.empty());
  EXPECT_EQ(a.db, 0);
}

TEST(Address, RedisUrl) {
  Address a = Parse("redis://:secret@127.0.0.1:6390/2");
  EXPECT_EQ(a.host, "127.0.0.1");
  EXPECT_EQ(a.port, 6390);
  EXPECT_EQ(a.user, "");
  EXPECT_EQ(a.password, "secret");
  EXPECT_EQ(a.db, 2);

  a = Parse("redis://app:s%40c%3Aret@redis.internal/15");
  EXPECT_EQ(a.user, "app");
  EXPECT_EQ(a.password, "s@c:ret");
  EXPECT_EQ(a.host, "redis.internal");
  EXPECT_EQ(a.port, 6379);
  EXPECT_EQ(a.db, 15);

  a = Parse("redis://onlypassword@h:1");
  EXPECT_EQ(a.user, "");
  EXPECT_EQ(a.password, "onlypassword");

  a = Parse("redis://[::1]:6379/");
  EXPECT_EQ(a.host, "::1");
  EXPECT_EQ(a.db, 0);

  // A password may contain '@': the host starts after the last one.
  a = Parse("redis://:p@ss@host:1");
  EXPECT_EQ(a.password, "p@ss");
  EXPECT_EQ(a.host, "host");
}

TEST(Address, KeepsDefaultsForAbsentParts) {
  Address a;
  a.password = "from-redis_password";
  a.db = 3;
  std::string error;
  ASSERT_TRUE(ParseAddress("127.0.0.1:6379", &a, &error));
  EXPECT_EQ(a.password, "from-redis_password");
  EXPECT_EQ(a.db, 3);
}

TEST(Address, Rejects) {
  EXPECT_NE(Error("").find("empty host"), std::string::npos);
  EXPECT_NE(Error(":6379").find("empty host"), std::string::npos);
  EXPECT_NE(Error("host:").find("empty port"), std::string::npos);
  EXPECT_NE(Error("host:0").find("invalid port"), std::string::npos);
  EXPECT_NE(Error("host:65536").find("invalid port"), std::string::npos);
  EXPECT_NE(Error("host:12a").find("invalid port"), std::string::npos);
  EXPECT_NE(Error("::1:6379").find("brackets"), std::string::npos);
  EXPECT_NE(Error("[::1").find("unterminated"), std::string::npos);
  EXPECT_NE(Error("rediss://host:6379").find("scheme"), std::string::npos);
  EXPECT_NE(Error("unix:///tmp/redis.sock").find("scheme"), std::string::npos);
  EXPECT_NE(Error("redis://host/abc").find("database"), std::string::npos);
  EXPECT_NE(Error("redis://host?db=1").find("query"), std::string::npos);
  EXPECT_NE(Error("redis://:%4@host").find("percent"), std::string::npos);
  EXPECT_NE(Error("redis://:%zz@host").find("percent"), std::string::npos);
}

TEST(Address, ToStringHidesCredentials) {
  Address a = Parse("redis://u:pw@[::1]:7/4");
  EXPECT_EQ(a.ToString(), "[::1]:7/4");
  EXPECT_EQ(Parse("h:1").ToString(), "h:1");
}

TEST(Address, ResolvesNumericAddresses) {
  Endpoint e;
  std::string error;
  ASSERT_TRUE(Resolve(Parse("127.0.0.1:6379"), &e, &error)) << error;
  EXPECT_EQ(e.addr.ss_family, AF_INET);
  EXPECT_EQ(e.size, sizeof(sockaddr_in));
  EXPECT_EQ(ntohs(reinterpret_cast<sockaddr_in*>(&e.addr)->sin_port), 6379);
  ASSERT_TRUE(Resolve(Parse("[::1]:6380"), &e, &error)) << error;
  EXPECT_EQ(e.addr.ss_family, AF_INET6);
  EXPECT_EQ(ntohs(reinterpret_cast<sockaddr_in6*>(&e.addr)->sin6_port), 6380);
  ASSERT_TRUE(Resolve(Parse("localhost:1"), &e, &error)) << error;  // /etc/hosts, no DNS
}

}  // namespace
}  // namespace instant::redis
