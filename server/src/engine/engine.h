#pragma once
// Engine: how publications, history and presence reach every node (DESIGN.md decision 4). The
// embedded MemoryEngine serves one node; the Redis engine (issue 7) serves several through Redis.
// Every publisher (client `publish`, API `publish`/`broadcast`) goes through Publish; sessions
// and the API reach history and presence through history()/presence().
//
// Asynchrony: Publish and the stores' queries report through `done`. The memory engine calls it
// synchronously, before returning; the Redis engine calls it later, ON THE CALLING LOOP'S THREAD
// (each worker loop has its own Redis connections). Callers must work both ways: they must not
// assume `done` ran when the call returns, and whatever `done` touches must still exist when it
// runs (sessions guard with a liveness token; see client/session.h).
//
// Ordering: publications of one channel reach this node's subscribers in offset order (positioned
// subscriptions rely on it, spec §6.2). The memory engine delivers under the channel's stream
// lock; the Redis engine gets the order from Redis' single-threaded script execution, the script
// publishing the publication itself.
//
// Threading: every method is thread-safe, but the Redis engine must be called from a worker loop
// thread (it picks that loop's connection).

#include <cstdint>
#include <functional>
#include <string_view>

#include "engine/broker.h"
#include "engine/history.h"
#include "engine/presence.h"

namespace instant::config {
struct ChannelOptions;
}

namespace instant::engine {

// History options of a channel, or size 0 when it keeps none (both size and ttl must be set).
HistoryOptions HistoryOptionsOf(const config::ChannelOptions& options, int64_t global_meta_ttl_ms);
inline bool KeepsHistory(const HistoryOptions& h) { return h.size > 0 && h.ttl_ms > 0; }

class Engine {
 public:
  struct PublishOptions {
    bool skip_history = false;
    // A publish repeated on the same channel with the same key within 5 minutes returns the first
    // result and delivers nothing (spec §7.1). "" = none.
    std::string_view idempotency_key;
  };
  using PublishDone = std::function<void(const PublishResult&)>;

  virtual ~Engine() = default;

  // Stores `pub` in the channel's history when `history` keeps any (and not skip_history), then
  // delivers it to every node's subscribers with its offset and epoch. `now_ms` is monotonic time
  // (history TTLs, idempotency window). `done` runs exactly once; result.ok == false means the
  // engine could not publish (client error 100).
  virtual void Publish(const Publication& pub, const HistoryOptions& history, const PublishOptions& options,
                       int64_t now_ms, const PublishDone& done) = 0;
  // Announces a join/leave to the channel's subscribers on every node. Fire-and-forget.
  virtual void PublishJoinLeave(const JoinLeave& event) = 0;

  // This node gained its first local subscriber of `channel` (interested) or lost its last one.
  // Any thread. The Redis engine (un)subscribes the node from the channel's Redis PUB/SUB channel.
  virtual void SetChannelInterest(std::string_view channel, bool interested) {}
  // Calls done(true) once publications of `channel` reach this node (after SetChannelInterest:
  // Redis acknowledged the SUBSCRIBE), on the calling loop's thread; done(false) if the engine
  // cannot listen (Redis unreachable). A subscribe waits for it before answering, so a publication
  // made right after the client's subscribe reply is never missed. Memory: done(true) at once.
  virtual void WhenListening(std::string_view channel, std::function<void(bool ok)> done) { done(true); }

  virtual HistoryStore& history() = 0;
  virtual PresenceStore& presence() = 0;
  // "memory" or "redis" (logs, info).
  virtual std::string_view name() const = 0;
};

}  // namespace instant::engine
