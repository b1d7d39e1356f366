#pragma once
// What the coordinator (parent) and the subscriber workers (forked children) exchange.
//
// Live state goes through one MAP_SHARED anonymous mapping created before fork(): the parent
// writes `phase`; each worker writes only its own WorkerStatus (single writer, relaxed atomics,
// one cache line each). The publisher reads `received` to close its end-to-end window without a
// syscall. Final results (counters + the latency histogram) go through one pipe per worker.

#include <atomic>
#include <cstdint>

namespace instant::bench {

inline constexpr int kMaxProcs = 64;

enum Phase : int32_t {
  kPhaseRamp = 0,       // workers connect and subscribe (handshake mode: the whole storm)
  kPhasePublish = 1,    // publisher running; workers count deliveries (channels mode: and churn)
  kPhaseDrain = 2,      // publisher stopped; waiting for late deliveries
  kPhaseSlowCheck = 3,  // S7: the slow subscribers read what they hold, to see how they were closed
  kPhaseFinish = 4,     // workers: send results and exit
};

struct alignas(64) WorkerStatus {
  std::atomic<int64_t> started{0};      // connect() issued
  std::atomic<int64_t> subscribed{0};   // both replies OK
  std::atomic<int64_t> failed{0};       // handshake failures of any kind
  std::atomic<int64_t> alive{0};        // subscribed and still open
  std::atomic<int64_t> received{0};     // publications received (all connections)
  std::atomic<int64_t> last_delivery_ns{0};
  std::atomic<int64_t> slow_subscribed{0};  // S7: subscribed connections that will stop reading
  std::atomic<int64_t> reconnects{0};   // channels mode: sessions re-established after churn
  std::atomic<int32_t> ramp_done{0};    // every connection attempt is resolved
  std::atomic<int32_t> slow_done{0};    // S7: every slow connection was checked
  std::atomic<int32_t> pid{0};
};

struct SharedState {
  std::atomic<int32_t> phase{kPhaseRamp};
  std::atomic<int64_t> publish_start_ns{0};
  // S7: from this CLOCK_MONOTONIC time on the slow subscribers stop reading; publishes scheduled
  // before it are the baseline. 0 = no slow subscribers.
  std::atomic<int64_t> slow_start_ns{0};
  WorkerStatus workers[kMaxProcs];
};

// Handshake failure classes, in the order reported.
enum Failure : int {
  kFailConnect = 0,     // socket/bind/connect error (refused, unreachable, EADDRNOTAVAIL...)
  kFailHttp,            // upgrade answered with something else than a valid 101
  kFailConnectReply,    // connect reply carried an error
  kFailSubscribeReply,  // subscribe reply carried an error
  kFailClosed,          // server closed (EOF, RST, close frame) before both replies
  kFailTimeout,         // no subscribe reply within --handshake-timeout
  kFailCount,
};
inline constexpr const char* kFailureNames[kFailCount] = {
    "connect", "http_upgrade", "connect_reply", "subscribe_reply", "closed", "timeout"};

// Fixed-size part of a worker's result; followed on the pipe by two LatencyHistogram images: the
// main one (deliveries; handshake mode: handshakes) and a second one whose meaning depends on the
// mode (S7: healthy deliveries of the baseline half; channels mode: reconnect handshakes).
struct WorkerResult {
  int64_t connections = 0;
  int64_t subscribed = 0;
  int64_t failures[kFailCount] = {};
  int64_t closed_after_subscribe = 0;  // server closed or errored after the subscription
  int64_t last_close_code = 0;         // WebSocket close code seen most recently (0 = none)
  int64_t received = 0;                // publications with a parsable seq
  int64_t duplicates = 0;              // seq not above the last one of its publisher stream
  int64_t gaps = 0;                    // seqs skipped within a stream (may arrive later = reorder)
  int64_t other_pushes = 0;            // pushes without our payload (join/leave/...)
  int64_t unknown_lines = 0;           // lines that are neither reply, push nor ping
  int64_t pings = 0;                   // server pings answered with a pong
  int64_t reads = 0;                   // read() calls that returned data after subscribe
  int64_t frames = 0;                  // WebSocket data frames after subscribe
  int64_t bytes = 0;                   // bytes read after subscribe
  int64_t first_delivery_ns = 0;
  int64_t last_delivery_ns = 0;
  int64_t ramp_end_ns = 0;             // when the last connection attempt resolved
  // Handshake mode (S2).
  int64_t first_connect_ns = 0;        // first connect() of the storm
  int64_t last_handshake_ns = 0;       // last completed handshake
  // Channels mode (S5): churn and the session accounting (session_accounting.h).
  int64_t leaves = 0;                  // sessions ended by churn (close frame 1000 + close)
  int64_t reconnects = 0;              // sessions re-established after churn
  int64_t reconnect_failures = 0;
  int64_t sessions = 0;
  int64_t session_expected = 0;
  int64_t session_received = 0;
  int64_t session_lost = 0;
  int64_t session_extra = 0;
  int64_t session_duplicates = 0;
  int64_t deliveries_not_kept = 0;     // beyond the per-worker cap: not matched (loss unknown)
  // Slow consumers (S7).
  int64_t slow_subscribed = 0;
  int64_t slow_received = 0;           // deliveries read by slow subscribers (baseline + final read)
  int64_t baseline_received = 0;       // healthy deliveries of publishes before the slow half
  int64_t slow_closed_in_run = 0;      // dropped by the server during the run (seen server-side or as reset)
  int64_t slow_close_ns_sum = 0;       // slow half start -> drop, over slow_closed_in_run
  int64_t slow_close_ns_max = 0;
  int64_t slow_close_frame = 0;        // final read ended in a close frame...
  int64_t slow_close_frame_3008 = 0;   // ... with code 3008
  int64_t slow_close_code = 0;         // the last close code seen by a slow subscriber
  int64_t slow_eof = 0;                // ... in EOF without a close frame
  int64_t slow_reset = 0;              // ... in a reset / socket error
  int64_t slow_open = 0;               // still open after the final read
  int64_t slow_backlog_bytes_max = 0;  // most bytes one slow socket still held at the final read
  char first_error[200] = {};          // a sample failure for the report
};

}  // namespace instant::bench
