#include "auth/signer.h"

#include <memory>
#include <optional>

#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "base/base64.h"

namespace instant::auth {
namespace {

struct Deleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
  void operator()(OSSL_DECODER_CTX* p) const { OSSL_DECODER_CTX_free(p); }
};
template <typename T>
using Ptr = std::unique_ptr<T, Deleter>;

std::optional<std::string> Hmac(Algorithm alg, std::string_view key, std::string_view input) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  size_t mac_len = 0;
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, DigestName(alg), nullptr, key.data(), key.size(),
                reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac,
                sizeof(mac), &mac_len) == nullptr) {
    return std::nullopt;
  }
  return std::string(reinterpret_cast<const char*>(mac), mac_len);
}

Ptr<EVP_PKEY> LoadPrivateKeyPem(std::string_view pem) {
  EVP_PKEY* pkey = nullptr;
  Ptr<OSSL_DECODER_CTX> decoder(OSSL_DECODER_CTX_new_for_pkey(&pkey, "PEM", nullptr, nullptr,
                                                              EVP_PKEY_KEYPAIR, nullptr, nullptr));
  if (!decoder) return nullptr;
  const auto* data = reinterpret_cast<const unsigned char*>(pem.data());
  size_t len = pem.size();
  if (OSSL_DECODER_from_data(decoder.get(), &data, &len) != 1) {
    EVP_PKEY_free(pkey);
    return nullptr;
  }
  return Ptr<EVP_PKEY>(pkey);
}

std::optional<std::string> SignDigest(Algorithm alg, std::string_view pem, std::string_view input) {
  Ptr<EVP_PKEY> key = LoadPrivateKeyPem(pem);
  if (!key) return std::nullopt;
  if (FamilyOf(alg) == AlgorithmFamily::kRsa) {
    if (!EVP_PKEY_is_a(key.get(), "RSA")) return std::nullopt;
  } else {
    if (!EVP_PKEY_is_a(key.get(), "EC")) return std::nullopt;
    // RFC 7518 §3.4: ES256 = P-256, ES384 = P-384, ES512 = P-521.
    int bits = EVP_PKEY_get_bits(key.get());
    if (static_cast<size_t>((bits + 7) / 8) != EcdsaCoordinateSize(alg)) return std::nullopt;
  }
  Ptr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  size_t sig_len = 0;
  if (!ctx ||
      EVP_DigestSignInit_ex(ctx.get(), nullptr, DigestName(alg), nullptr, nullptr, key.get(),
                            nullptr) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &sig_len,
                     reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1) {
    return std::nullopt;
  }
  std::string sig(sig_len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &sig_len,
                     reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1) {
    return std::nullopt;
  }
  sig.resize(sig_len);
  if (FamilyOf(alg) == AlgorithmFamily::kEcdsa)
    return EcdsaDerToJose(sig, EcdsaCoordinateSize(alg));
  return sig;
}

}  // namespace

std::string SignHs256(std::string_view secret, std::string_view claims_json) {
  return Sign(Algorithm::kHs256, secret, claims_json);
}

std::string Sign(Algorithm alg, std::string_view key, std::string_view claims_json) {
  std::string header = "{\"alg\":\"";
  header += AlgorithmName(alg);
  header += "\",\"typ\":\"JWT\"}";
  return SignWithHeader(alg, key, header, claims_json);
}

std::string SignWithHeader(Algorithm alg, std::string_view key, std::string_view header_json,
                           std::string_view claims_json) {
  std::string token = Base64UrlEncode(header_json);
  token += '.';
  token += Base64UrlEncode(claims_json);
  std::optional<std::string> sig =
      FamilyOf(alg) == AlgorithmFamily::kHmac ? Hmac(alg, key, token) : SignDigest(alg, key, token);
  ERR_clear_error();  // failures above leave entries on this thread's queue
  if (!sig) return std::string();
  token += '.';
  token += Base64UrlEncode(*sig);
  return token;
}

}  // namespace instant::auth
