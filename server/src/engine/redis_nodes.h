#pragma once
// Node discovery over the Redis engine's control channel (spec §8.1): every node PUBLISHes a small
// JSON info message on `<prefix>.control` every interval (Centrifugo: 3 s) and keeps a table of
// the nodes it hears, itself included (it is subscribed to the control channel too). A node not
// heard for 3 intervals is dropped. The API `info` method lists NodeTable::Snapshot().
//
// Message (one JSON object, unknown fields ignored, `uid` required):
//   {"uid":"…","name":"…","version":"…","num_clients":N,"num_users":N,"num_channels":N,
//    "num_subs":N,"uptime":N}
//
// Threading: NodeTable is thread-safe (one mutex, taken every few seconds per peer and by API
// `info` calls). Encode/Decode are pure.

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace instant::engine {

// What this node reports about itself (from the node's counters; the engine adds uid and name).
struct NodeStats {
  std::string version;
  uint64_t num_clients = 0;
  uint64_t num_users = 0;
  uint64_t num_channels = 0;
  uint64_t num_subs = 0;
  uint64_t uptime_s = 0;
};

struct NodeSnapshot {
  std::string uid;
  std::string name;
  NodeStats stats;
  int64_t last_seen_ms = 0;  // monotonic (redis::Timer::Now() clock)
};

void EncodeNodeInfo(std::string& out, std::string_view uid, std::string_view name, const NodeStats& stats);
// False when `json` is not an object with a non-empty string "uid".
bool DecodeNodeInfo(std::string_view json, NodeSnapshot* out);

class NodeTable {
 public:
  // Records (or refreshes) a node heard at now_ms.
  void Update(NodeSnapshot node, int64_t now_ms);
  // Forgets nodes last heard before now_ms - max_age_ms; returns how many.
  size_t Prune(int64_t now_ms, int64_t max_age_ms);
  // Nodes heard within max_age_ms, sorted by name then uid.
  std::vector<NodeSnapshot> Snapshot(int64_t now_ms, int64_t max_age_ms) const;

 private:
  mutable std::mutex mu_;
  std::unordered_map<std::string, NodeSnapshot> nodes_;  // by uid
};

}  // namespace instant::engine
