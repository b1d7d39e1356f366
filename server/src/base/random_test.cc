#include "base/random.h"

#include <set>

#include <gtest/gtest.h>

namespace instant {
namespace {

TEST(Random, UuidV4Shape) {
  RandomSource r;
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string u = r.UuidV4();
    ASSERT_EQ(u.size(), 36u);
    EXPECT_EQ(u[8], '-');
    EXPECT_EQ(u[13], '-');
    EXPECT_EQ(u[14], '4');
    EXPECT_TRUE(u[19] == '8' || u[19] == '9' || u[19] == 'a' || u[19] == 'b') << u;
    seen.insert(u);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

}  // namespace
}  // namespace instant
