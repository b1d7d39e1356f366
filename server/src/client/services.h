#pragma once
// What a session needs from its loop and node, gathered in one struct per loop (no globals).

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "base/random.h"

namespace instant::auth {
class Verifier;
}
namespace instant::config {
struct Config;
}
namespace instant::engine {
class Broker;
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

// Node-wide counters, updated from every loop (relaxed atomics: they are statistics and limits
// that tolerate a momentary overshoot of one connection per loop).
struct NodeCounters {
  std::atomic<int64_t> clients{0};       // connected (after `connect`) sessions
  std::atomic<int64_t> v1_clients{0};    // of which speak protocol v1
  std::atomic<int64_t> connections{0};   // open TCP connections (HTTP and WebSocket)
  std::atomic<uint64_t> messages_sent{0};
  std::atomic<uint64_t> messages_received{0};
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
  engine::Broker* broker = nullptr;
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
