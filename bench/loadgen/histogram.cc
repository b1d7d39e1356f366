#include "histogram.h"

#include <cmath>
#include <cstring>

namespace instant::bench {

namespace {

struct SerialHeader {
  uint64_t overflow;
  uint64_t total;
  int64_t sum_ns;
  int64_t max_ns;
  int64_t min_ns;
  uint64_t pairs;
};

struct SerialPair {
  uint32_t bucket;
  uint32_t count;
};

}  // namespace

LatencyHistogram::LatencyHistogram() : counts_(new uint32_t[kBuckets]()) {}

int64_t LatencyHistogram::ValueAtQuantile(double q) const {
  if (total_ == 0) return 0;
  uint64_t rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(total_)));
  if (rank < 1) rank = 1;
  if (rank > total_) rank = total_;
  uint64_t seen = 0;
  for (uint32_t b = 0; b < kBuckets; ++b) {
    seen += counts_[b];
    if (seen >= rank) {
      int64_t upper = static_cast<int64_t>(b + 1) * kBucketNs;
      return upper < max_ns_ ? upper : max_ns_;
    }
  }
  return max_ns_;  // the rank falls among overflowed samples
}

void LatencyHistogram::Serialize(std::string* out) const {
  SerialHeader h{overflow_, total_, sum_ns_, max_ns_, min_ns_, 0};
  size_t header_at = out->size();
  out->append(reinterpret_cast<const char*>(&h), sizeof h);
  for (uint32_t b = 0; b < kBuckets; ++b) {
    if (counts_[b] == 0) continue;
    SerialPair p{b, counts_[b]};
    out->append(reinterpret_cast<const char*>(&p), sizeof p);
    ++h.pairs;
  }
  memcpy(out->data() + header_at, &h, sizeof h);
}

size_t LatencyHistogram::MergeSerialized(const char* data, size_t len) {
  SerialHeader h;
  if (len < sizeof h) return 0;
  memcpy(&h, data, sizeof h);
  size_t need = sizeof h + h.pairs * sizeof(SerialPair);
  if (len < need) return 0;
  for (uint64_t i = 0; i < h.pairs; ++i) {
    SerialPair p;
    memcpy(&p, data + sizeof h + i * sizeof p, sizeof p);
    if (p.bucket < kBuckets) counts_[p.bucket] += p.count;
  }
  overflow_ += h.overflow;
  if (h.total) {
    if (h.max_ns > max_ns_) max_ns_ = h.max_ns;
    if (h.min_ns < min_ns_) min_ns_ = h.min_ns;
  }
  total_ += h.total;
  sum_ns_ += h.sum_ns;
  return need;
}

}  // namespace instant::bench
