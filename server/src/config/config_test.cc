#include "config/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "config/version.h"

namespace instant::config {
namespace {

using namespace std::chrono_literals;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;

LoadResult Load(std::string_view json, const std::vector<std::string>& env = {}) {
  return LoadString(json, "config.json", env);
}

Config Ok(std::string_view json, const std::vector<std::string>& env = {}) {
  LoadResult r = Load(json, env);
  EXPECT_TRUE(r.ok) << r.error;
  return r.config;
}

std::string Error(std::string_view json, const std::vector<std::string>& env = {}) {
  LoadResult r = Load(json, env);
  EXPECT_FALSE(r.ok) << json;
  return r.error;
}

std::vector<std::string> Warnings(std::string_view json, const std::vector<std::string>& env = {}) {
  LoadResult r = Load(json, env);
  EXPECT_TRUE(r.ok) << r.error;
  return r.warnings;
}

// ---------------------------------------------------------------------------------------------
// Defaults and types

TEST(ConfigDefaults, EmptyObjectGivesDocumentedDefaults) {
  LoadResult r = Load("{}");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_THAT(r.warnings, IsEmpty());
  const Config& c = r.config;
  EXPECT_EQ(c.source_path, "");
  EXPECT_EQ(c.address, "");
  EXPECT_EQ(c.port, 8427);
  EXPECT_EQ(c.workers, 0);
  EXPECT_EQ(c.log_level, "info");
  EXPECT_EQ(c.engine, "memory");
  EXPECT_EQ(c.shutdown_timeout, 30s);
  EXPECT_EQ(c.token_hmac_secret_key, "");
  EXPECT_FALSE(c.api_insecure);
  EXPECT_EQ(c.api_max_body_size, 16u * 1024 * 1024);
  EXPECT_TRUE(c.health);
  EXPECT_FALSE(c.prometheus);
  EXPECT_THAT(c.allowed_origins, IsEmpty());
  EXPECT_FALSE(c.allow_anonymous_connect_without_token);
  EXPECT_EQ(c.client_channel_limit, 128);
  EXPECT_EQ(c.client_queue_max_size, 1048576u);
  EXPECT_EQ(c.client_user_connection_limit, 0);
  EXPECT_EQ(c.client_stale_close_delay, 10s);
  EXPECT_EQ(c.client_expired_close_delay, 25s);
  EXPECT_EQ(c.client_expired_sub_close_delay, 25s);
  EXPECT_EQ(c.websocket_message_size_limit, 65536u);
  EXPECT_EQ(c.ping_interval, 25s);
  EXPECT_EQ(c.pong_timeout, 8s);
  EXPECT_EQ(c.http_max_header_size, 16384u);
  EXPECT_EQ(c.handshake_timeout, 10s);
  EXPECT_EQ(c.channel_max_length, 255);
  EXPECT_EQ(c.channel_private_prefix, "$");
  EXPECT_EQ(c.channel_namespace_boundary, ":");
  EXPECT_EQ(c.channel_user_boundary, "#");
  EXPECT_EQ(c.channel_user_separator, ",");
  EXPECT_EQ(c.client_history_max_publication_limit, 300);
  EXPECT_EQ(c.client_recovery_max_publication_limit, 300);
  EXPECT_FALSE(c.defaults.presence);
  EXPECT_FALSE(c.defaults.allow_subscribe_for_client);
  EXPECT_THAT(c.namespaces, IsEmpty());
  EXPECT_FALSE(c.v3_semantics);
  EXPECT_THAT(c.NodeName(), HasSubstr("_8427"));
}

TEST(ConfigDefaults, VersionComesFromCMake) {
  // project(instant VERSION x.y.z) in the top-level CMakeLists.
  EXPECT_THAT(std::string(kVersion), ::testing::MatchesRegex("[0-9]+\\.[0-9]+\\.[0-9]+.*"));
}

TEST(ConfigTypes, EveryKeyType) {
  Config c = Ok(R"({
    "address": "127.0.0.1", "port": 9000, "workers": 4, "name": "n1", "log_level": "debug",
    "shutdown_timeout": "5s",
    "token_hmac_secret_key": "secret", "token_rsa_public_key": "rsa",
    "token_ecdsa_public_key": "ec",
    "token_audience": "aud", "token_issuer": "iss", "disallow_anonymous_connection_tokens": true,
    "api_key": "key", "api_insecure": true, "api_max_body_size": 1024,
    "admin_password": "p", "admin_secret": "s", "admin_insecure": true,
    "health": false, "prometheus": true,
    "allowed_origins": ["http://localhost:8000", "https://*.example.com"],
    "allow_anonymous_connect_without_token": true, "client_insecure": true,
    "client_channel_limit": 10, "client_queue_max_size": 2048, "client_user_connection_limit": 3,
    "client_stale_close_delay": "1s", "client_expired_close_delay": 2,
    "client_expired_sub_close_delay": 3.5, "client_presence_update_interval": "10s",
    "presence_ttl": "30s", "websocket_message_size_limit": 1000, "websocket_write_timeout": "2s",
    "ping_interval": "20s", "pong_timeout": "5s", "http_max_header_size": 8192,
    "handshake_timeout": "3s", "channel_max_length": 100, "channel_private_prefix": "!",
    "channel_namespace_boundary": "/", "channel_user_boundary": "@", "channel_user_separator": ";",
    "client_history_max_publication_limit": 0, "client_recovery_max_publication_limit": 50,
    "global_history_meta_ttl": "720h", "user_subscribe_to_personal": true,
    "user_personal_single_connection": true,
    "presence": true, "join_leave": true, "force_push_join_leave": true, "history_size": 10,
    "history_ttl": "300s", "history_meta_ttl": "1h", "force_positioning": true,
    "allow_positioning": true, "force_recovery": true, "allow_recovery": true,
    "allow_subscribe_for_client": true, "allow_subscribe_for_anonymous": true,
    "allow_publish_for_client": true, "allow_publish_for_subscriber": true,
    "allow_publish_for_anonymous": true, "allow_presence_for_client": true,
    "allow_presence_for_subscriber": true, "allow_presence_for_anonymous": true,
    "allow_history_for_client": true, "allow_history_for_subscriber": true,
    "allow_history_for_anonymous": true, "allow_user_limited_channels": true,
    "channel_regex": "^[a-z]+$"
  })");
  EXPECT_EQ(c.address, "127.0.0.1");
  EXPECT_EQ(c.port, 9000);
  EXPECT_EQ(c.workers, 4);
  EXPECT_EQ(c.name, "n1");
  EXPECT_EQ(c.NodeName(), "n1");
  EXPECT_EQ(c.log_level, "debug");
  EXPECT_EQ(c.shutdown_timeout, 5s);
  EXPECT_EQ(c.token_hmac_secret_key, "secret");
  EXPECT_EQ(c.token_rsa_public_key, "rsa");
  EXPECT_EQ(c.token_ecdsa_public_key, "ec");
  EXPECT_EQ(c.token_audience, "aud");
  EXPECT_EQ(c.token_issuer, "iss");
  EXPECT_TRUE(c.disallow_anonymous_connection_tokens);
  EXPECT_EQ(c.api_key, "key");
  EXPECT_TRUE(c.api_insecure);
  EXPECT_EQ(c.api_max_body_size, 1024u);
  EXPECT_EQ(c.admin_password, "p");
  EXPECT_EQ(c.admin_secret, "s");
  EXPECT_TRUE(c.admin_insecure);
  EXPECT_FALSE(c.health);
  EXPECT_TRUE(c.prometheus);
  EXPECT_THAT(c.allowed_origins, ElementsAre("http://localhost:8000", "https://*.example.com"));
  EXPECT_TRUE(c.allow_anonymous_connect_without_token);
  EXPECT_TRUE(c.client_insecure);
  EXPECT_EQ(c.client_channel_limit, 10);
  EXPECT_EQ(c.client_queue_max_size, 2048u);
  EXPECT_EQ(c.client_user_connection_limit, 3);
  EXPECT_EQ(c.client_stale_close_delay, 1s);
  EXPECT_EQ(c.client_expired_close_delay, 2s);
  EXPECT_EQ(c.client_expired_sub_close_delay, 3500ms);
  EXPECT_EQ(c.client_presence_update_interval, 10s);
  EXPECT_EQ(c.presence_ttl, 30s);
  EXPECT_EQ(c.websocket_message_size_limit, 1000u);
  EXPECT_EQ(c.websocket_write_timeout, 2s);
  EXPECT_EQ(c.ping_interval, 20s);
  EXPECT_EQ(c.pong_timeout, 5s);
  EXPECT_EQ(c.http_max_header_size, 8192u);
  EXPECT_EQ(c.handshake_timeout, 3s);
  EXPECT_EQ(c.channel_max_length, 100);
  EXPECT_EQ(c.channel_private_prefix, "!");
  EXPECT_EQ(c.channel_namespace_boundary, "/");
  EXPECT_EQ(c.channel_user_boundary, "@");
  EXPECT_EQ(c.channel_user_separator, ";");
  EXPECT_EQ(c.client_history_max_publication_limit, 0);
  EXPECT_EQ(c.client_recovery_max_publication_limit, 50);
  EXPECT_EQ(c.global_history_meta_ttl, 720h);
  EXPECT_TRUE(c.user_subscribe_to_personal);
  EXPECT_TRUE(c.user_personal_single_connection);
  const ChannelOptions& o = c.defaults;
  EXPECT_TRUE(o.presence);
  EXPECT_TRUE(o.join_leave);
  EXPECT_TRUE(o.force_push_join_leave);
  EXPECT_EQ(o.history_size, 10);
  EXPECT_EQ(o.history_ttl, 300s);
  EXPECT_EQ(o.history_meta_ttl, 1h);
  EXPECT_TRUE(o.force_positioning && o.allow_positioning && o.force_recovery && o.allow_recovery);
  EXPECT_TRUE(o.allow_subscribe_for_client && o.allow_subscribe_for_anonymous);
  EXPECT_TRUE(o.allow_publish_for_client && o.allow_publish_for_subscriber &&
              o.allow_publish_for_anonymous);
  EXPECT_TRUE(o.allow_presence_for_client && o.allow_presence_for_subscriber &&
              o.allow_presence_for_anonymous);
  EXPECT_TRUE(o.allow_history_for_client && o.allow_history_for_subscriber &&
              o.allow_history_for_anonymous);
  EXPECT_TRUE(o.allow_user_limited_channels);
  EXPECT_EQ(o.channel_regex, "^[a-z]+$");
}

TEST(ConfigTypes, QuotedNumbersAndBoolsAreAcceptedLikeViper) {
  // Centrifugo reads config through viper, which casts "8000" and "true"; real configs rely on it.
  Config c = Ok(R"({"port": "8000", "client_insecure": "true", "api_insecure": 1,
                    "client_channel_limit": 64.0})");
  EXPECT_EQ(c.port, 8000);
  EXPECT_TRUE(c.client_insecure);
  EXPECT_TRUE(c.api_insecure);
  EXPECT_EQ(c.client_channel_limit, 64);
}

TEST(ConfigTypes, NullMeansNotSet) {
  Config c = Ok(R"({"port": null, "namespaces": null, "presence": null})");
  EXPECT_EQ(c.port, 8427);
}

TEST(ConfigTypes, WrongTypesNameTheKeyAndTheFix) {
  EXPECT_EQ(Error(R"({"client_channel_limit": "abc"})"),
            "config.json: \"client_channel_limit\" must be a positive integer, got \"abc\": write "
            "a number such as 128");
  EXPECT_EQ(Error(R"({"client_channel_limit": 1.5})"),
            "config.json: \"client_channel_limit\" must be a positive integer, got 1.5: write a "
            "number such as 128");
  EXPECT_EQ(Error(R"({"client_insecure": "yes"})"),
            "config.json: \"client_insecure\" must be true or false, got \"yes\": write true or "
            "false without quotes");
  EXPECT_EQ(Error(R"({"api_key": 123})"),
            "config.json: \"api_key\" must be a string, got 123: put the value in double quotes");
  EXPECT_EQ(Error(R"({"allowed_origins": "https://a.com"})"),
            "config.json: \"allowed_origins\" must be an array of strings, got \"https://a.com\": "
            "write [\"https://a.com\"]");
  EXPECT_EQ(Error(R"({"allowed_origins": ["https://a.com", 5]})"),
            "config.json: \"allowed_origins\"[1] must be a string, got 5: put it in double quotes");
  EXPECT_THAT(Error(R"({"presence": {}})"),
              StartsWith("config.json: \"presence\" must be true or false, got {}"));
  EXPECT_THAT(Error(R"({"namespaces": {}})"),
              StartsWith("config.json: \"namespaces\" must be an array of objects"));
  EXPECT_THAT(Error(R"({"namespaces": [1]})"),
              StartsWith("config.json: namespaces[0] must be an object, got 1"));
  EXPECT_THAT(Error(R"({"namespaces": [{"presence": true}]})"),
              StartsWith("config.json: namespaces[0] has no \"name\": add \"name\""));
  EXPECT_THAT(Error(R"({"namespaces": [{"name": 5}]})"),
              StartsWith("config.json: namespaces[0]: \"name\" must be a string, got 5"));
  EXPECT_THAT(Error(R"({"namespaces": [{"name": "chat", "history_size": "ten"}]})"),
              StartsWith("config.json: namespace \"chat\": \"history_size\" must be a non-negative "
                         "integer, got \"ten\""));
}

TEST(ConfigTypes, RangesAtLoad) {
  EXPECT_EQ(Error(R"({"client_channel_limit": 0})"),
            "config.json: \"client_channel_limit\" must be a positive integer, got 0: use a value "
            "of at least 1 (default 128)");
  EXPECT_EQ(Error(R"({"port": 70000})"),
            "config.json: \"port\" must be an integer from 1 to 65535, got 70000: use a value from "
            "1 to 65535 (default 8427)");
  EXPECT_THAT(Error(R"({"port": 0})"), HasSubstr("\"port\" must be an integer from 1 to 65535"));
  EXPECT_THAT(Error(R"({"port": 18446744073709551615})"), HasSubstr("got 18446744073709551615"));
  EXPECT_THAT(Error(R"({"workers": 257})"),
              HasSubstr("\"workers\" must be an integer from 0 to 256, got 257"));
  EXPECT_THAT(Error(R"({"workers": -1})"),
              HasSubstr("\"workers\" must be an integer from 0 to 256"));
  EXPECT_EQ(Ok(R"({"workers": 256})").workers, 256);
  EXPECT_THAT(Error(R"({"client_user_connection_limit": -1})"),
              HasSubstr("must be a non-negative integer, got -1"));
  EXPECT_THAT(Error(R"({"websocket_message_size_limit": 0})"),
              HasSubstr("\"websocket_message_size_limit\" must be a positive integer"));
  EXPECT_THAT(Error(R"({"handshake_timeout": "0s"})"),
              HasSubstr("\"handshake_timeout\" must be a positive duration, got \"0s\": use a "
                        "value above 0 (default \"10s\")"));
  EXPECT_THAT(Error(R"({"client_channel_limit": 3000000000})"),
              HasSubstr("must be a positive integer, got 3000000000"));
}

// ---------------------------------------------------------------------------------------------
// Durations

TEST(ConfigDurations, AllForms) {
  EXPECT_EQ(Ok(R"({"shutdown_timeout": "25s"})").shutdown_timeout, 25s);
  EXPECT_EQ(Ok(R"({"shutdown_timeout": "1m30s"})").shutdown_timeout, 90s);
  EXPECT_EQ(Ok(R"({"shutdown_timeout": "500ms"})").shutdown_timeout, 500ms);
  EXPECT_EQ(Ok(R"({"shutdown_timeout": "1h"})").shutdown_timeout, 1h);
  EXPECT_EQ(Ok(R"({"shutdown_timeout": "0"})").shutdown_timeout, 0ms);
  EXPECT_EQ(Ok(R"({"shutdown_timeout": 0})").shutdown_timeout, 0ms);
  EXPECT_EQ(Ok(R"({"shutdown_timeout": 25})").shutdown_timeout, 25s);  // v3-era integers = seconds
  EXPECT_EQ(Ok(R"({"shutdown_timeout": 0.25})").shutdown_timeout, 250ms);
  EXPECT_EQ(Ok(R"({"shutdown_timeout": "30"})").shutdown_timeout, 30s);
  EXPECT_EQ(Ok(R"({"history_size": 5, "history_ttl": 300})").defaults.history_ttl, 300s);
}

TEST(ConfigDurations, BadOnes) {
  EXPECT_EQ(Error(R"({"ping_interval": "5 sec"})"),
            "config.json: \"ping_interval\": unknown unit \" sec\" in duration \"5 sec\": write a "
            "duration such as \"25s\", \"1m30s\" or \"500ms\", or a number of seconds (default "
            "\"25s\")");
  EXPECT_THAT(Error(R"({"ping_interval": "-5s"})"), HasSubstr("negative duration \"-5s\""));
  EXPECT_THAT(Error(R"({"ping_interval": -5})"), HasSubstr("-5 seconds is out of range"));
  EXPECT_THAT(Error(R"({"ping_interval": true})"), HasSubstr("expected a duration, got true"));
  EXPECT_THAT(Error(R"({"ping_interval": "5d"})"), HasSubstr("unknown unit \"d\""));
  EXPECT_THAT(Error(R"({"history_ttl": ""})"), HasSubstr("\"history_ttl\": empty value"));
  EXPECT_THAT(Error(R"({"ping_interval": 1e300})"), HasSubstr("out of range"));
}

// ---------------------------------------------------------------------------------------------
// Validation rules

TEST(ConfigValidation, PingMustExceedPong) {
  EXPECT_EQ(Error(R"({"ping_interval": "5s"})"),
            "config.json: \"ping_interval\" (5s) must be greater than \"pong_timeout\" (8s): raise "
            "ping_interval or lower pong_timeout");
  EXPECT_THAT(Error(R"({"ping_interval": "8s", "pong_timeout": "8s"})"),
              HasSubstr("must be greater than"));
  Ok(R"({"ping_interval": "5s", "pong_timeout": "2s"})");
  Ok(R"({"ping_interval": "5s", "pong_timeout": 0})");  // 0 disables the rule
  Ok(R"({"ping_interval": 0})");
}

TEST(ConfigValidation, HistorySizeAndTtlTogether) {
  EXPECT_EQ(Error(R"({"history_size": 10})"),
            "config.json: \"history_size\" (10) and \"history_ttl\" (0s) must be both set or both "
            "zero: set history_ttl (e.g. \"300s\") or set history_size to 0");
  EXPECT_EQ(Error(R"({"namespaces": [{"name": "chat", "history_ttl": "5m"}]})"),
            "config.json: namespace \"chat\": \"history_size\" (0) and \"history_ttl\" (5m0s) must "
            "be both set or both zero: set history_size (e.g. 100) or set history_ttl to 0");
  Ok(R"({"history_size": 10, "history_ttl": "5m"})");
}

TEST(ConfigValidation, RecoveryNeedsHistory) {
  EXPECT_EQ(Error(R"({"force_recovery": true})"),
            "config.json: \"force_recovery\" needs history: set \"history_size\" and "
            "\"history_ttl\" (e.g. 100 and \"300s\"), or remove force_recovery");
  EXPECT_THAT(Error(R"({"namespaces": [{"name": "chat", "allow_recovery": true}]})"),
              StartsWith("config.json: namespace \"chat\": \"allow_recovery\" needs history"));
  Ok(R"({"force_recovery": true, "history_size": 10, "history_ttl": "60s"})");
}

TEST(ConfigValidation, HistoryTtlWithinMetaTtl) {
  EXPECT_THAT(Error(R"({"history_size": 1, "history_ttl": "2h", "history_meta_ttl": "1h"})"),
              HasSubstr("\"history_ttl\" (2h0m0s) must not exceed the history meta TTL (1h0m0s, "
                        "from \"history_meta_ttl\")"));
  EXPECT_THAT(Error(R"({"history_size": 1, "history_ttl": "2h", "global_history_meta_ttl": "1h"})"),
              HasSubstr("from \"global_history_meta_ttl\""));
}

TEST(ConfigValidation, NamespaceNames) {
  EXPECT_EQ(Error(R"({"namespaces": [{"name": "a"}]})"),
            "config.json: namespaces[0]: name \"a\" is invalid: a namespace name has at least 2 "
            "characters, each a letter, digit, '-', '_' or '.'");
  EXPECT_THAT(Error(R"({"namespaces": [{"name": "chat:room"}]})"),
              HasSubstr("name \"chat:room\" is invalid"));
  EXPECT_THAT(Error(R"({"namespaces": [{"name": ""}]})"), HasSubstr("name \"\" is invalid"));
  EXPECT_EQ(Error(R"({"namespaces": [{"name": "chat"}, {"name": "news"}, {"name": "chat"}]})"),
            "config.json: namespace \"chat\" is defined twice (namespaces[0] and namespaces[2]): "
            "merge them or rename one");
  Ok(R"({"namespaces": [{"name": "a-b_c.d"}, {"name": "AZ09"}]})");
}

TEST(ConfigValidation, EngineLogLevelBoundariesRegexPersonal) {
  LoadResult redis = Load(R"({"engine": "redis", "redis_address": "localhost:6379", "redis_db": 2,
                              "redis_prefix": "site", "redis_password": "pw"})");
  ASSERT_TRUE(redis.ok) << redis.error;
  EXPECT_EQ(redis.config.engine, "redis");
  EXPECT_THAT(redis.warnings, IsEmpty());
  EXPECT_THAT(redis.config.redis_address, ElementsAre("localhost:6379"));  // a string is one shard
  EXPECT_EQ(redis.config.redis_db, 2);
  EXPECT_EQ(redis.config.redis_prefix, "site");
  EXPECT_EQ(redis.config.redis_password, "pw");
  EXPECT_THAT(Ok(R"({"engine": "redis", "redis_address": ["a:1", "redis://b:2/3"]})").redis_address,
              ElementsAre("a:1", "redis://b:2/3"));
  EXPECT_THAT(Error(R"({"engine": "redis", "redis_address": ["a:1", ""]})"), HasSubstr("empty entry"));
  EXPECT_THAT(Warnings(R"({"redis_sentinel_address": "x"})"), Contains(HasSubstr("Sentinel is not implemented")));
  EXPECT_EQ(Error(R"({"engine": "tarantool"})"),
            "config.json: \"engine\" must be \"memory\" or \"redis\", got \"tarantool\": use "
            "\"memory\" (the default)");
  EXPECT_THAT(Error(R"({"log_level": "verbose"})"),
              HasSubstr("\"log_level\" must be one of trace, debug, info, warn, error, none, got "
                        "\"verbose\""));
  for (const char* level : {"trace", "debug", "info", "warn", "error", "none"}) {
    Ok(std::string(R"({"log_level": ")") + level + "\"}");
  }
  EXPECT_THAT(Error(R"({"log_format": "xml"})"), HasSubstr("\"log_format\" must be text or json, got \"xml\""));
  Ok(R"({"log_format": "json"})");
  EXPECT_EQ(Error(R"({"channel_namespace_boundary": ""})"),
            "config.json: \"channel_namespace_boundary\" must not be empty: use \":\" (the "
            "default)");
  EXPECT_THAT(Error(R"({"namespaces": [{"name": "chat", "channel_regex": "[a-"}]})"),
              StartsWith("config.json: namespace \"chat\": \"channel_regex\" \"[a-\" is not a "
                         "valid regular expression"));
  EXPECT_THAT(Error(R"j({"channel_regex": "((((((((((((((((((a))))))))))))))))))"})j"),
              HasSubstr("too complex"));
  EXPECT_THAT(Error(R"({"user_subscribe_to_personal": true,
                       "user_personal_channel_namespace": "personal"})"),
              HasSubstr("\"user_personal_channel_namespace\" is \"personal\", which is not a "
                        "configured namespace"));
  Ok(R"({"user_subscribe_to_personal": true, "user_personal_channel_namespace": "personal",
         "namespaces": [{"name": "personal"}]})");
}

TEST(ConfigValidation, AdminIsAcceptedWithAWarning) {
  EXPECT_THAT(Warnings(R"({"admin": true})"),
              Contains(HasSubstr("admin web UI is not implemented yet")));
}

TEST(ConfigValidation, ValidateAfterChangesInCode) {
  Config c = Ok("{}");
  std::string error;
  EXPECT_TRUE(Validate(c, "flags", &error)) << error;
  c.port = 0;
  EXPECT_FALSE(Validate(c, "flags", &error));
  EXPECT_EQ(error,
            "flags: \"port\" must be an integer from 1 to 65535, got 0: use a value from 1 "
            "to 65535 (default 8427)");
  c.port = 80;
  c.workers = 1000;
  EXPECT_FALSE(Validate(c, "flags", &error));
  EXPECT_THAT(error, HasSubstr("\"workers\" must be an integer from 0 to 256, got 1000"));
  c.workers = 0;
  c.log_level = "loud";
  EXPECT_FALSE(Validate(c, "flags", &error));
  c.log_level = "info";
  c.engine = "redis";
  std::vector<std::string> warnings;
  EXPECT_TRUE(Validate(c, "flags", &error, &warnings));
  c.engine = "etcd";
  EXPECT_FALSE(Validate(c, "flags", &error));
  c.engine = "redis";
  c.client_queue_max_size = 0;
  EXPECT_FALSE(Validate(c, "flags", &error));
  EXPECT_THAT(error, HasSubstr("\"client_queue_max_size\" must be a positive integer, got 0"));
}

// ---------------------------------------------------------------------------------------------
// JSON syntax and top-level shape

TEST(ConfigSyntax, MissingCommaOnLine3) {
  EXPECT_EQ(Error("{\n  \"port\": 8000\n  \"api_key\": \"x\"\n}"),
            "config.json:3:3: invalid JSON: expected ',' or '}' after the value of \"port\": add "
            "a ',' at the end of line 2");
}

TEST(ConfigSyntax, OtherErrors) {
  EXPECT_EQ(Error("{\n  \"port\": 8000,\n}\n"),
            "config.json:2:15: invalid JSON: trailing comma before '}': remove this ','");
  EXPECT_THAT(Error("[]"), StartsWith("config.json: the top level must be a JSON object"));
  EXPECT_EQ(Error("  \n"),
            "config.json: the file is empty: write {} for a config with all defaults");
  Ok("\xef\xbb\xbf{\"port\": 8000}");  // a UTF-8 BOM is skipped
}

// ---------------------------------------------------------------------------------------------
// Unknown, ignored and duplicate keys

TEST(ConfigWarnings, UnknownKeys) {
  EXPECT_THAT(Warnings(R"({"foo": 1})"), ElementsAre("config.json: unknown key \"foo\" (ignored)"));
  EXPECT_THAT(Warnings(R"({"prot": 1})"),
              ElementsAre("config.json: unknown key \"prot\" (ignored; did you mean \"port\"?)"));
  EXPECT_THAT(Warnings(R"({"allow_subscribe_for_clients": true})"),
              ElementsAre(HasSubstr("did you mean \"allow_subscribe_for_client\"?")));
  EXPECT_THAT(Warnings(R"({"namespaces": [{"name": "chat", "port": 1, "presense": true}]})"),
              ElementsAre("config.json: namespace \"chat\": unknown key \"port\" (ignored; it is a "
                          "top-level key)",
                          "config.json: namespace \"chat\": unknown key \"presense\" (ignored; did "
                          "you mean \"presence\"?)"));
  EXPECT_THAT(Warnings(R"({"namespaces": [{"name": "chat", "proxy_subscribe": true}]})"),
              ElementsAre("config.json: namespace \"chat\": key \"proxy_subscribe\" is ignored: "
                          "proxies are not implemented yet"));
  EXPECT_THAT(Warnings(R"({"v3_use_offset": true})"),
              Contains("config.json: key \"v3_use_offset\" is ignored: a Centrifugo v2 option "
                       "with no effect since v3"));
  EXPECT_THAT(Warnings(R"({"proxy_publish": true})"),
              ElementsAre("config.json: key \"proxy_publish\" is ignored: proxies are not "
                          "implemented yet"));
}

TEST(ConfigWarnings, DuplicateKeysLastWins) {
  LoadResult r = Load(R"({"port": 1000, "port": 2000})");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.config.port, 2000);
  EXPECT_THAT(r.warnings, ElementsAre("config.json: duplicate key \"port\" (the last value wins)"));
}

// ---------------------------------------------------------------------------------------------
// Namespaces

TEST(ConfigNamespaces, ParsedIndependentlyOfTopLevel) {
  Config c = Ok(R"({
    "presence": true,
    "namespaces": [
      {"name": "chat", "history_size": 50, "history_ttl": "10m", "allow_subscribe_for_client": true,
       "allow_history_for_subscriber": true, "force_recovery": true},
      {"name": "news", "allow_publish_for_client": true}
    ]})");
  ASSERT_EQ(c.namespaces.size(), 2u);
  const Namespace* chat = c.FindNamespace("chat");
  ASSERT_NE(chat, nullptr);
  EXPECT_EQ(chat->options.history_size, 50);
  EXPECT_EQ(chat->options.history_ttl, 10min);
  EXPECT_TRUE(chat->options.allow_subscribe_for_client);
  EXPECT_TRUE(chat->options.force_recovery);
  EXPECT_FALSE(chat->options.presence);  // namespaces do not inherit top-level options
  const Namespace* news = c.FindNamespace("news");
  ASSERT_NE(news, nullptr);
  EXPECT_TRUE(news->options.allow_publish_for_client);
  EXPECT_EQ(c.FindNamespace("nope"), nullptr);
  EXPECT_TRUE(c.defaults.presence);
  EXPECT_FALSE(c.defaults.allow_subscribe_for_client);
}

// ---------------------------------------------------------------------------------------------
// Centrifugo v3 configs (spec §5.2 "v3 -> v4 mapping")

TEST(ConfigV3, FullV3ConfigIsConverted) {
  LoadResult r = Load(R"({
    "client_anonymous": true,
    "presence": true,
    "join_leave": true,
    "history_size": 10, "history_ttl": "300s", "recover": true,
    "namespaces": [
      {"name": "public", "anonymous": true, "publish": true, "presence": true},
      {"name": "private", "protected": true, "presence": true, "presence_disable_for_client": true},
      {"name": "feed", "publish": true, "subscribe_to_publish": true, "position": true,
       "history_size": 5, "history_ttl": "60s", "history_disable_for_client": true}
    ]})");
  ASSERT_TRUE(r.ok) << r.error;
  const Config& c = r.config;
  EXPECT_TRUE(c.v3_semantics);
  EXPECT_THAT(r.warnings,
              Contains(HasSubstr("Centrifugo v3 configuration (key \"client_anonymous\")")));
  EXPECT_TRUE(c.allow_anonymous_connect_without_token);

  const ChannelOptions& top = c.defaults;
  EXPECT_TRUE(top.allow_subscribe_for_client);  // not protected
  EXPECT_FALSE(top.allow_subscribe_for_anonymous);
  EXPECT_TRUE(top.allow_presence_for_subscriber);  // v3 presence granted to subscribers
  EXPECT_FALSE(top.allow_presence_for_client);
  EXPECT_TRUE(top.allow_history_for_subscriber);
  EXPECT_TRUE(top.force_push_join_leave);  // v3 join_leave pushed to all
  EXPECT_TRUE(top.force_recovery);
  EXPECT_TRUE(top.allow_user_limited_channels);
  EXPECT_FALSE(top.allow_publish_for_client);

  const ChannelOptions& pub = c.FindNamespace("public")->options;
  EXPECT_TRUE(pub.allow_subscribe_for_client && pub.allow_subscribe_for_anonymous);
  EXPECT_TRUE(pub.allow_publish_for_client && pub.allow_publish_for_anonymous);
  EXPECT_TRUE(pub.allow_presence_for_subscriber && pub.allow_presence_for_anonymous);
  EXPECT_FALSE(pub.force_push_join_leave);

  const ChannelOptions& priv = c.FindNamespace("private")->options;
  EXPECT_FALSE(priv.allow_subscribe_for_client);
  EXPECT_TRUE(priv.presence);
  EXPECT_FALSE(priv.allow_presence_for_subscriber);  // presence_disable_for_client

  const ChannelOptions& feed = c.FindNamespace("feed")->options;
  EXPECT_TRUE(feed.allow_publish_for_subscriber);
  EXPECT_FALSE(feed.allow_publish_for_client);
  EXPECT_FALSE(feed.allow_publish_for_anonymous);
  EXPECT_TRUE(feed.force_positioning);
  EXPECT_FALSE(feed.allow_history_for_subscriber);  // history_disable_for_client
}

TEST(ConfigV3, DjangoInstantV2GenconfigIsV3Style) {
  // django-instant 2.2 ran Centrifugo 2.8 with genconfig's output, where every channel without a
  // namespace was open to subscribe; "v3_use_offset" is what tells that config apart.
  LoadResult r = Load(R"({"v3_use_offset": true, "token_hmac_secret_key": "k", "api_key": "a",
                          "admin_password": "p", "admin_secret": "s", "allowed_origins": ["*"]})");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_TRUE(r.config.v3_semantics);
  EXPECT_TRUE(r.config.defaults.allow_subscribe_for_client);
}

TEST(ConfigV3, V2Spellings) {
  Config c = Ok(R"({"namespaces": [{"name": "a1", "history_size": 3, "history_lifetime": 60,
                                    "history_recover": true},
                                   {"name": "b1", "server_side": true}]})");
  const ChannelOptions& a = c.FindNamespace("a1")->options;
  EXPECT_EQ(a.history_ttl, 60s);
  EXPECT_TRUE(a.force_recovery);
  EXPECT_TRUE(a.allow_subscribe_for_client);
  EXPECT_FALSE(c.FindNamespace("b1")->options.allow_subscribe_for_client);
}

TEST(ConfigV3, V4ConfigKeepsSecureDefaults) {
  // presence/join_leave/history exist in v4 too: without v3-only keys they mean v4 things.
  LoadResult r = Load(R"({"presence": true, "join_leave": true, "history_size": 10,
                          "history_ttl": "300s"})");
  ASSERT_TRUE(r.ok);
  EXPECT_THAT(r.warnings, IsEmpty());
  EXPECT_FALSE(r.config.v3_semantics);
  EXPECT_FALSE(r.config.defaults.allow_subscribe_for_client);
  EXPECT_FALSE(r.config.defaults.allow_presence_for_subscriber);
  EXPECT_FALSE(r.config.defaults.force_push_join_leave);
  EXPECT_FALSE(r.config.defaults.allow_history_for_subscriber);
}

TEST(ConfigV3, MixedConfigMapsOnlyV3OnlyKeys) {
  LoadResult r = Load(R"({"presence": true, "publish": true, "allow_subscribe_for_client": false,
                          "namespaces": [{"name": "chat", "protected": false, "recover": true,
                                          "history_size": 1, "history_ttl": 1}]})");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_FALSE(r.config.v3_semantics);
  EXPECT_THAT(r.warnings, Contains(HasSubstr("mixes Centrifugo v3 keys (\"publish\") with v4 keys "
                                             "(\"allow_subscribe_for_client\")")));
  EXPECT_TRUE(r.config.defaults.allow_publish_for_client);
  EXPECT_FALSE(r.config.defaults.allow_subscribe_for_client);     // explicit v4 value wins
  EXPECT_FALSE(r.config.defaults.allow_presence_for_subscriber);  // v4 meaning of presence
  const ChannelOptions& chat = r.config.FindNamespace("chat")->options;
  EXPECT_TRUE(chat.allow_subscribe_for_client);  // explicit "protected": false
  EXPECT_TRUE(chat.force_recovery);
}

TEST(ConfigV3, ExplicitV4ValueWinsOverV3Meaning) {
  Config c = Ok(R"({"anonymous": true, "allow_subscribe_for_anonymous": false})");
  // allow_subscribe_for_anonymous is v4-only, so this is a mixed config; explicit false stays.
  EXPECT_FALSE(c.defaults.allow_subscribe_for_anonymous);
}

TEST(ConfigV3, ServerAliases) {
  LoadResult r = Load(R"({"websocket_ping_interval": "5s"})");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.config.ping_interval, 5s);
  // v3 had no pong_timeout; the default 8s would make this v3 config invalid.
  EXPECT_EQ(r.config.pong_timeout, 1666ms);
  EXPECT_THAT(r.warnings, Contains(HasSubstr("pong_timeout lowered to 1.666s")));

  EXPECT_EQ(Ok(R"({"websocket_ping_interval": 30})").ping_interval, 30s);

  LoadResult both = Load(R"({"client_anonymous": true,
                             "allow_anonymous_connect_without_token": false})");
  ASSERT_TRUE(both.ok);
  EXPECT_FALSE(both.config.allow_anonymous_connect_without_token);
  EXPECT_THAT(both.warnings, Contains(HasSubstr("\"client_anonymous\" (Centrifugo v3) and "
                                                "\"allow_anonymous_connect_without_token\" are "
                                                "both set")));
  EXPECT_THAT(Error(R"({"client_anonymous": "maybe"})"),
              StartsWith("config.json: \"client_anonymous\" must be true or false"));
}

// ---------------------------------------------------------------------------------------------
// Environment

TEST(ConfigEnv, CentrifugoAndInstantPrecedence) {
  const std::string file = R"({"port": 1000, "api_key": "file"})";
  EXPECT_EQ(Ok(file).port, 1000);
  EXPECT_EQ(Ok(file, {"CENTRIFUGO_PORT=2000"}).port, 2000);
  EXPECT_EQ(Ok(file, {"CENTRIFUGO_PORT=2000", "INSTANT_PORT=3000"}).port, 3000);
  EXPECT_EQ(Ok(file, {"INSTANT_PORT=3000", "CENTRIFUGO_PORT=2000"}).port, 3000);
  EXPECT_EQ(Ok(file, {"CENTRIFUGO_API_KEY=env"}).api_key, "env");
  EXPECT_EQ(Ok(file, {"INSTANT_API_KEY="}).api_key, "");  // set-but-empty still overrides
  // An invalid CENTRIFUGO_ value is not even read when INSTANT_ overrides it.
  EXPECT_EQ(Ok(file, {"CENTRIFUGO_PORT=abc", "INSTANT_PORT=4000"}).port, 4000);
  EXPECT_EQ(Ok(file, {"OTHER_PORT=5", "PATH=/bin", "garbage"}).port, 1000);
}

TEST(ConfigEnv, EveryType) {
  Config c = Ok(
      "{}",
      {"CENTRIFUGO_CLIENT_INSECURE=true", "CENTRIFUGO_API_INSECURE=1", "CENTRIFUGO_HEALTH=false",
       "INSTANT_WORKERS=8", "CENTRIFUGO_CLIENT_QUEUE_MAX_SIZE=4096", "CENTRIFUGO_PING_INTERVAL=30s",
       "CENTRIFUGO_PONG_TIMEOUT=10", "CENTRIFUGO_SHUTDOWN_TIMEOUT=1m30s",
       "CENTRIFUGO_ALLOWED_ORIGINS=https://a.com, https://b.com  http://c",
       "CENTRIFUGO_PRESENCE=true", "CENTRIFUGO_HISTORY_SIZE=5", "CENTRIFUGO_HISTORY_TTL=60s"});
  EXPECT_TRUE(c.client_insecure);
  EXPECT_TRUE(c.api_insecure);
  EXPECT_FALSE(c.health);
  EXPECT_EQ(c.workers, 8);
  EXPECT_EQ(c.client_queue_max_size, 4096u);
  EXPECT_EQ(c.ping_interval, 30s);
  EXPECT_EQ(c.pong_timeout, 10s);
  EXPECT_EQ(c.shutdown_timeout, 90s);
  EXPECT_THAT(c.allowed_origins, ElementsAre("https://a.com", "https://b.com", "http://c"));
  EXPECT_TRUE(c.defaults.presence);
  EXPECT_EQ(c.defaults.history_size, 5);
  EXPECT_EQ(c.defaults.history_ttl, 60s);

  EXPECT_THAT(
      Ok("{}", {R"(CENTRIFUGO_ALLOWED_ORIGINS=["https://a.com", "https://b, c"])"}).allowed_origins,
      ElementsAre("https://a.com", "https://b, c"));
  EXPECT_THAT(Ok(R"({"allowed_origins": ["x"]})", {"CENTRIFUGO_ALLOWED_ORIGINS="}).allowed_origins,
              IsEmpty());
}

TEST(ConfigEnv, NamespacesAsJson) {
  Config c = Ok(R"({"namespaces": [{"name": "file"}]})",
                {R"(CENTRIFUGO_NAMESPACES=[{"name": "env", "presence": true}])"});
  ASSERT_EQ(c.namespaces.size(), 1u);
  EXPECT_EQ(c.namespaces[0].name, "env");
  EXPECT_TRUE(c.namespaces[0].options.presence);
  EXPECT_THAT(Error("{}", {"CENTRIFUGO_NAMESPACES=[{\"name\": \"x\"]"}),
              StartsWith("environment variable CENTRIFUGO_NAMESPACES: invalid JSON at column 14"));
  EXPECT_THAT(Error("{}", {R"(CENTRIFUGO_NAMESPACES=[{"name": "x"}])"}),
              StartsWith("environment variable CENTRIFUGO_NAMESPACES: namespaces[0]: name \"x\" "
                         "is invalid"));
}

TEST(ConfigEnv, ErrorsNameTheVariable) {
  EXPECT_EQ(
      Error("{}", {"CENTRIFUGO_CLIENT_CHANNEL_LIMIT=abc"}),
      "environment variable CENTRIFUGO_CLIENT_CHANNEL_LIMIT: \"client_channel_limit\" must be "
      "a positive integer, got \"abc\": write a number such as 128");
  EXPECT_THAT(
      Error("{}", {"INSTANT_CLIENT_INSECURE=yes"}),
      StartsWith("environment variable INSTANT_CLIENT_INSECURE: \"client_insecure\" must be "
                 "true or false"));
  EXPECT_THAT(Error("{}", {"INSTANT_PING_INTERVAL=1x"}),
              StartsWith("environment variable INSTANT_PING_INTERVAL: \"ping_interval\": unknown "
                         "unit"));
  EXPECT_THAT(Error("{}", {"INSTANT_PORT=0"}),
              StartsWith("environment variable INSTANT_PORT: \"port\" must be an integer from 1 to "
                         "65535"));
  EXPECT_THAT(Error("{}", {"INSTANT_ENGINE=disk"}),
              StartsWith("environment variable INSTANT_ENGINE: \"engine\" must be"));
  EXPECT_THAT(Error("{}", {"INSTANT_PING_INTERVAL=2s"}),
              StartsWith("environment variable INSTANT_PING_INTERVAL: \"ping_interval\" (2s) must "
                         "be greater than \"pong_timeout\" (8s)"));
}

TEST(ConfigEnv, KubernetesServicePortIsIgnored) {
  LoadResult r = Load(R"({"port": 8000})", {"CENTRIFUGO_PORT=tcp://10.0.0.7:8000"});
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.config.port, 8000);
  EXPECT_THAT(r.warnings, ElementsAre(HasSubstr("looks like a Kubernetes service address")));
}

TEST(ConfigEnv, V3KeysFromEnvironment) {
  Config c = Ok("{}", {"CENTRIFUGO_CLIENT_ANONYMOUS=true", "CENTRIFUGO_PUBLISH=true"});
  EXPECT_TRUE(c.allow_anonymous_connect_without_token);
  EXPECT_TRUE(c.defaults.allow_publish_for_client);
  EXPECT_TRUE(c.v3_semantics);
}

TEST(ConfigEnv, CurrentEnvironmentFilters) {
  ::setenv("INSTANT_TEST_ONLY_VAR", "1", 1);
  ::setenv("UNRELATED_TEST_ONLY_VAR", "1", 1);
  std::vector<std::string> env = CurrentEnvironment();
  EXPECT_THAT(env, Contains("INSTANT_TEST_ONLY_VAR=1"));
  for (const std::string& e : env) {
    EXPECT_TRUE(e.starts_with("INSTANT_") || e.starts_with("CENTRIFUGO_")) << e;
  }
  ::unsetenv("INSTANT_TEST_ONLY_VAR");
  ::unsetenv("UNRELATED_TEST_ONLY_VAR");
}

// ---------------------------------------------------------------------------------------------
// Files

// ---------------------------------------------------------------------------------------------
// Command rate limit (instant-specific keys)

TEST(ConfigRateLimit, DefaultsRangesAndEnvironment) {
  Config d = Ok("{}");
  EXPECT_EQ(d.client_commands_per_second, 100);
  EXPECT_EQ(d.client_commands_burst, 200);
  Config off = Ok(R"({"client_commands_per_second": 0, "client_commands_burst": 1})");
  EXPECT_EQ(off.client_commands_per_second, 0);
  EXPECT_EQ(off.client_commands_burst, 1);
  EXPECT_THAT(Error(R"({"client_commands_per_second": -1})"),
              HasSubstr("\"client_commands_per_second\" must be an integer from 0 to 1000000"));
  EXPECT_THAT(Error(R"({"client_commands_per_second": 1000001})"),
              HasSubstr("\"client_commands_per_second\" must be an integer from 0 to 1000000"));
  EXPECT_THAT(Error(R"({"client_commands_burst": 0})"),
              HasSubstr("\"client_commands_burst\" must be an integer from 1 to 1000000"));
  Config env = Ok("{}", {"INSTANT_CLIENT_COMMANDS_PER_SECOND=7", "CENTRIFUGO_CLIENT_COMMANDS_BURST=9"});
  EXPECT_EQ(env.client_commands_per_second, 7);
  EXPECT_EQ(env.client_commands_burst, 9);
}

TEST(ConfigRateLimit, CentrifugoProBucketsAreIgnoredWithAPointer) {
  // Centrifugo PRO's objects must not break a config (nor be mistaken for our integers).
  std::vector<std::string> w = Warnings(
      R"({"client_command_rate_limit": {"enabled": true, "default": {"buckets": [{"interval": "1s", "rate": 60}]}},
          "client_command_throttling": {"enabled": false}})");
  ASSERT_EQ(w.size(), 2u);
  EXPECT_THAT(w[0], HasSubstr("key \"client_command_rate_limit\" is ignored"));
  EXPECT_THAT(w[0], HasSubstr("client_commands_per_second"));
  EXPECT_THAT(w[1], HasSubstr("key \"client_command_throttling\" is ignored"));
  EXPECT_EQ(Ok(R"({"client_command_rate_limit": {"enabled": true}})").client_commands_per_second, 100);
}

class ConfigFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/instant_config_test_XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::remove((dir_ + "/config.json").c_str());
    ::rmdir(dir_.c_str());
  }
  std::string dir_;
};

TEST_F(ConfigFileTest, LoadsAFile) {
  std::string path = dir_ + "/config.json";
  std::ofstream(path) << "{\"port\": 9999,\n \"bogus\": 1}\n";
  LoadResult r = LoadFile(path, {});
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.config.port, 9999);
  EXPECT_EQ(r.config.source_path, path);
  EXPECT_THAT(r.warnings, ElementsAre(path + ": unknown key \"bogus\" (ignored)"));
}

TEST_F(ConfigFileTest, SyntaxErrorNamesTheFile) {
  std::string path = dir_ + "/config.json";
  std::ofstream(path) << "{\n  \"port\": 9999\n  \"x\": 1\n}\n";
  LoadResult r = LoadFile(path, {});
  EXPECT_FALSE(r.ok);
  EXPECT_THAT(r.error, StartsWith(path + ":3:3: invalid JSON: expected ','"));
}

TEST_F(ConfigFileTest, MissingFileAndDirectory) {
  LoadResult missing = LoadFile(dir_ + "/nope.json", {});
  EXPECT_FALSE(missing.ok);
  EXPECT_EQ(missing.error, dir_ + "/nope.json: cannot read: No such file or directory");
  LoadResult directory = LoadFile(dir_, {});
  EXPECT_FALSE(directory.ok);
  EXPECT_THAT(directory.error, HasSubstr("it is a directory"));
}

}  // namespace
}  // namespace instant::config
