#include "subscriber.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "histogram.h"
#include "jwt.h"
#include "session_accounting.h"
#include "sock_diag.h"
#include "util.h"

namespace instant::bench {

namespace {

enum ConnState : uint8_t {
  kIdle = 0,       // not started (or left, waiting to reconnect)
  kConnecting,     // connect() in progress
  kUpgrading,      // upgrade request sent, waiting for the 101
  kAwaitReplies,   // connect+subscribe frame sent
  kSubscribed,
  kDead,           // failed or closed (handshake mode: also done)
};

// S7: where a slow connection stands.
enum SlowState : uint8_t {
  kSlowNo = 0,       // not a slow connection, or not stopped yet
  kSlowStopped,      // no longer read; its server end was still established at the last look
  kSlowDropped,      // the server dropped it (its end left ESTABLISHED, or the socket errored)
};

struct Conn {
  int fd = -1;
  ConnState state = kIdle;
  uint8_t replies = 0;      // bit k: reply to command id k+1 OK
  uint8_t frag_op = 0;      // opcode of a fragmented message being reassembled
  bool want_write = false;
  bool slow = false;        // S7: stops reading in the slow half
  bool reconnecting = false;  // channels mode: a churn reconnect, not part of the ramp
  SlowState slow_state = kSlowNo;
  bool slow_in_epoll = true;  // S7: still registered with the epoll set
  int32_t session = -1;     // channels mode: index into sessions_
  int64_t connect_ns = 0;   // when connect() was issued
  int64_t deadline_ns = 0;
  // S7: the connection's 4-tuple (addresses in network order), to ask for the server's end.
  uint32_t local_addr = 0, peer_addr = 0;
  uint16_t local_port = 0, peer_port = 0;
  int64_t slow_bytes = 0;   // S7: bytes read at the final check
  std::string in;           // unconsumed input: HTTP head or partial frame
  std::string out;          // output the kernel did not take yet
  std::string frag;         // fragmented message (servers rarely fragment)
  char key[25] = {};        // Sec-WebSocket-Key
};

constexpr size_t kReadBuffer = 256 * 1024;
constexpr size_t kMinRead = 64 * 1024;
constexpr size_t kMaxHttpHead = 16 * 1024;
constexpr int kMaxEvents = 1024;
// Channels mode keeps every delivery as 8 bytes until the run ends (exact matching); past this
// many per worker (256 MB) it stops keeping them and says so.
constexpr size_t kMaxKeptDeliveries = 32u << 20;
constexpr int64_t kTcpPollNs = 250'000'000;   // S7: how often the server's ends are looked at
constexpr int64_t kSlowQuietNs = 500'000'000;  // S7 final read: nothing more for this long = done

class Worker {
 public:
  explicit Worker(const SubscriberConfig& config)
      : cfg_(config),
        opt_(*config.options),
        status_(config.shared->workers[config.worker]),
        conns_(config.count),
        last_idx_(static_cast<size_t>(config.count) * config.streams, -1),
        buf_(kReadBuffer),
        rng_(NowNs() ^ (uint64_t(getpid()) << 32)) {
    result_.connections = config.count;
    plain_ = opt_.protocol == "plain";
    handshake_mode_ = opt_.mode == Mode::kHandshake;
    channels_mode_ = opt_.mode == Mode::kChannels;
    layout_ = {opt_.connections, opt_.group_size, opt_.personal};
    if (!opt_.token_secret.empty()) signer_ = std::make_unique<TokenSigner>(opt_.token_secret);
    // Replies that complete a handshake: connect (bit 0), then one per subscribe.
    if (handshake_mode_) {
      required_replies_ = opt_.handshake_subscribe ? 3 : 1;
    } else if (channels_mode_) {
      required_replies_ = opt_.personal ? 7 : 3;
    } else {
      required_replies_ = 3;
    }
    target_ = config.count;
    per_worker_rate_ = opt_.connect_rate / opt_.procs;
    max_pending_ = opt_.max_pending / opt_.procs;
    if (max_pending_ < 1) max_pending_ = 1;
    if (opt_.slow_fraction > 0) slow_every_ = std::max(2, static_cast<int>(std::lround(1.0 / opt_.slow_fraction)));
    churn_per_s_ = opt_.churn * config.count;
    server_.sin_family = AF_INET;
    server_.sin_port = htons(static_cast<uint16_t>(opt_.port));
    inet_pton(AF_INET, opt_.host.c_str(), &server_.sin_addr);
    if (channels_mode_) {
      sessions_.reserve(static_cast<size_t>(config.count) * 2);
      // Roughly what the run will deliver here, so that the vector rarely grows while measuring.
      const double members = opt_.personal_share + (1 - opt_.personal_share) * opt_.group_size;
      const double estimate = opt_.rate * opt_.duration * members * config.count / std::max(1, opt_.connections);
      deliveries_.reserve(std::min<size_t>(kMaxKeptDeliveries, static_cast<size_t>(estimate * 1.2) + 1024));
    }
  }

  int Run();

 private:
  int Global(int i) const { return cfg_.first_conn + i; }
  bool IsSlow(int global) const { return slow_every_ > 0 && global % slow_every_ == slow_every_ / 2; }
  void StartConnect(int i, int64_t now);
  void OnEvent(int i, uint32_t events, int64_t now);
  void OnConnected(Conn& c, int i, int64_t now);
  void OnReadable(Conn& c, int i, int64_t now);
  // Returns the first byte of an incomplete frame (== end when all consumed), or nullptr when
  // the connection was closed while processing.
  const char* ParseFrames(Conn& c, int i, const char* p, const char* end, int64_t now);
  void ProcessText(Conn& c, int i, const char* p, size_t n, int64_t now, int* pongs);
  void OnPublication(Conn& c, int i, const char* s, const char* e, int64_t now);
  void HandleReply(Conn& c, int i, const char* p, size_t n, int64_t now);
  const std::string& Commands(int i);  // the connect (+ subscribe) frame payload of connection i
  void MarkSubscribed(Conn& c, int i, int64_t now);  // a handshake completed
  void Send(Conn& c, const char* data, size_t len);
  void SendFrame(Conn& c, uint8_t opcode, const char* payload, size_t len);
  void FlushOut(Conn& c, int i);
  void Fail(Conn& c, Failure kind, const char* detail, size_t detail_len = std::string::npos);
  // The server ended a subscribed connection: close frame `code` (0 = none), EOF or an error.
  void ServerClosed(Conn& c, int code, bool error, const char* why, int64_t now);
  void CheckDeadlines(int64_t now);
  void NoteError(const char* fmt_prefix, const char* detail, size_t detail_len);
  void Resolve() {  // one handshake left the pending set
    --pending_;
    ++resolved_;
  }
  void ResetConn(Conn& c);  // drops the socket and the buffers' contents
  // Channels mode.
  void EndSession(Conn& c, int64_t now);
  void Churn(int64_t now);
  void Leave(Conn& c, int i, int64_t now);
  // S7.
  void StopSlow(int64_t now);
  void PollServerSide(int64_t now);
  void NoteSlowDropped(Conn& c, int64_t now);
  void StartSlowCheck(int64_t now);
  bool SlowCheckDone(int64_t now);
  void Finish();
  bool WriteResult();

  const SubscriberConfig& cfg_;
  const Options& opt_;
  WorkerStatus& status_;
  std::vector<Conn> conns_;
  std::vector<int32_t> last_idx_;
  std::vector<char> buf_;
  LatencyHistogram hist_;
  // S7: healthy deliveries published before the slow half; channels mode: reconnect handshakes.
  LatencyHistogram second_hist_;
  WorkerResult result_;
  FastRandom rng_;
  std::unique_ptr<TokenSigner> signer_;
  std::string token_;     // reused per connection
  std::string commands_;  // reused per connection
  ChannelLayout layout_;
  sockaddr_in server_{};
  int ep_ = -1;
  int started_ = 0;
  int target_ = 0;        // connections to start; handshake mode lowers it when the storm ends
  int scan_from_ = 0;     // handshake mode: connections below this one are all resolved
  int pending_ = 0;
  int resolved_ = 0;
  int max_pending_ = 1;
  uint8_t required_replies_ = 3;
  double per_worker_rate_ = 1;
  bool counting_ = false;  // publish phase reached: count reads/frames/bytes
  bool plain_ = false;     // --protocol plain
  bool handshake_mode_ = false;
  bool channels_mode_ = false;
  int64_t alive_ = 0;
  // Channels mode.
  double churn_per_s_ = 0;
  int64_t churn_start_ns_ = 0;
  int64_t churned_ = 0;
  std::vector<int> reconnect_queue_;
  std::vector<Session> sessions_;
  std::vector<uint64_t> deliveries_;
  int64_t early_deliveries_ = 0;
  // S7.
  int slow_every_ = 0;
  int64_t slow_start_ns_ = 0;
  bool slow_stopped_ = false;
  std::vector<int> slow_conns_;       // the stopped slow connections
  std::unique_ptr<SockDiag> diag_;
  int64_t next_tcp_poll_ns_ = 0;
  bool slow_check_started_ = false;
  int64_t slow_check_end_ns_ = 0;
  int64_t slow_last_data_ns_ = 0;
};

void Worker::NoteError(const char* prefix, const char* detail, size_t detail_len) {
  if (result_.first_error[0] != '\0') return;
  if (detail_len == std::string::npos) detail_len = strlen(detail);
  if (detail_len > 150) detail_len = 150;
  std::string d(detail, detail_len);
  for (char& ch : d) {
    if (ch == '\r' || ch == '\n' || ch == '"' || ch == '\\' || static_cast<unsigned char>(ch) < 0x20) ch = ' ';
  }
  snprintf(result_.first_error, sizeof result_.first_error, "%s: %s", prefix, d.c_str());
}

void Worker::ResetConn(Conn& c) {
  if (c.fd >= 0) close(c.fd);  // close() also removes it from the epoll set
  c.fd = -1;
  c.in.clear();
  c.out.clear();
  c.frag.clear();
  c.want_write = false;
  c.replies = 0;
  if (handshake_mode_) {
    // A handshake-mode connection is never used again: give its buffers back.
    std::string().swap(c.in);
    std::string().swap(c.out);
  }
}

void Worker::Fail(Conn& c, Failure kind, const char* detail, size_t detail_len) {
  if (c.state == kDead) return;
  NoteError(c.reconnecting ? "reconnect" : kFailureNames[kind], detail, detail_len);
  if (c.reconnecting) {
    // A churn reconnect that failed: the slot stays empty (counted, not retried).
    ++result_.reconnect_failures;
    c.reconnecting = false;
  } else {
    ++result_.failures[kind];
    status_.failed.store(status_.failed.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
  ResetConn(c);
  c.state = kDead;
  Resolve();
}

void Worker::ServerClosed(Conn& c, int code, bool error, const char* why, int64_t now) {
  if (c.state != kSubscribed) return;
  if (c.slow) {
    // How the server ended a slow subscriber: what its socket held last says it.
    if (code != 0) {
      ++result_.slow_close_frame;
      if (code == 3008) ++result_.slow_close_frame_3008;
      result_.slow_close_code = code;
    } else if (error) {
      ++result_.slow_reset;
    } else {
      ++result_.slow_eof;
    }
    NoteSlowDropped(c, now);
  } else {
    NoteError("closed after subscribe", why, std::string::npos);
    ++result_.closed_after_subscribe;
  }
  if (code != 0) result_.last_close_code = code;
  EndSession(c, now);
  --alive_;
  status_.alive.store(alive_, std::memory_order_relaxed);
  ResetConn(c);
  c.state = kDead;
}

void Worker::StartConnect(int i, int64_t now) {
  Conn& c = conns_[i];
  c.deadline_ns = now + static_cast<int64_t>(opt_.handshake_timeout * 1e9);
  c.connect_ns = now;
  c.replies = 0;
  if (result_.first_connect_ns == 0) result_.first_connect_ns = now;
  ++pending_;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    c.state = kConnecting;
    Fail(c, kFailConnect, strerror(errno));
    return;
  }
  c.fd = fd;
  c.state = kConnecting;
  int one = 1;
  setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  const int global = Global(i);
  c.slow = IsSlow(global);
  if (c.slow) {
    // On loopback (MSS 65483) the server's kernel would buffer megabytes for a client that stopped
    // reading (the send buffer grows with 10 segments of the MSS) before the server itself saw
    // any back-pressure. An Ethernet MSS and a small receive buffer make the slow client look
    // like a remote one: tens of KB in the kernel, then the server's own queue and timeouts act.
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &opt_.slow_rcvbuf, sizeof opt_.slow_rcvbuf);
    if (opt_.slow_mss > 0) setsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &opt_.slow_mss, sizeof opt_.slow_mss);
  }
  sockaddr_in src{};
  src.sin_family = AF_INET;
  uint32_t octet = static_cast<uint32_t>(opt_.first_source_ip + global / opt_.conns_per_ip);
  src.sin_addr.s_addr = htonl((127u << 24) | octet);
  if (bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof src) != 0) {
    Fail(c, kFailConnect, strerror(errno));
    return;
  }
  epoll_event ev{};
  ev.events = EPOLLOUT | EPOLLIN;
  ev.data.u64 = static_cast<uint64_t>(i);
  if (epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    Fail(c, kFailConnect, strerror(errno));
    return;
  }
  sockaddr_in server = server_;
  if (!opt_.sub_ports.empty()) {
    const size_t index = static_cast<size_t>(global);
    server.sin_port = htons(static_cast<uint16_t>(opt_.sub_ports[index % opt_.sub_ports.size()]));
  }
  int rc = connect(fd, reinterpret_cast<sockaddr*>(&server), sizeof server);
  if (rc != 0 && errno != EINPROGRESS) {
    Fail(c, kFailConnect, strerror(errno));
    return;
  }
  if (!c.reconnecting) {
    status_.started.store(status_.started.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
  // Completion (rc == 0 included) is handled on the EPOLLOUT event.
}

void Worker::OnConnected(Conn& c, int i, int64_t now) {
  (void)now;
  uint8_t raw[16];
  uint64_t a = rng_.Next(), b = rng_.Next();
  memcpy(raw, &a, 8);
  memcpy(raw + 8, &b, 8);
  std::string key = Base64(raw, 16);
  memcpy(c.key, key.data(), 24);
  std::string req;
  req.reserve(256);
  req += "GET /connection/websocket HTTP/1.1\r\nHost: ";
  req += opt_.host;
  req += ':';
  req += std::to_string(opt_.port);
  req += "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ";
  req += key;
  req += "\r\nSec-WebSocket-Version: 13\r\n\r\n";
  c.state = kUpgrading;
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = static_cast<uint64_t>(i);
  epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev);
  Send(c, req.data(), req.size());
}

const std::string& Worker::Commands(int i) {
  const int global = Global(i);
  commands_.assign("{\"id\":1,\"connect\":{");
  if (!opt_.token.empty()) {
    commands_ += "\"token\":\"" + opt_.token + "\"";
  } else if (signer_) {
    char user[24];
    snprintf(user, sizeof user, "u%d", global);
    signer_->Sign(user, static_cast<int64_t>(time(nullptr)) + 3600, &token_);
    commands_ += "\"token\":\"";
    commands_ += token_;
    commands_ += '"';
  }
  commands_ += "}}";
  char line[256];
  if (channels_mode_) {
    snprintf(line, sizeof line, "\n{\"id\":2,\"subscribe\":{\"channel\":\"%s.g%u\"}}", opt_.channel.c_str(),
             layout_.GroupOf(global));
    commands_ += line;
    if (opt_.personal) {
      snprintf(line, sizeof line, "\n{\"id\":3,\"subscribe\":{\"channel\":\"%s.u%d\"}}", opt_.channel.c_str(), global);
      commands_ += line;
    }
  } else if (!handshake_mode_ || opt_.handshake_subscribe) {
    commands_ += "\n{\"id\":2,\"subscribe\":{\"channel\":\"" + opt_.channel + "\"}}";
  }
  return commands_;
}

void Worker::Send(Conn& c, const char* data, size_t len) {
  if (c.fd < 0) return;
  if (!c.out.empty()) {
    c.out.append(data, len);
    return;
  }
  ssize_t n = send(c.fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
  if (n == static_cast<ssize_t>(len)) return;
  if (n < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK) return;  // the read side will see the error
    n = 0;
  }
  c.out.append(data + n, len - static_cast<size_t>(n));
  c.want_write = true;
  if (c.slow_state != kSlowNo) return;  // a stopped slow connection is not polled for output
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT;
  ev.data.u64 = static_cast<uint64_t>(&c - conns_.data());
  epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev);
}

void Worker::FlushOut(Conn& c, int i) {
  while (!c.out.empty()) {
    ssize_t n = send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n <= 0) {
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      return;  // error: the read side reports it
    }
    c.out.erase(0, static_cast<size_t>(n));
  }
  c.want_write = false;
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = static_cast<uint64_t>(i);
  epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev);
}

// Client frames are masked (RFC 6455 §5.3). Small frames only (commands, pongs).
void Worker::SendFrame(Conn& c, uint8_t opcode, const char* payload, size_t len) {
  char stack[1024];
  std::string heap;
  char* f = stack;
  if (len + 14 > sizeof stack) {
    heap.resize(len + 14);
    f = heap.data();
  }
  size_t h = 0;
  f[h++] = static_cast<char>(0x80 | opcode);
  if (len < 126) {
    f[h++] = static_cast<char>(0x80 | len);
  } else if (len <= 0xFFFF) {
    f[h++] = static_cast<char>(0x80 | 126);
    f[h++] = static_cast<char>(len >> 8);
    f[h++] = static_cast<char>(len);
  } else {
    f[h++] = static_cast<char>(0x80 | 127);
    for (int s = 56; s >= 0; s -= 8) f[h++] = static_cast<char>(uint64_t{len} >> s);
  }
  uint32_t mask32 = static_cast<uint32_t>(rng_.Next());
  uint8_t mask[4];
  memcpy(mask, &mask32, 4);
  memcpy(f + h, mask, 4);
  h += 4;
  for (size_t k = 0; k < len; ++k) f[h + k] = static_cast<char>(payload[k] ^ mask[k & 3]);
  Send(c, f, h + len);
}

void Worker::OnEvent(int i, uint32_t events, int64_t now) {
  Conn& c = conns_[i];
  if (c.state == kDead || c.fd < 0) return;
  if (c.slow_state != kSlowNo && !slow_check_started_) {
    // A stopped slow connection is watched for EPOLLRDHUP/ERR/HUP only, and never read: an event
    // here means the server reset (or, with nothing left in flight, shut) its end.
    NoteSlowDropped(c, now);
    epoll_ctl(ep_, EPOLL_CTL_DEL, c.fd, nullptr);  // level-triggered: it would fire forever
    c.slow_in_epoll = false;
    return;
  }
  if (c.state == kConnecting) {
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      Fail(c, kFailConnect, strerror(err));
      return;
    }
    if (events & (EPOLLOUT | EPOLLIN)) OnConnected(c, i, now);
    return;
  }
  if ((events & EPOLLOUT) && c.want_write) FlushOut(c, i);
  if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) OnReadable(c, i, now);
}

void Worker::OnReadable(Conn& c, int i, int64_t now) {
  size_t have = c.in.size();
  if (buf_.size() < have + kMinRead) buf_.resize(have + kMinRead > 2 * buf_.size() ? have + kMinRead : 2 * buf_.size());
  ssize_t n = recv(c.fd, buf_.data() + have, buf_.size() - have, MSG_DONTWAIT);
  if (n <= 0) {
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
    const char* why = n == 0 ? "EOF" : strerror(errno);
    if (c.state == kSubscribed) {
      ServerClosed(c, 0, n < 0, why, now);
    } else {
      Fail(c, kFailClosed, why);
    }
    return;
  }
  if (have) memcpy(buf_.data(), c.in.data(), have);
  c.in.clear();
  const char* p = buf_.data();
  const char* end = p + have + n;
  if (slow_check_started_ && c.slow) {
    c.slow_bytes += n;
    slow_last_data_ns_ = now;
  } else if (counting_ && c.state == kSubscribed && !c.slow) {
    ++result_.reads;
    result_.bytes += n;
  }

  if (c.state == kUpgrading) {
    const char* head_end = static_cast<const char*>(memmem(p, end - p, "\r\n\r\n", 4));
    if (!head_end) {
      if (end - p > static_cast<ptrdiff_t>(kMaxHttpHead)) {
        Fail(c, kFailHttp, "response head too large");
      } else {
        c.in.assign(p, end);
      }
      return;
    }
    head_end += 4;
    if (end - p < 12 || memcmp(p, "HTTP/1.1 101", 12) != 0) {
      const char* eol = static_cast<const char*>(memchr(p, '\r', head_end - p));
      Fail(c, kFailHttp, p, eol ? eol - p : head_end - p);
      return;
    }
    const char* h = FindCaseless(p, head_end, "\nsec-websocket-accept:");
    std::string expect = WebSocketAccept(std::string_view(c.key, 24));
    if (!h) {
      Fail(c, kFailHttp, "101 without Sec-WebSocket-Accept");
      return;
    }
    h += 22;
    while (h < head_end && (*h == ' ' || *h == '\t')) ++h;
    if (head_end - h < 28 || memcmp(h, expect.data(), 28) != 0) {
      Fail(c, kFailHttp, "wrong Sec-WebSocket-Accept");
      return;
    }
    c.state = kAwaitReplies;
    // plain protocol: nothing to send; the server's {"subscribed":..} frame completes the handshake.
    if (!plain_) {
      const std::string& cmd = Commands(i);
      SendFrame(c, 0x1, cmd.data(), cmd.size());
    }
    p = head_end;
    if (c.fd < 0) return;
  }

  const char* rest = ParseFrames(c, i, p, end, now);
  if (rest && rest < end) c.in.assign(rest, end);
}

const char* Worker::ParseFrames(Conn& c, int i, const char* p, const char* end, int64_t now) {
  int pongs = 0;
  while (end - p >= 2) {
    uint8_t b0 = static_cast<uint8_t>(p[0]);
    uint8_t b1 = static_cast<uint8_t>(p[1]);
    bool fin = b0 & 0x80;
    uint8_t op = b0 & 0x0F;
    uint64_t len = b1 & 0x7F;
    size_t hdr = 2;
    if (len == 126) {
      if (end - p < 4) break;
      len = uint64_t{static_cast<uint8_t>(p[2])} << 8 | static_cast<uint8_t>(p[3]);
      hdr = 4;
    } else if (len == 127) {
      if (end - p < 10) break;
      len = 0;
      for (int k = 2; k < 10; ++k) len = len << 8 | static_cast<uint8_t>(p[k]);
      hdr = 10;
    }
    bool masked = b1 & 0x80;  // servers must not mask; tolerate it
    size_t mask_at = hdr;
    if (masked) hdr += 4;
    if (static_cast<uint64_t>(end - p) < hdr + len) break;
    char* payload = const_cast<char*>(p) + hdr;
    if (masked) {
      for (uint64_t k = 0; k < len; ++k) payload[k] ^= p[mask_at + (k & 3)];
    }
    size_t n = static_cast<size_t>(len);
    if (counting_ && c.state == kSubscribed && !c.slow && op != 0x9 && op != 0xA) ++result_.frames;
    switch (op) {
      case 0x1:
      case 0x2:
        if (fin) {
          ProcessText(c, i, payload, n, now, &pongs);
        } else {
          c.frag.assign(payload, n);
          c.frag_op = op;
        }
        break;
      case 0x0:
        c.frag.append(payload, n);
        if (fin) {
          ProcessText(c, i, c.frag.data(), c.frag.size(), now, &pongs);
          c.frag.clear();
        }
        break;
      case 0x8: {
        int code = n >= 2 ? (static_cast<uint8_t>(payload[0]) << 8 | static_cast<uint8_t>(payload[1])) : 1005;
        char why[200];
        snprintf(why, sizeof why, "close frame %d %.*s", code, n > 2 ? static_cast<int>(n - 2 > 120 ? 120 : n - 2) : 0,
                 n > 2 ? payload + 2 : "");
        SendFrame(c, 0x8, payload, n >= 2 ? 2 : 0);
        if (c.state == kSubscribed) {
          ServerClosed(c, code, false, why, now);
        } else {
          result_.last_close_code = code;
          Fail(c, kFailClosed, why);
        }
        return nullptr;
      }
      case 0x9:
        SendFrame(c, 0xA, payload, n);
        break;
      default:  // 0xA pong, reserved opcodes
        break;
    }
    if (c.state == kDead || c.fd < 0) return nullptr;
    p += hdr + n;
  }
  if (pongs > 0 && c.state != kDead) {
    // One `{}` per ping (a pong without an outstanding ping is a protocol error for Centrifugo).
    char line[256];
    size_t len = 0;
    for (int k = 0; k < pongs && len + 3 < sizeof line; ++k) {
      if (k) line[len++] = '\n';
      line[len++] = '{';
      line[len++] = '}';
    }
    SendFrame(c, 0x1, line, len);
  }
  return p;
}

void Worker::ProcessText(Conn& c, int i, const char* p, size_t n, int64_t now, int* pongs) {
  const char* end = p + n;
  while (p < end) {
    const char* nl = static_cast<const char*>(memchr(p, '\n', end - p));
    const char* le = nl ? nl : end;
    const char* s = p;
    p = nl ? nl + 1 : end;
    while (s < le && (*s == ' ' || *s == '\t' || *s == '\r')) ++s;
    const char* e = le;
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r')) --e;
    size_t len = static_cast<size_t>(e - s);
    if (len == 0) continue;
    if (plain_ ? memmem(s, len, "\"ts\":", 5) != nullptr : (len > 8 && memcmp(s, "{\"push\":", 8) == 0)) {
      OnPublication(c, i, s, e, now);
    } else if (plain_ && len > 13 && memcmp(s, "{\"subscribed\":", 14) == 0 && c.state == kAwaitReplies) {
      c.replies = required_replies_;
      MarkSubscribed(c, i, now);
      if (c.state == kDead) return;
    } else if (!plain_ && len == 2 && s[0] == '{' && s[1] == '}') {
      ++*pongs;
      ++result_.pings;
    } else if (len > 6 && memcmp(s, "{\"id\":", 6) == 0) {
      HandleReply(c, i, s, len, now);
      if (c.state == kDead) return;
    } else {
      ++result_.unknown_lines;
    }
  }
}

void Worker::OnPublication(Conn& c, int i, const char* s, const char* e, int64_t now) {
  const char* ts = static_cast<const char*>(memmem(s, e - s, "\"ts\":", 5));
  uint64_t ts_ns = 0, seq = 0;
  if (!ts || ParseUint(ts + 5, e, &ts_ns) == 0) {
    ++result_.other_pushes;
    return;
  }
  ts += 5;
  const char* sq = static_cast<const char*>(memmem(ts, e - ts, "\"seq\":", 6));
  if (!sq || ParseUint(sq + 6, e, &seq) == 0) {
    ++result_.other_pushes;
    return;
  }
  if (c.slow) {
    ++result_.slow_received;  // not a healthy subscriber: its deliveries are not measured
    return;
  }
  const int64_t latency = now - static_cast<int64_t>(ts_ns);
  if (slow_start_ns_ > 0 && static_cast<int64_t>(ts_ns) < slow_start_ns_) {
    second_hist_.Record(latency);  // S7 baseline half
    ++result_.baseline_received;
  } else {
    hist_.Record(latency);
  }
  ++result_.received;
  if (result_.first_delivery_ns == 0) result_.first_delivery_ns = now;
  result_.last_delivery_ns = now;
  if (channels_mode_) {
    // Matched against the publish log after the run (session_accounting.h).
    if (c.session < 0) {
      // Between the group's subscribe reply and the personal one: before the session started,
      // so not expected by it.
      ++early_deliveries_;
    } else if (deliveries_.size() < kMaxKeptDeliveries) {
      deliveries_.push_back(uint64_t(static_cast<uint32_t>(c.session)) << 32 | (seq & 0xFFFFFFFFu));
    } else {
      ++result_.deliveries_not_kept;
    }
    return;
  }
  uint32_t stream = static_cast<uint32_t>(seq % static_cast<uint64_t>(cfg_.streams));
  int64_t idx = static_cast<int64_t>(seq / static_cast<uint64_t>(cfg_.streams));
  int32_t& last = last_idx_[static_cast<size_t>(i) * cfg_.streams + stream];
  if (idx <= last) {
    ++result_.duplicates;
  } else {
    if (idx > last + 1) result_.gaps += idx - last - 1;
    last = static_cast<int32_t>(idx);
  }
}

void Worker::HandleReply(Conn& c, int i, const char* p, size_t n, int64_t now) {
  uint64_t id = 0;
  ParseUint(p + 6, p + n, &id);
  bool error = memmem(p, n, "\"error\":", 8) != nullptr;
  if (c.state != kAwaitReplies) {
    ++result_.unknown_lines;
    return;
  }
  if (id < 1 || id > 3 || !(required_replies_ & (1u << (id - 1)))) {
    ++result_.unknown_lines;
    return;
  }
  if (error) {
    Fail(c, id == 1 ? kFailConnectReply : kFailSubscribeReply, p, n);
    return;
  }
  c.replies |= static_cast<uint8_t>(1u << (id - 1));
  if (c.replies == required_replies_) MarkSubscribed(c, i, now);
}

void Worker::MarkSubscribed(Conn& c, int i, int64_t now) {
  if (handshake_mode_) {
    // S2: the handshake is the measurement; the connection has served its purpose.
    hist_.Record(now - c.connect_ns);
    result_.last_handshake_ns = now;
    ++result_.subscribed;
    status_.subscribed.store(result_.subscribed, std::memory_order_relaxed);
    ResetConn(c);
    c.state = kDead;
    Resolve();
    return;
  }
  c.state = kSubscribed;
  ++alive_;
  status_.alive.store(alive_, std::memory_order_relaxed);
  if (c.reconnecting) {
    c.reconnecting = false;
    second_hist_.Record(now - c.connect_ns);
    ++result_.reconnects;
    status_.reconnects.store(result_.reconnects, std::memory_order_relaxed);
  } else {
    ++result_.subscribed;
    status_.subscribed.store(result_.subscribed, std::memory_order_relaxed);
    if (c.slow) {
      ++result_.slow_subscribed;
      status_.slow_subscribed.store(result_.slow_subscribed, std::memory_order_relaxed);
      sockaddr_in local{}, peer{};
      socklen_t len = sizeof local;
      getsockname(c.fd, reinterpret_cast<sockaddr*>(&local), &len);
      len = sizeof peer;
      getpeername(c.fd, reinterpret_cast<sockaddr*>(&peer), &len);
      c.local_addr = local.sin_addr.s_addr;
      c.local_port = ntohs(local.sin_port);
      c.peer_addr = peer.sin_addr.s_addr;
      c.peer_port = ntohs(peer.sin_port);
    }
  }
  if (channels_mode_) {
    c.session = static_cast<int32_t>(sessions_.size());
    sessions_.push_back(Session{i, Global(i), now, 0});
  }
  Resolve();
}

void Worker::EndSession(Conn& c, int64_t now) {
  if (c.session < 0) return;
  sessions_[static_cast<size_t>(c.session)].end_ns = now;
  c.session = -1;
}

void Worker::Leave(Conn& c, int i, int64_t now) {
  // A client going away politely: close frame 1000, then the socket. It comes back at once as a
  // new session (Run starts the reconnect when a handshake slot is free).
  static constexpr char kNormal[2] = {0x03, static_cast<char>(0xE8)};
  SendFrame(c, 0x8, kNormal, 2);
  EndSession(c, now);
  ++result_.leaves;
  --alive_;
  status_.alive.store(alive_, std::memory_order_relaxed);
  ResetConn(c);
  c.state = kIdle;
  c.reconnecting = true;
  reconnect_queue_.push_back(i);
}

void Worker::Churn(int64_t now) {
  if (churn_start_ns_ == 0) churn_start_ns_ = now;
  const auto due = static_cast<int64_t>(static_cast<double>(now - churn_start_ns_) * 1e-9 * churn_per_s_);
  while (churned_ < due) {
    ++churned_;
    // A random subscribed connection (a few tries: a handful may be reconnecting right now).
    for (int attempt = 0; attempt < 8; ++attempt) {
      int i = static_cast<int>(rng_.Next() % static_cast<uint64_t>(conns_.size()));
      if (conns_[i].state == kSubscribed) {
        Leave(conns_[i], i, now);
        break;
      }
    }
  }
}

void Worker::NoteSlowDropped(Conn& c, int64_t now) {
  if (c.slow_state != kSlowStopped) return;
  c.slow_state = kSlowDropped;
  if (slow_check_started_) return;  // found only by the final read: no drop time
  const int64_t after = now - slow_start_ns_;
  ++result_.slow_closed_in_run;
  result_.slow_close_ns_sum += after;
  if (after > result_.slow_close_ns_max) result_.slow_close_ns_max = after;
}

void Worker::StopSlow(int64_t now) {
  slow_stopped_ = true;
  diag_ = std::make_unique<SockDiag>();
  for (size_t k = 0; k < conns_.size(); ++k) {
    Conn& c = conns_[k];
    if (!c.slow || c.state != kSubscribed) continue;
    c.slow_state = kSlowStopped;
    // Only a reset (EPOLLERR/EPOLLHUP, always reported) or a FIN with nothing before it
    // (EPOLLRDHUP) wakes us for it now; its data is left unread.
    epoll_event ev{};
    ev.events = EPOLLRDHUP;
    ev.data.u64 = k;
    epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev);
    slow_conns_.push_back(static_cast<int>(k));
  }
  next_tcp_poll_ns_ = now + kTcpPollNs;
}

void Worker::PollServerSide(int64_t now) {
  next_tcp_poll_ns_ = now + kTcpPollNs;
  for (int k : slow_conns_) {
    Conn& c = conns_[k];
    if (c.slow_state != kSlowStopped) continue;
    if (diag_->ServerEstablished(c.peer_addr, c.peer_port, c.local_addr, c.local_port) == 0) NoteSlowDropped(c, now);
  }
}

void Worker::StartSlowCheck(int64_t now) {
  slow_check_started_ = true;
  slow_check_end_ns_ = now + static_cast<int64_t>(opt_.slow_check * 1e9);
  slow_last_data_ns_ = now;
  for (int k : slow_conns_) {
    Conn& c = conns_[k];
    if (c.fd < 0) continue;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = static_cast<uint64_t>(k);
    epoll_ctl(ep_, c.slow_in_epoll ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c.fd, &ev);
    c.slow_in_epoll = true;
  }
}

bool Worker::SlowCheckDone(int64_t now) {
  bool open = false;
  for (int k : slow_conns_) open |= conns_[k].fd >= 0;
  if (open && now < slow_check_end_ns_ && now - slow_last_data_ns_ < kSlowQuietNs) return false;
  for (int k : slow_conns_) {
    Conn& c = conns_[k];
    if (c.slow_bytes > result_.slow_backlog_bytes_max) result_.slow_backlog_bytes_max = c.slow_bytes;
    if (c.fd >= 0) ++result_.slow_open;  // the server kept it: nothing ended its stream
  }
  return true;
}

void Worker::CheckDeadlines(int64_t now) {
  size_t k = handshake_mode_ ? static_cast<size_t>(scan_from_) : 0;
  size_t end = handshake_mode_ ? static_cast<size_t>(started_) : conns_.size();
  bool prefix_resolved = true;
  for (; k < end; ++k) {
    Conn& c = conns_[k];
    if (c.state >= kConnecting && c.state <= kAwaitReplies) {
      prefix_resolved = false;
      if (now > c.deadline_ns) {
        Fail(c, kFailTimeout, c.state == kConnecting ? "TCP connect" : c.state == kUpgrading ? "no 101" : "no replies");
      }
    } else if (handshake_mode_ && prefix_resolved) {
      scan_from_ = static_cast<int>(k + 1);
    }
  }
}

void Worker::Finish() {
  for (Conn& c : conns_) {
    if (c.state == kAwaitReplies || c.state == kUpgrading || c.state == kConnecting) {
      Fail(c, kFailTimeout, "unfinished at end");
    }
  }
  if (channels_mode_ && cfg_.log) {
    // Sessions still open did not leave: every acked publish to their channels was due (as in
    // fanout mode, what is missing after the drain is lost), so no grace applies to them.
    for (Conn& c : conns_) EndSession(c, INT64_MAX / 4);
    SessionTotals t = AccountSessions(*cfg_.log, cfg_.log->capacity, layout_, sessions_, &deliveries_,
                                      static_cast<int64_t>(opt_.churn_grace * 1e9));
    result_.sessions = t.sessions;
    result_.session_expected = t.expected;
    result_.session_received = t.received;
    result_.session_lost = t.lost;
    result_.session_extra = t.extra + early_deliveries_;
    result_.session_duplicates = t.duplicates;
    result_.duplicates = t.duplicates;
  }
}

bool Worker::WriteResult() {
  std::string blob(sizeof(WorkerResult), '\0');
  memcpy(blob.data(), &result_, sizeof result_);
  hist_.Serialize(&blob);
  second_hist_.Serialize(&blob);
  uint64_t len = blob.size();
  std::string framed(reinterpret_cast<const char*>(&len), 8);
  framed += blob;
  const char* p = framed.data();
  size_t left = framed.size();
  while (left > 0) {
    ssize_t w = write(cfg_.result_fd, p, left);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += w;
    left -= static_cast<size_t>(w);
  }
  return true;
}

int Worker::Run() {
  ep_ = epoll_create1(EPOLL_CLOEXEC);
  if (ep_ < 0) return 3;
  status_.pid.store(getpid(), std::memory_order_relaxed);
  const int64_t start = NowNs();
  // Hard stop even if the coordinator never says finish (it also holds PR_SET_PDEATHSIG).
  const double longest = opt_.ramp_timeout + opt_.duration * opt_.PublishPhases() + opt_.idle + opt_.drain +
                         opt_.slow_check + 60;
  const int64_t hard_deadline = start + static_cast<int64_t>(longest * 1e9);
  // Handshake mode: the storm lasts --duration; afterwards nothing new is started.
  const double ramp_s = handshake_mode_ ? opt_.duration : opt_.ramp_timeout;
  const int64_t ramp_deadline = start + static_cast<int64_t>(ramp_s * 1e9);
  int64_t next_deadline_check = start;
  bool ramp_done = false;
  epoll_event events[kMaxEvents];
  for (;;) {
    int64_t now = NowNs();
    int32_t phase = cfg_.shared->phase.load(std::memory_order_acquire);
    if (phase == kPhaseFinish || now > hard_deadline) break;
    counting_ = phase >= kPhasePublish;
    int timeout_ms = 20;
    if (started_ < target_) {
      if (now > ramp_deadline) {
        if (handshake_mode_) {
          target_ = started_;  // the storm is over: what was not started is not a failure
        } else {
          // Give up on connections never started: count them as connect failures.
          for (int k = started_; k < target_; ++k) {
            conns_[k].state = kConnecting;
            ++pending_;
            Fail(conns_[k], kFailTimeout, "ramp timeout before connect");
          }
          started_ = target_;
        }
      } else {
        int64_t due = per_worker_rate_ > 0
                          ? static_cast<int64_t>(static_cast<double>(now - start) * 1e-9 * per_worker_rate_) + 1
                          : target_;
        while (started_ < target_ && started_ < due && pending_ < max_pending_) StartConnect(started_++, now);
        timeout_ms = 1;
      }
    }
    if (channels_mode_) {
      if (phase == kPhasePublish && churn_per_s_ > 0) Churn(now);
      while (!reconnect_queue_.empty() && pending_ < max_pending_) {
        int i = reconnect_queue_.back();
        reconnect_queue_.pop_back();
        StartConnect(i, now);
      }
      if (churn_per_s_ > 0) timeout_ms = std::min(timeout_ms, 5);
    }
    if (slow_every_ > 0) {
      if (slow_start_ns_ == 0) slow_start_ns_ = cfg_.shared->slow_start_ns.load(std::memory_order_relaxed);
      if (!slow_stopped_ && slow_start_ns_ > 0 && now >= slow_start_ns_ && phase < kPhaseSlowCheck) StopSlow(now);
      if (slow_stopped_ && !slow_check_started_ && now >= next_tcp_poll_ns_) PollServerSide(now);
      if (phase == kPhaseSlowCheck && !slow_check_started_) StartSlowCheck(now);
      if (slow_check_started_ && !status_.slow_done.load(std::memory_order_relaxed) && SlowCheckDone(now)) {
        status_.slow_done.store(1, std::memory_order_release);
      }
      if (slow_stopped_) timeout_ms = std::min(timeout_ms, 20);
    }
    int n = epoll_wait(ep_, events, kMaxEvents, timeout_ms);
    now = NowNs();
    for (int k = 0; k < n; ++k) OnEvent(static_cast<int>(events[k].data.u64), events[k].events, now);
    if ((!ramp_done || channels_mode_) && now >= next_deadline_check) {
      CheckDeadlines(now);
      next_deadline_check = now + 100'000'000;
    }
    if (!ramp_done && started_ == target_ && pending_ == 0) {
      ramp_done = true;
      result_.ramp_end_ns = now;
      status_.ramp_done.store(1, std::memory_order_release);
    }
    status_.received.store(result_.received, std::memory_order_relaxed);
    status_.last_delivery_ns.store(result_.last_delivery_ns, std::memory_order_relaxed);
  }
  Finish();
  bool ok = WriteResult();
  for (Conn& c : conns_) {
    if (c.fd >= 0) close(c.fd);
  }
  close(ep_);
  return ok ? 0 : 4;
}

}  // namespace

int RunSubscriberWorker(const SubscriberConfig& config) {
  Worker w(config);
  return w.Run();
}

}  // namespace instant::bench
