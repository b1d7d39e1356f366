#pragma once
// IdempotentResults: the results of recent publishes made with an `idempotency_key` (server API
// publish/broadcast), so that a retried publish returns the first result and is not delivered
// again (spec §7.1, Centrifugo v5 semantics: the key is per channel, results are kept 5 minutes).
//
// Every entry lives the same `ttl_ms`, so insertion order is expiry order: a FIFO of keys finds
// the expired ones without scanning. `max_entries` bounds memory against a publisher that sends a
// fresh key with every publish; past it the oldest results are forgotten early (a retry of those
// would then be delivered again, which the cap makes a deliberate, documented trade).
//
// Threading: not thread-safe; Engine serialises keyed publishes under its own mutex.

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>

#include "engine/broker.h"

namespace instant::engine {

class IdempotentResults {
 public:
  static constexpr int64_t kDefaultTtlMs = 5 * 60 * 1000;
  static constexpr size_t kDefaultMaxEntries = 100'000;

  explicit IdempotentResults(int64_t ttl_ms = kDefaultTtlMs, size_t max_entries = kDefaultMaxEntries)
      : ttl_ms_(ttl_ms), max_entries_(max_entries) {}

  // The result stored for (channel, key) and still within its window, or nullptr.
  const PublishResult* Find(std::string_view channel, std::string_view key, int64_t now_ms);
  void Store(std::string_view channel, std::string_view key, const PublishResult& result, int64_t now_ms);
  size_t size() const { return results_.size(); }

 private:
  struct Entry {
    PublishResult result;
    int64_t expires_ms = 0;
  };
  static std::string MapKey(std::string_view channel, std::string_view key);
  void Expire(int64_t now_ms);

  int64_t ttl_ms_;
  size_t max_entries_;
  std::unordered_map<std::string, Entry> results_;
  std::deque<std::pair<int64_t, std::string>> order_;  // (expires_ms, map key), oldest first
};

}  // namespace instant::engine
