#include "engine/redis_presence.h"

#include <string>
#include <utility>

#include "engine/redis_payload.h"
#include "engine/redis_scripts.h"

namespace instant::engine {

void RedisPresenceStore::Add(std::string_view channel, const PresenceEntry& entry, int64_t ttl_ms,
                             int64_t now_ms) {
  const int loop = shards_->CallerLoop();
  if (loop < 0) {
    shards_->PostToFirst([this, ch = std::string(channel), entry, ttl_ms, now_ms] { Add(ch, entry, ttl_ms, now_ms); });
    return;
  }
  redis::Client* client = shards_->Ready(loop, shards_->ShardOf(channel));
  if (client == nullptr) return;
  RedisShards::LoopContext& ctx = shards_->context(loop);
  const RedisKeys& keys = shards_->keys();
  keys.PresenceExpire(ctx.buf[3], channel);
  keys.PresenceData(ctx.buf[4], channel);
  ctx.buf[2].clear();
  redis_payload::AppendPresenceValue(ctx.buf[2], entry);
  const redis::Arg keys_args[] = {ctx.buf[3], ctx.buf[4]};
  const redis::Arg args[] = {entry.client, ctx.buf[2], ttl_ms};
  client->Eval(redis_scripts::PresenceAdd(), keys_args, args);
}

void RedisPresenceStore::Remove(std::string_view channel, std::string_view client_id) {
  const int loop = shards_->CallerLoop();
  if (loop < 0) {
    shards_->PostToFirst([this, ch = std::string(channel), id = std::string(client_id)] { Remove(ch, id); });
    return;
  }
  redis::Client* client = shards_->Ready(loop, shards_->ShardOf(channel));
  if (client == nullptr) return;
  RedisShards::LoopContext& ctx = shards_->context(loop);
  const RedisKeys& keys = shards_->keys();
  // Two commands, one write (same iteration). Not atomic, which is harmless: Get reads the hash,
  // and a hash entry without its zset member is dropped by neither, only by the key expiry.
  client->Command({"HDEL", keys.PresenceData(ctx.buf[4], channel), client_id});
  client->Command({"ZREM", keys.PresenceExpire(ctx.buf[3], channel), client_id});
}

bool RedisPresenceStore::EvalRead(std::string_view channel, const redis::Script& script,
                                  const std::function<void()>& repost, redis::Callback on_reply) {
  const int loop = shards_->CallerLoop();
  if (loop < 0) {
    shards_->PostToFirst(repost);
    return true;
  }
  redis::Client* client = shards_->Ready(loop, shards_->ShardOf(channel));
  if (client == nullptr) return false;
  RedisShards::LoopContext& ctx = shards_->context(loop);
  const RedisKeys& keys = shards_->keys();
  keys.PresenceExpire(ctx.buf[3], channel);
  keys.PresenceData(ctx.buf[4], channel);
  const redis::Arg keys_args[] = {ctx.buf[3], ctx.buf[4]};
  client->Eval(script, keys_args, {}, std::move(on_reply));
  return true;
}

void RedisPresenceStore::Get(std::string_view channel, int64_t now_ms, const GetDone& done) {
  const auto repost = [this, ch = std::string(channel), now_ms, done] { Get(ch, now_ms, done); };
  const bool running =
      EvalRead(channel, redis_scripts::PresenceGet(), repost, [done](const redis::Reply& reply, redis::Failure failure) {
        std::vector<PresenceEntry> entries;
        bool ok = failure == redis::Failure::kNone && reply.is_array() && reply.size() % 2 == 0;
        if (ok) {
          entries.reserve(reply.size() / 2);
          for (auto it = reply.begin(); it != reply.end(); ++it) {
            const std::string_view id = (*it).str();
            ++it;
            PresenceEntry e;
            // A value we cannot decode is someone else's: skip it, keep the rest.
            if (redis_payload::DecodePresenceValue(id, (*it).str(), &e)) entries.push_back(std::move(e));
          }
        }
        if (done) done(ok, std::move(entries));
      });
  if (!running && done) done(false, {});
}

void RedisPresenceStore::Stats(std::string_view channel, int64_t now_ms, const StatsDone& done) {
  const auto repost = [this, ch = std::string(channel), now_ms, done] { Stats(ch, now_ms, done); };
  const bool running =
      EvalRead(channel, redis_scripts::PresenceStats(), repost, [done](const redis::Reply& reply, redis::Failure failure) {
        PresenceStats stats;
        bool ok = failure == redis::Failure::kNone && reply.is_array() && reply.size() == 2;
        if (ok) {
          auto it = reply.begin();
          stats.num_clients = static_cast<uint32_t>((*it).integer());
          stats.num_users = static_cast<uint32_t>((*++it).integer());
        }
        if (done) done(ok, stats);
      });
  if (!running && done) done(false, {});
}

}  // namespace instant::engine
