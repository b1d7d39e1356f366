#pragma once
// What travels between nodes: publications and join/leave events, and the local delivery every
// engine hands them to on each node (engine.h: the memory engine within this process, the Redis
// engine over Redis PUB/SUB).

#include <cstdint>
#include <string>
#include <string_view>

namespace instant::engine {

// A publication as it travels through the broker. Views are valid for the duration of the call.
struct Publication {
  std::string_view channel;
  std::string_view data;  // validated raw JSON
  // Publisher's ClientInfo when the publication came from a client `publish` command.
  bool has_info = false;
  std::string_view user, client, conn_info, chan_info;
  std::string_view tags;  // JSON object of string values (API publish `tags`), "" = none
  uint64_t offset = 0;    // stream position when the channel keeps history (issue 3)
  std::string_view epoch;
};

// A join or leave of one client in one channel (spec §2.11), carried like a publication.
struct JoinLeave {
  std::string_view channel;
  bool join = true;
  std::string_view user, client, conn_info, chan_info;
};

struct PublishResult {
  bool ok = true;
  uint64_t offset = 0;
  std::string epoch;
};

// Receives publications that must be fanned out to this node's local subscribers. Called on the
// publishing thread (memory broker) or on a broker thread (Redis); must be thread-safe.
class LocalDelivery {
 public:
  virtual void DeliverLocal(const Publication& pub) = 0;
  virtual void DeliverJoinLeave(const JoinLeave& event) = 0;

 protected:
  ~LocalDelivery() = default;
};

}  // namespace instant::engine
