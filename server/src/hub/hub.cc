#include "hub/hub.h"

#include "net/conn.h"
#include "net/loop.h"

namespace instant::hub {
namespace {

// How many members ahead Deliver prefetches: far enough for a DRAM access (a few hundred ns) to
// complete behind the work on the members in between (~10-20 ns each when their lines are there),
// near enough that the lines are not evicted again by a large fan-out.
constexpr size_t kPrefetchAhead = 8;

// Asks for the lines of `conn` that WriteShared reads and writes (net::Conn keeps them in its
// first 48 bytes; the object is 16-byte aligned, so they may straddle two lines). With write
// intent: WriteShared stores to them.
inline void PrefetchConn(const net::Conn* conn) {
  const char* p = reinterpret_cast<const char*>(conn);
  __builtin_prefetch(p, 1);
  __builtin_prefetch(p + net::Conn::kHotBytes - 1, 1);
}

}  // namespace

void Subscriber::set_v1(bool v1) {
  v1_ = v1;
  for (const Subscription& sub : subs_) sub.channel->members[sub.position].v1 = v1;
}

int Hub::Find(const Subscriber* s, std::string_view channel) const {
  const auto& subs = s->subs_;
  for (size_t i = 0; i < subs.size(); ++i) {
    if (subs[i].channel->name == channel) return static_cast<int>(i);
  }
  return -1;
}

size_t Hub::Add(Subscriber* s, std::string_view channel, bool server_side, int64_t expires_at,
                bool positioned, uint64_t offset, std::string_view epoch, bool wants_join_leave,
                bool buffering) {
  auto it = channels_.find(channel);
  Channel* ch;
  if (it == channels_.end()) {
    auto owned = std::make_unique<Channel>();
    owned->name = std::string(channel);
    ch = owned.get();
    channels_.emplace(std::string_view(ch->name), std::move(owned));
  } else {
    ch = it->second.get();
  }
  size_t index = s->subs_.size();
  Subscription sub;
  sub.channel = ch;
  sub.position = static_cast<uint32_t>(ch->members.size());
  sub.server_side = server_side;
  sub.expires_at = expires_at;
  s->subs_.push_back(std::move(sub));
  Member m{s->conn_, s, static_cast<uint32_t>(index)};
  m.v1 = s->v1_;
  m.positioned = positioned;
  m.wants_join_leave = wants_join_leave;
  m.buffering = buffering;
  m.offset = offset;
  ch->members.push_back(m);
  if (positioned) {
    ++ch->positioned_members;
    if (!epoch.empty()) ch->epoch.assign(epoch);
  }
  ++num_subscriptions_;
  if (registry_ != nullptr) registry_->Update(ch->name, +1, loop_->index());
  return index;
}

void Hub::Remove(Subscriber* s, size_t index) {
  auto& subs = s->subs_;
  const uint32_t position = subs[index].position;
  Channel* ch = subs[index].channel;
  if (ch->members[position].positioned) --ch->positioned_members;
  // Channel side: move the last member into the hole and fix its back-index.
  Member last = ch->members.back();
  ch->members[position] = last;
  last.subscriber->subs_[last.index].position = position;
  ch->members.pop_back();
  // Subscriber side: same for the subscriber's last subscription.
  if (index + 1 != subs.size()) {
    subs[index] = std::move(subs.back());
    subs[index].channel->members[subs[index].position].index = static_cast<uint32_t>(index);
  }
  subs.pop_back();
  --num_subscriptions_;
  if (registry_ != nullptr) registry_->Update(ch->name, -1, loop_->index());
  if (ch->members.empty()) channels_.erase(std::string_view(ch->name));
}

void Hub::EndBuffering(Subscriber* s, size_t index, uint64_t offset, std::string_view epoch) {
  const Subscription& sub = s->subs_[index];
  Member& m = sub.channel->members[sub.position];
  m.buffering = false;
  m.offset = offset;
  if (!epoch.empty()) sub.channel->epoch.assign(epoch);
}

void Hub::RemoveAll(Subscriber* s) {
  while (!s->subs_.empty()) Remove(s, s->subs_.size() - 1);
  std::vector<Subscription>().swap(s->subs_);
}

size_t Hub::Deliver(const PubFrameRef& frame) {
  auto it = channels_.find(std::string_view(frame->channel));
  if (it == channels_.end()) return 0;
  Channel* ch = it->second.get();
  auto& members = ch->members;
  loop_->HoldUntilFlushed(frame);
  const char* v2 = frame->v2.data();
  const uint32_t v2_size = static_cast<uint32_t>(frame->v2.size());
  const char* v1 = frame->v1.data();
  const uint32_t v1_size = static_cast<uint32_t>(frame->v1.size());
  const uint64_t offset = frame->offset;
  // A new epoch means the stream was lost and recreated: positioned members cannot continue.
  const bool epoch_changed = offset != 0 && !ch->epoch.empty() && frame->epoch != ch->epoch;
  if (offset != 0) ch->epoch = frame->epoch;
  size_t delivered = 0;
  if (frame->kind == PubFrame::Kind::kJoinLeave) {
    const size_t n = members.size();
    for (size_t i = 0; i < n; ++i) {
      if (i + kPrefetchAhead < n) PrefetchConn(members[i + kPrefetchAhead].conn);
      const Member& m = members[i];
      if (!m.wants_join_leave || m.buffering) continue;
      if (m.v1) {
        if (v1_size != 0) m.conn->WriteShared(v1, v1_size);
      } else {
        m.conn->WriteShared(v2, v2_size);
      }
      ++delivered;
    }
    return delivered;
  }
  const size_t n = members.size();
  for (size_t i = 0; i < n; ++i) {
    if (i + kPrefetchAhead < n) PrefetchConn(members[i + kPrefetchAhead].conn);
    Member& m = members[i];
    if (m.buffering) {
      m.subscriber->OnBuffered(frame);
      continue;
    }
    if (m.positioned && offset != 0) {
      if (!epoch_changed && offset <= m.offset) continue;  // late duplicate, already sent by recovery
      if (epoch_changed || offset != m.offset + 1) {
        lost_.push_back(m.subscriber);
        continue;
      }
      m.offset = offset;
    }
    if (m.v1) {
      if (v1_size != 0) m.conn->WriteShared(v1, v1_size);
    } else {
      m.conn->WriteShared(v2, v2_size);
    }
    ++delivered;
  }
  if (!lost_.empty()) NotifyLost(frame->channel);
  return delivered;
}

void Hub::NotifyLost(std::string_view channel) {
  std::vector<Subscriber*> lost;
  lost.swap(lost_);
  // `channel` may view a Channel's name that the handlers free by unsubscribing its last member.
  const std::string name(channel);
  for (Subscriber* s : lost) s->OnInsufficientState(name);
  lost.clear();
  if (lost_.empty()) lost_.swap(lost);
}

void Hub::CheckPositions(std::string_view channel, uint64_t top_offset, std::string_view top_epoch) {
  auto it = channels_.find(channel);
  if (it == channels_.end()) return;
  Channel* ch = it->second.get();
  if (ch->checked_offset != 0 && ch->checked_epoch == ch->epoch) {
    for (const Member& m : ch->members) {
      if (m.positioned && !m.buffering && m.offset < ch->checked_offset) lost_.push_back(m.subscriber);
    }
  }
  ch->checked_offset = top_offset;
  ch->checked_epoch.assign(top_epoch);
  if (!lost_.empty()) NotifyLost(ch->name);
}

size_t Hub::CountMembers(std::string_view channel) const {
  auto it = channels_.find(channel);
  return it == channels_.end() ? 0 : it->second->members.size();
}

}  // namespace instant::hub
