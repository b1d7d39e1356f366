#include "publisher.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>

#include "util.h"

namespace instant::bench {

namespace {

void AppendInt(std::string* s, int64_t v) {
  char tmp[24];
  auto r = std::to_chars(tmp, tmp + sizeof tmp, v);
  s->append(tmp, r.ptr);
}

size_t Digits(int64_t v) {
  size_t d = 1;
  while (v >= 10) {
    v /= 10;
    ++d;
  }
  return d;
}

}  // namespace

Publisher::Publisher(const Options& options, SharedState* shared, int procs, int64_t subscribers, PublishLog* log)
    : opt_(options),
      shared_(shared),
      procs_(procs),
      subscribers_(subscribers),
      conns_(options.pub_conns),
      publish_s_(options.duration * options.PublishPhases()),
      log_(log),
      layout_{options.connections, options.group_size, options.personal} {
  if (opt_.rate > 0) {
    total_slots_ = Slots(options);
    stats_.scheduled = total_slots_;
  }
  channel_.reserve(opt_.channel.size() + 16);
  if (opt_.mode != Mode::kChannels) channel_ = opt_.channel;
}

int64_t Publisher::Slots(const Options& options) {
  int64_t slots = static_cast<int64_t>(options.rate * options.duration * options.PublishPhases());
  return slots < 1 ? 1 : slots;
}

uint32_t Publisher::PickChannel(int64_t slot) {
  // splitmix64 of the slot: reproducible, spread over the channels, no state.
  uint64_t z = static_cast<uint64_t>(slot) + 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  const bool personal = layout_.personal && static_cast<double>(z >> 11) * 0x1.0p-53 < opt_.personal_share;
  z = z * 0x2545F4914F6CDD1Dull;
  char name[32];
  uint32_t id;
  if (personal) {
    const int conn = static_cast<int>((z >> 16) % static_cast<uint64_t>(layout_.connections));
    id = layout_.PersonalOf(conn);
    snprintf(name, sizeof name, ".u%d", conn);
  } else {
    const uint32_t group = static_cast<uint32_t>((z >> 16) % static_cast<uint64_t>(layout_.groups()));
    id = group;
    snprintf(name, sizeof name, ".g%u", group);
  }
  channel_.assign(opt_.channel);
  channel_ += name;
  return id;
}

void Publisher::LogAck(const Conn& c, bool ok, int64_t now) {
  if (!log_ || c.slot < 0 || c.slot >= log_->capacity) return;
  log_->records[c.slot].ack_ns.store(ok ? now : -1, std::memory_order_relaxed);
}

Publisher::~Publisher() {
  for (Conn& c : conns_) {
    if (c.fd >= 0) close(c.fd);
  }
  if (ep_ >= 0) close(ep_);
}

int64_t Publisher::ReceivedTotal() const {
  int64_t sum = 0;
  for (int w = 0; w < procs_; ++w) sum += shared_->workers[w].received.load(std::memory_order_relaxed);
  return sum;
}

bool Publisher::OpenConn(Conn& c, std::string* error) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *error = std::string("socket: ") + strerror(errno);
    return false;
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(opt_.port));
  inet_pton(AF_INET, opt_.host.c_str(), &addr.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    *error = std::string("publisher connect: ") + strerror(errno);
    close(fd);
    return false;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = static_cast<uint64_t>(&c - conns_.data());
  epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev);
  c.fd = fd;
  c.busy = false;
  c.in.clear();
  c.out.clear();
  return true;
}

bool Publisher::Connect(std::string* error) {
  ep_ = epoll_create1(EPOLL_CLOEXEC);
  for (Conn& c : conns_) {
    c.in.reserve(4096);
    c.out.reserve(1024 + static_cast<size_t>(opt_.payload_size));
    if (!OpenConn(c, error)) return false;
  }
  return true;
}

void Publisher::SendRequest(Conn& c, int index, int64_t ts, int64_t now) {
  const int64_t seq = index + static_cast<int64_t>(conns_.size()) * c.next_k;
  ++c.next_k;
  c.slot = opt_.rate > 0 ? seq : -1;
  if (opt_.mode == Mode::kChannels) {
    const uint32_t channel = PickChannel(seq);
    if (log_ && seq < log_->capacity) {
      // Written before the request goes out, so a worker that sees the delivery sees this too.
      log_->records[seq].channel = channel;
      log_->records[seq].send_ns.store(now, std::memory_order_release);
    }
  }
  // data = {"ts":T,"seq":S,"pad":"x..."} sized to --payload-size.
  size_t fixed = 6 + Digits(ts) + 7 + Digits(seq) + 8 + 2;
  size_t pad = static_cast<size_t>(opt_.payload_size) > fixed ? opt_.payload_size - fixed : 0;
  if (pad_.size() < pad) pad_.assign(pad, 'x');
  size_t body_len = 12 + channel_.size() + 9 + fixed + pad + 1;  // {"channel":"C","data":D}
  c.out.clear();
  c.out += "POST /api/publish HTTP/1.1\r\nHost: ";
  c.out += opt_.host;
  c.out += "\r\nX-API-Key: ";
  c.out += opt_.api_key;
  c.out += "\r\nContent-Type: application/json\r\nContent-Length: ";
  AppendInt(&c.out, static_cast<int64_t>(body_len));
  c.out += "\r\n\r\n";
  size_t body_at = c.out.size();
  c.out += "{\"channel\":\"";
  c.out += channel_;
  c.out += "\",\"data\":{\"ts\":";
  AppendInt(&c.out, ts);
  c.out += ",\"seq\":";
  AppendInt(&c.out, seq);
  c.out += ",\"pad\":\"";
  c.out.append(pad_.data(), pad);
  c.out += "\"}}";
  if (c.out.size() - body_at != body_len) {
    // Arithmetic above is the contract of --payload-size; a mismatch is a bug here.
    fprintf(stderr, "instant-loadgen: internal body length mismatch\n");
    abort();
  }
  c.busy = true;
  c.sent_at = now;
  ++stats_.sent;
  ssize_t n = send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
  if (n == static_cast<ssize_t>(c.out.size())) {
    c.out.clear();
    return;
  }
  if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
    ConnFailed(c, strerror(errno));
    return;
  }
  c.out.erase(0, n < 0 ? 0 : static_cast<size_t>(n));
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT;
  ev.data.u64 = static_cast<uint64_t>(index);
  epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev);
}

void Publisher::ConnFailed(Conn& c, const char* why) {
  if (c.busy) {
    ++stats_.conn_errors;
    c.busy = false;
    LogAck(c, false, 0);
  }
  NoteError(std::string("publisher connection: ") + why);
  if (c.fd >= 0) close(c.fd);
  c.fd = -1;
  std::string err;
  if (!OpenConn(c, &err)) NoteError(err);
}

bool Publisher::TryParseResponse(Conn& c, int64_t now, bool* close_after) {
  const char* p = c.in.data();
  const char* end = p + c.in.size();
  const char* head_end = static_cast<const char*>(memmem(p, c.in.size(), "\r\n\r\n", 4));
  if (!head_end) return false;
  head_end += 4;
  int status = 0;
  if (head_end - p >= 12 && memcmp(p, "HTTP/1.", 7) == 0) {
    status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
  }
  std::string body;
  size_t consumed = 0;
  if (const char* cl = FindCaseless(p, head_end, "\ncontent-length:")) {
    cl += 16;
    while (cl < head_end && *cl == ' ') ++cl;
    uint64_t len = 0;
    ParseUint(cl, head_end, &len);
    if (static_cast<uint64_t>(end - head_end) < len) return false;
    body.assign(head_end, len);
    consumed = static_cast<size_t>(head_end - p) + len;
  } else if (const char* te = FindCaseless(p, head_end, "\ntransfer-encoding:");
             te && FindCaseless(te, head_end, "chunked")) {
    const char* q = head_end;
    for (;;) {
      const char* eol = static_cast<const char*>(memmem(q, end - q, "\r\n", 2));
      if (!eol) return false;
      uint64_t size = 0;
      for (const char* h = q; h < eol; ++h) {
        int v = (*h >= '0' && *h <= '9') ? *h - '0' : (*h >= 'a' && *h <= 'f') ? *h - 'a' + 10
                                                   : (*h >= 'A' && *h <= 'F') ? *h - 'A' + 10 : -1;
        if (v < 0) break;
        size = size * 16 + static_cast<uint64_t>(v);
      }
      q = eol + 2;
      if (static_cast<uint64_t>(end - q) < size + 2) return false;
      if (size == 0) {
        consumed = static_cast<size_t>(q + 2 - p);
        break;
      }
      body.append(q, size);
      q += size + 2;
    }
  } else {
    // No length: only bodiless statuses are complete here.
    consumed = static_cast<size_t>(head_end - p);
    if (status != 204 && status != 304) *close_after = true;
  }
  if (FindCaseless(p, head_end, "\nconnection: close")) *close_after = true;
  bool ok = status == 200 && body.find("\"error\"") == std::string::npos;
  LogAck(c, ok, now);
  if (ok) {
    ++stats_.acked;
  } else {
    ++stats_.api_errors;
    const char* eol = static_cast<const char*>(memchr(p, '\r', head_end - p));
    NoteError("publish answered " + std::string(p, eol ? eol : head_end) + " " + body);
  }
  stats_.ack_latency.Record(now - c.sent_at);
  c.busy = false;
  c.in.erase(0, consumed);
  return true;
}

void Publisher::OnEvent(int index, uint32_t events, int64_t now) {
  Conn& c = conns_[index];
  if (c.fd < 0) return;
  if ((events & EPOLLOUT) && !c.out.empty()) {
    ssize_t n = send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
    if (n > 0) c.out.erase(0, static_cast<size_t>(n));
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
      ConnFailed(c, strerror(errno));
      return;
    }
    if (c.out.empty()) {
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = static_cast<uint64_t>(index);
      epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev);
    }
  }
  if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR))) return;
  char buf[65536];
  ssize_t n = recv(c.fd, buf, sizeof buf, MSG_DONTWAIT);
  if (n <= 0) {
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
    ConnFailed(c, n == 0 ? "closed by server" : strerror(errno));
    return;
  }
  c.in.append(buf, static_cast<size_t>(n));
  bool close_after = false;
  while (TryParseResponse(c, now, &close_after)) {
  }
  if (close_after) {
    bool was_busy = c.busy;
    c.busy = false;
    ConnFailed(c, "server asked to close");
    if (was_busy) ++stats_.conn_errors;
  }
}

void Publisher::ProgressLine(int64_t t0, int64_t now) {
  if (opt_.quiet || now < next_progress_ns_) return;
  next_progress_ns_ += 1'000'000'000;
  int64_t received = ReceivedTotal();
  fprintf(stderr, "  t=%5.1fs  sent %lld  acked %lld  deliveries %lld (+%lld/s)\n", (now - t0) * 1e-9,
          static_cast<long long>(stats_.sent), static_cast<long long>(stats_.acked),
          static_cast<long long>(received), static_cast<long long>(received - last_progress_received_));
  last_progress_received_ = received;
}

bool Publisher::Step(int64_t t0, int64_t publish_end, int64_t drain_deadline, bool* publish_over) {
  int64_t now = NowNs();
  if (now >= drain_deadline) {
    if (!*publish_over) {
      *publish_over = true;
      stats_.publish_end_ns = now;
    }
    return false;
  }
  int64_t wake = drain_deadline;
  const int C = static_cast<int>(conns_.size());
  if (!*publish_over) {
    if (opt_.rate > 0) {
      bool any_left = false;
      for (int i = 0; i < C; ++i) {
        Conn& c = conns_[i];
        int64_t slot = i + static_cast<int64_t>(C) * c.next_k;
        if (slot >= total_slots_ || c.fd < 0) continue;
        any_left = true;
        if (c.busy) continue;
        int64_t at = t0 + static_cast<int64_t>(static_cast<double>(slot) * 1e9 / opt_.rate);
        if (at <= now) {
          if (now - at > 1'000'000) ++stats_.late_sends;
          SendRequest(c, i, at, now);
          int64_t next = i + static_cast<int64_t>(C) * c.next_k;
          if (next < total_slots_) {
            int64_t next_at = t0 + static_cast<int64_t>(static_cast<double>(next) * 1e9 / opt_.rate);
            if (next_at < wake) wake = next_at;
          }
        } else if (at < wake) {
          wake = at;
        }
      }
      if (!any_left) {
        *publish_over = true;
        stats_.publish_end_ns = now;
      }
    } else if (now >= publish_end) {
      *publish_over = true;
      stats_.publish_end_ns = now;
    } else {
      int64_t alive = 0;
      for (int w = 0; w < procs_; ++w) alive += shared_->workers[w].alive.load(std::memory_order_relaxed);
      if (alive < 1) alive = 1;
      int64_t delivered = ReceivedTotal() / alive;
      bool stalled = false;
      for (int i = 0; i < C; ++i) {
        Conn& c = conns_[i];
        if (c.busy || c.fd < 0) continue;
        if (stats_.sent - delivered >= opt_.window) {
          stalled = true;
          break;
        }
        SendRequest(c, i, now, now);
      }
      if (stalled) {
        ++stats_.window_stalls;
        if (now + 200'000 < wake) wake = now + 200'000;  // re-check shared counters in 0.2 ms
      }
      if (publish_end < wake) wake = publish_end;
    }
  }
  if (*publish_over) {
    bool busy = false;
    for (const Conn& c : conns_) busy |= c.busy;
    const int64_t received = ReceivedTotal();
    if (opt_.mode == Mode::kChannels) {
      // How many deliveries are due is known only after the run: stop once they stopped coming.
      if (received != last_received_) {
        last_received_ = received;
        last_change_ns_ = now;
      }
      if (!busy && now - last_change_ns_ >= 500'000'000) return false;
    } else if (!busy && received >= stats_.acked * subscribers_) {
      return false;
    }
    if (now + 1'000'000 < wake) wake = now + 1'000'000;
  }
  if (next_second_ns_ < wake) wake = next_second_ns_;
  if (!opt_.quiet && next_progress_ns_ < wake) wake = next_progress_ns_;
  ProgressLine(t0, now);

  epoll_event events[64];
  int64_t wait_ns = wake - now;
  if (wait_ns < 0) wait_ns = 0;
  timespec ts{static_cast<time_t>(wait_ns / 1'000'000'000), static_cast<long>(wait_ns % 1'000'000'000)};
  int n = epoll_pwait2(ep_, events, 64, &ts, nullptr);
  now = NowNs();
  for (int k = 0; k < n; ++k) OnEvent(static_cast<int>(events[k].data.u64), events[k].events, now);
  return true;
}

}  // namespace instant::bench
