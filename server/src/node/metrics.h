#pragma once
// GET /metrics (when "prometheus": true): the node's counters in the Prometheus text format 0.0.4.
//
// Names follow Centrifugo's node/client/transport families (spec §9.5) so that existing Centrifugo
// dashboards keep working; figures Centrifugo does not have are prefixed `instant_`, and the
// process_* family is the Prometheus client libraries' standard one (from /proc/self).
// Everything is read from thread-safe counters: any loop may serve the request.

#include <cstdint>
#include <string>

namespace instant::node {

class Node;

void AppendMetrics(std::string& out, Node& node, int64_t now_unix);

}  // namespace instant::node
