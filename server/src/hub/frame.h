#pragma once
// A publication encoded once (DESIGN.md decision 2): the complete WebSocket frame bytes of its push,
// per client protocol version, immutable after construction and shared by reference with every
// loop and subscriber that delivers it.

#include <cstdint>
#include <memory>
#include <string>

namespace instant::hub {

struct PubFrame {
  // Publications go to every member; join/leave pushes only to members that asked for them.
  enum class Kind : uint8_t { kPublication, kJoinLeave };
  Kind kind = Kind::kPublication;
  std::string channel;
  uint64_t offset = 0;  // stream position when the channel keeps history (0 = none)
  std::string epoch;
  std::string v2;  // WebSocket text frame: {"push":{"channel":..,"pub":{..}}}
  std::string v1;  // WebSocket text frame for protocol v1 clients; empty when none is connected
};
using PubFrameRef = std::shared_ptr<const PubFrame>;

}  // namespace instant::hub
