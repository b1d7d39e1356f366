#include "engine/memory_presence.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

namespace instant::engine {
namespace {

constexpr int64_t kTtl = 60'000;

// prefix + n. (Spelled out because GCC 12 warns falsely on `"literal" + std::to_string(n)`.)
std::string Name(std::string prefix, int n) { return prefix.append(std::to_string(n)); }

PresenceEntry Entry(std::string client, std::string user, std::string conn_info = "",
                    std::string chan_info = "") {
  return PresenceEntry{std::move(client), std::move(user), std::move(conn_info),
                       std::move(chan_info)};
}

class PresenceTest : public ::testing::Test {
 protected:
  // Entries sorted by client id (the store returns them in no particular order).
  std::vector<PresenceEntry> Get(std::string_view ch, int64_t now = 0) {
    std::vector<PresenceEntry> out;
    int calls = 0;
    store_.Get(ch, now, [&](bool ok, std::vector<PresenceEntry> entries) {
      EXPECT_TRUE(ok);
      out = std::move(entries);
      ++calls;
    });
    EXPECT_EQ(calls, 1);
    std::sort(out.begin(), out.end(),
              [](const auto& a, const auto& b) { return a.client < b.client; });
    return out;
  }
  std::vector<std::string> Clients(std::string_view ch, int64_t now = 0) {
    std::vector<std::string> v;
    for (const auto& e : Get(ch, now)) v.push_back(e.client);
    return v;
  }
  PresenceStats Stats(std::string_view ch, int64_t now = 0) {
    PresenceStats out;
    int calls = 0;
    store_.Stats(ch, now, [&](bool ok, PresenceStats s) {
      EXPECT_TRUE(ok);
      out = s;
      ++calls;
    });
    EXPECT_EQ(calls, 1);
    return out;
  }

  MemoryPresenceStore store_;
};

TEST_F(PresenceTest, AddGetAndStats) {
  store_.Add("chat", Entry("c1", "u1", R"({"name":"Ann"})", R"({"role":"op"})"), kTtl, 0);
  store_.Add("chat", Entry("c2", "u1"), kTtl, 0);
  store_.Add("chat", Entry("c3", "u2"), kTtl, 0);
  store_.Add("other", Entry("c9", "u9"), kTtl, 0);
  std::vector<PresenceEntry> got = Get("chat");
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].client, "c1");
  EXPECT_EQ(got[0].user, "u1");
  EXPECT_EQ(got[0].conn_info, R"({"name":"Ann"})");
  EXPECT_EQ(got[0].chan_info, R"({"role":"op"})");
  EXPECT_EQ(got[1].conn_info, "");
  PresenceStats s = Stats("chat");
  EXPECT_EQ(s.num_clients, 3u);
  EXPECT_EQ(s.num_users, 2u);
  EXPECT_EQ(store_.ChannelCount(), 2u);
}

TEST_F(PresenceTest, UnknownChannelIsEmpty) {
  EXPECT_TRUE(Get("nope").empty());
  PresenceStats s = Stats("nope");
  EXPECT_EQ(s.num_clients, 0u);
  EXPECT_EQ(s.num_users, 0u);
  EXPECT_EQ(store_.ChannelCount(), 0u);  // queries do not create channels
}

// Centrifugo counts distinct user ids including "" (centrifuge presenceHub.getStats): all
// anonymous clients together are one user. We match it for wire compatibility.
TEST_F(PresenceTest, AnonymousClientsCountAsOneUser) {
  store_.Add("chat", Entry("a1", ""), kTtl, 0);
  store_.Add("chat", Entry("a2", ""), kTtl, 0);
  store_.Add("chat", Entry("c1", "u1"), kTtl, 0);
  PresenceStats s = Stats("chat");
  EXPECT_EQ(s.num_clients, 3u);
  EXPECT_EQ(s.num_users, 2u);
}

TEST_F(PresenceTest, RefreshExtendsExpiryAndReplacesInfo) {
  store_.Add("chat", Entry("c1", "u1", R"({"v":1})"), 1000, 0);
  store_.Add("chat", Entry("c1", "u1", R"({"v":2})"), 1000, 900);  // refresh: until 1900
  std::vector<PresenceEntry> got = Get("chat", 1500);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].conn_info, R"({"v":2})");
  EXPECT_EQ(Stats("chat", 1899).num_clients, 1u);
  EXPECT_TRUE(Get("chat", 1900).empty());
}

TEST_F(PresenceTest, ExpiredEntriesAreInvisibleAndDropped) {
  store_.Add("chat", Entry("c1", "u1"), 1000, 0);
  store_.Add("chat", Entry("c2", "u2"), 5000, 0);
  EXPECT_EQ(Clients("chat", 999), (std::vector<std::string>{"c1", "c2"}));
  PresenceStats s = Stats("chat", 1000);
  EXPECT_EQ(s.num_clients, 1u);
  EXPECT_EQ(s.num_users, 1u);
  EXPECT_EQ(Clients("chat", 1000), (std::vector<std::string>{"c2"}));
  EXPECT_TRUE(Get("chat", 5000).empty());
  EXPECT_EQ(store_.ChannelCount(), 0u);  // the last expiry took the channel with it
}

TEST_F(PresenceTest, TtlZeroNeverExpires) {
  store_.Add("chat", Entry("c1", "u1"), 0, 0);
  EXPECT_EQ(Clients("chat", int64_t{1} << 60), (std::vector<std::string>{"c1"}));
  EXPECT_EQ(store_.Sweep(int64_t{1} << 60), 0u);
}

TEST_F(PresenceTest, RemoveIsExactAndIdempotent) {
  store_.Add("chat", Entry("c1", "u1"), kTtl, 0);
  store_.Add("chat", Entry("c2", "u1"), kTtl, 0);
  store_.Remove("chat", "c1");
  store_.Remove("chat", "c1");
  store_.Remove("chat", "unknown");
  store_.Remove("nope", "c2");
  EXPECT_EQ(Clients("chat"), (std::vector<std::string>{"c2"}));
  store_.Remove("chat", "c2");
  EXPECT_TRUE(Get("chat").empty());
  EXPECT_EQ(store_.ChannelCount(), 0u);
}

TEST_F(PresenceTest, DoneMayCallBackIntoTheStore) {
  store_.Add("chat", Entry("c1", "u1"), kTtl, 0);
  bool inner = false;
  // No lock is held while `done` runs (memory_presence.h), so this cannot self-deadlock.
  store_.Get("chat", 0, [&](bool, std::vector<PresenceEntry> entries) {
    store_.Remove("chat", entries.at(0).client);
    store_.Stats("chat", 0, [&](bool, PresenceStats s) { inner = s.num_clients == 0; });
  });
  EXPECT_TRUE(inner);
}

TEST_F(PresenceTest, SweepDropsExpiredEntriesAndEmptyChannels) {
  const size_t empty_usage = store_.MemoryUsage();
  for (int c = 0; c < 10; ++c) {
    std::string ch = Name("ch", c);
    store_.Add(ch, Entry(Name("short-lived-client-", c), "u"), 1000, 0);
    store_.Add(ch, Entry(Name("long-lived-client-", c), "u"), 5000, 0);
  }
  EXPECT_GT(store_.MemoryUsage(), empty_usage + 20 * 20);
  EXPECT_EQ(store_.Sweep(999), 0u);
  EXPECT_EQ(store_.Sweep(1000), 10u);
  EXPECT_EQ(store_.ChannelCount(), 10u);
  EXPECT_EQ(store_.Sweep(5000), 10u);
  EXPECT_EQ(store_.ChannelCount(), 0u);
}

TEST(MemoryPresenceSweep, BoundedWorkPerCallAndResumes) {
  constexpr size_t kBudget = 16;
  constexpr int kChannels = 1000;
  MemoryPresenceStore store(kBudget);
  for (int c = 0; c < kChannels; ++c) {
    store.Add(Name("ch", c), Entry("c", "u"), 10, 0);
  }
  size_t dropped = 0;
  int calls = 0;
  while (store.ChannelCount() > 0) {
    size_t n = store.Sweep(100);
    EXPECT_LE(n, kBudget + 8) << "one bucket's collision chain at most beyond the budget";
    dropped += n;
    ASSERT_LT(++calls, 10'000);
  }
  EXPECT_EQ(dropped, static_cast<size_t>(kChannels));
  EXPECT_GE(calls, kChannels / static_cast<int>(kBudget));
}

TEST(MemoryPresenceMemory, UsageReturnsToBaselineAfterRemoval) {
  MemoryPresenceStore store;
  auto fill = [&] {
    for (int c = 0; c < 100; ++c) {
      for (int k = 0; k < 20; ++k) {
        store.Add(Name("channel-", c),
                  Entry(Name("0f8c2d5e-1b7a-4c3e-9d2f-", 100000 + k), Name("user-", k),
                        R"({"name":"a user with a long name"})"),
                  kTtl, 0);
      }
    }
  };
  auto empty = [&] {
    for (int c = 0; c < 100; ++c) {
      for (int k = 0; k < 20; ++k) {
        store.Remove(Name("channel-", c), Name("0f8c2d5e-1b7a-4c3e-9d2f-", 100000 + k));
      }
    }
  };
  fill();  // grows the shards' bucket arrays once, so that the baseline includes them
  empty();
  const size_t baseline = store.MemoryUsage();
  fill();
  const size_t full = store.MemoryUsage();
  EXPECT_GE(full, baseline + 2000 * (37 + 30));  // at least the client ids and conn_infos
  std::printf(
      "[ memory ] MemoryPresenceStore: %zu bytes per member (36-char client id, "
      "30-byte conn_info)\n",
      (full - baseline) / 2000);
  fill();  // refreshes change nothing
  EXPECT_EQ(store.MemoryUsage(), full);
  empty();
  EXPECT_EQ(store.MemoryUsage(), baseline);
}

// Four threads churn their own clients in shared channels while a fifth sweeps; at the end each
// thread leaves a known set behind, which Stats must report exactly.
TEST(MemoryPresenceConcurrency, ChurnFromFourThreads) {
  constexpr int kThreads = 4;
  constexpr int kChannels = 8;
  constexpr int kClients = 50;
  constexpr int kRounds = 200;
  MemoryPresenceStore store(64);
  std::atomic<bool> stop{false};
  std::thread sweeper([&] {
    while (!stop.load()) {
      store.Sweep(0);
      (void)store.MemoryUsage();
    }
  });
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < kRounds; ++round) {
        for (int k = 0; k < kClients; ++k) {
          std::string ch = Name("ch", (k + round) % kChannels);
          std::string client = Name("t", t) + Name("-c", k);
          store.Add(ch, Entry(client, Name("user", k % 10)), kTtl, 0);
          if (k % 5 == 0) {
            store.Stats(ch, 0, [](bool ok, PresenceStats s) {
              EXPECT_TRUE(ok);
              EXPECT_LE(s.num_users, s.num_clients);
            });
          }
          if (k % 7 == 0)
            store.Get(ch, 0, [](bool ok, std::vector<PresenceEntry>) { EXPECT_TRUE(ok); });
          store.Remove(ch, client);
        }
      }
      // Leave clients 0..9 of this thread in channel "final".
      for (int k = 0; k < 10; ++k) {
        store.Add("final", Entry(Name("t", t) + Name("-c", k), Name("user", k)), kTtl, 0);
      }
    });
  }
  for (auto& th : threads) th.join();
  stop = true;
  sweeper.join();
  MemoryPresenceStore* s = &store;
  PresenceStats stats;
  s->Stats("final", 0, [&](bool, PresenceStats got) { stats = got; });
  EXPECT_EQ(stats.num_clients, static_cast<uint32_t>(kThreads * 10));
  EXPECT_EQ(stats.num_users, 10u);
  EXPECT_EQ(store.ChannelCount(), 1u);  // every churn channel emptied and erased
}

TEST(MemoryPresenceTiming, RefreshAndStats) {
  MemoryPresenceStore store;
  constexpr int kMembers = 1000;
  std::vector<PresenceEntry> entries;
  for (int k = 0; k < kMembers; ++k) {
    entries.push_back(Entry(Name("0f8c2d5e-1b7a-4c3e-9d2f-", 100000 + k), Name("user", k % 300),
                            R"({"name":"someone"})"));
    store.Add("room", entries.back(), kTtl, 0);
  }
  constexpr int kRefreshes = 200'000;
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < kRefreshes; ++i) store.Add("room", entries[i % kMembers], kTtl, i);
  auto t1 = std::chrono::steady_clock::now();
  uint32_t sink = 0;
  constexpr int kStats = 1000;
  for (int i = 0; i < kStats; ++i) {
    store.Stats("room", 0, [&](bool, PresenceStats s) { sink += s.num_users; });
  }
  auto t2 = std::chrono::steady_clock::now();
  auto ns = [](auto d) { return std::chrono::duration<double, std::nano>(d).count(); };
  std::printf(
      "[ timing ] MemoryPresenceStore: %.0f ns per refresh, %.0f ns per Stats of %d members\n",
      ns(t1 - t0) / kRefreshes, ns(t2 - t1) / kStats, kMembers);
  EXPECT_EQ(sink, 300u * kStats);
}

}  // namespace
}  // namespace instant::engine
