#pragma once
// JWS building blocks shared by the verifier, the signer and their tests: the algorithm set
// Centrifugo accepts (RFC 7518 §3.1: HS/RS/ES 256/384/512), the compact serialization
// (RFC 7515 §7.1) and the ECDSA signature encoding (RFC 7518 §3.4: JOSE carries r||s, OpenSSL
// speaks DER). No key material here; see key_set.h.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace instant::auth {

// The "alg" values we implement. "none" (RFC 7518 §3.6) is deliberately absent: an unsecured
// JWS can never be accepted, so it is not even representable.
enum class Algorithm { kHs256, kHs384, kHs512, kRs256, kRs384, kRs512, kEs256, kEs384, kEs512 };

enum class AlgorithmFamily { kHmac, kRsa, kEcdsa };

// Exact, case-sensitive match of a header "alg" value (RFC 7515 §4.1.1). nullopt for "none",
// PS*/EdDSA and anything unknown.
std::optional<Algorithm> ParseAlgorithm(std::string_view name);
std::string_view AlgorithmName(Algorithm alg);
AlgorithmFamily FamilyOf(Algorithm alg);
// OpenSSL digest name of the SHA-2 variant the algorithm uses: "SHA256", "SHA384", "SHA512".
const char* DigestName(Algorithm alg);
// ES*: byte length of one coordinate of the curve the algorithm is bound to (RFC 7518 §3.4):
// 32 (P-256), 48 (P-384), 66 (P-521). 0 for HS/RS.
size_t EcdsaCoordinateSize(Algorithm alg);

// The three segments of a compact JWS, still base64url-encoded, as views into the token.
struct CompactParts {
  std::string_view header;
  std::string_view payload;
  std::string_view signature;
  // header '.' payload: the exact bytes the signature covers (RFC 7515 §5.2 step 8).
  std::string_view signing_input;
};

// Splits `token` into exactly three non-empty segments made only of the base64url alphabet
// (RFC 7515 §2: no padding, no whitespace, no line breaks). Anything else — two or four
// segments (JWE has five), an empty signature ("alg":"none" style), '+', '/', '=' — is nullopt.
// Being strict here means one signature has one textual form: no malleable variants of a token.
std::optional<CompactParts> SplitCompact(std::string_view token);

// base64url without padding, canonical only (non-zero trailing bits are rejected by
// Base64Decode). Rejects the standard alphabet and '=' which Base64Decode would accept.
std::optional<std::string> DecodeSegment(std::string_view segment);

// RFC 7518 §3.4: JOSE ECDSA signatures are R and S as fixed-size big-endian integers, each
// `coordinate_size` bytes, concatenated. OpenSSL verifies the DER SEQUENCE of two INTEGERs.
// nullopt if the JOSE signature does not have exactly 2 * coordinate_size bytes.
std::optional<std::string> EcdsaJoseToDer(std::string_view jose, size_t coordinate_size);
// The inverse, for signing. nullopt if `der` is not an ECDSA-Sig-Value or R/S do not fit.
std::optional<std::string> EcdsaDerToJose(std::string_view der, size_t coordinate_size);

}  // namespace instant::auth
