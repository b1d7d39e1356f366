#pragma once
// HS256 connection tokens for the handshake scenario (S2): every connection presents its own
// token, as real clients do, so the server verifies one signature per handshake and no cache of
// a shared token can help it. Signed with OpenSSL's one-shot HMAC (libcrypto is already a
// dependency of the project; the load generator links nothing else of it).

#include <cstdint>
#include <string>
#include <string_view>

namespace instant::bench {

class TokenSigner {
 public:
  explicit TokenSigner(std::string secret);

  // Writes {"sub":"<user>","exp":<exp_unix_s>} as a signed compact JWS into *out (reusing its
  // capacity, so a worker does not allocate per token once the string has grown).
  void Sign(std::string_view user, int64_t exp_unix_s, std::string* out) const;

 private:
  std::string secret_;
  std::string header_b64_;  // base64url of {"alg":"HS256","typ":"JWT"}, computed once
};

// base64url without padding (RFC 7515 §2), appended to *out.
void AppendBase64Url(const uint8_t* data, size_t len, std::string* out);

}  // namespace instant::bench
