#pragma once
// FanoutFixture: the state Hub::Deliver runs against in the server, for measuring it in process.
//
// One net::Loop, one hub::Hub and `subscribers` members of one channel. Each subscriber is a real
// net::Conn and hub::Subscriber in one object, as node::Connection is (Conn + client::Session),
// padded to that object's size so that N of them span as much memory as N server connections.
// Deliver() calls the real Hub::Deliver; EndIteration() runs the real end of a loop iteration
// (Loop::RunOnce: one writev per connection, arena and frame holds released), so every delivery
// starts from the state between two publications in the server: no connection dirty, nothing
// queued.
//
// Sinks:
//   kSocketPair  each connection owns one end of a Unix socketpair, registered with the loop's
//                epoll like an accepted socket; EndIteration reads the other ends empty. Needs two
//                descriptors per subscriber (FitsSocketPairs).
//   kDevNull     every connection writes to one shared /dev/null descriptor, not registered with
//                epoll: for more subscribers than RLIMIT_NOFILE allows sockets. Hub::Deliver does
//                not touch the descriptor, so the measured path is the same; only the untimed
//                flush is cheaper.
// Positioned fixtures subscribe every member as positioned (history channel) at offset 0; each
// Deliver() sends the next offset, so every member takes the in-order branch.
//
// Threading: single-threaded, like a loop. Not copyable.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "hub/frame.h"
#include "hub/hub.h"
#include "net/loop.h"

namespace instant::bench {

class BenchClient;

class FanoutFixture {
 public:
  enum class Sink { kSocketPair, kDevNull };

  FanoutFixture(size_t subscribers, Sink sink, bool positioned);
  ~FanoutFixture();
  FanoutFixture(const FanoutFixture&) = delete;
  FanoutFixture& operator=(const FanoutFixture&) = delete;

  // True when RLIMIT_NOFILE leaves room for `subscribers` socket pairs.
  static bool FitsSocketPairs(size_t subscribers);

  size_t subscribers() const { return clients_.size(); }
  hub::Hub& hub() { return hub_; }
  net::Loop& loop() { return loop_; }
  // The publication to deliver next (a 100-byte JSON payload, v2 encoding).
  const hub::PubFrameRef& frame() const { return frame_; }

  // Hub::Deliver of frame() (not timed by the fixture: callers time it). Returns its result.
  size_t Deliver() { return hub_.Deliver(frame_); }
  // Ends the loop iteration (flush, release) and empties the peers' sockets; a positioned
  // fixture then moves frame() to the next offset. Call after every Deliver.
  void EndIteration();

 private:
  net::Loop loop_{0};
  hub::Hub hub_{&loop_};
  Sink sink_;
  std::vector<BenchClient*> clients_;  // owned (deleted in the destructor)
  std::vector<int> peers_;             // kSocketPair: the other end of each connection's socket
  int shared_fd_ = -1;                 // kDevNull: the descriptor every connection writes to
  int spare_fd_ = -1;                  // kDevNull: re-creates shared_fd_ at teardown (see .cc)
  hub::PubFrameRef frame_;
  hub::PubFrame* mutable_frame_ = nullptr;  // frame_, to advance its offset between deliveries
  std::string payload_;
  std::vector<char> drain_buffer_;
};

}  // namespace instant::bench
