#pragma once
// Verification of Centrifugo connection and subscription tokens: compact JWS (RFC 7515) carrying
// JWT claims (RFC 7519), algorithms HS/RS/ES 256/384/512 (RFC 7518 §3.1). Spec:
// centrifugo-protocol.md §4.3.
//
// A Verifier is built once from the configuration (keys parsed and pre-keyed there) and then
// shared read-only by every event loop: all methods are const and thread-safe. Per call it
// allocates a little (decoded segments, one HMAC context copy, the output strings); JSON is
// parsed with a per-thread simdjson parser.
//
// Order of checks, which is also the order of the verdicts:
//   1. shape: three non-empty base64url segments, no padding, token <= kMaxTokenSize,
//      header <= kMaxHeaderSize                                             -> kInvalid
//   2. header: a JSON object whose "alg" is one of HS/RS/ES 256/384/512 AND has a configured
//      key; "none", unknown algs, algs without a key and any "crit" header (RFC 7515 §4.1.11:
//      we implement no extension) -> kInvalid. Keys are per family, so an HS256 token can
//      never be checked against the RSA/ECDSA public key text (the classic HS/RS confusion).
//   3. signature over header.payload, constant-time for HMAC                 -> kInvalid
//   4. payload: a JSON object; known claims with the wrong JSON type, or a known claim
//      appearing twice (ambiguous: parsers disagree on which one wins)        -> kInvalid
//   5. "exp" <= now or "nbf" > now, no leeway (NumericDate may be fractional: exp is floored,
//      nbf ceiled, so both err towards rejection)                              -> kExpired
//   6. "aud" must contain VerifierConfig::audience and "iss" must equal VerifierConfig::issuer
//      when those are set (unset: ignored, as Centrifugo does, although RFC 7519 §4.1.3 would
//      reject a token whose aud is not understood); kind rules (below); b64 claims that are not
//      base64                                                                  -> kInvalid
// Nothing in the payload is looked at before step 3 succeeds. 5 before 6 mirrors Centrifugo
// (an expired token for another audience reports 109, and the next token reports invalid).
//
// Kind rules: a connection token with a non-empty "channel" is kInvalid (spec §4.3: a
// subscription token must not open a connection; Centrifugo tolerates "channel": "", and so do
// we — an empty channel can never be a subscription token). A subscription token without a
// non-empty string "channel" is kInvalid.
//
// Claim types (null always means absent): sub, iss, channel, client, b64info, b64data: string;
// exp, nbf, expire_at: number; aud: string or array of strings; channels: array of strings;
// subs, override: object; info, meta, data: any JSON. Unknown claims (iat, jti, ...) are
// ignored. Claims of the other token kind are ignored (a "data" in a connection token, say).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "auth/claims.h"

namespace instant::auth {

class KeySet;

// kInvalid -> protocol "invalid token" (connect: disconnect 3500; subscribe: error 103);
// kExpired -> error 109 "token expired" (the SDK fetches a new token).
enum class TokenStatus { kOk, kInvalid, kExpired };

struct VerifierConfig {
  // The {} initializers let callers use designated initializers without -Wextra noise.
  std::string hmac_secret{};       // token_hmac_secret_key (HS256/384/512); "" = none
  std::string rsa_public_pem{};    // token_rsa_public_key (RS256/384/512), PEM; "" = none
  std::string ecdsa_public_pem{};  // token_ecdsa_public_key (ES256/384/512), PEM; "" = none
  std::string audience{};  // token_audience: when set, "aud" (string or array) must contain it
  std::string issuer{};    // token_issuer: when set, "iss" must equal it
};

class Verifier {
 public:
  // Larger tokens are kInvalid before any work. The transport's message limit (64 KiB by default
  // in Centrifugo) is the real bound; this one keeps the HMAC cost of a hostile caller bounded
  // even when that limit is raised.
  static constexpr size_t kMaxTokenSize = 1 << 20;
  // The header is parsed before the signature is checked, so it gets a tight limit. Real headers
  // ({"alg","typ","kid"}) are well under 200 bytes.
  static constexpr size_t kMaxHeaderSize = 4096;

  // Loads and checks the configured keys. Accepted PEM forms: "PUBLIC KEY" (SPKI),
  // "RSA PUBLIC KEY" (PKCS#1) and "CERTIFICATE" (its public key), like Centrifugo. RSA keys must
  // have >= 1024 bits (RFC 7518 §3.3 asks 2048; Go rejects < 1024), ECDSA keys must be on
  // P-256, P-384 or P-521, and only the ES algorithm of that curve is accepted (RFC 7518 §3.4).
  // Returns nullptr and sets *error (e.g. "token_rsa_public_key: not a PEM public key ...") when
  // a configured key cannot be loaded. No key at all is fine: every token is then kInvalid.
  static std::unique_ptr<Verifier> Create(const VerifierConfig& config, std::string* error);
  ~Verifier();

  Verifier(const Verifier&) = delete;
  Verifier& operator=(const Verifier&) = delete;

  // Thread-safe. `now` = Unix seconds. On kOk *out is overwritten with the claims; on any other
  // status *out is left untouched.
  TokenStatus VerifyConnection(std::string_view token, int64_t now, ConnectionClaims* out) const;
  TokenStatus VerifySubscription(std::string_view token, int64_t now,
                                 SubscriptionClaims* out) const;

  bool has_keys() const;  // any key configured

 private:
  Verifier(std::unique_ptr<KeySet> keys, std::string audience, std::string issuer);

  // Steps 1-3 of the class comment. On kOk *payload holds the decoded (not yet parsed) payload.
  TokenStatus CheckSignature(std::string_view token, std::string* payload) const;

  std::unique_ptr<KeySet> keys_;
  std::string audience_;
  std::string issuer_;
};

}  // namespace instant::auth
