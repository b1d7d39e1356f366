#include "session_accounting.h"

#include <algorithm>

namespace instant::bench {

namespace {

bool Expected(const PublishRecord& p, const Session& s, int64_t grace_ns) {
  const int64_t sent = p.send_ns.load(std::memory_order_relaxed);
  const int64_t acked = p.ack_ns.load(std::memory_order_relaxed);
  return sent != 0 && sent >= s.start_ns && acked > 0 && acked <= s.end_ns - grace_ns;
}

}  // namespace

SessionTotals AccountSessions(const PublishLog& log, int64_t published, const ChannelLayout& layout,
                              const std::vector<Session>& sessions, std::vector<uint64_t>* deliveries,
                              int64_t grace_ns) {
  SessionTotals t;
  t.sessions = static_cast<int64_t>(sessions.size());
  if (published > log.capacity) published = log.capacity;

  // Publishes grouped by channel (counting sort): a session only looks at its own channels.
  const uint32_t channels = layout.channels();
  std::vector<uint32_t> first(channels + 1, 0);
  for (int64_t k = 0; k < published; ++k) {
    if (log.records[k].channel < channels) ++first[log.records[k].channel + 1];
  }
  for (uint32_t c = 0; c < channels; ++c) first[c + 1] += first[c];
  std::vector<uint32_t> by_channel(first[channels]);
  std::vector<uint32_t> fill(first.begin(), first.end() - 1);
  for (int64_t k = 0; k < published; ++k) {
    uint32_t c = log.records[k].channel;
    if (c < channels) by_channel[fill[c]++] = static_cast<uint32_t>(k);
  }
  auto count_expected = [&](uint32_t channel, const Session& s) {
    int64_t n = 0;
    for (uint32_t i = first[channel]; i < first[channel + 1]; ++i) n += Expected(log.records[by_channel[i]], s, grace_ns);
    return n;
  };
  for (const Session& s : sessions) {
    t.expected += count_expected(layout.GroupOf(s.global), s);
    if (layout.personal) t.expected += count_expected(layout.PersonalOf(s.global), s);
  }

  std::sort(deliveries->begin(), deliveries->end());
  uint64_t previous = ~uint64_t{0};
  for (uint64_t d : *deliveries) {
    if (d == previous) {
      ++t.duplicates;
      continue;
    }
    previous = d;
    const size_t session = static_cast<size_t>(d >> 32);
    const int64_t seq = static_cast<int64_t>(d & 0xFFFFFFFFu);
    if (session < sessions.size() && seq < published && Expected(log.records[seq], sessions[session], grace_ns)) {
      ++t.received;
    } else {
      ++t.extra;
    }
  }
  t.lost = t.expected - t.received;
  return t;
}

}  // namespace instant::bench
