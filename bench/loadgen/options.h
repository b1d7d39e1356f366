#pragma once
// Command line of instant-loadgen. Every phase has a bound (count or seconds); see README.md.

#include <cstdint>
#include <string>
#include <vector>

namespace instant::bench {

// What the run measures. The subscriber workers and the publisher are the same code in every
// mode; the mode decides what a connection does once its handshake completed and what is counted.
enum class Mode {
  kFanout,     // S1/S3/S4/S7: N subscribers of one channel (S1 with --idle, S7 with --slow-fraction)
  kHandshake,  // S2: open, handshake, close, as fast as allowed; handshakes/s and their latency
  kChannels,   // S5: many small channels (a group channel + a personal one per connection), churn
};

struct Options {
  Mode mode = Mode::kFanout;
  std::string host = "127.0.0.1";  // server address (IPv4 literal, loopback expected)
  int port = 8427;
  // Subscribers connect to these ports round-robin (several nodes sharing a Redis engine); empty =
  // `port`. The publisher always uses `port`.
  std::vector<int> sub_ports;
  int connections = 9000;          // subscribers; in handshake mode the most handshakes attempted
  std::string channel = "bench";   // the channel; in channels mode the prefix of every channel name
  // Client protocol: "v2" = Centrifugo protocol v2 JSON (connect + subscribe commands, pushes);
  // "plain" = the suite's plain broadcast protocol for peers without Centrifugo's (Node ws,
  // Daphne): no command; subscribed on the server's {"subscribed":...} text frame; every text
  // frame carrying "ts"/"seq" is a delivery (bench/servers/README.md).
  std::string protocol = "v2";
  double rate = 2;                 // publishes per second; 0 = saturate (closed loop, see window)
  int window = 64;                 // saturation: max publishes sent but not yet delivered
  int pub_conns = 0;               // keep-alive HTTP connections of the publisher; 0 = 4 with
                                   // --rate, --window (max 256) when saturating
  double duration = 10;            // publish phase (handshake mode: the storm), seconds
  int payload_size = 100;          // bytes of the publication's `data` JSON
  std::string api_key;
  std::string token;               // connection JWT, the same for every connection
  std::string token_secret;        // HS256 secret: every connection signs its own token (user u<i>)
  int procs = 0;                   // subscriber worker processes; 0 = by mode (see options.cc)
  int server_pid = 0;              // sample CPU/RSS of this process when > 0
  std::string json_out;            // write the JSON report line here as well
  std::string md_out;              // append a markdown summary row here
  std::string label = "fanout";
  double connect_rate = 2000;      // new connections per second, all workers together; 0 = unpaced
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

  // Handshake mode (S2).
  bool handshake_subscribe = false;  // also subscribe to --channel; done = both replies

  // Channels mode (S5).
  int group_size = 10;             // connections per group channel <channel>.g<k>
  bool personal = true;            // each connection also on its own channel <channel>.u<i>
  double personal_share = 0.5;     // fraction of publishes that go to a personal channel
  double churn = 0;                // fraction of the connections that leave and reconnect per second
  double churn_grace = 1;          // seconds: a publish acked later than (leave - grace) is not
                                   // expected by the leaving session (it may still be in flight)

  // Slow consumers (S7, fanout mode at a fixed rate).
  double slow_fraction = 0;        // > 0: this share of the subscribers stops reading half-way
  int slow_rcvbuf = 4096;          // SO_RCVBUF of the slow sockets (kernel buffering, bytes)
  int slow_mss = 1460;             // TCP_MAXSEG of the slow sockets; 0 = loopback's 65483
  double slow_check = 3;           // seconds to read what the slow sockets hold at the end

  int PublishPhases() const { return slow_fraction > 0 ? 2 : 1; }
  int Groups() const { return (connections + group_size - 1) / group_size; }
};

// Parses argv. On error or --help prints usage to stderr and returns false (exit code in *code).
bool ParseOptions(int argc, char** argv, Options* out, int* code);

}  // namespace instant::bench
