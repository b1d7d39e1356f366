#include "jwt.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstdio>
#include <cstdlib>

namespace instant::bench {

void AppendBase64Url(const uint8_t* data, size_t len, std::string* out) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  size_t i = 0;
  for (; i + 3 <= len; i += 3) {
    uint32_t v = uint32_t{data[i]} << 16 | uint32_t{data[i + 1]} << 8 | data[i + 2];
    out->push_back(kAlphabet[v >> 18]);
    out->push_back(kAlphabet[(v >> 12) & 63]);
    out->push_back(kAlphabet[(v >> 6) & 63]);
    out->push_back(kAlphabet[v & 63]);
  }
  if (len - i == 1) {
    uint32_t v = uint32_t{data[i]} << 16;
    out->push_back(kAlphabet[v >> 18]);
    out->push_back(kAlphabet[(v >> 12) & 63]);
  } else if (len - i == 2) {
    uint32_t v = uint32_t{data[i]} << 16 | uint32_t{data[i + 1]} << 8;
    out->push_back(kAlphabet[v >> 18]);
    out->push_back(kAlphabet[(v >> 12) & 63]);
    out->push_back(kAlphabet[(v >> 6) & 63]);
  }
}

TokenSigner::TokenSigner(std::string secret) : secret_(std::move(secret)) {
  static constexpr std::string_view kHeader = R"({"alg":"HS256","typ":"JWT"})";
  AppendBase64Url(reinterpret_cast<const uint8_t*>(kHeader.data()), kHeader.size(), &header_b64_);
}

void TokenSigner::Sign(std::string_view user, int64_t exp_unix_s, std::string* out) const {
  char payload[256];
  int n = snprintf(payload, sizeof payload, R"({"sub":"%.*s","exp":%lld})", static_cast<int>(user.size()),
                   user.data(), static_cast<long long>(exp_unix_s));
  if (n <= 0 || n >= static_cast<int>(sizeof payload)) abort();  // user ids here are "u<number>"
  out->clear();
  *out += header_b64_;
  out->push_back('.');
  AppendBase64Url(reinterpret_cast<const uint8_t*>(payload), static_cast<size_t>(n), out);
  uint8_t mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  if (!HMAC(EVP_sha256(), secret_.data(), static_cast<int>(secret_.size()),
            reinterpret_cast<const uint8_t*>(out->data()), out->size(), mac, &mac_len)) {
    fprintf(stderr, "instant-loadgen: HMAC-SHA256 failed\n");
    abort();
  }
  out->push_back('.');
  AppendBase64Url(mac, mac_len, out);
}

}  // namespace instant::bench
