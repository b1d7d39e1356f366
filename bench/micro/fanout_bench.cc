// Hub fan-out microbenchmarks: one Hub::Deliver of a publication to N members of one channel.
//
// Reported per subscriber (manual timing around the Deliver call only; the end of the loop
// iteration that resets the connections runs between timed regions):
//   ns_per_sub       median over iterations of the time of one Hub::Deliver, / N. The median,
//                    because the machines this runs on are shared: an iteration that was
//                    preempted or shared its cache with a compiler is an outlier, not the cost.
//   ns_per_sub_mean  the same, mean over iterations (what the time column shows, / N)
//   allocs_per_sub   global operator new calls during Hub::Deliver / N
// The time column of a row is one whole Deliver (all N subscribers), mean over iterations.
//
// BM_HubDeliverAndFlush also times the end of the iteration (Loop::RunOnce: one writev per
// connection), for scale: what a publication costs the loop per subscriber, syscall included.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <vector>

#include <benchmark/benchmark.h>

#include "alloc_counter.h"
#include "fanout_fixture.h"

namespace instant::bench {
namespace {

using Clock = std::chrono::steady_clock;
using Sink = FanoutFixture::Sink;

// Warm-up deliveries: the loop's arena blocks, hold list and dirty list reach their steady size.
constexpr int kWarmUp = 3;

bool Prepare(benchmark::State& state, FanoutFixture& fixture) {
  for (int i = 0; i < kWarmUp; ++i) {
    if (fixture.Deliver() != fixture.subscribers()) {
      state.SkipWithError("Hub::Deliver did not reach every subscriber");
      return false;
    }
    fixture.EndIteration();
  }
  return true;
}

// Per-iteration timings, kept outside the measured region (reserved before the loop).
class Samples {
 public:
  explicit Samples(const benchmark::State& state) { ns_.reserve(state.max_iterations); }
  void Add(double ns) { ns_.push_back(ns); }
  double Mean() const {
    double sum = 0;
    for (double ns : ns_) sum += ns;
    return ns_.empty() ? 0 : sum / static_cast<double>(ns_.size());
  }
  double Median() {
    if (ns_.empty()) return 0;
    auto middle = ns_.begin() + static_cast<std::ptrdiff_t>(ns_.size() / 2);
    std::nth_element(ns_.begin(), middle, ns_.end());
    return *middle;
  }

 private:
  std::vector<double> ns_;
};

void Report(benchmark::State& state, size_t subscribers, Samples& samples, uint64_t allocations) {
  const double n = static_cast<double>(subscribers);
  state.counters["ns_per_sub"] = samples.Median() / n;
  state.counters["ns_per_sub_mean"] = samples.Mean() / n;
  state.counters["allocs_per_sub"] =
      static_cast<double>(allocations) / (static_cast<double>(state.iterations()) * n);
  state.counters["subs"] = n;
}

// The timed loop of both fan-out benchmarks: one Deliver per iteration (and, with `flush`, the
// loop turn that writes it out), its allocations counted; the reset stays untimed.
void TimeDeliveries(benchmark::State& state, FanoutFixture& fixture, size_t n, bool flush) {
  Samples samples(state);
  uint64_t allocations = 0;
  for (auto _ : state) {
    const uint64_t allocations_before = AllocationCount();
    const auto start = Clock::now();
    benchmark::DoNotOptimize(fixture.Deliver());
    if (flush) fixture.loop().RunOnce(0);  // EndIteration's own RunOnce then finds nothing dirty
    const auto end = Clock::now();
    allocations += AllocationCount() - allocations_before;
    const std::chrono::duration<double, std::nano> elapsed = end - start;
    samples.Add(elapsed.count());
    state.SetIterationTime(elapsed.count() * 1e-9);
    fixture.EndIteration();
  }
  Report(state, n, samples, allocations);
}

void BM_HubDeliver(benchmark::State& state, Sink sink, bool positioned) {
  const size_t n = static_cast<size_t>(state.range(0));
  if (sink == Sink::kSocketPair && !FanoutFixture::FitsSocketPairs(n)) {
    state.SkipWithError("RLIMIT_NOFILE too low for one socket pair per subscriber");
    return;
  }
  FanoutFixture fixture(n, sink, positioned);
  if (!Prepare(state, fixture)) return;
  TimeDeliveries(state, fixture, n, /*flush=*/false);
}

void BM_HubDeliverAndFlush(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  if (!FanoutFixture::FitsSocketPairs(n)) {
    state.SkipWithError("RLIMIT_NOFILE too low for one socket pair per subscriber");
    return;
  }
  FanoutFixture fixture(n, Sink::kSocketPair, /*positioned=*/false);
  if (!Prepare(state, fixture)) return;
  TimeDeliveries(state, fixture, n, /*flush=*/true);
}

// Iteration counts are fixed per case: the untimed reset (a writev, and a read for socket pairs,
// per subscriber) costs far more than the timed Deliver, so the library's time-based choice
// would run for minutes. Each case takes one to three seconds on a 2-core VM.
struct Case {
  const char* name;
  Sink sink;
  bool positioned;
  int64_t subscribers;
  int64_t iterations;
};
constexpr Case kDeliverCases[] = {
    {"BM_HubDeliver/socketpair", Sink::kSocketPair, false, 1000, 300},
    {"BM_HubDeliver/socketpair", Sink::kSocketPair, false, 9000, 40},
    {"BM_HubDeliver/devnull", Sink::kDevNull, false, 1000, 1000},
    {"BM_HubDeliver/devnull", Sink::kDevNull, false, 9000, 200},
    {"BM_HubDeliver/devnull", Sink::kDevNull, false, 100000, 30},
    {"BM_HubDeliver/positioned_socketpair", Sink::kSocketPair, true, 1000, 300},
    {"BM_HubDeliver/positioned_socketpair", Sink::kSocketPair, true, 9000, 40},
    {"BM_HubDeliver/positioned_devnull", Sink::kDevNull, true, 100000, 30},
};

const bool kRegistered = [] {
  for (const Case& c : kDeliverCases) {
    benchmark::RegisterBenchmark(c.name, BM_HubDeliver, c.sink, c.positioned)
        ->Arg(c.subscribers)
        ->Iterations(c.iterations)
        ->UseManualTime()
        ->Unit(benchmark::kMicrosecond);
  }
  for (int64_t n : {1000, 9000}) {
    benchmark::RegisterBenchmark("BM_HubDeliverAndFlush/socketpair", BM_HubDeliverAndFlush)
        ->Arg(n)
        ->Iterations(n == 1000 ? 100 : 10)
        ->UseManualTime()
        ->Unit(benchmark::kMicrosecond);
  }
  return true;
}();

}  // namespace
}  // namespace instant::bench
