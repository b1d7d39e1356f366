#pragma once
// MemoryEngine: the embedded single-node engine (the default). Publications go straight to this
// node's local delivery; history and presence live in this process (memory_history.h,
// memory_presence.h). Every `done` runs synchronously, before the call returns.

#include <memory>
#include <mutex>

#include "engine/engine.h"
#include "engine/idempotency.h"
#include "engine/memory_history.h"
#include "engine/memory_presence.h"

namespace instant::engine {

class MemoryEngine final : public Engine {
 public:
  explicit MemoryEngine(LocalDelivery* local) : local_(local) {}

  void Publish(const Publication& pub, const HistoryOptions& history, const PublishOptions& options,
               int64_t now_ms, const PublishDone& done) override;
  void PublishJoinLeave(const JoinLeave& event) override { local_->DeliverJoinLeave(event); }
  HistoryStore& history() override { return history_; }
  PresenceStore& presence() override { return presence_; }
  std::string_view name() const override { return "memory"; }

 private:
  PublishResult PublishNow(Publication pub, const HistoryOptions& history, bool skip_history, int64_t now_ms);

  LocalDelivery* local_;
  MemoryHistoryStore history_;
  MemoryPresenceStore presence_;
  // Keyed publishes run one at a time under this mutex, so two retries racing on different loops
  // cannot both deliver. Unkeyed publishes never take it.
  std::mutex idempotent_mu_;
  IdempotentResults idempotent_;
};

}  // namespace instant::engine
