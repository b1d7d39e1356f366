#pragma once

#include <functional>
// RedisPresenceStore: PresenceStore (presence.h) over Redis, per channel on its shard (spec §8.2):
//   <prefix>.presence.expire.<channel>  ZSET client id -> expire-at (Unix ms on Redis's clock)
//   <prefix>.presence.data.<channel>    HASH client id -> F(user) F(conn_info) F(chan_info)
// Both keys expire with their longest-lived entry (an Add extends the keys' PEXPIRE, never
// shortens it), so a channel whose clients all vanished (a node died) disappears by itself. Get and Stats first drop the members whose expiry passed (one
// script each, atomic). Scores are milliseconds, not Centrifugo's seconds: our keys, our format.
//
// Add and Remove are fire-and-forget (a lost update is repaired by the next refresh or expiry);
// when the shard's connection is down they are dropped. Get and Stats report ok = false then.
// Threading and `done` as in redis_history.h: the calling loop's connection, `done` on its
// thread; non-loop callers are posted to loops[0]. `now_ms` is ignored: expiry uses Redis's TIME
// so that nodes with skewed clocks agree.

#include "engine/presence.h"
#include "engine/redis_shards.h"

namespace instant::engine {

class RedisPresenceStore final : public PresenceStore {
 public:
  explicit RedisPresenceStore(RedisShards* shards) : shards_(shards) {}

  void Add(std::string_view channel, const PresenceEntry& entry, int64_t ttl_ms, int64_t now_ms) override;
  void Remove(std::string_view channel, std::string_view client) override;
  void Get(std::string_view channel, int64_t now_ms, const GetDone& done) override;
  void Stats(std::string_view channel, int64_t now_ms, const StatsDone& done) override;
  size_t Sweep(int64_t) override { return 0; }

 private:
  // Runs a read script (KEYS: the channel's expiry zset and data hash) on the channel's shard from
  // the caller's loop, or from loop 0 with `repost` when called off the loops. Returns false (and
  // runs nothing) when the shard is not available; `on_reply` gets the script's answer.
  bool EvalRead(std::string_view channel, const redis::Script& script, const std::function<void()>& repost,
                redis::Callback on_reply);

  RedisShards* shards_;
};

}  // namespace instant::engine
