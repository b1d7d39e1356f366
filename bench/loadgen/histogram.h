#pragma once
// Latency histogram: fixed 10 µs buckets from 0 to 10 s (1,000,000 uint32 counters, 4 MB),
// plus an overflow counter and the exact min/max/sum. Recording is one array increment, no
// allocation. Latencies on a fan-out bench cluster in a few thousand buckets, so the hot part of
// the array stays in cache.
//
// Worker processes ship their histogram to the coordinator as sparse (bucket, count) pairs.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace instant::bench {

class LatencyHistogram {
 public:
  static constexpr int64_t kBucketNs = 10'000;                 // 10 µs
  static constexpr int64_t kRangeNs = 10'000'000'000;          // 10 s
  static constexpr uint32_t kBuckets = kRangeNs / kBucketNs;   // 1,000,000

  LatencyHistogram();

  void Record(int64_t ns) {
    if (ns < 0) ns = 0;  // clock skew cannot happen with CLOCK_MONOTONIC on one host; be safe
    uint64_t b = static_cast<uint64_t>(ns) / kBucketNs;
    if (b < kBuckets) {
      ++counts_[b];
    } else {
      ++overflow_;
    }
    ++total_;
    sum_ns_ += ns;
    if (ns > max_ns_) max_ns_ = ns;
    if (ns < min_ns_) min_ns_ = ns;
  }

  uint64_t total() const { return total_; }
  uint64_t overflow() const { return overflow_; }
  int64_t max_ns() const { return total_ ? max_ns_ : 0; }
  int64_t min_ns() const { return total_ ? min_ns_ : 0; }
  double mean_ns() const { return total_ ? static_cast<double>(sum_ns_) / total_ : 0; }

  // Value at quantile q in [0, 1]: the upper edge of the bucket holding the ceil(q*total)-th
  // sample, capped at max (HdrHistogram's "highest equivalent value"). Overflowed samples count
  // as max.
  int64_t ValueAtQuantile(double q) const;

  // Sparse encoding for the worker -> coordinator pipe: header then (bucket, count) pairs.
  void Serialize(std::string* out) const;
  // Merges a Serialize() image. Returns bytes consumed, or 0 on a malformed image.
  size_t MergeSerialized(const char* data, size_t len);

 private:
  std::unique_ptr<uint32_t[]> counts_;
  uint64_t overflow_ = 0;
  uint64_t total_ = 0;
  int64_t sum_ns_ = 0;
  int64_t max_ns_ = 0;
  int64_t min_ns_ = INT64_MAX;
};

}  // namespace instant::bench
