#include "report.h"

#include <cmath>
#include <cstdarg>

namespace instant::bench {

namespace {

std::string Printf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
std::string Printf(const char* fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  return buf;
}

double Ms(int64_t ns) { return static_cast<double>(ns) / 1e6; }

// JSON object builder for one flat line.
class JsonLine {
 public:
  void Num(const char* k, double v) {
    Key(k);
    if (!std::isfinite(v)) {
      s_ += "null";
    } else if (v == std::floor(v) && std::fabs(v) < 1e15) {
      s_ += Printf("%lld", static_cast<long long>(v));
    } else {
      s_ += Printf("%.4f", v);
    }
  }
  void Str(const char* k, const std::string& v) {
    Key(k);
    s_ += '"';
    for (char c : v) {
      if (c == '"' || c == '\\') {
        s_ += '\\';
        s_ += c;
      } else if (static_cast<unsigned char>(c) < 0x20) {
        s_ += ' ';
      } else {
        s_ += c;
      }
    }
    s_ += '"';
  }
  void Null(const char* k) {
    Key(k);
    s_ += "null";
  }
  // A JSON value written as is (arrays).
  void Raw(const char* k, const std::string& json) {
    Key(k);
    s_ += json;
  }
  std::string Done() { return s_ + "}"; }

 private:
  void Key(const char* k) {
    s_ += s_.size() > 1 ? ",\"" : "\"";
    s_ += k;
    s_ += "\":";
  }
  std::string s_ = "{";
};

double PerDelivery(double cpu_s, int64_t received) {
  return cpu_s >= 0 && received > 0 ? cpu_s * 1e6 / static_cast<double>(received) : NAN;
}

double PerConn(long after_kb, long before_kb, int64_t conns) {
  return after_kb >= 0 && before_kb >= 0 && conns > 0
             ? static_cast<double>(after_kb - before_kb) * 1024.0 / static_cast<double>(conns)
             : NAN;
}

}  // namespace

void Report::Finish(const LatencyHistogram& h, const LatencyHistogram& second) {
  p50_ms = Ms(h.ValueAtQuantile(0.50));
  p90_ms = Ms(h.ValueAtQuantile(0.90));
  p99_ms = Ms(h.ValueAtQuantile(0.99));
  p999_ms = Ms(h.ValueAtQuantile(0.999));
  max_ms = Ms(h.max_ns());
  mean_ms = h.mean_ns() / 1e6;
  latency_overflow = h.overflow();
  if (mode != "channels") {  // channels mode: lost and extra come from the session accounting
    int64_t unique = received - duplicates;
    lost = expected > unique ? expected - unique : 0;
    extra = unique > expected ? unique - expected : 0;
  }
  loss_pct = expected > 0 ? 100.0 * static_cast<double>(lost) / static_cast<double>(expected) : 0;
  deliveries_per_s = delivery_span_s > 0 ? static_cast<double>(received) / delivery_span_s : 0;
  handshakes_per_s = handshake_span_s > 0 ? static_cast<double>(subscribed) / handshake_span_s : 0;
  if (slow_fraction > 0) {
    baseline_p50_ms = Ms(second.ValueAtQuantile(0.50));
    baseline_p99_ms = Ms(second.ValueAtQuantile(0.99));
    baseline_max_ms = Ms(second.max_ns());
  } else if (mode == "channels") {
    reconnect_p50_ms = Ms(second.ValueAtQuantile(0.50));
    reconnect_p99_ms = Ms(second.ValueAtQuantile(0.99));
  }
  latency_cdf.clear();
  if (h.total() > 0) {
    static constexpr double kQuantiles[] = {0,    0.01, 0.05, 0.1,  0.2,   0.3,   0.4,    0.5,    0.6, 0.7,
                                            0.8,  0.9,  0.95, 0.98, 0.99,  0.995, 0.999,  0.9999, 1};
    for (double q : kQuantiles) latency_cdf.emplace_back(q, q == 0 ? Ms(h.min_ns()) : Ms(h.ValueAtQuantile(q)));
  }
}

double Report::OtherCores() const {
  if (machine_cpu_window_s < 0 || window_s <= 0 || loadgen_cpu_window_s < 0) return NAN;
  double other = machine_cpu_window_s - loadgen_cpu_window_s - (server_cpu_window_s > 0 ? server_cpu_window_s : 0);
  return (other > 0 ? other : 0) / window_s;
}

void Report::PrintHuman(FILE* out) const {
  if (mode == "handshake") {
    fprintf(out, "\n== %s: handshake storm, %.0f s, up to %lld connections, %s%s, protocol %s ==\n", label.c_str(),
            duration, static_cast<long long>(connections), jwt ? "a JWT (HS256) per connection" : "anonymous",
            handshake_subscribe ? " + subscribe" : "", protocol.c_str());
  } else if (mode == "channels") {
    fprintf(out,
            "\n== %s: %lld connections on %d group channels of %d%s; %.6g publishes/s for %.0f s (%.0f %% personal), "
            "churn %.3g/s ==\n",
            label.c_str(), static_cast<long long>(connections), groups, group_size,
            personal ? " + one personal channel each" : "", rate, duration, personal_share * 100, churn);
  } else if (idle_s > 0) {
    fprintf(out, "\n== %s: %lld connections, idle %.0f s, protocol %s ==\n", label.c_str(),
            static_cast<long long>(connections), idle_s, protocol.c_str());
  } else if (slow_fraction > 0) {
    fprintf(out,
            "\n== %s: %lld subscribers, %.6g publishes/s, %.0f s baseline + %.0f s with %.3g %% of them not reading, "
            "%d B payload, protocol %s ==\n",
            label.c_str(), static_cast<long long>(connections), rate, duration, duration, slow_fraction * 100,
            payload_size, protocol.c_str());
  } else {
    fprintf(out, "\n== %s: %lld subscribers, %s, %.0f s, %d B payload, protocol %s ==\n", label.c_str(),
            static_cast<long long>(connections),
            rate > 0 ? Printf("%.6g publishes/s", rate).c_str() : Printf("saturate (window %d)", window).c_str(),
            duration, payload_size, protocol.c_str());
  }
  std::string fails;
  for (int k = 0; k < kFailCount; ++k) {
    if (failures[k]) fails += Printf("%s%s %lld", fails.empty() ? "" : ", ", kFailureNames[k], static_cast<long long>(failures[k]));
  }
  if (mode == "handshake") {
    int64_t attempted = subscribed;
    for (int k = 0; k < kFailCount; ++k) attempted += failures[k];
    fprintf(out, "  connections   %lld attempted (at most %lld), %d worker procs; handshake failures: %s\n",
            static_cast<long long>(attempted), static_cast<long long>(connections), procs,
            fails.empty() ? "none" : fails.c_str());
  } else {
    fprintf(out, "  connections   %lld subscribed of %lld in %.2f s (%.0f/s), %d worker procs; handshake failures: %s\n",
            static_cast<long long>(subscribed), static_cast<long long>(connections), ramp_s,
            ramp_s > 0 ? static_cast<double>(subscribed) / ramp_s : 0, procs, fails.empty() ? "none" : fails.c_str());
  }
  if (!first_error.empty()) fprintf(out, "                first problem: %s\n", first_error.c_str());
  if (closed_after_subscribe)
    fprintf(out, "                %lld closed by the server after subscribing (last close code %lld)\n",
            static_cast<long long>(closed_after_subscribe), static_cast<long long>(last_close_code));
  if (mode == "handshake") {
    fprintf(out, "  handshakes    %lld completed in %.2f s = %.0f handshakes/s (TCP connect -> %s reply)\n",
            static_cast<long long>(subscribed), handshake_span_s, handshakes_per_s,
            handshake_subscribe ? "subscribe" : "connect");
    fprintf(out, "  latency       p50 %.2f ms  p90 %.2f ms  p99 %.2f ms  p99.9 %.2f ms  max %.2f ms  (mean %.2f ms)\n", p50_ms,
            p90_ms, p99_ms, p999_ms, max_ms, mean_ms);
    fprintf(out, "  loadgen CPU   %.2f s whole run", loadgen_cpu_total_s);
    if (loadgen_cpu_window_s >= 0)
      fprintf(out, "; %.2f s in the storm = %.2f cores, %.1f us/handshake", loadgen_cpu_window_s,
              window_s > 0 ? loadgen_cpu_window_s / window_s : 0, PerDelivery(loadgen_cpu_window_s, subscribed));
    fprintf(out, "\n");
    if (server_pid > 0 && server_cpu_window_s >= 0)
      fprintf(out, "  server CPU    %.2f s in the storm = %.2f cores, %.1f us/handshake; RSS %.1f MB before, %.1f MB after\n",
              server_cpu_window_s, window_s > 0 ? server_cpu_window_s / window_s : 0,
              PerDelivery(server_cpu_window_s, subscribed), server_rss_before_kb / 1024.0, server_rss_after_kb / 1024.0);
    if (machine_cpu_window_s >= 0 && window_s > 0) {
      double other = OtherCores();
      fprintf(out, "  machine       %d CPUs, %.2f cores busy, other processes %.2f cores%s; run queue: server %.2f s, load generator %.2f s\n",
              cpus, machine_cpu_window_s / window_s, other, other > 0.15 ? "  ** NOISY **" : "", server_runqueue_s,
              loadgen_runqueue_s);
    }
    return;
  }
  fprintf(out, "  publishes     %lld sent, %lld acked, %lld API errors, %lld conn errors", static_cast<long long>(sent),
          static_cast<long long>(acked), static_cast<long long>(api_errors), static_cast<long long>(pub_conn_errors));
  if (rate > 0) fprintf(out, " (%lld scheduled, %lld sent late)", static_cast<long long>(scheduled), static_cast<long long>(late_sends));
  if (rate <= 0) fprintf(out, " over %d connections (window full %lld times)", pub_conns, static_cast<long long>(window_stalls));
  fprintf(out, "; HTTP p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", ack_p50_ms, ack_p99_ms, ack_max_ms);
  if (!publish_error.empty()) fprintf(out, "                first problem: %s\n", publish_error.c_str());
  fprintf(out, "  deliveries    %lld expected, %lld received: loss %.3f %% (%lld lost), %lld duplicates, %lld gaps, %lld extra\n",
          static_cast<long long>(expected), static_cast<long long>(received), loss_pct, static_cast<long long>(lost),
          static_cast<long long>(duplicates), static_cast<long long>(gaps), static_cast<long long>(extra));
  fprintf(out, "  throughput    %.0f deliveries/s (%.2f s from first publish to last delivery; publishing took %.2f s)\n",
          deliveries_per_s, delivery_span_s, publish_s);
  fprintf(out, "  latency       p50 %.2f ms  p90 %.2f ms  p99 %.2f ms  p99.9 %.2f ms  max %.2f ms  (mean %.2f ms)%s\n",
          p50_ms, p90_ms, p99_ms, p999_ms, max_ms, mean_ms,
          latency_overflow ? Printf("  [%llu over 10 s]", static_cast<unsigned long long>(latency_overflow)).c_str() : "");
  if (mode == "channels") {
    fprintf(out, "  sessions      %lld (%lld left by churn, %lld reconnected, %lld reconnects failed); reconnect p50 %.2f ms, p99 %.2f ms\n",
            static_cast<long long>(sessions), static_cast<long long>(leaves), static_cast<long long>(reconnects),
            static_cast<long long>(reconnect_failures), reconnect_p50_ms, reconnect_p99_ms);
    fprintf(out, "                expected = publishes to a session's channels sent after it subscribed and acked >= %.1f s before it ended%s\n",
            churn_grace, deliveries_not_kept ? " (some deliveries not kept: loss is a lower bound)" : "");
  }
  if (slow_fraction > 0) {
    fprintf(out, "  healthy       %lld subscribers; latency before the slow ones stopped: p50 %.2f ms, p99 %.2f ms, max %.2f ms (%lld deliveries)\n",
            static_cast<long long>(subscribed - slow_subscribed), baseline_p50_ms, baseline_p99_ms, baseline_max_ms,
            static_cast<long long>(baseline_received));
    fprintf(out, "                latency with them stopped (above): p99 %+.1f %% against the baseline\n",
            baseline_p99_ms > 0 ? 100.0 * (p99_ms - baseline_p99_ms) / baseline_p99_ms : 0.0);
    fprintf(out, "  slow          %lld subscribers stopped reading; dropped by the server during the run: %lld (after %.2f s on average, %.2f s at most)\n",
            static_cast<long long>(slow_subscribed), static_cast<long long>(slow_closed_in_run), slow_close_mean_s,
            slow_close_max_s);
    fprintf(out, "                their streams ended in: close frame %lld (3008: %lld, last code %lld), EOF %lld, reset %lld; still open %lld; most bytes left %lld\n",
            static_cast<long long>(slow_close_frame), static_cast<long long>(slow_close_frame_3008),
            static_cast<long long>(slow_close_code), static_cast<long long>(slow_eof), static_cast<long long>(slow_reset),
            static_cast<long long>(slow_open), static_cast<long long>(slow_backlog_bytes_max));
  }
  if (!rss_series_kb.empty()) {
    long lo = rss_series_kb.front(), hi = rss_series_kb.front();
    for (long v : rss_series_kb) {
      lo = v < lo ? v : lo;
      hi = v > hi ? v : hi;
    }
    fprintf(out, "  server RSS/s  %zu samples: first %.1f MB, min %.1f MB, max %.1f MB, last %.1f MB\n", rss_series_kb.size(),
            rss_series_kb.front() / 1024.0, lo / 1024.0, hi / 1024.0, rss_series_kb.back() / 1024.0);
  }
  if (reads > 0)
    fprintf(out, "  client reads  %lld reads, %lld frames, %.1f deliveries/read, %.1f deliveries/frame, %.0f B/delivery\n",
            static_cast<long long>(reads), static_cast<long long>(frames),
            static_cast<double>(received) / static_cast<double>(reads),
            frames ? static_cast<double>(received) / static_cast<double>(frames) : 0,
            received ? static_cast<double>(bytes) / static_cast<double>(received) : 0);
  fprintf(out, "  loadgen CPU   %.2f s whole run", loadgen_cpu_total_s);
  if (loadgen_cpu_window_s >= 0)
    fprintf(out, "; %.2f s in the %.2f s measured window = %.2f cores, %.2f us/delivery", loadgen_cpu_window_s, window_s,
            window_s > 0 ? loadgen_cpu_window_s / window_s : 0, PerDelivery(loadgen_cpu_window_s, received));
  fprintf(out, "\n");
  if (server_pid > 0) {
    if (server_cpu_window_s >= 0) {
      fprintf(out, "  server CPU    %.2f s in the window (%.2f s while publishing) = %.2f cores, %.2f us/delivery\n",
              server_cpu_window_s, server_cpu_publish_s, window_s > 0 ? server_cpu_window_s / window_s : 0,
              PerDelivery(server_cpu_window_s, received));
    } else {
      fprintf(out, "  server CPU    unavailable (pid %d)\n", server_pid);
    }
    fprintf(out, "  server RSS    %.1f MB before connecting, %.1f MB subscribed (%.0f B/connection), %.1f MB at the end\n",
            server_rss_before_kb / 1024.0, server_rss_subscribed_kb / 1024.0,
            PerConn(server_rss_subscribed_kb, server_rss_before_kb, subscribed), server_rss_after_kb / 1024.0);
    if (idle_s > 0)
      fprintf(out, "                %.1f MB after %.0f s idle (%.0f B/connection)\n", server_rss_idle_end_kb / 1024.0,
              idle_s, PerConn(server_rss_idle_end_kb, server_rss_before_kb, subscribed));
  }
  fprintf(out, "  kernel slab   %+.0f B per connection (both loopback ends; machine-wide, indicative)\n",
          PerConn(slab_subscribed_kb, slab_before_kb, subscribed));
  if (machine_cpu_window_s >= 0 && window_s > 0) {
    double other = OtherCores();
    fprintf(out, "  machine       %d CPUs, %.2f cores busy in the window, other processes %.2f cores, steal %.2f s; load avg %.2f at start%s\n",
            cpus, machine_cpu_window_s / window_s, other, steal_window_s, loadavg_start,
            other > 0.15 ? "  ** NOISY: other processes used the CPUs **" : "");
    if (server_runqueue_s >= 0 || loadgen_runqueue_s >= 0)
      fprintf(out, "  run queue     waited for a CPU in the window: server %.2f s, load generator %.2f s\n", server_runqueue_s,
              loadgen_runqueue_s);
  }
}

std::string Report::Json() const {
  JsonLine j;
  j.Str("label", label);
  j.Str("scenario_mode", mode);
  j.Str("mode", rate > 0 ? "rate" : "saturate");
  j.Num("rate", rate);
  j.Num("window", window);
  j.Num("duration_s", duration);
  j.Num("payload_size", payload_size);
  j.Num("procs", procs);
  j.Num("pub_conns", pub_conns);
  j.Str("protocol", protocol);
  j.Num("idle_s", idle_s);
  j.Num("connections", static_cast<double>(connections));
  j.Num("subscribed", static_cast<double>(subscribed));
  for (int k = 0; k < kFailCount; ++k) {
    std::string key = std::string("fail_") + kFailureNames[k];
    j.Num(key.c_str(), static_cast<double>(failures[k]));
  }
  j.Str("first_error", first_error);
  j.Num("ramp_s", ramp_s);
  j.Num("closed_after_subscribe", static_cast<double>(closed_after_subscribe));
  j.Num("last_close_code", static_cast<double>(last_close_code));
  j.Num("publishes_scheduled", static_cast<double>(scheduled));
  j.Num("publishes_sent", static_cast<double>(sent));
  j.Num("publishes_acked", static_cast<double>(acked));
  j.Num("publish_api_errors", static_cast<double>(api_errors));
  j.Num("publish_conn_errors", static_cast<double>(pub_conn_errors));
  j.Num("publish_late_sends", static_cast<double>(late_sends));
  j.Num("window_stalls", static_cast<double>(window_stalls));
  j.Str("publish_error", publish_error);
  j.Num("publish_http_p50_ms", ack_p50_ms);
  j.Num("publish_http_p99_ms", ack_p99_ms);
  j.Num("publish_http_max_ms", ack_max_ms);
  j.Num("deliveries_expected", static_cast<double>(expected));
  j.Num("deliveries_received", static_cast<double>(received));
  j.Num("lost", static_cast<double>(lost));
  j.Num("loss_pct", loss_pct);
  j.Num("duplicates", static_cast<double>(duplicates));
  j.Num("gaps", static_cast<double>(gaps));
  j.Num("extra", static_cast<double>(extra));
  j.Num("other_pushes", static_cast<double>(other_pushes));
  j.Num("unknown_lines", static_cast<double>(unknown_lines));
  j.Num("pings", static_cast<double>(pings));
  j.Num("deliveries_per_s", std::round(deliveries_per_s));
  j.Num("delivery_span_s", delivery_span_s);
  j.Num("publish_s", publish_s);
  j.Num("window_s", window_s);
  j.Num("p50_ms", p50_ms);
  j.Num("p90_ms", p90_ms);
  j.Num("p99_ms", p99_ms);
  j.Num("p999_ms", p999_ms);
  j.Num("max_ms", max_ms);
  j.Num("mean_ms", mean_ms);
  j.Num("latency_over_10s", static_cast<double>(latency_overflow));
  j.Num("client_reads", static_cast<double>(reads));
  j.Num("client_frames", static_cast<double>(frames));
  j.Num("client_bytes", static_cast<double>(bytes));
  if (mode == "handshake") {
    j.Num("handshakes", static_cast<double>(subscribed));
    j.Num("handshake_span_s", handshake_span_s);
    j.Num("handshakes_per_s", std::round(handshakes_per_s));
    j.Num("handshake_subscribe", handshake_subscribe);
    j.Num("jwt", jwt);
    j.Num("server_us_per_handshake", PerDelivery(server_cpu_window_s, subscribed));
    j.Num("loadgen_us_per_handshake", PerDelivery(loadgen_cpu_window_s, subscribed));
  }
  if (mode == "channels") {
    j.Num("group_size", group_size);
    j.Num("groups", groups);
    j.Num("personal", personal);
    j.Num("personal_share", personal_share);
    j.Num("churn_per_s", churn);
    j.Num("churn_grace_s", churn_grace);
    j.Num("sessions", static_cast<double>(sessions));
    j.Num("leaves", static_cast<double>(leaves));
    j.Num("reconnects", static_cast<double>(reconnects));
    j.Num("reconnect_failures", static_cast<double>(reconnect_failures));
    j.Num("reconnect_p50_ms", reconnect_p50_ms);
    j.Num("reconnect_p99_ms", reconnect_p99_ms);
    j.Num("deliveries_not_kept", static_cast<double>(deliveries_not_kept));
  }
  if (slow_fraction > 0) {
    j.Num("slow_fraction", slow_fraction);
    j.Num("slow_subscribed", static_cast<double>(slow_subscribed));
    j.Num("healthy_subscribed", static_cast<double>(subscribed - slow_subscribed));
    j.Num("slow_received", static_cast<double>(slow_received));
    j.Num("baseline_received", static_cast<double>(baseline_received));
    j.Num("baseline_p50_ms", baseline_p50_ms);
    j.Num("baseline_p99_ms", baseline_p99_ms);
    j.Num("baseline_max_ms", baseline_max_ms);
    j.Num("healthy_p50_ms", p50_ms);
    j.Num("healthy_p99_ms", p99_ms);
    j.Num("healthy_p99_change_pct", baseline_p99_ms > 0 ? 100.0 * (p99_ms - baseline_p99_ms) / baseline_p99_ms : NAN);
    j.Num("slow_closed", static_cast<double>(SlowClosed()));
    j.Num("slow_closed_in_run", static_cast<double>(slow_closed_in_run));
    j.Num("slow_close_mean_s", slow_close_mean_s);
    j.Num("slow_close_max_s", slow_close_max_s);
    j.Num("slow_close_frame", static_cast<double>(slow_close_frame));
    j.Num("slow_close_frame_3008", static_cast<double>(slow_close_frame_3008));
    j.Num("slow_close_code", static_cast<double>(slow_close_code));
    j.Num("slow_eof", static_cast<double>(slow_eof));
    j.Num("slow_reset", static_cast<double>(slow_reset));
    j.Num("slow_open", static_cast<double>(slow_open));
    j.Num("slow_backlog_bytes_max", static_cast<double>(slow_backlog_bytes_max));
  }
  if (!rss_series_kb.empty()) {
    std::string series = "[";
    long hi = 0;
    for (size_t k = 0; k < rss_series_kb.size(); ++k) {
      series += Printf(k ? ",%ld" : "%ld", rss_series_kb[k]);
      hi = rss_series_kb[k] > hi ? rss_series_kb[k] : hi;
    }
    series += "]";
    j.Num("server_rss_max_kb", static_cast<double>(hi));
    j.Raw("server_rss_series_kb", series);
  }
  if (!latency_cdf.empty()) {
    std::string cdf = "[";
    for (size_t k = 0; k < latency_cdf.size(); ++k) {
      cdf += Printf(k ? ",[%g,%.3f]" : "[%g,%.3f]", latency_cdf[k].first, latency_cdf[k].second);
    }
    cdf += "]";
    j.Raw("latency_cdf_ms", cdf);
  }
  j.Num("loadgen_cpu_total_s", loadgen_cpu_total_s);
  j.Num("loadgen_cpu_window_s", loadgen_cpu_window_s);
  j.Num("loadgen_us_per_delivery", PerDelivery(loadgen_cpu_window_s, received));
  if (server_pid > 0) {
    j.Num("server_pid", server_pid);
    j.Num("server_cpu_publish_s", server_cpu_publish_s);
    j.Num("server_cpu_window_s", server_cpu_window_s);
    j.Num("server_cores", window_s > 0 && server_cpu_window_s >= 0 ? server_cpu_window_s / window_s : NAN);
    j.Num("server_us_per_delivery", PerDelivery(server_cpu_window_s, received));
    j.Num("server_rss_before_kb", static_cast<double>(server_rss_before_kb));
    j.Num("server_rss_subscribed_kb", static_cast<double>(server_rss_subscribed_kb));
    j.Num("server_rss_after_kb", static_cast<double>(server_rss_after_kb));
    j.Num("server_rss_per_conn_b", std::round(PerConn(server_rss_subscribed_kb, server_rss_before_kb, subscribed)));
    j.Num("server_rss_idle_end_kb", static_cast<double>(server_rss_idle_end_kb));
    j.Num("server_rss_idle_per_conn_b", std::round(PerConn(server_rss_idle_end_kb, server_rss_before_kb, subscribed)));
  } else {
    j.Null("server_pid");
  }
  j.Num("slab_per_conn_b", std::round(PerConn(slab_subscribed_kb, slab_before_kb, subscribed)));
  j.Num("slab_idle_per_conn_b", std::round(PerConn(slab_idle_end_kb, slab_before_kb, subscribed)));
  j.Num("cpus", cpus);
  j.Num("machine_cores_busy", window_s > 0 && machine_cpu_window_s >= 0 ? machine_cpu_window_s / window_s : NAN);
  j.Num("other_cores", OtherCores());
  j.Num("steal_s", steal_window_s);
  j.Num("loadavg_start", loadavg_start);
  j.Num("server_runqueue_wait_s", server_runqueue_s);
  j.Num("loadgen_runqueue_wait_s", loadgen_runqueue_s);
  return j.Done();
}

std::string Report::MarkdownHeader() const {
  return "| scenario | subs | publishes acked | deliveries | loss % | dup | deliveries/s | p50 ms | p90 ms | p99 ms | "
         "p99.9 ms | max ms | server CPU µs/delivery | server cores | loadgen cores | other cores | server RSS B/conn |\n"
         "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";
}

std::string Report::MarkdownRow() const {
  auto num = [](double v, const char* fmt) { return std::isfinite(v) && v >= 0 ? Printf(fmt, v) : std::string("n/a"); };
  double server_cores = window_s > 0 && server_cpu_window_s >= 0 ? server_cpu_window_s / window_s : NAN;
  double loadgen_cores = window_s > 0 && loadgen_cpu_window_s >= 0 ? loadgen_cpu_window_s / window_s : NAN;
  return Printf("| %s | %lld/%lld | %lld | %lld/%lld | %.3f | %lld | %.0f | %.2f | %.2f | %.2f | %.2f | %.2f | %s | %s | %s | %s | %s |\n",
                label.c_str(), static_cast<long long>(subscribed), static_cast<long long>(connections),
                static_cast<long long>(acked), static_cast<long long>(received), static_cast<long long>(expected),
                loss_pct, static_cast<long long>(duplicates), deliveries_per_s, p50_ms, p90_ms, p99_ms, p999_ms, max_ms,
                num(PerDelivery(server_cpu_window_s, received), "%.2f").c_str(), num(server_cores, "%.2f").c_str(),
                num(loadgen_cores, "%.2f").c_str(), num(OtherCores(), "%.2f").c_str(),
                num(PerConn(server_rss_subscribed_kb, server_rss_before_kb, subscribed), "%.0f").c_str());
}

}  // namespace instant::bench
