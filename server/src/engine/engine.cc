#include "engine/engine.h"

#include "config/channel_options.h"
#include "protocol/encoder.h"

namespace instant::engine {

HistoryOptions HistoryOptionsOf(const config::ChannelOptions& o, int64_t global_meta_ttl_ms) {
  HistoryOptions h;
  if (o.history_size <= 0 || o.history_ttl.count() <= 0) return h;
  h.size = o.history_size;
  h.ttl_ms = o.history_ttl.count();
  h.meta_ttl_ms = o.history_meta_ttl.count() > 0 ? o.history_meta_ttl.count() : global_meta_ttl_ms;
  return h;
}

PublishResult Engine::Publish(Publication pub, const HistoryOptions& history, const Options& options,
                              int64_t now_ms) {
  if (options.idempotency_key.empty()) return PublishNow(pub, history, options.skip_history, now_ms);
  std::lock_guard lock(idempotent_mu_);
  if (const PublishResult* first = idempotent_.Find(pub.channel, options.idempotency_key, now_ms)) return *first;
  PublishResult r = PublishNow(pub, history, options.skip_history, now_ms);
  // A failed publish is not remembered: the retry the key exists for must get another chance.
  if (r.ok) idempotent_.Store(pub.channel, options.idempotency_key, r, now_ms);
  return r;
}

PublishResult Engine::PublishNow(Publication& pub, const HistoryOptions& history, bool skip_history,
                                 int64_t now_ms) {
  if (skip_history || !KeepsHistory(history)) return broker_->Publish(pub);
  StoredPublication stored;
  stored.data.assign(pub.data);
  stored.tags.assign(pub.tags);
  if (pub.has_info) {
    protocol::ClientInfo info{pub.user, pub.client, pub.conn_info, pub.chan_info};
    protocol::AppendClientInfoObject(stored.info, info);
  }
  PublishResult result;
  history_->Add(pub.channel, std::move(stored), history, now_ms,
                [&](bool ok, const StreamPosition& top) {
                  if (!ok) {
                    result.ok = false;
                    return;
                  }
                  pub.offset = top.offset;
                  pub.epoch = top.epoch;
                  result = broker_->Publish(pub);
                  result.offset = top.offset;
                  result.epoch = top.epoch;
                });
  return result;
}

}  // namespace instant::engine
