// Stateful libFuzzer target for the hub (server/src/hub/hub.h): the input is a program of
// operations over 8 subscribers and 6 channels (+1 name nobody joins), run against one Hub and
// against a plain model kept here (std::map), and every invariant is compared after EVERY
// operation. Any disagreement prints the operation and the invariant, then aborts.
//
// Operations (one opcode byte, then argument bytes; a missing byte reads as 0):
//   subscribe    s, c, positioned, join/leave flag, server_side, start offset (stream top, top-1,
//                explicit) and epoch ("", stream epoch, "A", "B")
//   unsubscribe  s, c   (Find + Remove)
//   remove_all   s      (disconnect)
//   deliver      c, publication or join/leave, offset (none, next, gap, repeat, explicit), epoch
//                (stream's, "A", "B", ""), with or without a v1 encoding; a "new epoch" mode
//                moves the fake stream to another epoch
//   check        c, top offset and epoch (Hub::CheckPositions)
//   reaction     s, what the subscriber does in OnInsufficientState: nothing, unsubscribe from
//                that channel, or remove all its subscriptions (the server's session does the last
//                two; they run while the hub is notifying)
//   set_v1       s, protocol version of the subscriber (which encoding it receives), also while
//                subscribed (the server fixes it before the first subscribe; the hub allows both)
//   flush        loop.RunOnce(0), then every peer socket is read and compared byte for byte
//
// Invariants checked after every operation:
//  * each subscriber's subs() and each channel's members agree both ways (back-indexes), with the
//    model's membership, per-member positioned/join_leave/offset, server_side and expires_at;
//  * num_subscriptions, num_channels, CountMembers, Find, positioned_members, ForEachChannel,
//    ForEachPositionedChannel (exactly the channels with positioned members), the channel's
//    epoch and last checked top, and the ChannelRegistry's totals match the model;
//  * Deliver's return value is the model's delivered count, and each connection's queued_bytes()
//    is exactly the bytes the model says it was given since the last flush;
//  * OnInsufficientState is called exactly for the members the model predicts (gap, epoch
//    change, below the previous check's top), once each, with the right channel name;
//  * at a flush and at the end of the input, each peer socket receives exactly the model's bytes,
//    in order (frames carry a sequence number, distinct bytes for v1/v2 and publication/join-leave).
// The loop, sockets and subscribers are created once and reused; each input ends by removing all
// subscriptions and draining the sockets, so nothing grows across inputs.

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "hub/channel_registry.h"
#include "hub/frame.h"
#include "hub/hub.h"
#include "net/conn.h"
#include "net/loop.h"

namespace {

using instant::hub::Channel;
using instant::hub::ChannelRegistry;
using instant::hub::Hub;
using instant::hub::Member;
using instant::hub::PubFrame;
using instant::hub::PubFrameRef;
using instant::hub::Subscriber;
using instant::hub::Subscription;

constexpr int kSubs = 8;
constexpr int kChannels = 6;  // index kChannels is a name nobody subscribes to
// Different lengths, one past the SSO size, so that a view of a freed channel name is caught.
const char* const kNames[kChannels + 1] = {
    "a", "news", "chat:room", "$private", "stream#1",
    "a-channel-name-longer-than-any-small-string-buffer", "nobody"};
const char* const kEpochs[] = {"", "A", "B", "C"};

char g_op[256];  // current operation, for the failure message (snprintf: no allocation per op)
uint64_t g_ops = 0;  // operations run so far (picks which non-member Find is checked)

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "hub_fuzz: invariant violated after %s: %s\n", g_op, what.c_str());
  std::abort();
}
void Check(bool ok, const char* what) {
  if (!ok) Fail(what);
}

int ChannelIndex(std::string_view name) {
  for (int i = 0; i <= kChannels; ++i) {
    if (name == kNames[i]) return i;
  }
  return -1;
}

class SinkConn : public instant::net::Conn {
 public:
  using instant::net::Conn::Conn;

 protected:
  size_t OnRead(char*, size_t size) override { return size; }
  void OnClose() override { Fail("a connection closed"); }
};

enum Reaction : uint8_t { kRecord, kUnsubscribe, kRemoveAll };

struct Lost {
  int sub;
  int channel;
  bool operator<(const Lost& o) const { return std::pair(sub, channel) < std::pair(o.sub, o.channel); }
  bool operator==(const Lost& o) const { return sub == o.sub && channel == o.channel; }
};

Hub* g_hub = nullptr;
std::vector<Lost> g_lost;  // OnInsufficientState calls of the current operation

class FuzzSubscriber : public Subscriber {
 public:
  FuzzSubscriber(instant::net::Conn* conn, int id) : Subscriber(conn, false), id_(id) {}
  Reaction reaction = kRecord;

  void OnInsufficientState(std::string_view channel) override {
    const int c = ChannelIndex(channel);
    Check(c >= 0 && c < kChannels, "OnInsufficientState names a known channel");
    g_lost.push_back({id_, c});
    const int index = g_hub->Find(this, channel);
    Check(index >= 0, "OnInsufficientState only for a member");
    if (reaction == kUnsubscribe) g_hub->Remove(this, static_cast<size_t>(index));
    if (reaction == kRemoveAll) g_hub->RemoveAll(this);
  }

 private:
  int id_;
};

// ---- the model ---------------------------------------------------------------------------------

struct MMember {
  bool positioned = false;
  bool join_leave = false;
  bool server_side = false;
  int64_t expires_at = 0;
  uint64_t offset = 0;
};

struct MSub {
  std::map<int, MMember> subs;  // channel -> membership
  Reaction reaction = kRecord;
  bool v1 = false;
  size_t queued = 0;     // bytes given since the last flush (= conn->queued_bytes())
  std::string expected;  // bytes the peer must read at the next drain
};

struct MChannel {  // exists while it has members
  std::string epoch;
  uint64_t checked_offset = 0;
  std::string checked_epoch;
};

struct Stream {  // what the broker would have: survives the channel's local lifetime
  uint64_t top = 0;
  int epoch = 1;
};

struct World {
  instant::net::Loop loop{0};
  ChannelRegistry registry;
  Hub hub{&loop, &registry};
  int peers[kSubs];
  SinkConn* conns[kSubs];
  std::unique_ptr<FuzzSubscriber> subs[kSubs];

  World() {
    g_hub = &hub;
    for (int i = 0; i < kSubs; ++i) {
      int fds[2];
      if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds) != 0) Fail("socketpair");
      int size = 1 << 20;  // room for a whole input's deliveries
      setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
      setsockopt(fds[1], SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
      peers[i] = fds[1];
      conns[i] = new SinkConn(&loop, fds[0]);  // owned by the loop; lives for the process
      if (!conns[i]->Start()) Fail("Conn::Start");
      subs[i] = std::make_unique<FuzzSubscriber>(conns[i], i);
    }
  }
};

World* g_world = nullptr;
MSub g_m[kSubs];
std::map<int, MChannel> g_ch;
Stream g_stream[kChannels + 1];
uint64_t g_seq = 0;

size_t ModelCount(int c) {
  size_t n = 0;
  for (const MSub& s : g_m) n += s.subs.count(c);
  return n;
}

void ModelRemove(int s, int c) {
  g_m[s].subs.erase(c);
  if (ModelCount(c) == 0) g_ch.erase(c);
}

void ModelRemoveAll(int s) {
  std::vector<int> cs;
  for (const auto& [c, m] : g_m[s].subs) cs.push_back(c);
  for (int c : cs) ModelRemove(s, c);
}

// Compares the OnInsufficientState calls of this operation with the model's prediction, then
// applies the subscribers' reactions to the model.
void ExpectLost(std::vector<Lost> predicted) {
  std::vector<Lost> got = g_lost;
  g_lost.clear();
  std::sort(got.begin(), got.end());
  std::sort(predicted.begin(), predicted.end());
  if (got != predicted) {
    std::string msg = "OnInsufficientState calls: got {";
    for (const Lost& l : got) msg += " s" + std::to_string(l.sub) + "/c" + std::to_string(l.channel);
    msg += " } expected {";
    for (const Lost& l : predicted)
      msg += " s" + std::to_string(l.sub) + "/c" + std::to_string(l.channel);
    Fail(msg + " }");
  }
  for (const Lost& l : predicted) {
    if (g_m[l.sub].reaction == kUnsubscribe) ModelRemove(l.sub, l.channel);
    if (g_m[l.sub].reaction == kRemoveAll) ModelRemoveAll(l.sub);
  }
}

// ---- invariants --------------------------------------------------------------------------------

void CheckInvariants() {
  World& w = *g_world;
  Hub& hub = w.hub;
  Check(g_lost.empty(), "no unexpected OnInsufficientState");
  size_t total = 0;
  const Channel* chans[kChannels + 1] = {};
  for (int s = 0; s < kSubs; ++s) {
    const FuzzSubscriber* sub = w.subs[s].get();
    const MSub& m = g_m[s];
    Check(sub->v1() == m.v1, "subscriber version");
    const auto& subs = sub->subs();
    if (subs.size() != m.subs.size()) Fail("subscriber " + std::to_string(s) + " subs().size()");
    total += subs.size();
    for (size_t i = 0; i < subs.size(); ++i) {
      const Subscription& x = subs[i];
      Check(x.channel != nullptr, "subscription has a channel");
      const int c = ChannelIndex(x.channel->name);
      Check(c >= 0 && c < kChannels, "subscription channel name");
      Check(chans[c] == nullptr || chans[c] == x.channel, "one Channel object per name");
      chans[c] = x.channel;
      auto it = m.subs.find(c);
      Check(it != m.subs.end(), "subscription in the model");
      Check(hub.Find(sub, x.channel->name) == static_cast<int>(i), "Find returns the index");
      Check(x.position < x.channel->members.size(), "position inside members");
      const Member& mem = x.channel->members[x.position];
      Check(mem.subscriber == sub, "member back-index: subscriber");
      // Deliver reads these copies, not the subscriber (set_v1 after subscribing updates them).
      Check(mem.conn == sub->conn(), "member connection");
      Check(mem.v1 == sub->v1(), "member version");
      Check(mem.index == i, "member back-index: index");
      Check(mem.positioned == it->second.positioned, "member positioned flag");
      Check(mem.wants_join_leave == it->second.join_leave, "member join_leave flag");
      Check(mem.offset == it->second.offset, "member offset");
      Check(x.server_side == it->second.server_side, "subscription server_side kept");
      Check(x.expires_at == it->second.expires_at, "subscription expires_at kept");
    }
    const int probe = static_cast<int>((g_ops + s) % (kChannels + 1));  // one name per check
    if (!m.subs.count(probe)) Check(hub.Find(sub, kNames[probe]) == -1, "Find of a non-member is -1");
    Check(w.conns[s]->queued_bytes() == m.queued, "queued bytes = model deliveries since flush");
  }
  Check(hub.num_subscriptions() == total, "num_subscriptions = sum of subs()");
  Check(w.registry.num_subscriptions() == static_cast<int64_t>(total), "registry subscriptions");
  // Counted once here, and sets as bit masks: this runs after every operation, and allocations
  // under ASan (a stack unwind each) made it most of the target's time.
  size_t counts[kChannels + 1] = {};
  for (const MSub& m : g_m) {
    for (const auto& [c, mm] : m.subs) ++counts[c];
  }
  size_t nchannels = 0;
  uint32_t positioned_expected = 0;
  for (int c = 0; c <= kChannels; ++c) {
    const size_t count = counts[c];
    if (hub.CountMembers(kNames[c]) != count) Fail("CountMembers(" + std::string(kNames[c]) + ")");
    Check((count > 0) == (g_ch.count(c) > 0), "model channel state exists iff members");
    if (count == 0) {
      Check(chans[c] == nullptr, "no Channel without members");
      continue;
    }
    ++nchannels;
    const Channel* ch = chans[c];
    Check(ch != nullptr && ch->members.size() == count, "members.size()");
    uint32_t positioned = 0;
    for (size_t j = 0; j < ch->members.size(); ++j) {
      const Member& mem = ch->members[j];
      bool ours = false;
      for (int s = 0; s < kSubs; ++s) ours |= mem.subscriber == w.subs[s].get();
      Check(ours, "member is a known subscriber");
      Check(mem.index < mem.subscriber->subs().size(), "member index inside subs()");
      const Subscription& x = mem.subscriber->subs()[mem.index];
      Check(x.channel == ch && x.position == j, "subscription back-index");
      positioned += mem.positioned ? 1 : 0;
    }
    Check(ch->positioned_members == positioned, "positioned_members = positioned members");
    if (positioned > 0) positioned_expected |= 1u << c;
    const MChannel& mc = g_ch[c];
    Check(ch->epoch == mc.epoch, "channel epoch");
    Check(ch->checked_offset == mc.checked_offset, "checked offset");
    Check(ch->checked_epoch == mc.checked_epoch, "checked epoch");
  }
  Check(hub.num_channels() == nchannels, "num_channels");
  Check(w.registry.num_channels() == static_cast<int64_t>(nchannels), "registry channels");
  uint32_t listed = 0;
  hub.ForEachPositionedChannel([&](std::string_view name) {
    const int c = ChannelIndex(name);
    Check(c >= 0 && (listed & (1u << c)) == 0, "ForEachPositionedChannel lists a channel once");
    listed |= 1u << c;
  });
  Check(listed == positioned_expected, "ForEachPositionedChannel = channels with positioned members");
  size_t listed_all = 0;
  hub.ForEachChannel([&](std::string_view name, size_t members) {
    const int c = ChannelIndex(name);
    Check(c >= 0 && members == counts[c] && members > 0, "ForEachChannel counts");
    ++listed_all;
  });
  Check(listed_all == nchannels, "ForEachChannel lists every channel once");
}

// Flushes the loop and checks that every peer reads exactly the model's bytes. `all`: read every
// peer, also those the model gave nothing since the last drain (end of input); otherwise only those
// with expected bytes (their read also returns anything unexpected that came before).
void FlushAndVerify(bool all) {
  World& w = *g_world;
  w.loop.RunOnce(0);
  char buf[65536];
  for (int s = 0; s < kSubs; ++s) {
    MSub& m = g_m[s];
    m.queued = 0;
    if (!all && m.expected.empty()) continue;
    std::string got;
    for (int round = 0; round < 100; ++round) {
      ssize_t n;
      while ((n = ::read(w.peers[s], buf, sizeof(buf))) > 0) got.append(buf, static_cast<size_t>(n));
      if (got.size() >= m.expected.size()) break;
      w.loop.RunOnce(0);  // backlog left by a short writev
    }
    if (got != m.expected) {
      Fail("subscriber " + std::to_string(s) + " read \"" + got.substr(0, 200) +
           "\" expected \"" + m.expected.substr(0, 200) + "\"");
    }
    m.expected.clear();
    Check(w.conns[s]->queued_bytes() == 0, "flushed");
  }
}

// ---- operations --------------------------------------------------------------------------------

struct Reader {
  const uint8_t* p;
  const uint8_t* end;
  bool done() const { return p >= end; }
  uint8_t Byte() { return p < end ? *p++ : 0; }
};

void OpSubscribe(Reader& r) {
  const uint8_t a = r.Byte();
  const int s = a % kSubs;
  const int c = (a >> 3) % kChannels;
  const bool positioned = a & 0x40;
  const bool join_leave = a & 0x80;
  const uint8_t b = r.Byte();
  const bool server_side = b & 1;
  uint64_t offset = 0;
  switch ((b >> 1) & 3) {
    case 0: offset = g_stream[c].top; break;  // recovered up to the top
    case 1: offset = g_stream[c].top > 0 ? g_stream[c].top - 1 : 0; break;  // one behind
    default: offset = r.Byte() % 16; break;
  }
  const int e = (b >> 3) & 3;
  std::string epoch = e == 1 ? std::string(kEpochs[g_stream[c].epoch]) : std::string(kEpochs[e == 0 ? 0 : e]);
  const int64_t expires_at = static_cast<int64_t>(++g_seq);
  std::snprintf(g_op, sizeof(g_op), "subscribe s%d c%d%s%s offset %llu epoch '%s'", s, c,
                positioned ? " positioned" : "", join_leave ? " join_leave" : "",
                static_cast<unsigned long long>(offset), epoch.c_str());
  Hub& hub = g_world->hub;
  FuzzSubscriber* sub = g_world->subs[s].get();
  if (g_m[s].subs.count(c)) {
    Check(hub.Find(sub, kNames[c]) >= 0, "Find of a member");
    return;  // the hub requires the caller to check; so does the session
  }
  const size_t index = hub.Add(sub, kNames[c], server_side, expires_at, positioned, offset, epoch, join_leave);
  Check(index == g_m[s].subs.size(), "Add returns the new last index");
  g_m[s].subs[c] = MMember{positioned, join_leave, server_side, expires_at, offset};
  MChannel& mc = g_ch[c];
  if (positioned && !epoch.empty()) mc.epoch = epoch;
}

void OpUnsubscribe(Reader& r) {
  const uint8_t a = r.Byte();
  const int s = a % kSubs;
  const int c = (a >> 3) % (kChannels + 1);
  std::snprintf(g_op, sizeof(g_op), "unsubscribe s%d c%d", s, c);
  Hub& hub = g_world->hub;
  FuzzSubscriber* sub = g_world->subs[s].get();
  const int index = hub.Find(sub, kNames[c]);
  if (!g_m[s].subs.count(c)) {
    Check(index == -1, "Find of a non-member");
    return;
  }
  Check(index >= 0, "Find of a member");
  hub.Remove(sub, static_cast<size_t>(index));
  ModelRemove(s, c);
}

void OpRemoveAll(Reader& r) {
  const int s = r.Byte() % kSubs;
  std::snprintf(g_op, sizeof(g_op), "remove_all s%d", s);
  g_world->hub.RemoveAll(g_world->subs[s].get());
  ModelRemoveAll(s);
}

void OpDeliver(Reader& r) {
  const uint8_t a = r.Byte();
  const int c = a % (kChannels + 1);
  const bool join_leave = (a >> 3) & 1;
  const bool no_v1 = (a >> 4) & 1;
  const uint8_t b = r.Byte();
  Stream& st = g_stream[c];
  uint64_t offset = 0;
  int epoch_index = st.epoch;
  if (!join_leave) {  // join/leave pushes carry no stream position
    switch (b & 7) {
      case 0: offset = 0; break;                     // channel without history
      case 1: case 2: offset = ++st.top; break;      // the next publication of the stream
      case 3: st.top += 2; offset = st.top; break;   // one was lost on the way
      case 4: offset = st.top; break;                // repeated (late duplicate)
      case 5: offset = r.Byte() % 16; break;         // anything
      case 6:                                        // the stream was recreated: new epoch
        st.epoch = 1 + (st.epoch % 3);
        st.top = 1;
        offset = 1;
        epoch_index = st.epoch;
        break;
      default: offset = st.top > 1 ? st.top - 1 : 1; break;  // older
    }
    const int e = (b >> 3) & 3;  // mostly the stream's epoch, sometimes a foreign one
    if (e == 2) epoch_index = 1 + ((st.epoch + 1) % 3);
    if (e == 3) epoch_index = 0;
  }
  const std::string epoch = kEpochs[epoch_index];
  const uint64_t seq = ++g_seq;
  auto frame = std::make_shared<PubFrame>();
  frame->kind = join_leave ? PubFrame::Kind::kJoinLeave : PubFrame::Kind::kPublication;
  frame->channel = kNames[c];
  frame->offset = offset;
  frame->epoch = epoch;
  const std::string n = std::to_string(seq);
  frame->v2 = (join_leave ? "[" : "<") + n + (join_leave ? "]" : ">");
  if (!no_v1) frame->v1 = (join_leave ? "{" : "(") + n + (join_leave ? "}" : ")");
  std::snprintf(g_op, sizeof(g_op), "%s c%d offset %llu epoch '%s'%s",
                join_leave ? "join_leave" : "deliver", c, static_cast<unsigned long long>(offset),
                epoch.c_str(), no_v1 ? " no-v1" : "");

  // Model of the delivery.
  size_t expected = 0;
  std::vector<Lost> lost;
  auto give = [&](int s) {
    MSub& m = g_m[s];
    const std::string& bytes = m.v1 ? frame->v1 : frame->v2;
    m.expected += bytes;
    m.queued += bytes.size();
    ++expected;
  };
  auto chit = g_ch.find(c);
  if (chit != g_ch.end()) {
    MChannel& mc = chit->second;
    const bool epoch_changed = offset != 0 && !mc.epoch.empty() && epoch != mc.epoch;
    if (offset != 0) mc.epoch = epoch;
    for (int s = 0; s < kSubs; ++s) {
      auto it = g_m[s].subs.find(c);
      if (it == g_m[s].subs.end()) continue;
      MMember& mm = it->second;
      if (join_leave) {
        if (mm.join_leave) give(s);
        continue;
      }
      if (mm.positioned && offset != 0) {
        if (!epoch_changed && offset <= mm.offset) continue;
        if (epoch_changed || offset != mm.offset + 1) {
          lost.push_back({s, c});
          continue;
        }
        mm.offset = offset;
      }
      give(s);
    }
  }
  const size_t delivered = g_world->hub.Deliver(frame);
  frame.reset();  // the loop holds it until the flush
  if (delivered != expected) {
    Fail("Deliver returned " + std::to_string(delivered) + ", model " + std::to_string(expected));
  }
  ExpectLost(std::move(lost));
}

void OpCheck(Reader& r) {
  const uint8_t a = r.Byte();
  const int c = a % (kChannels + 1);
  const Stream& st = g_stream[c];
  uint64_t top = 0;
  switch ((a >> 3) & 3) {
    case 0: case 1: top = st.top; break;
    case 2: top = r.Byte() % 16; break;
    default: top = st.top + 1; break;
  }
  const int e = (a >> 5) & 3;
  const std::string epoch = kEpochs[e == 0 ? st.epoch : e];
  std::snprintf(g_op, sizeof(g_op), "check c%d top %llu epoch '%s'", c,
                static_cast<unsigned long long>(top), epoch.c_str());
  std::vector<Lost> lost;
  auto chit = g_ch.find(c);
  if (chit != g_ch.end()) {
    MChannel& mc = chit->second;
    if (mc.checked_offset != 0 && mc.checked_epoch == mc.epoch) {
      for (int s = 0; s < kSubs; ++s) {
        auto it = g_m[s].subs.find(c);
        if (it != g_m[s].subs.end() && it->second.positioned && it->second.offset < mc.checked_offset)
          lost.push_back({s, c});
      }
    }
    mc.checked_offset = top;
    mc.checked_epoch = epoch;
  }
  g_world->hub.CheckPositions(kNames[c], top, epoch);
  ExpectLost(std::move(lost));
}

void OpReaction(Reader& r) {
  const uint8_t a = r.Byte();
  const int s = a % kSubs;
  const Reaction reaction = static_cast<Reaction>((a >> 3) % 3);
  std::snprintf(g_op, sizeof(g_op), "reaction s%d %d", s, static_cast<int>(reaction));
  g_m[s].reaction = reaction;
  g_world->subs[s]->reaction = reaction;
}

void OpSetV1(Reader& r) {
  const uint8_t a = r.Byte();
  const int s = a % kSubs;
  const bool v1 = a & 8;
  std::snprintf(g_op, sizeof(g_op), "set_v1 s%d %s", s, v1 ? "v1" : "v2");
  g_m[s].v1 = v1;
  g_world->subs[s]->set_v1(v1);
}

void ResetWorld() {
  World& w = *g_world;
  for (int s = 0; s < kSubs; ++s) {
    w.hub.RemoveAll(w.subs[s].get());
    ModelRemoveAll(s);
    g_m[s].reaction = kRecord;
    w.subs[s]->reaction = kRecord;
    g_m[s].v1 = s % 3 == 2;  // a few v1 clients from the start
    w.subs[s]->set_v1(g_m[s].v1);
  }
  for (Stream& st : g_stream) st = Stream{};
  g_lost.clear();
  g_seq = 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (g_world == nullptr) g_world = new World();  // lives for the process
  ResetWorld();
  std::snprintf(g_op, sizeof(g_op), "reset");
  CheckInvariants();
  Reader r{data, data + size};
  while (!r.done()) {
    switch (r.Byte() % 10) {
      case 0: case 1: OpSubscribe(r); break;
      case 2: OpUnsubscribe(r); break;
      case 3: OpRemoveAll(r); break;
      case 4: case 5: OpDeliver(r); break;
      case 6: OpCheck(r); break;
      case 7: OpReaction(r); break;
      case 8: OpSetV1(r); break;
      default: std::snprintf(g_op, sizeof(g_op), "flush"); FlushAndVerify(false); break;
    }
    ++g_ops;
    CheckInvariants();
  }
  std::snprintf(g_op, sizeof(g_op), "end of input");
  FlushAndVerify(true);
  ResetWorld();
  CheckInvariants();
  Check(g_world->hub.num_channels() == 0 && g_world->registry.Snapshot("").empty(), "hub empty at the end");
  return 0;
}
