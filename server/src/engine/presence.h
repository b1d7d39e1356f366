#pragma once
// PresenceStore: which clients are in a channel (spec §2.7 presence/presence_stats, §8.1, §8.2).
//
// A session adds itself when it subscribes to a channel whose namespace keeps presence, refreshes
// its entry every `client_presence_update_interval` (27 s) and removes it on unsubscribe or
// disconnect. Entries expire `ttl_ms` (`presence_ttl`, 60 s) after their last Add, so the entries
// of a node that died (Redis engine) or a Remove that never happened disappear by themselves.
//
// Callback style for queries, because the Redis implementation (issue 7) answers asynchronously;
// the memory implementation calls `done` synchronously, before returning, on the caller's thread,
// exactly once. Add and Remove are fire-and-forget: a lost presence update only delays accuracy
// until the next refresh or expiry, which is the same guarantee Centrifugo gives.
//
// Failures are values: `ok == false` = engine unavailable -> client error 100.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace instant::engine {

// One client's presence in one channel: the wire ClientInfo (spec §2.2).
struct PresenceEntry {
  std::string client;     // client id (UUID)
  std::string user;       // user id, "" = anonymous
  std::string conn_info;  // raw JSON, "" = none
  std::string chan_info;  // raw JSON, "" = none
};

struct PresenceStats {
  uint32_t num_clients = 0;
  // Distinct user ids among the channel's live clients. Anonymous clients (user "") together
  // count as one user, exactly as Centrifugo computes it (centrifuge presenceHub.getStats and the
  // Redis presence stats script count unique user ids, "" included): wire compatibility matters
  // more than the arguably nicer "anonymous clients are not users".
  uint32_t num_users = 0;
};

class PresenceStore {
 public:
  using GetDone = std::function<void(bool ok, std::vector<PresenceEntry> entries)>;
  using StatsDone = std::function<void(bool ok, PresenceStats stats)>;

  virtual ~PresenceStore() = default;

  // Thread-safe. Adds the entry or refreshes it (replacing user/infos); it expires at
  // now_ms + ttl_ms (ttl_ms <= 0: never expires, it lives until Remove).
  virtual void Add(std::string_view channel, const PresenceEntry& entry, int64_t ttl_ms,
                   int64_t now_ms) = 0;
  // Thread-safe. Removes `client` from `channel`; no-op if absent.
  virtual void Remove(std::string_view channel, std::string_view client) = 0;
  // Thread-safe. The channel's live entries, in no particular order (the wire form is a map keyed
  // by client id). Expired entries are skipped (and dropped).
  virtual void Get(std::string_view channel, int64_t now_ms, const GetDone& done) = 0;
  // Thread-safe. Counts of live clients and distinct users (see PresenceStats).
  virtual void Stats(std::string_view channel, int64_t now_ms, const StatsDone& done) = 0;
  // Thread-safe. Periodic cleanup: drops expired entries and empty channels, bounded work per
  // call. Returns the number of entries dropped. Get/Stats apply expiry themselves, so
  // correctness never depends on Sweep; only memory does.
  virtual size_t Sweep(int64_t now_ms) = 0;
};

}  // namespace instant::engine
