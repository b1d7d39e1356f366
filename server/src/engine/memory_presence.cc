#include "engine/memory_presence.h"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "engine/sharded_sweep.h"

namespace instant::engine {
namespace {

static_assert((MemoryPresenceStore::kShardCount & (MemoryPresenceStore::kShardCount - 1)) == 0,
              "shard count must be a power of two");
constexpr int kShardBits = std::countr_zero(MemoryPresenceStore::kShardCount);

// Heap bytes owned by a string: 0 while it lives in its small-string buffer.
size_t HeapBytes(const std::string& s) {
  auto data = reinterpret_cast<uintptr_t>(s.data());
  auto self = reinterpret_cast<uintptr_t>(&s);
  return (data >= self && data < self + sizeof(s)) ? 0 : s.capacity() + 1;
}

struct Member {
  std::string user;
  std::string conn_info;
  std::string chan_info;
  int64_t expires_at = 0;
};

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

using Members = std::unordered_map<std::string, Member, StringHash, std::equal_to<>>;
using ChannelMap = std::unordered_map<std::string, Members, StringHash, std::equal_to<>>;

// Node estimates: value + next pointer + cached hash + heap strings; a channel also owns its
// members' bucket array.
size_t MemberBytes(const std::string& client, const Member& m) {
  return sizeof(Members::value_type) + 2 * sizeof(void*) + HeapBytes(client) + HeapBytes(m.user) +
         HeapBytes(m.conn_info) + HeapBytes(m.chan_info);
}
size_t ChannelBytes(const std::string& channel, const Members& members) {
  return sizeof(ChannelMap::value_type) + 2 * sizeof(void*) + HeapBytes(channel) +
         members.bucket_count() * sizeof(void*);
}

// Sweep work units (hash buckets + members) per shard lock hold: ~20 us when the table is out of
// cache. A channel is always finished once started, so a big one can exceed it.
constexpr size_t kSweepSlice = 256;

bool Expired(const Member& m, int64_t now_ms) { return now_ms >= m.expires_at; }

}  // namespace

// Aligned to a cache line pair so that two shards' mutexes never share a line.
struct alignas(128) MemoryPresenceStore::Shard {
  mutable std::mutex mu;
  ChannelMap channels;      // guarded by mu
  size_t bytes = 0;         // guarded by mu: ChannelBytes + MemberBytes of everything held
  size_t sweep_bucket = 0;  // guarded by mu: Sweep's position in channels' bucket array

  // Locked. Drops the expired members of `members`, calls visit(client, member) for the live
  // ones. Returns the number dropped. Leaves an emptied channel for the caller to erase (Sweep
  // iterates a bucket and must not erase under its iterator).
  template <typename Visit>
  size_t DropExpired(Members& members, int64_t now_ms, Visit&& visit) {
    size_t dropped = 0;
    for (auto it = members.begin(); it != members.end();) {
      if (Expired(it->second, now_ms)) {
        bytes -= MemberBytes(it->first, it->second);
        it = members.erase(it);
        ++dropped;
      } else {
        visit(it->first, it->second);
        ++it;
      }
    }
    return dropped;
  }

  void EraseChannel(ChannelMap::iterator it) {
    bytes -= ChannelBytes(it->first, it->second);
    channels.erase(it);
  }
};

MemoryPresenceStore::MemoryPresenceStore(size_t sweep_budget)
    : sweep_budget_(std::max<size_t>(sweep_budget, 1)), shards_(new Shard[kShardCount]) {}

MemoryPresenceStore::~MemoryPresenceStore() = default;

MemoryPresenceStore::Shard& MemoryPresenceStore::ShardFor(std::string_view channel) const {
  // Fibonacci hashing of the top bits; the shard's own map uses the same hash modulo its bucket
  // count, so the two choices stay independent.
  uint64_t h = std::hash<std::string_view>{}(channel);
  return shards_[(h * 0x9E3779B97F4A7C15ull) >> (64 - kShardBits)];
}

void MemoryPresenceStore::Add(std::string_view channel, const PresenceEntry& entry, int64_t ttl_ms,
                              int64_t now_ms) {
  const int64_t expires_at = ttl_ms > 0 ? now_ms + ttl_ms : std::numeric_limits<int64_t>::max();
  Shard& shard = ShardFor(channel);
  std::lock_guard<std::mutex> lock(shard.mu);
  auto cit = shard.channels.find(channel);
  if (cit == shard.channels.end()) {
    cit = shard.channels.emplace(std::string(channel), Members{}).first;
    shard.bytes += ChannelBytes(cit->first, cit->second);
  }
  Members& members = cit->second;
  const size_t buckets_before = members.bucket_count();
  auto mit = members.find(entry.client);
  if (mit == members.end()) {
    mit =
        members
            .emplace(entry.client, Member{entry.user, entry.conn_info, entry.chan_info, expires_at})
            .first;
  } else {
    // A refresh: usually the same strings, which assign in place without allocating.
    shard.bytes -= MemberBytes(mit->first, mit->second);
    mit->second.user = entry.user;
    mit->second.conn_info = entry.conn_info;
    mit->second.chan_info = entry.chan_info;
    mit->second.expires_at = expires_at;
  }
  shard.bytes += MemberBytes(mit->first, mit->second);
  shard.bytes += (members.bucket_count() - buckets_before) * sizeof(void*);
}

void MemoryPresenceStore::Remove(std::string_view channel, std::string_view client) {
  Shard& shard = ShardFor(channel);
  std::lock_guard<std::mutex> lock(shard.mu);
  auto cit = shard.channels.find(channel);
  if (cit == shard.channels.end()) return;
  auto mit = cit->second.find(client);
  if (mit == cit->second.end()) return;
  shard.bytes -= MemberBytes(mit->first, mit->second);
  cit->second.erase(mit);
  if (cit->second.empty()) shard.EraseChannel(cit);
}

void MemoryPresenceStore::Get(std::string_view channel, int64_t now_ms, const GetDone& done) {
  std::vector<PresenceEntry> entries;
  {
    Shard& shard = ShardFor(channel);
    std::lock_guard<std::mutex> lock(shard.mu);
    if (auto cit = shard.channels.find(channel); cit != shard.channels.end()) {
      entries.reserve(cit->second.size());
      shard.DropExpired(cit->second, now_ms, [&](const std::string& client, const Member& m) {
        entries.push_back(PresenceEntry{client, m.user, m.conn_info, m.chan_info});
      });
      if (cit->second.empty()) shard.EraseChannel(cit);
    }
  }
  if (done) done(true, std::move(entries));
}

void MemoryPresenceStore::Stats(std::string_view channel, int64_t now_ms, const StatsDone& done) {
  PresenceStats stats;
  {
    Shard& shard = ShardFor(channel);
    std::lock_guard<std::mutex> lock(shard.mu);
    if (auto cit = shard.channels.find(channel); cit != shard.channels.end()) {
      // Views into the members' user strings: valid while the lock is held. (Measured: a hash
      // set beats sort + unique of the views, whose comparisons of "user123"-like ids dominate.)
      std::unordered_set<std::string_view> users;
      users.reserve(cit->second.size());
      shard.DropExpired(cit->second, now_ms, [&](const std::string&, const Member& m) {
        ++stats.num_clients;
        users.insert(m.user);  // "" (anonymous) counts as one user, as in Centrifugo
      });
      stats.num_users = static_cast<uint32_t>(users.size());
      if (cit->second.empty()) shard.EraseChannel(cit);
    }
  }
  if (done) done(true, stats);
}

size_t MemoryPresenceStore::Sweep(int64_t now_ms) {
  std::lock_guard<std::mutex> sweep_lock(sweep_mu_);
  size_t dropped = 0;
  std::vector<const std::string*> empty;
  SweepInSlices(shards_.get(), kShardCount, sweep_shard_, sweep_budget_, kSweepSlice,
                [](Shard& shard) -> ChannelMap& { return shard.channels; },
                [&](Shard& shard, ChannelMap& map, size_t bucket) {
                  size_t used = 1;
                  empty.clear();
                  for (auto it = map.begin(bucket); it != map.end(bucket); ++it) {
                    used += it->second.size();
                    dropped += shard.DropExpired(it->second, now_ms, [](const std::string&, const Member&) {});
                    if (it->second.empty()) empty.push_back(&it->first);
                  }
                  for (const std::string* key : empty) shard.EraseChannel(map.find(*key));
                  return used;
                });
  return dropped;
}

size_t MemoryPresenceStore::MemoryUsage() const {
  size_t total = sizeof(*this) + kShardCount * sizeof(Shard);
  for (size_t i = 0; i < kShardCount; ++i) {
    std::lock_guard<std::mutex> lock(shards_[i].mu);
    total += shards_[i].bytes + shards_[i].channels.bucket_count() * sizeof(void*);
  }
  return total;
}

size_t MemoryPresenceStore::ChannelCount() const {
  size_t n = 0;
  for (size_t i = 0; i < kShardCount; ++i) {
    std::lock_guard<std::mutex> lock(shards_[i].mu);
    n += shards_[i].channels.size();
  }
  return n;
}

}  // namespace instant::engine
