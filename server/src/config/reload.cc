#include "config/reload.h"

#include <fmt/format.h>

#include <algorithm>
#include <span>
#include <variant>

#include "config/duration.h"
#include "config/keys.h"

namespace instant::config {
namespace {

using std::chrono::milliseconds;

// Keys read once at startup, or announced to clients at connect. Everything else in the key
// table is read per event and is in kReloadable; config_test checks that each key is in exactly
// one list, so a new key must be classified here (and in docs/configuration.md).
constexpr std::string_view kRestartOnly[] = {
    // the listening socket and the worker threads (node/node.cc Start)
    "address", "port", "workers",
    // the node's identity in the API, the logs and the Redis engine's node list
    "name",
    // the engine and its connections
    "engine", "redis_address", "redis_password", "redis_user", "redis_db", "redis_prefix",
    "redis_connect_timeout", "redis_io_timeout",
    // told to every client in its connect reply: JS 5.x waits for server pings at that pace and
    // reconnects when they come later, so a live change would drop every existing connection
    "ping_interval", "pong_timeout",
};

constexpr std::string_view kReloadable[] = {
    "log_level", "log_format", "shutdown_timeout",
    // tokens: the node builds a new verifier
    "token_hmac_secret_key", "token_rsa_public_key", "token_ecdsa_public_key", "token_audience",
    "token_issuer", "disallow_anonymous_connection_tokens",
    // API: read per request
    "api_key", "api_insecure", "api_max_body_size",
    // admin UI (not served) and /health: nothing to restart
    "admin", "admin_password", "admin_secret", "admin_insecure", "health",
    // read per /metrics request
    "prometheus",
    // clients: per handshake, connect, command or tick
    "allowed_origins", "allow_anonymous_connect_without_token", "client_insecure",
    "client_channel_limit", "client_queue_max_size", "client_user_connection_limit",
    "client_connection_limit", "client_commands_per_second", "client_commands_burst",
    "client_stale_close_delay", "client_expired_close_delay", "client_expired_sub_close_delay",
    "client_presence_update_interval", "client_channel_position_check_delay", "presence_ttl",
    "websocket_message_size_limit", "websocket_write_timeout", "http_max_header_size",
    "handshake_timeout",
    // channels: per command
    "channel_max_length", "channel_private_prefix", "channel_namespace_boundary",
    "channel_user_boundary", "channel_user_separator", "client_history_max_publication_limit",
    "client_recovery_max_publication_limit", "global_history_meta_ttl",
    "user_subscribe_to_personal", "user_personal_channel_namespace",
    "user_personal_single_connection",
};

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

bool InList(std::span<const std::string_view> list, std::string_view key) {
  return std::find(list.begin(), list.end(), key) != list.end();
}

bool SameOptions(const ChannelOptions& a, const ChannelOptions& b) {
  for (const internal::OptionKey& k : internal::OptionKeys()) {
    const bool same = std::visit([&](auto field) { return a.*field == b.*field; }, k.field);
    if (!same) return false;
  }
  return true;
}

bool SameNamespaces(const std::vector<Namespace>& a, const std::vector<Namespace>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].name != b[i].name || !SameOptions(a[i].options, b[i].options)) return false;
  }
  return true;
}

// The value of a restart-only key for a log line; "" for strings and lists.
std::string Shown(const internal::ServerField& field, const Config& c) {
  return std::visit(Overloaded{
                        [&](bool Config::*f) { return std::string(c.*f ? "true" : "false"); },
                        [&](int Config::*f) { return std::to_string(c.*f); },
                        [&](size_t Config::*f) { return std::to_string(c.*f); },
                        [&](milliseconds Config::*f) { return FormatDuration(c.*f); },
                        [](auto) { return std::string(); },
                    },
                    field);
}

}  // namespace

bool IsReloadable(std::string_view key) {
  if (key == "namespaces") return true;
  if (internal::FindOptionKey(key) != nullptr) return true;
  return InList(kReloadable, key);
}

std::vector<std::string_view> RestartOnlyKeys() {
  return {std::begin(kRestartOnly), std::end(kRestartOnly)};
}

ReloadPlan PlanReload(const Config& running, Config loaded) {
  ReloadPlan plan;
  for (const internal::ServerKey& k : internal::ServerKeys()) {
    const bool same =
        std::visit([&](auto field) { return running.*field == loaded.*field; }, k.field);
    if (same) continue;
    if (InList(kRestartOnly, k.name)) {
      plan.restart.push_back(
          {std::string(k.name), Shown(k.field, running), Shown(k.field, loaded)});
      // Keep what runs: the change waits for a restart.
      std::visit([&](auto field) { loaded.*field = running.*field; }, k.field);
    } else {
      plan.applied.emplace_back(k.name);
    }
  }
  for (const internal::OptionKey& k : internal::OptionKeys()) {
    const bool same = std::visit(
        [&](auto field) { return running.defaults.*field == loaded.defaults.*field; }, k.field);
    if (!same) plan.applied.emplace_back(k.name);
  }
  if (!SameNamespaces(running.namespaces, loaded.namespaces)) plan.applied.emplace_back("namespaces");
  plan.config = std::move(loaded);
  return plan;
}

namespace internal {

// For config_test: every key of the table is classified exactly once.
std::vector<std::string> UnclassifiedOrTwice() {
  std::vector<std::string> out;
  for (const ServerKey& k : ServerKeys()) {
    if (InList(kRestartOnly, k.name) == InList(kReloadable, k.name)) out.emplace_back(k.name);
  }
  for (std::span<const std::string_view> list : {std::span<const std::string_view>(kRestartOnly),
                                                 std::span<const std::string_view>(kReloadable)}) {
    for (std::string_view name : list) {
      if (FindServerKey(name) == nullptr) out.emplace_back(name);
    }
  }
  return out;
}

}  // namespace internal
}  // namespace instant::config
