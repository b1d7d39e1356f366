#pragma once
// Publisher: --pub-conns keep-alive HTTP/1.1 connections POSTing /api/publish, one request in
// flight per connection, driven by the coordinator's epoll loop (no threads).
//
// Body: {"channel":C,"data":{"ts":<CLOCK_MONOTONIC ns>,"seq":<n>,"pad":"xx..."}} with `data`
// exactly --payload-size bytes (or the minimum that fits ts and seq).
//
// Two modes:
//  * rate R > 0 (latency mode, open loop): slot k is scheduled at t0 + k/R for k < R*D and is
//    sent by connection k % C. ts = the SCHEDULED time, so a late send (server slow to answer
//    the previous request) shows up as latency: no coordinated omission.
//  * rate 0 (saturation, closed loop): every idle connection sends at once while fewer than
//    --window publishes are "in flight end to end", i.e. sent but not yet delivered to all
//    subscribers (estimated as sent - received_total / subscribers, read from shared memory).
//    ts = the actual send time. An HTTP-only window would let the server accept publishes far
//    faster than it can fan them out and grow its queues without bound; this one measures the
//    delivery rate the server sustains at a bounded queue depth.
//
// In both modes connection c sends seq = c + C*k (k = 0, 1, ...), which is what lets every
// subscriber check ordering per (connection) stream.

#include <cstdint>
#include <string>
#include <vector>

#include "histogram.h"
#include "options.h"
#include "shared.h"

namespace instant::bench {

struct PublisherStats {
  int64_t scheduled = 0;      // rate mode: slots in the schedule
  int64_t sent = 0;           // requests written
  int64_t acked = 0;          // HTTP 200 without "error"
  int64_t api_errors = 0;     // HTTP != 200 or an "error" body
  int64_t conn_errors = 0;    // connection failed/closed with a request in flight
  int64_t late_sends = 0;     // rate mode: sent > 1 ms after the scheduled time
  int64_t window_stalls = 0;  // saturation: times every idle connection waited for the window
  int64_t publish_end_ns = 0; // when the last publish was sent / the publish phase ended
  std::string first_error;
  LatencyHistogram ack_latency;  // request write -> full response
};

class Publisher {
 public:
  // `subscribers` = connections subscribed when the publish phase starts.
  Publisher(const Options& options, SharedState* shared, int procs, int64_t subscribers);
  ~Publisher();

  // Opens the keep-alive connections. False (with *error) if none can be opened.
  bool Connect(std::string* error);

  // Runs the publish phase from t0 for --duration, then drains: returns when every request is
  // answered and all expected deliveries arrived, or at drain_deadline. Calls on_publish_end
  // once when the publish phase ends (the coordinator samples CPU there).
  template <typename F>
  void Run(int64_t t0, F&& on_publish_end);

  const PublisherStats& stats() const { return stats_; }
  int64_t ReceivedTotal() const;

 private:
  struct Conn {
    int fd = -1;
    bool busy = false;        // a request is in flight
    int64_t next_k = 0;       // this connection's next k (seq = index + C*k)
    int64_t sent_at = 0;      // actual write time of the request in flight
    std::string out;          // request bytes not yet written
    std::string in;           // response bytes so far
  };

  bool OpenConn(Conn& c, std::string* error);
  void SendRequest(Conn& c, int index, int64_t ts, int64_t now);
  void OnEvent(int index, uint32_t events, int64_t now);
  // Returns true when a complete response was consumed from c.in.
  bool TryParseResponse(Conn& c, int64_t now, bool* close_after);
  void ConnFailed(Conn& c, const char* why);
  void NoteError(const std::string& e) {
    if (stats_.first_error.empty()) stats_.first_error = e.substr(0, 200);
  }
  // One step of the loop; returns false when the publisher is done.
  bool Step(int64_t t0, int64_t publish_end, int64_t drain_deadline, bool* publish_over);
  void ProgressLine(int64_t t0, int64_t now);

  const Options& opt_;
  SharedState* shared_;
  int procs_;
  int64_t subscribers_;
  std::vector<Conn> conns_;
  PublisherStats stats_;
  int ep_ = -1;
  int64_t total_slots_ = 0;
  std::string pad_;
  int64_t next_progress_ns_ = 0;
  int64_t last_progress_received_ = 0;
};

template <typename F>
void Publisher::Run(int64_t t0, F&& on_publish_end) {
  const int64_t publish_end = t0 + static_cast<int64_t>(opt_.duration * 1e9);
  // Overdue rate-mode slots may still go out during the drain window; nothing after it.
  const int64_t drain_deadline = publish_end + static_cast<int64_t>(opt_.drain * 1e9);
  bool publish_over = false;
  bool notified = false;
  next_progress_ns_ = t0 + 1'000'000'000;
  for (;;) {
    bool more = Step(t0, publish_end, drain_deadline, &publish_over);
    if (publish_over && !notified) {
      notified = true;
      on_publish_end();
    }
    if (!more) break;
  }
  if (!notified) on_publish_end();
}

}  // namespace instant::bench
