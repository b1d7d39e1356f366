#pragma once
// The expiry sweep the memory stores share: walk N sharded std::unordered_maps bucket by bucket
// in bounded slices, so a sweep never holds a shard's lock for long and never stalls publishers.
//
// Contract: `shards` is an array of `shard_count` objects, each with a `std::mutex mu` and a
// `size_t sweep_bucket` cursor guarded by it; `map_of(shard)` is the shard's unordered_map.
// `visit(shard, map, bucket)` runs under the shard's lock for one bucket and returns the work it
// did (at least 1), which is charged to `budget`. At most `slice` units are done per lock hold; the
// cursors (`next_shard` and each shard's `sweep_bucket`) persist, so the next call resumes where
// this one stopped. The caller serialises calls (one sweeper at a time).
//
// Erasing from an unordered_map never rehashes, so the bucket array is stable while the lock is
// held; between slices an insert may rehash it, and the cursor then continues over the new layout,
// which may skip or repeat a few entries in this pass (SCAN semantics: the next pass catches them).

#include <algorithm>
#include <cstddef>
#include <mutex>

namespace instant::engine {

template <typename Shard, typename MapOf, typename Visit>
void SweepInSlices(Shard* shards, size_t shard_count, size_t& next_shard, size_t budget, size_t slice,
                   MapOf map_of, Visit visit) {
  for (size_t shards_done = 0; shards_done < shard_count && budget > 0;) {
    Shard& shard = shards[next_shard];
    bool finished;
    {
      std::lock_guard<std::mutex> lock(shard.mu);
      auto& map = map_of(shard);
      const size_t limit = std::min(budget, slice);
      size_t used = 0;
      while (used < limit && shard.sweep_bucket < map.bucket_count()) {
        used += visit(shard, map, shard.sweep_bucket++);
      }
      budget -= std::min(budget, used);
      finished = shard.sweep_bucket >= map.bucket_count();
      if (finished) shard.sweep_bucket = 0;
    }
    if (finished) {
      next_shard = (next_shard + 1) % shard_count;
      ++shards_done;
    }
  }
}

}  // namespace instant::engine
