#include "hub/channel_registry.h"

#include <functional>

namespace instant::hub {

void ChannelRegistry::Update(std::string_view channel, int delta) {
  Shard& shard = shards_[ShardIndex(channel)];
  subscriptions_.fetch_add(delta, std::memory_order_relaxed);
  std::lock_guard<std::mutex> lock(shard.mu);
  auto it = shard.counts.find(channel);
  if (it == shard.counts.end()) {
    if (delta <= 0) return;
    shard.counts.emplace(std::string(channel), delta);
    channels_.fetch_add(1, std::memory_order_relaxed);
    if (interest_) interest_(channel, true);
    return;
  }
  it->second += delta;
  if (it->second <= 0) {
    shard.counts.erase(it);
    channels_.fetch_sub(1, std::memory_order_relaxed);
    if (interest_) interest_(channel, false);
  }
}

bool ChannelRegistry::HasSubscribers(std::string_view channel) const {
  const Shard& shard = shards_[ShardIndex(channel)];
  std::lock_guard<std::mutex> lock(shard.mu);
  return shard.counts.find(channel) != shard.counts.end();
}

std::vector<std::pair<std::string, int64_t>> ChannelRegistry::Snapshot(std::string_view pattern) const {
  std::vector<std::pair<std::string, int64_t>> out;
  for (const Shard& shard : shards_) {
    std::lock_guard<std::mutex> lock(shard.mu);
    for (const auto& [name, count] : shard.counts) {
      if (pattern.empty() || GlobMatch(pattern, name)) out.emplace_back(name, count);
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
