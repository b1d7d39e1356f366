#include "redis/script.h"

#include <openssl/evp.h>

#include <cstdlib>

namespace instant::redis {

Script::Script(std::string source) : source_(std::move(source)) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  // One-shot digest: a script is hashed once, at startup; no context to keep.
  if (EVP_Digest(source_.data(), source_.size(), digest, &size, EVP_sha1(), nullptr) != 1 ||
      size != 20) {
    std::abort();  // SHA1 unavailable means a broken OpenSSL install: nothing sensible to do
  }
  static constexpr char kHex[] = "0123456789abcdef";
  for (unsigned int i = 0; i < 20; ++i) {
    sha1_[2 * i] = kHex[digest[i] >> 4];
    sha1_[2 * i + 1] = kHex[digest[i] & 15];
  }
}

}  // namespace instant::redis
