#pragma once
// The server HTTP API (spec §7): the legacy `POST /api` (newline-delimited {"method","params"}
// commands, one reply line each, in order) and the per-method `POST /api/<method>`.
//
// Routing: a method name maps to one small handler `Handler(Context&, params, result)` in
// api.cc. A handler parses its params object, does its work and either appends its result
// object to `result` or returns an error code; the envelopes ({"result":..}, {"error":..}, legacy
// lines, batch replies) are written there once for every method. The commands of one request run
// one after another (in_order.h); a batch's publishes are read in the body's own pass
// (batch_commands.h). Each byte of a request body is validated once (protocol::IsJsonValue).
//
// Threading: called on the loop that owns the HTTP connection; handlers use only thread-safe
// services (engine, counters) or post to other loops.

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/codes.h"

namespace instant::config {
struct Config;
}
namespace instant::engine {
class Engine;
}
namespace instant::http {
struct Request;
}
namespace instant::client {
struct NodeCounters;
class Session;
class UserConnections;
}
namespace instant::hub {
class ChannelRegistry;
}

namespace instant::api {

struct NodeInfo {
  std::string_view uid, name, version;
  int64_t started_unix = 0;
};

// One node of the cluster as the API `info` method lists it (the Redis engine's node discovery).
struct ClusterNode {
  std::string uid, name, version;
  uint64_t num_clients = 0, num_users = 0, num_channels = 0, num_subs = 0, uptime = 0;
};

// Reaches client sessions wherever they live (the node implements it).
class ClientOps {
 public:
  // Runs `fn` on every connected session of `user` (only the one with id `client` when non-empty),
  // each on its own loop. Asynchronous: returns before `fn` ran on other loops, as Centrifugo's
  // API returns before other nodes acted.
  virtual void ForEachSession(std::string user, std::string client,
                              std::function<void(client::Session&)> fn) = 0;

 protected:
  ~ClientOps() = default;
};

struct Context {
  const config::Config* config = nullptr;
  engine::Engine* engine = nullptr;
  client::NodeCounters* counters = nullptr;
  const NodeInfo* node = nullptr;
  ClientOps* clients = nullptr;
  const hub::ChannelRegistry* registry = nullptr;
  const client::UserConnections* users = nullptr;
  int64_t now_unix = 0;
  int64_t now_ms = 0;  // monotonic, for history TTLs
  // Node-wide counts gathered from every loop (API `info`); may be nullptr.
  size_t (*count_channels)(void* arg) = nullptr;
  void* count_arg = nullptr;
  // Every live node (Redis engine); unset or empty = this node alone.
  std::function<std::vector<ClusterNode>()> cluster_nodes;
};

// Outcome of one method call: ok (result appended) or a protocol error.
struct Status {
  const protocol::ErrorCode* error = nullptr;  // nullptr = ok
  std::string_view message;                     // optional detail replacing error->message
  static Status Ok() { return {}; }
  static Status Error(const protocol::ErrorCode& e, std::string_view detail = {}) { return {&e, detail}; }
};

// Called once with the outcome of a method: ok and the method's result object (JSON), or an error.
// Methods that ask the engine (publish, broadcast, history, history_remove, presence,
// presence_stats) may call it later, on the same loop's thread (engine/engine.h); the others call
// it before returning. Status messages are string literals, valid forever.
using MethodDone = std::function<void(Status, std::string result)>;

// Runs method `name` with `params` (a JSON object, or empty for none). Unknown method -> 104.
// `params` must be valid JSON per protocol::IsJsonValue — every caller checks its whole body or
// line once, so raw values taken from it (publish `data`) are forwarded into frames without
// another check. It must be followed by 64 readable bytes (simdjson padding) and need only live
// until CallMethod returns.
void CallMethod(Context& ctx, std::string_view name, std::string_view params, MethodDone done);

// Gets the whole HTTP response of an API request, once: before HandleHttp returns, or later when
// the engine answers later. Commands of one request (legacy /api lines, batch) run in order.
using Respond = std::function<void(std::string response)>;

// Handles a complete HTTP request to the API prefix. `req` and `body` need only live until
// HandleHttp returns. `ctx` must outlive the response (it is the worker's). `respond` is taken by
// value: a temporary lambda becomes the std::function once, and is moved from there on.
void HandleHttp(Context& ctx, const http::Request& req, std::string_view body, bool keep_alive,
                Respond respond);

}  // namespace instant::api
