#pragma once
// Token minting for the CLI (`instant gentoken`), tests and tooling. The server itself never
// signs. Claims are taken as finished JSON text and are not validated: a caller that passes
// garbage gets a correctly signed token that every Verifier rejects as kInvalid.

#include <string>
#include <string_view>

#include "auth/jws.h"

namespace instant::auth {

// Compact JWS (RFC 7515 §7.1) with header {"alg":"HS256","typ":"JWT"}, HMAC-SHA256 keyed with
// the raw bytes of `secret` (Centrifugo's token_hmac_secret_key is used as-is, not decoded).
std::string SignHs256(std::string_view secret, std::string_view claims_json);

// Any supported algorithm, header {"alg":"<alg>","typ":"JWT"}. `key` is the HMAC secret for
// HS*, a PEM private key (PKCS#8 or traditional) for RS*/ES*; an ES* key must be on the curve of
// the algorithm. Returns "" if the key cannot be used for `alg`.
std::string Sign(Algorithm alg, std::string_view key, std::string_view claims_json);

// As Sign, with the exact header JSON given (tests use it for odd headers: extra fields,
// "crit", an "alg" that lies about the signature). The signature is always made with `alg`.
std::string SignWithHeader(Algorithm alg, std::string_view key, std::string_view header_json,
                           std::string_view claims_json);

}  // namespace instant::auth
