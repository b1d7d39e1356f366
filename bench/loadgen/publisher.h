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
// subscriber check ordering per (connection) stream. In rate mode that is also the slot number,
// unique per publish.
//
// Channels mode (S5): slot k goes to a channel drawn from a hash of k (a personal channel with
// probability --personal-share, else a group channel), named <channel>.g<id> / <channel>.u<i>,
// and is recorded in the shared PublishLog (send and ack times) for the session accounting. The
// drain there ends when no delivery arrived for 0.5 s: the expected count is only known after
// the run.
//
// S7 (--slow-fraction): the schedule covers 2 x --duration (baseline half, slow half).

#include <cstdint>
#include <string>
#include <vector>

#include "histogram.h"
#include "options.h"
#include "publish_log.h"
#include "shared.h"
#include "util.h"

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
  // `subscribers` = connections expected to receive every publish (fanout mode: those subscribed
  // and reading when the publish phase starts). `log`: channels mode only.
  Publisher(const Options& options, SharedState* shared, int procs, int64_t subscribers, PublishLog* log);
  ~Publisher();

  // Opens the keep-alive connections. False (with *error) if none can be opened.
  bool Connect(std::string* error);

  // Runs the publish phase from t0 for --duration (x2 with slow subscribers), then drains:
  // returns when every request is answered and all expected deliveries arrived, or at
  // drain_deadline. Calls on_publish_end once when the publish phase ends (the coordinator
  // samples CPU there) and on_second about once a second (RSS samples).
  template <typename F, typename G>
  void Run(int64_t t0, F&& on_publish_end, G&& on_second);

  // Channels mode: slots in the schedule (= records the log needs).
  static int64_t Slots(const Options& options);

  const PublisherStats& stats() const { return stats_; }
  int64_t ReceivedTotal() const;

 private:
  struct Conn {
    int fd = -1;
    bool busy = false;        // a request is in flight
    int64_t next_k = 0;       // this connection's next k (seq = index + C*k)
    int64_t sent_at = 0;      // actual write time of the request in flight
    int64_t slot = -1;        // its slot (rate mode), for the publish log
    std::string out;          // request bytes not yet written
    std::string in;           // response bytes so far
  };

  bool OpenConn(Conn& c, std::string* error);
  void SendRequest(Conn& c, int index, int64_t ts, int64_t now);
  // Channels mode: the channel of slot `slot`, its name into channel_.
  uint32_t PickChannel(int64_t slot);
  void LogAck(const Conn& c, bool ok, int64_t now);
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
  double publish_s_ = 0;
  PublishLog* log_ = nullptr;
  ChannelLayout layout_;
  std::string channel_;       // the channel of the request being built
  int64_t last_received_ = -1;     // channels mode drain: deliveries at the last change
  int64_t last_change_ns_ = 0;
  std::string pad_;
  int64_t next_progress_ns_ = 0;
  int64_t next_second_ns_ = 0;
  int64_t last_progress_received_ = 0;
};

template <typename F, typename G>
void Publisher::Run(int64_t t0, F&& on_publish_end, G&& on_second) {
  const int64_t publish_end = t0 + static_cast<int64_t>(publish_s_ * 1e9);
  // Overdue rate-mode slots may still go out during the drain window; nothing after it.
  const int64_t drain_deadline = publish_end + static_cast<int64_t>(opt_.drain * 1e9);
  bool publish_over = false;
  bool notified = false;
  next_progress_ns_ = t0 + 1'000'000'000;
  next_second_ns_ = t0 + 1'000'000'000;
  for (;;) {
    bool more = Step(t0, publish_end, drain_deadline, &publish_over);
    if (NowNs() >= next_second_ns_) {
      next_second_ns_ += 1'000'000'000;
      on_second();
    }
    if (publish_over && !notified) {
      notified = true;
      on_publish_end();
    }
    if (!more) break;
  }
  if (!notified) on_publish_end();
}

}  // namespace instant::bench
