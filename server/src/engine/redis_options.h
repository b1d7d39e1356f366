#pragma once
// RedisEngineOptions: how the Redis engine (redis_engine.h) reaches Redis and names its keys.
// The node fills it from config.json (redis_address, redis_prefix, redis_password, ...; issue 7
// wiring); tests fill it by hand.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "redis/address.h"

namespace instant::engine {

struct RedisEngineOptions {
  // One address per shard (spec §8.3: client-side sharding). Empty = one shard at 127.0.0.1:6379.
  // The order matters: every node must list the same shards in the same order.
  std::vector<redis::Address> addresses;
  // Key and PUB/SUB channel prefix (spec §8.2). "instant" by default; "centrifugo" is accepted
  // like any other value (our payloads are our own, so sharing one Redis with real Centrifugo
  // nodes under the same prefix is not supported; a different prefix is).
  std::string prefix = "instant";
  // Centrifugo's separate redis_password / redis_user / redis_db: applied to every address that
  // does not carry its own (password/user empty, db 0).
  std::string password;
  std::string user;
  int db = 0;

  // This node's identity on the control channel (node discovery, API `info`).
  std::string node_uid;
  std::string node_name;

  int64_t connect_timeout_ms = 1000;  // Centrifugo redis_connect_timeout
  int64_t io_timeout_ms = 4000;       // Centrifugo redis_io_timeout
  // Idle subscriber connections send a PING this often, so a silently dead Redis is noticed
  // within ping + io timeout even when no channel is busy.
  int64_t subscriber_ping_interval_ms = 10000;
  // Commands waiting for a reply per connection before new ones fail at once (Redis stalled):
  // bounds memory, turns a stall into errors instead of an unbounded queue.
  size_t max_pending = 65536;
  // Node info broadcast period (Centrifugo: 3 s); a peer silent for 3 periods is dropped.
  int64_t node_info_interval_ms = 3000;
  // How long an idempotent publish result is remembered (Centrifugo: 5 minutes).
  int64_t idempotency_ttl_ms = 5 * 60 * 1000;
};

}  // namespace instant::engine
