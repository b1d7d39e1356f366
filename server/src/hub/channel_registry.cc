#include "hub/channel_registry.h"

#include <algorithm>
#include <functional>

namespace instant::hub {

void ChannelRegistry::Update(std::string_view channel, int delta, int loop) {
  Shard& shard = shards_[ShardIndex(channel)];
  subscriptions_.fetch_add(delta, std::memory_order_relaxed);
  std::lock_guard<std::mutex> lock(shard.mu);
  auto it = shard.counts.find(channel);
  if (it == shard.counts.end()) {
    if (delta <= 0) return;
    it = shard.counts.emplace(std::string(channel), Entry{}).first;
    channels_.fetch_add(1, std::memory_order_relaxed);
    if (interest_) interest_(channel, true);
  }
  Entry& e = it->second;
  e.count += delta;
  if (e.count <= 0) {
    shard.counts.erase(it);
    channels_.fetch_sub(1, std::memory_order_relaxed);
    if (interest_) interest_(channel, false);
    return;
  }
  const size_t l = static_cast<size_t>(loop < 0 ? 0 : loop);
  if (e.per_loop.size() <= l) e.per_loop.resize(l + 1);
  e.per_loop[l] += delta;
}

uint64_t ChannelRegistry::LoopsWithSubscribers(std::string_view channel) const {
  const Shard& shard = shards_[ShardIndex(channel)];
  std::lock_guard<std::mutex> lock(shard.mu);
  auto it = shard.counts.find(channel);
  if (it == shard.counts.end()) return 0;
  uint64_t loops = 0;  // derived here: per_loop has one entry per worker, a handful
  const std::vector<int32_t>& per_loop = it->second.per_loop;
  for (size_t i = 0; i < per_loop.size(); ++i) {
    if (per_loop[i] > 0) loops |= uint64_t{1} << std::min<size_t>(i, 63);
  }
  return loops;
}

std::vector<std::pair<std::string, int64_t>> ChannelRegistry::Snapshot(std::string_view pattern) const {
  std::vector<std::pair<std::string, int64_t>> out;
  for (const Shard& shard : shards_) {
    std::lock_guard<std::mutex> lock(shard.mu);
    for (const auto& [name, entry] : shard.counts) {
      if (pattern.empty() || GlobMatch(pattern, name)) out.emplace_back(name, entry.count);
    }
  }
  return out;
}

bool GlobMatch(std::string_view p, std::string_view t) {
  // Iterative matcher with single-star backtracking: linear in practice, no recursion.
  size_t pi = 0, ti = 0, star = std::string_view::npos, mark = 0;
  while (ti < t.size()) {
    if (pi < p.size() && (p[pi] == '?' || p[pi] == t[ti])) {
      ++pi;
      ++ti;
    } else if (pi < p.size() && p[pi] == '*') {
      star = pi++;
      mark = ti;
    } else if (star != std::string_view::npos) {
      pi = star + 1;
      ti = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

}  // namespace instant::hub
