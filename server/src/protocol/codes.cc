#include "protocol/codes.h"

#include "base/json_writer.h"

namespace instant::protocol {

std::string CloseReason(Version v, const Disconnect& d) {
  if (v == Version::kV2) return std::string(d.reason);
  // Same shape and key order as lib v0.18 Disconnect.CloseText(): `reconnect` always present.
  std::string out;
  out.reserve(d.reason.size() + 32);
  out += "{\"reason\":";
  json::AppendString(out, d.reason);
  out += d.reconnect ? ",\"reconnect\":true}" : ",\"reconnect\":false}";
  return out;
}

}  // namespace instant::protocol
