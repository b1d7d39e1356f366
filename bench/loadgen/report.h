#pragma once
// The run's figures and their three renderings: a human table (stdout), one JSON line (stdout
// and --json-out) and one markdown table row (--md-out). Field meanings: README.md.

#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "histogram.h"
#include "shared.h"

namespace instant::bench {

struct Report {
  // Scenario.
  std::string label;
  std::string mode = "fanout";  // fanout | handshake | channels
  double rate = 0;
  int window = 0;
  double duration = 0;
  int payload_size = 0;
  int procs = 0;
  int pub_conns = 0;
  std::string protocol = "v2";
  double idle_s = 0;  // > 0: idle scenario, no publisher; window = the idle period
  // Connect phase.
  int64_t connections = 0;
  int64_t subscribed = 0;
  int64_t failures[kFailCount] = {};
  std::string first_error;
  double ramp_s = 0;
  int64_t closed_after_subscribe = 0;
  int64_t last_close_code = 0;
  // Publisher.
  int64_t scheduled = 0, sent = 0, acked = 0, api_errors = 0, pub_conn_errors = 0, late_sends = 0;
  int64_t window_stalls = 0;
  std::string publish_error;
  double ack_p50_ms = 0, ack_p99_ms = 0, ack_max_ms = 0;
  // Deliveries.
  int64_t expected = 0, received = 0, duplicates = 0, gaps = 0, lost = 0, extra = 0;
  int64_t other_pushes = 0, unknown_lines = 0, pings = 0;
  double loss_pct = 0;
  double deliveries_per_s = 0;
  double delivery_span_s = 0;   // publish start -> last delivery
  double publish_s = 0;         // publish start -> publish end
  double window_s = 0;          // publish start -> drain end (CPU window)
  double p50_ms = 0, p90_ms = 0, p99_ms = 0, p999_ms = 0, max_ms = 0, mean_ms = 0;
  uint64_t latency_overflow = 0;
  int64_t reads = 0, frames = 0, bytes = 0;
  // Handshake mode (S2): subscribed = handshakes completed; latency fields = handshake latency.
  double handshake_span_s = 0;   // first connect() -> last completed handshake
  double handshakes_per_s = 0;
  bool handshake_subscribe = false;
  bool jwt = false;              // each connection signed its own token
  // Channels mode (S5).
  int group_size = 0, groups = 0;
  bool personal = false;
  double personal_share = 0, churn = 0, churn_grace = 0;
  int64_t leaves = 0, reconnects = 0, reconnect_failures = 0;
  double reconnect_p50_ms = 0, reconnect_p99_ms = 0;
  int64_t sessions = 0, deliveries_not_kept = 0;
  // Slow consumers (S7): the latency fields are the healthy subscribers' in the slow half.
  double slow_fraction = 0;
  int64_t slow_subscribed = 0, slow_received = 0, baseline_received = 0;
  double baseline_p50_ms = 0, baseline_p99_ms = 0, baseline_max_ms = 0;
  int64_t slow_closed_in_run = 0, slow_close_frame = 0, slow_close_frame_3008 = 0, slow_close_code = 0;
  int64_t slow_eof = 0, slow_reset = 0, slow_open = 0, slow_backlog_bytes_max = 0;
  double slow_close_mean_s = 0, slow_close_max_s = 0;
  int64_t SlowClosed() const { return slow_close_frame + slow_eof + slow_reset; }
  // Server RSS once a second from publish start (handshake mode: storm start), KiB.
  std::vector<long> rss_series_kb;
  // (quantile, ms) points of the delivery latency distribution, for plots.
  std::vector<std::pair<double, double>> latency_cdf;
  // CPU and memory.
  double loadgen_cpu_total_s = 0;   // whole run, self + children
  double loadgen_cpu_window_s = -1; // publish start -> drain end
  int server_pid = 0;
  double server_cpu_publish_s = -1;
  double server_cpu_window_s = -1;
  long server_rss_before_kb = -1, server_rss_subscribed_kb = -1, server_rss_after_kb = -1;
  long slab_before_kb = -1, slab_subscribed_kb = -1;
  long server_rss_idle_end_kb = -1, slab_idle_end_kb = -1;  // idle scenario: at the end of the idle period
  // Machine, same window: to tell whether other processes competed for the CPUs.
  double machine_cpu_window_s = -1;
  double steal_window_s = -1;
  double loadavg_start = -1;
  double server_runqueue_s = -1;   // server threads runnable but not running, in the window
  double loadgen_runqueue_s = -1;  // same for the coordinator and the workers
  int cpus = 0;

  // Busy CPU in the window not accounted to the server or the load generator (cores).
  double OtherCores() const;

  // Fills percentiles and derived figures. `second`: S7 baseline half; channels mode: reconnects.
  void Finish(const LatencyHistogram& latency, const LatencyHistogram& second);
  void PrintHuman(FILE* out) const;
  std::string Json() const;
  std::string MarkdownHeader() const;
  std::string MarkdownRow() const;
};

}  // namespace instant::bench
