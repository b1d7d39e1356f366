#include "options.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace instant::bench {

namespace {

constexpr const char kUsage[] = R"(usage: instant-loadgen [flags]
WebSocket load generator for Centrifugo-compatible servers: N subscribers (Centrifugo protocol v2
JSON), a publisher POSTing /api/publish; reports delivery latency, loss, throughput, CPU and RSS.

Modes (--mode):
  fanout (default)      N subscribers of one channel. --rate R publishes/s (S3) or --rate 0
                        saturation (S4); --idle S holds them without publishing (S1);
                        --slow-fraction F makes F of them stop reading half-way (S7)
  handshake             S2: open a connection, upgrade, connect (+ subscribe), close; as fast as
                        --max-pending and --connect-rate allow for --duration s; handshakes/s
  channels              S5: each connection on a group channel of --group-size members and on
                        its own channel; publishes to random channels at --rate; --churn F of
                        the connections leave and reconnect every second

  --host A              server IPv4 address (127.0.0.1)
  --port N              server port (8427)
  --connections N       subscribers (9000); handshake mode: most handshakes attempted
  --sub-ports P1,P2,..  subscribers connect to these ports round-robin (several nodes; the
                        publisher uses --port)
  --channel C           channel (bench); channels mode: prefix, C.g<k> and C.u<i>
  --protocol P          v2 (Centrifugo protocol v2 JSON) or plain (broadcast peers: no
                        commands, subscribed on a {"subscribed":..} frame) (v2)
  --rate R              publishes/s on a fixed schedule; 0 = saturate (2)
  --window W            saturate: max publishes in flight end to end (64)
  --pub-conns N         publisher keep-alive HTTP connections, one request in flight
                        each (4 with --rate; = window, max 256, when saturating)
  --duration S          publish phase seconds; handshake mode: storm seconds (10)
  --payload-size B      bytes of publication data JSON (100)
  --api-key K           X-API-Key for /api/publish
  --token T             connection JWT, the same for every connection (default: anonymous)
  --token-secret K      HS256 secret: each connection signs its own JWT, sub = u<index>
  --procs P             subscriber processes (fanout, channels: ceil(connections/9000);
                        handshake: 2)
  --server-pid PID      sample server CPU and RSS (every second) from /proc
  --json-out FILE       also write the JSON report line to FILE
  --md-out FILE         append a markdown summary row to FILE
  --label NAME          scenario name in reports (fanout)
  --connect-rate R      connections/s during ramp, 0 = unpaced (2000)
  --max-pending N       handshakes in progress at once (500)
  --handshake-timeout S per connection (10)
  --ramp-timeout S      whole connect phase (60)
  --drain S             wait for late deliveries (5)
  --conns-per-ip N      client sockets per source address 127.0.0.X (5000)
  --idle S              idle scenario: no publishing; hold the connections S seconds and
                        report server RSS per connection, kernel slab, idle CPU
  --handshake-subscribe handshake mode: subscribe to --channel as well; done = both replies
  --group-size N        channels mode: members per group channel (10)
  --no-personal         channels mode: no personal channel per connection
  --personal-share F    channels mode: share of publishes to personal channels (0.5)
  --churn F             channels mode: share of connections leaving + reconnecting per s (0)
  --churn-grace S       channels mode: a leaving session does not expect publishes acked
                        less than S seconds before it left (1)
  --slow-fraction F     fanout at a fixed rate: publish 2 x --duration; in the second half F
                        of the subscribers stop reading; healthy latency before vs after (0)
  --slow-rcvbuf B       SO_RCVBUF of the slow subscribers (4096)
  --slow-mss B          TCP_MAXSEG of the slow subscribers, 0 = loopback's (1460)
  --slow-check S        at the end, read the slow sockets for up to S s to see how the server
                        closed them: close frame (code), EOF, reset, or still open (3)
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
    if (a == "--handshake-subscribe") {
      o->handshake_subscribe = true;
      continue;
    }
    if (a == "--no-personal") {
      o->personal = false;
      continue;
    }
    if (i + 1 >= argc) {
      fprintf(stderr, "instant-loadgen: %s needs a value\n%s", argv[i], kUsage);
      return false;
    }
    const char* v = argv[++i];
    bool ok = true;
    if (a == "--mode") {
      std::string_view m = v;
      ok = true;
      if (m == "fanout") o->mode = Mode::kFanout;
      else if (m == "handshake") o->mode = Mode::kHandshake;
      else if (m == "channels") o->mode = Mode::kChannels;
      else ok = false;
    }
    else if (a == "--host") o->host = v;
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
    else if (a == "--token-secret") {
      o->token_secret = v;
      ok = !o->token_secret.empty();
    }
    else if (a == "--group-size") ok = ParseInt(v, &o->group_size) && o->group_size >= 1;
    else if (a == "--personal-share") ok = ParseDouble(v, &o->personal_share) && o->personal_share >= 0 && o->personal_share <= 1;
    else if (a == "--churn") ok = ParseDouble(v, &o->churn) && o->churn >= 0 && o->churn <= 1;
    else if (a == "--churn-grace") ok = ParseDouble(v, &o->churn_grace) && o->churn_grace >= 0 && o->churn_grace <= 60;
    else if (a == "--slow-fraction") ok = ParseDouble(v, &o->slow_fraction) && o->slow_fraction >= 0 && o->slow_fraction <= 0.5;
    else if (a == "--slow-rcvbuf") ok = ParseInt(v, &o->slow_rcvbuf) && o->slow_rcvbuf >= 1024;
    else if (a == "--slow-mss") ok = ParseInt(v, &o->slow_mss) && (o->slow_mss == 0 || (o->slow_mss >= 536 && o->slow_mss <= 65000));
    else if (a == "--slow-check") ok = ParseDouble(v, &o->slow_check) && o->slow_check > 0 && o->slow_check <= 60;
    else if (a == "--procs") ok = ParseInt(v, &o->procs) && o->procs <= 64;
    else if (a == "--server-pid") ok = ParseInt(v, &o->server_pid);
    else if (a == "--json-out") o->json_out = v;
    else if (a == "--md-out") o->md_out = v;
    else if (a == "--label") o->label = v;
    else if (a == "--connect-rate") ok = ParseDouble(v, &o->connect_rate) && o->connect_rate >= 0;
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
  if (!o->token.empty() && !o->token_secret.empty()) {
    fprintf(stderr, "instant-loadgen: --token and --token-secret exclude each other\n");
    return false;
  }
  if (o->mode == Mode::kChannels && (o->rate <= 0 || o->protocol != "v2" || o->idle > 0)) {
    fprintf(stderr, "instant-loadgen: --mode channels needs --rate > 0, --protocol v2 and no --idle\n");
    return false;
  }
  if (o->slow_fraction > 0 && (o->mode != Mode::kFanout || o->rate <= 0 || o->idle > 0)) {
    fprintf(stderr, "instant-loadgen: --slow-fraction needs --mode fanout, --rate > 0 and no --idle\n");
    return false;
  }
  if (o->pub_conns == 0) o->pub_conns = o->rate > 0 ? 4 : (o->window < 256 ? o->window : 256);
  if (o->procs == 0) o->procs = o->mode == Mode::kHandshake ? 2 : (o->connections + 8999) / 9000;
  if (o->procs > o->connections) o->procs = o->connections;
  // Only the handshake mode closes what it opened: there, a process holds --max-pending sockets.
  if (o->mode != Mode::kHandshake && (o->connections + o->procs - 1) / o->procs > 19000) {
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
