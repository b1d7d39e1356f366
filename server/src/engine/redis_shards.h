#pragma once
// The Redis engine's connections and addressing (spec §8.2, §8.3):
//   - which shard a channel lives on: jump consistent hash of FNV-1a-64(channel) over the number
//     of shards, exactly Centrifugo's choice, so every node agrees without talking;
//   - how keys and PUB/SUB channels are named (RedisKeys);
//   - RedisShards: one command Client per (loop, shard) and one subscriber Client per shard on
//     loops[0], their lifecycle (Start/Stop), and the connected/available bookkeeping.
//
// Threading: a LoopContext (clients + scratch buffers) belongs to its loop's thread and is only
// touched there. CallerLoop(), ShardOf(), available() and the keys are safe from any thread.
// Start() may be called from any thread (each loop's part runs on that loop: directly when called
// on it, else posted). Stop() runs each loop's part on that loop and waits for it: call it from a
// non-loop thread while the loops still run, or from the one thread that drives every loop
// (tests). Never from one worker while other workers may be stopping too. Called after a loop's
// thread is gone, it gives that loop 2 s to answer, then stops its clients itself (a fallback for
// late destructors; the Loop object must still exist).

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/redis_options.h"
#include "net/loop.h"
#include "redis/client.h"
#include "redis/script.h"

namespace instant::engine {

// FNV-1a, 64 bits (offset basis 14695981039346656037, prime 1099511628211).
uint64_t Fnv1a64(std::string_view s);
// Lamping & Veach's jump consistent hash: a bucket in [0, buckets) for `key`; moving from n to
// n + 1 buckets relocates only 1/(n+1) of the keys. buckets >= 1.
int32_t JumpConsistentHash(uint64_t key, int32_t buckets);

// Key and channel names (spec §8.2). Each method overwrites `out` and returns it, so a caller can
// keep one reusable buffer per name and never allocate in steady state.
class RedisKeys {
 public:
  explicit RedisKeys(std::string prefix);

  const std::string& prefix() const { return prefix_; }
  // <prefix>.control: node info broadcasts (subscribed on every shard).
  const std::string& control() const { return control_; }
  // <prefix>.client.<channel>: the channel's publications and join/leave events.
  std::string& ClientChannel(std::string& out, std::string_view channel) const;
  // <prefix>.stream.<channel>: the history STREAM.
  std::string& Stream(std::string& out, std::string_view channel) const;
  // <prefix>.stream.meta.<channel>: HASH e (epoch), s (top offset).
  std::string& StreamMeta(std::string& out, std::string_view channel) const;
  // <prefix>.result.<channel>.<key>: HASH s, e of an idempotent publish.
  std::string& Result(std::string& out, std::string_view channel, std::string_view key) const;
  // <prefix>.presence.expire.<channel>: ZSET client -> expire-at (Unix ms, Redis clock).
  std::string& PresenceExpire(std::string& out, std::string_view channel) const;
  // <prefix>.presence.data.<channel>: HASH client -> encoded entry (redis_payload.h).
  std::string& PresenceData(std::string& out, std::string_view channel) const;

 private:
  std::string& Make(std::string& out, std::string_view part, std::string_view channel) const;

  std::string prefix_;
  std::string control_;
};

class RedisShards {
 public:
  // Per-loop state. Only the loop's own thread touches it.
  struct LoopContext {
    net::Loop* loop = nullptr;
    std::vector<std::unique_ptr<redis::Client>> commands;     // [shard]; empty when stopped
    std::vector<uint8_t> command_up;                          // [shard] counted as connected
    std::vector<std::unique_ptr<redis::Client>> subscribers;  // [shard], loop 0 only
    std::vector<uint8_t> subscriber_up;
    // Scratch buffers for key names and payloads: commands copy their arguments before
    // returning, so one set per loop serves every call.
    std::string buf[8];
    uint64_t rng = 0;
    // A fresh random epoch candidate (8 base-62 characters), valid until the next call.
    std::string_view NewEpoch();
  };
  using AvailabilityHandler = std::function<void(bool available)>;
  using MessageHandler = std::function<void(size_t shard, const redis::Message& message)>;

  RedisShards(const RedisEngineOptions& options, std::vector<net::Loop*> loops,
              std::vector<const redis::Script*> scripts);
  ~RedisShards();
  RedisShards(const RedisShards&) = delete;
  RedisShards& operator=(const RedisShards&) = delete;

  size_t shard_count() const { return addresses_.size(); }
  size_t loop_count() const { return loops_.size(); }
  net::Loop* loop(size_t i) const { return loops_[i]; }
  const RedisKeys& keys() const { return keys_; }
  const std::vector<redis::Address>& addresses() const { return addresses_; }

  size_t ShardOf(std::string_view channel) const {
    return addresses_.size() == 1
               ? 0
               : static_cast<size_t>(JumpConsistentHash(Fnv1a64(channel),
                                                        static_cast<int32_t>(addresses_.size())));
  }
  // Index of the calling thread's loop, or -1 when called from elsewhere.
  int CallerLoop() const;
  // Runs `task` on loops[0] (posted). For calls made from a non-loop thread.
  void PostToFirst(net::Loop::Task task) const { loops_[0]->Post(std::move(task)); }

  // Loop thread only.
  LoopContext& context(int loop) { return contexts_[static_cast<size_t>(loop)]; }
  // The command client of (loop, shard) if it is connected, else nullptr: callers fail fast
  // instead of queueing behind a reconnect.
  redis::Client* Ready(int loop, size_t shard) {
    LoopContext& c = contexts_[static_cast<size_t>(loop)];
    if (shard >= c.commands.size()) return nullptr;
    redis::Client* client = c.commands[shard].get();
    return client->connected() ? client : nullptr;
  }
  // loops[0]'s thread only: the subscriber client of `shard` (nullptr when stopped).
  redis::Client* subscriber(size_t shard) {
    LoopContext& c = contexts_[0];
    return shard < c.subscribers.size() ? c.subscribers[shard].get() : nullptr;
  }

  // Set before Start(). `on_message` runs on loops[0]'s thread for every PUB/SUB message;
  // `on_availability` runs on the thread of the client whose change flipped available().
  void set_message_handler(MessageHandler h) { on_message_ = std::move(h); }
  void set_availability_handler(AvailabilityHandler h) { on_availability_ = std::move(h); }

  // Creates and starts every client on its loop. `on_first_loop` runs on loops[0] right after its
  // clients started (subscribe to control channels, arm timers); `before_stop_first_loop` runs
  // on loops[0] in Stop() before its clients go.
  void Start(std::function<void()> on_first_loop, std::function<void()> before_stop_first_loop);
  void Stop();

  // Every client (command and subscriber, every shard) is connected.
  bool available() const {
    return started_.load(std::memory_order_acquire) &&
           connected_.load(std::memory_order_acquire) == total_clients();
  }
  size_t total_clients() const { return (loops_.size() + 1) * addresses_.size(); }

 private:
  void StartLoop(size_t i);
  void StopLoop(size_t i);
  void OnClientState(uint8_t* flag, redis::State state);
  void Count(int delta);

  std::vector<redis::Address> addresses_;
  RedisKeys keys_;
  RedisEngineOptions options_;
  std::vector<net::Loop*> loops_;
  std::vector<const redis::Script*> scripts_;
  std::vector<LoopContext> contexts_;
  MessageHandler on_message_;
  AvailabilityHandler on_availability_;
  std::function<void()> on_first_loop_;
  std::function<void()> before_stop_first_loop_;
  std::atomic<bool> started_{false};
  std::atomic<size_t> connected_{0};
  std::atomic<bool> reported_available_{false};
};

}  // namespace instant::engine
