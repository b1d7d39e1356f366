#include "engine/idempotency.h"

namespace instant::engine {

std::string IdempotentResults::MapKey(std::string_view channel, std::string_view key) {
  // Channel names cannot contain NUL (channel_rules), so the pair maps to one string unambiguously.
  std::string k;
  k.reserve(channel.size() + 1 + key.size());
  k.append(channel).push_back('\0');
  k.append(key);
  return k;
}

void IdempotentResults::Expire(int64_t now_ms) {
  while (!order_.empty() && (order_.front().first <= now_ms || order_.size() > max_entries_)) {
    auto it = results_.find(order_.front().second);
    // A key stored again after expiring has a newer entry: only drop the entry this record made.
    if (it != results_.end() && it->second.expires_ms == order_.front().first) results_.erase(it);
    order_.pop_front();
  }
}

const PublishResult* IdempotentResults::Find(std::string_view channel, std::string_view key, int64_t now_ms) {
  Expire(now_ms);
  auto it = results_.find(MapKey(channel, key));
  return it == results_.end() ? nullptr : &it->second.result;
}

void IdempotentResults::Store(std::string_view channel, std::string_view key, const PublishResult& result,
                              int64_t now_ms) {
  std::string k = MapKey(channel, key);
  const int64_t expires = now_ms + ttl_ms_;
  results_[k] = Entry{result, expires};
  order_.emplace_back(expires, std::move(k));
  Expire(now_ms);
}

}  // namespace instant::engine
