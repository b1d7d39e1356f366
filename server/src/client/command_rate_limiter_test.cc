#include "client/command_rate_limiter.h"

#include <gtest/gtest.h>

namespace instant::client {
namespace {

using Verdict = CommandRateLimiter::Verdict;

constexpr int64_t kT0 = 5'000'000;  // a loop clock some time after boot

// Takes `n` commands at `now_ms` and counts the verdicts.
struct Counts {
  int allowed = 0, refused = 0, disconnected = 0;
};
Counts TakeMany(CommandRateLimiter& l, int n, int64_t now_ms, int64_t per_second, int64_t capacity) {
  Counts c;
  for (int i = 0; i < n; ++i) {
    switch (l.Take(now_ms, per_second, capacity)) {
      case Verdict::kAllow:
        ++c.allowed;
        break;
      case Verdict::kRefuse:
        ++c.refused;
        break;
      case Verdict::kDisconnect:
        ++c.disconnected;
        return c;  // the session is gone
    }
  }
  return c;
}

TEST(CommandRateLimiterTest, StartsFull) {
  CommandRateLimiter l;
  Counts c = TakeMany(l, 328, kT0, 100, 328);
  EXPECT_EQ(c.allowed, 328);
  EXPECT_EQ(c.refused, 0);
}

TEST(CommandRateLimiterTest, StartsFullEvenAtClockZero) {
  CommandRateLimiter l;
  Counts c = TakeMany(l, 11, 0, 1, 10);
  EXPECT_EQ(c.allowed, 10);
  EXPECT_EQ(c.refused, 1);
}

TEST(CommandRateLimiterTest, FloodIsRefusedThenDisconnectedAfterAnotherBucket) {
  CommandRateLimiter l;
  Counts c = TakeMany(l, 10000, kT0, 100, 300);
  EXPECT_EQ(c.allowed, 300);
  // The debt reaches a whole bucket on the 300th refused command, which disconnects.
  EXPECT_EQ(c.refused, 299);
  EXPECT_EQ(c.disconnected, 1);
}

TEST(CommandRateLimiterTest, RefillsContinuously) {
  CommandRateLimiter l;
  ASSERT_EQ(TakeMany(l, 10, kT0, 100, 10).allowed, 10);
  // 100/s = one command per 10 ms: 9 ms is not enough, 10 ms is.
  EXPECT_EQ(l.Take(kT0 + 9, 100, 10), Verdict::kRefuse);
  // The refused command took its token anyway: at +19 ms the level is back to -0.1 command
  // (refused again), at +30 ms to exactly one: allowed.
  EXPECT_EQ(l.Take(kT0 + 19, 100, 10), Verdict::kRefuse);
  EXPECT_EQ(l.Take(kT0 + 30, 100, 10), Verdict::kAllow);
}

TEST(CommandRateLimiterTest, SteadyRateAtTheLimitIsNeverRefused) {
  CommandRateLimiter l;
  TakeMany(l, 50, kT0, 50, 50);  // empty the bucket
  for (int i = 1; i <= 1000; ++i) {
    ASSERT_EQ(l.Take(kT0 + i * 20, 50, 50), Verdict::kAllow) << i;  // exactly 50/s
  }
}

TEST(CommandRateLimiterTest, FractionalRefillAccumulates) {
  CommandRateLimiter l;
  TakeMany(l, 2, kT0, 3, 2);  // empty; 3/s = one command per 333.3 ms
  EXPECT_EQ(l.Take(kT0 + 334, 3, 2), Verdict::kAllow);   // 1.002 commands refilled
  EXPECT_EQ(l.Take(kT0 + 667, 3, 2), Verdict::kAllow);   // 0.002 + 0.999
  EXPECT_EQ(l.Take(kT0 + 1000, 3, 2), Verdict::kAllow);  // 0.001 + 0.999: three in one second
  EXPECT_EQ(l.Take(kT0 + 1001, 3, 2), Verdict::kRefuse);
}

TEST(CommandRateLimiterTest, NeverAboveCapacityAfterAnIdlePeriod) {
  CommandRateLimiter l;
  TakeMany(l, 5, kT0, 1000, 5);
  // An hour idle refills 3.6 million commands' worth, capped at the bucket.
  Counts c = TakeMany(l, 6, kT0 + 3'600'000, 1000, 5);
  EXPECT_EQ(c.allowed, 5);
  EXPECT_EQ(c.refused, 1);
}

TEST(CommandRateLimiterTest, ClientThatBacksOffRecovers) {
  CommandRateLimiter l;
  Counts c = TakeMany(l, 15, kT0, 10, 10);  // 10 allowed, 5 refused: in debt by 5
  ASSERT_EQ(c.allowed, 10);
  ASSERT_EQ(c.refused, 5);
  // 10/s pays the debt of 5 (and the next command's token) in 600 ms.
  EXPECT_EQ(l.Take(kT0 + 599, 10, 10), Verdict::kRefuse);  // 5.99 refilled: still short
  Counts later = TakeMany(l, 10, kT0 + 599 + 2000, 10, 10);
  EXPECT_EQ(later.allowed, 10);
}

TEST(CommandRateLimiterTest, SustainedOverRateIsDisconnected) {
  CommandRateLimiter l;
  // 100/s bucket of 200; the client sends 150/s (a command every 6.67 ms) for up to 60 s.
  int64_t t = kT0;
  int sent = 0;
  Verdict v = Verdict::kAllow;
  for (; sent < 9000; ++sent) {
    t = kT0 + sent * 20 / 3;
    v = l.Take(t, 100, 200);
    if (v == Verdict::kDisconnect) break;
  }
  ASSERT_EQ(v, Verdict::kDisconnect);
  // Net drain 50/s: a full bucket (200) then a full debt (200) take about 8 s.
  EXPECT_GT(t - kT0, 6000);
  EXPECT_LT(t - kT0, 10000);
}

TEST(CommandRateLimiterTest, SmallerCapacityAppliesAtOnce) {
  CommandRateLimiter l;
  ASSERT_EQ(TakeMany(l, 10, kT0, 100, 1000).allowed, 10);
  // A reload lowers the bucket to 5 commands: the level is clamped to it.
  Counts c = TakeMany(l, 6, kT0, 100, 5);
  EXPECT_EQ(c.allowed, 5);
  EXPECT_EQ(c.refused, 1);
}

TEST(CommandRateLimiterTest, ExtremeValuesDoNotOverflow) {
  CommandRateLimiter l;
  const int64_t capacity = 1'000'000 + 2'147'483'647LL;  // burst max + client_channel_limit max
  EXPECT_EQ(l.Take(kT0, 1'000'000, capacity), Verdict::kAllow);
  EXPECT_EQ(l.Take(INT64_MAX / 2, 1'000'000, capacity), Verdict::kAllow);
  CommandRateLimiter tiny;
  EXPECT_EQ(tiny.Take(kT0, 1, 1), Verdict::kAllow);
  EXPECT_EQ(tiny.Take(kT0, 1, 1), Verdict::kDisconnect);  // a bucket of one: one refusal is a bucket
}

}  // namespace
}  // namespace instant::client
