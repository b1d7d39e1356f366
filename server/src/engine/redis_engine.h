#pragma once
// RedisEngine: the Engine (engine.h) that lets several `instant` nodes serve one site through
// Redis (spec §8; DESIGN.md decision 4). Data flow and failure modes: docs/architecture/engines.md.
//
//   Publish (with history) -> add-history Lua script on the channel's shard: offset/epoch,
//     XADD, trims, expiries and PUBLISH in one atomic step -> every node subscribed to
//     <prefix>.client.<channel> receives the payload (redis_payload.h) on its subscriber
//     connection -> LocalDelivery::DeliverLocal on loops[0]'s thread -> local fan-out.
//   Publish (no history) -> PUBLISH (or the publish-once script with an idempotency key).
//   PublishJoinLeave -> PUBLISH, fire-and-forget.
//   SetChannelInterest -> SUBSCRIBE / UNSUBSCRIBE on the channel's shard (loops[0]'s subscriber).
//   history(), presence() -> RedisHistoryStore, RedisPresenceStore.
//   Node discovery -> JSON info on <prefix>.control every node_info_interval_ms (redis_nodes.h).
//
// A publication reaches this node's subscribers only through Redis: the node must declare its
// interest (SetChannelInterest) for its own publications to come back, exactly like Centrifugo.
//
// Connections: one command connection per (loop, shard), one subscriber connection per shard on
// loops[0]. A channel's history, presence and PUB/SUB all live on its shard (redis_shards.h).
//
// Threading:
//   - Publish, PublishJoinLeave and the stores' methods use the CALLING loop's connection and run
//     `done` later on that loop's thread. Called from a thread that is none of `loops`, the call
//     is posted to loops[0] (arguments copied; a slower path meant for tests and tools) and
//     `done` runs on loops[0]'s thread.
//   - SetChannelInterest: any thread (posted to loops[0] unless already there). Successive calls
//     for one channel must come in order from one thread (the node serialises interest changes).
//     Interest exists between Start() and Stop(): calls before Start() are dropped, and Stop()
//     forgets every interest (a restarted engine starts with none).
//   - LocalDelivery is called on loops[0]'s thread.
//   - available(), Nodes(): any thread.
//   - Start(): any thread, once the loops exist. Stop(): see RedisShards::Stop (a non-loop
//     thread while the loops run, or the single thread driving all loops); call it before the
//     loops are destroyed. The destructor calls Stop(). Tasks posted to a loop must not outlive
//     the engine: destroy it after the loops stopped running tasks.
//
// Failures: a call whose connection is not connected fails at once (ok = false, client error
// 100), synchronously, before returning; nothing is queued while Redis is away. Calls in flight
// when a connection drops fail with ok = false (their effect in Redis is unknown). The client
// reconnects by itself and resubscribes every wanted channel; PUB/SUB messages published while a
// subscriber connection was down are lost (positioned clients notice through offsets).

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "engine/engine.h"
#include "engine/redis_history.h"
#include "engine/redis_nodes.h"
#include "engine/redis_options.h"
#include "engine/redis_presence.h"
#include "engine/redis_shards.h"
#include "redis/timer.h"

namespace instant::engine {

class RedisEngine final : public Engine {
 public:
  RedisEngine(RedisEngineOptions options, LocalDelivery* local, std::vector<net::Loop*> loops);
  ~RedisEngine() override;
  RedisEngine(const RedisEngine&) = delete;
  RedisEngine& operator=(const RedisEngine&) = delete;

  // Set before Start(). Runs when available() flips, on the thread of the connection whose
  // change flipped it (any worker loop); keep it short and thread-safe (e.g. an atomic flag for
  // /health). Not called by Stop().
  void SetAvailabilityHandler(std::function<void(bool available)> handler);
  // Set before Start(). Called on loops[0]'s thread every node_info_interval_ms to fill this
  // node's info broadcast. Without it the node announces zeros (still discoverable).
  void SetNodeStatsProvider(std::function<NodeStats()> provider) { stats_provider_ = std::move(provider); }

  void Start();
  void Stop();

  // Engine.
  void Publish(const Publication& pub, const HistoryOptions& history, const PublishOptions& options,
               int64_t now_ms, const PublishDone& done) override;
  void PublishJoinLeave(const JoinLeave& event) override;
  void SetChannelInterest(std::string_view channel, bool interested) override;
  // Any worker loop: `done` runs on that loop once the channel's SUBSCRIBE is acknowledged.
  void WhenListening(std::string_view channel, std::function<void(bool ok)> done) override;
  HistoryStore& history() override { return history_; }
  PresenceStore& presence() override { return presence_; }
  std::string_view name() const override { return "redis"; }

  // Every connection (all shards, command and subscriber) is up.
  bool available() const { return shards_.available(); }
  // Nodes heard on the control channel within 3 intervals, this one included once its own
  // broadcast came back. Sorted by name, then uid.
  std::vector<NodeSnapshot> Nodes() const;

  size_t shard_count() const { return shards_.shard_count(); }
  size_t ShardOf(std::string_view channel) const { return shards_.ShardOf(channel); }
  // Counters (relaxed atomics) for metrics and tests.
  uint64_t received_messages() const { return received_.load(std::memory_order_relaxed); }
  uint64_t dropped_messages() const { return dropped_.load(std::memory_order_relaxed); }

 private:
  void OnMessage(size_t shard, const redis::Message& message);
  void OnNodeTimer();
  void Subscribe(const std::string& redis_channel, size_t shard, bool interested);
  int64_t node_max_age_ms() const { return 3 * options_.node_info_interval_ms; }

  RedisEngineOptions options_;
  LocalDelivery* local_;
  RedisShards shards_;
  RedisHistoryStore history_;
  RedisPresenceStore presence_;
  NodeTable nodes_;
  std::function<NodeStats()> stats_provider_;
  std::unique_ptr<redis::Timer> node_timer_;  // loops[0]
  size_t next_control_shard_ = 0;             // loops[0]
  std::string control_buf_;                   // loops[0]
  std::string interest_buf_;                  // loops[0]
  // Channels this node subscribed to, and who waits for the acknowledgement (loops[0] only).
  struct Listening {
    bool acked = false;
    std::vector<std::pair<net::Loop*, std::function<void(bool)>>> waiters;
  };
  std::unordered_map<std::string, Listening> listening_;
  void NotifyListening(Listening& state, bool ok);
  std::atomic<uint64_t> received_{0};
  std::atomic<uint64_t> dropped_{0};
};

}  // namespace instant::engine
