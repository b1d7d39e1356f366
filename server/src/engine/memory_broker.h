#pragma once
// The embedded single-node broker: a publication goes straight to this node's local delivery.

#include "engine/broker.h"

namespace instant::engine {

class MemoryBroker final : public Broker {
 public:
  explicit MemoryBroker(LocalDelivery* local) : local_(local) {}
  PublishResult Publish(const Publication& pub) override {
    local_->DeliverLocal(pub);
    return PublishResult{};
  }
  void PublishJoinLeave(const JoinLeave& event) override { local_->DeliverJoinLeave(event); }
  std::string_view name() const override { return "memory"; }

 private:
  LocalDelivery* local_;
};

}  // namespace instant::engine
