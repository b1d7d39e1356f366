#include "engine/redis_nodes.h"

#include <algorithm>

#include <simdjson.h>

#include "base/json_writer.h"

namespace instant::engine {

void EncodeNodeInfo(std::string& out, std::string_view uid, std::string_view name, const NodeStats& s) {
  out.append("{\"uid\":");
  json::AppendString(out, uid);
  out.append(",\"name\":");
  json::AppendString(out, name);
  out.append(",\"version\":");
  json::AppendString(out, s.version);
  out.append(",\"num_clients\":");
  json::AppendUint(out, s.num_clients);
  out.append(",\"num_users\":");
  json::AppendUint(out, s.num_users);
  out.append(",\"num_channels\":");
  json::AppendUint(out, s.num_channels);
  out.append(",\"num_subs\":");
  json::AppendUint(out, s.num_subs);
  out.append(",\"uptime\":");
  json::AppendUint(out, s.uptime_s);
  out.push_back('}');
}

bool DecodeNodeInfo(std::string_view json, NodeSnapshot* out) {
  namespace od = simdjson::ondemand;
  simdjson::padded_string padded(json);
  od::parser parser;
  od::document doc;
  if (parser.iterate(padded).get(doc) != simdjson::SUCCESS) return false;
  od::object object;
  if (doc.get_object().get(object) != simdjson::SUCCESS) return false;
  *out = NodeSnapshot{};
  for (auto field : object) {
    std::string_view key;
    if (field.unescaped_key().get(key) != simdjson::SUCCESS) return false;
    od::value value;
    if (field.value().get(value) != simdjson::SUCCESS) return false;
    std::string_view text;
    uint64_t number = 0;
    if (key == "uid" || key == "name" || key == "version") {
      if (value.get_string().get(text) != simdjson::SUCCESS) return false;
      std::string& target = key == "uid" ? out->uid : key == "name" ? out->name : out->stats.version;
      target.assign(text);
      continue;
    }
    uint64_t* target = key == "num_clients"    ? &out->stats.num_clients
                       : key == "num_users"    ? &out->stats.num_users
                       : key == "num_channels" ? &out->stats.num_channels
                       : key == "num_subs"     ? &out->stats.num_subs
                       : key == "uptime"       ? &out->stats.uptime_s
                                               : nullptr;
    if (target == nullptr) continue;  // unknown field: skipped (newer peers may send more)
    if (value.get_uint64().get(number) != simdjson::SUCCESS) return false;
    *target = number;
  }
  return !out->uid.empty();
}

void NodeTable::Update(NodeSnapshot node, int64_t now_ms) {
  node.last_seen_ms = now_ms;
  std::lock_guard lock(mu_);
  std::string uid = node.uid;
  nodes_[std::move(uid)] = std::move(node);
}

size_t NodeTable::Prune(int64_t now_ms, int64_t max_age_ms) {
  std::lock_guard lock(mu_);
  return std::erase_if(nodes_, [&](const auto& kv) { return kv.second.last_seen_ms < now_ms - max_age_ms; });
}

std::vector<NodeSnapshot> NodeTable::Snapshot(int64_t now_ms, int64_t max_age_ms) const {
  std::vector<NodeSnapshot> out;
  {
    std::lock_guard lock(mu_);
    out.reserve(nodes_.size());
    for (const auto& [uid, node] : nodes_) {
      if (node.last_seen_ms >= now_ms - max_age_ms) out.push_back(node);
    }
  }
  std::sort(out.begin(), out.end(), [](const NodeSnapshot& a, const NodeSnapshot& b) {
    return a.name != b.name ? a.name < b.name : a.uid < b.uid;
  });
  return out;
}

}  // namespace instant::engine
