#pragma once
// Hub: the per-loop channel index and fan-out step (uWS TopicTree, Dragonfly ChannelStore in spirit).
//
// Data structures:
//   channel name -> Channel { members: [ (Subscriber*, index into subscriber's subs) ] }
//   Subscriber   -> subs: [ Subscription { Channel*, position in channel's members } ]
// Both sides hold each other's index, so subscribe and unsubscribe are O(1) (swap-remove on both
// vectors, fixing the moved element's back-index) and a disconnect is O(channels of the client).
//
// Delivery: Deliver(frame) looks the channel up once and queues a pointer to the shared frame bytes
// on each member's connection (net::Conn::WriteShared); the loop keeps the frame alive until its
// end-of-iteration flush. No per-subscriber allocation, copy or refcount operation. Per member it
// touches the Member (sequential) and the first bytes of its net::Conn, never the Subscriber
// (Member carries the connection and the version), and it prefetches the connections a few
// members ahead: with many subscribers those lines come from DRAM, and waiting for them one by
// one, not the instructions, would set the time.
//
// Threading: one Hub per loop; every method must be called on that loop's thread. Other loops
// reach it only through Loop::Post. Lifetime: a Subscriber must RemoveAll() before it dies.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "hub/channel_registry.h"
#include "hub/frame.h"

namespace instant::net {
class Conn;
class Loop;
}  // namespace instant::net

namespace instant::hub {

struct Channel;
class Subscriber;

// One subscription of one subscriber. Stored in the subscriber; the hub maintains `position`.
struct Subscription {
  Channel* channel = nullptr;
  uint32_t position = 0;      // index in channel->members
  bool server_side = false;   // subscribed by the server (token "channels" claim / API)
  int64_t expires_at = 0;     // subscription token expiry, Unix seconds; 0 = never
  bool presence = false;      // the session keeps a presence entry for this channel
  bool join_leave = false;    // the session announces its join/leave in this channel
  std::string chan_info;      // raw JSON from the subscription token's info ("" = none)
};

// One member of a channel. Deliver reads only this and the member's connection: `conn` and `v1`
// are copies of the subscriber's (conn() is fixed at construction; Subscriber::set_v1 updates
// the copies), so the fan-out does not load the Subscriber's cache line for each member.
struct Member {
  net::Conn* conn;          // subscriber->conn()
  Subscriber* subscriber;
  uint32_t index;           // index in subscriber->subs()
  bool v1 = false;          // subscriber->v1(): which encoding the member receives
  bool positioned = false;  // track the stream position (spec §6.2)
  bool wants_join_leave = false;  // receives join/leave pushes
  // Joined before its stream position is known (a subscribe reading history from an engine that
  // answers later): publications go to Subscriber::OnBuffered instead of the socket.
  bool buffering = false;
  uint64_t offset = 0;      // positioned: offset of the last publication this member has
};

struct Channel {
  std::string name;
  std::string epoch;  // stream epoch seen by positioned members ("" until known)
  std::vector<Member> members;
  uint32_t positioned_members = 0;
  // The stream top read at the previous position check (CheckPositions); offset 0 = none yet.
  uint64_t checked_offset = 0;
  std::string checked_epoch;
};

// The delivery side of a client session: where frames go and which encoding it reads.
class Subscriber {
 public:
  Subscriber(net::Conn* conn, bool v1) : conn_(conn), v1_(v1) {}
  virtual ~Subscriber() = default;
  // A positioned subscription missed a publication or its stream changed epoch (spec §6.2).
  // Called after the delivery loop, never during it; the subscriber may unsubscribe or close.
  virtual void OnInsufficientState(std::string_view channel) {}
  // A publication for a member that is buffering (Hub::Add with buffering); the subscriber keeps
  // the reference and writes it, or not, once it knows its position (Hub::EndBuffering).
  virtual void OnBuffered(const PubFrameRef& frame) {}
  net::Conn* conn() const { return conn_; }
  bool v1() const { return v1_; }
  // Sessions fix their version before they first subscribe (at the upgrade or with their first
  // message); changing it later is allowed and also updates the copies in the channels' members
  // (linear in the subscriptions).
  void set_v1(bool v1);
  const std::vector<Subscription>& subs() const { return subs_; }
  std::vector<Subscription>& mutable_subs() { return subs_; }

 private:
  friend class Hub;
  net::Conn* conn_;
  bool v1_;
  std::vector<Subscription> subs_;
};

class Hub {
 public:
  // `registry` (optional) receives every membership change, node-wide.
  explicit Hub(net::Loop* loop, ChannelRegistry* registry = nullptr) : loop_(loop), registry_(registry) {}
  Hub(const Hub&) = delete;
  Hub& operator=(const Hub&) = delete;

  // Index of `channel` in s->subs(), or -1. Linear in the subscriber's channel count (bounded by
  // client_channel_limit).
  int Find(const Subscriber* s, std::string_view channel) const;
  // Adds the subscription (caller checked it is not present). Returns its index in s->subs().
  // A positioned subscription starts at stream position (offset, epoch): publications at or below
  // that offset are skipped as late duplicates, a gap or another epoch is insufficient state.
  // With `buffering`, publications are handed to s->OnBuffered until EndBuffering.
  size_t Add(Subscriber* s, std::string_view channel, bool server_side, int64_t expires_at,
             bool positioned = false, uint64_t offset = 0, std::string_view epoch = {},
             bool wants_join_leave = false, bool buffering = false);
  // The buffering member s->subs()[index] now has the stream position (offset, epoch): later
  // publications go to its socket and are checked against it.
  void EndBuffering(Subscriber* s, size_t index, uint64_t offset, std::string_view epoch);
  // Removes s->subs()[index]. Indexes of s's other subscriptions may change (swap-remove).
  void Remove(Subscriber* s, size_t index);
  void RemoveAll(Subscriber* s);

  // Queues the frame on every local member of frame->channel. Returns the number of deliveries.
  size_t Deliver(const PubFrameRef& frame);

  // Periodic position check (spec §6.2, client_channel_position_check_delay), which catches
  // publications lost on their way (e.g. a Redis PUB/SUB message dropped while a node
  // reconnected). The caller reads each positioned channel's stream top and reports it here.
  // Members are compared with the top reported by the PREVIOUS check, not this one: every
  // publication up to that older top has certainly reached this loop by now, so one still in
  // flight is never mistaken for a loss. Members below it get OnInsufficientState.
  // Unknown channels (everyone left meanwhile) are ignored.
  void CheckPositions(std::string_view channel, uint64_t top_offset, std::string_view top_epoch);
  // Calls fn(name) for every channel with positioned members on this loop.
  template <typename Fn>
  void ForEachPositionedChannel(Fn&& fn) const {
    for (const auto& [name, ch] : channels_) {
      if (ch->positioned_members > 0) fn(std::string_view(ch->name));
    }
  }

  size_t num_channels() const { return channels_.size(); }
  size_t num_subscriptions() const { return num_subscriptions_; }
  // Number of local subscribers of `channel`.
  size_t CountMembers(std::string_view channel) const;
  // Calls fn(name, members) for every channel (API `channels`).
  template <typename Fn>
  void ForEachChannel(Fn&& fn) const {
    for (const auto& [name, ch] : channels_) fn(std::string_view(ch->name), ch->members.size());
  }

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct Eq {
    using is_transparent = void;
    bool operator()(std::string_view a, std::string_view b) const { return a == b; }
  };

  net::Loop* loop_;
  ChannelRegistry* registry_;
  // Keys view the Channel's own name (stable: Channel is heap-allocated).
  std::unordered_map<std::string_view, std::unique_ptr<Channel>, Hash, Eq> channels_;
  size_t num_subscriptions_ = 0;
  std::vector<Subscriber*> lost_;  // scratch: members in insufficient state during Deliver

  // Tells each subscriber in lost_ (after the caller's loop over members: handlers unsubscribe,
  // which reorders them).
  void NotifyLost(std::string_view channel);
};

}  // namespace instant::hub
