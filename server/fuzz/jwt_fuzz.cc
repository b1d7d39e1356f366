// libFuzzer target for the JWT verifier (server/src/auth). The first input byte picks a mode:
//
//   0  the rest is a token, verified as-is by verifiers with HS, RS and ES keys configured.
//      Reaches the splitter, base64url, header JSON, the three signature paths (most inputs stop
//      there: a fuzzer cannot forge a MAC).
//   1  8 bytes of `now`, then claims JSON, signed with SignHs256 and verified: this is how the
//      fuzzer gets past the signature into claims parsing.
//   2  header JSON, a 0x00 byte, claims JSON: the harness MACs them (HS256) under the fuzzed
//      header, so header handling ("alg" lies, "crit", duplicates) is reached with valid MACs.
//
// Beyond "no crash, no sanitizer report", it checks invariants: results are deterministic, a
// token is never accepted both as a connection and as a subscription token, a stricter
// configuration never accepts what a laxer one rejects, a wrong secret or a flipped signature
// bit is always kInvalid, a payload that is not a JSON object is always kInvalid, and every raw
// JSON claim handed out (info, meta, subs, data, override) is valid JSON equal (minified) to
// what a DOM parse of the payload says. Seeds: corpus/jwt/, dictionary: jwt.dict.

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <simdjson.h>

#include "auth/signer.h"
#include "auth/verifier.h"
#include "base/base64.h"

namespace {

using instant::auth::ConnectionClaims;
using instant::auth::SubscriptionClaims;
using instant::auth::TokenStatus;
using instant::auth::Verifier;
using instant::auth::VerifierConfig;

constexpr std::string_view kSecret = "fuzz-secret";
constexpr int64_t kNow = 1'700'000'000;

// Test-only key pairs; the private halves were used once to make seed tokens and not kept.
constexpr const char* kRsaPublicPem = R"(-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAnoFoM8G7w6EYkBFwShld
x+NbQg7Ob1rI3nlS5LdVeJxciNjgXlMvJ58RArphWGsDfYVDLgQNrl2i8Q/L383E
ALUDe+ZvTkvdSqNLVR0SMziaUzGisJMdByTf1IsprUdytzVj1G29YPB9h2kavY1n
RNofnHNyGA4apz+Kqeem8c5FGKuQuBwMziykkhXw20X22eLKxyrLBSH+bUDBQV7F
7qMPtdN6yoV5C0V+fh+DVtl2zUhcGRKsmTHv1R9H8rVWDhsfjZrh+s9gwXa4tx1o
GTRhseWbbZ9WS0RYrsf9MoLnJM0Obizbdocx5re2eDaY1Y7vWvL2Kb0iJckZ7AES
DwIDAQAB
-----END PUBLIC KEY-----
)";
constexpr const char* kEcPublicPem = R"(-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAELK/5QzGdSeskDicg+O4HV0KAbxBw
qL8MHaE5aNi3uSGyFVXC312k3604puo6J5q3gJFSaXenuFIULlakVaPiJw==
-----END PUBLIC KEY-----
)";

struct Verifiers {
  std::unique_ptr<Verifier> lax;     // HS + RS + ES, no aud/iss
  std::unique_ptr<Verifier> strict;  // same keys, aud and iss required
  std::unique_ptr<Verifier> other;   // another HMAC secret
};

const Verifiers& GetVerifiers() {
  static const Verifiers* verifiers = [] {
    auto* v = new Verifiers;
    std::string error;
    VerifierConfig config{.hmac_secret = std::string(kSecret),
                          .rsa_public_pem = kRsaPublicPem,
                          .ecdsa_public_pem = kEcPublicPem};
    v->lax = Verifier::Create(config, &error);
    config.audience = "aud1";
    config.issuer = "iss1";
    v->strict = Verifier::Create(config, &error);
    v->other = Verifier::Create({.hmac_secret = "other-secret"}, &error);
    if (!v->lax || !v->strict || !v->other) std::abort();
    return v;
  }();
  return *verifiers;
}

void Check(bool condition) {
  if (!condition) std::abort();
}

// The harness is single-threaded; reusing parsers keeps allocation (slow under ASan) out of the
// loop. Two of them because raw claim values are parsed while the payload's DOM is alive.
simdjson::dom::parser& PayloadParser() {
  static simdjson::dom::parser parser;
  return parser;
}
simdjson::dom::parser& RawParser() {
  static simdjson::dom::parser parser;
  return parser;
}

std::string Minify(simdjson::dom::element e) { return simdjson::minify(e); }

// The raw claim text must parse on its own and mean the same as the DOM member.
void CheckRaw(simdjson::dom::object claims, const char* name, const std::string& raw,
              bool replaced_by_b64) {
  simdjson::dom::element member;
  bool present = claims.at_key(name).get(member) == simdjson::SUCCESS && !member.is_null();
  if (replaced_by_b64) {
    if (!raw.empty()) {
      simdjson::dom::element e;
      Check(RawParser().parse(raw).get(e) == simdjson::SUCCESS);
    }
    return;
  }
  Check(present == !raw.empty());
  if (!present) return;
  simdjson::dom::element e;
  Check(RawParser().parse(raw).get(e) == simdjson::SUCCESS);
  Check(Minify(e) == Minify(member));
  // No surrounding whitespace: the raw view starts and ends on the value itself.
  Check(raw.front() != ' ' && raw.front() != '\n' && raw.back() != ' ' && raw.back() != '\n');
}

bool HasNonEmptyString(simdjson::dom::object claims, const char* name) {
  std::string_view s;
  return claims.at_key(name).get_string().get(s) == simdjson::SUCCESS && !s.empty();
}

// Invariants for a token whose payload is `payload` and whose MAC is valid under kSecret.
void CheckSigned(const std::string& token, std::string_view payload, int64_t now) {
  const Verifiers& v = GetVerifiers();
  ConnectionClaims c, c2;
  SubscriptionClaims s;
  TokenStatus rc = v.lax->VerifyConnection(token, now, &c);
  TokenStatus rs = v.lax->VerifySubscription(token, now, &s);
  Check(v.lax->VerifyConnection(token, now, &c2) == rc);
  Check(!(rc == TokenStatus::kOk && rs == TokenStatus::kOk));
  ConnectionClaims strict_claims;
  if (v.strict->VerifyConnection(token, now, &strict_claims) == TokenStatus::kOk) {
    Check(rc == TokenStatus::kOk);
  }
  ConnectionClaims ignored;
  Check(v.other->VerifyConnection(token, now, &ignored) == TokenStatus::kInvalid);
  // Flip one bit of the (last character of the) signature: always invalid.
  std::string tampered = token;
  tampered.back() = tampered.back() == 'A' ? 'Q' : 'A';
  Check(v.lax->VerifyConnection(tampered, now, &ignored) == TokenStatus::kInvalid);

  simdjson::dom::parser& parser = PayloadParser();
  simdjson::dom::element root;
  simdjson::dom::object claims;
  bool is_object = parser.parse(payload.data(), payload.size()).get(root) == simdjson::SUCCESS &&
                   root.get_object().get(claims) == simdjson::SUCCESS;
  if (!is_object) {
    Check(rc == TokenStatus::kInvalid && rs == TokenStatus::kInvalid);
    return;
  }
  if (rc == TokenStatus::kOk) {
    Check(c.user == c2.user && c.info == c2.info && c.channels == c2.channels);
    if (c.exp) Check(*c.exp > now);
    std::string_view sub;
    if (claims.at_key("sub").get_string().get(sub) == simdjson::SUCCESS) Check(c.user == sub);
    CheckRaw(claims, "info", c.info, HasNonEmptyString(claims, "b64info"));
    CheckRaw(claims, "meta", c.meta, false);
    CheckRaw(claims, "subs", c.subs, false);
  }
  if (rs == TokenStatus::kOk) {
    Check(!s.channel.empty());
    if (s.exp) Check(*s.exp > now);
    CheckRaw(claims, "info", s.info, HasNonEmptyString(claims, "b64info"));
    CheckRaw(claims, "data", s.data, HasNonEmptyString(claims, "b64data"));
    CheckRaw(claims, "override", s.overrides, false);
  }
}

void FuzzToken(std::string_view token) {
  const Verifiers& v = GetVerifiers();
  ConnectionClaims c;
  SubscriptionClaims s;
  TokenStatus rc = v.lax->VerifyConnection(token, kNow, &c);
  TokenStatus rs = v.lax->VerifySubscription(token, kNow, &s);
  Check(!(rc == TokenStatus::kOk && rs == TokenStatus::kOk));
  ConnectionClaims strict_claims;
  if (v.strict->VerifyConnection(token, kNow, &strict_claims) == TokenStatus::kOk) {
    Check(rc == TokenStatus::kOk);
  }
  ConnectionClaims again;
  Check(v.lax->VerifyConnection(token, kNow, &again) == rc);
}

void FuzzSignedClaims(const uint8_t* data, size_t size) {
  if (size < 8) return;
  int64_t now = 0;
  std::memcpy(&now, data, 8);
  std::string_view claims(reinterpret_cast<const char*>(data) + 8, size - 8);
  std::string token = instant::auth::SignHs256(kSecret, claims);
  Check(!token.empty());
  CheckSigned(token, claims, now);
}

void FuzzSignedHeader(std::string_view rest) {
  size_t nul = rest.find('\0');
  if (nul == std::string_view::npos) return;
  std::string_view header = rest.substr(0, nul);
  std::string_view claims = rest.substr(nul + 1);
  std::string token = instant::Base64UrlEncode(header) + "." + instant::Base64UrlEncode(claims);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), kSecret.data(), static_cast<int>(kSecret.size()),
       reinterpret_cast<const unsigned char*>(token.data()), token.size(), mac, &mac_len);
  token += "." + instant::Base64UrlEncode(std::string_view(reinterpret_cast<char*>(mac), mac_len));
  FuzzToken(token);
  // Header JSON that is not an object with "alg":"HS256" must never verify.
  simdjson::dom::parser& parser = PayloadParser();
  simdjson::dom::element root;
  std::string_view alg;
  bool hs256 = parser.parse(header.data(), header.size()).get(root) == simdjson::SUCCESS &&
               root["alg"].get_string().get(alg) == simdjson::SUCCESS && alg == "HS256";
  ConnectionClaims c;
  SubscriptionClaims s;
  if (!hs256) {
    Check(GetVerifiers().lax->VerifyConnection(token, kNow, &c) == TokenStatus::kInvalid);
    Check(GetVerifiers().lax->VerifySubscription(token, kNow, &s) == TokenStatus::kInvalid);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
    case 0:
      FuzzToken(rest);
      break;
    case 1:
      FuzzSignedClaims(data + 1, size - 1);
      break;
    case 2:
      FuzzSignedHeader(rest);
      break;
  }
  return 0;
}
