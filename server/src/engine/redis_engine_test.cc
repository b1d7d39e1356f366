// RedisEngine against real redis-servers (one or two per test, on free loopback ports). Two
// engines on two loops play two nodes sharing one Redis. The test thread drives both loops
// (RunUntil polls them with a deadline): every wait is bounded, none is a fixed sleep.

#include "engine/redis_engine.h"

#include <algorithm>
#include <time.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "redis/test_redis_server.h"

namespace instant::engine {
namespace {

using redis::testing::RedisServer;

struct GotPub {
  std::string channel, data, user, client, conn_info, chan_info, tags, epoch;
  bool has_info = false;
  uint64_t offset = 0;
};
struct GotEvent {
  std::string channel, user, client;
  bool join = false;
};

class Recorder final : public LocalDelivery {
 public:
  void DeliverLocal(const Publication& p) override {
    std::lock_guard lock(mu);
    pubs.push_back(GotPub{std::string(p.channel), std::string(p.data), std::string(p.user), std::string(p.client),
                          std::string(p.conn_info), std::string(p.chan_info), std::string(p.tags),
                          std::string(p.epoch), p.has_info, p.offset});
  }
  void DeliverJoinLeave(const JoinLeave& e) override {
    std::lock_guard lock(mu);
    events.push_back(GotEvent{std::string(e.channel), std::string(e.user), std::string(e.client), e.join});
  }
  size_t count() {
    std::lock_guard lock(mu);
    return pubs.size();
  }
  size_t count(std::string_view channel) {
    std::lock_guard lock(mu);
    return std::count_if(pubs.begin(), pubs.end(), [&](const GotPub& p) { return p.channel == channel; });
  }
  std::mutex mu;
  std::vector<GotPub> pubs;
  std::vector<GotEvent> events;
};

redis::Address AddressOf(const RedisServer& s) {
  redis::Address a;
  a.host = "127.0.0.1";
  a.port = s.port();
  return a;
}

// One "node": a loop, its local delivery and a RedisEngine. The engine goes before the loop.
struct Node {
  Node(int index, RedisEngineOptions options) : loop(index) {
    engine = std::make_unique<RedisEngine>(std::move(options), &rec, std::vector<net::Loop*>{&loop});
  }
  net::Loop loop;
  Recorder rec;
  std::unique_ptr<RedisEngine> engine;
};

const HistoryOptions kHistory{100, 60000, 0};

class RedisEngineTest : public ::testing::Test {
 protected:
  RedisEngineOptions Options(std::vector<const RedisServer*> servers, std::string uid = "") {
    RedisEngineOptions o;
    for (const RedisServer* s : servers) o.addresses.push_back(AddressOf(*s));
    o.prefix = "test";
    o.node_uid = uid;
    o.node_name = uid;
    o.node_info_interval_ms = 100;
    return o;
  }
  Node& AddNode(RedisEngineOptions o) {
    nodes_.push_back(std::make_unique<Node>(static_cast<int>(nodes_.size()), std::move(o)));
    return *nodes_.back();
  }
  Node& StartedNode(RedisEngineOptions o) {
    Node& n = AddNode(std::move(o));
    n.engine->Start();
    EXPECT_TRUE(RunUntil([&] { return n.engine->available(); })) << "engine did not connect";
    return n;
  }

  bool RunUntil(const std::function<bool()>& done, int timeout_ms = 10000) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (!done()) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      for (auto& n : nodes_) n->loop.RunOnce(1);
    }
    return true;
  }
  // Runs the loops until every command issued so far on `n`'s connection to `channel`'s shard
  // has been answered: a PING round trip through the same FIFO.
  void Settle(Node& n, std::string_view channel) {
    bool done = false;
    n.engine->presence().Stats(channel, 0, [&](bool, PresenceStats) { done = true; });
    ASSERT_TRUE(RunUntil([&] { return done; }));
  }

  PublishResult Publish(Node& n, std::string_view channel, std::string_view data, HistoryOptions h = kHistory,
                        std::string_view key = "") {
    Publication p;
    p.channel = channel;
    p.data = data;
    Engine::PublishOptions o;
    o.idempotency_key = key;
    bool called = false;
    PublishResult result;
    n.engine->Publish(p, h, o, n.loop.now_ms(), [&](const PublishResult& r) {
      result = r;
      called = true;
    });
    EXPECT_TRUE(RunUntil([&] { return called; })) << "publish never completed";
    return result;
  }
  HistoryResult Read(Node& n, std::string_view channel, HistoryQuery q, HistoryOptions h = kHistory,
                     int max_limit = 0) {
    bool called = false;
    HistoryResult result;
    n.engine->history().Read(channel, q, h, max_limit, 0, [&](HistoryResult r) {
      result = std::move(r);
      called = true;
    });
    EXPECT_TRUE(RunUntil([&] { return called; })) << "read never completed";
    return result;
  }
  PresenceStats Stats(Node& n, std::string_view channel, bool* ok_out = nullptr) {
    bool called = false, ok = false;
    PresenceStats stats;
    n.engine->presence().Stats(channel, 0, [&](bool k, PresenceStats s) {
      ok = k;
      stats = s;
      called = true;
    });
    EXPECT_TRUE(RunUntil([&] { return called; }));
    if (ok_out) *ok_out = ok;
    EXPECT_TRUE(ok || ok_out);
    return stats;
  }
  // Interest that is confirmed: SUBSCRIBE answered before we go on.
  void Interest(Node& n, std::string_view channel, bool on) {
    n.engine->SetChannelInterest(channel, on);
    // The subscriber client answers in order: once a marker channel subscribed after it receives
    // a publication, the (UN)SUBSCRIBE of `channel` has been processed.
    // On the channel's shard: its subscriber connection answers in order.
    std::string marker;
    do {
      marker = std::string("marker.") + std::to_string(marker_++);
    } while (n.engine->ShardOf(marker) != n.engine->ShardOf(channel));
    n.engine->SetChannelInterest(marker, true);
    Node& publisher = *nodes_.front();
    const size_t before = n.rec.count(marker);
    ASSERT_TRUE(RunUntil([&] {
      Publish(publisher, marker, "0", HistoryOptions{});
      for (int i = 0; i < 5; ++i)
        for (auto& x : nodes_) x->loop.RunOnce(1);
      return n.rec.count(marker) > before;
    }));
    n.engine->SetChannelInterest(marker, false);
  }

  std::vector<std::unique_ptr<Node>> nodes_;
  int marker_ = 0;
};

TEST_F(RedisEngineTest, PublicationWithHistoryReachesTheOtherNodeWithOffsetAndEpoch) {
  RedisServer server;
  ASSERT_TRUE(server.running());
  Node& a = StartedNode(Options({&server}));
  Node& b = StartedNode(Options({&server}));
  Interest(b, "news", true);

  Publication p;
  p.channel = "news";
  p.data = R"({"x":1})";
  p.has_info = true;
  p.user = "u1";
  p.client = "c1";
  p.conn_info = R"({"name":"A"})";
  p.tags = R"({"t":"v"})";
  PublishResult r;
  bool called = false;
  a.engine->Publish(p, kHistory, {}, 0, [&](const PublishResult& x) {
    r = x;
    called = true;
  });
  EXPECT_FALSE(called) << "Redis answers later";
  ASSERT_TRUE(RunUntil([&] { return called && b.rec.count("news") == 1; }));
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.offset, 1u);
  EXPECT_EQ(r.epoch.size(), 8u);
  const GotPub& got = b.rec.pubs.back();
  EXPECT_EQ(got.data, R"({"x":1})");
  EXPECT_EQ(got.offset, 1u);
  EXPECT_EQ(got.epoch, r.epoch);
  EXPECT_TRUE(got.has_info);
  EXPECT_EQ(got.user, "u1");
  EXPECT_EQ(got.client, "c1");
  EXPECT_EQ(got.conn_info, R"({"name":"A"})");
  EXPECT_EQ(got.tags, R"({"t":"v"})");
  EXPECT_EQ(a.rec.count("news"), 0u) << "A is not interested";

  // Without history: no offset, no epoch, still delivered.
  PublishResult plain = Publish(a, "news", "2", HistoryOptions{});
  EXPECT_TRUE(plain.ok);
  EXPECT_EQ(plain.offset, 0u);
  ASSERT_TRUE(RunUntil([&] { return b.rec.count("news") == 2; }));
  EXPECT_EQ(b.rec.pubs.back().offset, 0u);
  EXPECT_EQ(b.rec.pubs.back().epoch, "");
  EXPECT_FALSE(b.rec.pubs.back().has_info);

  // Join/leave.
  a.engine->PublishJoinLeave(JoinLeave{"news", true, "u9", "c9", "", ""});
  a.engine->PublishJoinLeave(JoinLeave{"news", false, "u9", "c9", "", ""});
  ASSERT_TRUE(RunUntil([&] {
    std::lock_guard lock(b.rec.mu);
    return b.rec.events.size() == 2;
  }));
  EXPECT_TRUE(b.rec.events[0].join);
  EXPECT_FALSE(b.rec.events[1].join);
  EXPECT_EQ(b.rec.events[1].client, "c9");
}

TEST_F(RedisEngineTest, OffsetsArriveInOrderUnderConcurrentPublishesFromBothNodes) {
  RedisServer server;
  Node& a = StartedNode(Options({&server}));
  Node& b = StartedNode(Options({&server}));
  Interest(a, "race", true);
  Interest(b, "race", true);
  constexpr int kPerNode = 1000;
  std::set<uint64_t> offsets;
  int failed = 0;
  int done = 0;
  for (int i = 0; i < kPerNode; ++i) {
    for (Node* n : {&a, &b}) {
      Publication p;
      p.channel = "race";
      const std::string data = std::to_string(i);
      p.data = data;
      n->engine->Publish(p, HistoryOptions{5000, 60000, 0}, {}, 0, [&](const PublishResult& r) {
        ++done;
        if (!r.ok) ++failed;
        offsets.insert(r.offset);
      });
    }
    if (i % 100 == 0) {  // let both loops interleave their batches
      a.loop.RunOnce(0);
      b.loop.RunOnce(0);
    }
  }
  // Replies and deliveries come over different Redis connections: wait for both, or a late reply would run a
  // callback whose captures are gone.
  ASSERT_TRUE(RunUntil(
      [&] { return done == 2 * kPerNode && a.rec.count("race") == 2 * kPerNode && b.rec.count("race") == 2 * kPerNode; },
      20000))
      << done << " " << a.rec.count("race") << " " << b.rec.count("race");
  EXPECT_EQ(done, 2 * kPerNode);
  EXPECT_EQ(failed, 0);
  EXPECT_EQ(offsets.size(), static_cast<size_t>(2 * kPerNode));
  EXPECT_EQ(*offsets.rbegin(), static_cast<uint64_t>(2 * kPerNode));
  for (Node* n : {&a, &b}) {
    uint64_t expect = 1;
    for (const GotPub& p : n->rec.pubs) {
      if (p.channel != "race") continue;
      ASSERT_EQ(p.offset, expect) << "out of order";
      ++expect;
    }
  }
}

TEST_F(RedisEngineTest, IdempotentPublishesReturnTheFirstResultAndDeliverOnce) {
  RedisServer server;
  Node& a = StartedNode(Options({&server}));
  Node& b = StartedNode(Options({&server}));
  Interest(b, "idem", true);
  PublishResult first = Publish(a, "idem", "1", kHistory, "key-1");
  PublishResult again = Publish(b, "idem", "1", kHistory, "key-1");  // a retry through another node
  PublishResult other = Publish(a, "idem", "2", kHistory, "key-2");
  ASSERT_TRUE(first.ok && again.ok && other.ok);
  EXPECT_EQ(first.offset, 1u);
  EXPECT_EQ(again.offset, 1u);
  EXPECT_EQ(again.epoch, first.epoch);
  EXPECT_EQ(other.offset, 2u);
  // Without history.
  PublishResult p1 = Publish(a, "idem", "3", HistoryOptions{}, "key-3");
  PublishResult p2 = Publish(a, "idem", "3", HistoryOptions{}, "key-3");
  EXPECT_TRUE(p1.ok && p2.ok);
  Publish(a, "idem", "end", HistoryOptions{});
  ASSERT_TRUE(RunUntil([&] { return !b.rec.pubs.empty() && b.rec.pubs.back().data == "end"; }));
  std::vector<std::string> datas;
  for (const GotPub& p : b.rec.pubs)
    if (p.channel == "idem") datas.push_back(p.data);
  EXPECT_EQ(datas, (std::vector<std::string>{"1", "2", "3", "end"}));
  EXPECT_NE(server.Query({"PTTL", "test.result.idem.key-1"}), "(integer) -2");
}

TEST_F(RedisEngineTest, HistoryReadSinceLimitReverseAndEpochMismatch) {
  RedisServer server;
  Node& a = StartedNode(Options({&server}));
  Node& b = StartedNode(Options({&server}));
  const HistoryOptions h{5, 60000, 0};
  // A channel never published to: created with a fresh epoch that the first publish keeps.
  HistoryResult empty = Read(b, "h", HistoryQuery{false, {}, -1, false}, h);
  ASSERT_TRUE(empty.ok);
  EXPECT_EQ(empty.top.offset, 0u);
  EXPECT_EQ(empty.top.epoch.size(), 8u);
  Publication p;
  p.channel = "h";
  p.has_info = true;
  p.user = "u";
  p.client = "c";
  std::string epoch;
  for (int i = 1; i <= 10; ++i) {
    const std::string data = std::to_string(i);
    PublishResult r = Publish(i % 2 ? a : b, "h", data, h);
    ASSERT_TRUE(r.ok);
    ASSERT_EQ(r.offset, static_cast<uint64_t>(i));
    epoch = r.epoch;
  }
  EXPECT_EQ(epoch, empty.top.epoch);
  auto offsets = [](const HistoryResult& r) {
    std::vector<uint64_t> o;
    for (const auto& p : r.publications) o.push_back(p.offset);
    return o;
  };
  using V = std::vector<uint64_t>;
  HistoryResult all = Read(a, "h", HistoryQuery{false, {}, -1, false}, h);
  EXPECT_EQ(all.top.offset, 10u);
  EXPECT_EQ(all.top.epoch, epoch);
  EXPECT_EQ(offsets(all), (V{6, 7, 8, 9, 10}));  // trimmed to history_size
  EXPECT_EQ(all.publications[0].data, "6");
  EXPECT_EQ(all.publications[0].info, "");
  EXPECT_EQ(offsets(Read(a, "h", HistoryQuery{true, {7, epoch}, -1, false}, h)), (V{8, 9, 10}));
  EXPECT_EQ(offsets(Read(a, "h", HistoryQuery{true, {7, epoch}, 2, false}, h)), (V{8, 9}));
  EXPECT_EQ(offsets(Read(a, "h", HistoryQuery{true, {7, ""}, -1, false}, h, 1)), (V{8}));  // max_limit
  EXPECT_EQ(offsets(Read(a, "h", HistoryQuery{true, {10, epoch}, -1, false}, h)), V{});
  EXPECT_EQ(offsets(Read(a, "h", HistoryQuery{true, {2, epoch}, -1, false}, h)), (V{6, 7, 8, 9, 10}));
  EXPECT_EQ(offsets(Read(a, "h", HistoryQuery{false, {}, 2, true}, h)), (V{10, 9}));
  EXPECT_EQ(offsets(Read(a, "h", HistoryQuery{true, {9, epoch}, -1, true}, h)), (V{8, 7, 6}));
  EXPECT_EQ(offsets(Read(a, "h", HistoryQuery{true, {0, epoch}, -1, true}, h)), V{});
  EXPECT_EQ(offsets(Read(a, "h", HistoryQuery{false, {}, 0, false}, h)), V{});  // limit 0: top only
  HistoryResult bad = Read(b, "h", HistoryQuery{true, {3, "other"}, -1, false}, h);
  ASSERT_TRUE(bad.ok);
  EXPECT_TRUE(bad.unrecoverable);
  EXPECT_TRUE(bad.publications.empty());
  EXPECT_EQ(bad.top.offset, 10u);
  EXPECT_EQ(bad.top.epoch, epoch);

  // Info of a client's publication comes back as a ClientInfo JSON object.
  bool called = false;
  a.engine->Publish(p, h, {}, 0, [&](const PublishResult&) { called = true; });
  ASSERT_TRUE(RunUntil([&] { return called; }));
  HistoryResult last = Read(a, "h", HistoryQuery{false, {}, 1, true}, h);
  ASSERT_EQ(last.publications.size(), 1u);
  EXPECT_EQ(last.publications[0].info, R"({"user":"u","client":"c"})");

  // Meta ttl is applied (and refreshed by reads).
  const HistoryOptions with_meta{5, 60000, 50000};
  Read(a, "h", HistoryQuery{}, with_meta);
  const std::string pttl = server.Query({"PTTL", "test.stream.meta.h"});
  EXPECT_NE(pttl, "(integer) -1");
  EXPECT_NE(pttl, "(integer) -2");
}

TEST_F(RedisEngineTest, HistoryStoreAddAndItemExpiryKeepTop) {
  RedisServer server;
  Node& a = StartedNode(Options({&server}));
  const HistoryOptions h{10, 150, 0};
  StoredPublication s;
  s.data = "1";
  s.info = R"({"client":"x"})";
  bool called = false, ok = false;
  StreamPosition top;
  a.engine->history().Add("add", s, h, 0, [&](bool k, const StreamPosition& t) {
    ok = k;
    top = t;
    called = true;
  });
  ASSERT_TRUE(RunUntil([&] { return called; }));
  ASSERT_TRUE(ok);
  EXPECT_EQ(top.offset, 1u);
  HistoryResult r = Read(a, "add", HistoryQuery{false, {}, -1, false}, h);
  ASSERT_EQ(r.publications.size(), 1u);
  EXPECT_EQ(r.publications[0].info, R"({"client":"x"})");
  // Items expire history_ttl after the last publish; top and epoch stay.
  ASSERT_TRUE(RunUntil([&] { return Read(a, "add", HistoryQuery{false, {}, -1, false}, h).publications.empty(); }));
  HistoryResult after = Read(a, "add", HistoryQuery{false, {}, -1, false}, h);
  EXPECT_EQ(after.top.offset, 1u);
  EXPECT_EQ(after.top.epoch, top.epoch);
  EXPECT_EQ(Publish(a, "add", "2", h).offset, 2u);
}

TEST_F(RedisEngineTest, RemoveDropsPublicationsButKeepsTopAndEpoch) {
  RedisServer server;
  Node& a = StartedNode(Options({&server}));
  Node& b = StartedNode(Options({&server}));
  for (int i = 0; i < 3; ++i) Publish(a, "rm", "x");
  bool called = false, ok = false;
  b.engine->history().Remove("rm", [&](bool k) {
    ok = k;
    called = true;
  });
  ASSERT_TRUE(RunUntil([&] { return called; }));
  EXPECT_TRUE(ok);
  HistoryResult r = Read(a, "rm", HistoryQuery{false, {}, -1, false});
  EXPECT_TRUE(r.publications.empty());
  EXPECT_EQ(r.top.offset, 3u);
  PublishResult next = Publish(a, "rm", "y");
  EXPECT_EQ(next.offset, 4u);
  EXPECT_EQ(next.epoch, r.top.epoch);
  EXPECT_EQ(Read(a, "rm", HistoryQuery{false, {}, -1, false}).publications.size(), 1u);
}

TEST_F(RedisEngineTest, LostMetaStartsANewEpoch) {
  RedisServer server;
  Node& a = StartedNode(Options({&server}));
  PublishResult r1 = Publish(a, "lost", "1");
  Publish(a, "lost", "2");
  EXPECT_EQ(server.Query({"DEL", "test.stream.meta.lost"}), "(integer) 1");
  PublishResult r2 = Publish(a, "lost", "3");
  ASSERT_TRUE(r2.ok);
  EXPECT_EQ(r2.offset, 1u);
  EXPECT_NE(r2.epoch, r1.epoch);
  HistoryResult h = Read(a, "lost", HistoryQuery{false, {}, -1, false});
  ASSERT_EQ(h.publications.size(), 1u);  // the old stream's items went with their epoch
  EXPECT_EQ(h.publications[0].data, "3");
}

TEST_F(RedisEngineTest, PresenceAcrossNodesWithExactStats) {
  RedisServer server;
  Node& a = StartedNode(Options({&server}));
  Node& b = StartedNode(Options({&server}));
  a.engine->presence().Add("room", PresenceEntry{"c1", "u1", R"({"n":1})", ""}, 60000, 0);
  a.engine->presence().Add("room", PresenceEntry{"c2", "u1", "", ""}, 60000, 0);
  b.engine->presence().Add("room", PresenceEntry{"c3", "", "", R"({"ch":1})"}, 60000, 0);
  b.engine->presence().Add("room", PresenceEntry{"c4", "", "", ""}, 60000, 0);
  Settle(a, "room");
  PresenceStats s = Stats(b, "room");
  EXPECT_EQ(s.num_clients, 4u);
  EXPECT_EQ(s.num_users, 2u);  // "u1" and "" (anonymous counts as one user, like Centrifugo)
  bool called = false;
  std::vector<PresenceEntry> entries;
  a.engine->presence().Get("room", 0, [&](bool ok, std::vector<PresenceEntry> e) {
    EXPECT_TRUE(ok);
    entries = std::move(e);
    called = true;
  });
  ASSERT_TRUE(RunUntil([&] { return called; }));
  ASSERT_EQ(entries.size(), 4u);
  std::sort(entries.begin(), entries.end(), [](auto& x, auto& y) { return x.client < y.client; });
  EXPECT_EQ(entries[0].client, "c1");
  EXPECT_EQ(entries[0].user, "u1");
  EXPECT_EQ(entries[0].conn_info, R"({"n":1})");
  EXPECT_EQ(entries[2].chan_info, R"({"ch":1})");

  // Refresh replaces; Remove removes.
  a.engine->presence().Add("room", PresenceEntry{"c2", "u2", "", ""}, 60000, 0);
  b.engine->presence().Remove("room", "c1");
  Settle(a, "room");
  Settle(b, "room");
  s = Stats(a, "room");
  EXPECT_EQ(s.num_clients, 3u);
  EXPECT_EQ(s.num_users, 2u);  // u2, ""

  // A short ttl expires by itself (Redis clock).
  a.engine->presence().Add("room", PresenceEntry{"c5", "u5", "", ""}, 100, 0);
  Settle(a, "room");
  EXPECT_EQ(Stats(b, "room").num_clients, 4u);
  ASSERT_TRUE(RunUntil([&] { return Stats(b, "room").num_clients == 3; }));
  EXPECT_EQ(Stats(b, "empty").num_clients, 0u);
}

TEST_F(RedisEngineTest, ChannelInterestSubscribesAndUnsubscribes) {
  RedisServer server;
  Node& a = StartedNode(Options({&server}));
  Node& b = StartedNode(Options({&server}));
  Publish(a, "topic", "before", HistoryOptions{});
  Interest(b, "topic", true);
  Interest(b, "always", true);
  Publish(a, "topic", "during", HistoryOptions{});
  ASSERT_TRUE(RunUntil([&] { return b.rec.count("topic") == 1; }));
  Interest(b, "topic", false);
  Publish(a, "topic", "after", HistoryOptions{});
  // Same shard, same subscriber connection: once the later "always" message is in, an "after"
  // delivery would have been in before it.
  Publish(a, "always", "fence", HistoryOptions{});
  ASSERT_TRUE(RunUntil([&] { return b.rec.count("always") == 1; }));
  EXPECT_EQ(b.rec.count("topic"), 1u);
  std::lock_guard lock(b.rec.mu);
  for (const GotPub& p : b.rec.pubs) {
    if (p.channel == "topic") {
      EXPECT_EQ(p.data, "during");
    }
  }
}

TEST_F(RedisEngineTest, RedisDownFailsFastThenRecovers) {
  RedisServer server;
  Node& a = StartedNode(Options({&server}));
  Node& b = AddNode(Options({&server}));
  std::mutex mu;
  std::vector<bool> transitions;
  b.engine->SetAvailabilityHandler([&](bool up) {
    std::lock_guard lock(mu);
    transitions.push_back(up);
  });
  b.engine->Start();
  ASSERT_TRUE(RunUntil([&] { return b.engine->available(); }));
  Interest(b, "live", true);

  server.Kill();
  ASSERT_TRUE(RunUntil([&] { return !a.engine->available() && !b.engine->available(); }));
  // Every call fails at once, before returning.
  Publication p;
  p.channel = "live";
  p.data = "1";
  bool called = false, ok = true;
  a.engine->Publish(p, kHistory, {}, 0, [&](const PublishResult& r) {
    called = true;
    ok = r.ok;
  });
  EXPECT_TRUE(called);
  EXPECT_FALSE(ok);
  called = false;
  a.engine->Publish(p, HistoryOptions{}, {}, 0, [&](const PublishResult& r) {
    called = true;
    ok = r.ok;
  });
  EXPECT_TRUE(called && !ok);
  called = false;
  a.engine->history().Read("live", HistoryQuery{}, kHistory, 0, 0, [&](HistoryResult r) {
    called = true;
    ok = r.ok;
  });
  EXPECT_TRUE(called && !ok);
  called = false;
  a.engine->presence().Stats("live", 0, [&](bool k, PresenceStats) {
    called = true;
    ok = k;
  });
  EXPECT_TRUE(called && !ok);
  called = false;
  a.engine->history().Remove("live", [&](bool k) {
    called = true;
    ok = k;
  });
  EXPECT_TRUE(called && !ok);
  a.engine->presence().Add("live", PresenceEntry{"c", "u", "", ""}, 1000, 0);  // dropped, no crash

  ASSERT_TRUE(server.Start());
  ASSERT_TRUE(RunUntil([&] { return a.engine->available() && b.engine->available(); }));
  // B resubscribed by itself (the client keeps its wanted set).
  PublishResult r;
  ASSERT_TRUE(RunUntil([&] {
    r = Publish(a, "live", "again");
    for (int i = 0; i < 5; ++i) b.loop.RunOnce(1);
    return r.ok && b.rec.count("live") >= 1;
  }));
  EXPECT_EQ(r.offset, 1u) << "no persistence: the stream restarted";
  std::lock_guard lock(mu);
  EXPECT_EQ(transitions, (std::vector<bool>{true, false, true}));
}

TEST_F(RedisEngineTest, TwoShardsSpreadChannelsAndEverythingHolds) {
  RedisServer s0, s1;
  ASSERT_TRUE(s0.running() && s1.running());
  Node& a = StartedNode(Options({&s0, &s1}));
  Node& b = StartedNode(Options({&s0, &s1}));
  EXPECT_EQ(a.engine->shard_count(), 2u);
  std::vector<std::string> channels;
  int per_shard[2] = {0, 0};
  for (int i = 0; i < 40; ++i) {
    channels.push_back("ch" + std::to_string(i));
    ++per_shard[a.engine->ShardOf(channels.back())];
  }
  EXPECT_GT(per_shard[0], 5);
  EXPECT_GT(per_shard[1], 5);
  for (const std::string& ch : channels) b.engine->SetChannelInterest(ch, true);
  // Every SUBSCRIBE confirmed before publishing: each shard's subscriber answers in order, so one
  // confirmed marker per shard (Interest) covers the channels subscribed before it there.
  Interest(b, "ch0", true);
  for (const std::string& ch : channels) {
    if (a.engine->ShardOf(ch) != a.engine->ShardOf("ch0")) {
      Interest(b, ch, true);
      break;
    }
  }
  for (int round = 1; round <= 3; ++round) {
    for (const std::string& ch : channels) {
      PublishResult r = Publish(round % 2 ? a : b, ch, std::to_string(round));
      ASSERT_TRUE(r.ok);
      ASSERT_EQ(r.offset, static_cast<uint64_t>(round));
    }
  }
  ASSERT_TRUE(RunUntil([&] {
    for (const std::string& ch : channels)
      if (b.rec.count(ch) != 3) return false;
    return true;
  }));
  for (const std::string& ch : channels) {
    // The channel's keys live on its shard only.
    const RedisServer& home = a.engine->ShardOf(ch) == 0 ? s0 : s1;
    const RedisServer& away = a.engine->ShardOf(ch) == 0 ? s1 : s0;
    EXPECT_EQ(home.Query({"EXISTS", "test.stream.meta." + ch}), "(integer) 1") << ch;
    EXPECT_EQ(away.Query({"EXISTS", "test.stream.meta." + ch}), "(integer) 0") << ch;
    HistoryResult h = Read(b, ch, HistoryQuery{true, {1, ""}, -1, false});
    ASSERT_EQ(h.publications.size(), 2u) << ch;
    uint64_t expect = 1;
    for (const GotPub& p : b.rec.pubs) {
      if (p.channel == ch) {
        EXPECT_EQ(p.offset, expect++) << ch;
      }
    }
  }
  // Presence and idempotency on both shards.
  for (const std::string& ch : {channels[0], channels[1], channels[2], channels[3]}) {
    a.engine->presence().Add(ch, PresenceEntry{"c1", "u1", "", ""}, 60000, 0);
    b.engine->presence().Add(ch, PresenceEntry{"c2", "u2", "", ""}, 60000, 0);
    Settle(a, ch);
    Settle(b, ch);
    PresenceStats st = Stats(a, ch);
    EXPECT_EQ(st.num_clients, 2u);
    EXPECT_EQ(st.num_users, 2u);
    EXPECT_EQ(Publish(a, ch, "k", kHistory, "key").offset, 4u);
    EXPECT_EQ(Publish(b, ch, "k", kHistory, "key").offset, 4u);
  }
  // One shard down: only its channels fail.
  s1.Kill();
  ASSERT_TRUE(RunUntil([&] { return !a.engine->available(); }));
  for (const std::string& ch : {channels[0], channels[1], channels[2], channels[3]}) {
    PublishResult r = Publish(a, ch, "x");
    EXPECT_EQ(r.ok, a.engine->ShardOf(ch) == 0) << ch;
  }
}

TEST_F(RedisEngineTest, NodeDiscoveryTable) {
  RedisServer server;
  Node& a = StartedNode(Options({&server}, "node-a"));
  Node& b = StartedNode(Options({&server}, "node-b"));
  a.engine->Stop();  // restart A with a stats provider
  a.engine->SetNodeStatsProvider([] {
    NodeStats s;
    s.version = "test";
    s.num_clients = 7;
    s.num_subs = 3;
    return s;
  });
  a.engine->Start();
  ASSERT_TRUE(RunUntil([&] {
    auto na = a.engine->Nodes();
    auto nb = b.engine->Nodes();
    return na.size() == 2 && nb.size() == 2 && nb[0].stats.num_clients == 7;
  }));
  std::vector<NodeSnapshot> nodes = b.engine->Nodes();
  EXPECT_EQ(nodes[0].uid, "node-a");
  EXPECT_EQ(nodes[0].stats.version, "test");
  EXPECT_EQ(nodes[0].stats.num_subs, 3u);
  EXPECT_EQ(nodes[1].uid, "node-b");
  // A leaves: B forgets it after 3 intervals.
  a.engine->Stop();
  ASSERT_TRUE(RunUntil([&] { return b.engine->Nodes().size() == 1; }));
  EXPECT_EQ(b.engine->Nodes()[0].uid, "node-b");
}

TEST_F(RedisEngineTest, CallsFromANonLoopThreadArePostedToTheFirstLoop) {
  RedisServer server;
  Node& a = StartedNode(Options({&server}));
  Interest(a, "posted", true);
  std::atomic<bool> called{false};
  std::atomic<bool> on_loop{false};
  PublishResult result;
  std::thread other([&] {
    Publication p;
    p.channel = "posted";
    p.data = "\"from thread\"";
    std::string key = "k";
    Engine::PublishOptions o;
    o.idempotency_key = key;
    a.engine->Publish(p, kHistory, o, 0, [&](const PublishResult& r) {
      result = r;
      on_loop = a.loop.on_loop_thread();
      called = true;
    });
    a.engine->SetChannelInterest("posted2", true);
  });
  other.join();
  ASSERT_TRUE(RunUntil([&] { return called.load() && a.rec.count("posted") == 1; }));
  EXPECT_TRUE(on_loop);
  EXPECT_TRUE(result.ok);
  EXPECT_EQ(result.offset, 1u);
  EXPECT_EQ(a.rec.pubs.back().data, "\"from thread\"");
}

double ThreadCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Throughput through one loop: 10k publishes issued in bursts of 100 per iteration, all answered.
TEST_F(RedisEngineTest, ThroughputOneLoop) {
  RedisServer server;
  Node& a = StartedNode(Options({&server}));
  Node& b = StartedNode(Options({&server}));
  Interest(b, "perf", true);
  Interest(b, "perfh", true);
  constexpr int kN = 10000;
  const std::string data = R"({"event":"message","text":"hello, world"})";
  for (const char* channel : {"perf", "perfh"}) {
    const bool history = std::string_view(channel) == "perfh";
    int done = 0, failed = 0;
    const auto start = std::chrono::steady_clock::now();
    const double cpu_start = ThreadCpuSeconds();
    Publication p;
    p.channel = channel;
    p.data = data;
    for (int i = 0; i < kN; ++i) {
      a.engine->Publish(p, history ? HistoryOptions{100, 60000, 0} : HistoryOptions{}, {}, 0,
                        [&](const PublishResult& r) {
                          ++done;
                          if (!r.ok) ++failed;
                        });
      if (i % 100 == 99) a.loop.RunOnce(0);
    }
    ASSERT_TRUE(RunUntil([&] { return done == kN; }, 30000));
    const double publish_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    ASSERT_TRUE(RunUntil([&] { return b.rec.count(channel) == static_cast<size_t>(kN); }, 30000));
    const double total_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double cpu_s = ThreadCpuSeconds() - cpu_start;
    EXPECT_EQ(failed, 0);
    std::printf("[ perf ] %s: test thread CPU (node A publishing + node B receiving, epoll waits excluded) "
                "%.2f us per publication\n",
                channel, cpu_s * 1e6 / kN);
    std::printf("[ perf ] %s: %d publishes answered in %.1f ms (%.0f/s), all received by node B in %.1f ms\n",
                history ? "with history (script)" : "without history (PUBLISH)", kN, publish_s * 1e3,
                kN / publish_s, total_s * 1e3);
    RecordProperty(history ? "history_publishes_per_s" : "plain_publishes_per_s", static_cast<int>(kN / publish_s));
  }
  const std::string stats = server.Query({"INFO", "commandstats"});
  for (const char* cmd : {"cmdstat_evalsha:", "cmdstat_publish:"}) {
    const size_t at = stats.find(cmd);
    if (at != std::string::npos) std::printf("[ perf ] redis %s\n", stats.substr(at, stats.find("\\x0d", at) - at).c_str());
  }
}

}  // namespace
}  // namespace instant::engine

namespace instant::engine {
namespace {

// The production shape: each loop runs on its own thread; the engine is started and stopped from
// another one, calls come from the workers (posted here), `done` runs on the calling worker.
TEST(RedisEngineThreads, WorkersOnTheirOwnThreads) {
  RedisServer server;
  ASSERT_TRUE(server.running());
  net::Loop l0(0), l1(1);
  std::thread t0([&] { l0.Run(); });
  std::thread t1([&] { l1.Run(); });
  Recorder rec;
  RedisEngineOptions o;
  o.addresses.push_back(AddressOf(server));
  o.prefix = "thr";
  auto engine = std::make_unique<RedisEngine>(o, &rec, std::vector<net::Loop*>{&l0, &l1});
  engine->Start();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  auto wait = [&](const std::function<bool()>& f) {
    while (!f()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));  // polling another thread's work
    }
    return true;
  };
  ASSERT_TRUE(wait([&] { return engine->available(); }));
  engine->SetChannelInterest("w", true);
  std::atomic<int> ok{0}, on_l1{0};
  // Publish from worker 1 until the subscription is live and one arrives.
  ASSERT_TRUE(wait([&] {
    l1.Post([&] {
      Publication p;
      p.channel = "w";
      p.data = "1";
      engine->Publish(p, kHistory, {}, 0, [&](const PublishResult& r) {
        if (r.ok) ++ok;
        if (l1.on_loop_thread()) ++on_l1;
      });
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return rec.count("w") > 0;
  }));
  ASSERT_TRUE(wait([&] { return ok.load() > 0; }));
  EXPECT_EQ(on_l1.load(), ok.load()) << "done runs on the calling worker";
  engine->Stop();  // waits for both loops
  EXPECT_FALSE(engine->available());
  l0.Stop();
  l1.Stop();
  t0.join();
  t1.join();

  // Stop after the loop threads are gone: falls back to stopping the clients here.
  net::Loop l2(2);
  std::thread t2([&] { l2.Run(); });
  auto late = std::make_unique<RedisEngine>(o, &rec, std::vector<net::Loop*>{&l2});
  late->Start();
  ASSERT_TRUE(wait([&] { return late->available(); }));
  l2.Stop();
  t2.join();
  late.reset();  // destructor -> Stop(): returns after the 2 s grace period
}

}  // namespace
}  // namespace instant::engine
