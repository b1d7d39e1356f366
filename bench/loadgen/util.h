#pragma once
// Small helpers for the load generator: monotonic clock, SHA-1 + base64 (only for the WebSocket
// handshake's Sec-WebSocket-Accept check), a fast PRNG for masking keys, decimal parsing.
// Self-contained on purpose: the bench must not depend on server code that is still changing.

#include <cstddef>
#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>

namespace instant::bench {

inline int64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

// SHA-1 of `data` into out[20]. RFC 3174; used once per connection.
void Sha1(const void* data, size_t len, uint8_t out[20]);

// Standard base64 with padding.
std::string Base64(const uint8_t* data, size_t len);

// Sec-WebSocket-Accept for a Sec-WebSocket-Key (RFC 6455 §4.2.2).
std::string WebSocketAccept(std::string_view key);

// xorshift64*: masking keys and handshake keys. Not cryptographic; a load generator needs none.
class FastRandom {
 public:
  explicit FastRandom(uint64_t seed) : state_(seed ? seed : 0x9E3779B97F4A7C15ull) {}
  uint64_t Next() {
    state_ ^= state_ >> 12;
    state_ ^= state_ << 25;
    state_ ^= state_ >> 27;
    return state_ * 0x2545F4914F6CDD1Dull;
  }

 private:
  uint64_t state_;
};

// Parses an unsigned decimal at p (no sign, stops at the first non-digit). Returns the number of
// digits consumed (0 if none).
inline size_t ParseUint(const char* p, const char* end, uint64_t* out) {
  uint64_t v = 0;
  const char* s = p;
  while (p < end && static_cast<unsigned>(*p - '0') < 10) v = v * 10 + static_cast<unsigned>(*p++ - '0');
  *out = v;
  return static_cast<size_t>(p - s);
}

// Case-insensitive search for `needle` (lower case) in [p, end). Returns nullptr if absent.
const char* FindCaseless(const char* p, const char* end, std::string_view needle);

}  // namespace instant::bench
