#pragma once
// MemoryPresenceStore: the embedded engine's presence (spec §2.7, §6.4 "in-process map per
// channel").
//
// Data structures:
//   64 shards, picked by a hash of the channel name; each shard = { mutex, channel -> Members }.
//   Members = client id -> { user, conn_info, chan_info, expires_at }. The client id is the map
//   key and is not stored a second time; entries are rebuilt as PresenceEntry only for Get.
//   A channel's map is erased when its last member leaves or expires.
//
// Lock protocol:
//   - shard.mu protects that shard's map, every member in it, its byte count and sweep cursor.
//     Add, Remove, Get and Stats lock exactly one shard (the channel's), never a second one.
//   - sweep_mu_ serializes Sweep calls and guards the shard cursor; Sweep takes it first, then
//     one shard lock at a time, for about 256 units of work per hold; MemoryUsage/ChannelCount
//     take one shard lock at a time. No
//     thread ever holds two shard locks, so no lock-order deadlock is possible.
//   - No lock is held while calling `done`: Get/Stats build their answer under the lock, release
//     it, then call `done`. `done` may therefore call back into the store.
//
// Time is passed in (`now_ms`); the store never reads a clock. Expired entries are invisible to
// Get/Stats (which also drop the ones they meet) and are reclaimed by Sweep.
//
// Complexity: Add/Remove O(1) average; Get O(members) plus copying; Stats O(members) (distinct
// users are counted on demand, as Centrifugo does, rather than keeping a per-channel user ->
// count map that would cost a second copy of every user id for a rarely used call).
//
// Memory: per channel ~110 bytes + its members' bucket array; per member ~160 bytes + heap
// strings (a 36-char client id, user id and infos when longer than 15). Measured: 234 bytes per
// member with a 30-byte conn_info. A client's conn_info is copied into every channel it is
// present in: the entry is replaced on every refresh anyway, and sharing it across channels would
// need a refcounted per-client object that the Redis engine could not use.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string_view>

#include "engine/presence.h"

namespace instant::engine {

class MemoryPresenceStore final : public PresenceStore {
 public:
  static constexpr size_t kShardCount = 64;
  // Work units (hash buckets + members) per Sweep call: ~0.3 ms when the table is out of cache
  // (see MemoryHistoryStore). The shard lock is released every 256 units; a channel is always
  // finished once started, so a call may exceed the budget by one channel's size.
  static constexpr size_t kDefaultSweepBudget = 4096;

  explicit MemoryPresenceStore(size_t sweep_budget = kDefaultSweepBudget);
  ~MemoryPresenceStore() override;
  MemoryPresenceStore(const MemoryPresenceStore&) = delete;
  MemoryPresenceStore& operator=(const MemoryPresenceStore&) = delete;

  // PresenceStore. All thread-safe; see presence.h for the contracts, the lock protocol above.
  void Add(std::string_view channel, const PresenceEntry& entry, int64_t ttl_ms,
           int64_t now_ms) override;
  void Remove(std::string_view channel, std::string_view client) override;
  void Get(std::string_view channel, int64_t now_ms, const GetDone& done) override;
  void Stats(std::string_view channel, int64_t now_ms, const StatsDone& done) override;
  // Continues where the previous call stopped (SCAN semantics: a channel created during a pass
  // may be seen only in the next one). Returns the number of expired entries dropped.
  size_t Sweep(int64_t now_ms) override;

  // Estimated bytes held (map nodes, keys, strings); allocator overhead not included. O(shards).
  size_t MemoryUsage() const;
  // Channels with at least one (possibly expired, not yet swept) member. O(shards).
  size_t ChannelCount() const;

 private:
  struct Shard;
  Shard& ShardFor(std::string_view channel) const;

  const size_t sweep_budget_;
  std::unique_ptr<Shard[]> shards_;
  std::mutex sweep_mu_;
  size_t sweep_shard_ = 0;  // guarded by sweep_mu_
};

}  // namespace instant::engine
