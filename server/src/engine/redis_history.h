#pragma once
// RedisHistoryStore: HistoryStore (history.h) over Redis, one STREAM + one meta HASH per channel
// on the channel's shard (spec §6, §8.2):
//   <prefix>.stream.<channel>       XADD with explicit id "<offset>-0", field "b" = the body of
//                                    redis_payload.h, MAXLEN history_size (exact), PEXPIRE ttl
//   <prefix>.stream.meta.<channel>  HASH e = epoch, s = top offset, PEXPIRE meta_ttl (0 = never)
//
// Why a STREAM rather than a LIST: ids are the offsets, so "since" and "reverse" reads are one
// XRANGE/XREVRANGE with exclusive bounds and COUNT, O(log n + returned) inside Redis; a list would
// have to be read whole (or indexed by top - offset arithmetic that breaks as soon as trimming and
// expiry interleave). Centrifugo also defaults to streams.
//
// Epoch: 8 random base-62 characters drawn by the calling node and passed to the scripts, which
// use it only when the meta has no epoch (Centrifugo uses the Unix time in seconds; a random one
// cannot repeat when a stream is lost and recreated within the same second).
//
// Every call runs on the calling loop's command connection to the channel's shard and reports
// through `done` on that loop's thread (synchronously, before returning, when that connection is
// down: ok = false). Called from a thread that is not one of the engine's loops, the call is
// posted to loops[0] (arguments copied) and `done` runs there. Sweep does nothing: Redis expires
// the keys itself.

#include "engine/history.h"
#include "engine/redis_shards.h"

namespace instant::engine {

class RedisHistoryStore final : public HistoryStore {
 public:
  explicit RedisHistoryStore(RedisShards* shards) : shards_(shards) {}

  // Stores without publishing (the engine's Publish uses the same script with PUBLISH).
  void Add(std::string_view channel, StoredPublication pub, const HistoryOptions& options,
           int64_t now_ms, const AddDone& done) override;
  void Read(std::string_view channel, const HistoryQuery& query, const HistoryOptions& options,
            int max_limit, int64_t now_ms, const ReadDone& done) override;
  void Remove(std::string_view channel, const RemoveDone& done) override;
  size_t Sweep(int64_t) override { return 0; }

 private:
  RedisShards* shards_;
};

// The add-history script call shared by RedisEngine::Publish and RedisHistoryStore::Add.
// ctx.buf[1] must hold the payload head and ctx.buf[2] the body; buf[0], [3..5] are used here.
// `publish` = PUBLISH the payload to the channel's PUB/SUB channel. `idempotency_key` "" = none.
void RunAddHistory(RedisShards& shards, RedisShards::LoopContext& ctx, redis::Client& client,
                   std::string_view channel, bool publish, const HistoryOptions& options,
                   std::string_view idempotency_key, int64_t idempotency_ttl_ms, redis::Callback cb);
// Parses the {offset, epoch, cached} reply of the add-history and publish-once scripts.
bool ParsePositionReply(const redis::Reply& reply, redis::Failure failure, uint64_t* offset,
                        std::string* epoch);

}  // namespace instant::engine
