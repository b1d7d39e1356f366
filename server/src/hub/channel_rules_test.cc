#include "hub/channel_rules.h"

#include <gtest/gtest.h>

#include "config/channel_regex.h"
#include "config/config.h"

namespace instant::hub {
namespace {

config::Config MakeConfig() {
  config::Config c;
  config::Namespace ns;
  ns.name = "chat";
  ns.options.allow_subscribe_for_client = true;
  c.namespaces.push_back(ns);
  return c;
}

TEST(ChannelRules, Namespaces) {
  config::Config c = MakeConfig();
  const config::ChannelOptions* opts = nullptr;
  EXPECT_EQ(ResolveChannel(c, "news", &opts), ChannelStatus::kOk);
  EXPECT_EQ(opts, &c.defaults);
  EXPECT_EQ(ResolveChannel(c, "chat:room1", &opts), ChannelStatus::kOk);
  EXPECT_TRUE(opts->allow_subscribe_for_client);
  // The private prefix is stripped before the namespace is read (spec §5.1).
  EXPECT_EQ(ResolveChannel(c, "$chat:room1", &opts), ChannelStatus::kOk);
  EXPECT_TRUE(opts->allow_subscribe_for_client);
  EXPECT_EQ(ResolveChannel(c, "nope:room1", &opts), ChannelStatus::kUnknownNamespace);
  EXPECT_EQ(ResolveChannel(c, "$users", &opts), ChannelStatus::kOk);
  EXPECT_EQ(opts, &c.defaults);
}

TEST(ChannelRules, BadNames) {
  config::Config c = MakeConfig();
  const config::ChannelOptions* opts = nullptr;
  EXPECT_EQ(ResolveChannel(c, std::string(255, 'a'), &opts), ChannelStatus::kOk);
  EXPECT_EQ(ResolveChannel(c, std::string(256, 'a'), &opts), ChannelStatus::kBadName);
  EXPECT_EQ(ResolveChannel(c, "a\nb", &opts), ChannelStatus::kBadName);
  EXPECT_EQ(ResolveChannel(c, std::string("a\0b", 3), &opts), ChannelStatus::kBadName);
  EXPECT_EQ(ResolveChannel(c, "caf\xc3\xa9", &opts), ChannelStatus::kBadName);  // ASCII only without channel_regex
}

TEST(ChannelRules, ChannelRegexAppliesToTheNameAfterTheNamespace) {
  config::Config c = MakeConfig();
  c.namespaces[0].options.channel_regex = "^[a-z]+$";
  c.defaults.channel_regex = "^[a-z0-9\xc3\xa9]+$";
  const config::ChannelOptions* opts = nullptr;
  EXPECT_EQ(ResolveChannel(c, "chat:room", &opts), ChannelStatus::kOk);  // compiled on the fly
  ASSERT_TRUE(config::CompileChannelRegexes(c));
  EXPECT_EQ(ResolveChannel(c, "chat:room", &opts), ChannelStatus::kOk);
  EXPECT_EQ(ResolveChannel(c, "$chat:room", &opts), ChannelStatus::kOk);
  EXPECT_EQ(ResolveChannel(c, "chat:Room1", &opts), ChannelStatus::kBadName);
  EXPECT_EQ(ResolveChannel(c, "news1", &opts), ChannelStatus::kOk);
  EXPECT_EQ(ResolveChannel(c, "caf\xc3\xa9", &opts), ChannelStatus::kOk);  // a top-level regex allows non-ASCII
  EXPECT_EQ(ResolveChannel(c, "news-1", &opts), ChannelStatus::kBadName);
}

TEST(ChannelRules, PrivateAndUserLimited) {
  config::Config c = MakeConfig();
  EXPECT_TRUE(IsPrivateChannel(c, "$users"));
  EXPECT_FALSE(IsPrivateChannel(c, "users"));
  EXPECT_TRUE(UserInLimitedChannel(c, "dialog:#42,56", "42"));
  EXPECT_TRUE(UserInLimitedChannel(c, "dialog:#42,56", "56"));
  EXPECT_FALSE(UserInLimitedChannel(c, "dialog:#42,56", "5"));
  EXPECT_FALSE(UserInLimitedChannel(c, "dialog:#42,56", ""));
  EXPECT_FALSE(UserInLimitedChannel(c, "dialog", "42"));
  EXPECT_TRUE(UserInLimitedChannel(c, "a#b:#7", "7"));  // the list follows the LAST boundary
  EXPECT_TRUE(IsUserLimitedChannel(c, "dialog:#42"));
  EXPECT_FALSE(IsUserLimitedChannel(c, "dialog:42"));
}

}  // namespace
}  // namespace instant::hub

#include "hub/channel_registry.h"

namespace instant::hub {
namespace {

TEST(ChannelRegistry, CountsAndGlob) {
  ChannelRegistry r;
  r.Update("chat:1", 1);
  r.Update("chat:1", 1);
  r.Update("news", 1);
  EXPECT_EQ(r.num_channels(), 2);
  EXPECT_EQ(r.num_subscriptions(), 3);
  auto chat = r.Snapshot("chat:*");
  ASSERT_EQ(chat.size(), 1u);
  EXPECT_EQ(chat[0].first, "chat:1");
  EXPECT_EQ(chat[0].second, 2);
  const std::string long_name(100, 'x');  // past the small-string buffer: the lookup takes a view
  EXPECT_FALSE(r.HasSubscribers(long_name));
  r.Update(long_name, 1);
  EXPECT_TRUE(r.HasSubscribers(long_name));
  r.Update(long_name, -1);
  EXPECT_FALSE(r.HasSubscribers(long_name));
  EXPECT_TRUE(r.HasSubscribers("chat:1"));
  EXPECT_FALSE(r.HasSubscribers("chat:2"));
  r.Update("chat:1", -1);
  EXPECT_TRUE(r.HasSubscribers("chat:1"));
  r.Update("chat:1", -1);
  EXPECT_FALSE(r.HasSubscribers("chat:1"));
  EXPECT_EQ(r.num_channels(), 1);
  EXPECT_TRUE(GlobMatch("*", ""));
  EXPECT_TRUE(GlobMatch("a?c*", "abcdef"));
  EXPECT_FALSE(GlobMatch("a?c", "abcd"));
  EXPECT_TRUE(GlobMatch("*:*:x", "a:b:c:x"));
}

TEST(ChannelRegistry, LoopsWithSubscribers) {
  ChannelRegistry r;
  EXPECT_EQ(r.LoopsWithSubscribers("c"), 0u);
  r.Update("c", 1, 0);
  r.Update("c", 1, 2);
  r.Update("c", 1, 2);
  EXPECT_EQ(r.LoopsWithSubscribers("c"), 0b101u);
  r.Update("c", -1, 2);
  EXPECT_EQ(r.LoopsWithSubscribers("c"), 0b101u) << "one subscriber left on loop 2";
  r.Update("c", -1, 0);
  EXPECT_EQ(r.LoopsWithSubscribers("c"), 0b100u);
  // Loops from 63 on share the last bit: it stays set while any of them has a subscriber.
  r.Update("c", 1, 63);
  r.Update("c", 1, 70);
  r.Update("c", -1, 63);
  EXPECT_EQ(r.LoopsWithSubscribers("c"), (uint64_t{1} << 63) | 0b100u);
  r.Update("c", -1, 70);
  EXPECT_EQ(r.LoopsWithSubscribers("c"), 0b100u);
  r.Update("c", -1, 2);
  EXPECT_EQ(r.LoopsWithSubscribers("c"), 0u);
  EXPECT_EQ(r.num_channels(), 0);
  EXPECT_EQ(r.num_subscriptions(), 0);
}

}  // namespace
}  // namespace instant::hub
