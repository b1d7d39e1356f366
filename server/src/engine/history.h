#pragma once
// HistoryStore: per-channel publication streams with offsets and epochs (spec §6, §2.8, §8.2).
//
// Model (spec §6.1): every channel that keeps history has a stream. The stream has a top offset
// (uint64; the first publication gets 1, 0 = nothing published yet) and an epoch string naming
// this instance of the stream. When a stream is lost (memory engine restart, meta expiry, Redis
// meta key flushed) it comes back with a new epoch and offsets restart from 1, so clients detect
// the loss by the epoch change and reload instead of trusting a gap-free sequence.
//
// Two lifetimes per stream:
//   - items: the publications, at most `size` of them, all dropped together `ttl_ms` after the
//     last publish (Centrifugo memory engine and Redis EXPIRE semantics). Top and epoch survive.
//   - meta: top + epoch. Kept `meta_ttl_ms` after the last publish or read (0 = forever in the
//     memory engine). When it expires the stream is forgotten; the next use gets a new epoch.
//
// Callback style: the Redis implementation (issue 7) answers asynchronously on its own schedule,
// so every query reports through `done`. The memory implementation calls `done` synchronously,
// before returning, on the caller's thread. Every method calls `done` exactly once. Code written
// against this interface must work with both, i.e. must not assume `done` ran when the call
// returns.
//
// Failures are values: `ok == false` means the engine could not serve the request (Redis down,
// timeout) and maps to client error 100 "internal". Nothing here throws except on allocation
// failure.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace instant::engine {

// A point in a channel's stream: wire StreamPosition {"offset":..,"epoch":".."} (spec §2.2).
struct StreamPosition {
  uint64_t offset = 0;
  std::string epoch;
};

// Per-channel history settings, from the channel's namespace (history_size, history_ttl,
// history_meta_ttl). History is on only when size > 0 and ttl_ms > 0 (spec §5.2); callers do not
// call Add for a channel whose namespace has history off.
struct HistoryOptions {
  int size = 0;             // max publications kept
  int64_t ttl_ms = 0;       // items live this long after the last publish
  int64_t meta_ttl_ms = 0;  // top/epoch live this long after the last publish or read; 0 = forever
};

// A publication as the history keeps it. Owns its strings: the store takes them by move on Add
// and hands out copies on Read (the result outlives every lock).
struct StoredPublication {
  uint64_t offset = 0;  // assigned by Add
  std::string data;     // validated raw JSON
  std::string info;     // encoded ClientInfo JSON object, "" = none (API publish)
  std::string tags;     // JSON object of string values from API publish, "" = none
};

// A history request (spec §2.8).
struct HistoryQuery {
  bool has_since = false;
  StreamPosition since;
  // 0 = no publications, only the current top (JS 5.x default); < 0 = up to `max_limit`;
  // > 0 = at most this many, clamped to `max_limit`.
  int limit = 0;
  // Newest first. With `since`: offsets < since.offset. (`reverse` with since.offset == 0 is a
  // client error 107 that the caller reports; the store just returns no publications.)
  bool reverse = false;
};

struct HistoryResult {
  bool ok = true;  // false = engine unavailable -> error 100
  // The query's since.epoch is non-empty and differs from the stream's epoch: error 112 for the
  // history command, "not recovered" for subscribe recovery. `top` is still set, no publications.
  bool unrecoverable = false;
  StreamPosition top;  // current top offset and epoch
  std::vector<StoredPublication> publications;
};

class HistoryStore {
 public:
  using AddDone = std::function<void(bool ok, const StreamPosition& top)>;
  using ReadDone = std::function<void(HistoryResult)>;
  using RemoveDone = std::function<void(bool ok)>;

  virtual ~HistoryStore() = default;

  // Thread-safe. Appends `pub` to the channel's stream with offset top + 1 (creating the stream,
  // with a fresh epoch, if it does not exist or its meta expired; dropping items whose ttl has
  // passed first, so they never come back to life), trims the stream to `options.size` oldest
  // first, sets the items' expiry to now + ttl_ms and the meta's to now + meta_ttl_ms. Calls
  // `done(ok, new top)`; `pub.offset` equals `top.offset`.
  //
  // Ordering contract: two `done` calls for the same channel never overlap, and run in offset
  // order. The memory store guarantees it by calling `done` while the channel's stream is locked,
  // so a caller that hands the publication to the broker/hub *inside* `done` delivers a channel's
  // publications in offset order even when several threads publish to it at once (what positioned
  // subscriptions need, spec §6.2: any out-of-order offset would force a resubscribe). The Redis
  // store will get the same order from Redis' single-threaded script execution and PUB/SUB.
  // Because of that lock, `done` must be short (encode, post) and must not call into this store
  // (any channel: another channel may share the lock).
  //
  // Complexity (memory): O(1) amortised plus freeing the trimmed publication.
  virtual void Add(std::string_view channel, StoredPublication pub, const HistoryOptions& options,
                   int64_t now_ms, const AddDone& done) = 0;

  // Thread-safe. Reads per `query` (spec §2.8):
  //   forward with since: offsets > since.offset, oldest first;
  //   reverse with since: offsets < since.offset, newest first;
  //   no since: from the oldest (or newest with reverse);
  // at most `limit` publications (see HistoryQuery; `max_limit` <= 0 means no cap), skipping
  // expired items. A channel never published to (or whose meta expired) is created with a fresh
  // epoch and offset 0, so that a client that positions now and a publication that comes later
  // see the same epoch (Centrifugo does the same). Refreshes the meta ttl (options.meta_ttl_ms),
  // like Centrifugo's memory engine and its Redis read script.
  // Complexity (memory): O(1) to locate the start, plus copying the returned publications.
  virtual void Read(std::string_view channel, const HistoryQuery& query,
                    const HistoryOptions& options, int max_limit, int64_t now_ms,
                    const ReadDone& done) = 0;

  // Thread-safe. API history_remove: drops the channel's publications, keeps top and epoch (so
  // positioned clients are not told their stream was lost). No-op for an unknown channel.
  virtual void Remove(std::string_view channel, const RemoveDone& done) = 0;

  // Thread-safe. Periodic cleanup (memory: a node timer; Redis: nothing to do, keys expire):
  // releases expired items and forgets streams whose meta expired. Bounded work per call; a full
  // pass over all streams may take several calls. Returns the number of streams it freed memory
  // of. Expiry is also applied lazily by Add and Read, so correctness never depends on Sweep;
  // only memory does.
  virtual size_t Sweep(int64_t now_ms) = 0;
};

}  // namespace instant::engine
