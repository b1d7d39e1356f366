#include "engine/idempotency.h"

#include <gtest/gtest.h>

namespace instant::engine {
namespace {

PublishResult At(uint64_t offset) {
  PublishResult r;
  r.offset = offset;
  r.epoch = "ep";
  return r;
}

TEST(IdempotentResults, RepeatWithinTheWindowFindsTheFirstResult) {
  IdempotentResults cache(1000);
  EXPECT_EQ(cache.Find("news", "k1", 0), nullptr);
  cache.Store("news", "k1", At(7), 0);
  const PublishResult* r = cache.Find("news", "k1", 999);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->offset, 7u);
  EXPECT_EQ(r->epoch, "ep");
}

TEST(IdempotentResults, KeysArePerChannel) {
  IdempotentResults cache(1000);
  cache.Store("news", "k1", At(1), 0);
  EXPECT_EQ(cache.Find("sport", "k1", 0), nullptr);
  // "a\0bc" must not collide with "ab\0c".
  cache.Store("a", "bc", At(2), 0);
  EXPECT_EQ(cache.Find("ab", "c", 0), nullptr);
}

TEST(IdempotentResults, ResultsExpireAfterTheWindow) {
  IdempotentResults cache(1000);
  cache.Store("news", "k1", At(1), 0);
  cache.Store("news", "k2", At(2), 500);
  EXPECT_EQ(cache.Find("news", "k1", 1000), nullptr);
  ASSERT_NE(cache.Find("news", "k2", 1000), nullptr);
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.Find("news", "k2", 1500), nullptr);
  EXPECT_EQ(cache.size(), 0u);
}

TEST(IdempotentResults, AKeyStoredAgainAfterExpiryLivesItsOwnWindow) {
  IdempotentResults cache(1000);
  cache.Store("news", "k", At(1), 0);
  EXPECT_EQ(cache.Find("news", "k", 1000), nullptr);
  cache.Store("news", "k", At(2), 1000);
  const PublishResult* r = cache.Find("news", "k", 1999);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->offset, 2u);
}

TEST(IdempotentResults, TheCapForgetsTheOldestFirst) {
  IdempotentResults cache(1000, 3);
  for (uint64_t i = 1; i <= 5; ++i) cache.Store("c", std::to_string(i), At(i), 0);
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_EQ(cache.Find("c", "1", 0), nullptr);
  EXPECT_EQ(cache.Find("c", "2", 0), nullptr);
  ASSERT_NE(cache.Find("c", "5", 0), nullptr);
  EXPECT_EQ(cache.Find("c", "5", 0)->offset, 5u);
}

}  // namespace
}  // namespace instant::engine
