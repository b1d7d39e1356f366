#include "engine/engine.h"

#include "config/channel_options.h"

namespace instant::engine {

HistoryOptions HistoryOptionsOf(const config::ChannelOptions& o, int64_t global_meta_ttl_ms) {
  HistoryOptions h;
  if (o.history_size <= 0 || o.history_ttl.count() <= 0) return h;
  h.size = o.history_size;
  h.ttl_ms = o.history_ttl.count();
  h.meta_ttl_ms = o.history_meta_ttl.count() > 0 ? o.history_meta_ttl.count() : global_meta_ttl_ms;
  return h;
}

}  // namespace instant::engine
