#pragma once
// Loss accounting of the channels mode (S5), where connections leave and come back: a client must
// not be blamed for publishes it was not there for, nor credited for ones it could not know of.
//
// A *session* is one connection's life from its last subscribe reply to the moment it leaves
// (churn), is closed by the server, or the run ends. Session s EXPECTS publish p when
//   - p went to one of s's channels,
//   - p was sent (request written) at or after s started (its subscribe replies had arrived, so
//     the server had registered the subscriptions before it saw p), and
//   - p was acknowledged (HTTP 200, no "error") at least `grace` before s ended: a publish acked
//     just before a client left may still be on the wire, and neither outcome is wrong. A session
//     still open when the run ends (after the drain) expects every acked publish.
// lost = expected publishes the session never received; extra = received publishes it did not
// expect (sent before it started, or acked within `grace` of its end); duplicates = the same
// publish received twice by one session. Every figure is exact: each delivery is kept as
// (session, seq) and matched against the publish log after the run.

#include <cstdint>
#include <vector>

#include "publish_log.h"

namespace instant::bench {

struct Session {
  int32_t conn = 0;       // the worker's connection index
  int32_t global = 0;     // the connection's global index (its channels)
  int64_t start_ns = 0;
  int64_t end_ns = 0;     // 0 while open
};

struct SessionTotals {
  int64_t sessions = 0;
  int64_t expected = 0;
  int64_t received = 0;    // unique and expected
  int64_t lost = 0;
  int64_t extra = 0;
  int64_t duplicates = 0;
};

// `deliveries` holds (session index << 32 | seq), in any order; it is sorted in place.
// `published` = how many records of `log` were used (schedule slots).
SessionTotals AccountSessions(const PublishLog& log, int64_t published, const ChannelLayout& layout,
                              const std::vector<Session>& sessions, std::vector<uint64_t>* deliveries,
                              int64_t grace_ns);

}  // namespace instant::bench
