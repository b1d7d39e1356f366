#pragma once
// The publication frame the microbenchmarks deliver and measure, built the way the server builds
// it.
//
// BuildPublicationFrame repeats the steps of Node::DeliverLocal (server/src/node/node.cc): one
// make_shared PubFrame, the push line encoded into a scratch string reserved for the payload,
// then wrapped in a WebSocket text frame, once per protocol version (v1 only when v1 clients are
// connected). It calls the same encoder functions; only the sequence is repeated here, because
// DeliverLocal is reachable only through a running Node (workers, threads, engine). Keep the
// two in step when DeliverLocal changes.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "hub/frame.h"

namespace instant::bench {

struct SamplePublication {
  std::string_view channel;
  std::string_view data;  // raw JSON
  uint64_t offset = 0;    // 0 = channel without history
  std::string_view epoch;
};

std::shared_ptr<hub::PubFrame> BuildPublicationFrame(const SamplePublication& pub, bool with_v1);

// A JSON object of exactly `size` bytes (at least 16), {"text":"xxx..."}: a small chat message.
std::string MakeJsonPayload(size_t size);

}  // namespace instant::bench
