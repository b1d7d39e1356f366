#pragma once
// What a session needs from its loop and node, gathered in one struct per loop (no globals).

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/random.h"

namespace instant::auth {
class Verifier;
}
namespace instant::config {
struct Config;
}
namespace instant::engine {
class Engine;
}
namespace instant::hub {
class Hub;
}
namespace instant::net {
class Loop;
}
namespace instant::protocol {
class CommandDecoder;
}

namespace instant::client {

// Counts per protocol code (disconnect codes, error codes) for /metrics. Thread-safe; meant for
// events that are rare next to deliveries (a mutex per event).
class CodeCounts {
 public:
  void Add(uint32_t code) {
    std::lock_guard lock(mu_);
    ++counts_[code];
  }
  std::vector<std::pair<uint32_t, uint64_t>> Snapshot() const {
    std::lock_guard lock(mu_);
    return {counts_.begin(), counts_.end()};
  }

 private:
  mutable std::mutex mu_;
  std::map<uint32_t, uint64_t> counts_;
};

// Node-wide counters, updated from every loop (relaxed atomics: they are statistics and limits
// that tolerate a momentary overshoot of one connection per loop).
struct NodeCounters {
  std::atomic<int64_t> clients{0};       // connected (after `connect`) sessions
  std::atomic<int64_t> v1_clients{0};    // of which speak protocol v1
  std::atomic<int64_t> connections{0};   // open TCP connections (HTTP and WebSocket)
  std::atomic<uint64_t> messages_sent{0};      // WebSocket messages of replies to commands
  std::atomic<uint64_t> messages_received{0};  // WebSocket messages of commands
  std::atomic<uint64_t> ws_upgrades{0};        // WebSocket handshakes accepted
  std::atomic<uint64_t> ws_refused{0};         // WebSocket handshakes refused (bad request, origin)
  std::atomic<uint64_t> deliveries{0};         // publications and join/leave queued to clients
  std::atomic<uint64_t> slow_drops{0};         // slow clients: 3008, 3009, HTTP not reading
  CodeCounts disconnects;                      // by close code (3xxx/4xxx) sent by the server
  CodeCounts reply_errors;                     // by error code in replies to commands
};

// Connections per user: client_user_connection_limit and the API's num_users.
class UserConnections {
 public:
  // Returns false (and counts nothing) if `user` already has `limit` connections (limit <= 0:
  // unlimited).
  bool TryAdd(std::string_view user, int limit);
  void Remove(std::string_view user);
  int64_t users() const;

 private:
  mutable std::mutex mu_;
  std::unordered_map<std::string, int> counts_;
};

struct LoopServices {
  const config::Config* config = nullptr;
  const auth::Verifier* verifier = nullptr;  // nullptr when no token key is configured
  engine::Engine* engine = nullptr;
  hub::Hub* hub = nullptr;
  net::Loop* loop = nullptr;
  protocol::CommandDecoder* decoder = nullptr;
  NodeCounters* counters = nullptr;
  UserConnections* users = nullptr;
  RandomSource random;
  std::string replies;       // scratch: reply lines of the message being handled
  std::string_view version;  // server version reported in connect replies
  // Disconnects every connection of `user` but the one with client id `keep` (3504), on every loop
  // (user_personal_single_connection). Asynchronous; set by the node, may be empty in tests.
  std::function<void(const std::string& user, const std::string& keep)> disconnect_other_connections;
};

}  // namespace instant::client
