#pragma once
// Node: the wiring of a serving process (DESIGN.md decisions 1-4).
//
//   Node ── config, token verifier, origin policy, engine (memory), node counters
//    └─ Worker × N ── Loop (one thread), Hub, CommandDecoder, LoopServices, its Connections
//
// Accepting: one listening socket served by worker 0, which spreads accepted sockets over the
// workers round-robin (Loop::Post for the others). A connection never changes worker.
//
// Publishing: Engine::Publish -> Node::DeliverLocal encodes the push ONCE per protocol version
// into a shared frame and hands a reference to every worker: directly for the calling worker,
// through Loop::Post for the others. Each worker's hub then queues the frame on its local
// subscribers, and each loop flushes every connection once per iteration.
//
// Configuration: held as an immutable ConfigSnapshot (node/config_snapshot.h). SIGHUP makes the
// main thread re-read it (Serve's ConfigLoader), apply what can change safely and hand the new
// snapshot to every worker through its loop; each loop reads only its own snapshot, so no reader
// ever sees a half-updated config (docs/architecture/threading.md "Config reload").
//
// Threading: Node's members are immutable after Start() except the atomics in NodeCounters and
// the main thread's current snapshot; each Worker is touched only by its own thread
// (docs/architecture/threading.md).

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "api/api.h"
#include "client/services.h"
#include "engine/broker.h"
#include "engine/engine.h"
#include "hub/hub.h"
#include "net/listener.h"
#include "net/loop.h"
#include "node/serve.h"
#include "protocol/decoder.h"
#include "ws/handshake.h"

namespace instant::auth {
class Verifier;
}
namespace instant::config {
struct Config;
}

namespace instant::engine {
class RedisEngine;
}

namespace instant::node {

class Connection;
class Node;
struct ConfigSnapshot;

class Worker {
 public:
  Worker(Node* node, int index);
  ~Worker();

  // Takes ownership of an accepted socket. Must run on this worker's loop.
  void Accept(int fd);
  // Called by a closing connection.
  void Forget(Connection* conn);
  // Runs fn on every connected session of `user` on this worker (all when client is empty).
  void ForEachSession(const std::string& user, const std::string& client,
                      const std::function<void(client::Session&)>& fn);
  // Graceful shutdown: close the listener (worker 0), disconnect every client.
  void BeginShutdown();
  // Makes `snapshot` this loop's configuration (a reload). Runs on this worker's loop (or before
  // it runs); the previous snapshot is released here once nothing on this loop holds it.
  void ApplyConfig(std::shared_ptr<const ConfigSnapshot> snapshot);
  // This loop's configuration. Loop thread only; a reference is valid for the current call, not
  // across loop turns (a reload task may replace it between two).
  const config::Config& config() const;
  const ConfigSnapshot& snapshot() const { return *snapshot_; }

  Node* node() const { return node_; }
  net::Loop& loop() { return loop_; }
  hub::Hub& hub() { return hub_; }
  client::LoopServices& services() { return services_; }
  api::Context& api() { return api_; }
  size_t open_connections() const { return open_.load(std::memory_order_relaxed); }

  std::unique_ptr<net::Listener> listener;  // worker 0 only
  std::thread thread;

 private:
  void Tick();
  // Reads the stream top of every channel with positioned subscribers here and hands it to the
  // hub's position check (spec §6.2). Runs every client_channel_position_check_delay.
  void CheckPositions();
  int64_t next_position_check_ms_ = 0;

  Node* node_;
  std::shared_ptr<const ConfigSnapshot> snapshot_;  // this loop's configuration
  net::Loop loop_;
  hub::Hub hub_;
  protocol::CommandDecoder decoder_;
  client::LoopServices services_;
  api::Context api_;
  std::vector<Connection*> conns_;
  std::atomic<size_t> open_{0};
};

class Node final : public engine::LocalDelivery, public api::ClientOps {
 public:
  // `reload` re-reads the configuration on SIGHUP; empty: SIGHUP only logs that it cannot.
  explicit Node(const config::Config& config, ConfigLoader reload = {});
  ~Node();

  // Builds the configuration snapshot (token keys loaded), the workers and the listener. False
  // with *error when the node cannot serve.
  bool Start(std::string* error);
  // Starts the worker threads and blocks until SIGINT/SIGTERM, then shuts down gracefully.
  // SIGHUP meanwhile reloads the configuration (Reload).
  int Run();
  // Re-reads the configuration: an invalid one is logged and changes nothing; a valid one is
  // applied except its restart-only keys (config/reload.h), each logged as not applied. Main thread.
  void Reload();

  // engine::LocalDelivery: thread-safe.
  void DeliverLocal(const engine::Publication& pub) override;
  void DeliverJoinLeave(const engine::JoinLeave& event) override;
  // api::ClientOps: thread-safe.
  void ForEachSession(std::string user, std::string client, std::function<void(client::Session&)> fn) override;
  hub::ChannelRegistry& registry() { return registry_; }

  // The configuration as the calling thread may see it: on a worker thread, that worker's
  // snapshot (valid for the current call only, see Worker::config); on the main thread, the
  // latest applied one.
  const config::Config& config() const;
  const auth::Verifier* verifier() const;  // nullptr when no token key is configured
  const ws::OriginPolicy& origins() const;
  // The latest applied snapshot. Main thread (and workers' constructors) only.
  const std::shared_ptr<const ConfigSnapshot>& current_snapshot() const { return snapshot_; }
  engine::Engine* engine() { return engine_.get(); }
  client::NodeCounters& counters() { return counters_; }
  client::UserConnections& users() { return users_; }
  const api::NodeInfo& info() const { return info_; }
  int port() const { return port_; }

  // Hands an encoded frame to every worker's hub (directly for the calling worker).
  // Delivers on the loops whose bit is set in `loops` (ChannelRegistry::LoopsWithSubscribers).
  void Fanout(hub::PubFrameRef frame, uint64_t loops);

  // Round-robin target for the next accepted socket.
  Worker* NextWorker();

  // False while the Redis engine has lost Redis (/health answers 503); always true in memory mode.
  bool engine_available() const { return engine_available_.load(std::memory_order_relaxed); }
  // Every live node (Redis engine's discovery), or empty in memory mode.
  std::vector<api::ClusterNode> ClusterNodes() const;

 private:
  // The snapshot of the calling thread (see config()).
  const ConfigSnapshot& SnapshotHere() const;

  const config::Config& start_config_;  // until Start() builds snapshot_ from it
  ConfigLoader reload_;
  std::shared_ptr<const ConfigSnapshot> snapshot_;  // main thread: the latest applied
  std::unique_ptr<engine::Engine> engine_;
  client::NodeCounters counters_;
  client::UserConnections users_;
  hub::ChannelRegistry registry_;
  std::vector<std::unique_ptr<Worker>> workers_;
  api::NodeInfo info_;
  std::string uid_, name_;
  size_t next_worker_ = 0;
  int port_ = 0;
  engine::RedisEngine* redis_ = nullptr;  // engine_ when engine == "redis"
  std::atomic<bool> engine_available_{true};

  bool StartEngine(std::string* error);
};

}  // namespace instant::node
