#pragma once
// JWT claims set (RFC 7519 §4) -> ConnectionClaims / SubscriptionClaims, steps 4-6 of the rules
// in verifier.h. Callers must have verified the signature first: this code reports kExpired,
// which must never be said about a forged token.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "auth/claims.h"
#include "auth/verifier.h"

namespace instant::auth {

// The configuration-dependent part of claim validation. Empty audience/issuer: not checked.
struct ClaimChecks {
  std::string_view audience;
  std::string_view issuer;
  int64_t now = 0;  // Unix seconds
};

// `payload` is the decoded JWT payload (any bytes; it is validated here). On kOk *out is
// overwritten; otherwise it is untouched. Thread-safe (per-thread parser).
TokenStatus ParseConnectionClaims(std::string_view payload, const ClaimChecks& checks,
                                  ConnectionClaims* out);
TokenStatus ParseSubscriptionClaims(std::string_view payload, const ClaimChecks& checks,
                                    SubscriptionClaims* out);

// Raw bytes of the value of the `index`-th member (0-based, document order) of the top-level
// object in `json`, without surrounding whitespace. `json` must already be valid JSON (this is a
// skipper, not a validator); nullopt if the text is not shaped as expected. simdjson's DOM has no
// raw access, and re-serializing would not keep the issuer's bytes, hence this.
std::optional<std::string_view> TopLevelMemberValue(std::string_view json, size_t index);

}  // namespace instant::auth
