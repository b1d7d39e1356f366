#include "engine/memory_engine.h"

#include "protocol/encoder.h"

namespace instant::engine {

void MemoryEngine::Publish(const Publication& pub, const HistoryOptions& history, const PublishOptions& options,
                           int64_t now_ms, const PublishDone& done) {
  if (options.idempotency_key.empty()) {
    done(PublishNow(pub, history, options.skip_history, now_ms));
    return;
  }
  PublishResult r;
  {
    std::lock_guard lock(idempotent_mu_);
    if (const PublishResult* first = idempotent_.Find(pub.channel, options.idempotency_key, now_ms)) {
      r = *first;
    } else {
      r = PublishNow(pub, history, options.skip_history, now_ms);
      // A failed publish is not remembered: the retry the key exists for must get another chance.
      if (r.ok) idempotent_.Store(pub.channel, options.idempotency_key, r, now_ms);
    }
  }
  done(r);
}

PublishResult MemoryEngine::PublishNow(Publication pub, const HistoryOptions& history, bool skip_history,
                                       int64_t now_ms) {
  if (skip_history || !KeepsHistory(history)) {
    local_->DeliverLocal(pub);
    return PublishResult{};
  }
  StoredPublication stored;
  stored.data.assign(pub.data);
  stored.tags.assign(pub.tags);
  if (pub.has_info) {
    protocol::ClientInfo info{pub.user, pub.client, pub.conn_info, pub.chan_info};
    protocol::AppendClientInfoObject(stored.info, info);
  }
  PublishResult result;
  history_.Add(pub.channel, std::move(stored), history, now_ms, [&](bool ok, const StreamPosition& top) {
    if (!ok) {
      result.ok = false;
      return;
    }
    // Delivered inside the callback, under the stream lock: offsets reach every loop in order.
    pub.offset = top.offset;
    pub.epoch = top.epoch;
    local_->DeliverLocal(pub);
    result.offset = top.offset;
    result.epoch = top.epoch;
  });
  return result;
}

}  // namespace instant::engine
