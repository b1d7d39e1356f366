#pragma once
// The server configuration: config.json (Centrifugo v3/v4/v5 top-level keys, spec §9.1), then
// environment overrides, then (in the CLI) command-line flags. Loading validates everything a
// node needs, so node code can trust a Config it is given. docs/configuration.md is the reference
// of every key; this header is the contract for code.
//
// Loading, in order:
//   1. Parse the JSON (a UTF-8 BOM is skipped). A syntax error is reported with line:column.
//   2. Apply each top-level key. Values are typed per key; a wrong type is an error naming the key.
//      Unknown keys are warnings ("unknown key \"foo\" (ignored)"), so do Centrifugo keys that
//      instant does not implement (redis_address, proxy_*...), with their own wording.
//   3. Environment: for every key K that step 2 knows, INSTANT_<K upper> wins over
//      CENTRIFUGO_<K upper>, which wins over the file. Values are text: bools true/false/1/0,
//      numbers, durations, lists as a JSON array or a space/comma separated list, "namespaces" as a
//      JSON array (replacing the file's).
//   4. Centrifugo v3 spellings are mapped to v4 fields (spec §5.2 "v3 -> v4 mapping"). Keys that
//      exist only in v3 (client_anonymous, publish, anonymous, protected, recover, ...) are always
//      mapped. Keys spelled the same in both (presence, join_leave, history_*) take their v3
//      meaning — presence/history also granted to subscribers, join_leave pushed to everyone, and
//      every scope not "protected" open to subscribe — only when the config is v3-style: it uses at
//      least one v3-only key and no v4-only key. A config with neither is read as v4.
//   5. Validation (Validate below). The first problem is the error.
//
// Thread-safety: loading touches no global state except reading the file; a loaded Config is a
// plain value, safe to share read-only between loops.

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "config/channel_options.h"

namespace instant::config {

struct Config {
  std::string source_path;  // file it was loaded from ("" = defaults only)

  // --- server
  std::string address;  // "" = all interfaces
  int port = 8427;      // 1..65535 (Centrifugo's default is 8000; django-instant's convention 8427)
  int workers = 0;      // event loops, 0..256; 0 = number of CPUs (instant-specific)
  std::string name;     // node name; "" -> NodeName() = "<hostname>_<port>"
  std::string log_level = "info";  // trace, debug, info, warn, error, none (base/log.h ParseLevel)
  std::string log_format = "text";  // text or json (base/log.h: one record per line, fields)
  // "memory" (one node, the default) or "redis" (several nodes share Redis; docs/architecture/engines.md).
  std::string engine = "memory";
  // Redis engine: one address per shard ("host:port" or "redis://[[user]:password@]host[:port][/db]"),
  // the same list in the same order on every node; empty = 127.0.0.1:6379. Password, user and db
  // apply to the addresses that do not carry their own. Keys and channels start with redis_prefix.
  std::vector<std::string> redis_address;
  std::string redis_password, redis_user;
  int redis_db = 0;
  std::string redis_prefix = "instant";
  std::chrono::milliseconds redis_connect_timeout{1000}, redis_io_timeout{4000};
  std::chrono::milliseconds shutdown_timeout{30000};

  // --- tokens (spec §4.3). PEM keys are checked by `instant checkconfig` (auth::Verifier).
  std::string token_hmac_secret_key, token_rsa_public_key, token_ecdsa_public_key, token_audience,
      token_issuer;
  bool disallow_anonymous_connection_tokens = false;  // v5: a token with sub "" is rejected

  // --- server HTTP API
  std::string api_key;
  bool api_insecure = false;
  size_t api_max_body_size = 16 * 1024 * 1024;  // instant-specific, > 0

  // --- admin (accepted, not served yet: admin: true gives a warning)
  bool admin = false;
  std::string admin_password, admin_secret;
  bool admin_insecure = false;
  bool health = true, prometheus = false;  // instant serves /health always; keys accepted

  // --- clients
  std::vector<std::string> allowed_origins;            // [] = browsers rejected
  bool allow_anonymous_connect_without_token = false;  // v3 alias: client_anonymous
  bool client_insecure = false;
  int client_channel_limit = 128;          // > 0
  size_t client_queue_max_size = 1048576;  // bytes, > 0
  int client_user_connection_limit = 0;    // 0 = unlimited
  int client_connection_limit = 0;         // connected clients on this node; 0 = unlimited
  // instant-specific command rate limit per connection (client/command_rate_limiter.h): a token
  // bucket refilled at client_commands_per_second (0 = off) holding client_commands_burst +
  // client_channel_limit commands, so a reconnect that resubscribes every channel a connection may
  // hold is never limited. Over it: error 111; a whole bucket more: disconnect 3013.
  // (Centrifugo PRO's client_command_rate_limit is an object of buckets: another key.)
  int client_commands_per_second = 100;  // 0..1000000
  int client_commands_burst = 200;       // 1..1000000
  std::chrono::milliseconds client_stale_close_delay{10000}, client_expired_close_delay{25000},
      client_expired_sub_close_delay{25000};
  std::chrono::milliseconds client_presence_update_interval{27000};
  // Positioned subscriptions are compared with their stream top this often (spec §6.2); 0 = never.
  std::chrono::milliseconds client_channel_position_check_delay{40000};
  std::chrono::milliseconds presence_ttl{60000};
  size_t websocket_message_size_limit = 65536;  // bytes, > 0
  std::chrono::milliseconds websocket_write_timeout{1000};
  // ping_interval > pong_timeout when both > 0. v3 alias for ping_interval: websocket_ping_interval
  // (a v3 config that lowers it below the default pong_timeout gets pong_timeout = ping / 3).
  std::chrono::milliseconds ping_interval{25000}, pong_timeout{8000};
  size_t http_max_header_size = 16384;  // instant-specific, > 0
  // instant-specific: TCP accept -> complete HTTP request head, > 0.
  std::chrono::milliseconds handshake_timeout{10000};

  // --- channels
  int channel_max_length = 255;  // bytes, > 0
  std::string channel_private_prefix = "$", channel_namespace_boundary = ":",
              channel_user_boundary = "#", channel_user_separator = ",";  // non-empty
  // Most publications per history call / per recovery; 0 = unlimited.
  int client_history_max_publication_limit = 300;
  int client_recovery_max_publication_limit = 300;
  // Default for namespaces whose history_meta_ttl is 0 (Centrifugo v5 global_history_meta_ttl).
  std::chrono::milliseconds global_history_meta_ttl{std::chrono::hours(24 * 30)};
  // Server-side subscribe each authenticated connection to "#<user>", in
  // user_personal_channel_namespace if set (which must then be a configured namespace).
  bool user_subscribe_to_personal = false;
  std::string user_personal_channel_namespace;
  bool user_personal_single_connection = false;
  ChannelOptions defaults;  // top-level channel options (channels without a namespace)
  std::vector<Namespace> namespaces;

  // True when channel options were read with their Centrifugo v3 meaning (step 4 above).
  bool v3_semantics = false;

  // nullptr if absent. Linear: namespaces are few; build a map at startup if that changes.
  const Namespace* FindNamespace(std::string_view name) const;
  // `name`, or "<hostname>_<port>" when it is empty.
  std::string NodeName() const;
};

struct LoadResult {
  bool ok = false;
  Config config;
  std::string error;  // when !ok: one message, "<source>: <what is wrong>: <how to fix it>"
  std::vector<std::string> warnings;  // each "<source>: ..." (also when ok)
};

// Loads path (JSON), then applies environment overrides: for every known key K,
// INSTANT_<UPPER K> wins over CENTRIFUGO_<UPPER K> which wins over the file (bools
// "true/false/1/0", numbers, durations, arrays as a JSON array or a space/comma separated list).
// `env` is `environ` style ("NAME=value") for testability; see CurrentEnvironment().
// A file that cannot be read is an error ("config.json: cannot read: No such file or directory").
LoadResult LoadFile(const std::string& path, const std::vector<std::string>& env);

// As LoadFile, from memory. `source_name` prefixes messages ("config.json"); source_path stays "".
// LoadString("{}", "defaults", env) is the all-defaults config (plus environment).
LoadResult LoadString(std::string_view json, std::string_view source_name,
                      const std::vector<std::string>& env);

// The process environment, filtered to the INSTANT_* and CENTRIFUGO_* variables.
std::vector<std::string> CurrentEnvironment();

// Checks value ranges and cross-key rules on a typed Config, e.g. after the CLI applied its
// flags: port 1..65535; workers 0..256; positive limits; engine; log_level; non-empty channel
// boundaries; history_size/history_ttl both set or both zero; recovery needs history;
// history_ttl <= history_meta_ttl; channel_regex compiles; namespace names valid and unique;
// personal-channel namespace exists; ping_interval > pong_timeout when both > 0.
// Returns false with the first problem in *error (prefixed "<source_name>: "); appends
// non-fatal remarks (engine "redis", admin) to *warnings if given.
bool Validate(const Config& config, std::string_view source_name, std::string* error,
              std::vector<std::string>* warnings = nullptr);

}  // namespace instant::config
