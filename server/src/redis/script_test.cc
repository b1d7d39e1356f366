#include "redis/script.h"

#include <gtest/gtest.h>

namespace instant::redis {
namespace {

TEST(Script, Sha1IsLowercaseHexOfTheSource) {
  // Reference digests from sha1sum; "return 1" is the example in Redis's EVALSHA docs.
  EXPECT_EQ(Script("return 1").sha1(), "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");
  EXPECT_EQ(Script("abc").sha1(), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(Script("").sha1(), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  EXPECT_EQ(Script("return 1").source(), "return 1");
}

}  // namespace
}  // namespace instant::redis
