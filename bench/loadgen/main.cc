// instant-loadgen: fan-out benchmark driver. The coordinator (this process) forks subscriber
// workers, watches the connect ramp through shared memory, runs the publisher in its own epoll
// loop, samples server and load-generator CPU/RSS around the publish phase, collects the workers'
// results through pipes and prints the report. Every phase is bounded; see README.md.

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

int RunBench(const Options& o) {
  Report r;
  r.label = o.label;
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
      cfg.result_fd = fds[1];
      _exit(RunSubscriberWorker(cfg));
    }
    close(fds[1]);
    workers[w] = {pid, fds[0], count};
    first += count;
  }

  // ---- connect ramp ----
  const int64_t ramp_start = NowNs();
  const int64_t ramp_deadline = ramp_start + static_cast<int64_t>((o.ramp_timeout + o.handshake_timeout + 5) * 1e9);
  int64_t next_progress = ramp_start + 1'000'000'000;
  int64_t subscribed = 0;
  if (!o.quiet) {
    fprintf(stderr, "%s: %d connections to %s:%d via %d worker process(es), %.0f/s\n", o.label.c_str(),
            o.connections, o.host.c_str(), o.port, o.procs, o.connect_rate);
  }
  for (;;) {
    SleepMs(20);
    int64_t now = NowNs();
    int64_t started = 0, failed = 0;
    int done = 0, exited = 0;
    subscribed = 0;
    for (int w = 0; w < o.procs; ++w) {
      const WorkerStatus& s = shared->workers[w];
      started += s.started.load(std::memory_order_relaxed);
      subscribed += s.subscribed.load(std::memory_order_relaxed);
      failed += s.failed.load(std::memory_order_relaxed);
      done += s.ramp_done.load(std::memory_order_acquire);
      if (waitpid(workers[w].pid, nullptr, WNOHANG) == workers[w].pid) {
        ++exited;
        workers[w].pid = -1;
      }
    }
    bool finished = done == o.procs;
    if (!o.quiet && (now >= next_progress || finished)) {
      fprintf(stderr, "  ramp %5.1fs  started %lld  subscribed %lld  failed %lld\n", (now - ramp_start) * 1e-9,
              static_cast<long long>(started), static_cast<long long>(subscribed), static_cast<long long>(failed));
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
  int64_t t0 = 0, t_end = 0;
  bool published = false;
  if (subscribed > 0) {
    SleepMs(300);  // let the server settle before sampling its RSS
    if (o.server_pid > 0) r.server_rss_subscribed_kb = ProcessRssKb(o.server_pid);
    r.slab_subscribed_kb = SlabKb();
  }
  if (subscribed > 0 && o.idle > 0) {
    // ---- idle scenario (S1): hold the connections, no publisher ----
    double server0 = o.server_pid > 0 ? ProcessCpuSeconds(o.server_pid) : -1;
    MachineCpu machine0 = MachineCpuSeconds();
    double self0 = SelfCpuSeconds();
    double workers0 = WorkersCpu(workers);
    double server_rq0 = o.server_pid > 0 ? ProcessRunqueueWaitSeconds(o.server_pid) : -1;
    double loadgen_rq0 = WorkersRunqueue(workers);
    if (!o.quiet) fprintf(stderr, "  idle for %.0f s\n", o.idle);
    t0 = NowNs();
    const int64_t idle_end = t0 + static_cast<int64_t>(o.idle * 1e9);
    while (NowNs() < idle_end) SleepMs(50);
    t_end = NowNs();
    r.window_s = (t_end - t0) * 1e-9;
    if (o.server_pid > 0) {
      r.server_rss_idle_end_kb = ProcessRssKb(o.server_pid);
      double s1 = ProcessCpuSeconds(o.server_pid);
      if (server0 >= 0 && s1 >= 0) r.server_cpu_window_s = s1 - server0;
    }
    r.slab_idle_end_kb = SlabKb();
    r.loadgen_runqueue_s = WorkersRunqueue(workers) - loadgen_rq0;
    if (server_rq0 >= 0) {
      double rq1 = ProcessRunqueueWaitSeconds(o.server_pid);
      if (rq1 >= 0) r.server_runqueue_s = rq1 - server_rq0;
    }
    r.loadgen_cpu_window_s = (SelfCpuSeconds() - self0) + (WorkersCpu(workers) - workers0);
    MachineCpu machine1 = MachineCpuSeconds();
    if (machine0.busy_s >= 0 && machine1.busy_s >= 0) {
      r.machine_cpu_window_s = machine1.busy_s - machine0.busy_s;
      r.steal_window_s = machine1.steal_s - machine0.steal_s;
    }
  } else if (subscribed > 0) {
    Publisher pub(o, shared, o.procs, subscribed);
    std::string err;
    if (!pub.Connect(&err)) {
      fprintf(stderr, "instant-loadgen: %s\n", err.c_str());
      r.publish_error = err;
    } else {
      published = true;
      double server0 = o.server_pid > 0 ? ProcessCpuSeconds(o.server_pid) : -1;
      MachineCpu machine0 = MachineCpuSeconds();
      double self0 = SelfCpuSeconds();
      double workers0 = WorkersCpu(workers);
      double server_rq0 = o.server_pid > 0 ? ProcessRunqueueWaitSeconds(o.server_pid) : -1;
      double loadgen_rq0 = WorkersRunqueue(workers);
      if (!o.quiet) {
        fprintf(stderr, "  publishing for %.0f s (%s)\n", o.duration,
                o.rate > 0 ? "fixed rate" : "saturation, end-to-end window");
      }
      t0 = NowNs();
      shared->publish_start_ns.store(t0);
      shared->phase.store(kPhasePublish, std::memory_order_release);
      pub.Run(t0, [&] {
        int64_t now = NowNs();
        r.publish_s = (now - t0) * 1e-9;
        if (o.server_pid > 0 && server0 >= 0) r.server_cpu_publish_s = ProcessCpuSeconds(o.server_pid) - server0;
        shared->phase.store(kPhaseDrain, std::memory_order_release);
      });
      t_end = NowNs();
      if (o.server_pid > 0 && server0 >= 0) {
        double s1 = ProcessCpuSeconds(o.server_pid);
        if (s1 >= 0) r.server_cpu_window_s = s1 - server0;
      }
      r.loadgen_cpu_window_s = (SelfCpuSeconds() - self0) + (WorkersCpu(workers) - workers0);
      r.loadgen_runqueue_s = WorkersRunqueue(workers) - loadgen_rq0;
      if (server_rq0 >= 0) {
        double rq1 = ProcessRunqueueWaitSeconds(o.server_pid);
        if (rq1 >= 0) r.server_runqueue_s = rq1 - server_rq0;
      }
      MachineCpu machine1 = MachineCpuSeconds();
      if (machine0.busy_s >= 0 && machine1.busy_s >= 0) {
        r.machine_cpu_window_s = machine1.busy_s - machine0.busy_s;
        r.steal_window_s = machine1.steal_s - machine0.steal_s;
      }
      r.window_s = (t_end - t0) * 1e-9;
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
      r.expected = ps.acked * subscribed;
    }
  } else {
    fprintf(stderr, "instant-loadgen: no connection subscribed; skipping the publish phase\n");
  }

  // ---- collect ----
  shared->phase.store(kPhaseFinish, std::memory_order_release);
  LatencyHistogram latency;
  const int64_t collect_deadline = NowNs() + 15'000'000'000;
  int64_t last_delivery = 0;
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
    latency.MergeSerialized(blob.data() + sizeof wr, len - sizeof wr);
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
    if (r.first_error.empty() && wr.first_error[0]) r.first_error = wr.first_error;
  }
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
  r.Finish(latency);

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
  if (collected < o.procs || r.subscribed == 0 || (!published && o.idle <= 0)) return 1;
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
