#include "client/session.h"

#include <algorithm>
#include <cstring>

#include "auth/claims.h"
#include "auth/verifier.h"
#include "base/json_writer.h"
#include "base/log.h"
#include "client/services.h"
#include "config/config.h"
#include "engine/broker.h"
#include "engine/engine.h"
#include "hub/channel_rules.h"
#include "net/conn.h"
#include "net/loop.h"
#include "protocol/command.h"
#include "protocol/decoder.h"
#include "protocol/encoder.h"

namespace instant::client {

using protocol::Method;
namespace error = protocol::error;
namespace disconnect = protocol::disconnect;

namespace {

uint32_t TtlSeconds(int64_t expires_at, int64_t now) {
  return expires_at > now ? static_cast<uint32_t>(std::min<int64_t>(expires_at - now, UINT32_MAX)) : 0;
}

// Session expiry from token claims: expire_at (0 = never) overrides exp (spec §4.3).
template <typename Claims>
int64_t ExpiryOf(const Claims& c) {
  if (c.expire_at.has_value()) return *c.expire_at;
  return c.exp.value_or(0);
}

}  // namespace

Session::Session(LoopServices* services, net::Conn* conn)
    : hub::Subscriber(conn, false), services_(services) {
  std::memset(client_id_, 0, sizeof(client_id_));
  created_ms_ = services_->loop->now_ms();
}

Session::~Session() { OnTransportClosed(); }

void Session::OnTransportClosed() {
  if (released_) return;
  released_ = true;
  if (state_ == State::kConnected) {
    services_->counters->clients.fetch_sub(1, std::memory_order_relaxed);
    if (v1()) services_->counters->v1_clients.fetch_sub(1, std::memory_order_relaxed);
    if (!user_.empty()) services_->users->Remove(user_);
  }
  if (state_ == State::kConnected) {
    while (!subs().empty()) LeaveChannel(subs().size() - 1);
  }
  services_->hub->RemoveAll(this);
  state_ = State::kClosed;
}

void Session::AfterJoin(size_t index, bool presence, bool join_leave) {
  hub::Subscription& sub = mutable_subs()[index];
  const std::string_view channel = sub.channel->name;
  if (presence) {
    sub.presence = true;
    engine::PresenceEntry entry{std::string(client_id()), user_, conn_info_, sub.chan_info};
    services_->engine->presence().Add(channel, entry, services_->config->presence_ttl.count(),
                                      services_->loop->now_ms());
  }
  if (join_leave) {
    sub.join_leave = true;
    engine::JoinLeave event{channel, true, user_, client_id(), conn_info_, sub.chan_info};
    services_->engine->PublishJoinLeave(event);
  }
}

void Session::LeaveChannel(size_t index) {
  const hub::Subscription& sub = subs()[index];
  // The channel name must outlive the hub removal for the announcements below.
  const std::string channel = sub.channel->name;
  const bool presence = sub.presence, join_leave = sub.join_leave;
  const std::string chan_info = sub.chan_info;
  services_->hub->Remove(this, index);
  if (presence) services_->engine->presence().Remove(channel, client_id());
  if (join_leave) {
    engine::JoinLeave event{channel, false, user_, client_id(), conn_info_, chan_info};
    services_->engine->PublishJoinLeave(event);
  }
}

void Session::Disconnect(const protocol::Disconnect& d, CloseMode mode) {
  if (state_ == State::kClosed) return;
  services_->counters->disconnects.Add(d.code);
  protocol::Version v = version();
  OnTransportClosed();
  CloseTransport(d.code, protocol::CloseReason(v, d), mode);
}

// Messages waiting for an engine answer, per session: past this the client is not reading its
// replies' pace and is disconnected as slow (its commands would pile up without bound).
constexpr size_t kMaxDeferredBytes = 1 << 20;

void Session::OnMessage(std::string_view message) {
  if (state_ == State::kClosed) return;
  services_->counters->messages_received.fetch_add(1, std::memory_order_relaxed);
  if (!version_known_) {
    SetVersion(protocol::CommandDecoder::Sniff(message));
  }
  if (awaiting_ || !deferred_.empty()) {
    deferred_bytes_ += message.size();
    if (deferred_bytes_ > kMaxDeferredBytes) {
      Disconnect(disconnect::kSlow);
      return;
    }
    deferred_.emplace_back(std::string(message), 0);
    return;
  }
  ProcessMessage(message, 0);
}

void Session::ProcessMessage(std::string_view message, size_t skip) {
  protocol::CommandDecoder& decoder = *services_->decoder;
  decoder.Reset(message, version());
  protocol::Command cmd;
  in_message_ = true;
  size_t index = 0;
  while (true) {
    protocol::DecodeStatus status = decoder.Next(&cmd);
    if (status == protocol::DecodeStatus::kEnd) break;
    if (status == protocol::DecodeStatus::kError) {
      log::Debug(log::With{{"client", client_id()}, {"user", user_}}, "bad command: {}", decoder.error());
      in_message_ = false;
      Flush();
      Disconnect(disconnect::kBadRequest);
      return;
    }
    if (index++ < skip) continue;
    if (!HandleCommand(cmd)) {  // Next() resets every field of cmd
      in_message_ = false;
      return;
    }
    if (services_->replies.size() > services_->config->client_queue_max_size) {
      // The replies of one message outgrow the client's queue (hundreds of history commands in
      // one frame): send what is built and try the socket now; a client that cannot take it is
      // dropped as slow here instead of after the server built every reply in memory.
      Flush();
      conn()->Flush();
      if (state_ == State::kClosed) {
        in_message_ = false;
        return;
      }
    }
    if (awaiting_) {
      // The engine answers later: the rest of this message waits with the messages after it.
      deferred_bytes_ += message.size();
      deferred_.emplace_front(std::string(message), index);
      break;
    }
  }
  in_message_ = false;
  Flush();
}

void Session::ResumeDeferred() {
  while (!awaiting_ && !deferred_.empty() && state_ != State::kClosed) {
    auto [message, skip] = std::move(deferred_.front());
    deferred_.pop_front();
    deferred_bytes_ -= std::min(deferred_bytes_, message.size());
    ProcessMessage(message, skip);
  }
}

template <typename Fn>
auto Session::Continue(Fn fn) {
  awaiting_ = true;
  return [this, alive = std::weak_ptr<char>(alive_), fn = std::move(fn)](auto&&... args) mutable {
    if (alive.expired()) return;
    awaiting_ = false;
    if (state_ == State::kClosed) return;
    fn(std::forward<decltype(args)>(args)...);
    if (!in_message_) {
      Flush();
      ResumeDeferred();
    }
  };
}

void Session::Flush() {
  std::string& out = services_->replies;
  if (out.empty() || state_ == State::kClosed) {
    out.clear();
    return;
  }
  services_->counters->messages_sent.fetch_add(1, std::memory_order_relaxed);
  SendLines(out);
  out.clear();
}

const config::ChannelOptions* Session::ChannelFor(const protocol::Command& cmd, bool* keep_going) {
  if (cmd.channel.empty()) {
    Disconnect(disconnect::kBadRequest);  // spec §2.4: a command without its channel
    *keep_going = false;
    return nullptr;
  }
  const config::ChannelOptions* opts = nullptr;
  switch (hub::ResolveChannel(*services_->config, cmd.channel, &opts)) {
    case hub::ChannelStatus::kOk:
      return opts;
    case hub::ChannelStatus::kBadName:
      ReplyError(cmd.id, error::kBadRequest);
      break;
    case hub::ChannelStatus::kUnknownNamespace:
      ReplyError(cmd.id, error::kUnknownChannel);
      break;
  }
  *keep_going = true;
  return nullptr;
}

void Session::ReplyError(uint32_t id, const protocol::ErrorCode& e) {
  services_->counters->reply_errors.Add(e.code);
  std::string& out = services_->replies;
  if (!out.empty()) out += '\n';
  protocol::AppendErrorReply(out, version(), id, e);
}

void Session::ReplyEmpty(uint32_t id, const protocol::Command& cmd) {
  std::string& out = services_->replies;
  if (!out.empty()) out += '\n';
  protocol::AppendEmptyReply(out, version(), id, cmd.method);
}

CommandRateLimiter::Verdict Session::TakeCommandToken() {
  const config::Config& cfg = *services_->config;
  if (cfg.client_commands_per_second <= 0) return CommandRateLimiter::Verdict::kAllow;
  // A reconnect resubscribes every channel at once: the bucket holds client_channel_limit on top
  // of the burst, so that never costs a real client a 111 (docs/configuration.md).
  const int64_t capacity = int64_t{cfg.client_commands_burst} + cfg.client_channel_limit;
  const CommandRateLimiter::Verdict v =
      rate_limiter_.Take(services_->loop->now_ms(), cfg.client_commands_per_second, capacity);
  if (v != CommandRateLimiter::Verdict::kAllow && !rate_limit_logged_) {
    rate_limit_logged_ = true;  // once per connection: a flood must not flood the log too
    log::Info(log::With{{"client", client_id()}, {"user", user_}},
              "client exceeds client_commands_per_second ({}/s, bucket of {}): its commands get "
              "error 111, and it is disconnected with 3013 if it goes on",
              cfg.client_commands_per_second, capacity);
  }
  return v;
}

bool Session::HandleCommand(const protocol::Command& cmd) {
  switch (TakeCommandToken()) {
    case CommandRateLimiter::Verdict::kAllow:
      break;
    case CommandRateLimiter::Verdict::kDisconnect:
      Flush();  // the replies (111s included) to the commands before this one in the message
      Disconnect(disconnect::kTooManyRequests);
      return false;
    case CommandRateLimiter::Verdict::kRefuse:
      // Not executed. Commands without an id (pong, send) have no reply to carry the error: they
      // count, and a pong still runs (it answers our own ping, and costs nothing).
      if (cmd.id == 0) break;
      if (state_ == State::kNew) return ConnectError(cmd.id, error::kTooManyRequests);
      ReplyError(cmd.id, error::kTooManyRequests);
      return true;
  }
  if (state_ == State::kNew) {
    if (cmd.method != Method::kConnect || cmd.id == 0) {
      Disconnect(disconnect::kBadRequest);  // anything before connect (spec §2.1)
      return false;
    }
    return HandleConnect(cmd);
  }
  if (cmd.id == 0 && cmd.method != Method::kPong && cmd.method != Method::kSend) {
    Disconnect(disconnect::kBadRequest);
    return false;
  }
  switch (cmd.method) {
    case Method::kConnect:
      Disconnect(disconnect::kBadRequest);  // a second connect
      return false;
    case Method::kPong:
      pong_pending_ = false;  // a pong without an outstanding ping is tolerated
      return true;
    case Method::kSubscribe:
      return HandleSubscribe(cmd);
    case Method::kUnsubscribe:
      return HandleUnsubscribe(cmd);
    case Method::kPublish:
      return HandlePublish(cmd);
    case Method::kRefresh:
      return HandleRefresh(cmd);
    case Method::kSubRefresh:
      return HandleSubRefresh(cmd);
    case Method::kPing:
      ReplyEmpty(cmd.id, cmd);
      return true;
    case Method::kSend:
      return true;  // no application message handler: accepted and dropped (Centrifugo closes 3508)
    case Method::kHistory:
      return HandleHistory(cmd);
    case Method::kPresence:
    case Method::kPresenceStats:
      return HandlePresence(cmd);
    case Method::kRpc:
      ReplyError(cmd.id, error::kNotAvailable);  // no RPC proxy configured
      return true;
  }
  return true;
}

bool Session::HandleConnect(const protocol::Command& cmd) {
  const config::Config& cfg = *services_->config;
  const int64_t now = services_->loop->unix_now();
  auth::ConnectionClaims claims;
  if (!cmd.token.empty()) {
    if (services_->verifier == nullptr) {
      log::Info("connect with a token but no token key is configured (token_hmac_secret_key...)");
      Disconnect(disconnect::kInvalidToken);
      return false;
    }
    switch (services_->verifier->VerifyConnection(cmd.token, now, &claims)) {
      case auth::TokenStatus::kInvalid:
        Disconnect(disconnect::kInvalidToken);
        return false;
      case auth::TokenStatus::kExpired:
        return ConnectError(cmd.id, error::kTokenExpired);  // the SDK fetches a new token and reconnects
      case auth::TokenStatus::kOk:
        break;
    }
    if (claims.user.empty() && cfg.disallow_anonymous_connection_tokens) {
      // As Centrifugo: a token for the anonymous user is refused outright (terminal, no retry).
      Disconnect(disconnect::kPermissionDenied);
      return false;
    }
    int64_t expiry = ExpiryOf(claims);
    if (expiry != 0 && expiry <= now) return ConnectError(cmd.id, error::kExpired);
    expires_at_ = expiry;
  } else if (!cfg.allow_anonymous_connect_without_token && !cfg.client_insecure) {
    Disconnect(disconnect::kBadRequest);  // "client credentials not found"
    return false;
  }
  // The personal channel (user_subscribe_to_personal): "#<user>", or "<namespace>:#<user>".
  if (cfg.user_subscribe_to_personal && !claims.user.empty()) {
    std::string personal;
    if (!cfg.user_personal_channel_namespace.empty()) {
      personal = cfg.user_personal_channel_namespace + cfg.channel_namespace_boundary;
    }
    personal += cfg.channel_user_boundary;
    personal += claims.user;
    if (std::find(claims.channels.begin(), claims.channels.end(), personal) == claims.channels.end()) {
      claims.channels.push_back(std::move(personal));
    }
  }
  // Server-side subscriptions from the token: every channel must resolve (102 otherwise).
  for (const std::string& ch : claims.channels) {
    const config::ChannelOptions* opts = nullptr;
    hub::ChannelStatus st = ch.empty() ? hub::ChannelStatus::kBadName : hub::ResolveChannel(cfg, ch, &opts);
    if (st != hub::ChannelStatus::kOk) {
      return ConnectError(cmd.id, st == hub::ChannelStatus::kUnknownNamespace ? error::kUnknownChannel
                                                                             : error::kBadRequest);
    }
  }
  if (static_cast<int>(claims.channels.size()) > cfg.client_channel_limit) {
    Disconnect(disconnect::kChannelLimit);
    return false;
  }
  if (cfg.client_connection_limit > 0 &&
      services_->counters->clients.load(std::memory_order_relaxed) >= cfg.client_connection_limit) {
    Disconnect(disconnect::kConnectionLimit);  // the node is full: the SDK retries (elsewhere)
    return false;
  }
  user_ = std::move(claims.user);
  conn_info_ = std::move(claims.info);
  if (!user_.empty() && !services_->users->TryAdd(user_, cfg.client_user_connection_limit)) {
    Disconnect(disconnect::kConnectionLimit);
    return false;
  }
  services_->random.UuidV4(client_id_);
  state_ = State::kConnected;
  services_->counters->clients.fetch_add(1, std::memory_order_relaxed);
  if (v1()) services_->counters->v1_clients.fetch_add(1, std::memory_order_relaxed);

  std::string subs_raw;
  if (!claims.channels.empty()) {
    subs_raw += '{';
    bool first = true;
    for (const std::string& ch : claims.channels) {
      if (!first) subs_raw += ',';
      first = false;
      json::AppendString(subs_raw, ch);
      subs_raw += ':';
      protocol::AppendSubscribeResultObject(subs_raw, protocol::SubscribeResult{});
    }
    subs_raw += '}';
  }
  protocol::ConnectResult result;
  result.client = client_id();
  result.version = services_->version;
  result.expires = expires_at_ != 0;
  result.ttl = TtlSeconds(expires_at_, now);
  if (!v1()) {
    result.ping = static_cast<uint32_t>(cfg.ping_interval.count() / 1000);
    result.pong = cfg.ping_interval.count() > 0 && cfg.pong_timeout.count() > 0;
  }
  result.subs_raw = subs_raw;
  std::string& out = services_->replies;
  if (!out.empty()) out += '\n';
  protocol::AppendConnectReply(out, version(), cmd.id, result);
  // The reply must reach the client before any publication of its server-side channels.
  Flush();
  for (const std::string& ch : claims.channels) {
    const config::ChannelOptions* opts = nullptr;
    if (services_->hub->Find(this, ch) >= 0 || hub::ResolveChannel(cfg, ch, &opts) != hub::ChannelStatus::kOk) continue;
    size_t index = services_->hub->Add(this, ch, true, 0, false, 0, {}, opts->force_push_join_leave);
    AfterJoin(index, opts->presence, opts->join_leave);
  }
  next_presence_ms_ = services_->loop->now_ms() + cfg.client_presence_update_interval.count();
  SchedulePing(true);
  if (cfg.user_subscribe_to_personal && cfg.user_personal_single_connection && !user_.empty() &&
      services_->disconnect_other_connections) {
    services_->disconnect_other_connections(user_, std::string(client_id()));  // the newest connection wins
  }
  return true;
}

bool Session::ConnectError(uint32_t id, const protocol::ErrorCode& e) {
  // A failed connect makes the rest of the message meaningless: the subscribes batched behind it
  // (JS 5.x sends them in the same frame) must not be answered with 3501, which would hide this
  // reply. Like Centrifugo, stop here; the SDK reconnects (with a fresh token for 109).
  ReplyError(id, e);
  Flush();
  return false;
}

bool Session::HandleSubscribe(const protocol::Command& cmd) {
  const config::Config& cfg = *services_->config;
  bool keep_going = true;
  const config::ChannelOptions* opts = ChannelFor(cmd, &keep_going);
  if (opts == nullptr) return keep_going;
  if (services_->hub->Find(this, cmd.channel) >= 0) {
    ReplyError(cmd.id, error::kAlreadySubscribed);
    return true;
  }
  if (static_cast<int>(subs().size()) >= cfg.client_channel_limit) {
    ReplyError(cmd.id, error::kLimitExceeded);
    return true;
  }
  const int64_t now = services_->loop->unix_now();
  int64_t expires_at = 0;
  auth::SubscriptionClaims claims;
  bool allowed = false;
  if (!cmd.token.empty()) {
    if (services_->verifier == nullptr) {
      Disconnect(disconnect::kInvalidToken);
      return false;
    }
    switch (services_->verifier->VerifySubscription(cmd.token, now, &claims)) {
      case auth::TokenStatus::kInvalid:
        Disconnect(disconnect::kInvalidToken);
        return false;
      case auth::TokenStatus::kExpired:
        ReplyError(cmd.id, error::kTokenExpired);
        return true;
      case auth::TokenStatus::kOk:
        break;
    }
    // A token for another channel, user or client is not a permission error but a forged or
    // misused token (Centrifugo v4+: 3500). Protocol v1 clients talk to v3-era backends, whose
    // tokens are bound to the connection by `client` and carry no `sub`; Centrifugo v3 answered a
    // mismatch with 103 rather than closing the connection.
    if (const TokenMatch m = MatchSubToken(claims, cmd.channel); m != TokenMatch::kOk) {
      if (m == TokenMatch::kPermission) {
        ReplyError(cmd.id, error::kPermissionDenied);
        return true;
      }
      Disconnect(disconnect::kInvalidToken);
      return false;
    }
    expires_at = ExpiryOf(claims);
    if (expires_at != 0 && expires_at <= now) {
      ReplyError(cmd.id, error::kExpired);
      return true;
    }
    allowed = true;
  } else if (hub::IsPrivateChannel(cfg, cmd.channel)) {
    allowed = false;  // private channels always need a subscription token
  } else if (opts->allow_user_limited_channels && hub::IsUserLimitedChannel(cfg, cmd.channel)) {
    // Only the listed users, whatever else the namespace allows: configs converted from
    // Centrifugo v3 turn on allow_subscribe_for_client too, and v3 never let others in.
    allowed = hub::UserInLimitedChannel(cfg, cmd.channel, user_);
  } else if (opts->allow_subscribe_for_client && (!user_.empty() || opts->allow_subscribe_for_anonymous)) {
    allowed = true;
  } else if (cfg.client_insecure) {
    allowed = true;
  }
  if (!allowed) {
    ReplyError(cmd.id, error::kPermissionDenied);
    return true;
  }
  PendingSubscribe p;
  p.id = cmd.id;
  p.channel.assign(cmd.channel);
  p.presence = opts->presence;
  p.join_leave = opts->join_leave;
  p.expires_at = expires_at;
  p.ttl = TtlSeconds(expires_at, now);
  p.data = std::move(claims.data);
  p.chan_info = std::move(claims.info);
  p.wants_join_leave = opts->force_push_join_leave || (opts->join_leave && cmd.join_leave);

  // Positioning and recovery (spec §6.2, §6.3): only for channels that keep history.
  const engine::HistoryOptions history = engine::HistoryOptionsOf(*opts, cfg.global_history_meta_ttl.count());
  const bool keeps = engine::KeepsHistory(history);
  p.recoverable = keeps && (opts->force_recovery || (opts->allow_recovery && cmd.recoverable) ||
                            (v1() && cmd.recover && opts->allow_recovery));
  p.positioned = keeps && (p.recoverable || opts->force_positioning || (opts->allow_positioning && cmd.positioned));
  p.recovering = p.recoverable && cmd.recover;
  if (p.recovering) {
    p.from_offset = cmd.position.offset;
    p.from_epoch.assign(cmd.position.epoch);
  }
  // Join first, buffering: the join makes the node listen to the channel (Redis: SUBSCRIBE), and
  // publications that arrive before the reply (while Redis acknowledges, while the engine reads
  // the stream) are kept and written after it, so none falls between the subscribe and the join.
  // With the memory engine every step below completes at once and nothing is buffered.
  buffered_.clear();
  buffer_overflow_ = false;
  services_->hub->Add(this, p.channel, false, p.expires_at, p.positioned, 0, {}, p.wants_join_leave,
                      /*buffering=*/true);
  services_->engine->WhenListening(p.channel, Continue([this, p, history](bool ok) {
    if (!ok) {
      FailSubscribe(p);
      return;
    }
    if (!p.positioned) {
      FinishSubscribe(p, nullptr);
      return;
    }
    const config::Config& c = *services_->config;
    engine::HistoryQuery query;
    if (p.recovering) {
      query.has_since = true;
      query.since.offset = p.from_offset;
      query.since.epoch = p.from_epoch;
      // 0 = no limit (docs/configuration.md); a negative query limit means "up to the cap".
      query.limit = c.client_recovery_max_publication_limit > 0 ? c.client_recovery_max_publication_limit : -1;
    }
    services_->engine->history().Read(
        p.channel, query, history, c.client_recovery_max_publication_limit, services_->loop->now_ms(),
        Continue([this, p](engine::HistoryResult hr) { FinishSubscribe(p, &hr); }));
  }));
  return true;
}

void Session::FailSubscribe(const PendingSubscribe& p) {
  const int joined = services_->hub->Find(this, p.channel);
  if (joined >= 0) services_->hub->Remove(this, static_cast<size_t>(joined));
  buffered_.clear();
  ReplyError(p.id, error::kInternal);
}

void Session::OnBuffered(const hub::PubFrameRef& frame) {
  // A stalled engine must not make a busy channel's publications pile up here: past the cap the
  // subscription is treated as having missed them (the client resubscribes and recovers).
  if (buffered_.size() >= 4096) {
    buffer_overflow_ = true;
    return;
  }
  buffered_.push_back(frame);
}

void Session::FinishSubscribe(const PendingSubscribe& p, const engine::HistoryResult* hr) {
  const int joined = services_->hub->Find(this, p.channel);  // joined (buffering) before the engine calls
  if (joined < 0 || (hr != nullptr && !hr->ok)) {
    // Not ok: the engine failed. Not joined: the subscription ended while the engine worked
    // (API unsubscribe, disconnect): answer as a failure.
    FailSubscribe(p);
    return;
  }
  protocol::SubscribeResult result;
  result.expires = p.expires_at != 0;
  result.ttl = p.ttl;
  result.data = p.data;
  std::vector<protocol::Publication> recovered_pubs;
  if (hr != nullptr) {
    result.recoverable = p.recoverable;
    result.positioned = true;
    result.epoch = hr->top.epoch;
    result.offset = hr->top.offset;
    if (p.recovering) {
      result.was_recovering = true;
      const uint64_t from = p.from_offset;
      const bool epoch_ok = !hr->unrecoverable && (p.from_epoch.empty() || p.from_epoch == hr->top.epoch);
      const auto& pubs = hr->publications;
      result.recovered = epoch_ok && ((pubs.empty() && hr->top.offset == from) ||
                                      (!pubs.empty() && pubs.front().offset == from + 1 &&
                                       pubs.back().offset == hr->top.offset));
      if (result.recovered) {
        recovered_pubs.reserve(pubs.size());
        for (const auto& pub : pubs) {
          protocol::Publication rp;
          rp.data = pub.data;
          rp.offset = pub.offset;
          rp.info_raw = pub.info;
          rp.tags = pub.tags;
          recovered_pubs.push_back(rp);
        }
        result.publications = recovered_pubs.data();
        result.num_publications = recovered_pubs.size();
        result.offset = from;  // the client advances through the publications
      }
    }
  }
  std::string& out = services_->replies;
  if (!out.empty()) out += '\n';
  protocol::AppendSubscribeReply(out, version(), p.id, result);
  // Reply first, then join the channel: publications for it can only follow the reply. A
  // positioned member starts at the stream top it was told about (recovered publications
  // included), so later publications continue from there without gaps or duplicates.
  Flush();
  const size_t index = static_cast<size_t>(joined);
  // Publications that arrived meanwhile. Positioned: skip what the stream top already covers,
  // write the rest if they continue it without a gap. Otherwise: write them all.
  bool lost = buffer_overflow_;
  uint64_t top = hr != nullptr ? hr->top.offset : 0;
  for (const hub::PubFrameRef& f : buffered_) {
    if (lost) break;
    if (hr != nullptr && f->offset != 0) {
      if (f->epoch != hr->top.epoch || f->offset > top + 1) {
        lost = true;
        break;
      }
      if (f->offset <= top) continue;
      top = f->offset;
    }
    const std::string& bytes = v1() ? f->v1 : f->v2;
    if (bytes.empty()) continue;
    services_->loop->HoldUntilFlushed(f);
    conn()->WriteShared(bytes.data(), static_cast<uint32_t>(bytes.size()));
  }
  buffered_.clear();
  services_->hub->EndBuffering(this, index, top, hr != nullptr ? std::string_view(hr->top.epoch) : std::string_view());
  mutable_subs()[index].chan_info = p.chan_info;
  AfterJoin(index, p.presence, p.join_leave);
  if (lost) OnInsufficientState(p.channel);
}

bool Session::HandleHistory(const protocol::Command& cmd) {
  const config::Config& cfg = *services_->config;
  bool keep_going = true;
  const config::ChannelOptions* opts = ChannelFor(cmd, &keep_going);
  if (opts == nullptr) return keep_going;
  const engine::HistoryOptions history = engine::HistoryOptionsOf(*opts, cfg.global_history_meta_ttl.count());
  if (!engine::KeepsHistory(history)) {
    ReplyError(cmd.id, error::kNotAvailable);
    return true;
  }
  const bool anonymous_ok = !user_.empty() || opts->allow_history_for_anonymous;
  const bool allowed = cfg.client_insecure || (opts->allow_history_for_client && anonymous_ok) ||
                       (opts->allow_history_for_subscriber && anonymous_ok &&
                        services_->hub->Find(this, cmd.channel) >= 0);
  if (!allowed) {
    ReplyError(cmd.id, error::kPermissionDenied);
    return true;
  }
  if (cmd.reverse && cmd.has_since && cmd.since.offset == 0) {
    ReplyError(cmd.id, error::kBadRequest);
    return true;
  }
  const int max = cfg.client_history_max_publication_limit;
  engine::HistoryQuery query;
  // spec §2.8: a negative limit asks for everything up to the cap; max 0 = no cap.
  if (cmd.limit < 0) {
    query.limit = max > 0 ? max : -1;
  } else {
    query.limit = (max > 0 && cmd.limit > max) ? max : cmd.limit;
  }
  query.reverse = cmd.reverse;
  query.has_since = cmd.has_since;
  query.since.offset = cmd.since.offset;
  query.since.epoch.assign(cmd.since.epoch);
  services_->engine->history().Read(cmd.channel, query, history, max, services_->loop->now_ms(),
                                    Continue([this, id = cmd.id](engine::HistoryResult hr) { ReplyHistory(id, hr); }));
  return true;
}

void Session::ReplyHistory(uint32_t id, const engine::HistoryResult& hr) {
  if (!hr.ok) {
    ReplyError(id, error::kInternal);
    return;
  }
  if (hr.unrecoverable) {
    ReplyError(id, error::kUnrecoverablePosition);
    return;
  }
  std::vector<protocol::Publication> pubs;
  pubs.reserve(hr.publications.size());
  for (const auto& p : hr.publications) {
    protocol::Publication rp;
    rp.data = p.data;
    rp.offset = p.offset;
    rp.info_raw = p.info;
    rp.tags = p.tags;
    pubs.push_back(rp);
  }
  protocol::HistoryResult result;
  result.publications = pubs.data();
  result.num_publications = pubs.size();
  result.epoch = hr.top.epoch;
  result.offset = hr.top.offset;
  std::string& out = services_->replies;
  if (!out.empty()) out += '\n';
  protocol::AppendHistoryReply(out, version(), id, result);
}

void Session::OnInsufficientState(std::string_view channel) {
  int index = services_->hub->Find(this, channel);
  if (index < 0 || state_ != State::kConnected) return;
  if (v1() || subs()[static_cast<size_t>(index)].server_side) {
    Disconnect(disconnect::kInsufficientState);
    return;
  }
  std::string line;
  protocol::AppendUnsubscribePush(line, version(), channel, protocol::unsubscribe_code::kInsufficientState,
                                  "insufficient state");
  LeaveChannel(static_cast<size_t>(index));
  SendLines(line);
}

void Session::ServerSubscribe(std::string_view channel) {
  const config::Config& cfg = *services_->config;
  const config::ChannelOptions* opts = nullptr;
  if (state_ != State::kConnected || services_->hub->Find(this, channel) >= 0 ||
      hub::ResolveChannel(cfg, channel, &opts) != hub::ChannelStatus::kOk ||
      static_cast<int>(subs().size()) >= cfg.client_channel_limit) {
    return;
  }
  std::string line;
  protocol::AppendSubscribePush(line, version(), channel, protocol::SubscribeResult{});
  SendLines(line);  // the push precedes the channel's publications
  size_t index = services_->hub->Add(this, channel, true, 0, false, 0, {}, opts->force_push_join_leave);
  AfterJoin(index, opts->presence, opts->join_leave);
}

void Session::ServerUnsubscribe(std::string_view channel) {
  int index = services_->hub->Find(this, channel);
  if (index < 0 || state_ != State::kConnected) return;
  const std::string name(channel);
  LeaveChannel(static_cast<size_t>(index));
  std::string line;
  protocol::AppendUnsubscribePush(line, version(), name, protocol::unsubscribe_code::kServer, "server unsubscribe");
  SendLines(line);
}

void Session::ServerRefresh(bool expired, int64_t expire_at) {
  if (state_ != State::kConnected) return;
  if (expired) {
    Disconnect(disconnect::kExpired);
    return;
  }
  expires_at_ = expire_at;
}

bool Session::HandlePresence(const protocol::Command& cmd) {
  const config::Config& cfg = *services_->config;
  bool keep_going = true;
  const config::ChannelOptions* opts = ChannelFor(cmd, &keep_going);
  if (opts == nullptr) return keep_going;
  if (!opts->presence) {
    ReplyError(cmd.id, error::kNotAvailable);
    return true;
  }
  const bool anonymous_ok = !user_.empty() || opts->allow_presence_for_anonymous;
  const bool allowed = cfg.client_insecure || (opts->allow_presence_for_client && anonymous_ok) ||
                       (opts->allow_presence_for_subscriber && anonymous_ok &&
                        services_->hub->Find(this, cmd.channel) >= 0);
  if (!allowed) {
    ReplyError(cmd.id, error::kPermissionDenied);
    return true;
  }
  const int64_t now_ms = services_->loop->now_ms();
  const uint32_t id = cmd.id;
  if (cmd.method == Method::kPresenceStats) {
    services_->engine->presence().Stats(cmd.channel, now_ms, Continue([this, id](bool ok, engine::PresenceStats stats) {
      if (!ok) {
        ReplyError(id, error::kInternal);
        return;
      }
      std::string& out = services_->replies;
      if (!out.empty()) out += '\n';
      protocol::AppendPresenceStatsReply(out, version(), id, stats.num_clients, stats.num_users);
    }));
    return true;
  }
  services_->engine->presence().Get(
      cmd.channel, now_ms, Continue([this, id](bool ok, std::vector<engine::PresenceEntry> entries) {
        if (!ok) {
          ReplyError(id, error::kInternal);
          return;
        }
        std::vector<protocol::ClientInfo> infos;
        infos.reserve(entries.size());
        for (const auto& e : entries) infos.push_back(protocol::ClientInfo{e.user, e.client, e.conn_info, e.chan_info});
        std::string& out = services_->replies;
        if (!out.empty()) out += '\n';
        protocol::AppendPresenceReply(out, version(), id, infos.data(), infos.size());
      }));
  return true;
}

Session::TokenMatch Session::MatchSubToken(const auth::SubscriptionClaims& claims, std::string_view channel) const {
  const bool client_set = !claims.client.empty();
  const bool client_ok = claims.client == client_id();
  if (v1()) {
    // Centrifugo v3: `channel` and (when present) `client` must match; `sub` is not read.
    if (claims.channel != channel) return TokenMatch::kInvalid;
    if (client_set) return client_ok ? TokenMatch::kOk : TokenMatch::kPermission;
    return claims.user == user_ ? TokenMatch::kOk : TokenMatch::kInvalid;
  }
  if (claims.channel != channel || claims.user != user_ || (client_set && !client_ok)) return TokenMatch::kInvalid;
  return TokenMatch::kOk;
}

bool Session::HandleUnsubscribe(const protocol::Command& cmd) {
  if (cmd.channel.empty()) {
    Disconnect(disconnect::kBadRequest);
    return false;
  }
  int index = services_->hub->Find(this, cmd.channel);
  if (index >= 0) LeaveChannel(static_cast<size_t>(index));
  ReplyEmpty(cmd.id, cmd);
  return true;
}

bool Session::HandlePublish(const protocol::Command& cmd) {
  const config::Config& cfg = *services_->config;
  bool keep_going = true;
  const config::ChannelOptions* opts = ChannelFor(cmd, &keep_going);
  if (opts == nullptr) return keep_going;
  if (!cmd.has_data) {
    ReplyError(cmd.id, error::kBadRequest);
    return true;
  }
  const bool anonymous_ok = !user_.empty() || opts->allow_publish_for_anonymous;
  bool allowed = cfg.client_insecure || (opts->allow_publish_for_client && anonymous_ok) ||
                 (opts->allow_publish_for_subscriber && anonymous_ok &&
                  services_->hub->Find(this, cmd.channel) >= 0);
  if (!allowed) {
    ReplyError(cmd.id, error::kPermissionDenied);
    return true;
  }
  engine::Publication pub;
  pub.channel = cmd.channel;
  pub.data = cmd.data;
  pub.has_info = true;
  pub.user = user_;
  pub.client = client_id();
  pub.conn_info = conn_info_;
  services_->engine->Publish(pub, engine::HistoryOptionsOf(*opts, cfg.global_history_meta_ttl.count()), {},
                             services_->loop->now_ms(),
                             Continue([this, id = cmd.id, method = cmd.method](const engine::PublishResult& r) {
                               if (!r.ok) {
                                 ReplyError(id, error::kInternal);
                                 return;
                               }
                               std::string& out = services_->replies;
                               if (!out.empty()) out += '\n';
                               protocol::AppendEmptyReply(out, version(), id, method);
                             }));
  return true;
}

bool Session::HandleRefresh(const protocol::Command& cmd) {
  if (cmd.token.empty() || services_->verifier == nullptr) {
    Disconnect(cmd.token.empty() ? disconnect::kBadRequest : disconnect::kInvalidToken);
    return false;
  }
  const int64_t now = services_->loop->unix_now();
  auth::ConnectionClaims claims;
  switch (services_->verifier->VerifyConnection(cmd.token, now, &claims)) {
    case auth::TokenStatus::kInvalid:
      Disconnect(disconnect::kInvalidToken);
      return false;
    case auth::TokenStatus::kExpired:
      Disconnect(disconnect::kExpired);
      return false;
    case auth::TokenStatus::kOk:
      break;
  }
  if (claims.user != user_) {
    Disconnect(disconnect::kInvalidToken);
    return false;
  }
  int64_t expiry = ExpiryOf(claims);
  if (expiry != 0 && expiry <= now) {
    Disconnect(disconnect::kExpired);
    return false;
  }
  expires_at_ = expiry;
  if (!claims.info.empty()) conn_info_ = std::move(claims.info);
  protocol::RefreshResult result;
  result.client = client_id();  // JS 5.x copies it into its state (spec §2.10)
  result.version = services_->version;
  result.expires = expires_at_ != 0;
  result.ttl = TtlSeconds(expires_at_, now);
  std::string& out = services_->replies;
  if (!out.empty()) out += '\n';
  protocol::AppendRefreshReply(out, version(), cmd.id, Method::kRefresh, result);
  return true;
}

bool Session::HandleSubRefresh(const protocol::Command& cmd) {
  if (cmd.channel.empty()) {
    Disconnect(disconnect::kBadRequest);
    return false;
  }
  int index = services_->hub->Find(this, cmd.channel);
  if (index < 0) {
    ReplyError(cmd.id, error::kPermissionDenied);
    return true;
  }
  if (cmd.token.empty()) {
    ReplyError(cmd.id, error::kBadRequest);
    return true;
  }
  if (services_->verifier == nullptr) {
    Disconnect(disconnect::kInvalidToken);
    return false;
  }
  const int64_t now = services_->loop->unix_now();
  auth::SubscriptionClaims claims;
  switch (services_->verifier->VerifySubscription(cmd.token, now, &claims)) {
    case auth::TokenStatus::kInvalid:
      Disconnect(disconnect::kInvalidToken);
      return false;
    case auth::TokenStatus::kExpired:
      Disconnect(disconnect::kSubExpired);
      return false;
    case auth::TokenStatus::kOk:
      break;
  }
  if (const TokenMatch m = MatchSubToken(claims, cmd.channel); m != TokenMatch::kOk) {
    if (m == TokenMatch::kPermission) {
      ReplyError(cmd.id, error::kPermissionDenied);
      return true;
    }
    Disconnect(disconnect::kInvalidToken);
    return false;
  }
  int64_t expiry = ExpiryOf(claims);
  if (expiry != 0 && expiry <= now) {
    ReplyError(cmd.id, error::kExpired);
    return true;
  }
  mutable_subs()[static_cast<size_t>(index)].expires_at = expiry;
  protocol::RefreshResult result;
  result.expires = expiry != 0;
  result.ttl = TtlSeconds(expiry, now);
  std::string& out = services_->replies;
  if (!out.empty()) out += '\n';
  protocol::AppendRefreshReply(out, version(), cmd.id, Method::kSubRefresh, result);
  return true;
}

void Session::SchedulePing(bool first) {
  const int64_t interval = services_->config->ping_interval.count();
  if (interval <= 0) {
    next_ping_ms_ = INT64_MAX;
    return;
  }
  int64_t delay = interval;
  if (first) {
    // First ping at a random point in [interval/2, interval) spreads pings of a reconnect storm.
    delay = interval / 2 + static_cast<int64_t>(services_->random.U64() % static_cast<uint64_t>(interval / 2 + 1));
  }
  next_ping_ms_ = services_->loop->now_ms() + delay;
}

void Session::OnTick() {
  const config::Config& cfg = *services_->config;
  const int64_t now_ms = services_->loop->now_ms();
  if (state_ == State::kNew) {
    if (now_ms - created_ms_ >= cfg.client_stale_close_delay.count()) Disconnect(disconnect::kStale);
    return;
  }
  if (state_ != State::kConnected) return;
  if (pong_pending_ && now_ms >= pong_deadline_ms_) {
    Disconnect(disconnect::kNoPong);
    return;
  }
  if (now_ms >= next_ping_ms_) {
    if (v1()) {
      SendTransportPing();  // JS 2.x answers WebSocket pings; it also pings us with method 7
    } else {
      SendLines("{}");
      if (cfg.pong_timeout.count() > 0) {
        pong_pending_ = true;
        pong_deadline_ms_ = now_ms + cfg.pong_timeout.count();
      }
    }
    SchedulePing(false);
  }
  const int64_t now = services_->loop->unix_now();
  if (expires_at_ != 0 && now >= expires_at_ + cfg.client_expired_close_delay.count() / 1000) {
    Disconnect(disconnect::kExpired);
    return;
  }
  // Subscriptions whose token expired and was not refreshed in time.
  auto& list = mutable_subs();
  for (size_t i = 0; i < list.size();) {
    const hub::Subscription& s = list[i];
    if (s.expires_at == 0 || now < s.expires_at + cfg.client_expired_sub_close_delay.count() / 1000) {
      ++i;
      continue;
    }
    if (s.server_side) {
      Disconnect(disconnect::kSubExpired);
      return;
    }
    std::string& out = services_->replies;
    out.clear();
    protocol::AppendUnsubscribePush(out, version(), s.channel->name, protocol::unsubscribe_code::kExpired,
                                    "subscription expired");
    LeaveChannel(i);  // swap-remove: index i now holds another subscription
    Flush();
  }
  if (now_ms >= next_presence_ms_) {
    // Presence entries expire after presence_ttl unless refreshed (spec §8.1).
    next_presence_ms_ = now_ms + cfg.client_presence_update_interval.count();
    for (const hub::Subscription& sub : subs()) {
      if (!sub.presence) continue;
      engine::PresenceEntry entry{std::string(client_id()), user_, conn_info_, sub.chan_info};
      services_->engine->presence().Add(sub.channel->name, entry, cfg.presence_ttl.count(), now_ms);
    }
  }
}

}  // namespace instant::client
