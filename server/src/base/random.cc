#include "base/random.h"

#include <cstring>
#include <mutex>

#include <openssl/rand.h>

namespace instant {

RandomSource::RandomSource() : used_(sizeof(pool_)) {}

void RandomSource::Bytes(void* out, size_t n) {
  auto* dst = static_cast<uint8_t*>(out);
  while (n > 0) {
    if (used_ == sizeof(pool_)) {
      if (RAND_bytes(pool_, sizeof(pool_)) != 1) std::abort();  // CSPRNG failure: nothing sane to do
      used_ = 0;
    }
    size_t take = std::min(n, sizeof(pool_) - used_);
    std::memcpy(dst, pool_ + used_, take);
    used_ += take;
    dst += take;
    n -= take;
  }
}

uint64_t RandomSource::U64() {
  uint64_t v;
  Bytes(&v, sizeof(v));
  return v;
}

void RandomSource::UuidV4(char out[36]) {
  uint8_t b[16];
  Bytes(b, sizeof(b));
  b[6] = (b[6] & 0x0f) | 0x40;  // version 4
  b[8] = (b[8] & 0x3f) | 0x80;  // RFC 4122 variant
  static constexpr char kHex[] = "0123456789abcdef";
  int o = 0;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out[o++] = '-';
    out[o++] = kHex[b[i] >> 4];
    out[o++] = kHex[b[i] & 15];
  }
}

std::string RandomSource::UuidV4() {
  std::string s(36, '\0');
  UuidV4(s.data());
  return s;
}

std::string NewUuidV4() {
  static std::mutex mu;
  static RandomSource source;
  std::lock_guard<std::mutex> lock(mu);
  return source.UuidV4();
}

}  // namespace instant
