#pragma once
// An asynchronous, pipelined Redis client (RESP2) living on one net::Loop. The foundation of the
// Redis engine (broker, history, presence): spec §8, DESIGN.md decision 4.
//
// Owns: one TCP connection at a time (a net::Conn subclass, so output is corked like every other
// socket of the loop), a ReplyParser, the FIFO of commands waiting for replies, a timerfd for its
// deadlines, and in subscriber mode the set of channels and patterns it must be subscribed to.
//
// Threading: every method must be called on the loop's thread, and every callback runs on it
// (docs/architecture/threading.md). Another thread reaches a client through Loop::Post. There are
// no locks; a worker that needs Redis owns its own clients.
//
// How a command travels:
//   1. Command()/Eval() encodes the command (resp.h) into the connection's output and appends its
//      callback to the FIFO. Nothing is written yet.
//   2. At the end of the loop iteration the loop flushes the connection: every command issued
//      during the iteration leaves in ONE writev (the batching that makes Redis cheap: one
//      syscall instead of one per command; research/performance.md §3).
//   3. Replies are parsed as they arrive and matched to the FIFO in order (Redis answers a
//      connection's commands in order). Each callback runs exactly once.
//
// Connection lifecycle (State):
//   kDisconnected --Start()/backoff timer--> kConnecting: TCP connect, then the handshake
//   [AUTH] [SELECT db] [SCRIPT LOAD...] PING, all in one write. Commands issued meanwhile are held
//   back (not sent) until the handshake succeeded, so a failed AUTH/SELECT never lets them run as
//   the wrong user or in the wrong database.
//   kConnecting --PING answered--> kConnected: held commands are written; the state handler runs.
//   Any failure (connect error, handshake error, connect_timeout_ms, io_timeout_ms without a
//   reply, a protocol error, the peer closing) --> kDisconnected: every waiting callback fails
//   (see Failure), the state handler runs if we were connected, and a reconnect is scheduled after
//   an exponential backoff with jitter (reconnect_min_ms doubling up to reconnect_max_ms, each
//   delay drawn from [d/2, d]). The backoff resets after a successful handshake.
//   Commands issued while kDisconnected fail at once (callback runs before the call returns):
//   the engine must report "unavailable", not queue without bound while Redis is down.
//
// Subscriber mode (ClientOptions::subscriber): RESP2 allows only (P)SUBSCRIBE/(P)UNSUBSCRIBE on a
// subscribed connection, so pub/sub uses its own Client. Subscribe()/Unsubscribe() edit the set of
// wanted channels and send the command; published messages go to the message handler. After a
// reconnect the client re-subscribes to the whole set by itself (messages published while it was
// disconnected are lost: the state handler tells the engine when that happened). Command() and
// Eval() are refused in this mode, Subscribe() and friends outside it (Failure::kWrongMode).
//
// Scripts: Eval() sends EVALSHA. If Redis answers NOSCRIPT (its script cache is empty: first use
// after a Redis start, or SCRIPT FLUSH) the client resends the same call as EVAL, which also loads
// the script, and the original callback gets the EVAL reply. The retry is sent when the NOSCRIPT
// arrives, so it may run after commands issued later; list scripts in preload_scripts to have
// them loaded by the handshake, which makes NOSCRIPT (and that reordering) happen only after a
// SCRIPT FLUSH on a live connection.
//
// Callbacks may issue new commands and may call Stop(). They must not destroy the Client; destroy
// it from outside its own callbacks and outside the loop's I/O step (e.g. from a posted task), and
// before the Loop. The destructor fails waiting callbacks with Failure::kClosed.
//
// Blocking commands (BLPOP, WAIT, ...) would stall the pipeline and trip io_timeout_ms: do not use
// them on a shared client.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <initializer_list>
#include <random>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "net/loop.h"
#include "redis/address.h"
#include "redis/resp.h"
#include "redis/script.h"
#include "redis/timer.h"

namespace instant::redis {

// Why a command got no reply from Redis. kNone means it did, and the reply may still be an error
// reply (WRONGTYPE, NOSCRIPT after a failed fallback, ...).
enum class Failure : uint8_t {
  kNone,
  kNotConnected,    // not executed: the client was disconnected, not started, or the connection
                    // failed before the handshake completed
  kConnectionLost,  // sent, then the connection dropped: the command may or may not have run
  kTimeout,         // sent, no reply within io_timeout_ms: the connection was dropped; may have run
  kProtocolError,   // Redis sent something that is not valid RESP2 or does not match the FIFO;
                    // the connection was dropped; may have run
  kClosed,          // Stop() or the destructor; may have run if it was already sent
  kOverloaded,      // not executed: max_pending commands were already waiting
  kWrongMode,       // not executed: a command in subscriber mode or a subscription in command mode
  kRefused,         // not executed: an empty command, or one that would break the one-reply-per-
                    // command pairing (SUBSCRIBE family, MONITOR, HELLO, RESET: use the API)
};
// "not connected", "connection lost", ...: stable short names for logs and metrics.
std::string_view FailureName(Failure failure);

// A command's outcome. With failure == kNone `reply` is what Redis answered; otherwise `reply` is
// a synthetic error reply describing the failure (e.g. "CONNLOST connection to redis lost before
// the reply"), so code that only checks reply.is_error() still does the right thing. The reply is
// valid only during the call: copy what you keep.
using Callback = std::function<void(const Reply& reply, Failure failure)>;

// A published message (subscriber mode). Views valid only during the handler call.
struct Message {
  std::string_view pattern;  // the matching pattern for PSUBSCRIBE deliveries, else empty
  std::string_view channel;
  std::string_view payload;
};
using MessageHandler = std::function<void(const Message& message)>;

enum class State : uint8_t { kDisconnected, kConnecting, kConnected };
std::string_view StateName(State state);
// Runs on every change between kConnected and "not connected": kConnected once the handshake
// succeeded, kDisconnected when a connected client loses its connection. Failed reconnect
// attempts in between do not call it again. Stop() does not call it.
using StateHandler = std::function<void(State state)>;

struct ClientOptions {
  Address address;
  std::string name = "redis";     // log prefix ("redis broker 0")
  bool subscriber = false;        // pub/sub mode (see above)
  int64_t connect_timeout_ms = 1000;  // TCP connect + handshake; Centrifugo redis_connect_timeout
  // Longest wait for the next reply while commands are outstanding; 0 = none. Centrifugo's
  // redis_io_timeout (4 s).
  int64_t io_timeout_ms = 4000;
  // When > 0, a PING is sent after this long without traffic, so a dead peer (silent network
  // loss) is detected by io_timeout_ms even on an idle subscriber connection.
  int64_t ping_interval_ms = 0;
  int64_t reconnect_min_ms = 50;
  int64_t reconnect_max_ms = 2000;
  // Commands waiting for a reply (or held while connecting) beyond which new ones fail with
  // kOverloaded: a stalled Redis must not make our memory grow without bound.
  size_t max_pending = size_t{1} << 20;
  // Loaded with SCRIPT LOAD during every handshake (command mode only). Must outlive the client.
  std::vector<const Script*> preload_scripts;
  ParserLimits limits;
};

class Client final : private net::IoHandler {
 public:
  Client(net::Loop* loop, ClientOptions options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Set before Start(). The handlers may issue commands.
  void set_state_handler(StateHandler handler) { state_handler_ = std::move(handler); }
  void set_message_handler(MessageHandler handler) { message_handler_ = std::move(handler); }

  // Starts connecting (no-op if already started). Resolves the host on first use (may block on
  // DNS for a name; numeric addresses never block). Connection failures are retried forever with
  // backoff until Stop().
  void Start();
  // Closes the connection, fails every waiting callback with kClosed and stops reconnecting.
  // Start() may be called again later. Subscriptions are kept for the next Start().
  void Stop();

  State state() const { return state_; }
  bool connected() const { return state_ == State::kConnected; }
  // Commands waiting for a reply or held for the handshake (internal ones included).
  size_t pending() const { return pending_.size(); }
  const ClientOptions& options() const { return options_; }

  // --- Command mode -----------------------------------------------------------------------

  // Queues one command, e.g. Command({"SET", key, value, "EX", 60}, cb). The arguments are copied
  // (encoded) before the call returns. `cb` may be empty (fire and forget). Commands that change
  // the connection's protocol state are refused (Failure::kRefused); SELECT and AUTH go through but
  // would only last until the next reconnect: set them in ClientOptions::address instead.
  void Command(std::span<const Arg> args, Callback cb = {});
  void Command(std::initializer_list<Arg> args, Callback cb = {}) {
    Command(std::span<const Arg>(args.begin(), args.size()), std::move(cb));
  }

  // Runs `script` with EVALSHA (falling back to EVAL on NOSCRIPT, see above): KEYS = keys,
  // ARGV = args. `script` must outlive the client.
  void Eval(const Script& script, std::span<const Arg> keys, std::span<const Arg> args,
            Callback cb = {});
  void Eval(const Script& script, std::initializer_list<Arg> keys, std::initializer_list<Arg> args,
            Callback cb = {}) {
    Eval(script, std::span<const Arg>(keys.begin(), keys.size()),
         std::span<const Arg>(args.begin(), args.size()), std::move(cb));
  }

  // --- Subscriber mode ----------------------------------------------------------------------

  // Adds `channel` to the wanted set and sends SUBSCRIBE. `cb` gets Redis's confirmation
  // (["subscribe", channel, count]) or a failure; whatever it gets, the channel stays wanted and
  // is subscribed again after every reconnect, until Unsubscribe(). One command per channel, so
  // confirmations match callbacks one to one.
  void Subscribe(std::string_view channel, Callback cb = {});
  // Removes `channel` from the wanted set and sends UNSUBSCRIBE (["unsubscribe", channel, count]).
  void Unsubscribe(std::string_view channel, Callback cb = {});
  // The same for glob patterns (messages carry Message::pattern).
  void PSubscribe(std::string_view pattern, Callback cb = {});
  void PUnsubscribe(std::string_view pattern, Callback cb = {});

 private:
  class Connection;
  enum class Kind : uint8_t {
    kUser,
    kEvalSha,        // a user Eval: its arguments wait in tails_ for a NOSCRIPT retry
    kAuth,
    kSelect,
    kScriptLoad,
    kHandshakePing,  // the last handshake reply: kConnecting -> kConnected
    kHealthPing,
    kSubscribe,
    kUnsubscribe,
    kPSubscribe,
    kPUnsubscribe,
  };
  struct Pending {
    Callback cb;
    const Script* script = nullptr;  // kEvalSha, kScriptLoad
    uint32_t tail_size = 0;          // kEvalSha: bytes of its encoded arguments in tails_
    uint32_t argc = 0;               // kEvalSha: elements of the command array
    Kind kind = Kind::kUser;
  };

  // net::IoHandler: completion of the non-blocking connect().
  void OnIo(uint32_t events) override;

  void Connect();
  void OnTcpConnected(int fd);
  void OnHandshakeDone();
  void HandshakeFailed(std::string_view step, const Reply& reply);
  // Called by Connection when the socket is gone.
  void OnConnectionClosed();
  // Tears the connection down, fails every waiting callback, schedules a reconnect unless
  // stopped. `failure` applies if we were connected; commands of a connection that never
  // completed its handshake fail with kNotConnected.
  void CloseSocket();
  void Drop(Failure failure, std::string_view detail);
  void ScheduleReconnect();
  void OnTimer();
  void RescheduleTimer();

  void OnData(const char* data, size_t size);
  void Dispatch(const Reply& reply);
  void OnEvalShaReply(Pending& p, const Reply& reply);
  void DeliverMessage(const Reply& reply);
  void PopTail(size_t size);

  // Returns true if a new command may be queued now; otherwise fails `cb` and returns false.
  bool Admit(Callback& cb, bool subscription);
  // Where the next command's bytes go: the handshake-held buffer while connecting, a scratch
  // buffer (then the connection) when connected.
  std::string& CommandBuffer();
  void Commit(Kind kind, Callback cb, const Script* script = nullptr, uint32_t tail_size = 0,
              uint32_t argc = 0);
  void Subscription(Kind kind, std::string_view name, Callback cb);
  void SendHealthPing();
  // Run callbacks with the synthetic error reply of `failure` (see Callback).
  static void FailAll(std::deque<Pending>& pending, Failure failure, std::string_view detail);
  static void FailOne(Callback& cb, Failure failure, std::string_view detail);

  net::Loop* const loop_;
  const ClientOptions options_;
  std::string log_name_;
  Timer timer_;
  ReplyParser parser_;
  std::minstd_rand rng_;

  State state_ = State::kDisconnected;
  bool started_ = false;
  uint64_t generation_ = 0;        // bumped per connection: detects teardown inside callbacks
  Connection* conn_ = nullptr;     // owned by the loop once started (deferred deletion)
  int connect_fd_ = -1;            // socket while connect() is in progress
  bool resolved_ = false;
  Endpoint endpoint_;

  int attempts_ = 0;               // failed attempts since the last successful handshake
  bool reconnect_scheduled_ = false;
  int64_t retry_at_ms_ = 0;
  int64_t connect_deadline_ms_ = 0;
  int64_t last_progress_ms_ = 0;   // last reply, or when the FIFO became non-empty

  std::deque<Pending> pending_;
  std::string handshake_;          // handshake bytes, written when TCP connects
  std::string held_;               // commands issued during the handshake
  std::string scratch_;            // encoding buffer for the connected path
  std::string tails_;              // encoded EVALSHA arguments, FIFO (see OnEvalShaReply)
  size_t tails_pos_ = 0;

  std::set<std::string, std::less<>> channels_;  // subscriber mode: wanted subscriptions
  std::set<std::string, std::less<>> patterns_;

  StateHandler state_handler_;
  MessageHandler message_handler_;
};

}  // namespace instant::redis
