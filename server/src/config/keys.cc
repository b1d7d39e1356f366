#include "config/keys.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <climits>

namespace instant::config::internal {
namespace {

using C = Config;
using O = ChannelOptions;

constexpr int64_t kIntMax = INT_MAX;

// Order = the order of docs/configuration.md and of environment processing.
const ServerKey kServerKeys[] = {
    {"address", &C::address},
    {"port", &C::port, 1, 65535},
    {"workers", &C::workers, 0, 256},
    {"name", &C::name},
    {"log_level", &C::log_level},
    {"log_format", &C::log_format},
    {"engine", &C::engine},
    {"redis_address", &C::redis_address},
    {"redis_password", &C::redis_password},
    {"redis_user", &C::redis_user},
    {"redis_db", &C::redis_db, 0, 1024},
    {"redis_prefix", &C::redis_prefix},
    {"redis_connect_timeout", &C::redis_connect_timeout, 1},
    {"redis_io_timeout", &C::redis_io_timeout, 1},
    {"shutdown_timeout", &C::shutdown_timeout},
    {"token_hmac_secret_key", &C::token_hmac_secret_key},
    {"token_rsa_public_key", &C::token_rsa_public_key},
    {"token_ecdsa_public_key", &C::token_ecdsa_public_key},
    {"token_audience", &C::token_audience},
    {"token_issuer", &C::token_issuer},
    {"disallow_anonymous_connection_tokens", &C::disallow_anonymous_connection_tokens, 0, kNoMax,
     true},
    {"api_key", &C::api_key},
    {"api_insecure", &C::api_insecure},
    {"api_max_body_size", &C::api_max_body_size, 1},
    {"admin", &C::admin},
    {"admin_password", &C::admin_password},
    {"admin_secret", &C::admin_secret},
    {"admin_insecure", &C::admin_insecure},
    {"health", &C::health},
    {"prometheus", &C::prometheus},
    {"allowed_origins", &C::allowed_origins},
    {"allow_anonymous_connect_without_token", &C::allow_anonymous_connect_without_token, 0, kNoMax,
     true},
    {"client_insecure", &C::client_insecure},
    {"client_channel_limit", &C::client_channel_limit, 1, kIntMax},
    {"client_queue_max_size", &C::client_queue_max_size, 1},
    {"client_user_connection_limit", &C::client_user_connection_limit, 0, kIntMax},
    {"client_connection_limit", &C::client_connection_limit, 0, kIntMax},
    {"client_commands_per_second", &C::client_commands_per_second, 0, 1000000},
    {"client_commands_burst", &C::client_commands_burst, 1, 1000000},
    {"client_stale_close_delay", &C::client_stale_close_delay},
    {"client_expired_close_delay", &C::client_expired_close_delay},
    {"client_expired_sub_close_delay", &C::client_expired_sub_close_delay},
    {"client_presence_update_interval", &C::client_presence_update_interval, 1},
    {"client_channel_position_check_delay", &C::client_channel_position_check_delay},
    {"presence_ttl", &C::presence_ttl, 1},
    {"websocket_message_size_limit", &C::websocket_message_size_limit, 1},
    {"websocket_write_timeout", &C::websocket_write_timeout},
    {"ping_interval", &C::ping_interval, 0, kNoMax, true},
    {"pong_timeout", &C::pong_timeout, 0, kNoMax, true},
    {"http_max_header_size", &C::http_max_header_size, 1},
    {"handshake_timeout", &C::handshake_timeout, 1},
    {"channel_max_length", &C::channel_max_length, 1, kIntMax},
    {"channel_private_prefix", &C::channel_private_prefix},
    {"channel_namespace_boundary", &C::channel_namespace_boundary},
    {"channel_user_boundary", &C::channel_user_boundary},
    {"channel_user_separator", &C::channel_user_separator},
    {"client_history_max_publication_limit", &C::client_history_max_publication_limit, 0, kIntMax},
    {"client_recovery_max_publication_limit", &C::client_recovery_max_publication_limit, 0,
     kIntMax},
    {"global_history_meta_ttl", &C::global_history_meta_ttl, 0, kNoMax, true},
    {"user_subscribe_to_personal", &C::user_subscribe_to_personal},
    {"user_personal_channel_namespace", &C::user_personal_channel_namespace},
    {"user_personal_single_connection", &C::user_personal_single_connection},
};

const OptionKey kOptionKeys[] = {
    {"presence", &O::presence},
    {"join_leave", &O::join_leave},
    {"force_push_join_leave", &O::force_push_join_leave, 0, kNoMax, true},
    {"history_size", &O::history_size, 0, kIntMax},
    {"history_ttl", &O::history_ttl},
    {"history_meta_ttl", &O::history_meta_ttl},
    {"force_positioning", &O::force_positioning, 0, kNoMax, true},
    {"allow_positioning", &O::allow_positioning, 0, kNoMax, true},
    {"force_recovery", &O::force_recovery, 0, kNoMax, true},
    {"allow_recovery", &O::allow_recovery, 0, kNoMax, true},
    {"allow_subscribe_for_client", &O::allow_subscribe_for_client, 0, kNoMax, true},
    {"allow_subscribe_for_anonymous", &O::allow_subscribe_for_anonymous, 0, kNoMax, true},
    {"allow_publish_for_client", &O::allow_publish_for_client, 0, kNoMax, true},
    {"allow_publish_for_subscriber", &O::allow_publish_for_subscriber, 0, kNoMax, true},
    {"allow_publish_for_anonymous", &O::allow_publish_for_anonymous, 0, kNoMax, true},
    {"allow_presence_for_client", &O::allow_presence_for_client, 0, kNoMax, true},
    {"allow_presence_for_subscriber", &O::allow_presence_for_subscriber, 0, kNoMax, true},
    {"allow_presence_for_anonymous", &O::allow_presence_for_anonymous, 0, kNoMax, true},
    {"allow_history_for_client", &O::allow_history_for_client, 0, kNoMax, true},
    {"allow_history_for_subscriber", &O::allow_history_for_subscriber, 0, kNoMax, true},
    {"allow_history_for_anonymous", &O::allow_history_for_anonymous, 0, kNoMax, true},
    {"allow_user_limited_channels", &O::allow_user_limited_channels, 0, kNoMax, true},
    {"channel_regex", &O::channel_regex, 0, kNoMax, true},
};

const V3OptionKey kV3OptionKeys[] = {
    {"publish", &V3Options::publish},
    {"anonymous", &V3Options::anonymous},
    {"protected", &V3Options::protected_},
    {"subscribe_to_publish", &V3Options::subscribe_to_publish},
    {"presence_disable_for_client", &V3Options::presence_disable_for_client},
    {"history_disable_for_client", &V3Options::history_disable_for_client},
    {"recover", &V3Options::recover},
    {"position", &V3Options::position},
    // Other spellings seen in the wild: v2 names, and the "disabled" spelling of the official
    // v3 -> v4 converter.
    {"history_recover", &V3Options::recover},
    {"server_side", &V3Options::protected_},
    {"presence_disabled_for_client", &V3Options::presence_disable_for_client},
    {"history_disabled_for_client", &V3Options::history_disable_for_client},
};

const Alias kServerAliases[] = {
    {"client_anonymous", "allow_anonymous_connect_without_token"},
    {"websocket_ping_interval", "ping_interval"},
};

const Alias kOptionAliases[] = {
    {"history_lifetime", "history_ttl"},  // v2, in seconds
};

constexpr std::string_view kNotImplemented = "a Centrifugo option instant does not implement";

const IgnoredKey kIgnoredServerKeys[] = {
    {"internal_port", kNotImplemented},
    {"internal_address", kNotImplemented},
    {"tls", "TLS is not implemented: terminate TLS in a reverse proxy"},
    {"tls_cert", "TLS is not implemented: terminate TLS in a reverse proxy"},
    {"tls_key", "TLS is not implemented: terminate TLS in a reverse proxy"},
    {"tls_external", "TLS is not implemented: terminate TLS in a reverse proxy"},
    {"tls_autocert", "TLS is not implemented: terminate TLS in a reverse proxy"},
    {"tls_autocert_host_whitelist", kNotImplemented},
    {"tls_autocert_cache_dir", kNotImplemented},
    {"tls_autocert_email", kNotImplemented},
    {"tls_autocert_http", kNotImplemented},
    {"tls_autocert_http_addr", kNotImplemented},
    {"http3", kNotImplemented},
    {"websocket_compression", "permessage-deflate is not implemented yet"},
    {"websocket_compression_level", "permessage-deflate is not implemented yet"},
    {"websocket_compression_min_size", "permessage-deflate is not implemented yet"},
    {"websocket_read_buffer_size", "instant reads into one buffer per event loop"},
    {"websocket_write_buffer_size", "instant reads into one buffer per event loop"},
    {"websocket_use_write_buffer_pool", "instant reads into one buffer per event loop"},
    {"websocket_disable", kNotImplemented},
    {"api_disable", kNotImplemented},
    {"websocket_handler_prefix", "instant serves /connection/websocket only"},
    {"api_handler_prefix", "instant serves /api only"},
    {"admin_handler_prefix", kNotImplemented},
    {"prometheus_handler_prefix", "instant serves /metrics only"},
    {"health_handler_prefix", "instant serves /health only"},
    {"sockjs", "SockJS is not supported: use the WebSocket transport"},
    {"sockjs_handler_prefix", "SockJS is not supported: use the WebSocket transport"},
    {"sockjs_url", "SockJS is not supported: use the WebSocket transport"},
    {"sockjs_heartbeat_delay", "SockJS is not supported: use the WebSocket transport"},
    {"uni_websocket", "unidirectional transports are not implemented"},
    {"uni_http_stream", "unidirectional transports are not implemented"},
    {"uni_sse", "unidirectional transports are not implemented"},
    {"uni_grpc", "unidirectional transports are not implemented"},
    {"http_stream", "HTTP-streaming is not implemented: use the WebSocket transport"},
    {"sse", "SSE is not implemented: use the WebSocket transport"},
    {"webtransport", "WebTransport is not implemented: use the WebSocket transport"},
    {"grpc_api", "the GRPC API is not implemented: use the HTTP API"},
    {"grpc_api_port", "the GRPC API is not implemented: use the HTTP API"},
    {"grpc_api_key", "the GRPC API is not implemented: use the HTTP API"},
    {"grpc_api_tls", "the GRPC API is not implemented: use the HTTP API"},
    {"redis_tls", "Redis over TLS is not implemented: use a local Redis or a TLS tunnel"},
    {"redis_sentinel_address", "Redis Sentinel is not implemented: list the shards in redis_address"},
    {"redis_sentinel_master_name", "Redis Sentinel is not implemented: list the shards in redis_address"},
    {"redis_sentinel_password", "Redis Sentinel is not implemented: list the shards in redis_address"},
    {"redis_cluster_address", "Redis Cluster is not implemented: list the shards in redis_address"},
    {"redis_force_resp2", "instant always speaks RESP2"},
    {"broker", kNotImplemented},
    {"presence_manager", kNotImplemented},
    {"nats_url", "the NATS broker is not implemented"},
    {"nats_prefix", "the NATS broker is not implemented"},
    {"tarantool_address", "the Tarantool engine is not implemented"},
    {"tarantool_mode", "the Tarantool engine is not implemented"},
    {"proxy_connect_endpoint", "proxies are not implemented yet"},
    {"proxy_connect_timeout", "proxies are not implemented yet"},
    {"proxy_refresh_endpoint", "proxies are not implemented yet"},
    {"proxy_refresh_timeout", "proxies are not implemented yet"},
    {"proxy_rpc_endpoint", "proxies are not implemented yet"},
    {"proxy_rpc_timeout", "proxies are not implemented yet"},
    {"proxy_subscribe_endpoint", "proxies are not implemented yet"},
    {"proxy_subscribe_timeout", "proxies are not implemented yet"},
    {"proxy_publish_endpoint", "proxies are not implemented yet"},
    {"proxy_publish_timeout", "proxies are not implemented yet"},
    {"proxy_sub_refresh_endpoint", "proxies are not implemented yet"},
    {"proxy_sub_refresh_timeout", "proxies are not implemented yet"},
    {"proxy_http_headers", "proxies are not implemented yet"},
    {"proxy_grpc_metadata", "proxies are not implemented yet"},
    {"proxy_include_connection_meta", "proxies are not implemented yet"},
    {"proxies", "proxies are not implemented yet"},
    {"granular_proxy_mode", "proxies are not implemented yet"},
    {"rpc_namespaces", "RPC (proxies) is not implemented yet"},
    {"rpc_namespace_boundary", "RPC (proxies) is not implemented yet"},
    {"token_jwks_public_endpoint", "JWKS is not implemented: configure the key itself"},
    {"token_user_id_claim", kNotImplemented},
    {"token_audience_regex", kNotImplemented},
    {"token_issuer_regex", kNotImplemented},
    {"separate_subscription_token_config", kNotImplemented},
    {"subscription_token_hmac_secret_key", kNotImplemented},
    {"subscription_token_rsa_public_key", kNotImplemented},
    {"subscription_token_ecdsa_public_key", kNotImplemented},
    {"subscription_token_jwks_public_endpoint", kNotImplemented},
    {"subscription_token_audience", kNotImplemented},
    {"subscription_token_issuer", kNotImplemented},
    {"client_concurrency", kNotImplemented},
    {"client_connection_rate_limit", kNotImplemented},
    {"client_command_rate_limit",
     "Centrifugo PRO's per-command buckets are not implemented: instant limits every command "
     "with client_commands_per_second and client_commands_burst"},
    {"client_command_throttling",
     "Centrifugo PRO's per-command buckets are not implemented: instant limits every command "
     "with client_commands_per_second and client_commands_burst"},
    {"client_user_id_http_header", kNotImplemented},
    {"use_client_protocol_v1_by_default", "instant selects the protocol per connection"},
    {"disable_client_protocol_v1", "instant selects the protocol per connection"},
    {"opentelemetry", kNotImplemented},
    {"graphite", kNotImplemented},
    {"graphite_host", kNotImplemented},
    {"graphite_port", kNotImplemented},
    {"log_file", "instant logs to stderr"},
    {"pid_file", kNotImplemented},
    {"admin_web_path", "the admin UI is not implemented yet"},
    {"admin_external", "the admin UI is not implemented yet"},
    {"debug", kNotImplemented},
    {"swagger", kNotImplemented},
    {"usage_stats_disable", "instant sends no usage statistics"},
    {"node_info_metrics_aggregate_interval", kNotImplemented},
    {"v3_use_offset", "a Centrifugo v2 option with no effect since v3"},
    {"use_unlimited_history_by_default", "a Centrifugo v3 option removed in v4"},
};

const IgnoredKey kIgnoredOptionKeys[] = {
    {"proxy_subscribe", "proxies are not implemented yet"},
    {"proxy_publish", "proxies are not implemented yet"},
    {"proxy_sub_refresh", "proxies are not implemented yet"},
    {"proxy_subscribe_stream", "proxies are not implemented yet"},
    {"subscribe_proxy_name", "proxies are not implemented yet"},
    {"publish_proxy_name", "proxies are not implemented yet"},
    {"sub_refresh_proxy_name", "proxies are not implemented yet"},
    {"force_recovery_mode", "only the stream recovery mode is implemented"},
    {"allowed_delta_types", "delta compression is not implemented"},
    {"delta_publish", "delta compression is not implemented"},
};

// Optimal string alignment distance: Levenshtein plus adjacent transpositions, the most common
// typo ("prot" for "port"). Gives up, returning `bound`, as soon as a whole row costs `bound` or
// more: a row's minimum never decreases (transpositions included, since adjacent rows' minimums
// differ by at most one), and hostile keys then cost a few rows instead of the whole table.
size_t EditDistance(std::string_view a, std::string_view b, size_t bound) {
  // Three rolling rows (i-2, i-1, i) are all the transposition step looks back at.
  std::vector<size_t> rows(3 * (b.size() + 1));
  auto row = [&](size_t i) { return rows.data() + (i % 3) * (b.size() + 1); };
  for (size_t j = 0; j <= b.size(); ++j) row(0)[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t* cur = row(i);
    const size_t* prev = row(i - 1);
    cur[0] = i;
    size_t row_min = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        cur[j] = std::min(cur[j], row(i - 2)[j - 2] + 1);
      }
      row_min = std::min(row_min, cur[j]);
    }
    if (row_min >= bound) return bound;
  }
  return row(a.size())[b.size()];
}

}  // namespace

std::span<const ServerKey> ServerKeys() { return kServerKeys; }
std::span<const OptionKey> OptionKeys() { return kOptionKeys; }
std::span<const V3OptionKey> V3OptionKeys() { return kV3OptionKeys; }
std::span<const Alias> ServerAliases() { return kServerAliases; }
std::span<const Alias> OptionAliases() { return kOptionAliases; }
std::span<const IgnoredKey> IgnoredServerKeys() { return kIgnoredServerKeys; }
std::span<const IgnoredKey> IgnoredOptionKeys() { return kIgnoredOptionKeys; }

const ServerKey* FindServerKey(std::string_view name) {
  for (const ServerKey& k : kServerKeys) {
    if (k.name == name) return &k;
  }
  return nullptr;
}

const OptionKey* FindOptionKey(std::string_view name) {
  for (const OptionKey& k : kOptionKeys) {
    if (k.name == name) return &k;
  }
  return nullptr;
}

std::string_view SuggestKey(std::string_view name, bool top_level) {
  if (name.size() > 64) return {};  // keeps the quadratic distance cheap on hostile input
  std::string_view best;
  size_t best_distance = 3;
  auto consider = [&](std::string_view candidate) {
    size_t diff = name.size() > candidate.size() ? name.size() - candidate.size()
                                                 : candidate.size() - name.size();
    if (diff >= best_distance) return;  // the distance is at least the length difference
    size_t d = EditDistance(name, candidate, best_distance);
    if (d < best_distance && d * 3 < candidate.size()) {
      best_distance = d;
      best = candidate;
    }
  };
  for (const OptionKey& k : kOptionKeys) consider(k.name);
  for (const V3OptionKey& k : kV3OptionKeys) consider(k.name);
  for (const Alias& k : kOptionAliases) consider(k.name);
  if (top_level) {
    for (const ServerKey& k : kServerKeys) consider(k.name);
    for (const Alias& k : kServerAliases) consider(k.name);
    consider("namespaces");
  } else {
    consider("name");
  }
  return best;
}

std::string IntExpectation(int64_t min, int64_t max) {
  bool unbounded = max == kNoMax || max == kIntMax;
  if (unbounded && min == 1) return "a positive integer";
  if (unbounded && min == 0) return "a non-negative integer";
  if (unbounded) return fmt::format("an integer of at least {}", min);
  return fmt::format("an integer from {} to {}", min, max);
}

}  // namespace instant::config::internal
