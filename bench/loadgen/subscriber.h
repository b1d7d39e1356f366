#pragma once
// Subscriber worker: one forked process holding up to ~9,000 WebSocket connections in one epoll
// loop (level-triggered, single thread).
//
// Per connection, in order:
//   1. socket(); bind(127.0.0.X:0) with IP_BIND_ADDRESS_NO_PORT (source spread, RFC-free port
//      choice at connect time); non-blocking connect(), paced at --connect-rate.
//   2. GET /connection/websocket upgrade with a random Sec-WebSocket-Key; the 101's
//      Sec-WebSocket-Accept is checked.
//   3. ONE masked text frame: {"id":1,"connect":{...}}\n{"id":2,"subscribe":{"channel":C}}
//      (channels mode: a third command for the personal channel; handshake mode: connect only
//      unless --handshake-subscribe; --token-secret: a JWT of its own in each connect).
//      (--protocol plain: nothing is sent; the server's {"subscribed":..} text frame = subscribed,
//      and any text line with "ts":/"seq": is a delivery. bench/servers/README.md.)
//   4. Every reply OK = subscribed. From then on: count publications, answer each `{}` ping
//      with a `{}` pong, answer WebSocket PING frames with PONG.
//      Handshake mode instead records the handshake's latency and closes the socket at once.
//
// Reads go into one worker-owned buffer (256 KB+, many frames per read). A connection keeps only
// the bytes of a partial frame between reads (a std::string whose capacity is reused), so there
// is no allocation per frame or per delivery. Publications are recognised by a memmem for
// "ts": and "seq": (no JSON parser); latency = read time - ts (CLOCK_MONOTONIC ns set by the
// publisher, valid across processes on one host).
//
// Sequence check: the publisher's connection c sends seq = c + k * streams (k = 0, 1, ...), one
// request at a time, so per (subscriber, stream) the seqs must arrive strictly increasing.
// A seq at or below the last one of its stream is a duplicate (or reordering), a jump is a gap.
// (Channels mode checks per session against the publish log instead: session_accounting.h.)
//
// Churn (channels mode, publish phase): --churn x connections per second, picked at random among
// the subscribed ones, send a close frame (1000), close the socket and reconnect at once (a new
// session). Slow subscribers (S7): every round(1/--slow-fraction)-th connection gets a small
// SO_RCVBUF and an Ethernet MSS and, from SharedState::slow_start_ns on, is no longer read; the
// worker looks at the server's end of those connections every 250 ms (sock_diag.h) to time their
// drop, and in kPhaseSlowCheck reads what they hold to see how the server ended them.

#include "options.h"
#include "publish_log.h"
#include "shared.h"

namespace instant::bench {

struct SubscriberConfig {
  const Options* options = nullptr;
  int worker = 0;           // index into SharedState::workers
  int first_conn = 0;       // global index of this worker's first connection (source address)
  int count = 0;            // connections of this worker
  int streams = 1;          // publisher streams (= --pub-conns)
  SharedState* shared = nullptr;
  const PublishLog* log = nullptr;  // channels mode: the publisher's record of every publish
  int result_fd = -1;       // write end of the result pipe
};

// Runs the worker until the coordinator sets kPhaseFinish (or a hard deadline passes), writes
// its WorkerResult + histograms to result_fd, and returns the process exit code.
int RunSubscriberWorker(const SubscriberConfig& config);

}  // namespace instant::bench
