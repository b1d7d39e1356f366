#include "auth/key_set.h"

#include <array>
#include <cstdint>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

namespace instant::auth {
namespace {

struct MacDeleter {
  void operator()(EVP_MAC* p) const { EVP_MAC_free(p); }
  void operator()(EVP_MAC_CTX* p) const { EVP_MAC_CTX_free(p); }
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(EVP_MD* p) const { EVP_MD_free(p); }
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
  void operator()(OSSL_DECODER_CTX* p) const { OSSL_DECODER_CTX_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
  void operator()(X509* p) const { X509_free(p); }
};
template <typename T>
using Ptr = std::unique_ptr<T, MacDeleter>;

// Index of the SHA-2 variant inside the per-family arrays below.
size_t ShaIndex(Algorithm alg) {
  switch (alg) {
    case Algorithm::kHs256:
    case Algorithm::kRs256:
    case Algorithm::kEs256:
      return 0;
    case Algorithm::kHs384:
    case Algorithm::kRs384:
    case Algorithm::kEs384:
      return 1;
    default:
      return 2;
  }
}
constexpr std::array<const char*, 3> kShaNames = {"SHA256", "SHA384", "SHA512"};
constexpr std::array<size_t, 3> kShaSizes = {32, 48, 64};

// OpenSSL failures leave entries on the calling thread's error queue; a later, unrelated
// ERR_get_error() (TLS code, say) must not see ours.
struct ClearErrorsOnExit {
  ~ClearErrorsOnExit() { ERR_clear_error(); }
};

std::string_view TrimSpace(std::string_view s) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

Ptr<EVP_PKEY> LoadPublicKeyPem(std::string_view pem) {
  ClearErrorsOnExit clear;
  // Config files and env vars often indent or pad the value; OpenSSL wants "-----BEGIN" at the
  // start of a line.
  pem = TrimSpace(pem);
  {
    EVP_PKEY* pkey = nullptr;
    // Selection "public key" makes the decoder refuse private-key PEM blocks.
    Ptr<OSSL_DECODER_CTX> decoder(OSSL_DECODER_CTX_new_for_pkey(
        &pkey, "PEM", nullptr, nullptr, EVP_PKEY_PUBLIC_KEY, nullptr, nullptr));
    if (decoder) {
      const auto* data = reinterpret_cast<const unsigned char*>(pem.data());
      size_t len = pem.size();
      if (OSSL_DECODER_from_data(decoder.get(), &data, &len) == 1 && pkey != nullptr) {
        return Ptr<EVP_PKEY>(pkey);
      }
    }
    EVP_PKEY_free(pkey);
  }
  // Centrifugo (jwtutils) also takes an X.509 certificate and uses its key.
  Ptr<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return nullptr;
  Ptr<X509> cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) return nullptr;
  return Ptr<EVP_PKEY>(X509_get_pubkey(cert.get()));
}

std::string KeyTypeName(EVP_PKEY* pkey) {
  const char* name = EVP_PKEY_get0_type_name(pkey);
  return name != nullptr ? name : "unknown";
}

}  // namespace

struct KeySet::Impl {
  // HMAC contexts keyed with the secret, one per SHA-2 variant; null when no secret.
  std::array<Ptr<EVP_MAC_CTX>, 3> hmac;
  Ptr<EVP_PKEY> rsa;
  Ptr<EVP_PKEY> ecdsa;
  Algorithm ecdsa_alg = Algorithm::kEs256;  // the one ES alg the curve of `ecdsa` allows
  std::array<Ptr<EVP_MD>, 3> digests;       // for RS*/ES*
};

KeySet::KeySet(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
KeySet::~KeySet() = default;

std::unique_ptr<KeySet> KeySet::Create(std::string_view hmac_secret,
                                       std::string_view rsa_public_pem,
                                       std::string_view ecdsa_public_pem, std::string* error) {
  ClearErrorsOnExit clear;
  auto impl = std::make_unique<Impl>();

  if (!hmac_secret.empty()) {
    Ptr<EVP_MAC> mac(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
    if (!mac) {
      *error = "token_hmac_secret_key: HMAC is not available in this OpenSSL";
      return nullptr;
    }
    for (size_t i = 0; i < kShaNames.size(); ++i) {
      Ptr<EVP_MAC_CTX> ctx(EVP_MAC_CTX_new(mac.get()));
      OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                                              const_cast<char*>(kShaNames[i]), 0),
                             OSSL_PARAM_construct_end()};
      if (!ctx ||
          EVP_MAC_init(ctx.get(), reinterpret_cast<const unsigned char*>(hmac_secret.data()),
                       hmac_secret.size(), params) != 1) {
        *error = std::string("token_hmac_secret_key: cannot key HMAC-") + kShaNames[i];
        return nullptr;
      }
      impl->hmac[i] = std::move(ctx);
    }
  }

  if (!rsa_public_pem.empty()) {
    impl->rsa = LoadPublicKeyPem(rsa_public_pem);
    if (!impl->rsa) {
      *error =
          "token_rsa_public_key: not a PEM public key (expected a \"PUBLIC KEY\", \"RSA PUBLIC "
          "KEY\" or \"CERTIFICATE\" block)";
      return nullptr;
    }
    // "RSA" only: an RSA-PSS-restricted key cannot verify RS* (PKCS#1 v1.5) signatures.
    if (!EVP_PKEY_is_a(impl->rsa.get(), "RSA")) {
      *error = "token_rsa_public_key: not an RSA key (found " + KeyTypeName(impl->rsa.get()) + ")";
      return nullptr;
    }
    int bits = EVP_PKEY_get_bits(impl->rsa.get());
    if (bits < 1024) {
      *error = "token_rsa_public_key: RSA key of " + std::to_string(bits) +
               " bits is too small (minimum 1024, RFC 7518 asks 2048)";
      return nullptr;
    }
  }

  if (!ecdsa_public_pem.empty()) {
    impl->ecdsa = LoadPublicKeyPem(ecdsa_public_pem);
    if (!impl->ecdsa) {
      *error =
          "token_ecdsa_public_key: not a PEM public key (expected a \"PUBLIC KEY\" or "
          "\"CERTIFICATE\" block)";
      return nullptr;
    }
    if (!EVP_PKEY_is_a(impl->ecdsa.get(), "EC")) {
      *error =
          "token_ecdsa_public_key: not an EC key (found " + KeyTypeName(impl->ecdsa.get()) + ")";
      return nullptr;
    }
    char group[80] = {0};
    size_t group_len = 0;
    if (EVP_PKEY_get_utf8_string_param(impl->ecdsa.get(), OSSL_PKEY_PARAM_GROUP_NAME, group,
                                       sizeof(group), &group_len) != 1) {
      *error = "token_ecdsa_public_key: EC key without a named curve";
      return nullptr;
    }
    std::string_view curve(group, group_len);
    if (curve == "prime256v1" || curve == "P-256") {
      impl->ecdsa_alg = Algorithm::kEs256;
    } else if (curve == "secp384r1" || curve == "P-384") {
      impl->ecdsa_alg = Algorithm::kEs384;
    } else if (curve == "secp521r1" || curve == "P-521") {
      impl->ecdsa_alg = Algorithm::kEs512;
    } else {
      *error = "token_ecdsa_public_key: curve " + std::string(curve) +
               " is not one of P-256, P-384, P-521";
      return nullptr;
    }
  }

  if (impl->rsa || impl->ecdsa) {
    for (size_t i = 0; i < kShaNames.size(); ++i) {
      impl->digests[i].reset(EVP_MD_fetch(nullptr, kShaNames[i], nullptr));
      if (!impl->digests[i]) {
        *error = std::string("token keys: digest ") + kShaNames[i] + " is not available";
        return nullptr;
      }
    }
  }
  return std::unique_ptr<KeySet>(new KeySet(std::move(impl)));
}

bool KeySet::Supports(Algorithm alg) const {
  switch (FamilyOf(alg)) {
    case AlgorithmFamily::kHmac:
      return impl_->hmac[ShaIndex(alg)] != nullptr;
    case AlgorithmFamily::kRsa:
      return impl_->rsa != nullptr;
    case AlgorithmFamily::kEcdsa:
      return impl_->ecdsa != nullptr && impl_->ecdsa_alg == alg;
  }
  return false;
}

bool KeySet::empty() const { return !impl_->hmac[0] && !impl_->rsa && !impl_->ecdsa; }

bool KeySet::Verify(Algorithm alg, std::string_view signing_input,
                    std::string_view signature) const {
  if (!Supports(alg)) return false;
  if (FamilyOf(alg) == AlgorithmFamily::kHmac) return VerifyHmac(alg, signing_input, signature);
  return VerifyDigest(alg, signing_input, signature);
}

// RFC 7518 §3.2: HMAC over the signing input, compared in constant time.
bool KeySet::VerifyHmac(Algorithm alg, std::string_view signing_input,
                        std::string_view signature) const {
  size_t i = ShaIndex(alg);
  // The length of a MAC is public; only its bytes need the constant-time compare.
  if (signature.size() != kShaSizes[i]) return false;
  Ptr<EVP_MAC_CTX> ctx(EVP_MAC_CTX_dup(impl_->hmac[i].get()));
  unsigned char mac[EVP_MAX_MD_SIZE];
  size_t mac_len = 0;
  if (!ctx ||
      EVP_MAC_update(ctx.get(), reinterpret_cast<const unsigned char*>(signing_input.data()),
                     signing_input.size()) != 1 ||
      EVP_MAC_final(ctx.get(), mac, &mac_len, sizeof(mac)) != 1 || mac_len != signature.size()) {
    ERR_clear_error();
    return false;
  }
  return CRYPTO_memcmp(mac, signature.data(), mac_len) == 0;
}

// RFC 7518 §3.3 (RSASSA-PKCS1-v1_5, OpenSSL's default RSA padding) and §3.4 (ECDSA).
bool KeySet::VerifyDigest(Algorithm alg, std::string_view signing_input,
                          std::string_view signature) const {
  ClearErrorsOnExit clear;
  EVP_PKEY* key = nullptr;
  std::string der;
  std::string_view sig = signature;
  if (FamilyOf(alg) == AlgorithmFamily::kRsa) {
    key = impl_->rsa.get();
    // RFC 7518 §3.3 / RFC 8017 §8.2.2: the signature is exactly k bytes (modulus length).
    if (sig.size() != static_cast<size_t>(EVP_PKEY_get_size(key))) return false;
  } else {
    key = impl_->ecdsa.get();
    std::optional<std::string> converted = EcdsaJoseToDer(sig, EcdsaCoordinateSize(alg));
    if (!converted) return false;
    der = std::move(*converted);
    sig = der;
  }
  Ptr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, impl_->digests[ShaIndex(alg)].get(), nullptr,
                                   key) != 1) {
    return false;
  }
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                          reinterpret_cast<const unsigned char*>(signing_input.data()),
                          signing_input.size()) == 1;
}

}  // namespace instant::auth
