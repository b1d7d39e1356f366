// instant-loadgen: benchmark driver. The coordinator (this process) forks subscriber workers,
// watches the connect ramp (handshake mode: the storm) through shared memory, runs the publisher
// in its own epoll loop, samples server and load-generator CPU/RSS around the measured window,
// collects the workers' results through pipes and prints the report. Every phase is bounded; see
// README.md.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "histogram.h"
#include "options.h"
#include "proc_stats.h"
#include "publish_log.h"
#include "publisher.h"
#include "report.h"
#include "shared.h"
#include "subscriber.h"
#include "util.h"

namespace instant::bench {
namespace {

void SleepMs(int ms) { usleep(static_cast<useconds_t>(ms) * 1000); }

// GET /health until HTTP 200 or the deadline. Used by run.sh instead of curl.
int WaitHealth(const Options& o) {
  const int64_t deadline = NowNs() + static_cast<int64_t>(o.wait_health * 1e9);
  std::string last = "no answer";
  while (NowNs() < deadline) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(o.port));
    inet_pton(AF_INET, o.host.c_str(), &a.sin_addr);
    timeval tv{1, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
      std::string req = "GET /health HTTP/1.1\r\nHost: " + o.host + "\r\nConnection: close\r\n\r\n";
      if (send(fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size())) {
        char buf[512];
        ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
        if (n >= 12 && memcmp(buf, "HTTP/1.1 200", 12) == 0) {
          close(fd);
          return 0;
        }
        if (n > 0) {
          buf[n] = '\0';
          last = std::string(buf, strcspn(buf, "\r\n"));
        }
      }
    } else {
      last = strerror(errno);
    }
    close(fd);
    SleepMs(100);
  }
  fprintf(stderr, "instant-loadgen: /health on %s:%d not OK after %.0f s (%s)\n", o.host.c_str(), o.port,
          o.wait_health, last.c_str());
  return 1;
}

struct WorkerProc {
  int pid = -1;
  int result_fd = -1;
  int count = 0;
};

// Reads exactly len bytes with a deadline. False on EOF, error or timeout.
bool ReadFull(int fd, char* p, size_t len, int64_t deadline) {
  while (len > 0) {
    int64_t left_ms = (deadline - NowNs()) / 1'000'000;
    if (left_ms <= 0) return false;
    pollfd pfd{fd, POLLIN, 0};
    int pr = poll(&pfd, 1, static_cast<int>(left_ms));
    if (pr < 0 && errno == EINTR) continue;
    if (pr <= 0) return false;
    ssize_t n = read(fd, p, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    len -= static_cast<size_t>(n);
  }
  return true;
}

double WorkersRunqueue(const std::vector<WorkerProc>& workers) {
  double sum = ProcessRunqueueWaitSeconds(getpid());
  for (const WorkerProc& w : workers) {
    double s = ProcessRunqueueWaitSeconds(w.pid);
    if (s > 0) sum += s;
  }
  return sum;
}

double WorkersCpu(const std::vector<WorkerProc>& workers) {
  double sum = 0;
  for (const WorkerProc& w : workers) {
    double s = ProcessCpuSeconds(w.pid);
    if (s > 0) sum += s;
  }
  return sum;
}

// CPU, run-queue and machine figures over one measured window (publish, idle or handshake storm).
class CpuWindow {
 public:
  CpuWindow(const Options& o, const std::vector<WorkerProc>& workers) : o_(o), workers_(workers) {}

  void Start() {
    t0_ = NowNs();
    server0_ = o_.server_pid > 0 ? ProcessCpuSeconds(o_.server_pid) : -1;
    machine0_ = MachineCpuSeconds();
    self0_ = SelfCpuSeconds();
    workers0_ = WorkersCpu(workers_);
    server_rq0_ = o_.server_pid > 0 ? ProcessRunqueueWaitSeconds(o_.server_pid) : -1;
    loadgen_rq0_ = WorkersRunqueue(workers_);
  }
  int64_t t0() const { return t0_; }
  // Server CPU seconds since Start (-1 when unknown).
  double ServerCpu() const {
    if (o_.server_pid <= 0 || server0_ < 0) return -1;
    double s1 = ProcessCpuSeconds(o_.server_pid);
    return s1 >= 0 ? s1 - server0_ : -1;
  }
  void Stop(Report* r) const {
    const int64_t t1 = NowNs();
    r->window_s = (t1 - t0_) * 1e-9;
    r->server_cpu_window_s = ServerCpu();
    r->loadgen_cpu_window_s = (SelfCpuSeconds() - self0_) + (WorkersCpu(workers_) - workers0_);
    r->loadgen_runqueue_s = WorkersRunqueue(workers_) - loadgen_rq0_;
    if (server_rq0_ >= 0) {
      double rq1 = ProcessRunqueueWaitSeconds(o_.server_pid);
      if (rq1 >= 0) r->server_runqueue_s = rq1 - server_rq0_;
    }
    MachineCpu machine1 = MachineCpuSeconds();
    if (machine0_.busy_s >= 0 && machine1.busy_s >= 0) {
      r->machine_cpu_window_s = machine1.busy_s - machine0_.busy_s;
      r->steal_window_s = machine1.steal_s - machine0_.steal_s;
    }
  }

 private:
  const Options& o_;
  const std::vector<WorkerProc>& workers_;
  int64_t t0_ = 0;
  double server0_ = -1, self0_ = 0, workers0_ = 0, server_rq0_ = -1, loadgen_rq0_ = 0;
  MachineCpu machine0_;
};

// The server's RSS once a second (S5/S7/soak: does it stay bounded?).
class RssSeries {
 public:
  explicit RssSeries(int pid) : pid_(pid) {}
  // Takes the first sample (time 0) and schedules one a second.
  void Begin(int64_t now, std::vector<long>* out) {
    next_ns_ = now;
    Tick(now, out);
  }
  void Tick(int64_t now, std::vector<long>* out) {
    // 50 ms of slack: callers wake about once a second, a little early or late.
    if (pid_ <= 0 || now + 50'000'000 < next_ns_ || out->size() >= 3600) return;
    next_ns_ += 1'000'000'000;
    if (next_ns_ <= now) next_ns_ = now + 1'000'000'000;  // after a stall: no burst of samples
    long kb = ProcessRssKb(pid_);
    if (kb >= 0) out->push_back(kb);
  }

 private:
  int pid_;
  int64_t next_ns_ = 0;
};

const char* ModeName(Mode m) {
  return m == Mode::kHandshake ? "handshake" : m == Mode::kChannels ? "channels" : "fanout";
}

int RunBench(const Options& o) {
  Report r;
  r.label = o.label;
  r.mode = ModeName(o.mode);
  r.rate = o.rate;
  r.window = o.window;
  r.duration = o.duration;
  r.payload_size = o.payload_size;
  r.procs = o.procs;
  r.pub_conns = o.pub_conns;
  r.connections = o.connections;
  r.protocol = o.protocol;
  r.idle_s = o.idle;
  r.server_pid = o.server_pid;
  r.handshake_subscribe = o.handshake_subscribe;
  r.jwt = !o.token_secret.empty();
  if (o.mode == Mode::kChannels) {
    r.group_size = o.group_size;
    r.groups = o.Groups();
    r.personal = o.personal;
    r.personal_share = o.personal ? o.personal_share : 0;
    r.churn = o.churn;
    r.churn_grace = o.churn_grace;
  }
  r.slow_fraction = o.slow_fraction;
  const bool handshake_mode = o.mode == Mode::kHandshake;
  if (o.server_pid > 0 && ProcessCpuSeconds(o.server_pid) < 0) {
    fprintf(stderr, "instant-loadgen: no process %d to sample\n", o.server_pid);
    return 1;
  }
  if (o.server_pid > 0) r.server_rss_before_kb = ProcessRssKb(o.server_pid);
  r.slab_before_kb = SlabKb();
  r.cpus = static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
  if (FILE* f = fopen("/proc/loadavg", "re")) {
    if (fscanf(f, "%lf", &r.loadavg_start) != 1) r.loadavg_start = -1;
    fclose(f);
  }

  void* mem = mmap(nullptr, sizeof(SharedState), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) {
    perror("mmap");
    return 1;
  }
  SharedState* shared = new (mem) SharedState();
  // Channels mode: the publish log, shared with the workers (pages are touched only as used).
  PublishLog* log = nullptr;
  size_t log_bytes = 0;
  if (o.mode == Mode::kChannels) {
    const int64_t slots = Publisher::Slots(o);
    log_bytes = PublishLog::BytesFor(slots);
    void* lm = mmap(nullptr, log_bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (lm == MAP_FAILED) {
      perror("mmap publish log");
      return 1;
    }
    log = static_cast<PublishLog*>(lm);  // zero-filled: every record "never sent"
    log->capacity = slots;
  }

  // ---- fork the subscriber workers ----
  std::vector<WorkerProc> workers(o.procs);
  const pid_t parent = getpid();
  int first = 0;
  fflush(stdout);
  fflush(stderr);
  for (int w = 0; w < o.procs; ++w) {
    int count = o.connections / o.procs + (w < o.connections % o.procs ? 1 : 0);
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
      perror("pipe2");
      return 1;
    }
    pid_t pid = fork();
    if (pid < 0) {
      perror("fork");
      return 1;
    }
    if (pid == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(5);
      close(fds[0]);
      for (int k = 0; k < w; ++k) close(workers[k].result_fd);
      SubscriberConfig cfg;
      cfg.options = &o;
      cfg.worker = w;
      cfg.first_conn = first;
      cfg.count = count;
      cfg.streams = o.pub_conns;
      cfg.shared = shared;
      cfg.log = log;
      cfg.result_fd = fds[1];
      _exit(RunSubscriberWorker(cfg));
    }
    close(fds[1]);
    workers[w] = {pid, fds[0], count};
    first += count;
  }

  // ---- connect ramp (handshake mode: the storm, which is the measurement) ----
  CpuWindow cpu(o, workers);
  RssSeries rss(o.server_pid);
  const int64_t ramp_start = NowNs();
  const double ramp_s = handshake_mode ? o.duration : o.ramp_timeout;
  const int64_t ramp_deadline = ramp_start + static_cast<int64_t>((ramp_s + o.handshake_timeout + 5) * 1e9);
  int64_t next_progress = ramp_start + 1'000'000'000;
  int64_t subscribed = 0, slow_subscribed = 0;
  if (handshake_mode) {
    cpu.Start();
    rss.Begin(ramp_start, &r.rss_series_kb);
  }
  if (!o.quiet) {
    fprintf(stderr, "%s: %s%d connections to %s:%d via %d worker process(es), %s\n", o.label.c_str(),
            handshake_mode ? "handshake storm of up to " : "", o.connections, o.host.c_str(), o.port, o.procs,
            o.connect_rate > 0 ? (std::to_string(static_cast<long long>(o.connect_rate)) + "/s").c_str() : "unpaced");
  }
  for (;;) {
    SleepMs(handshake_mode ? 10 : 20);
    int64_t now = NowNs();
    if (handshake_mode) rss.Tick(now, &r.rss_series_kb);
    int64_t started = 0, failed = 0;
    int done = 0, exited = 0;
    subscribed = 0;
    slow_subscribed = 0;
    for (int w = 0; w < o.procs; ++w) {
      const WorkerStatus& s = shared->workers[w];
      started += s.started.load(std::memory_order_relaxed);
      subscribed += s.subscribed.load(std::memory_order_relaxed);
      slow_subscribed += s.slow_subscribed.load(std::memory_order_relaxed);
      failed += s.failed.load(std::memory_order_relaxed);
      done += s.ramp_done.load(std::memory_order_acquire);
      if (waitpid(workers[w].pid, nullptr, WNOHANG) == workers[w].pid) {
        ++exited;
        workers[w].pid = -1;
      }
    }
    bool finished = done == o.procs;
    if (!o.quiet && (now >= next_progress || finished)) {
      fprintf(stderr, "  ramp %5.1fs  started %lld  %s %lld  failed %lld\n", (now - ramp_start) * 1e-9,
              static_cast<long long>(started), handshake_mode ? "handshakes" : "subscribed",
              static_cast<long long>(subscribed), static_cast<long long>(failed));
      next_progress += 1'000'000'000;
    }
    if (finished) break;
    if (exited > 0 || now > ramp_deadline) {
      fprintf(stderr, "instant-loadgen: connect phase did not finish (%d worker(s) exited, %s)\n", exited,
              now > ramp_deadline ? "deadline passed" : "before the deadline");
      break;
    }
  }
  r.ramp_s = (NowNs() - ramp_start) * 1e-9;

  // ---- publish + drain ----
  int64_t t0 = 0;
  bool published = false;
  if (handshake_mode) {
    SleepMs(200);  // the server's handling of the last closes belongs to the storm's CPU
    cpu.Stop(&r);
  } else if (subscribed > 0) {
    SleepMs(300);  // let the server settle before sampling its RSS
    if (o.server_pid > 0) r.server_rss_subscribed_kb = ProcessRssKb(o.server_pid);
    r.slab_subscribed_kb = SlabKb();
  }
  if (handshake_mode) {
    // No publish phase: the storm was the measurement.
  } else if (subscribed > 0 && o.idle > 0) {
    // ---- idle scenario (S1): hold the connections, no publisher ----
    if (!o.quiet) fprintf(stderr, "  idle for %.0f s\n", o.idle);
    cpu.Start();
    t0 = cpu.t0();
    rss.Begin(t0, &r.rss_series_kb);
    const int64_t idle_end = t0 + static_cast<int64_t>(o.idle * 1e9);
    for (int64_t now = NowNs(); now < idle_end; now = NowNs()) {
      rss.Tick(now, &r.rss_series_kb);
      SleepMs(50);
    }
    if (o.server_pid > 0) r.server_rss_idle_end_kb = ProcessRssKb(o.server_pid);
    r.slab_idle_end_kb = SlabKb();
    cpu.Stop(&r);
  } else if (subscribed > 0) {
    // S7: the slow subscribers get no deliveries counted; the others are the ones measured.
    const int64_t healthy = subscribed - slow_subscribed;
    Publisher pub(o, shared, o.procs, healthy, log);
    std::string err;
    if (!pub.Connect(&err)) {
      fprintf(stderr, "instant-loadgen: %s\n", err.c_str());
      r.publish_error = err;
    } else {
      published = true;
      if (!o.quiet) {
        fprintf(stderr, "  publishing for %.0f s (%s)\n", o.duration * o.PublishPhases(),
                o.slow_fraction > 0 ? "fixed rate; slow subscribers stop reading half-way"
                : o.rate > 0        ? "fixed rate"
                                    : "saturation, end-to-end window");
      }
      cpu.Start();
      t0 = cpu.t0();
      rss.Begin(t0, &r.rss_series_kb);
      if (o.slow_fraction > 0) shared->slow_start_ns.store(t0 + static_cast<int64_t>(o.duration * 1e9));
      shared->publish_start_ns.store(t0);
      shared->phase.store(kPhasePublish, std::memory_order_release);
      pub.Run(
          t0,
          [&] {
            int64_t now = NowNs();
            r.publish_s = (now - t0) * 1e-9;
            r.server_cpu_publish_s = cpu.ServerCpu();
            shared->phase.store(kPhaseDrain, std::memory_order_release);
          },
          [&] { rss.Tick(NowNs(), &r.rss_series_kb); });
      cpu.Stop(&r);
      const PublisherStats& ps = pub.stats();
      r.scheduled = ps.scheduled;
      r.sent = ps.sent;
      r.acked = ps.acked;
      r.api_errors = ps.api_errors;
      r.pub_conn_errors = ps.conn_errors;
      r.late_sends = ps.late_sends;
      r.window_stalls = ps.window_stalls;
      r.publish_error = ps.first_error;
      r.ack_p50_ms = ps.ack_latency.ValueAtQuantile(0.5) / 1e6;
      r.ack_p99_ms = ps.ack_latency.ValueAtQuantile(0.99) / 1e6;
      r.ack_max_ms = ps.ack_latency.max_ns() / 1e6;
      // Channels mode: the session accounting of the workers says what was due.
      if (o.mode != Mode::kChannels) r.expected = ps.acked * healthy;
    }
    if (o.slow_fraction > 0) {
      // S7: let the slow subscribers read what they hold to see how the server ended them.
      shared->phase.store(kPhaseSlowCheck, std::memory_order_release);
      const int64_t deadline = NowNs() + static_cast<int64_t>((o.slow_check + 3) * 1e9);
      for (;;) {
        int done = 0;
        for (int w = 0; w < o.procs; ++w) done += shared->workers[w].slow_done.load(std::memory_order_acquire);
        if (done == o.procs || NowNs() > deadline) break;
        SleepMs(20);
      }
    }
  } else {
    fprintf(stderr, "instant-loadgen: no connection subscribed; skipping the publish phase\n");
  }

  // ---- collect ----
  shared->phase.store(kPhaseFinish, std::memory_order_release);
  LatencyHistogram latency;
  LatencyHistogram second;
  const int64_t collect_deadline = NowNs() + 15'000'000'000;
  int64_t last_delivery = 0, first_connect = 0, last_handshake = 0, slow_close_ns_sum = 0;
  int collected = 0;
  for (WorkerProc& w : workers) {
    uint64_t len = 0;
    std::string blob;
    bool ok = ReadFull(w.result_fd, reinterpret_cast<char*>(&len), 8, collect_deadline) && len >= sizeof(WorkerResult) &&
              len < (64u << 20);
    if (ok) {
      blob.resize(len);
      ok = ReadFull(w.result_fd, blob.data(), len, collect_deadline);
    }
    close(w.result_fd);
    if (!ok) {
      // Its connections then count as neither subscribed nor failed; the exit code says so.
      fprintf(stderr, "instant-loadgen: no result from worker pid %d\n", w.pid);
      continue;
    }
    ++collected;
    WorkerResult wr;
    memcpy(&wr, blob.data(), sizeof wr);
    size_t used = latency.MergeSerialized(blob.data() + sizeof wr, len - sizeof wr);
    if (used > 0) second.MergeSerialized(blob.data() + sizeof wr + used, len - sizeof wr - used);
    for (int k = 0; k < kFailCount; ++k) r.failures[k] += wr.failures[k];
    r.subscribed += wr.subscribed;
    r.closed_after_subscribe += wr.closed_after_subscribe;
    if (wr.last_close_code) r.last_close_code = wr.last_close_code;
    r.received += wr.received;
    r.duplicates += wr.duplicates;
    r.gaps += wr.gaps;
    r.other_pushes += wr.other_pushes;
    r.unknown_lines += wr.unknown_lines;
    r.pings += wr.pings;
    r.reads += wr.reads;
    r.frames += wr.frames;
    r.bytes += wr.bytes;
    if (wr.last_delivery_ns > last_delivery) last_delivery = wr.last_delivery_ns;
    if (wr.first_connect_ns && (first_connect == 0 || wr.first_connect_ns < first_connect)) first_connect = wr.first_connect_ns;
    if (wr.last_handshake_ns > last_handshake) last_handshake = wr.last_handshake_ns;
    r.leaves += wr.leaves;
    r.reconnects += wr.reconnects;
    r.reconnect_failures += wr.reconnect_failures;
    r.sessions += wr.sessions;
    r.deliveries_not_kept += wr.deliveries_not_kept;
    if (o.mode == Mode::kChannels) {
      r.lost += wr.session_lost;
      r.extra += wr.session_extra;
    }
    r.slow_subscribed += wr.slow_subscribed;
    r.slow_received += wr.slow_received;
    r.baseline_received += wr.baseline_received;
    r.slow_closed_in_run += wr.slow_closed_in_run;
    slow_close_ns_sum += wr.slow_close_ns_sum;
    if (wr.slow_close_ns_max * 1e-9 > r.slow_close_max_s) r.slow_close_max_s = wr.slow_close_ns_max * 1e-9;
    r.slow_close_frame += wr.slow_close_frame;
    r.slow_close_frame_3008 += wr.slow_close_frame_3008;
    if (wr.slow_close_code) r.slow_close_code = wr.slow_close_code;
    r.slow_eof += wr.slow_eof;
    r.slow_reset += wr.slow_reset;
    r.slow_open += wr.slow_open;
    if (wr.slow_backlog_bytes_max > r.slow_backlog_bytes_max) r.slow_backlog_bytes_max = wr.slow_backlog_bytes_max;
    if (o.mode == Mode::kChannels) r.expected += wr.session_expected;
    if (r.first_error.empty() && wr.first_error[0]) r.first_error = wr.first_error;
  }
  if (r.slow_closed_in_run > 0) r.slow_close_mean_s = slow_close_ns_sum * 1e-9 / static_cast<double>(r.slow_closed_in_run);
  if (handshake_mode && last_handshake > first_connect) r.handshake_span_s = (last_handshake - first_connect) * 1e-9;
  for (WorkerProc& w : workers) {
    if (w.pid <= 0) continue;
    int64_t wait_deadline = NowNs() + 5'000'000'000;
    while (waitpid(w.pid, nullptr, WNOHANG) == 0) {
      if (NowNs() > wait_deadline) {
        kill(w.pid, SIGKILL);
        waitpid(w.pid, nullptr, 0);
        break;
      }
      SleepMs(10);
    }
  }
  if (o.server_pid > 0) r.server_rss_after_kb = ProcessRssKb(o.server_pid);
  r.loadgen_cpu_total_s = SelfCpuSeconds() + ChildrenCpuSeconds();
  if (published && last_delivery > t0) r.delivery_span_s = (last_delivery - t0) * 1e-9;
  r.Finish(latency, second);

  r.PrintHuman(stdout);
  std::string json = r.Json();
  printf("%s\n", json.c_str());
  fflush(stdout);
  if (!o.json_out.empty()) {
    if (FILE* f = fopen(o.json_out.c_str(), "w")) {
      fprintf(f, "%s\n", json.c_str());
      fclose(f);
    } else {
      perror(o.json_out.c_str());
    }
  }
  if (!o.md_out.empty()) {
    FILE* f = fopen(o.md_out.c_str(), "a+");
    if (f) {
      fseek(f, 0, SEEK_END);
      if (ftell(f) == 0) fputs(r.MarkdownHeader().c_str(), f);
      fputs(r.MarkdownRow().c_str(), f);
      fclose(f);
    } else {
      perror(o.md_out.c_str());
    }
  }
  munmap(mem, sizeof(SharedState));
  if (log) munmap(log, log_bytes);
  if (collected < o.procs || r.subscribed == 0) return 1;
  if (!handshake_mode && !published && o.idle <= 0) return 1;
  return 0;
}

}  // namespace
}  // namespace instant::bench

int main(int argc, char** argv) {
  instant::bench::Options o;
  int code = 0;
  if (!instant::bench::ParseOptions(argc, argv, &o, &code)) return code;
  signal(SIGPIPE, SIG_IGN);
  if (o.wait_health > 0) return instant::bench::WaitHealth(o);
  return instant::bench::RunBench(o);
}
