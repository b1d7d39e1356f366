#pragma once
// The verification keys of one configuration, loaded once and then used read-only (and so
// concurrently) by every loop. One slot per algorithm family; an algorithm is usable only when
// its family has a key, which is what makes HS/RS confusion impossible: the RSA or ECDSA public
// key text is never an HMAC key.
//
// Costs (OpenSSL 3): each HMAC digest has an EVP_MAC_CTX keyed here once; a verification
// copies it (EVP_MAC_CTX_dup), which skips the per-call algorithm fetch and key schedule of
// one-shot HMAC(). RSA/ECDSA keys are parsed once; verification goes through EVP_DigestVerify
// with digests fetched here.

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "auth/jws.h"

namespace instant::auth {

class KeySet {
 public:
  // Empty strings mean "not configured". Returns nullptr and sets *error, naming the config key
  // (token_rsa_public_key, ...), when a configured key cannot be used. See Verifier::Create for
  // the accepted PEM forms and key sizes.
  static std::unique_ptr<KeySet> Create(std::string_view hmac_secret,
                                        std::string_view rsa_public_pem,
                                        std::string_view ecdsa_public_pem, std::string* error);
  ~KeySet();

  KeySet(const KeySet&) = delete;
  KeySet& operator=(const KeySet&) = delete;

  // Whether a token with this "alg" can be verified at all.
  bool Supports(Algorithm alg) const;
  bool empty() const;

  // Verifies a raw (already base64url-decoded) JWS signature over `signing_input`. false for
  // an unsupported alg, a wrong signature length or a bad signature. Thread-safe. Leaves the
  // calling thread's OpenSSL error queue clean.
  bool Verify(Algorithm alg, std::string_view signing_input, std::string_view signature) const;

 private:
  struct Impl;
  explicit KeySet(std::unique_ptr<Impl> impl);

  bool VerifyHmac(Algorithm alg, std::string_view signing_input, std::string_view signature) const;
  bool VerifyDigest(Algorithm alg, std::string_view signing_input,
                    std::string_view signature) const;

  std::unique_ptr<Impl> impl_;
};

}  // namespace instant::auth
