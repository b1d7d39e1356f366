#pragma once
// ChannelRegistry: node-wide subscriber counts per channel, for the server API (`channels`,
// `info`). Hubs report every membership change; the API reads snapshots.
//
// Threading: thread-safe. 16 shards by channel hash, one mutex each, held only for a map update or
// a copy, and the interest handler. Cost: one uncontended lock per subscribe/unsubscribe, nothing on
// the publication path.

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace instant::hub {

class ChannelRegistry {
 public:
  // Called when the node's first subscriber of a channel arrives (true) or its last one leaves
  // (false), under the channel's shard lock, so the calls for one channel come in order. It must
  // be quick and must not call back into the registry (the Redis engine posts a SUBSCRIBE).
  using InterestHandler = std::function<void(std::string_view channel, bool interested)>;
  // Set before any Update (the node sets it at start).
  void SetInterestHandler(InterestHandler handler) { interest_ = std::move(handler); }

  // `delta` is +1 or -1, for a subscriber on loop `loop` (net::Loop::index()); a channel whose
  // count reaches 0 disappears.
  void Update(std::string_view channel, int delta, int loop = 0);
  // The loops that have a subscriber of `channel` now, bit i for loop i (loops from 63 on share
  // bit 63); 0 = none. Under the shard lock, so it is ordered with Update: a subscriber missing
  // from the answer joins after this call (a session joins the hub before it reads the stream's
  // position, so it still sees what was published before).
  uint64_t LoopsWithSubscribers(std::string_view channel) const;
  bool HasSubscribers(std::string_view channel) const { return LoopsWithSubscribers(channel) != 0; }
  // Channels matching `pattern` (glob: '*' any run, '?' one character; "" = all) with their counts.
  std::vector<std::pair<std::string, int64_t>> Snapshot(std::string_view pattern) const;
  int64_t num_channels() const { return channels_.load(std::memory_order_relaxed); }
  int64_t num_subscriptions() const { return subscriptions_.load(std::memory_order_relaxed); }

 private:
  struct Hash {  // lookups by string_view, without making a std::string
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct Entry {
    int64_t count = 0;
    std::vector<int32_t> per_loop;  // subscribers on each loop, grown to the highest loop seen
  };
  struct Shard {
    mutable std::mutex mu;
    std::unordered_map<std::string, Entry, Hash, std::equal_to<>> counts;
  };
  static constexpr size_t kShards = 16;
  static size_t ShardIndex(std::string_view channel) { return std::hash<std::string_view>{}(channel) % kShards; }
  std::array<Shard, kShards> shards_;
  std::atomic<int64_t> channels_{0};
  std::atomic<int64_t> subscriptions_{0};
  InterestHandler interest_;
};

// Glob match used by the `channels` API method.
bool GlobMatch(std::string_view pattern, std::string_view text);

}  // namespace instant::hub
