#pragma once
// Command line of instant-loadgen. Every phase has a bound (count or seconds); see README.md.

#include <cstdint>
#include <string>
#include <vector>

namespace instant::bench {

struct Options {
  std::string host = "127.0.0.1";  // server address (IPv4 literal, loopback expected)
  int port = 8427;
  // Subscribers connect to these ports round-robin (several nodes sharing a Redis engine); empty =
  // `port`. The publisher always uses `port`.
  std::vector<int> sub_ports;
  int connections = 9000;          // WebSocket subscribers, all on `channel`
  std::string channel = "bench";
  // Client protocol: "v2" = Centrifugo protocol v2 JSON (connect + subscribe commands, pushes);
  // "plain" = the suite's plain broadcast protocol for peers without Centrifugo's (Node ws,
  // Daphne): no command; subscribed on the server's {"subscribed":...} text frame; every text
  // frame carrying "ts"/"seq" is a delivery (bench/servers/README.md).
  std::string protocol = "v2";
  double rate = 2;                 // publishes per second; 0 = saturate (closed loop, see window)
  int window = 64;                 // saturation: max publishes sent but not yet delivered
  int pub_conns = 0;               // keep-alive HTTP connections of the publisher; 0 = 4 with
                                   // --rate, --window (max 256) when saturating
  double duration = 10;            // publish phase, seconds
  int payload_size = 100;          // bytes of the publication's `data` JSON
  std::string api_key;
  std::string token;               // connection JWT; empty = anonymous connect
  int procs = 0;                   // subscriber worker processes; 0 = ceil(connections / 9000)
  int server_pid = 0;              // sample CPU/RSS of this process when > 0
  std::string json_out;            // write the JSON report line here as well
  std::string md_out;              // append a markdown summary row here
  std::string label = "fanout";
  double connect_rate = 2000;      // new connections per second, all workers together
  int max_pending = 500;           // handshakes in progress at once, all workers together
  double handshake_timeout = 10;   // seconds from connect() to subscribe reply
  double ramp_timeout = 60;        // seconds for the whole connect phase
  double drain = 5;                // seconds to wait for outstanding deliveries
  int conns_per_ip = 5000;         // client sockets per source address (127.0.0.2, .3, ...)
  int first_source_ip = 2;         // last octet of the first source address
  double idle = 0;                 // > 0: idle scenario (S1): no publisher; hold the subscribed
                                   // connections this many seconds, sample server RSS/CPU
  double wait_health = 0;          // > 0: only poll GET /health until 200 or timeout, then exit
  bool quiet = false;              // no progress lines on stderr
};

// Parses argv. On error or --help prints usage to stderr and returns false (exit code in *code).
bool ParseOptions(int argc, char** argv, Options* out, int* code);

}  // namespace instant::bench
