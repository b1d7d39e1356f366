#include "engine/redis_history.h"

#include <algorithm>
#include <charconv>
#include <memory>
#include <utility>

#include "engine/redis_payload.h"
#include "engine/redis_scripts.h"

namespace instant::engine {
namespace {

// history.h's limit rules: 0 = none; < 0 = up to max_limit (all when max_limit <= 0);
// > 0 = at most limit, clamped to max_limit. -1 = all.
int64_t Count(int limit, int max_limit) {
  if (limit == 0) return 0;
  if (limit < 0) return max_limit > 0 ? max_limit : -1;
  return max_limit > 0 ? std::min(limit, max_limit) : limit;
}

bool ParseOffset(std::string_view id, uint64_t* offset) {
  auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), *offset);
  return ec == std::errc() && end != id.data();
}

bool ParseRead(const redis::Reply& reply, HistoryResult* out) {
  if (!reply.is_array() || reply.size() != 4) return false;
  auto it = reply.begin();
  const redis::Reply top = *it++;
  const redis::Reply epoch = *it++;
  const redis::Reply entries = *it++;
  const redis::Reply mismatch = *it;
  if (!top.is_integer() || !epoch.is_bulk() || !entries.is_array() || !mismatch.is_integer()) return false;
  out->top.offset = static_cast<uint64_t>(top.integer());
  out->top.epoch.assign(epoch.str());
  out->unrecoverable = mismatch.integer() != 0;
  out->publications.reserve(entries.size());
  for (const redis::Reply entry : entries) {
    // [id, [field, value, ...]]
    if (!entry.is_array() || entry.size() != 2) return false;
    const redis::Reply id = *entry.begin();
    const redis::Reply fields = *++entry.begin();
    uint64_t offset = 0;
    if (!id.is_bulk() || !ParseOffset(id.str(), &offset) || !fields.is_array()) return false;
    std::string_view body;
    bool found = false;
    for (auto f = fields.begin(); f != fields.end(); ++f) {
      const redis::Reply name = *f;
      if (++f == fields.end()) return false;
      if (name.str() == "b") {
        body = (*f).str();
        found = true;
      }
    }
    if (!found) return false;
    StoredPublication& pub = out->publications.emplace_back();
    if (!redis_payload::DecodeStoredBody(body, offset, &pub)) return false;
  }
  return true;
}

}  // namespace

bool ParsePositionReply(const redis::Reply& reply, redis::Failure failure, uint64_t* offset,
                        std::string* epoch) {
  if (failure != redis::Failure::kNone || !reply.is_array() || reply.size() != 3) return false;
  auto it = reply.begin();
  const redis::Reply top = *it++;
  const redis::Reply e = *it;
  if (!top.is_integer() || !e.is_bulk()) return false;
  *offset = static_cast<uint64_t>(top.integer());
  epoch->assign(e.str());
  return true;
}

void RunAddHistory(RedisShards& shards, RedisShards::LoopContext& ctx, redis::Client& client,
                   std::string_view channel, bool publish, const HistoryOptions& options,
                   std::string_view idempotency_key, int64_t idempotency_ttl_ms, redis::Callback cb) {
  const RedisKeys& keys = shards.keys();
  if (publish) {
    keys.ClientChannel(ctx.buf[0], channel);
  } else {
    ctx.buf[0].clear();
  }
  keys.StreamMeta(ctx.buf[3], channel);
  keys.Stream(ctx.buf[4], channel);
  if (!idempotency_key.empty()) {
    keys.Result(ctx.buf[5], channel, idempotency_key);
  } else {
    ctx.buf[5].clear();
  }
  const std::string_view epoch = ctx.NewEpoch();
  const redis::Arg keys_args[] = {ctx.buf[3], ctx.buf[4], ctx.buf[5]};
  const redis::Arg args[] = {ctx.buf[0], ctx.buf[1], ctx.buf[2], options.size, options.ttl_ms,
                             options.meta_ttl_ms > 0 ? options.meta_ttl_ms : int64_t{0}, epoch,
                             idempotency_ttl_ms};
  client.Eval(redis_scripts::AddHistory(), keys_args, args, std::move(cb));
}

void RedisHistoryStore::Add(std::string_view channel, StoredPublication pub, const HistoryOptions& options,
                            int64_t now_ms, const AddDone& done) {
  const int loop = shards_->CallerLoop();
  if (loop < 0) {
    shards_->PostToFirst([this, ch = std::string(channel), pub = std::move(pub), options, now_ms, done]() mutable {
      Add(ch, std::move(pub), options, now_ms, done);
    });
    return;
  }
  redis::Client* client = shards_->Ready(loop, shards_->ShardOf(channel));
  if (client == nullptr || options.size <= 0 || options.ttl_ms <= 0) {
    if (done) done(false, StreamPosition{});
    return;
  }
  RedisShards::LoopContext& ctx = shards_->context(loop);
  ctx.buf[1].clear();
  ctx.buf[2].clear();
  redis_payload::AppendStoredBody(ctx.buf[2], pub);
  RunAddHistory(*shards_, ctx, *client, channel, /*publish=*/false, options, {}, 0,
                [done](const redis::Reply& reply, redis::Failure failure) {
                  StreamPosition top;
                  const bool ok = ParsePositionReply(reply, failure, &top.offset, &top.epoch);
                  if (done) done(ok, top);
                });
}

void RedisHistoryStore::Read(std::string_view channel, const HistoryQuery& query, const HistoryOptions& options,
                             int max_limit, int64_t now_ms, const ReadDone& done) {
  const int loop = shards_->CallerLoop();
  if (loop < 0) {
    shards_->PostToFirst([this, ch = std::string(channel), query, options, max_limit, now_ms, done] {
      Read(ch, query, options, max_limit, now_ms, done);
    });
    return;
  }
  redis::Client* client = shards_->Ready(loop, shards_->ShardOf(channel));
  if (client == nullptr) {
    HistoryResult failed;
    failed.ok = false;
    if (done) done(std::move(failed));
    return;
  }
  RedisShards::LoopContext& ctx = shards_->context(loop);
  const RedisKeys& keys = shards_->keys();
  keys.StreamMeta(ctx.buf[3], channel);
  keys.Stream(ctx.buf[4], channel);
  std::string& since = ctx.buf[5];
  since.clear();
  if (query.has_since) since = std::to_string(query.since.offset);
  const std::string_view epoch = ctx.NewEpoch();
  const std::string_view since_epoch = query.has_since ? std::string_view(query.since.epoch) : "";
  const redis::Arg keys_args[] = {ctx.buf[3], ctx.buf[4]};
  const redis::Arg args[] = {epoch,
                             options.meta_ttl_ms > 0 ? options.meta_ttl_ms : int64_t{0},
                             since,
                             since_epoch,
                             Count(query.limit, max_limit),
                             query.reverse ? "1" : "0"};
  client->Eval(redis_scripts::ReadHistory(), keys_args, args,
               [done](const redis::Reply& reply, redis::Failure failure) {
                 HistoryResult result;
                 if (failure != redis::Failure::kNone || !ParseRead(reply, &result)) {
                   result = HistoryResult{};
                   result.ok = false;
                 }
                 if (done) done(std::move(result));
               });
}

void RedisHistoryStore::Remove(std::string_view channel, const RemoveDone& done) {
  const int loop = shards_->CallerLoop();
  if (loop < 0) {
    shards_->PostToFirst([this, ch = std::string(channel), done] { Remove(ch, done); });
    return;
  }
  redis::Client* client = shards_->Ready(loop, shards_->ShardOf(channel));
  if (client == nullptr) {
    if (done) done(false);
    return;
  }
  RedisShards::LoopContext& ctx = shards_->context(loop);
  client->Command({"DEL", shards_->keys().Stream(ctx.buf[4], channel)},
                  [done](const redis::Reply& reply, redis::Failure failure) {
                    if (done) done(failure == redis::Failure::kNone && !reply.is_error());
                  });
}

}  // namespace instant::engine
