// Encoding cost of one publication with a 100-byte JSON payload, per message.
//
//   BM_EncodePublicationPush/v2|v1  protocol::AppendPublicationPush into a reused line buffer:
//                                   the encoder alone.
//   BM_BuildPublicationFrame/v2|v2_v1  the whole per-publication encode of Node::DeliverLocal
//                                   (PubFrame allocation, push line, WebSocket frame; v1 too
//                                   when v1 clients are connected), frame freed afterwards.
// Counters: allocs_per_msg (global operator new calls per message). Time per row = per message.

#include <cstdint>
#include <string>

#include <benchmark/benchmark.h>

#include "alloc_counter.h"
#include "protocol/encoder.h"
#include "publication_frame.h"

namespace instant::bench {
namespace {

constexpr char kChannel[] = "news:sports";
constexpr size_t kPayloadSize = 100;

void ReportAllocations(benchmark::State& state, uint64_t allocations) {
  state.counters["allocs_per_msg"] =
      static_cast<double>(allocations) / static_cast<double>(state.iterations());
}

void BM_EncodePublicationPush(benchmark::State& state, protocol::Version version) {
  const std::string payload = MakeJsonPayload(kPayloadSize);
  protocol::Publication pub;
  pub.data = payload;
  std::string line;
  line.reserve(256);  // the steady state of a reused buffer
  const uint64_t allocations_before = AllocationCount();
  for (auto _ : state) {
    line.clear();
    protocol::AppendPublicationPush(line, version, kChannel, pub);
    benchmark::DoNotOptimize(line.data());
    benchmark::ClobberMemory();
  }
  ReportAllocations(state, AllocationCount() - allocations_before);
  state.counters["bytes"] = static_cast<double>(line.size());
}
BENCHMARK_CAPTURE(BM_EncodePublicationPush, v2, protocol::Version::kV2);
BENCHMARK_CAPTURE(BM_EncodePublicationPush, v1, protocol::Version::kV1);

void BM_BuildPublicationFrame(benchmark::State& state, bool with_v1) {
  const std::string payload = MakeJsonPayload(kPayloadSize);
  const SamplePublication pub{kChannel, payload, 0, ""};
  size_t frame_bytes = 0;
  const uint64_t allocations_before = AllocationCount();
  for (auto _ : state) {
    auto frame = BuildPublicationFrame(pub, with_v1);
    frame_bytes = frame->v2.size();
    benchmark::DoNotOptimize(frame.get());
  }
  ReportAllocations(state, AllocationCount() - allocations_before);
  state.counters["bytes"] = static_cast<double>(frame_bytes);
}
BENCHMARK_CAPTURE(BM_BuildPublicationFrame, v2, false);
BENCHMARK_CAPTURE(BM_BuildPublicationFrame, v2_v1, true);

}  // namespace
}  // namespace instant::bench
