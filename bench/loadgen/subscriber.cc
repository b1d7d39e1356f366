#include "subscriber.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "histogram.h"
#include "util.h"

namespace instant::bench {

namespace {

enum ConnState : uint8_t {
  kIdle = 0,       // not started
  kConnecting,     // connect() in progress
  kUpgrading,      // upgrade request sent, waiting for the 101
  kAwaitReplies,   // connect+subscribe frame sent
  kSubscribed,
  kDead,           // failed or closed
};

struct Conn {
  int fd = -1;
  ConnState state = kIdle;
  uint8_t replies = 0;   // bit 0: connect OK, bit 1: subscribe OK
  uint8_t frag_op = 0;   // opcode of a fragmented message being reassembled
  bool want_write = false;
  int64_t deadline_ns = 0;
  std::string in;        // unconsumed input: HTTP head or partial frame
  std::string out;       // output the kernel did not take yet
  std::string frag;      // fragmented message (servers rarely fragment)
  char key[25] = {};     // Sec-WebSocket-Key
};

constexpr size_t kReadBuffer = 256 * 1024;
constexpr size_t kMinRead = 64 * 1024;
constexpr size_t kMaxHttpHead = 16 * 1024;
constexpr int kMaxEvents = 1024;

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
    connect_cmd_ = "{\"id\":1,\"connect\":{";
    if (!opt_.token.empty()) connect_cmd_ += "\"token\":\"" + opt_.token + "\"";
    connect_cmd_ += "}}\n{\"id\":2,\"subscribe\":{\"channel\":\"" + opt_.channel + "\"}}";
    per_worker_rate_ = opt_.connect_rate / opt_.procs;
    max_pending_ = opt_.max_pending / opt_.procs;
    if (max_pending_ < 1) max_pending_ = 1;
    server_.sin_family = AF_INET;
    server_.sin_port = htons(static_cast<uint16_t>(opt_.port));
    inet_pton(AF_INET, opt_.host.c_str(), &server_.sin_addr);
  }

  int Run();

 private:
  void StartConnect(int i, int64_t now);
  void OnEvent(int i, uint32_t events, int64_t now);
  void OnConnected(Conn& c, int i, int64_t now);
  void OnReadable(Conn& c, int i, int64_t now);
  // Returns the first byte of an incomplete frame (== end when all consumed), or nullptr when
  // the connection was closed while processing.
  const char* ParseFrames(Conn& c, int i, const char* p, const char* end, int64_t now);
  void ProcessText(Conn& c, int i, const char* p, size_t n, int64_t now, int* pongs);
  void HandleReply(Conn& c, const char* p, size_t n);
  void MarkSubscribed();  // a handshake completed: count it, publish it to the coordinator
  void Send(Conn& c, const char* data, size_t len);
  void SendFrame(Conn& c, uint8_t opcode, const char* payload, size_t len);
  void FlushOut(Conn& c, int i);
  void Fail(Conn& c, Failure kind, const char* detail, size_t detail_len = std::string::npos);
  void CloseSubscribed(Conn& c, const char* why);
  void CheckDeadlines(int64_t now);
  void NoteError(const char* fmt_prefix, const char* detail, size_t detail_len);
  void Resolve() {  // one handshake left the pending set
    --pending_;
    ++resolved_;
  }
  bool WriteResult();

  const SubscriberConfig& cfg_;
  const Options& opt_;
  WorkerStatus& status_;
  std::vector<Conn> conns_;
  std::vector<int32_t> last_idx_;
  std::vector<char> buf_;
  LatencyHistogram hist_;
  WorkerResult result_;
  FastRandom rng_;
  std::string connect_cmd_;
  sockaddr_in server_{};
  int ep_ = -1;
  int started_ = 0;
  int pending_ = 0;
  int resolved_ = 0;
  int max_pending_ = 1;
  double per_worker_rate_ = 1;
  bool counting_ = false;  // publish phase reached: count reads/frames/bytes
  bool plain_ = false;     // --protocol plain
  int64_t alive_ = 0;
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

void Worker::Fail(Conn& c, Failure kind, const char* detail, size_t detail_len) {
  if (c.state == kDead) return;
  NoteError(kFailureNames[kind], detail, detail_len);
  ++result_.failures[kind];
  status_.failed.store(status_.failed.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  if (c.fd >= 0) close(c.fd);  // close() also removes it from the epoll set
  c.fd = -1;
  c.state = kDead;
  Resolve();
}

void Worker::CloseSubscribed(Conn& c, const char* why) {
  if (c.state != kSubscribed) return;
  NoteError("closed after subscribe", why, std::string::npos);
  ++result_.closed_after_subscribe;
  --alive_;
  status_.alive.store(alive_, std::memory_order_relaxed);
  close(c.fd);
  c.fd = -1;
  c.state = kDead;
}

void Worker::StartConnect(int i, int64_t now) {
  Conn& c = conns_[i];
  c.deadline_ns = now + static_cast<int64_t>(opt_.handshake_timeout * 1e9);
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
  sockaddr_in src{};
  src.sin_family = AF_INET;
  int global = cfg_.first_conn + i;
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
    const size_t index = static_cast<size_t>(cfg_.first_conn) + static_cast<size_t>(i);
    server.sin_port = htons(static_cast<uint16_t>(opt_.sub_ports[index % opt_.sub_ports.size()]));
  }
  int rc = connect(fd, reinterpret_cast<sockaddr*>(&server), sizeof server);
  if (rc != 0 && errno != EINPROGRESS) {
    Fail(c, kFailConnect, strerror(errno));
    return;
  }
  status_.started.store(status_.started.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  // Completion (rc == 0 included) is handled on the EPOLLOUT event.
}

void Worker::OnConnected(Conn& c, int i, int64_t now) {
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
  char stack[512];
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
      CloseSubscribed(c, why);
    } else {
      Fail(c, kFailClosed, why);
    }
    return;
  }
  if (have) memcpy(buf_.data(), c.in.data(), have);
  c.in.clear();
  const char* p = buf_.data();
  const char* end = p + have + n;
  if (counting_ && c.state == kSubscribed) {
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
    if (!plain_) SendFrame(c, 0x1, connect_cmd_.data(), connect_cmd_.size());
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
    if (counting_ && c.state == kSubscribed && op != 0x9 && op != 0xA) ++result_.frames;
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
        result_.last_close_code = code;
        char why[200];
        snprintf(why, sizeof why, "close frame %d %.*s", code, n > 2 ? static_cast<int>(n - 2 > 120 ? 120 : n - 2) : 0,
                 n > 2 ? payload + 2 : "");
        SendFrame(c, 0x8, payload, n >= 2 ? 2 : 0);
        if (c.state == kSubscribed) {
          CloseSubscribed(c, why);
        } else {
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
    if (c.state == kDead) return nullptr;
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
      const char* ts = static_cast<const char*>(memmem(s, len, "\"ts\":", 5));
      if (!ts) {
        ++result_.other_pushes;
        continue;
      }
      ts += 5;
      uint64_t ts_ns = 0, seq = 0;
      if (ParseUint(ts, e, &ts_ns) == 0) {
        ++result_.other_pushes;
        continue;
      }
      const char* sq = static_cast<const char*>(memmem(ts, e - ts, "\"seq\":", 6));
      if (!sq || ParseUint(sq + 6, e, &seq) == 0) {
        ++result_.other_pushes;
        continue;
      }
      hist_.Record(now - static_cast<int64_t>(ts_ns));
      ++result_.received;
      if (result_.first_delivery_ns == 0) result_.first_delivery_ns = now;
      result_.last_delivery_ns = now;
      uint32_t stream = static_cast<uint32_t>(seq % static_cast<uint64_t>(cfg_.streams));
      int64_t idx = static_cast<int64_t>(seq / static_cast<uint64_t>(cfg_.streams));
      int32_t& last = last_idx_[static_cast<size_t>(i) * cfg_.streams + stream];
      if (idx <= last) {
        ++result_.duplicates;
      } else {
        if (idx > last + 1) result_.gaps += idx - last - 1;
        last = static_cast<int32_t>(idx);
      }
    } else if (plain_ && len > 13 && memcmp(s, "{\"subscribed\":", 14) == 0 && c.state == kAwaitReplies) {
      c.replies = 3;
      c.state = kSubscribed;
      MarkSubscribed();
    } else if (!plain_ && len == 2 && s[0] == '{' && s[1] == '}') {
      ++*pongs;
      ++result_.pings;
    } else if (len > 6 && memcmp(s, "{\"id\":", 6) == 0) {
      HandleReply(c, s, len);
      if (c.state == kDead) return;
    } else {
      ++result_.unknown_lines;
    }
  }
}

void Worker::HandleReply(Conn& c, const char* p, size_t n) {
  uint64_t id = 0;
  ParseUint(p + 6, p + n, &id);
  bool error = memmem(p, n, "\"error\":", 8) != nullptr;
  if (c.state != kAwaitReplies) {
    ++result_.unknown_lines;
    return;
  }
  if (id == 1) {
    if (error) {
      Fail(c, kFailConnectReply, p, n);
      return;
    }
    c.replies |= 1;
  } else if (id == 2) {
    if (error) {
      Fail(c, kFailSubscribeReply, p, n);
      return;
    }
    c.replies |= 2;
  } else {
    ++result_.unknown_lines;
  }
  if (c.replies == 3) {
    c.state = kSubscribed;
    MarkSubscribed();
  }
}

void Worker::MarkSubscribed() {
  ++result_.subscribed;
  ++alive_;
  status_.subscribed.store(result_.subscribed, std::memory_order_relaxed);
  status_.alive.store(alive_, std::memory_order_relaxed);
  Resolve();
}

void Worker::CheckDeadlines(int64_t now) {
  for (Conn& c : conns_) {
    if (c.state >= kConnecting && c.state <= kAwaitReplies && now > c.deadline_ns) {
      Fail(c, kFailTimeout, c.state == kConnecting ? "TCP connect" : c.state == kUpgrading ? "no 101" : "no replies");
    }
  }
}

bool Worker::WriteResult() {
  std::string blob(sizeof(WorkerResult), '\0');
  memcpy(blob.data(), &result_, sizeof result_);
  hist_.Serialize(&blob);
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
  const int64_t hard_deadline =
      start + static_cast<int64_t>((opt_.ramp_timeout + opt_.duration + opt_.idle + opt_.drain + 60) * 1e9);
  const int64_t ramp_deadline = start + static_cast<int64_t>(opt_.ramp_timeout * 1e9);
  int64_t next_deadline_check = start;
  bool ramp_done = false;
  epoll_event events[kMaxEvents];
  for (;;) {
    int64_t now = NowNs();
    int32_t phase = cfg_.shared->phase.load(std::memory_order_acquire);
    if (phase == kPhaseFinish || now > hard_deadline) break;
    counting_ = phase >= kPhasePublish;
    int timeout_ms = 20;
    if (started_ < cfg_.count) {
      if (now > ramp_deadline) {
        // Give up on connections never started: count them as connect failures.
        for (int k = started_; k < cfg_.count; ++k) {
          conns_[k].state = kConnecting;
          ++pending_;
          Fail(conns_[k], kFailTimeout, "ramp timeout before connect");
        }
        started_ = cfg_.count;
      } else {
        int64_t due = static_cast<int64_t>(static_cast<double>(now - start) * 1e-9 * per_worker_rate_) + 1;
        while (started_ < cfg_.count && started_ < due && pending_ < max_pending_) StartConnect(started_++, now);
        timeout_ms = 1;
      }
    }
    int n = epoll_wait(ep_, events, kMaxEvents, timeout_ms);
    now = NowNs();
    for (int k = 0; k < n; ++k) OnEvent(static_cast<int>(events[k].data.u64), events[k].events, now);
    if (!ramp_done && now >= next_deadline_check) {
      CheckDeadlines(now);
      next_deadline_check = now + 100'000'000;
    }
    if (!ramp_done && started_ == cfg_.count && pending_ == 0) {
      ramp_done = true;
      result_.ramp_end_ns = now;
      status_.ramp_done.store(1, std::memory_order_release);
    }
    status_.received.store(result_.received, std::memory_order_relaxed);
    status_.last_delivery_ns.store(result_.last_delivery_ns, std::memory_order_relaxed);
  }
  for (Conn& c : conns_) {
    if (c.state == kAwaitReplies || c.state == kUpgrading || c.state == kConnecting) {
      Fail(c, kFailTimeout, "unfinished at end");
    }
  }
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
