#pragma once
// Engine: the broker, the history store and the presence store of one node, and the one publish
// path every publisher uses (client `publish`, API `publish`/`broadcast`).
//
// Publish with history: the history store assigns the offset and calls back while the channel's
// stream is locked; the broadcast happens inside that callback, so every node-local subscriber
// sees a channel's publications in offset order even when several loops publish to it at once
// (positioned subscriptions rely on this: a gap means lost state).
//
// Threading: all methods are thread-safe.

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "engine/broker.h"
#include "engine/history.h"
#include "engine/idempotency.h"
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
  Engine(std::unique_ptr<Broker> broker, std::unique_ptr<HistoryStore> history,
         std::unique_ptr<PresenceStore> presence)
      : broker_(std::move(broker)), history_(std::move(history)), presence_(std::move(presence)) {}

  // Stores `pub` in the channel's history when `history` keeps any (and `skip_history` is false),
  // then broadcasts it with its offset and epoch. `now_ms` is monotonic time for history TTLs and
  // the idempotency window. With an `idempotency_key`, a publish repeated on the same channel with
  // the same key within IdempotentResults' window returns the first result and delivers nothing.
  struct Options {
    bool skip_history = false;
    std::string_view idempotency_key;  // "" = none
  };
  PublishResult Publish(Publication pub, const HistoryOptions& history, const Options& options, int64_t now_ms);

  Broker& broker() { return *broker_; }
  HistoryStore& history() { return *history_; }
  PresenceStore& presence() { return *presence_; }

 private:
  std::unique_ptr<Broker> broker_;
  std::unique_ptr<HistoryStore> history_;
  std::unique_ptr<PresenceStore> presence_;
  // Keyed publishes run one at a time under this mutex, so two retries racing on different loops
  // cannot both deliver. Unkeyed publishes never take it.
  std::mutex idempotent_mu_;
  IdempotentResults idempotent_;

  PublishResult PublishNow(Publication& pub, const HistoryOptions& history, bool skip_history, int64_t now_ms);
};

}  // namespace instant::engine
