#include "redis/client.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <utility>

#include "base/log.h"
#include "net/conn.h"

namespace instant::redis {
namespace {

constexpr int64_t kNoDeadline = std::numeric_limits<int64_t>::max();
// tails_ is compacted once this many consumed bytes sit at its front.
constexpr size_t kTailsCompactBytes = 64 * 1024;
// Buffers larger than this are released instead of kept for reuse once drained.
constexpr size_t kKeepBufferBytes = 256 * 1024;

// The error text of a synthetic failure reply: a code word first, like Redis's own errors.
std::string_view FailureText(Failure f) {
  switch (f) {
    case Failure::kNone: return "";
    case Failure::kNotConnected: return "NOTCONNECTED redis is not connected";
    case Failure::kConnectionLost: return "CONNLOST connection to redis lost before the reply";
    case Failure::kTimeout: return "TIMEOUT no reply from redis within io_timeout";
    case Failure::kProtocolError: return "PROTOCOL invalid reply from redis";
    case Failure::kClosed: return "CLOSED redis client stopped";
    case Failure::kOverloaded: return "OVERLOADED too many pending redis commands";
    case Failure::kWrongMode: return "WRONGMODE command not allowed in this redis client mode";
    case Failure::kRefused: return "REFUSED command not allowed through Client::Command";
  }
  return "";
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char c = a[i];
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (c != b[i]) return false;
  }
  return true;
}

// Commands after which Redis no longer answers one reply per command (pub/sub, MONITOR), switches
// protocol (HELLO) or forgets AUTH/SELECT (RESET): each would desynchronise the callback FIFO.
bool BreaksPairing(const Arg& name) {
  if (name.is_integer()) return false;
  static constexpr std::string_view kRefused[] = {
      "SUBSCRIBE",   "PSUBSCRIBE",   "SSUBSCRIBE", "UNSUBSCRIBE", "PUNSUBSCRIBE",
      "SUNSUBSCRIBE", "MONITOR",     "HELLO",      "RESET"};
  for (std::string_view r : kRefused) {
    if (EqualsIgnoreCase(name.view(), r)) return true;
  }
  return false;
}

void ReleaseIfLarge(std::string& s) {
  if (s.capacity() > kKeepBufferBytes) {
    std::string().swap(s);
  } else {
    s.clear();
  }
}

bool IsBulk(const Reply& r, std::string_view text) { return r.is_bulk() && r.str() == text; }

// The synthetic error reply a failed command's callback receives: "<CODE> <text>[: <detail>]".
class FailureReply {
 public:
  FailureReply(Failure failure, std::string_view detail) : text_(FailureText(failure)) {
    if (!detail.empty()) {
      text_ += ": ";
      text_ += detail;
    }
    node_.type = ReplyType::kError;
    node_.str_size = static_cast<uint32_t>(text_.size());
  }
  Reply reply() const { return Reply(&node_, text_.data()); }

 private:
  std::string text_;
  ReplyNode node_;
};

}  // namespace

std::string_view FailureName(Failure f) {
  switch (f) {
    case Failure::kNone: return "none";
    case Failure::kNotConnected: return "not connected";
    case Failure::kConnectionLost: return "connection lost";
    case Failure::kTimeout: return "timeout";
    case Failure::kProtocolError: return "protocol error";
    case Failure::kClosed: return "closed";
    case Failure::kOverloaded: return "overloaded";
    case Failure::kWrongMode: return "wrong mode";
    case Failure::kRefused: return "refused";
  }
  return "?";
}

std::string_view StateName(State s) {
  switch (s) {
    case State::kDisconnected: return "disconnected";
    case State::kConnecting: return "connecting";
    case State::kConnected: return "connected";
  }
  return "?";
}

// ---------------------------------------------------------------------------------------------
// Connection: the socket once connected, as a net::Conn so the loop corks and flushes it.
// ---------------------------------------------------------------------------------------------

class Client::Connection final : public net::Conn {
 public:
  Connection(net::Loop* loop, int fd, Client* client) : Conn(loop, fd), client_(client) {}
  // After Detach() the client is no longer told anything (it is closing us on purpose).
  void Detach() { client_ = nullptr; }

 protected:
  size_t OnRead(char* data, size_t size) override {
    // The parser copies what it keeps, so every byte is consumed and Conn keeps no input buffer.
    if (client_ != nullptr) client_->OnData(data, size);
    return size;
  }
  void OnClose() override {
    Client* c = std::exchange(client_, nullptr);
    if (c != nullptr) c->OnConnectionClosed();
  }

 private:
  Client* client_;
};

// ---------------------------------------------------------------------------------------------
// Lifecycle
// ---------------------------------------------------------------------------------------------

Client::Client(net::Loop* loop, ClientOptions options)
    : loop_(loop),
      options_(std::move(options)),
      log_name_(options_.name + " " + options_.address.ToString()),
      timer_(loop, [this] { OnTimer(); }),
      parser_(options_.limits),
      rng_(static_cast<uint32_t>(std::random_device{}())) {}

Client::~Client() { Stop(); }

void Client::Start() {
  if (started_) return;
  started_ = true;
  attempts_ = 0;
  Connect();
}

void Client::Stop() {
  if (!started_ && state_ == State::kDisconnected && pending_.empty()) return;
  started_ = false;
  reconnect_scheduled_ = false;
  timer_.Disarm();
  const bool was_open = state_ != State::kDisconnected;
  CloseSocket();
  if (was_open) log::Info(log::With{{"redis", log_name_}}, "redis: stopped");
  std::deque<Pending> failed;
  failed.swap(pending_);
  FailAll(failed, Failure::kClosed, "");
}

void Client::Connect() {
  reconnect_scheduled_ = false;
  if (!resolved_) {
    std::string error;
    if (!Resolve(options_.address, &endpoint_, &error)) {
      if (attempts_ == 0) log::Warn(log::With{{"redis", log_name_}}, "redis: {}", error);
      ScheduleReconnect();
      return;
    }
    resolved_ = true;
  }
  const int fd = ::socket(endpoint_.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    log::Warn(log::With{{"redis", log_name_}}, "redis: socket(): {}", std::strerror(errno));
    ScheduleReconnect();
    return;
  }
  // We batch per loop iteration ourselves; Nagle would hold the next batch back for an ACK.
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

  state_ = State::kConnecting;
  ++generation_;
  parser_.Reset();
  connect_deadline_ms_ = Timer::Now() + options_.connect_timeout_ms;

  // The handshake goes out as soon as TCP is up, in one write; its replies gate kConnected.
  handshake_.clear();
  const Address& a = options_.address;
  if (!a.password.empty()) {
    if (a.user.empty()) {
      AppendCommand(handshake_, {"AUTH", a.password});
    } else {
      AppendCommand(handshake_, {"AUTH", a.user, a.password});
    }
    pending_.push_back(Pending{{}, nullptr, 0, 0, Kind::kAuth});
  }
  if (a.db != 0) {
    AppendCommand(handshake_, {"SELECT", a.db});
    pending_.push_back(Pending{{}, nullptr, 0, 0, Kind::kSelect});
  }
  if (!options_.subscriber) {
    for (const Script* s : options_.preload_scripts) {
      AppendCommand(handshake_, {"SCRIPT", "LOAD", s->source()});
      pending_.push_back(Pending{{}, s, 0, 0, Kind::kScriptLoad});
    }
  }
  AppendCommand(handshake_, {"PING"});
  pending_.push_back(Pending{{}, nullptr, 0, 0, Kind::kHandshakePing});

  // Subscriber: the wanted set, re-subscribed first thing after the handshake.
  for (const std::string& ch : channels_) {
    AppendCommand(held_, {"SUBSCRIBE", ch});
    pending_.push_back(Pending{{}, nullptr, 0, 0, Kind::kSubscribe});
  }
  for (const std::string& p : patterns_) {
    AppendCommand(held_, {"PSUBSCRIBE", p});
    pending_.push_back(Pending{{}, nullptr, 0, 0, Kind::kPSubscribe});
  }

  const int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&endpoint_.addr), endpoint_.size);
  if (rc == 0) {
    OnTcpConnected(fd);
  } else if (errno == EINPROGRESS) {
    connect_fd_ = fd;
    if (!loop_->Add(fd, EPOLLOUT, this)) {
      connect_fd_ = -1;
      ::close(fd);
      Drop(Failure::kNotConnected, "epoll refused the socket");
      return;
    }
  } else {
    const int err = errno;
    ::close(fd);
    Drop(Failure::kNotConnected, std::strerror(err));
    return;
  }
  RescheduleTimer();
}

void Client::OnIo(uint32_t events) {
  if (connect_fd_ < 0) return;
  int err = 0;
  socklen_t len = sizeof(err);
  if (::getsockopt(connect_fd_, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
  const int fd = connect_fd_;
  connect_fd_ = -1;
  loop_->Remove(fd);
  if (err != 0) {
    ::close(fd);
    Drop(Failure::kNotConnected, std::strerror(err));
    return;
  }
  OnTcpConnected(fd);
}

void Client::OnTcpConnected(int fd) {
  auto* conn = new Connection(loop_, fd, this);
  if (!conn->Start()) {
    delete conn;  // never registered: its destructor closes the fd
    Drop(Failure::kNotConnected, "epoll refused the socket");
    return;
  }
  conn_ = conn;
  conn_->Write(handshake_);
  handshake_.clear();
}

void Client::OnHandshakeDone() {
  state_ = State::kConnected;
  attempts_ = 0;
  last_progress_ms_ = loop_->now_ms();
  if (!held_.empty()) {
    conn_->Write(held_);
    ReleaseIfLarge(held_);
  }
  log::Info(log::With{{"redis", log_name_}}, "redis: connected");
  RescheduleTimer();
  if (state_handler_) state_handler_(State::kConnected);
}

void Client::HandshakeFailed(std::string_view step, const Reply& reply) {
  std::string detail(step);
  detail += " failed: ";
  detail += reply.is_error() ? reply.str() : std::string_view("unexpected reply");
  Drop(Failure::kNotConnected, detail);
}

void Client::OnConnectionClosed() {
  conn_ = nullptr;  // the loop deletes it at the end of the iteration
  Drop(Failure::kConnectionLost, "connection closed");
}

// The socket (connected or connecting) and the per-connection parse/write state, for Stop and Drop.
void Client::CloseSocket() {
  if (conn_ != nullptr) {
    conn_->Detach();
    conn_->Close();
    conn_ = nullptr;
  }
  if (connect_fd_ >= 0) {
    loop_->Remove(connect_fd_);
    ::close(connect_fd_);
    connect_fd_ = -1;
  }
  state_ = State::kDisconnected;
  ++generation_;
  parser_.Reset();
  handshake_.clear();
  ReleaseIfLarge(held_);
  ReleaseIfLarge(tails_);
  tails_pos_ = 0;
}

void Client::Drop(Failure failure, std::string_view detail) {
  const bool was_connected = state_ == State::kConnected;
  CloseSocket();

  // Log once per outage, then about once a minute at the 2 s cap.
  if (was_connected) {
    log::Warn(log::With{{"redis", log_name_}}, "redis: connection lost ({}): {}", FailureName(failure), detail);
  } else if (attempts_ == 0 || attempts_ % 30 == 0) {
    log::Warn(log::With{{"redis", log_name_}}, "redis: cannot connect: {}", detail);
  } else {
    log::Debug(log::With{{"redis", log_name_}}, "redis: cannot connect: {}", detail);
  }

  std::deque<Pending> failed;
  failed.swap(pending_);
  if (started_) ScheduleReconnect();
  if (was_connected && state_handler_) state_handler_(State::kDisconnected);
  FailAll(failed, was_connected ? failure : Failure::kNotConnected, detail);
}

void Client::ScheduleReconnect() {
  state_ = State::kDisconnected;
  const int shift = std::min(attempts_, 20);
  int64_t delay = std::min(options_.reconnect_max_ms, options_.reconnect_min_ms << shift);
  delay = std::max<int64_t>(delay, 1);
  // Jitter in [delay/2, delay]: many nodes losing one Redis must not reconnect in lockstep.
  delay = delay / 2 + static_cast<int64_t>(rng_() % static_cast<uint64_t>(delay / 2 + 1));
  ++attempts_;
  retry_at_ms_ = Timer::Now() + delay;
  reconnect_scheduled_ = true;
  RescheduleTimer();
}

void Client::OnTimer() {
  const int64_t now = Timer::Now();
  switch (state_) {
    case State::kDisconnected:
      if (started_ && reconnect_scheduled_ && now >= retry_at_ms_) {
        Connect();
        return;
      }
      break;
    case State::kConnecting:
      if (now >= connect_deadline_ms_) {
        Drop(Failure::kNotConnected, "connect timeout");
        return;
      }
      break;
    case State::kConnected:
      if (options_.io_timeout_ms > 0 && !pending_.empty() &&
          now - last_progress_ms_ >= options_.io_timeout_ms) {
        Drop(Failure::kTimeout, "no reply within io_timeout");
        return;
      }
      if (options_.ping_interval_ms > 0 && pending_.empty() &&
          now - last_progress_ms_ >= options_.ping_interval_ms) {
        SendHealthPing();
      }
      break;
  }
  RescheduleTimer();
}

void Client::RescheduleTimer() {
  int64_t deadline = kNoDeadline;
  switch (state_) {
    case State::kDisconnected:
      if (started_ && reconnect_scheduled_) deadline = retry_at_ms_;
      break;
    case State::kConnecting:
      deadline = connect_deadline_ms_;
      break;
    case State::kConnected:
      if (options_.io_timeout_ms > 0 && !pending_.empty()) {
        deadline = last_progress_ms_ + options_.io_timeout_ms;
      }
      if (options_.ping_interval_ms > 0 && pending_.empty()) {
        deadline = std::min(deadline, last_progress_ms_ + options_.ping_interval_ms);
      }
      break;
  }
  if (deadline == kNoDeadline) return;  // an earlier arming just fires and finds nothing due
  // Only move the timer earlier: a later deadline is picked up when the early one fires, so a
  // busy connection re-arms about once per io_timeout instead of once per reply.
  if (!timer_.armed() || deadline < timer_.deadline_ms()) timer_.ArmAt(deadline);
}

// ---------------------------------------------------------------------------------------------
// Replies
// ---------------------------------------------------------------------------------------------

void Client::OnData(const char* data, size_t size) {
  const uint64_t generation = generation_;
  last_progress_ms_ = loop_->now_ms();
  while (size > 0) {
    size_t used = 0;
    const ReplyParser::Status st = parser_.Parse(data, size, &used);
    data += used;
    size -= used;
    if (st == ReplyParser::Status::kNeedMore) return;
    if (st == ReplyParser::Status::kError) {
      Drop(Failure::kProtocolError, parser_.error());
      return;
    }
    Dispatch(parser_.reply());
    if (generation_ != generation) return;  // a callback stopped us, or the reply was bad
  }
}

void Client::Dispatch(const Reply& reply) {
  if (options_.subscriber && reply.is_array() && reply.size() >= 3) {
    const Reply kind = reply[0];
    if ((IsBulk(kind, "message") && reply.size() == 3) ||
        (IsBulk(kind, "pmessage") && reply.size() == 4)) {
      DeliverMessage(reply);
      return;
    }
  }
  if (pending_.empty()) {
    Drop(Failure::kProtocolError, "reply without a pending command");
    return;
  }
  Pending p = std::move(pending_.front());
  pending_.pop_front();
  switch (p.kind) {
    case Kind::kUser:
      if (p.cb) p.cb(reply, Failure::kNone);
      return;
    case Kind::kEvalSha:
      OnEvalShaReply(p, reply);
      return;
    case Kind::kAuth:
      if (!reply.is_status()) HandshakeFailed("AUTH", reply);
      return;
    case Kind::kSelect:
      if (!reply.is_status()) HandshakeFailed("SELECT", reply);
      return;
    case Kind::kScriptLoad:
      // Not fatal: Eval falls back to EVAL, and reports a script that does not compile.
      if (!reply.is_bulk() || reply.str() != p.script->sha1()) {
        log::Error(log::With{{"redis", log_name_}}, "redis: SCRIPT LOAD {} failed: {}", p.script->sha1(), reply.ToString());
      }
      return;
    case Kind::kHandshakePing:
      if (reply.is_error()) {
        HandshakeFailed("PING", reply);
      } else {
        OnHandshakeDone();
      }
      return;
    case Kind::kHealthPing:
      return;  // any reply is progress; an error here would be odd but harmless
    case Kind::kSubscribe:
    case Kind::kUnsubscribe:
    case Kind::kPSubscribe:
    case Kind::kPUnsubscribe: {
      std::string_view expected = p.kind == Kind::kSubscribe     ? "subscribe"
                                  : p.kind == Kind::kUnsubscribe ? "unsubscribe"
                                  : p.kind == Kind::kPSubscribe  ? "psubscribe"
                                                                 : "punsubscribe";
      if (!reply.is_error() &&
          !(reply.is_array() && reply.size() == 3 && IsBulk(reply[0], expected))) {
        Drop(Failure::kProtocolError, "unexpected reply to " + std::string(expected));
        return;
      }
      if (p.cb) p.cb(reply, Failure::kNone);
      return;
    }
  }
}

void Client::OnEvalShaReply(Pending& p, const Reply& reply) {
  const std::string_view tail(tails_.data() + tails_pos_, p.tail_size);
  if (reply.IsErrorCode("NOSCRIPT")) {
    // Same call as EVAL: header, "EVAL", the source, then the arguments kept from the EVALSHA.
    std::string& out = CommandBuffer();
    AppendArrayHeader(out, p.argc);
    AppendArg(out, "EVAL");
    AppendArg(out, p.script->source());
    out.append(tail);
    PopTail(p.tail_size);
    Commit(Kind::kUser, std::move(p.cb));
    return;
  }
  PopTail(p.tail_size);
  if (p.cb) p.cb(reply, Failure::kNone);
}

void Client::PopTail(size_t size) {
  tails_pos_ += size;
  if (tails_pos_ == tails_.size()) {
    tails_.clear();
    tails_pos_ = 0;
  } else if (tails_pos_ >= kTailsCompactBytes && tails_pos_ * 2 >= tails_.size()) {
    tails_.erase(0, tails_pos_);
    tails_pos_ = 0;
  }
}

void Client::DeliverMessage(const Reply& reply) {
  if (!message_handler_) return;
  Message m;
  auto it = reply.begin();
  ++it;  // "message" / "pmessage"
  if (reply.size() == 4) m.pattern = (*it++).str();
  m.channel = (*it++).str();
  m.payload = (*it).str();
  message_handler_(m);
}

void Client::FailAll(std::deque<Pending>& pending, Failure failure, std::string_view detail) {
  const FailureReply failed(failure, detail);
  for (Pending& p : pending) {
    if (p.cb) p.cb(failed.reply(), failure);
  }
}

void Client::FailOne(Callback& cb, Failure failure, std::string_view detail) {
  if (cb) cb(FailureReply(failure, detail).reply(), failure);
}

// ---------------------------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------------------------

bool Client::Admit(Callback& cb, bool subscription) {
  Failure failure = Failure::kNone;
  std::string_view detail;
  if (subscription != options_.subscriber) {
    failure = Failure::kWrongMode;
  } else if (state_ == State::kDisconnected) {
    failure = Failure::kNotConnected;
    detail = started_ ? "reconnecting" : "client not started";
  } else if (pending_.size() >= options_.max_pending) {
    failure = Failure::kOverloaded;
  }
  if (failure == Failure::kNone) return true;
  FailOne(cb, failure, detail);
  return false;
}

std::string& Client::CommandBuffer() {
  if (state_ == State::kConnected) {
    scratch_.clear();
    return scratch_;
  }
  return held_;
}

void Client::Commit(Kind kind, Callback cb, const Script* script, uint32_t tail_size,
                    uint32_t argc) {
  if (pending_.empty()) {
    // The I/O timeout counts from when we start waiting, not from the last (old) reply. A fresh
    // clock read: commands may come from outside a loop iteration (startup, tests).
    last_progress_ms_ = Timer::Now();
    pending_.push_back(Pending{std::move(cb), script, tail_size, argc, kind});
    RescheduleTimer();
  } else {
    pending_.push_back(Pending{std::move(cb), script, tail_size, argc, kind});
  }
  if (state_ == State::kConnected) {
    // Copied into the connection's backlog; the loop flushes it once at the end of the iteration.
    conn_->Write(scratch_);
    if (scratch_.capacity() > kKeepBufferBytes) std::string().swap(scratch_);
  }
}

void Client::Command(std::span<const Arg> args, Callback cb) {
  if (args.empty() || BreaksPairing(args[0])) {
    FailOne(cb, Failure::kRefused, args.empty() ? "empty command" : args[0].view());
    return;
  }
  if (!Admit(cb, /*subscription=*/false)) return;
  AppendCommand(CommandBuffer(), args);
  Commit(Kind::kUser, std::move(cb));
}

void Client::Eval(const Script& script, std::span<const Arg> keys, std::span<const Arg> args,
                  Callback cb) {
  if (!Admit(cb, /*subscription=*/false)) return;
  const size_t argc = 3 + keys.size() + args.size();
  std::string& out = CommandBuffer();
  AppendArrayHeader(out, argc);
  AppendArg(out, "EVALSHA");
  AppendArg(out, script.sha1());
  // Everything after the script name is kept until the reply, for a NOSCRIPT retry as EVAL.
  const size_t tail_start = out.size();
  AppendArg(out, keys.size());
  for (const Arg& k : keys) AppendArg(out, k);
  for (const Arg& a : args) AppendArg(out, a);
  const size_t tail_size = out.size() - tail_start;
  tails_.append(out, tail_start, tail_size);
  Commit(Kind::kEvalSha, std::move(cb), &script, static_cast<uint32_t>(tail_size),
         static_cast<uint32_t>(argc));
}

void Client::Subscription(Kind kind, std::string_view name, Callback cb) {
  if (options_.subscriber) {
    // The wanted set changes even while disconnected: the next connection restores it.
    auto& set = (kind == Kind::kSubscribe || kind == Kind::kUnsubscribe) ? channels_ : patterns_;
    if (kind == Kind::kSubscribe || kind == Kind::kPSubscribe) {
      if (set.find(name) == set.end()) set.emplace(name);
    } else if (auto it = set.find(name); it != set.end()) {
      set.erase(it);
    }
  }
  if (!Admit(cb, /*subscription=*/true)) return;
  std::string_view verb = kind == Kind::kSubscribe     ? "SUBSCRIBE"
                          : kind == Kind::kUnsubscribe ? "UNSUBSCRIBE"
                          : kind == Kind::kPSubscribe  ? "PSUBSCRIBE"
                                                       : "PUNSUBSCRIBE";
  AppendCommand(CommandBuffer(), {verb, name});
  Commit(kind, std::move(cb));
}

void Client::Subscribe(std::string_view channel, Callback cb) {
  Subscription(Kind::kSubscribe, channel, std::move(cb));
}
void Client::Unsubscribe(std::string_view channel, Callback cb) {
  Subscription(Kind::kUnsubscribe, channel, std::move(cb));
}
void Client::PSubscribe(std::string_view pattern, Callback cb) {
  Subscription(Kind::kPSubscribe, pattern, std::move(cb));
}
void Client::PUnsubscribe(std::string_view pattern, Callback cb) {
  Subscription(Kind::kPUnsubscribe, pattern, std::move(cb));
}

void Client::SendHealthPing() {
  AppendCommand(CommandBuffer(), {"PING"});
  Commit(Kind::kHealthPing, {});
}

}  // namespace instant::redis
