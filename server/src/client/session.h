#pragma once
// Session: one client's Centrifugo protocol state machine (spec §2 v2, §3 v1), independent of the
// transport. It receives whole text messages, decodes their commands in order, checks tokens and
// permissions, subscribes through the loop's hub, publishes through the broker, and answers with
// reply lines. All replies produced while handling one message leave in ONE transport frame
// (lines joined by '\n', spec §1.4).
//
// Engine calls (publish, history, presence, subscribe with positioning) may answer later (Redis
// engine, engine/engine.h). While one is in flight the session handles nothing else: the rest of
// the message and later messages wait, in order, and run when the answer came, so replies keep
// the order of the commands. With the memory engine every answer comes at once and nothing waits.
//
// Threading: a session lives on one loop; every method runs on that loop's thread.
// Lifetime: owned by its transport (node::Connection), which calls OnTransportClosed() exactly
// once before destroying it; from then on it is out of every hub channel.

#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "client/command_rate_limiter.h"
#include "hub/hub.h"
#include "protocol/codes.h"

namespace instant::protocol {
struct Command;
}
namespace instant::config {
struct ChannelOptions;
}
namespace instant::auth {
struct SubscriptionClaims;
}
namespace instant::engine {
struct HistoryResult;
}

namespace instant::client {

struct LoopServices;

class Session : public hub::Subscriber {
 public:
  Session(LoopServices* services, net::Conn* conn);
  virtual ~Session();

  // A complete text message from the client.
  void OnMessage(std::string_view message);
  // Coarse timer (about once a second): stale connections, pings and pongs, token expiry.
  void OnTick();
  // The transport is gone: leave every channel, release counters. Idempotent.
  void OnTransportClosed();

  bool connected() const { return state_ == State::kConnected; }
  std::string_view user() const { return user_; }
  std::string_view client_id() const { return std::string_view(client_id_, sizeof(client_id_)); }
  protocol::Version version() const { return v1() ? protocol::Version::kV1 : protocol::Version::kV2; }

  // Fixes the protocol version from the upgrade URL (cf_protocol_version); otherwise it is
  // sniffed from the first message (spec §1.5).
  void SetVersion(protocol::Version v) {
    set_v1(v == protocol::Version::kV1);
    version_known_ = true;
  }

  // What happens to what is already queued for the client when it is disconnected.
  enum class CloseMode : uint8_t {
    kAfterQueued,  // the close frame follows everything queued (the usual disconnect)
    kDropQueued,   // the client cannot keep up (3008, 3009): what has not started going out is
                   // dropped and the close frame follows the frame in progress
  };
  // Server-initiated disconnect (API `disconnect`, shutdown, slow client...). Counts the code
  // once, leaves every channel, closes with the code and the version's reason. Idempotent.
  void Disconnect(const protocol::Disconnect& d, CloseMode mode = CloseMode::kAfterQueued);

  // Server API operations on this session (run on its loop).
  // `subscribe`: a server-side subscription, announced with a `subscribe` push.
  void ServerSubscribe(std::string_view channel);
  // `unsubscribe`: leaves the channel and sends an `unsubscribe` push with code 2000.
  void ServerUnsubscribe(std::string_view channel);
  // `refresh`: marks the connection expired (closed with 3005) or moves its expiry.
  void ServerRefresh(bool expired, int64_t expire_at);

  // hub::Subscriber: a positioned subscription missed publications. Client-side subscriptions of
  // v2 clients get an unsubscribe push 2500 (the SDK resubscribes and recovers); server-side
  // subscriptions and v1 clients are disconnected with 3010 (spec §6.2, §3.2).
  void OnInsufficientState(std::string_view channel) override;
  // hub::Subscriber: a publication that arrived while this session's positioned subscribe waits
  // for the stream position; FinishSubscribe writes what the client does not get from recovery.
  void OnBuffered(const hub::PubFrameRef& frame) override;

 protected:
  // Transport hooks. SendLines gets one or more JSON lines joined by '\n' for ONE text frame.
  virtual void SendLines(std::string_view lines) = 0;
  // Sends the close frame for `code`/`reason` (after what is queued, or instead of it: `mode`)
  // and closes the transport after flushing.
  virtual void CloseTransport(uint16_t code, std::string_view reason, CloseMode mode) = 0;
  // Protocol v1 keepalive: a WebSocket-level ping frame (spec §1.6).
  virtual void SendTransportPing() = 0;

 private:
  enum class State : uint8_t { kNew, kConnected, kClosed };

  // Each handler appends its reply (or nothing) to replies_. A false return means the session
  // was disconnected and the rest of the message must be dropped.
  bool HandleCommand(const protocol::Command& cmd);
  // client_commands_per_second: counts one command; logs the first refusal of the connection.
  CommandRateLimiter::Verdict TakeCommandToken();
  bool HandleConnect(const protocol::Command& cmd);
  bool HandleSubscribe(const protocol::Command& cmd);
  bool HandleUnsubscribe(const protocol::Command& cmd);
  bool HandlePublish(const protocol::Command& cmd);
  bool HandleRefresh(const protocol::Command& cmd);
  bool HandleSubRefresh(const protocol::Command& cmd);
  bool HandleHistory(const protocol::Command& cmd);
  // What a subscribe needs once the stream position is known (positioned channels read it from
  // the engine first; others finish at once). Values only: the engine may answer after a config
  // reload replaced the options this was built from (docs/architecture/threading.md).
  struct PendingSubscribe {
    uint32_t id = 0;
    std::string channel;
    bool presence = false, join_leave = false;  // the channel's options at subscribe time
    int64_t expires_at = 0;
    uint32_t ttl = 0;
    std::string data;       // subscription token's data, raw JSON
    std::string chan_info;  // subscription token's info, raw JSON
    bool recoverable = false, recovering = false, positioned = false, wants_join_leave = false;
    uint64_t from_offset = 0;
    std::string from_epoch;
  };
  void FinishSubscribe(const PendingSubscribe& p, const engine::HistoryResult* hr);
  // Error 100 to a subscribe the engine could not serve; leaves the hub if joined.
  void FailSubscribe(const PendingSubscribe& p);
  void ReplyHistory(uint32_t id, const engine::HistoryResult& hr);
  bool HandlePresence(const protocol::Command& cmd);
  // After hub->Add: presence entry and join announcement per the channel's options
  // (ChannelOptions::presence, ::join_leave).
  void AfterJoin(size_t index, bool presence, bool join_leave);
  // Leaves subs()[index]: presence entry removed, leave announced, hub membership dropped.
  void LeaveChannel(size_t index);
  // Whether a verified subscription token belongs to this connection and channel.
  enum class TokenMatch : uint8_t { kOk, kInvalid /* close 3500 */, kPermission /* error 103 (v1) */ };
  TokenMatch MatchSubToken(const auth::SubscriptionClaims& claims, std::string_view channel) const;
  void ReplyError(uint32_t id, const protocol::ErrorCode& e);
  // Options of cmd.channel, or nullptr after answering: close 3501 for an empty channel
  // (*keep_going = false), error 107/102 for a bad name or unknown namespace (*keep_going = true).
  const config::ChannelOptions* ChannelFor(const protocol::Command& cmd, bool* keep_going);
  // Error reply to `connect`; stops handling the rest of the message. Returns false.
  bool ConnectError(uint32_t id, const protocol::ErrorCode& e);
  void ReplyEmpty(uint32_t id, const protocol::Command& cmd);
  void Flush();
  void SchedulePing(bool first);
  // Decodes and handles the commands of `message`, skipping the first `skip` (already handled
  // before an engine call made the session wait).
  void ProcessMessage(std::string_view message, size_t skip);
  // Handles the messages that waited for an engine answer, until one waits again.
  void ResumeDeferred();
  // Wraps a continuation for an engine callback: marks the session as waiting; when the engine
  // answers (now or later) runs `fn` unless the session is gone, then, if the answer came later,
  // flushes the replies and resumes the waiting messages. Defined in session.cc.
  template <typename Fn>
  auto Continue(Fn fn);

  LoopServices* services_;
  State state_ = State::kNew;
  bool pong_pending_ = false;
  bool released_ = false;
  bool version_known_ = false;
  bool rate_limit_logged_ = false;  // the first 111 of this connection was logged
  char client_id_[36];
  int64_t created_ms_ = 0;
  int64_t next_ping_ms_ = 0;
  int64_t pong_deadline_ms_ = 0;
  int64_t expires_at_ = 0;  // connection expiry, Unix seconds; 0 = never
  int64_t next_presence_ms_ = 0;
  CommandRateLimiter rate_limiter_;
  std::string user_;
  std::string conn_info_;   // raw JSON from the token's info claim
  bool awaiting_ = false;     // an engine call is in flight
  bool in_message_ = false;   // ProcessMessage is on the stack
  // (message, commands already handled). A list, not a deque: libstdc++'s deque allocates 576 bytes
  // when constructed, which every idle connection would carry (S1 counts bytes per connection).
  std::list<std::pair<std::string, size_t>> deferred_;
  size_t deferred_bytes_ = 0;
  // Engine callbacks hold a weak_ptr: a callback arriving after the session died does nothing.
  std::shared_ptr<char> alive_ = std::make_shared<char>();
  // Publications buffered during a positioned subscribe (one at a time: the session waits).
  std::vector<hub::PubFrameRef> buffered_;
  bool buffer_overflow_ = false;
};

}  // namespace instant::client
