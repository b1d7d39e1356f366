#pragma once
// The run's figures and their three renderings: a human table (stdout), one JSON line (stdout
// and --json-out) and one markdown table row (--md-out). Field meanings: README.md.

#include <cstdint>
#include <cstdio>
#include <string>

#include "histogram.h"
#include "shared.h"

namespace instant::bench {

struct Report {
  // Scenario.
  std::string label;
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

  void Finish(const LatencyHistogram& latency);  // fills percentiles and derived figures
  void PrintHuman(FILE* out) const;
  std::string Json() const;
  std::string MarkdownHeader() const;
  std::string MarkdownRow() const;
};

}  // namespace instant::bench
