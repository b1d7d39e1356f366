#include "node/metrics.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string_view>

#include "base/json_writer.h"
#include "node/node.h"

namespace instant::node {
namespace {

// One metric family: # HELP / # TYPE, then its samples through Sample().
class Family {
 public:
  Family(std::string& out, std::string_view name, std::string_view type, std::string_view help)
      : out_(out), name_(name) {
    out_.append("# HELP ").append(name).append(" ").append(help).append("\n");
    out_.append("# TYPE ").append(name).append(" ").append(type).append("\n");
  }
  // `labels` is the inside of {...} ("" = none), already escaped.
  Family& Sample(double value, std::string_view labels = {}) {
    out_.append(name_);
    if (!labels.empty()) out_.append("{").append(labels).append("}");
    char buf[32];
    int n = value == static_cast<double>(static_cast<int64_t>(value))
                ? std::snprintf(buf, sizeof buf, " %lld\n", static_cast<long long>(value))
                : std::snprintf(buf, sizeof buf, " %.6f\n", value);
    out_.append(buf, static_cast<size_t>(n));
    return *this;
  }

 private:
  std::string& out_;
  std::string_view name_;
};

std::string CodeLabel(uint32_t code) { return "code=\"" + std::to_string(code) + "\""; }

// Resident set size and CPU time of this process, from /proc/self.
struct ProcessStats {
  double rss_bytes = 0, cpu_seconds = 0, start_unix = 0;
  int open_fds = 0;
  double max_fds = 0;
};

ProcessStats ReadProcessStats() {
  ProcessStats s;
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  {
    std::ifstream statm("/proc/self/statm");
    long size = 0, resident = 0;
    if (statm >> size >> resident) s.rss_bytes = static_cast<double>(resident) * page;
  }
  {
    std::ifstream stat("/proc/self/stat");
    std::string line;
    std::getline(stat, line);
    // Fields after the command name (which may contain spaces) start after the last ')'.
    size_t pos = line.rfind(')');
    if (pos != std::string::npos) {
      std::string_view rest(line);
      rest.remove_prefix(pos + 2);
      // rest starts at field 3 (state); utime = 14, stime = 15, starttime = 22.
      unsigned long long fields[20] = {};
      int index = 3;
      size_t i = 0;
      while (i < rest.size() && index <= 22) {
        size_t end = rest.find(' ', i);
        if (end == std::string_view::npos) end = rest.size();
        if (index == 14 || index == 15 || index == 22) {
          fields[index - 3] = std::strtoull(std::string(rest.substr(i, end - i)).c_str(), nullptr, 10);
        }
        ++index;
        i = end + 1;
      }
      s.cpu_seconds = static_cast<double>(fields[14 - 3] + fields[15 - 3]) / ticks;
      std::ifstream uptime("/proc/uptime");
      double up = 0;
      if (uptime >> up) {
        const double boot = static_cast<double>(time(nullptr)) - up;
        s.start_unix = boot + static_cast<double>(fields[22 - 3]) / ticks;
      }
    }
  }
  if (DIR* d = opendir("/proc/self/fd")) {
    while (readdir(d) != nullptr) ++s.open_fds;
    closedir(d);
    s.open_fds -= 3;  // ".", ".." and the directory's own fd
  }
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) s.max_fds = static_cast<double>(rl.rlim_cur);
  return s;
}

}  // namespace

void AppendMetrics(std::string& out, Node& node, int64_t now_unix) {
  const client::NodeCounters& c = node.counters();
  const auto relaxed = std::memory_order_relaxed;
  out.reserve(4096);

  Family(out, "centrifugo_node_build", "gauge", "Node build information.")
      .Sample(1, "version=\"" + std::string(node.info().version) + "\"");
  Family(out, "centrifugo_node_num_clients", "gauge", "Connected clients (after connect).")
      .Sample(static_cast<double>(std::max<int64_t>(0, c.clients.load(relaxed))));
  Family(out, "centrifugo_node_num_users", "gauge", "Distinct users connected.")
      .Sample(static_cast<double>(node.users().users()));
  Family(out, "centrifugo_node_num_channels", "gauge", "Channels with at least one subscriber.")
      .Sample(static_cast<double>(node.registry().num_channels()));
  Family(out, "centrifugo_node_num_subscriptions", "gauge", "Client subscriptions.")
      .Sample(static_cast<double>(node.registry().num_subscriptions()));
  Family(out, "centrifugo_node_num_nodes", "gauge", "Nodes of the cluster this node knows.").Sample(1);
  Family(out, "instant_node_uptime_seconds", "gauge", "Seconds since the node started.")
      .Sample(static_cast<double>(std::max<int64_t>(0, now_unix - node.info().started_unix)));
  Family(out, "instant_node_connections", "gauge", "Open TCP connections (WebSocket and HTTP).")
      .Sample(static_cast<double>(std::max<int64_t>(0, c.connections.load(relaxed))));

  Family(out, "centrifugo_transport_connect_count", "counter", "WebSocket handshakes accepted.")
      .Sample(static_cast<double>(c.ws_upgrades.load(relaxed)), "transport=\"websocket\"");
  Family(out, "instant_transport_handshakes_refused_count", "counter",
         "WebSocket handshakes refused (malformed upgrade, origin not allowed).")
      .Sample(static_cast<double>(c.ws_refused.load(relaxed)), "transport=\"websocket\"");
  Family(out, "centrifugo_transport_messages_sent", "counter",
         "WebSocket messages sent to clients: replies and pushes (publications, join/leave).")
      .Sample(static_cast<double>(c.messages_sent.load(relaxed) + c.deliveries.load(relaxed)),
              "transport=\"websocket\"");
  Family(out, "centrifugo_transport_messages_received", "counter", "WebSocket messages received from clients.")
      .Sample(static_cast<double>(c.messages_received.load(relaxed)), "transport=\"websocket\"");
  Family(out, "instant_node_deliveries_count", "counter",
         "Publications and join/leave events queued to subscribers.")
      .Sample(static_cast<double>(c.deliveries.load(relaxed)));

  {
    Family f(out, "centrifugo_client_num_server_disconnects", "counter",
             "Connections closed by the server, by disconnect code.");
    for (const auto& [code, n] : c.disconnects.Snapshot()) f.Sample(static_cast<double>(n), CodeLabel(code));
  }
  Family(out, "instant_client_slow_disconnects_count", "counter",
         "Clients dropped as slow (client_queue_max_size exceeded, or websocket_write_timeout).")
      .Sample(static_cast<double>(c.slow_drops.load(relaxed)));
  {
    Family f(out, "centrifugo_client_num_reply_errors", "counter", "Error replies to client commands, by code.");
    for (const auto& [code, n] : c.reply_errors.Snapshot()) f.Sample(static_cast<double>(n), CodeLabel(code));
  }

  const ProcessStats p = ReadProcessStats();
  Family(out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.").Sample(p.rss_bytes);
  Family(out, "process_cpu_seconds_total", "counter", "User and system CPU time in seconds.").Sample(p.cpu_seconds);
  Family(out, "process_open_fds", "gauge", "Open file descriptors.").Sample(p.open_fds);
  Family(out, "process_max_fds", "gauge", "Limit of open file descriptors.").Sample(p.max_fds);
  Family(out, "process_start_time_seconds", "gauge", "Start time of the process, Unix seconds.").Sample(p.start_unix);
}

}  // namespace instant::node
