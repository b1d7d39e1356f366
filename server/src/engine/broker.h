#pragma once
// The broker carries publications to every node's subscribers (DESIGN.md decision 4). The memory
// broker delivers within this process; the Redis broker (issue 7) will carry them between nodes
// over Redis PUB/SUB and call the same local handler on every node.

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

class Broker {
 public:
  virtual ~Broker() = default;
  // Thread-safe. Publishes to every subscriber of pub.channel on every node.
  virtual PublishResult Publish(const Publication& pub) = 0;
  // Thread-safe. Announces a join/leave to the channel's subscribers on every node.
  virtual void PublishJoinLeave(const JoinLeave& event) = 0;
  virtual std::string_view name() const = 0;
};

}  // namespace instant::engine
