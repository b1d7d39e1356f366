// instant-fanout-instr: the fixed, deterministic workload of the instruction-count gate (gate.sh).
//
// Builds a FanoutFixture (one channel, socket pairs), warms it up, then performs `deliveries`
// Hub::Deliver calls, each followed by the end of its loop iteration. Only the deliveries go
// through InstantFanoutMeasured, the function gate.sh gives callgrind as --toggle-collect, so
// setup, warm-up and the flushes between deliveries are not counted. Nothing in that region
// reads a clock or a random source: the count is the same run to run for a given binary.
//
// Output (one line, parsed by gate.sh):
//   subscribers=1000 deliveries=200 delivered=200000 allocations=0
// `allocations` counts operator new calls inside the measured calls (the hub's contract: none).
//
// Usage: instant-fanout-instr [subscribers [deliveries [warmup [devnull]]]]
//   defaults 1000 200 20; "devnull" uses FanoutFixture's kDevNull sink (more subscribers than
//   RLIMIT_NOFILE allows sockets), for profiling by hand, e.g. with callgrind --cache-sim=yes.
//   The gate uses the defaults.

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "alloc_counter.h"
#include "fanout_fixture.h"

// A named, never-inlined entry for callgrind's --toggle-collect. extern "C" keeps the name
// unmangled, so the gate does not depend on how the compiler spells C++ symbols.
extern "C" __attribute__((noinline, noclone)) size_t InstantFanoutMeasured(
    instant::bench::FanoutFixture* fixture) {
  return fixture->Deliver();
}

int main(int argc, char** argv) {
  using instant::bench::AllocationCount;
  using instant::bench::FanoutFixture;
  const long subscribers = argc > 1 ? std::strtol(argv[1], nullptr, 10) : 1000;
  const long deliveries = argc > 2 ? std::strtol(argv[2], nullptr, 10) : 200;
  const long warm_up = argc > 3 ? std::strtol(argv[3], nullptr, 10) : 20;
  const bool dev_null = argc > 4 && std::strcmp(argv[4], "devnull") == 0;
  if (subscribers <= 0 || deliveries <= 0 || warm_up < 0 || (argc > 4 && !dev_null)) {
    std::fprintf(stderr, "usage: %s [subscribers [deliveries [warmup [devnull]]]]\n", argv[0]);
    return 2;
  }
  if (!dev_null && !FanoutFixture::FitsSocketPairs(static_cast<size_t>(subscribers))) {
    std::fprintf(stderr, "RLIMIT_NOFILE too low for %ld socket pairs (try devnull)\n", subscribers);
    return 2;
  }
  FanoutFixture fixture(static_cast<size_t>(subscribers),
                        dev_null ? FanoutFixture::Sink::kDevNull : FanoutFixture::Sink::kSocketPair,
                        /*positioned=*/false);
  for (long i = 0; i < warm_up; ++i) {
    fixture.Deliver();
    fixture.EndIteration();
  }
  size_t delivered = 0;
  uint64_t allocations = 0;
  for (long i = 0; i < deliveries; ++i) {
    const uint64_t before = AllocationCount();
    delivered += InstantFanoutMeasured(&fixture);
    allocations += AllocationCount() - before;
    fixture.EndIteration();
  }
  std::printf("subscribers=%ld deliveries=%ld delivered=%zu allocations=%llu\n", subscribers,
              deliveries, delivered, static_cast<unsigned long long>(allocations));
  return delivered == static_cast<size_t>(subscribers * deliveries) ? 0 : 1;
}
