#pragma once
// The publisher's record of every publish of a channels-mode run (S5), in shared memory so that
// the subscriber workers can decide, after the run, which publishes each of their sessions had to
// receive (session_accounting.h). Slot k of the schedule is publish seq k, so a delivery's seq
// indexes its record directly.
//
// Single writer (the publisher, in the coordinator); the workers read it only once the
// coordinator set kPhaseFinish (release/acquire on SharedState::phase), when no write is left.

#include <atomic>
#include <cstdint>

namespace instant::bench {

struct PublishRecord {
  std::atomic<int64_t> send_ns{0};  // CLOCK_MONOTONIC when the request was written; 0 = never sent
  std::atomic<int64_t> ack_ns{0};   // when the 200 without "error" arrived; 0 = no answer, -1 = failed
  uint32_t channel = 0;             // channel id (ChannelLayout)
  uint32_t reserved = 0;
};

struct PublishLog {
  int64_t capacity = 0;  // records that follow
  PublishRecord records[1];

  static size_t BytesFor(int64_t capacity) {
    return sizeof(PublishLog) + static_cast<size_t>(capacity) * sizeof(PublishRecord);
  }
};

// How the channels of a channels-mode run are numbered and named. Connection i (global index)
// is on group channel i / group_size and, with personal channels, on its own one.
struct ChannelLayout {
  int connections = 0;
  int group_size = 10;
  bool personal = true;

  int groups() const { return (connections + group_size - 1) / group_size; }
  uint32_t GroupOf(int conn) const { return static_cast<uint32_t>(conn / group_size); }
  uint32_t PersonalOf(int conn) const { return static_cast<uint32_t>(groups() + conn); }
  uint32_t channels() const { return static_cast<uint32_t>(groups() + (personal ? connections : 0)); }
  // Members of a channel when every connection is subscribed.
  int Members(uint32_t id) const {
    if (id >= static_cast<uint32_t>(groups())) return 1;
    int first = static_cast<int>(id) * group_size;
    return connections - first < group_size ? connections - first : group_size;
  }
};

}  // namespace instant::bench
