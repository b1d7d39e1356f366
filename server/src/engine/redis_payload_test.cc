// Pure tests of the Redis engine's codecs and hashing: payloads, history bodies, presence values,
// node info, FNV-1a-64 and jump consistent hash.

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "engine/redis_nodes.h"
#include "engine/redis_payload.h"
#include "engine/redis_shards.h"

namespace instant::engine {
namespace {

namespace rp = redis_payload;

TEST(RedisPayload, PublicationWithInfoRoundTrips) {
  Publication p;
  p.channel = "news:1";
  p.data = R"({"text":"a:b 12:x"})";
  p.has_info = true;
  p.user = "42";
  p.client = "c-1";
  p.conn_info = R"({"n":1})";
  p.chan_info = "";
  p.tags = R"({"k":"v"})";
  p.offset = 17;
  p.epoch = "AbCd1234";
  std::string out;
  rp::AppendPublication(out, p);
  EXPECT_EQ(out.rfind("#i1p6:news:12:178:AbCd1234", 0), 0u) << out;
  rp::Decoded d;
  ASSERT_TRUE(rp::Decode(out, &d));
  ASSERT_EQ(d.kind, rp::Kind::kPublication);
  EXPECT_EQ(d.pub.channel, p.channel);
  EXPECT_EQ(d.pub.data, p.data);
  EXPECT_TRUE(d.pub.has_info);
  EXPECT_EQ(d.pub.user, "42");
  EXPECT_EQ(d.pub.client, "c-1");
  EXPECT_EQ(d.pub.conn_info, p.conn_info);
  EXPECT_EQ(d.pub.chan_info, "");
  EXPECT_EQ(d.pub.tags, p.tags);
  EXPECT_EQ(d.pub.offset, 17u);
  EXPECT_EQ(d.pub.epoch, "AbCd1234");
}

TEST(RedisPayload, PublicationWithoutInfoAndBinaryData) {
  Publication p;
  p.channel = "c";
  const std::string data("\"\0\r\n\xff\"", 6);
  p.data = data;
  std::string out;
  rp::AppendPublication(out, p);
  rp::Decoded d;
  ASSERT_TRUE(rp::Decode(out, &d));
  EXPECT_FALSE(d.pub.has_info);
  EXPECT_EQ(d.pub.data, data);
  EXPECT_EQ(d.pub.offset, 0u);
  EXPECT_EQ(d.pub.epoch, "");
}

TEST(RedisPayload, JoinLeaveRoundTrip) {
  for (bool join : {true, false}) {
    JoinLeave e{"room", join, "u", "c", "{}", "[1]"};
    std::string out;
    rp::AppendJoinLeave(out, e);
    rp::Decoded d;
    ASSERT_TRUE(rp::Decode(out, &d));
    ASSERT_EQ(d.kind, rp::Kind::kJoinLeave);
    EXPECT_EQ(d.event.join, join);
    EXPECT_EQ(d.event.channel, "room");
    EXPECT_EQ(d.event.user, "u");
    EXPECT_EQ(d.event.client, "c");
    EXPECT_EQ(d.event.conn_info, "{}");
    EXPECT_EQ(d.event.chan_info, "[1]");
  }
}

TEST(RedisPayload, MalformedPayloadsAreRejected) {
  Publication p;
  p.channel = "ch";
  p.data = "{}";
  p.has_info = true;
  std::string good;
  rp::AppendPublication(good, p);
  rp::Decoded d;
  ASSERT_TRUE(rp::Decode(good, &d));
  // Every truncation fails; so does trailing garbage and a foreign magic.
  for (size_t n = 0; n < good.size(); ++n) EXPECT_FALSE(rp::Decode(good.substr(0, n), &d)) << n;
  EXPECT_FALSE(rp::Decode(good + "x", &d));
  EXPECT_FALSE(rp::Decode("__p1:1:e__xxxx", &d));
  EXPECT_FALSE(rp::Decode("#i1p999999999999:x", &d));
  EXPECT_FALSE(rp::Decode("#i1p2:ch1:x0:2:{}0:-", &d));  // offset not a number
  EXPECT_FALSE(rp::Decode("#i1p-1:ch", &d));
  EXPECT_FALSE(rp::Decode("#i1p2:ch1:10:2:{}0:j2:{}", &d));  // "j" info is history-only
}

TEST(RedisPayload, StoredBodyCarriesInfoAsJson) {
  Publication p;
  p.data = "{\"a\":1}";
  p.has_info = true;
  p.user = "u1";
  p.client = "c1";
  std::string body;
  rp::AppendPublicationBody(body, p);
  StoredPublication s;
  ASSERT_TRUE(rp::DecodeStoredBody(body, 5, &s));
  EXPECT_EQ(s.offset, 5u);
  EXPECT_EQ(s.data, "{\"a\":1}");
  EXPECT_EQ(s.info, R"({"user":"u1","client":"c1"})");
  EXPECT_EQ(s.tags, "");

  StoredPublication in;
  in.data = "1";
  in.info = R"({"client":"x","user":""})";
  in.tags = R"({"t":"1"})";
  body.clear();
  rp::AppendStoredBody(body, in);
  ASSERT_TRUE(rp::DecodeStoredBody(body, 9, &s));
  EXPECT_EQ(s.info, in.info);
  EXPECT_EQ(s.tags, in.tags);
  EXPECT_FALSE(rp::DecodeStoredBody(body + "?", 9, &s));
  EXPECT_FALSE(rp::DecodeStoredBody("1:11:x", 9, &s));
}

TEST(RedisPayload, PresenceValueRoundTrip) {
  PresenceEntry e{"client-1", "user:7", R"({"c":1})", ""};
  std::string v;
  rp::AppendPresenceValue(v, e);
  EXPECT_EQ(v.rfind("6:user:7", 0), 0u);  // user first: the stats script reads it
  PresenceEntry out;
  ASSERT_TRUE(rp::DecodePresenceValue("client-1", v, &out));
  EXPECT_EQ(out.client, "client-1");
  EXPECT_EQ(out.user, "user:7");
  EXPECT_EQ(out.conn_info, R"({"c":1})");
  EXPECT_EQ(out.chan_info, "");
  EXPECT_FALSE(rp::DecodePresenceValue("c", "3:ab", &out));
}

TEST(RedisShardsHash, Fnv1a64KnownValues) {
  EXPECT_EQ(Fnv1a64(""), 0xcbf29ce484222325ull);
  EXPECT_EQ(Fnv1a64("a"), 0xaf63dc4c8601ec8cull);
  EXPECT_EQ(Fnv1a64("foobar"), 0x85944171f73967e8ull);
}

TEST(RedisShardsHash, JumpHashIsStableAndMovesFewKeys) {
  // Reference values from the paper's algorithm (key 0 is always bucket 0).
  EXPECT_EQ(JumpConsistentHash(0, 1), 0);
  EXPECT_EQ(JumpConsistentHash(0, 100), 0);
  int moved = 0;
  int counts[4] = {0, 0, 0, 0};
  for (int i = 0; i < 10000; ++i) {
    const uint64_t key = Fnv1a64("channel:" + std::to_string(i));
    const int32_t b3 = JumpConsistentHash(key, 3);
    const int32_t b4 = JumpConsistentHash(key, 4);
    ASSERT_GE(b3, 0);
    ASSERT_LT(b3, 3);
    ++counts[b4];
    if (b3 != b4) {
      ++moved;
      EXPECT_EQ(b4, 3) << "a key may only move to the new bucket";
    }
  }
  EXPECT_NEAR(moved, 2500, 300);
  for (int c : counts) EXPECT_NEAR(c, 2500, 300);
}

TEST(RedisNodes, InfoRoundTripAndTable) {
  NodeStats s;
  s.version = "1.2.3";
  s.num_clients = 5;
  s.num_users = 4;
  s.num_channels = 3;
  s.num_subs = 2;
  s.uptime_s = 99;
  std::string json;
  EncodeNodeInfo(json, "uid-1", "node \"one\"", s);
  NodeSnapshot n;
  ASSERT_TRUE(DecodeNodeInfo(json, &n)) << json;
  EXPECT_EQ(n.uid, "uid-1");
  EXPECT_EQ(n.name, "node \"one\"");
  EXPECT_EQ(n.stats.version, "1.2.3");
  EXPECT_EQ(n.stats.num_clients, 5u);
  EXPECT_EQ(n.stats.num_subs, 2u);
  EXPECT_EQ(n.stats.uptime_s, 99u);
  EXPECT_TRUE(DecodeNodeInfo(R"({"uid":"x","future":[1,2]})", &n));
  EXPECT_FALSE(DecodeNodeInfo(R"({"name":"x"})", &n));
  EXPECT_FALSE(DecodeNodeInfo("nope", &n));

  NodeTable table;
  NodeSnapshot a;
  a.uid = "a";
  a.name = "b-node";
  NodeSnapshot b;
  b.uid = "b";
  b.name = "a-node";
  table.Update(a, 1000);
  table.Update(b, 2000);
  auto all = table.Snapshot(2500, 3000);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].uid, "b");  // sorted by name
  EXPECT_EQ(table.Snapshot(4500, 3000).size(), 1u);
  EXPECT_EQ(table.Prune(4500, 3000), 1u);
  EXPECT_EQ(table.Snapshot(4500, 3000)[0].uid, "b");
}

}  // namespace
}  // namespace instant::engine
