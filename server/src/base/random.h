#pragma once
// Randomness from OpenSSL's CSPRNG, drawn in blocks so that a client id costs no syscall.
// Not thread-safe per object: each loop owns its own RandomSource.

#include <cstdint>
#include <string>

namespace instant {

class RandomSource {
 public:
  RandomSource();
  // Fills `out` with `n` random bytes.
  void Bytes(void* out, size_t n);
  uint64_t U64();
  // A random UUID v4 in canonical lowercase form ("9f1c0a4e-...-...").
  std::string UuidV4();
  // Writes the 36 characters of a UUID v4 into `out` (no terminator).
  void UuidV4(char out[36]);

 private:
  uint8_t pool_[256];
  size_t used_;
};

// Process-wide helper for cold paths (config generation, epochs): locks internally.
std::string NewUuidV4();

}  // namespace instant
