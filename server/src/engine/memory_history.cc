#include "engine/memory_history.h"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/random.h"
#include "engine/sharded_sweep.h"

namespace instant::engine {
namespace {

static_assert((MemoryHistoryStore::kShardCount & (MemoryHistoryStore::kShardCount - 1)) == 0,
              "shard count must be a power of two");
constexpr int kShardBits = std::countr_zero(MemoryHistoryStore::kShardCount);

// Heap bytes owned by a string: 0 while it lives in its small-string buffer. Checking where the
// data points works for every standard library, unlike a hard-coded SSO capacity.
size_t HeapBytes(const std::string& s) {
  auto data = reinterpret_cast<uintptr_t>(s.data());
  auto self = reinterpret_cast<uintptr_t>(&s);
  return (data >= self && data < self + sizeof(s)) ? 0 : s.capacity() + 1;
}

size_t PublicationHeapBytes(const StoredPublication& p) {
  return HeapBytes(p.data) + HeapBytes(p.info) + HeapBytes(p.tags);
}

// The publications of one stream, oldest first: a circular buffer over a slot array that grows by
// doubling up to the stream's history_size. Positions are relative to the oldest item.
class PublicationRing {
 public:
  size_t size() const { return count_; }
  bool empty() const { return count_ == 0; }
  size_t slots() const { return slots_.size(); }
  // Slot array plus the items' heap strings.
  size_t bytes() const { return slots_.capacity() * sizeof(StoredPublication) + heap_bytes_; }

  const StoredPublication& operator[](size_t i) const { return slots_[Index(i)]; }

  // Appends; the caller made room (size() < max_slots).
  void PushBack(StoredPublication&& p, size_t max_slots) {
    if (count_ == slots_.size()) Resize(std::min(max_slots, std::max<size_t>(1, 2 * count_)));
    heap_bytes_ += PublicationHeapBytes(p);
    slots_[Index(count_)] = std::move(p);
    ++count_;
  }

  void PopFront() {
    StoredPublication& slot = slots_[head_];
    heap_bytes_ -= PublicationHeapBytes(slot);
    // Destroy and re-create rather than move-assign an empty value: a move-assignment from a
    // short string keeps the target's heap buffer alive, which would hide memory from bytes().
    std::destroy_at(&slot);
    std::construct_at(&slot);
    head_ = head_ + 1 == slots_.size() ? 0 : head_ + 1;
    --count_;
  }

  // history_size shrank: give back a slot array much larger than needed.
  void Fit(size_t max_slots) {
    if (slots_.size() > 2 * std::max<size_t>(max_slots, count_))
      Resize(std::max<size_t>(count_, 1));
  }

  void Clear() {
    std::vector<StoredPublication>().swap(slots_);
    head_ = count_ = heap_bytes_ = 0;
  }

 private:
  size_t Index(size_t i) const {
    size_t j = head_ + i;
    return j >= slots_.size() ? j - slots_.size() : j;
  }

  void Resize(size_t n) {
    std::vector<StoredPublication> next(n);
    for (size_t i = 0; i < count_; ++i) next[i] = std::move(slots_[Index(i)]);
    slots_.swap(next);
    head_ = 0;
  }

  std::vector<StoredPublication> slots_;
  size_t head_ = 0;
  size_t count_ = 0;
  size_t heap_bytes_ = 0;
};

struct Stream {
  std::string epoch;
  uint64_t top = 0;
  int64_t items_expire_at = 0;  // meaningful while items is non-empty
  int64_t meta_expire_at = 0;   // 0 = never
  PublicationRing items;
};

// Sweep work units (hash buckets + streams) per shard lock hold: ~20 us when the table is out of
// cache (~80 ns per unit, one memory miss each).
constexpr size_t kSweepSlice = 256;

bool MetaExpired(const Stream& s, int64_t now_ms) {
  return s.meta_expire_at != 0 && now_ms >= s.meta_expire_at;
}
bool ItemsExpired(const Stream& s, int64_t now_ms) {
  return !s.items.empty() && now_ms >= s.items_expire_at;
}

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

using StreamMap = std::unordered_map<std::string, Stream, StringHash, std::equal_to<>>;

// Map node estimate: the value, the node's next pointer and cached hash (libstdc++ caches it for
// non-trivial hashes), plus the key's heap bytes. The bucket array is counted per shard.
size_t NodeBytes(const std::string& key, const Stream& s) {
  return sizeof(StreamMap::value_type) + 2 * sizeof(void*) + HeapBytes(key) + HeapBytes(s.epoch);
}

size_t EffectiveLimit(int limit, int max_limit) {
  if (limit == 0) return 0;
  if (limit < 0) return max_limit > 0 ? static_cast<size_t>(max_limit) : SIZE_MAX;
  return max_limit > 0 ? static_cast<size_t>(std::min(limit, max_limit))
                       : static_cast<size_t>(limit);
}

}  // namespace

// Aligned to a cache line pair so that two shards' mutexes never share a line.
struct alignas(128) MemoryHistoryStore::Shard {
  mutable std::mutex mu;
  StreamMap streams;        // guarded by mu
  size_t bytes = 0;         // guarded by mu: NodeBytes + ring bytes of every stream
  size_t sweep_bucket = 0;  // guarded by mu: Sweep's position in streams' bucket array

  // Locked. Finds the channel's live stream or creates it (fresh epoch, top 0); a stream whose
  // meta expired is restarted in place with a new epoch, one whose items expired loses them.
  Stream& Acquire(std::string_view channel, int64_t now_ms, const EpochSource& epochs) {
    auto it = streams.find(channel);
    if (it == streams.end()) {
      it = streams.emplace(std::string(channel), Stream{}).first;
      it->second.epoch = epochs();
      bytes += NodeBytes(it->first, it->second);
      return it->second;
    }
    Stream& s = it->second;
    if (MetaExpired(s, now_ms)) {
      bytes -= NodeBytes(it->first, s) + s.items.bytes();
      std::string fresh = epochs();
      // The old epoch is known here: never reuse it, or clients would miss the loss. (A source
      // stuck on one value gets a few tries, then we accept it rather than spin.)
      for (int tries = 0; fresh == s.epoch && tries < 8; ++tries) fresh = epochs();
      s.epoch = std::move(fresh);
      s.top = 0;
      s.items.Clear();
      s.items_expire_at = s.meta_expire_at = 0;
      bytes += NodeBytes(it->first, s);
    } else if (ItemsExpired(s, now_ms)) {
      bytes -= s.items.bytes();
      s.items.Clear();
    }
    return s;
  }
};

MemoryHistoryStore::EpochSource MemoryHistoryStore::RandomEpochs() {
  struct State {
    std::mutex mu;
    RandomSource random;
  };
  auto state = std::make_shared<State>();
  return [state] {
    static constexpr char kAlphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    uint64_t v;
    {
      std::lock_guard<std::mutex> lock(state->mu);
      v = state->random.U64();
    }
    // 62^8 < 2^64: eight base-62 digits of one uniform draw (bias ~1e-5, irrelevant for an id).
    std::string epoch(kEpochLength, '\0');
    for (char& c : epoch) {
      c = kAlphabet[v % 62];
      v /= 62;
    }
    return epoch;
  };
}

MemoryHistoryStore::MemoryHistoryStore(EpochSource epochs, size_t sweep_budget)
    : epochs_(epochs ? std::move(epochs) : RandomEpochs()),
      sweep_budget_(std::max<size_t>(sweep_budget, 1)),
      shards_(new Shard[kShardCount]) {}

MemoryHistoryStore::~MemoryHistoryStore() = default;

MemoryHistoryStore::Shard& MemoryHistoryStore::ShardFor(std::string_view channel) const {
  // Fibonacci hashing of the top bits: the shard's own map uses the low bits of the same hash
  // (modulo its bucket count), so the two choices stay independent.
  uint64_t h = std::hash<std::string_view>{}(channel);
  return shards_[(h * 0x9E3779B97F4A7C15ull) >> (64 - kShardBits)];
}

void MemoryHistoryStore::Add(std::string_view channel, StoredPublication pub,
                             const HistoryOptions& options, int64_t now_ms, const AddDone& done) {
  if (options.size <= 0 || options.ttl_ms <= 0) {
    if (done) done(false, StreamPosition{});
    return;
  }
  const auto size = static_cast<size_t>(options.size);
  Shard& shard = ShardFor(channel);
  std::lock_guard<std::mutex> lock(shard.mu);
  Stream& s = shard.Acquire(channel, now_ms, epochs_);
  size_t before = s.items.bytes();
  while (s.items.size() >= size) s.items.PopFront();
  s.items.Fit(size);
  pub.offset = ++s.top;
  s.items.PushBack(std::move(pub), size);
  shard.bytes += s.items.bytes() - before;
  s.items_expire_at = now_ms + options.ttl_ms;
  s.meta_expire_at = options.meta_ttl_ms > 0 ? now_ms + options.meta_ttl_ms : 0;
  // Still under the lock: the ordering contract of HistoryStore::Add.
  if (done) done(true, StreamPosition{s.top, s.epoch});
}

void MemoryHistoryStore::Read(std::string_view channel, const HistoryQuery& query,
                              const HistoryOptions& options, int max_limit, int64_t now_ms,
                              const ReadDone& done) {
  HistoryResult result;
  {
    Shard& shard = ShardFor(channel);
    std::lock_guard<std::mutex> lock(shard.mu);
    Stream& s = shard.Acquire(channel, now_ms, epochs_);
    s.meta_expire_at = options.meta_ttl_ms > 0 ? now_ms + options.meta_ttl_ms : 0;
    result.top = StreamPosition{s.top, s.epoch};
    const uint64_t since = query.since.offset;
    if (query.has_since && !query.since.epoch.empty() && query.since.epoch != s.epoch) {
      result.unrecoverable = true;
    } else if (size_t want = EffectiveLimit(query.limit, max_limit); want > 0 && !s.items.empty()) {
      // Offsets in the ring: [first, s.top], item with offset o at position o - first.
      const uint64_t first = s.top - s.items.size() + 1;
      if (!query.reverse) {
        if (!query.has_since || since < s.top) {
          uint64_t lo = query.has_since ? std::max(since + 1, first) : first;
          size_t n = static_cast<size_t>(std::min<uint64_t>(want, s.top - lo + 1));
          result.publications.reserve(n);
          for (size_t i = 0; i < n; ++i) result.publications.push_back(s.items[lo - first + i]);
        }
      } else if (!query.has_since || since > first) {
        uint64_t hi = query.has_since ? std::min(since - 1, s.top) : s.top;
        size_t n = static_cast<size_t>(std::min<uint64_t>(want, hi - first + 1));
        result.publications.reserve(n);
        for (size_t i = 0; i < n; ++i) result.publications.push_back(s.items[hi - first - i]);
      }
    }
  }
  // Unlocked: see the lock protocol in the header.
  if (done) done(std::move(result));
}

void MemoryHistoryStore::Remove(std::string_view channel, const RemoveDone& done) {
  {
    Shard& shard = ShardFor(channel);
    std::lock_guard<std::mutex> lock(shard.mu);
    if (auto it = shard.streams.find(channel); it != shard.streams.end()) {
      shard.bytes -= it->second.items.bytes();
      it->second.items.Clear();
    }
  }
  if (done) done(true);
}

size_t MemoryHistoryStore::Sweep(int64_t now_ms) {
  std::lock_guard<std::mutex> sweep_lock(sweep_mu_);
  size_t freed = 0;
  std::vector<const std::string*> forget;
  // One slice (kSweepSlice) per lock hold, so publishers on a shard wait ~20 us at worst.
  SweepInSlices(shards_.get(), kShardCount, sweep_shard_, sweep_budget_, kSweepSlice,
                [](Shard& shard) -> StreamMap& { return shard.streams; },
                [&](Shard& shard, StreamMap& map, size_t bucket) {
                  size_t used = 1;
                  forget.clear();
                  for (auto it = map.begin(bucket); it != map.end(bucket); ++it) {
                    ++used;
                    Stream& s = it->second;
                    if (MetaExpired(s, now_ms)) {
                      forget.push_back(&it->first);
                    } else if (ItemsExpired(s, now_ms)) {
                      shard.bytes -= s.items.bytes();
                      s.items.Clear();
                      ++freed;
                    }
                  }
                  for (const std::string* key : forget) {
                    auto it = map.find(*key);
                    shard.bytes -= NodeBytes(it->first, it->second) + it->second.items.bytes();
                    map.erase(it);
                    ++freed;
                  }
                  return used;
                });
  return freed;
}

size_t MemoryHistoryStore::MemoryUsage() const {
  size_t total = sizeof(*this) + kShardCount * sizeof(Shard);
  for (size_t i = 0; i < kShardCount; ++i) {
    std::lock_guard<std::mutex> lock(shards_[i].mu);
    total += shards_[i].bytes + shards_[i].streams.bucket_count() * sizeof(void*);
  }
  return total;
}

size_t MemoryHistoryStore::StreamCount() const {
  size_t n = 0;
  for (size_t i = 0; i < kShardCount; ++i) {
    std::lock_guard<std::mutex> lock(shards_[i].mu);
    n += shards_[i].streams.size();
  }
  return n;
}

}  // namespace instant::engine
