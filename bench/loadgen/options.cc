#include "options.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace instant::bench {

namespace {

constexpr const char kUsage[] = R"(usage: instant-loadgen [flags]
Fan-out benchmark: N WebSocket subscribers of one channel (Centrifugo protocol v2 JSON), a
publisher POSTing /api/publish; reports delivery latency, loss, throughput and CPU.

  --host A              server IPv4 address (127.0.0.1)
  --port N              server port (8427)
  --connections N       subscribers (9000)
  --sub-ports P1,P2,..  subscribers connect to these ports round-robin (several nodes; the
                        publisher uses --port)
  --channel C           channel (bench)
  --protocol P          v2 (Centrifugo protocol v2 JSON) or plain (broadcast peers: no
                        commands, subscribed on a {"subscribed":..} frame) (v2)
  --rate R              publishes/s on a fixed schedule; 0 = saturate (2)
  --window W            saturate: max publishes in flight end to end (64)
  --pub-conns N         publisher keep-alive HTTP connections, one request in flight
                        each (4 with --rate; = window, max 256, when saturating)
  --duration S          publish phase seconds (10)
  --payload-size B      bytes of publication data JSON (100)
  --api-key K           X-API-Key for /api/publish
  --token T             connection JWT (default: anonymous connect)
  --procs P             subscriber processes (ceil(connections/9000))
  --server-pid PID      sample server CPU and RSS from /proc
  --json-out FILE       also write the JSON report line to FILE
  --md-out FILE         append a markdown summary row to FILE
  --label NAME          scenario name in reports (fanout)
  --connect-rate R      connections/s during ramp (2000)
  --max-pending N       handshakes in progress at once (500)
  --handshake-timeout S per connection (10)
  --ramp-timeout S      whole connect phase (60)
  --drain S             wait for late deliveries (5)
  --conns-per-ip N      client sockets per source address 127.0.0.X (5000)
  --idle S              idle scenario: no publishing; hold the connections S seconds and
                        report server RSS per connection, kernel slab, idle CPU
  --wait-health S       only poll GET /health until HTTP 200 (exit 0) or S seconds (exit 1)
  --quiet               no progress on stderr
)";

bool ParseDouble(const char* s, double* out) {
  char* end = nullptr;
  *out = strtod(s, &end);
  return end && *end == '\0' && end != s;
}

bool ParseInt(const char* s, int* out) {
  char* end = nullptr;
  long v = strtol(s, &end, 10);
  if (!end || *end != '\0' || end == s || v < 0 || v > 1'000'000'000) return false;
  *out = static_cast<int>(v);
  return true;
}

}  // namespace

bool ParseOptions(int argc, char** argv, Options* o, int* code) {
  *code = 2;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--help" || a == "-h") {
      fputs(kUsage, stderr);
      *code = 0;
      return false;
    }
    if (a == "--quiet") {
      o->quiet = true;
      continue;
    }
    if (i + 1 >= argc) {
      fprintf(stderr, "instant-loadgen: %s needs a value\n%s", argv[i], kUsage);
      return false;
    }
    const char* v = argv[++i];
    bool ok = true;
    if (a == "--host") o->host = v;
    else if (a == "--port") ok = ParseInt(v, &o->port);
    else if (a == "--sub-ports") {
      o->sub_ports.clear();
      std::string_view list = v;
      while (!list.empty()) {
        size_t comma = list.find(',');
        std::string item(list.substr(0, comma));
        int port = 0;
        ok = ParseInt(item.c_str(), &port) && port > 0 && port < 65536;
        if (!ok) break;
        o->sub_ports.push_back(port);
        list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
      }
    }
    else if (a == "--connections") ok = ParseInt(v, &o->connections);
    else if (a == "--channel") o->channel = v;
    else if (a == "--protocol") {
      o->protocol = v;
      ok = o->protocol == "v2" || o->protocol == "plain";
    }
    else if (a == "--idle") ok = ParseDouble(v, &o->idle) && o->idle > 0 && o->idle <= 3600;
    else if (a == "--rate") ok = ParseDouble(v, &o->rate) && o->rate >= 0;
    else if (a == "--window") ok = ParseInt(v, &o->window) && o->window > 0;
    else if (a == "--pub-conns") ok = ParseInt(v, &o->pub_conns) && o->pub_conns <= 256;
    else if (a == "--duration") ok = ParseDouble(v, &o->duration) && o->duration > 0 && o->duration <= 3600;
    else if (a == "--payload-size") ok = ParseInt(v, &o->payload_size) && o->payload_size <= 60000;
    else if (a == "--api-key") o->api_key = v;
    else if (a == "--token") o->token = v;
    else if (a == "--procs") ok = ParseInt(v, &o->procs) && o->procs <= 64;
    else if (a == "--server-pid") ok = ParseInt(v, &o->server_pid);
    else if (a == "--json-out") o->json_out = v;
    else if (a == "--md-out") o->md_out = v;
    else if (a == "--label") o->label = v;
    else if (a == "--connect-rate") ok = ParseDouble(v, &o->connect_rate) && o->connect_rate > 0;
    else if (a == "--max-pending") ok = ParseInt(v, &o->max_pending) && o->max_pending > 0;
    else if (a == "--handshake-timeout") ok = ParseDouble(v, &o->handshake_timeout) && o->handshake_timeout > 0;
    else if (a == "--ramp-timeout") ok = ParseDouble(v, &o->ramp_timeout) && o->ramp_timeout > 0;
    else if (a == "--drain") ok = ParseDouble(v, &o->drain) && o->drain >= 0 && o->drain <= 600;
    else if (a == "--conns-per-ip") ok = ParseInt(v, &o->conns_per_ip) && o->conns_per_ip > 0;
    else if (a == "--wait-health") ok = ParseDouble(v, &o->wait_health) && o->wait_health > 0;
    else {
      fprintf(stderr, "instant-loadgen: unknown flag %s\n%s", argv[i - 1], kUsage);
      return false;
    }
    if (!ok) {
      fprintf(stderr, "instant-loadgen: bad value for %s: %s\n", argv[i - 1], v);
      return false;
    }
  }
  if (o->connections < 1) {
    fprintf(stderr, "instant-loadgen: --connections must be >= 1\n");
    return false;
  }
  if (o->pub_conns == 0) o->pub_conns = o->rate > 0 ? 4 : (o->window < 256 ? o->window : 256);
  if (o->procs == 0) o->procs = (o->connections + 8999) / 9000;
  if (o->procs > o->connections) o->procs = o->connections;
  if ((o->connections + o->procs - 1) / o->procs > 19000) {
    fprintf(stderr, "instant-loadgen: > 19000 connections per process (RLIMIT_NOFILE); raise --procs\n");
    return false;
  }
  int addresses = (o->connections + o->conns_per_ip - 1) / o->conns_per_ip;
  if (o->first_source_ip + addresses > 255) {
    fprintf(stderr, "instant-loadgen: too many source addresses; raise --conns-per-ip\n");
    return false;
  }
  *code = 0;
  return true;
}

}  // namespace instant::bench
