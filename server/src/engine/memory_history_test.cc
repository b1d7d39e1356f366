#include "engine/memory_history.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <limits>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace instant::engine {
namespace {

constexpr uint64_t kMaxOffset = std::numeric_limits<uint64_t>::max();

StoredPublication Pub(std::string data) {
  StoredPublication p;
  p.data = std::move(data);
  return p;
}

std::vector<uint64_t> Offsets(const HistoryResult& r) {
  std::vector<uint64_t> v;
  for (const auto& p : r.publications) v.push_back(p.offset);
  return v;
}

HistoryQuery Since(uint64_t offset, std::string epoch, int limit, bool reverse = false) {
  return HistoryQuery{true, StreamPosition{offset, std::move(epoch)}, limit, reverse};
}
HistoryQuery All(int limit, bool reverse = false) {
  return HistoryQuery{false, {}, limit, reverse};
}

// Deterministic epochs "ep1", "ep2", ... (thread-safe, as the store requires).
class HistoryTest : public ::testing::Test {
 protected:
  StreamPosition Add(std::string_view ch, std::string data, int64_t now, const HistoryOptions& o) {
    StreamPosition pos;
    int calls = 0;
    store_.Add(ch, Pub(std::move(data)), o, now, [&](bool ok, const StreamPosition& top) {
      EXPECT_TRUE(ok);
      pos = top;
      ++calls;
    });
    EXPECT_EQ(calls, 1);  // the memory store answers before returning
    return pos;
  }
  StreamPosition Add(std::string_view ch, int64_t now = 0) { return Add(ch, "{}", now, opts_); }

  HistoryResult Read(std::string_view ch, const HistoryQuery& q, int max_limit = 300,
                     int64_t now = 0) {
    return Read(ch, q, opts_, max_limit, now);
  }
  HistoryResult Read(std::string_view ch, const HistoryQuery& q, const HistoryOptions& o,
                     int max_limit, int64_t now) {
    HistoryResult out;
    int calls = 0;
    store_.Read(ch, q, o, max_limit, now, [&](HistoryResult r) {
      out = std::move(r);
      ++calls;
    });
    EXPECT_EQ(calls, 1);
    EXPECT_TRUE(out.ok);
    return out;
  }

  std::atomic<int> epochs_{0};  // declared before store_, which calls it
  MemoryHistoryStore store_{[this] { return "ep" + std::to_string(++epochs_); }};
  HistoryOptions opts_{.size = 100, .ttl_ms = 60'000, .meta_ttl_ms = 0};
};

// ---- offsets and epochs ----------------------------------------------------------------------

TEST_F(HistoryTest, OffsetsStartAtOneAndEpochIsPerStream) {
  EXPECT_EQ(Add("a").offset, 1u);
  EXPECT_EQ(Add("a").offset, 2u);
  StreamPosition p = Add("a");
  EXPECT_EQ(p.offset, 3u);
  EXPECT_EQ(p.epoch, "ep1");
  StreamPosition b = Add("b");
  EXPECT_EQ(b.offset, 1u);
  EXPECT_EQ(b.epoch, "ep2");
  EXPECT_EQ(store_.StreamCount(), 2u);
}

TEST_F(HistoryTest, AddAssignsThePublicationOffsetAndKeepsItsContent) {
  StoredPublication p;
  p.data = R"({"text":"hello, a payload longer than the small string buffer"})";
  p.info = R"({"user":"42","client":"c1"})";
  p.tags = R"({"k":"v","kind":"chat and a value longer than the small string buffer"})";
  store_.Add("a", p, opts_, 0, [](bool, const StreamPosition&) {});
  HistoryResult r = Read("a", All(-1));
  ASSERT_EQ(r.publications.size(), 1u);
  const StoredPublication& got = r.publications[0];
  EXPECT_EQ(got.offset, 1u);
  EXPECT_EQ(got.data, p.data);
  EXPECT_EQ(got.info, p.info);
  EXPECT_EQ(got.tags, p.tags);
}

// Spec §6.1: a channel never published to has offset 0 and an epoch; positioning now and
// publishing later must agree on that epoch.
TEST_F(HistoryTest, ReadOfUnknownChannelCreatesTheStreamMeta) {
  HistoryResult r = Read("a", All(0));
  EXPECT_EQ(r.top.offset, 0u);
  EXPECT_EQ(r.top.epoch, "ep1");
  EXPECT_TRUE(r.publications.empty());
  EXPECT_EQ(store_.StreamCount(), 1u);
  StreamPosition p = Add("a");
  EXPECT_EQ(p.offset, 1u);
  EXPECT_EQ(p.epoch, "ep1");
}

TEST_F(HistoryTest, AddWithHistoryOffIsRefused) {
  bool called = false;
  store_.Add("a", Pub("{}"), HistoryOptions{.size = 0, .ttl_ms = 1000}, 0,
             [&](bool ok, const StreamPosition&) {
               EXPECT_FALSE(ok);
               called = true;
             });
  EXPECT_TRUE(called);
  store_.Add("a", Pub("{}"), HistoryOptions{.size = 10, .ttl_ms = 0}, 0,
             [&](bool ok, const StreamPosition&) { EXPECT_FALSE(ok); });
  EXPECT_EQ(store_.StreamCount(), 0u);
}

TEST(MemoryHistoryEpochs, RandomEpochsAreAlphanumericAndDistinct) {
  auto source = MemoryHistoryStore::RandomEpochs();
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string e = source();
    ASSERT_EQ(e.size(), MemoryHistoryStore::kEpochLength);
    for (char c : e) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c))) << e;
    seen.insert(e);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

// ---- size trimming ---------------------------------------------------------------------------

TEST_F(HistoryTest, SizeKeepsTheNewestPublications) {
  HistoryOptions o{.size = 3, .ttl_ms = 60'000};
  for (int i = 1; i <= 5; ++i) Add("a", "{\"n\":" + std::to_string(i) + "}", 0, o);
  HistoryResult r = Read("a", All(-1));
  EXPECT_EQ(Offsets(r), (std::vector<uint64_t>{3, 4, 5}));
  EXPECT_EQ(r.publications[0].data, R"({"n":3})");
  EXPECT_EQ(r.top.offset, 5u);
}

TEST_F(HistoryTest, SizeChangesApplyOnTheNextPublish) {
  for (int i = 0; i < 5; ++i) Add("a", "{}", 0, HistoryOptions{.size = 5, .ttl_ms = 60'000});
  Add("a", "{}", 0, HistoryOptions{.size = 2, .ttl_ms = 60'000});
  EXPECT_EQ(Offsets(Read("a", All(-1))), (std::vector<uint64_t>{5, 6}));
  for (int i = 0; i < 3; ++i) Add("a", "{}", 0, HistoryOptions{.size = 4, .ttl_ms = 60'000});
  EXPECT_EQ(Offsets(Read("a", All(-1))), (std::vector<uint64_t>{6, 7, 8, 9}));
}

TEST_F(HistoryTest, RingWrapsManyTimesInOrder) {
  HistoryOptions o{.size = 7, .ttl_ms = 60'000};
  for (int i = 1; i <= 100; ++i) {
    Add("a", std::to_string(i), 0, o);
    HistoryResult r = Read("a", All(-1));
    ASSERT_EQ(r.publications.size(), static_cast<size_t>(std::min(i, 7)));
    for (size_t k = 0; k < r.publications.size(); ++k) {
      uint64_t want = static_cast<uint64_t>(i) - r.publications.size() + 1 + k;
      ASSERT_EQ(r.publications[k].offset, want);
      ASSERT_EQ(r.publications[k].data, std::to_string(want));
    }
  }
}

// ---- ttl ---------------------------------------------------------------------------------------

// Spec §6.1 / Centrifugo memory engine: all items expire together history_ttl after the LAST
// publish; top and epoch survive; a later publish does not bring the expired items back.
TEST_F(HistoryTest, ItemsExpireTogetherTtlAfterTheLastPublish) {
  HistoryOptions o{.size = 10, .ttl_ms = 1000};
  Add("a", "{}", 0, o);
  Add("a", "{}", 500, o);
  EXPECT_EQ(Offsets(Read("a", All(-1), o, 300, 1499)), (std::vector<uint64_t>{1, 2}));
  HistoryResult r = Read("a", All(-1), o, 300, 1500);
  EXPECT_TRUE(r.publications.empty());
  EXPECT_EQ(r.top.offset, 2u);
  EXPECT_EQ(r.top.epoch, "ep1");
  StreamPosition p = Add("a", "{}", 2000, o);
  EXPECT_EQ(p.offset, 3u);
  EXPECT_EQ(p.epoch, "ep1");
  EXPECT_EQ(Offsets(Read("a", All(-1), o, 300, 2000)), (std::vector<uint64_t>{3}));
}

TEST_F(HistoryTest, AddAfterExpiryWithoutAReadDoesNotResurrectItems) {
  HistoryOptions o{.size = 10, .ttl_ms = 1000};
  Add("a", "{}", 0, o);
  Add("a", "{}", 1000, o);  // the first item expired at 1000, exactly now
  EXPECT_EQ(Offsets(Read("a", All(-1), o, 300, 1000)), (std::vector<uint64_t>{2}));
}

// history_meta_ttl: the whole stream is forgotten after that much inactivity (publish or read,
// as in Centrifugo's memory engine and Redis read script); the next use sees a NEW epoch.
TEST_F(HistoryTest, MetaTtlFromLastActivityThenNewEpoch) {
  HistoryOptions o{.size = 10, .ttl_ms = 1000, .meta_ttl_ms = 5000};
  Add("a", "{}", 0, o);                                         // meta until 5000
  EXPECT_EQ(Read("a", All(0), o, 300, 4000).top.epoch, "ep1");  // meta until 9000
  HistoryResult r = Read("a", All(0), o, 300, 8999);            // meta until 13999
  EXPECT_EQ(r.top.epoch, "ep1");
  EXPECT_EQ(r.top.offset, 1u);
  r = Read("a", All(0), o, 300, 13999);
  EXPECT_EQ(r.top.epoch, "ep2");
  EXPECT_EQ(r.top.offset, 0u);
  StreamPosition p = Add("a", "{}", 14000, o);
  EXPECT_EQ(p.offset, 1u);
  EXPECT_EQ(p.epoch, "ep2");
}

TEST_F(HistoryTest, MetaTtlExpiryOnPublishRestartsOffsets) {
  HistoryOptions o{.size = 10, .ttl_ms = 1000, .meta_ttl_ms = 5000};
  Add("a", "{}", 0, o);
  Add("a", "{}", 0, o);
  StreamPosition p = Add("a", "{}", 5000, o);
  EXPECT_EQ(p.offset, 1u);
  EXPECT_EQ(p.epoch, "ep2");
  EXPECT_EQ(Offsets(Read("a", All(-1), o, 300, 5000)), (std::vector<uint64_t>{1}));
}

TEST_F(HistoryTest, MetaTtlZeroKeepsTheStreamForever) {
  HistoryOptions o{.size = 10, .ttl_ms = 1000, .meta_ttl_ms = 0};
  Add("a", "{}", 0, o);
  EXPECT_EQ(store_.Sweep(int64_t{1} << 50), 1u);  // items released, meta kept
  EXPECT_EQ(store_.StreamCount(), 1u);
  HistoryResult r = Read("a", All(-1), o, 300, int64_t{1} << 50);
  EXPECT_EQ(r.top.epoch, "ep1");
  EXPECT_EQ(r.top.offset, 1u);
  EXPECT_TRUE(r.publications.empty());
}

TEST(MemoryHistoryEpochs, EmptySourceFallsBackToRandomEpochs) {
  MemoryHistoryStore store(MemoryHistoryStore::EpochSource{});
  StreamPosition p;
  store.Add("a", Pub("{}"), HistoryOptions{.size = 1, .ttl_ms = 1}, 0,
            [&](bool, const StreamPosition& top) { p = top; });
  EXPECT_EQ(p.epoch.size(), MemoryHistoryStore::kEpochLength);
}

TEST(MemoryHistoryEpochs, AnExpiredStreamNeverGetsItsOldEpochBack) {
  // A source that would hand out the same epoch again: the store asks once more.
  std::vector<std::string> script = {"same", "same", "other"};
  std::atomic<size_t> next{0};
  MemoryHistoryStore store([&] { return script[std::min(next++, script.size() - 1)]; });
  HistoryOptions o{.size = 10, .ttl_ms = 1000, .meta_ttl_ms = 1000};
  StreamPosition first, second;
  store.Add("a", Pub("{}"), o, 0, [&](bool, const StreamPosition& p) { first = p; });
  store.Add("a", Pub("{}"), o, 1000, [&](bool, const StreamPosition& p) { second = p; });
  EXPECT_EQ(first.epoch, "same");
  EXPECT_EQ(second.epoch, "other");
  EXPECT_EQ(second.offset, 1u);
}

// ---- Read ------------------------------------------------------------------------------------

class HistoryReadTest : public HistoryTest {
 protected:
  void SetUp() override {
    for (int i = 0; i < 10; ++i) Add("a");  // offsets 1..10, epoch ep1
  }
};

TEST_F(HistoryReadTest, LimitZeroReturnsOnlyThePosition) {
  HistoryResult r = Read("a", All(0));
  EXPECT_TRUE(r.publications.empty());
  EXPECT_FALSE(r.unrecoverable);
  EXPECT_EQ(r.top.offset, 10u);
  EXPECT_EQ(r.top.epoch, "ep1");
  EXPECT_TRUE(Read("a", Since(3, "ep1", 0)).publications.empty());
}

TEST_F(HistoryReadTest, NoSinceIsOldestFirstOrNewestFirst) {
  EXPECT_EQ(Offsets(Read("a", All(4))), (std::vector<uint64_t>{1, 2, 3, 4}));
  EXPECT_EQ(Offsets(Read("a", All(3, true))), (std::vector<uint64_t>{10, 9, 8}));
  EXPECT_EQ(Read("a", All(-1)).publications.size(), 10u);
}

TEST_F(HistoryReadTest, ForwardSince) {
  EXPECT_EQ(Offsets(Read("a", Since(5, "ep1", -1))), (std::vector<uint64_t>{6, 7, 8, 9, 10}));
  EXPECT_EQ(Offsets(Read("a", Since(5, "ep1", 2))), (std::vector<uint64_t>{6, 7}));
  EXPECT_EQ(Read("a", Since(0, "ep1", -1)).publications.size(), 10u);
  EXPECT_TRUE(Read("a", Since(10, "ep1", -1)).publications.empty());
  EXPECT_TRUE(Read("a", Since(20, "ep1", -1)).publications.empty());
  EXPECT_TRUE(Read("a", Since(kMaxOffset, "ep1", -1)).publications.empty());  // no wrap-around
  // JS omits the epoch when it has none: no epoch check then.
  EXPECT_EQ(Offsets(Read("a", Since(8, "", -1))), (std::vector<uint64_t>{9, 10}));
}

TEST_F(HistoryReadTest, ReverseSince) {
  EXPECT_EQ(Offsets(Read("a", Since(5, "ep1", -1, true))), (std::vector<uint64_t>{4, 3, 2, 1}));
  EXPECT_EQ(Offsets(Read("a", Since(5, "ep1", 2, true))), (std::vector<uint64_t>{4, 3}));
  EXPECT_TRUE(Read("a", Since(1, "ep1", -1, true)).publications.empty());
  EXPECT_TRUE(Read("a", Since(0, "ep1", -1, true)).publications.empty());  // caller's 107
  EXPECT_EQ(Offsets(Read("a", Since(kMaxOffset, "ep1", 2, true))), (std::vector<uint64_t>{10, 9}));
}

TEST_F(HistoryReadTest, LimitIsClampedToMaxLimit) {
  EXPECT_EQ(Read("a", All(-1), 3).publications.size(), 3u);
  EXPECT_EQ(Read("a", All(50), 3).publications.size(), 3u);
  EXPECT_EQ(Read("a", All(2), 3).publications.size(), 2u);
  EXPECT_EQ(Read("a", Since(2, "ep1", -1), 3).publications.size(), 3u);
  EXPECT_EQ(Read("a", All(-1), 0).publications.size(), 10u);  // max_limit <= 0: no cap
}

TEST_F(HistoryReadTest, ForeignEpochIsUnrecoverable) {
  HistoryResult r = Read("a", Since(3, "bogus", -1));
  EXPECT_TRUE(r.unrecoverable);
  EXPECT_TRUE(r.publications.empty());
  EXPECT_EQ(r.top.offset, 10u);
  EXPECT_EQ(r.top.epoch, "ep1");
  EXPECT_FALSE(Read("a", Since(3, "ep1", -1)).unrecoverable);
}

TEST_F(HistoryTest, SinceBeforeTheOldestKeptItemStartsAtTheOldest) {
  HistoryOptions o{.size = 3, .ttl_ms = 60'000};
  for (int i = 0; i < 10; ++i) Add("a", "{}", 0, o);
  // The caller sees the gap (first offset 8 != 3) and reports "not recovered" (spec §6.3).
  EXPECT_EQ(Offsets(Read("a", Since(2, "ep1", -1))), (std::vector<uint64_t>{8, 9, 10}));
  EXPECT_EQ(Offsets(Read("a", Since(9, "ep1", -1, true))), (std::vector<uint64_t>{8}));
  EXPECT_TRUE(Read("a", Since(8, "ep1", -1, true)).publications.empty());
}

// ---- Remove ----------------------------------------------------------------------------------

TEST_F(HistoryTest, RemoveDropsItemsButKeepsTopAndEpoch) {
  for (int i = 0; i < 3; ++i) Add("a");
  int calls = 0;
  store_.Remove("a", [&](bool ok) {
    EXPECT_TRUE(ok);
    ++calls;
  });
  EXPECT_EQ(calls, 1);
  HistoryResult r = Read("a", All(-1));
  EXPECT_TRUE(r.publications.empty());
  EXPECT_EQ(r.top.offset, 3u);
  EXPECT_EQ(r.top.epoch, "ep1");
  EXPECT_EQ(Add("a").offset, 4u);
  EXPECT_EQ(Offsets(Read("a", All(-1))), (std::vector<uint64_t>{4}));
}

TEST_F(HistoryTest, RemoveOfUnknownChannelCreatesNothing) {
  bool ok = false;
  store_.Remove("nope", [&](bool r) { ok = r; });
  EXPECT_TRUE(ok);
  EXPECT_EQ(store_.StreamCount(), 0u);
}

// ---- Sweep and memory ------------------------------------------------------------------------

TEST_F(HistoryTest, SweepReleasesExpiredItemsThenForgetsExpiredMeta) {
  HistoryOptions keep{.size = 10, .ttl_ms = 1000, .meta_ttl_ms = 0};
  HistoryOptions drop{.size = 10, .ttl_ms = 1000, .meta_ttl_ms = 5000};
  const size_t empty_usage = store_.MemoryUsage();
  Add("keep", std::string(1000, 'x'), 0, keep);
  Add("drop", std::string(1000, 'y'), 0, drop);
  const size_t full_usage = store_.MemoryUsage();
  EXPECT_GE(full_usage, empty_usage + 2000);

  EXPECT_EQ(store_.Sweep(999), 0u);
  EXPECT_EQ(store_.Sweep(1000), 2u);  // both streams' items released
  EXPECT_EQ(store_.StreamCount(), 2u);
  EXPECT_LE(store_.MemoryUsage(), full_usage - 2000);
  EXPECT_EQ(store_.Sweep(4999), 0u);
  EXPECT_EQ(store_.Sweep(5000), 1u);  // "drop" forgotten
  EXPECT_EQ(store_.StreamCount(), 1u);
  HistoryResult r = Read("keep", All(-1), keep, 300, 6000);
  EXPECT_EQ(r.top.offset, 1u);
  EXPECT_EQ(r.top.epoch, "ep1");
}

TEST_F(HistoryTest, MemoryUsageReturnsToBaselineWhenEverythingIsGone) {
  HistoryOptions o{.size = 50, .ttl_ms = 1000, .meta_ttl_ms = 2000};
  // Warm up the shards' bucket arrays so that the baseline includes them.
  for (int c = 0; c < 200; ++c) Add("ch" + std::to_string(c), "{}", 0, o);
  while (store_.StreamCount() > 0) store_.Sweep(10'000);
  const size_t baseline = store_.MemoryUsage();
  for (int c = 0; c < 200; ++c) {
    for (int i = 0; i < 60; ++i) Add("ch" + std::to_string(c), std::string(100, 'p'), 20'000, o);
  }
  EXPECT_GE(store_.MemoryUsage(), baseline + 200 * 50 * 100);
  while (store_.StreamCount() > 0) store_.Sweep(30'000);
  EXPECT_EQ(store_.MemoryUsage(), baseline);
}

TEST(MemoryHistorySweep, BoundedWorkPerCallAndResumes) {
  constexpr size_t kBudget = 16;
  constexpr int kStreams = 1000;
  MemoryHistoryStore store([] { return std::string("e"); }, kBudget);
  HistoryOptions o{.size = 1, .ttl_ms = 10, .meta_ttl_ms = 10};
  for (int c = 0; c < kStreams; ++c) {
    store.Add("ch" + std::to_string(c), Pub("{}"), o, 0, [](bool, const StreamPosition&) {});
  }
  size_t freed = 0;
  int calls = 0;
  while (store.StreamCount() > 0) {
    size_t n = store.Sweep(100);
    EXPECT_LE(n, kBudget + 8) << "one bucket's collision chain at most beyond the budget";
    freed += n;
    ASSERT_LT(++calls, 10'000);
  }
  EXPECT_EQ(freed, static_cast<size_t>(kStreams));
  EXPECT_GE(calls, kStreams / static_cast<int>(kBudget));
}

// ---- concurrency -----------------------------------------------------------------------------

// Four publishers on one channel: offsets are gap-free and `done` runs in offset order, which is
// what lets the caller deliver inside `done` in stream order (history.h, Add).
TEST(MemoryHistoryConcurrency, AddsToOneChannelAreGapFreeAndDoneInOffsetOrder) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 20'000;
  MemoryHistoryStore store;
  HistoryOptions o{.size = 100, .ttl_ms = 60'000};
  std::vector<uint64_t> delivered;  // written only inside `done`, i.e. under the stream's lock
  delivered.reserve(kThreads * kPerThread);
  std::atomic<bool> reader_stop{false};
  std::atomic<int> bad_reads{0};
  std::thread reader([&] {
    while (!reader_stop.load()) {
      store.Read("chat", HistoryQuery{false, {}, -1, false}, o, 0, 0, [&](HistoryResult r) {
        for (size_t i = 1; i < r.publications.size(); ++i) {
          if (r.publications[i].offset != r.publications[i - 1].offset + 1) ++bad_reads;
        }
        if (!r.publications.empty() && r.publications.back().offset != r.top.offset) ++bad_reads;
      });
    }
  });
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      uint64_t last = 0;
      for (int i = 0; i < kPerThread; ++i) {
        store.Add("chat", Pub("{\"t\":" + std::to_string(t) + "}"), o, 0,
                  [&](bool ok, const StreamPosition& top) {
                    EXPECT_TRUE(ok);
                    delivered.push_back(top.offset);
                    EXPECT_GT(top.offset, last);  // each publisher sees its own order too
                    last = top.offset;
                  });
      }
    });
  }
  for (auto& th : threads) th.join();
  reader_stop = true;
  reader.join();
  ASSERT_EQ(delivered.size(), static_cast<size_t>(kThreads * kPerThread));
  for (size_t i = 0; i < delivered.size(); ++i) ASSERT_EQ(delivered[i], i + 1) << "at " << i;
  EXPECT_EQ(bad_reads.load(), 0);
}

TEST(MemoryHistoryConcurrency, ManyChannelsWithReadsRemovesAndSweeps) {
  constexpr int kThreads = 4;
  constexpr int kChannels = 64;
  constexpr int kPerThread = 20'000;
  MemoryHistoryStore store(MemoryHistoryStore::RandomEpochs(), 64);
  HistoryOptions o{.size = 16, .ttl_ms = 60'000, .meta_ttl_ms = 0};
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
      for (int i = 0; i < kPerThread; ++i) {
        std::string ch = "ch" + std::to_string((i * 7 + t) % kChannels);
        switch (i % 8) {
          case 6:
            store.Read(ch, HistoryQuery{false, {}, 5, true}, o, 300, 0,
                       [](HistoryResult r) { EXPECT_LE(r.publications.size(), 5u); });
            break;
          case 7:
            if (t == 0) store.Remove(ch, [](bool) {});
            break;
          default:
            store.Add(ch, Pub("{}"), o, 0, [](bool ok, const StreamPosition&) { EXPECT_TRUE(ok); });
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  stop = true;
  sweeper.join();
  // Every Add went to some channel; the tops add up to the number of Adds.
  uint64_t total = 0;
  for (int c = 0; c < kChannels; ++c) {
    store.Read("ch" + std::to_string(c), HistoryQuery{}, o, 300, 0,
               [&](HistoryResult r) { total += r.top.offset; });
  }
  EXPECT_EQ(total, static_cast<uint64_t>(kThreads * kPerThread / 8 * 6));
}

// ---- timing (printed, not asserted: machines differ) -----------------------------------------

TEST(MemoryHistoryTiming, AddAtSize100AndReadOf10) {
  MemoryHistoryStore store;
  const size_t empty_usage = store.MemoryUsage();
  HistoryOptions o{.size = 100, .ttl_ms = 60'000};
  const std::string payload = R"({"text":"a typical chat message payload of some length"})";
  constexpr int kAdds = 200'000;
  std::vector<StoredPublication> pubs(kAdds);
  for (auto& p : pubs) p.data = payload;
  for (int i = 0; i < 100; ++i)
    store.Add("bench", Pub("{}"), o, 0, [](bool, const StreamPosition&) {});

  uint64_t sink = 0;
  auto t0 = std::chrono::steady_clock::now();
  for (auto& p : pubs) {
    store.Add("bench", std::move(p), o, 0,
              [&](bool, const StreamPosition& top) { sink += top.offset; });
  }
  auto t1 = std::chrono::steady_clock::now();
  constexpr int kReads = 100'000;
  for (int i = 0; i < kReads; ++i) {
    store.Read("bench", HistoryQuery{true, {kAdds + 90, ""}, 10, false}, o, 300, 0,
               [&](HistoryResult r) { sink += r.publications.size(); });
  }
  auto t2 = std::chrono::steady_clock::now();
  auto ns = [](auto d) { return std::chrono::duration<double, std::nano>(d).count(); };
  std::printf("[ timing ] MemoryHistoryStore: %.0f ns per Add (size 100), %.0f ns per Read of 10\n",
              ns(t1 - t0) / kAdds, ns(t2 - t1) / kReads);
  std::printf("[ memory ] one stream of 100 publications of %zu-byte data: %zu bytes\n",
              payload.size(), store.MemoryUsage() - empty_usage);
  EXPECT_GT(sink, 0u);
}

TEST(MemoryHistoryTiming, SweepCallWithTheDefaultBudget) {
  MemoryHistoryStore store;
  HistoryOptions o{.size = 1, .ttl_ms = 60'000};
  constexpr int kStreams = 200'000;
  for (int c = 0; c < kStreams; ++c) {
    store.Add("news:" + std::to_string(c), Pub("{}"), o, 0, [](bool, const StreamPosition&) {});
  }
  constexpr int kCalls = 500;  // ~10 full passes over the 200k streams; nothing expires
  auto t0 = std::chrono::steady_clock::now();
  size_t freed = 0;
  for (int i = 0; i < kCalls; ++i) freed += store.Sweep(1);
  auto t1 = std::chrono::steady_clock::now();
  std::printf("[ timing ] MemoryHistoryStore: %.1f us per Sweep call (budget %zu, %d streams)\n",
              std::chrono::duration<double, std::micro>(t1 - t0).count() / kCalls,
              MemoryHistoryStore::kDefaultSweepBudget, kStreams);
  EXPECT_EQ(freed, 0u);
}

}  // namespace
}  // namespace instant::engine
