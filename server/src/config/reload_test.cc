#include "config/reload.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace instant::config {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

Config Load(std::string_view json) {
  LoadResult r = LoadString(json, "config.json", {});
  EXPECT_TRUE(r.ok) << r.error;
  return r.config;
}

TEST(ReloadTest, EveryKeyIsClassifiedOnce) {
  EXPECT_THAT(internal::UnclassifiedOrTwice(), IsEmpty())
      << "classify the key in config/reload.cc (and docs/configuration.md)";
}

TEST(ReloadTest, SameConfigChangesNothing) {
  const Config c = Load(R"({"port": 9000, "token_hmac_secret_key": "s", "presence": true,
                            "namespaces": [{"name": "chat", "channel_regex": "^[a-z]+$"}]})");
  ReloadPlan plan = PlanReload(c, c);
  EXPECT_THAT(plan.applied, IsEmpty());
  EXPECT_THAT(plan.restart, IsEmpty());
}

TEST(ReloadTest, ReloadableKeysAreApplied) {
  const Config running = Load(R"({"token_hmac_secret_key": "old", "allowed_origins": ["https://a.com"],
                                  "client_channel_limit": 10, "log_level": "info"})");
  const Config loaded = Load(R"({"token_hmac_secret_key": "new", "allowed_origins": ["https://b.com"],
                                 "client_channel_limit": 20, "log_level": "debug",
                                 "client_commands_per_second": 5})");
  ReloadPlan plan = PlanReload(running, loaded);
  EXPECT_THAT(plan.applied, ElementsAre("log_level", "token_hmac_secret_key", "allowed_origins",
                                        "client_channel_limit", "client_commands_per_second"));
  EXPECT_THAT(plan.restart, IsEmpty());
  EXPECT_EQ(plan.config.token_hmac_secret_key, "new");
  EXPECT_THAT(plan.config.allowed_origins, ElementsAre("https://b.com"));
  EXPECT_EQ(plan.config.client_channel_limit, 20);
  EXPECT_EQ(plan.config.client_commands_per_second, 5);
}

TEST(ReloadTest, RestartOnlyKeysKeepTheirRunningValue) {
  const Config running = Load(R"({"port": 8000, "workers": 2, "redis_password": "p1",
                                  "ping_interval": "25s", "api_key": "k1"})");
  const Config loaded = Load(R"({"port": 9000, "workers": 4, "redis_password": "p2",
                                 "ping_interval": "30s", "api_key": "k2"})");
  ReloadPlan plan = PlanReload(running, loaded);
  EXPECT_THAT(plan.applied, ElementsAre("api_key"));
  ASSERT_EQ(plan.restart.size(), 4u);
  EXPECT_EQ(plan.restart[0].key, "port");
  EXPECT_EQ(plan.restart[0].running, "8000");
  EXPECT_EQ(plan.restart[0].loaded, "9000");
  EXPECT_EQ(plan.restart[1].key, "workers");
  EXPECT_EQ(plan.restart[2].key, "redis_password");
  EXPECT_EQ(plan.restart[2].running, "") << "strings may be secrets: never shown";
  EXPECT_EQ(plan.restart[2].loaded, "");
  EXPECT_EQ(plan.restart[3].key, "ping_interval");
  EXPECT_EQ(plan.restart[3].loaded, "30s");
  EXPECT_EQ(plan.config.port, 8000);
  EXPECT_EQ(plan.config.workers, 2);
  EXPECT_EQ(plan.config.redis_password, "p1");
  EXPECT_EQ(plan.config.ping_interval, 25s);
  EXPECT_EQ(plan.config.api_key, "k2");
  std::string error;
  EXPECT_TRUE(Validate(plan.config, "merged", &error)) << error;
}

TEST(ReloadTest, ChannelOptionsAndNamespaces) {
  const Config running = Load(R"({"presence": false,
      "namespaces": [{"name": "chat", "allow_subscribe_for_client": false}]})");
  const Config loaded = Load(R"({"presence": true,
      "namespaces": [{"name": "chat", "allow_subscribe_for_client": true}]})");
  ReloadPlan plan = PlanReload(running, loaded);
  EXPECT_THAT(plan.applied, ElementsAre("presence", "namespaces"));
  ASSERT_EQ(plan.config.namespaces.size(), 1u);
  EXPECT_TRUE(plan.config.namespaces[0].options.allow_subscribe_for_client);
  EXPECT_TRUE(plan.config.defaults.presence);
}

TEST(ReloadTest, NamespaceAddedRemovedOrRenamed) {
  const Config one = Load(R"({"namespaces": [{"name": "chat"}]})");
  const Config two = Load(R"({"namespaces": [{"name": "chat"}, {"name": "news"}]})");
  const Config renamed = Load(R"({"namespaces": [{"name": "talk"}]})");
  EXPECT_THAT(PlanReload(one, two).applied, ElementsAre("namespaces"));
  EXPECT_THAT(PlanReload(two, one).applied, ElementsAre("namespaces"));
  EXPECT_THAT(PlanReload(one, renamed).applied, ElementsAre("namespaces"));
}

TEST(ReloadTest, ChannelRegexChangeIsSeen) {
  const Config a = Load(R"({"namespaces": [{"name": "chat", "channel_regex": "^[a-z]+$"}]})");
  const Config b = Load(R"({"namespaces": [{"name": "chat", "channel_regex": "^[0-9]+$"}]})");
  EXPECT_THAT(PlanReload(a, b).applied, ElementsAre("namespaces"));
}

TEST(ReloadTest, Classification) {
  for (std::string_view key : {"token_hmac_secret_key", "allowed_origins", "api_key", "log_level",
                               "client_channel_limit", "client_commands_per_second", "namespaces",
                               "presence", "channel_regex"}) {
    EXPECT_TRUE(IsReloadable(key)) << key;
  }
  for (std::string_view key : {"port", "address", "workers", "engine", "redis_address", "name",
                               "ping_interval", "pong_timeout", "no_such_key"}) {
    EXPECT_FALSE(IsReloadable(key)) << key;
  }
  EXPECT_THAT(RestartOnlyKeys(), ::testing::Contains("port"));
}

}  // namespace
}  // namespace instant::config
