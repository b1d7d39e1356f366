#include "engine/redis_engine.h"

#include <algorithm>
#include <memory>
#include <string>
#include <utility>

#include "base/log.h"
#include "engine/redis_payload.h"
#include "engine/redis_scripts.h"

namespace instant::engine {
namespace {

// A publication copied for a call posted from a non-loop thread.
struct OwnedPublication {
  explicit OwnedPublication(const Publication& p)
      : channel(p.channel),
        data(p.data),
        user(p.user),
        client(p.client),
        conn_info(p.conn_info),
        chan_info(p.chan_info),
        tags(p.tags),
        epoch(p.epoch),
        has_info(p.has_info),
        offset(p.offset) {}
  Publication view() const {
    Publication p;
    p.channel = channel;
    p.data = data;
    p.has_info = has_info;
    p.user = user;
    p.client = client;
    p.conn_info = conn_info;
    p.chan_info = chan_info;
    p.tags = tags;
    p.offset = offset;
    p.epoch = epoch;
    return p;
  }
  std::string channel, data, user, client, conn_info, chan_info, tags, epoch;
  bool has_info;
  uint64_t offset;
};

struct OwnedJoinLeave {
  explicit OwnedJoinLeave(const JoinLeave& e)
      : channel(e.channel), user(e.user), client(e.client), conn_info(e.conn_info), chan_info(e.chan_info),
        join(e.join) {}
  JoinLeave view() const {
    JoinLeave e;
    e.channel = channel;
    e.join = join;
    e.user = user;
    e.client = client;
    e.conn_info = conn_info;
    e.chan_info = chan_info;
    return e;
  }
  std::string channel, user, client, conn_info, chan_info;
  bool join;
};

PublishResult Failed() {
  PublishResult r;
  r.ok = false;
  return r;
}

}  // namespace

RedisEngine::RedisEngine(RedisEngineOptions options, LocalDelivery* local, std::vector<net::Loop*> loops)
    : options_(std::move(options)),
      local_(local),
      shards_(options_, std::move(loops), redis_scripts::All()),
      history_(&shards_),
      presence_(&shards_) {
  if (options_.node_info_interval_ms <= 0) options_.node_info_interval_ms = 3000;
  shards_.set_message_handler([this](size_t shard, const redis::Message& m) { OnMessage(shard, m); });
}

RedisEngine::~RedisEngine() { Stop(); }

void RedisEngine::SetAvailabilityHandler(std::function<void(bool available)> handler) {
  shards_.set_availability_handler(std::move(handler));
}

void RedisEngine::Start() {
  shards_.Start(
      [this] {
        // loops[0]: control channel on every shard, then the node info timer.
        for (size_t s = 0; s < shards_.shard_count(); ++s) shards_.subscriber(s)->Subscribe(shards_.keys().control());
        node_timer_ = std::make_unique<redis::Timer>(shards_.loop(0), [this] { OnNodeTimer(); });
        node_timer_->ArmAt(redis::Timer::Now() + 50);
      },
      [this] { node_timer_.reset(); });
}

void RedisEngine::Stop() { shards_.Stop(); }

std::vector<NodeSnapshot> RedisEngine::Nodes() const {
  return nodes_.Snapshot(redis::Timer::Now(), node_max_age_ms());
}

void RedisEngine::Publish(const Publication& pub, const HistoryOptions& history, const PublishOptions& options,
                          int64_t now_ms, const PublishDone& done) {
  const int loop = shards_.CallerLoop();
  if (loop < 0) {
    auto owned = std::make_shared<OwnedPublication>(pub);
    shards_.PostToFirst([this, owned, history, skip = options.skip_history,
                         key = std::string(options.idempotency_key), now_ms, done] {
      PublishOptions o;
      o.skip_history = skip;
      o.idempotency_key = key;
      Publish(owned->view(), history, o, now_ms, done);
    });
    return;
  }
  redis::Client* client = shards_.Ready(loop, shards_.ShardOf(pub.channel));
  if (client == nullptr) {
    done(Failed());
    return;
  }
  RedisShards::LoopContext& ctx = shards_.context(loop);
  if (!options.skip_history && KeepsHistory(history)) {
    ctx.buf[1].clear();
    redis_payload::AppendPublicationHead(ctx.buf[1], pub.channel);
    ctx.buf[2].clear();
    redis_payload::AppendPublicationBody(ctx.buf[2], pub);
    RunAddHistory(shards_, ctx, *client, pub.channel, /*publish=*/true, history, options.idempotency_key,
                  options_.idempotency_ttl_ms, [done](const redis::Reply& reply, redis::Failure failure) {
                    PublishResult r;
                    if (!ParsePositionReply(reply, failure, &r.offset, &r.epoch)) r = Failed();
                    done(r);
                  });
    return;
  }
  Publication plain = pub;  // views: no history, so no position
  plain.offset = 0;
  plain.epoch = {};
  ctx.buf[2].clear();
  redis_payload::AppendPublication(ctx.buf[2], plain);
  shards_.keys().ClientChannel(ctx.buf[0], pub.channel);
  if (!options.idempotency_key.empty()) {
    shards_.keys().Result(ctx.buf[5], pub.channel, options.idempotency_key);
    const redis::Arg keys[] = {ctx.buf[5]};
    const redis::Arg args[] = {ctx.buf[0], ctx.buf[2], options_.idempotency_ttl_ms};
    client->Eval(redis_scripts::PublishOnce(), keys, args, [done](const redis::Reply& reply, redis::Failure failure) {
      PublishResult r;
      if (!ParsePositionReply(reply, failure, &r.offset, &r.epoch)) r = Failed();
      done(r);
    });
    return;
  }
  client->Command({"PUBLISH", ctx.buf[0], ctx.buf[2]}, [done](const redis::Reply& reply, redis::Failure failure) {
    done(failure == redis::Failure::kNone && !reply.is_error() ? PublishResult{} : Failed());
  });
}

void RedisEngine::PublishJoinLeave(const JoinLeave& event) {
  const int loop = shards_.CallerLoop();
  if (loop < 0) {
    auto owned = std::make_shared<OwnedJoinLeave>(event);
    shards_.PostToFirst([this, owned] { PublishJoinLeave(owned->view()); });
    return;
  }
  redis::Client* client = shards_.Ready(loop, shards_.ShardOf(event.channel));
  if (client == nullptr) return;  // fire-and-forget: nobody to tell
  RedisShards::LoopContext& ctx = shards_.context(loop);
  ctx.buf[2].clear();
  redis_payload::AppendJoinLeave(ctx.buf[2], event);
  client->Command({"PUBLISH", shards_.keys().ClientChannel(ctx.buf[0], event.channel), ctx.buf[2]});
}

void RedisEngine::SetChannelInterest(std::string_view channel, bool interested) {
  if (!shards_.loop(0)->on_loop_thread()) {
    shards_.PostToFirst([this, ch = std::string(channel), interested] { SetChannelInterest(ch, interested); });
    return;
  }
  redis::Client* sub = shards_.subscriber(shards_.ShardOf(channel));
  if (sub == nullptr) return;  // stopped
  shards_.keys().ClientChannel(interest_buf_, channel);
  // Failures need no handling: the channel stays in the client's wanted set (or out of it) and
  // the client re-sends the (UN)SUBSCRIBE after reconnecting.
  if (interested) {
    std::string name(channel);
    listening_[name];  // not acknowledged yet
    sub->Subscribe(interest_buf_, [this, name](const redis::Reply&, redis::Failure failure) {
      auto it = listening_.find(name);
      if (it == listening_.end()) return;  // interest dropped meanwhile
      if (failure == redis::Failure::kNone) it->second.acked = true;
      NotifyListening(it->second, failure == redis::Failure::kNone);
    });
  } else {
    if (auto it = listening_.find(std::string(channel)); it != listening_.end()) {
      NotifyListening(it->second, true);  // the waiters' subscriptions are gone anyway
      listening_.erase(it);
    }
    sub->Unsubscribe(interest_buf_);
  }
}

void RedisEngine::NotifyListening(Listening& state, bool ok) {
  for (auto& [loop, done] : state.waiters) {
    loop->Post([done = std::move(done), ok] { done(ok); });
  }
  state.waiters.clear();
}

void RedisEngine::WhenListening(std::string_view channel, std::function<void(bool)> done) {
  const int caller = shards_.CallerLoop();
  net::Loop* back = caller >= 0 ? shards_.loop(static_cast<size_t>(caller)) : shards_.loop(0);
  if (!available()) {
    done(false);
    return;
  }
  // Posted to loops[0] after the interest change this subscribe caused (same order: the registry
  // posted it first), so the channel's state is there unless the subscription already ended.
  shards_.PostToFirst([this, ch = std::string(channel), back, done = std::move(done)]() mutable {
    auto it = listening_.find(ch);
    if (it == listening_.end() || it->second.acked) {
      back->Post([done = std::move(done)] { done(true); });
      return;
    }
    it->second.waiters.emplace_back(back, std::move(done));
  });
}

void RedisEngine::OnMessage(size_t /*shard*/, const redis::Message& message) {
  if (message.channel == shards_.keys().control()) {
    NodeSnapshot node;
    if (DecodeNodeInfo(message.payload, &node)) {
      nodes_.Update(std::move(node), redis::Timer::Now());
    } else {
      dropped_.fetch_add(1, std::memory_order_relaxed);
    }
    return;
  }
  redis_payload::Decoded decoded;
  if (!redis_payload::Decode(message.payload, &decoded)) {
    if (dropped_.fetch_add(1, std::memory_order_relaxed) == 0) {
      log::Warn("redis engine: dropping an undecodable message on {} (logged once)", message.channel);
    }
    return;
  }
  received_.fetch_add(1, std::memory_order_relaxed);
  if (decoded.kind == redis_payload::Kind::kPublication) {
    local_->DeliverLocal(decoded.pub);
  } else {
    local_->DeliverJoinLeave(decoded.event);
  }
}

void RedisEngine::OnNodeTimer() {
  const int64_t now = redis::Timer::Now();
  const NodeStats stats = stats_provider_ ? stats_provider_() : NodeStats{};
  control_buf_.clear();
  EncodeNodeInfo(control_buf_, options_.node_uid, options_.node_name, stats);
  // Round-robin over the shards (every node listens on all of them), skipping those down.
  bool sent = false;
  const size_t n = shards_.shard_count();
  for (size_t k = 0; k < n && !sent; ++k) {
    const size_t s = (next_control_shard_ + k) % n;
    if (redis::Client* client = shards_.Ready(0, s)) {
      client->Command({"PUBLISH", shards_.keys().control(), control_buf_});
      next_control_shard_ = s + 1;
      sent = true;
    }
  }
  nodes_.Prune(now, node_max_age_ms());
  // Not sent (Redis not reachable yet): try again soon rather than a whole interval later.
  node_timer_->ArmAt(now + (sent ? options_.node_info_interval_ms : std::min<int64_t>(100, options_.node_info_interval_ms)));
}

}  // namespace instant::engine
