#include "auth/verifier.h"

#include <optional>
#include <utility>
#include <vector>

#include <simdjson.h>

#include "auth/claims_parser.h"
#include "auth/jws.h"
#include "auth/key_set.h"
#include "base/base64.h"

namespace instant::auth {
namespace {

// RFC 7515 §4: the JOSE header. Only "alg" matters to us; "typ", "kid" and the rest are
// informational. Returns nullopt for anything we must not accept.
std::optional<Algorithm> ParseHeader(std::string_view segment) {
  std::optional<std::string> json = Base64Decode(segment);
  if (!json) return std::nullopt;
  // Header sizes are capped by Verifier::kMaxHeaderSize, so the retained buffers stay small.
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element root;
  simdjson::dom::object object;
  if (parser.parse(json->data(), json->size()).get(root) != simdjson::SUCCESS ||
      root.get_object().get(object) != simdjson::SUCCESS) {
    return std::nullopt;
  }
  std::optional<Algorithm> alg;
  bool seen_alg = false;
  for (simdjson::dom::key_value_pair member : object) {
    if (member.key == "alg") {
      if (seen_alg) return std::nullopt;  // two "alg": which one did the signer mean?
      seen_alg = true;
      std::string_view name;
      if (member.value.get_string().get(name) != simdjson::SUCCESS) return std::nullopt;
      alg = ParseAlgorithm(name);  // "none" and unknown names -> nullopt
      if (!alg) return std::nullopt;
    } else if (member.key == "crit") {
      // RFC 7515 §4.1.11: extensions listed in "crit" MUST be understood; we know none.
      return std::nullopt;
    }
  }
  return alg;
}

// The headers real issuers emit (PyJWT, jsonwebtoken, golang-jwt, our signer), pre-encoded, so
// the common case skips a base64 decode and a JSON parse. Each entry parses to exactly its alg
// and nothing else, so the shortcut cannot change a verdict.
struct KnownHeader {
  std::string encoded;
  Algorithm alg;
};

const std::vector<KnownHeader>& KnownHeaders() {
  static const std::vector<KnownHeader>* headers = [] {
    auto* list = new std::vector<KnownHeader>;
    for (int i = 0; i <= static_cast<int>(Algorithm::kEs512); ++i) {
      auto alg = static_cast<Algorithm>(i);
      std::string name(AlgorithmName(alg));
      for (const std::string& json :
           {"{\"alg\":\"" + name + "\",\"typ\":\"JWT\"}",
            "{\"typ\":\"JWT\",\"alg\":\"" + name + "\"}", "{\"alg\":\"" + name + "\"}"}) {
        list->push_back({Base64UrlEncode(json), alg});
      }
    }
    return list;
  }();
  return *headers;
}

std::optional<Algorithm> HeaderAlgorithm(std::string_view segment) {
  for (const KnownHeader& known : KnownHeaders()) {
    if (known.encoded == segment) return known.alg;
  }
  return ParseHeader(segment);
}

}  // namespace

Verifier::Verifier(std::unique_ptr<KeySet> keys, std::string audience, std::string issuer)
    : keys_(std::move(keys)), audience_(std::move(audience)), issuer_(std::move(issuer)) {}

Verifier::~Verifier() = default;

std::unique_ptr<Verifier> Verifier::Create(const VerifierConfig& config, std::string* error) {
  std::string ignored;
  if (error == nullptr) error = &ignored;
  std::unique_ptr<KeySet> keys =
      KeySet::Create(config.hmac_secret, config.rsa_public_pem, config.ecdsa_public_pem, error);
  if (!keys) return nullptr;
  return std::unique_ptr<Verifier>(new Verifier(std::move(keys), config.audience, config.issuer));
}

bool Verifier::has_keys() const { return !keys_->empty(); }

TokenStatus Verifier::CheckSignature(std::string_view token, std::string* payload) const {
  if (token.size() > kMaxTokenSize) return TokenStatus::kInvalid;
  std::optional<CompactParts> parts = SplitCompact(token);
  if (!parts || parts->header.size() > kMaxHeaderSize) return TokenStatus::kInvalid;
  std::optional<Algorithm> alg = HeaderAlgorithm(parts->header);
  if (!alg || !keys_->Supports(*alg)) return TokenStatus::kInvalid;
  std::optional<std::string> signature = Base64Decode(parts->signature);
  if (!signature || !keys_->Verify(*alg, parts->signing_input, *signature)) {
    return TokenStatus::kInvalid;
  }
  std::optional<std::string> decoded = Base64Decode(parts->payload);
  if (!decoded) return TokenStatus::kInvalid;
  *payload = std::move(*decoded);
  return TokenStatus::kOk;
}

TokenStatus Verifier::VerifyConnection(std::string_view token, int64_t now,
                                       ConnectionClaims* out) const {
  std::string payload;
  TokenStatus status = CheckSignature(token, &payload);
  if (status != TokenStatus::kOk) return status;
  return ParseConnectionClaims(payload, ClaimChecks{audience_, issuer_, now}, out);
}

TokenStatus Verifier::VerifySubscription(std::string_view token, int64_t now,
                                         SubscriptionClaims* out) const {
  std::string payload;
  TokenStatus status = CheckSignature(token, &payload);
  if (status != TokenStatus::kOk) return status;
  return ParseSubscriptionClaims(payload, ClaimChecks{audience_, issuer_, now}, out);
}

}  // namespace instant::auth
