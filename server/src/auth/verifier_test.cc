#include "auth/verifier.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "auth/signer.h"
#include "auth/test_keys.h"
#include "base/base64.h"

namespace instant::auth {
namespace {

using testing::KeyPair;

constexpr int64_t kNow = 1'700'000'000;

/*---- RFC 7515 Appendix A vectors ----*/

// A.1 and A.2/A.3 share this payload: {"iss":"joe",\r\n "exp":1300819380,\r\n "http://...":true}
constexpr std::string_view kRfcPayload =
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxl"
    "LmNvbS9pc19yb290Ijp0cnVlfQ";
constexpr int64_t kRfcExp = 1300819380;

std::string A1Token() {
  return "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9." + std::string(kRfcPayload) +
         ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
}
std::string A1Key() {
  return Base64Decode(
             "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4h"
             "cgUuTwjAzZr1Z9CAow")
      .value();
}
std::string A2Token() {
  return "eyJhbGciOiJSUzI1NiJ9." + std::string(kRfcPayload) +
         ".cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_l"
         "F5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vR"
         "K5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsq"
         "tFZESc6BfI7noOPqvhJ1phCnvWh6Ie"
         "YI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw";
}
std::string A2PublicPem() {
  return testing::RsaPublicPemFromJwk(
      "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4"
      "d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5r"
      "exMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhy"
      "xXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ",
      "AQAB");
}

/*---- Helpers ----*/

std::unique_ptr<Verifier> Make(VerifierConfig config) {
  std::string error;
  std::unique_ptr<Verifier> v = Verifier::Create(config, &error);
  EXPECT_NE(v, nullptr) << error;
  if (!v) v = Verifier::Create({}, &error);  // keeps the failing test from crashing
  return v;
}

std::string CreateError(VerifierConfig config) {
  std::string error;
  std::unique_ptr<Verifier> v = Verifier::Create(config, &error);
  EXPECT_EQ(v, nullptr);
  return error;
}

TokenStatus Connect(const Verifier& v, std::string_view token, int64_t now = kNow,
                    ConnectionClaims* out = nullptr) {
  ConnectionClaims ignored;
  return v.VerifyConnection(token, now, out ? out : &ignored);
}

TokenStatus Subscribe(const Verifier& v, std::string_view token, int64_t now = kNow,
                      SubscriptionClaims* out = nullptr) {
  SubscriptionClaims ignored;
  return v.VerifySubscription(token, now, out ? out : &ignored);
}

// Flips one bit of the decoded signature and re-encodes it.
std::string FlipSignatureBit(const std::string& token, size_t bit) {
  size_t dot = token.rfind('.');
  std::string sig = Base64Decode(token.substr(dot + 1)).value();
  sig[(bit / 8) % sig.size()] ^= static_cast<char>(1 << (bit % 8));
  return token.substr(0, dot + 1) + Base64UrlEncode(sig);
}

std::string RandomSecret(size_t n) {
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(std::rand());
  return s;
}

// Keys are expensive to generate (RSA especially): once per process, and only when a test needs
// them (ctest runs every test in its own process).
const KeyPair& Rsa() {
  static const KeyPair* key = new KeyPair(testing::GenerateRsa(2048));
  return *key;
}
const KeyPair& P256() {
  static const KeyPair* key = new KeyPair(testing::GenerateEc("P-256"));
  return *key;
}
const KeyPair& P384() {
  static const KeyPair* key = new KeyPair(testing::GenerateEc("P-384"));
  return *key;
}
const KeyPair& P521() {
  static const KeyPair* key = new KeyPair(testing::GenerateEc("P-521"));
  return *key;
}

using VerifierTest = ::testing::Test;

/*---- Known answers ----*/

TEST_F(VerifierTest, Rfc7515AppendixA1Hs256) {
  auto v = Make({.hmac_secret = A1Key()});
  ConnectionClaims c;
  // The example expired in 2011: with the real clock the signature verifies and exp fails.
  EXPECT_EQ(Connect(*v, A1Token(), std::time(nullptr), &c), TokenStatus::kExpired);
  ASSERT_EQ(Connect(*v, A1Token(), kRfcExp - 1, &c), TokenStatus::kOk);
  EXPECT_EQ(c.exp, kRfcExp);
  EXPECT_EQ(c.user, "");
  EXPECT_EQ(Connect(*v, A1Token(), kRfcExp), TokenStatus::kExpired);  // exp <= now, no leeway
  // Its "iss" is "joe".
  EXPECT_EQ(Connect(*Make({.hmac_secret = A1Key(), .issuer = "joe"}), A1Token(), kRfcExp - 1),
            TokenStatus::kOk);
  EXPECT_EQ(Connect(*Make({.hmac_secret = A1Key(), .issuer = "bob"}), A1Token(), kRfcExp - 1),
            TokenStatus::kInvalid);
  // Another secret: the signature fails, and that is reported, not the expiry.
  EXPECT_EQ(Connect(*Make({.hmac_secret = "other"}), A1Token(), std::time(nullptr)),
            TokenStatus::kInvalid);
}

TEST_F(VerifierTest, Rfc7515AppendixA2Rs256) {
  std::string pem = A2PublicPem();
  ASSERT_NE(pem.find("BEGIN PUBLIC KEY"), std::string::npos);
  auto v = Make({.rsa_public_pem = pem});
  ConnectionClaims c;
  EXPECT_EQ(Connect(*v, A2Token(), std::time(nullptr)), TokenStatus::kExpired);
  ASSERT_EQ(Connect(*v, A2Token(), kRfcExp - 1, &c), TokenStatus::kOk);
  EXPECT_EQ(c.exp, kRfcExp);
  EXPECT_EQ(Connect(*v, FlipSignatureBit(A2Token(), 77), kRfcExp - 1), TokenStatus::kInvalid);
  // Same key, other RS digests: the signature no longer matches.
  std::string as384 = "eyJhbGciOiJSUzM4NCJ9" + A2Token().substr(A2Token().find('.'));
  EXPECT_EQ(Connect(*v, as384, kRfcExp - 1), TokenStatus::kInvalid);
  // Not configured for RSA.
  EXPECT_EQ(Connect(*Make({.hmac_secret = "x"}), A2Token(), kRfcExp - 1), TokenStatus::kInvalid);
}

TEST_F(VerifierTest, Rfc7515AppendixA3Es256) {
  std::string pem =
      testing::EcPublicPemFromJwk("P-256", "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
                                  "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0");
  auto v = Make({.ecdsa_public_pem = pem});
  std::string token = "eyJhbGciOiJFUzI1NiJ9." + std::string(kRfcPayload) +
                      ".DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJ"
                      "qPP3-Kg6NU1Q";
  EXPECT_EQ(Connect(*v, token, kRfcExp - 1), TokenStatus::kOk);
  EXPECT_EQ(Connect(*v, token, std::time(nullptr)), TokenStatus::kExpired);
  EXPECT_EQ(Connect(*v, FlipSignatureBit(token, 3), kRfcExp - 1), TokenStatus::kInvalid);
}

// Tokens made by jwt.io (via the jwt-compact test suite) for HS384 and HS512.
TEST_F(VerifierTest, ThirdPartyHs384Hs512) {
  ConnectionClaims c;
  auto v384 = Make({.hmac_secret = "your-384-bit-secret"});
  ASSERT_EQ(
      Connect(*v384,
              "eyJhbGciOiJIUzM4NCIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4"
              "gRG9lIiwiYWRtaW4iOnRydWUsImlhdCI6MTUxNjIzOTAyMn0.bQTnz6AuMJvmXXQsVPrxeQNvzDkimo7VN"
              "XxHeSBfClLufmCVZRUuyTwJF311JHuh",
              kNow, &c),
      TokenStatus::kOk);
  EXPECT_EQ(c.user, "1234567890");
  auto v512 = Make({.hmac_secret = "your-512-bit-secret"});
  ASSERT_EQ(
      Connect(*v512,
              "eyJhbGciOiJIUzUxMiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI5ODc2NTQzMjEiLCJuYW1lIjoiSmFuZSB"
              "Eb2UiLCJhZG1pbiI6ZmFsc2UsImlhdCI6MTUxNjIzOTEyMn0.zGgI9yNlkGofH0aIuYq7v_VPi6THftCS-"
              "59DXMQ0XugapLalKKDo6qAJkBy0i8d9DFcYIySIUgQ69Dprvp4fpA",
              kNow, &c),
      TokenStatus::kOk);
  EXPECT_EQ(c.user, "987654321");
}

/*---- Round trips with generated keys ----*/

TEST_F(VerifierTest, HmacRoundTrips) {
  for (Algorithm alg : {Algorithm::kHs256, Algorithm::kHs384, Algorithm::kHs512}) {
    std::string secret = RandomSecret(64);
    auto v = Make({.hmac_secret = secret});
    std::string token = Sign(alg, secret, R"({"sub":"42","exp":1700000060})");
    ConnectionClaims c;
    ASSERT_EQ(Connect(*v, token, kNow, &c), TokenStatus::kOk) << AlgorithmName(alg);
    EXPECT_EQ(c.user, "42");
    EXPECT_EQ(c.exp, 1700000060);
    EXPECT_EQ(Connect(*v, token, 1700000060), TokenStatus::kExpired);
    EXPECT_EQ(Connect(*Make({.hmac_secret = secret + "x"}), token), TokenStatus::kInvalid);
  }
}

TEST_F(VerifierTest, RsaRoundTrips) {
  auto v = Make({.rsa_public_pem = Rsa().public_pem});
  for (Algorithm alg : {Algorithm::kRs256, Algorithm::kRs384, Algorithm::kRs512}) {
    std::string token = Sign(alg, Rsa().private_pem, R"({"sub":"r"})");
    ConnectionClaims c;
    ASSERT_EQ(Connect(*v, token, kNow, &c), TokenStatus::kOk) << AlgorithmName(alg);
    EXPECT_EQ(c.user, "r");
  }
  KeyPair other = testing::GenerateRsa(2048);
  EXPECT_EQ(Connect(*v, Sign(Algorithm::kRs256, other.private_pem, "{}")), TokenStatus::kInvalid);
}

TEST_F(VerifierTest, EcdsaRoundTripsAndCurveBinding) {
  struct Case {
    const KeyPair* key;
    Algorithm alg;
  };
  for (Case c : {Case{&P256(), Algorithm::kEs256}, Case{&P384(), Algorithm::kEs384},
                 Case{&P521(), Algorithm::kEs512}}) {
    auto v = Make({.ecdsa_public_pem = c.key->public_pem});
    // ECDSA signatures are randomized: several tokens, all valid.
    for (int i = 0; i < 5; ++i) {
      std::string token = Sign(c.alg, c.key->private_pem, R"({"sub":"e"})");
      ASSERT_EQ(Connect(*v, token), TokenStatus::kOk) << AlgorithmName(c.alg);
      EXPECT_EQ(Connect(*v, FlipSignatureBit(token, i * 67)), TokenStatus::kInvalid);
    }
  }
  // A P-256 key signing with SHA-384 under "ES384" (RFC 7518 §3.4 forbids the mix): refused.
  auto v256 = Make({.ecdsa_public_pem = P256().public_pem});
  std::string es256 = Sign(Algorithm::kEs256, P256().private_pem, "{}");
  std::string relabeled =
      Base64UrlEncode(R"({"alg":"ES384","typ":"JWT"})") + es256.substr(es256.find('.'));
  EXPECT_EQ(Connect(*v256, relabeled), TokenStatus::kInvalid);
  // Signature of the wrong size for the curve.
  std::string p384_token = Sign(Algorithm::kEs384, P384().private_pem, "{}");
  std::string mixed = es256.substr(0, es256.rfind('.')) + p384_token.substr(p384_token.rfind('.'));
  EXPECT_EQ(Connect(*v256, mixed), TokenStatus::kInvalid);
}

TEST_F(VerifierTest, AllThreeFamiliesConfiguredAtOnce) {
  auto v = Make({.hmac_secret = "s3cret",
                 .rsa_public_pem = Rsa().public_pem,
                 .ecdsa_public_pem = P256().public_pem});
  EXPECT_TRUE(v->has_keys());
  EXPECT_EQ(Connect(*v, SignHs256("s3cret", "{}")), TokenStatus::kOk);
  EXPECT_EQ(Connect(*v, Sign(Algorithm::kRs512, Rsa().private_pem, "{}")), TokenStatus::kOk);
  EXPECT_EQ(Connect(*v, Sign(Algorithm::kEs256, P256().private_pem, "{}")), TokenStatus::kOk);
  EXPECT_EQ(Connect(*v, Sign(Algorithm::kEs384, P384().private_pem, "{}")), TokenStatus::kInvalid);
}

/*---- Key loading ----*/

TEST_F(VerifierTest, AcceptedPemForms) {
  // PKCS#1 "RSA PUBLIC KEY" and certificates, as Centrifugo's jwtutils accepts.
  std::string pkcs1 = testing::RsaPkcs1PublicPem(Rsa());
  ASSERT_NE(pkcs1.find("BEGIN RSA PUBLIC KEY"), std::string::npos);
  std::string token = Sign(Algorithm::kRs256, Rsa().private_pem, "{}");
  EXPECT_EQ(Connect(*Make({.rsa_public_pem = pkcs1}), token), TokenStatus::kOk);
  std::string cert = testing::SelfSignedCertificatePem(Rsa());
  ASSERT_NE(cert.find("BEGIN CERTIFICATE"), std::string::npos);
  EXPECT_EQ(Connect(*Make({.rsa_public_pem = cert}), token), TokenStatus::kOk);
  std::string ec_cert = testing::SelfSignedCertificatePem(P256());
  EXPECT_EQ(Connect(*Make({.ecdsa_public_pem = ec_cert}),
                    Sign(Algorithm::kEs256, P256().private_pem, "{}")),
            TokenStatus::kOk);
  // Surrounding whitespace (config files, env vars) is harmless.
  EXPECT_EQ(Connect(*Make({.rsa_public_pem = "\n  " + Rsa().public_pem + "\n\n"}), token),
            TokenStatus::kOk);
}

TEST_F(VerifierTest, RejectedKeys) {
  EXPECT_NE(
      CreateError({.rsa_public_pem = "garbage"}).find("token_rsa_public_key: not a PEM public key"),
      std::string::npos);
  EXPECT_NE(CreateError({.ecdsa_public_pem =
                             "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"})
                .find("token_ecdsa_public_key: not a PEM public key"),
            std::string::npos);
  // A private key is not what the server should hold; refuse rather than silently derive.
  EXPECT_NE(CreateError({.rsa_public_pem = Rsa().private_pem}).find("not a PEM public key"),
            std::string::npos);
  EXPECT_NE(CreateError({.rsa_public_pem = P256().public_pem}).find("not an RSA key (found EC)"),
            std::string::npos);
  EXPECT_NE(CreateError({.ecdsa_public_pem = Rsa().public_pem}).find("not an EC key (found RSA)"),
            std::string::npos);
  EXPECT_NE(CreateError({.ecdsa_public_pem = testing::GenerateEd25519().public_pem})
                .find("not an EC key"),
            std::string::npos);
  EXPECT_NE(CreateError({.ecdsa_public_pem = testing::GenerateEc("secp256k1").public_pem})
                .find("curve secp256k1 is not one of"),
            std::string::npos);
  EXPECT_NE(CreateError({.rsa_public_pem = testing::GenerateRsa(512).public_pem})
                .find("512 bits is too small"),
            std::string::npos);
  // An error in the second key is still reported even if the first is fine.
  EXPECT_NE(CreateError({.hmac_secret = "x", .rsa_public_pem = "x"}).find("token_rsa_public_key"),
            std::string::npos);
}

TEST_F(VerifierTest, NoKeysRejectsEverything) {
  auto v = Make({});
  EXPECT_FALSE(v->has_keys());
  EXPECT_EQ(Connect(*v, SignHs256("", "{}")), TokenStatus::kInvalid);
  EXPECT_EQ(Connect(*v, SignHs256("x", "{}")), TokenStatus::kInvalid);
  EXPECT_TRUE(Make({.hmac_secret = "x"})->has_keys());
  EXPECT_TRUE(Make({.rsa_public_pem = Rsa().public_pem})->has_keys());
}

/*---- Hostile tokens ----*/

TEST_F(VerifierTest, AlgNoneIsNeverAccepted) {
  auto v = Make({.hmac_secret = "secret", .rsa_public_pem = Rsa().public_pem});
  std::string payload = Base64UrlEncode(R"({"sub":"admin"})");
  for (const char* header : {R"({"alg":"none"})", R"({"alg":"none","typ":"JWT"})",
                             R"({"alg":"None"})", R"({"alg":"NONE"})", R"({"alg":"nOnE"})",
                             R"({"typ":"JWT"})", R"({"alg":""})", R"({"alg":null})"}) {
    std::string unsigned_token = Base64UrlEncode(header) + "." + payload;
    EXPECT_EQ(Connect(*v, unsigned_token + "."), TokenStatus::kInvalid) << header;  // RFC 7519 §6
    EXPECT_EQ(Connect(*v, unsigned_token), TokenStatus::kInvalid) << header;
    // With a signature segment, even a valid HS256 MAC of the same input.
    std::string hs = SignWithHeader(Algorithm::kHs256, "secret", header, R"({"sub":"admin"})");
    EXPECT_EQ(Connect(*v, hs), TokenStatus::kInvalid) << header;
    EXPECT_EQ(Connect(*v, unsigned_token + ".c2lnbmF0dXJl"), TokenStatus::kInvalid) << header;
  }
}

// The classic confusion: a token "HS256"-signed with the RSA public key text as HMAC secret.
TEST_F(VerifierTest, HmacWithPublicKeyAsSecretIsRejected) {
  std::string forged = SignHs256(Rsa().public_pem, R"({"sub":"admin"})");
  std::string forged_ec = SignHs256(P256().public_pem, R"({"sub":"admin"})");
  // Only RSA configured: HS256 has no key at all.
  auto rsa_only = Make({.rsa_public_pem = Rsa().public_pem});
  EXPECT_EQ(Connect(*rsa_only, forged), TokenStatus::kInvalid);
  auto ec_only = Make({.ecdsa_public_pem = P256().public_pem});
  EXPECT_EQ(Connect(*ec_only, forged_ec), TokenStatus::kInvalid);
  // Both configured: the HMAC secret is the secret, never the PEM.
  auto both = Make({.hmac_secret = "the-real-secret",
                    .rsa_public_pem = Rsa().public_pem,
                    .ecdsa_public_pem = P256().public_pem});
  EXPECT_EQ(Connect(*both, forged), TokenStatus::kInvalid);
  EXPECT_EQ(Connect(*both, forged_ec), TokenStatus::kInvalid);
  for (Algorithm alg : {Algorithm::kHs384, Algorithm::kHs512}) {
    EXPECT_EQ(Connect(*both, Sign(alg, Rsa().public_pem, "{}")), TokenStatus::kInvalid);
  }
  EXPECT_EQ(Connect(*both, SignHs256("the-real-secret", "{}")), TokenStatus::kOk);
  // And the other way: an RS256 header over an HMAC signature.
  std::string hs = SignHs256("the-real-secret", "{}");
  std::string relabeled = Base64UrlEncode(R"({"alg":"RS256"})") + hs.substr(hs.find('.'));
  EXPECT_EQ(Connect(*both, relabeled), TokenStatus::kInvalid);
}

TEST_F(VerifierTest, EveryFlippedSignatureBitIsRejected) {
  auto v = Make({.hmac_secret = "k"});
  std::string token = SignHs256("k", R"({"sub":"u"})");
  ASSERT_EQ(Connect(*v, token), TokenStatus::kOk);
  for (size_t bit = 0; bit < 256; ++bit) {
    EXPECT_EQ(Connect(*v, FlipSignatureBit(token, bit)), TokenStatus::kInvalid) << bit;
  }
  auto rv = Make({.rsa_public_pem = Rsa().public_pem});
  std::string rs = Sign(Algorithm::kRs256, Rsa().private_pem, "{}");
  for (size_t bit : {0, 1, 7, 100, 1000, 2047}) {
    EXPECT_EQ(Connect(*rv, FlipSignatureBit(rs, bit)), TokenStatus::kInvalid) << bit;
  }
}

TEST_F(VerifierTest, TamperedHeaderOrPayloadIsRejected) {
  auto v = Make({.hmac_secret = "k"});
  std::string token = SignHs256("k", R"({"sub":"user","exp":1700000060})");
  size_t dot1 = token.find('.');
  size_t dot2 = token.rfind('.');
  std::string forged_payload = Base64UrlEncode(R"({"sub":"admin","exp":1700000060})");
  EXPECT_EQ(Connect(*v, token.substr(0, dot1 + 1) + forged_payload + token.substr(dot2)),
            TokenStatus::kInvalid);
  // Each character of the header and payload, changed.
  for (size_t i = 0; i < dot2; ++i) {
    if (token[i] == '.') continue;
    std::string t = token;
    t[i] = t[i] == 'A' ? 'B' : 'A';
    EXPECT_EQ(Connect(*v, t), TokenStatus::kInvalid) << i;
  }
  // Expired AND forged: forged wins (nothing is trusted before the signature).
  std::string expired = SignHs256("other", R"({"exp":1})");
  EXPECT_EQ(Connect(*v, expired), TokenStatus::kInvalid);
}

TEST_F(VerifierTest, TruncatedAndMalformedTokens) {
  auto v = Make({.hmac_secret = "k"});
  std::string token = SignHs256("k", R"({"sub":"u"})");
  ASSERT_EQ(Connect(*v, token), TokenStatus::kOk);
  for (size_t len = 0; len < token.size(); ++len) {
    EXPECT_EQ(Connect(*v, token.substr(0, len)), TokenStatus::kInvalid) << len;
    EXPECT_EQ(Connect(*v, token.substr(token.size() - len)), TokenStatus::kInvalid) << len;
  }
  size_t dot1 = token.find('.');
  size_t dot2 = token.rfind('.');
  std::string header = token.substr(0, dot1);
  std::string payload = token.substr(dot1 + 1, dot2 - dot1 - 1);
  std::string sig = token.substr(dot2 + 1);
  for (const std::string& t : {
           header + "." + payload,                            // two segments
           header + ".." + sig,                               // empty payload
           "." + payload + "." + sig,                         // empty header
           token + ".",                                       // four segments
           token + "." + sig,                                 //
           token + "=",                                       // padding
           " " + token, token + " ", token + "\n",            // whitespace
           header + "." + payload + "." + sig + sig,          // long signature
           header + "." + payload + "=." + sig,               //
           header + "." + payload + ".AAAA" + sig.substr(4),  // right length, wrong bytes
       }) {
    EXPECT_EQ(Connect(*v, t), TokenStatus::kInvalid) << t;
  }
  // Standard alphabet in place of url alphabet: a different text for the same signature.
  std::string std_sig = Base64Encode(Base64Decode(sig).value());
  while (!std_sig.empty() && std_sig.back() == '=') std_sig.pop_back();
  if (std_sig != sig) {
    EXPECT_EQ(Connect(*v, header + "." + payload + "." + std_sig), TokenStatus::kInvalid);
  }
  EXPECT_EQ(Connect(*v, std::string(Verifier::kMaxTokenSize + 1, 'A')), TokenStatus::kInvalid);
  EXPECT_EQ(Connect(*v, ""), TokenStatus::kInvalid);
}

TEST_F(VerifierTest, HeaderRules) {
  auto v = Make({.hmac_secret = "k"});
  auto with_header = [](std::string_view header) {
    return SignWithHeader(Algorithm::kHs256, "k", header, R"({"sub":"u"})");
  };
  EXPECT_EQ(Connect(*v, with_header(R"({"alg":"HS256"})")), TokenStatus::kOk);
  EXPECT_EQ(Connect(*v, with_header(R"({"typ":"JWT","kid":"k1","alg":"HS256","x":[1]})")),
            TokenStatus::kOk);
  EXPECT_EQ(Connect(*v, with_header(R"({ "alg" : "HS256" })")), TokenStatus::kOk);
  for (const char* header :
       {R"({"alg":"HS256","crit":["exp"]})",  // RFC 7515 §4.1.11
        R"({"alg":"HS256","alg":"HS256"})",   // ambiguous
        R"({"alg":"HS384"})",                 // lies about the MAC that was computed
        R"({"alg":["HS256"]})", R"({"alg":256})", R"(["HS256"])", R"("HS256")", R"({"alg":"HS256")",
        R"({"alg":"HS256"} )"
        "x",
        "", "null"}) {
    EXPECT_EQ(Connect(*v, with_header(header)), TokenStatus::kInvalid) << header;
  }
  // The pre-encoded common headers (fast path) and the JSON path must agree, for every HS alg.
  for (Algorithm alg : {Algorithm::kHs256, Algorithm::kHs384, Algorithm::kHs512}) {
    std::string name(AlgorithmName(alg));
    for (const std::string& header :
         {"{\"alg\":\"" + name + "\",\"typ\":\"JWT\"}",
          "{\"typ\":\"JWT\",\"alg\":\"" + name + "\"}", "{\"alg\":\"" + name + "\"}",
          "{\"alg\":\"" + name + "\",\"typ\":\"JWT\"} ",
          "{\"alg\":\"" + name + "\",\"crit\":[]}"}) {
      std::string token = SignWithHeader(alg, "k", header, "{}");
      TokenStatus expected =
          header.find("crit") == std::string::npos ? TokenStatus::kOk : TokenStatus::kInvalid;
      EXPECT_EQ(Connect(*v, token), expected) << header;
    }
  }
  std::string big_header = R"({"alg":"HS256","pad":")" + std::string(4000, 'x') + "\"}";
  EXPECT_EQ(Connect(*v, with_header(big_header)), TokenStatus::kInvalid);
}

TEST_F(VerifierTest, NonObjectPayload) {
  auto v = Make({.hmac_secret = "k"});
  for (const char* payload : {"[]", "[{\"sub\":\"u\"}]", "123", "\"str\"", "null", "true",
                              "not json", "{\"sub\":\"u\"", "{\"sub\":\"u\"}}", " "}) {
    EXPECT_EQ(Connect(*v, SignHs256("k", payload)), TokenStatus::kInvalid) << payload;
    EXPECT_EQ(Subscribe(*v, SignHs256("k", payload)), TokenStatus::kInvalid) << payload;
  }
}

/*---- Claims through the whole pipeline ----*/

TEST_F(VerifierTest, ExpAndNbf) {
  auto v = Make({.hmac_secret = "k"});
  EXPECT_EQ(Connect(*v, SignHs256("k", R"({"exp":1699999999})")), TokenStatus::kExpired);
  EXPECT_EQ(Connect(*v, SignHs256("k", R"({"exp":1700000000})")), TokenStatus::kExpired);
  EXPECT_EQ(Connect(*v, SignHs256("k", R"({"exp":1700000001})")), TokenStatus::kOk);
  EXPECT_EQ(Connect(*v, SignHs256("k", R"({"nbf":1700000001})")), TokenStatus::kExpired);
  EXPECT_EQ(Connect(*v, SignHs256("k", R"({"nbf":1700000000})")), TokenStatus::kOk);
  EXPECT_EQ(Connect(*v, SignHs256("k", R"({"iat":1800000000})")), TokenStatus::kOk);  // ignored
  EXPECT_EQ(Subscribe(*v, SignHs256("k", R"({"channel":"c","exp":5})")), TokenStatus::kExpired);
  EXPECT_EQ(Subscribe(*v, SignHs256("k", R"({"channel":"c","nbf":1800000000})")),
            TokenStatus::kExpired);
}

TEST_F(VerifierTest, Audience) {
  auto v = Make({.hmac_secret = "k", .audience = "instant"});
  EXPECT_EQ(Connect(*v, SignHs256("k", R"({"aud":"instant"})")), TokenStatus::kOk);
  EXPECT_EQ(Connect(*v, SignHs256("k", R"({"aud":["other","instant"]})")), TokenStatus::kOk);
  EXPECT_EQ(Connect(*v, SignHs256("k", R"({"aud":"other"})")), TokenStatus::kInvalid);
  EXPECT_EQ(Connect(*v, SignHs256("k", R"({"aud":["other"]})")), TokenStatus::kInvalid);
  EXPECT_EQ(Connect(*v, SignHs256("k", R"({"aud":[]})")), TokenStatus::kInvalid);
  EXPECT_EQ(Connect(*v, SignHs256("k", R"({"aud":"Instant"})")), TokenStatus::kInvalid);
  EXPECT_EQ(Connect(*v, SignHs256("k", R"({"aud":"instant "})")), TokenStatus::kInvalid);
  EXPECT_EQ(Connect(*v, SignHs256("k", R"({})")), TokenStatus::kInvalid);  // missing
  EXPECT_EQ(Connect(*v, SignHs256("k", R"({"aud":null})")), TokenStatus::kInvalid);
  EXPECT_EQ(Subscribe(*v, SignHs256("k", R"({"channel":"c","aud":"x"})")), TokenStatus::kInvalid);
  EXPECT_EQ(Subscribe(*v, SignHs256("k", R"({"channel":"c","aud":"instant"})")), TokenStatus::kOk);
  // Not configured: aud is not checked (Centrifugo behaviour).
  auto open = Make({.hmac_secret = "k"});
  EXPECT_EQ(Connect(*open, SignHs256("k", R"({"aud":"anything"})")), TokenStatus::kOk);
}

TEST_F(VerifierTest, Issuer) {
  auto v = Make({.hmac_secret = "k", .issuer = "https://app.example"});
  EXPECT_EQ(Connect(*v, SignHs256("k", R"({"iss":"https://app.example"})")), TokenStatus::kOk);
  EXPECT_EQ(Connect(*v, SignHs256("k", R"({"iss":"https://app.example/"})")),
            TokenStatus::kInvalid);
  EXPECT_EQ(Connect(*v, SignHs256("k", R"({"iss":"evil"})")), TokenStatus::kInvalid);
  EXPECT_EQ(Connect(*v, SignHs256("k", R"({})")), TokenStatus::kInvalid);
  EXPECT_EQ(Connect(*v, SignHs256("k", R"({"iss":["https://app.example"]})")),
            TokenStatus::kInvalid);
}

TEST_F(VerifierTest, SubMustBeAString) {
  auto v = Make({.hmac_secret = "k"});
  ConnectionClaims c;
  EXPECT_EQ(Connect(*v, SignHs256("k", R"({"sub":42})")), TokenStatus::kInvalid);
  EXPECT_EQ(Connect(*v, SignHs256("k", R"({"sub":{"id":"42"}})")), TokenStatus::kInvalid);
  EXPECT_EQ(Connect(*v, SignHs256("k", R"({"sub":true})")), TokenStatus::kInvalid);
  ASSERT_EQ(Connect(*v, SignHs256("k", R"({"sub":""})"), kNow, &c), TokenStatus::kOk);
  EXPECT_EQ(c.user, "");  // anonymous
  ASSERT_EQ(Connect(*v, SignHs256("k", R"({"sub":"\u00e9\n"})"), kNow, &c), TokenStatus::kOk);
  EXPECT_EQ(c.user, "\xc3\xa9\n");  // unescaped
  EXPECT_EQ(Subscribe(*v, SignHs256("k", R"({"sub":1,"channel":"c"})")), TokenStatus::kInvalid);
}

TEST_F(VerifierTest, ChannelClaimInConnectionToken) {
  auto v = Make({.hmac_secret = "k"});
  std::string sub_token = SignHs256("k", R"({"sub":"u","channel":"news"})");
  EXPECT_EQ(Connect(*v, sub_token), TokenStatus::kInvalid);  // spec §4.3
  EXPECT_EQ(Subscribe(*v, sub_token), TokenStatus::kOk);
  std::string conn_token = SignHs256("k", R"({"sub":"u"})");
  EXPECT_EQ(Subscribe(*v, conn_token), TokenStatus::kInvalid);
  EXPECT_EQ(Connect(*v, conn_token), TokenStatus::kOk);
}

TEST_F(VerifierTest, ConnectionClaimsEndToEnd) {
  auto v = Make({.hmac_secret = "k"});
  std::string claims =
      "{\"sub\":\"2694\",\"exp\":1700003600,\"expire_at\":1700007200,"
      "\"info\":  {\"name\": \"Alexander\",\n  \"first\" :true}  ,"
      "\"channels\":[\"news\",\"$user:2694\"],\"meta\":{\"plan\":\"pro\"},"
      "\"iat\":1699999999,\"jti\":\"x\",\"subs\":{\"news\":{\"data\":{}}}}";
  ConnectionClaims c;
  ASSERT_EQ(Connect(*v, SignHs256("k", claims), kNow, &c), TokenStatus::kOk);
  EXPECT_EQ(c.user, "2694");
  EXPECT_EQ(c.exp, 1700003600);
  EXPECT_EQ(c.expire_at, 1700007200);
  EXPECT_EQ(c.info, "{\"name\": \"Alexander\",\n  \"first\" :true}");  // byte-exact
  EXPECT_EQ(c.channels, (std::vector<std::string>{"news", "$user:2694"}));
  EXPECT_EQ(c.meta, "{\"plan\":\"pro\"}");
  EXPECT_EQ(c.subs, "{\"news\":{\"data\":{}}}");

  std::string b64 = "{\"sub\":\"1\",\"b64info\":\"" + Base64Encode("{\"x\" : 1}") + "\"}";
  ASSERT_EQ(Connect(*v, SignHs256("k", b64), kNow, &c), TokenStatus::kOk);
  EXPECT_EQ(c.info, "{\"x\" : 1}");
  EXPECT_EQ(c.channels.size(), 0u);  // *out fully overwritten
  EXPECT_EQ(c.meta, "");
}

TEST_F(VerifierTest, SubscriptionClaimsEndToEnd) {
  auto v = Make({.hmac_secret = "k", .rsa_public_pem = Rsa().public_pem});
  std::string claims =
      "{\"sub\":\"2694\",\"channel\":\"$gossips\",\"client\":\"b2c6-...\",\"exp\":1700000600,"
      "\"info\":{\"role\" : \"mod\"},\"b64data\":\"" +
      Base64Encode("{\"welcome\":true}") + "\",\"override\":{\"join_leave\":{\"value\":false}}}";
  SubscriptionClaims s;
  ASSERT_EQ(Subscribe(*v, Sign(Algorithm::kRs256, Rsa().private_pem, claims), kNow, &s),
            TokenStatus::kOk);
  EXPECT_EQ(s.user, "2694");
  EXPECT_EQ(s.channel, "$gossips");
  EXPECT_EQ(s.client, "b2c6-...");
  EXPECT_EQ(s.exp, 1700000600);
  EXPECT_FALSE(s.expire_at.has_value());
  EXPECT_EQ(s.info, "{\"role\" : \"mod\"}");
  EXPECT_EQ(s.data, "{\"welcome\":true}");
  EXPECT_EQ(s.overrides, "{\"join_leave\":{\"value\":false}}");
  EXPECT_EQ(Subscribe(*v, SignHs256("k", R"({"sub":"u","channel":""})")), TokenStatus::kInvalid);
  EXPECT_EQ(Subscribe(*v, SignHs256("k", R"({"sub":"u","channel":7})")), TokenStatus::kInvalid);
}

TEST_F(VerifierTest, OutputUntouchedUnlessOk) {
  auto v = Make({.hmac_secret = "k"});
  ConnectionClaims c;
  c.user = "before";
  EXPECT_EQ(Connect(*v, SignHs256("k", R"({"sub":"x","exp":1})"), kNow, &c), TokenStatus::kExpired);
  EXPECT_EQ(Connect(*v, SignHs256("bad", R"({"sub":"x"})"), kNow, &c), TokenStatus::kInvalid);
  EXPECT_EQ(c.user, "before");
}

TEST_F(VerifierTest, ConcurrentVerification) {
  auto v = Make({.hmac_secret = "k",
                 .rsa_public_pem = Rsa().public_pem,
                 .ecdsa_public_pem = P256().public_pem});
  std::vector<std::string> good = {
      SignHs256("k", R"({"sub":"h","info":{"a":1}})"),
      Sign(Algorithm::kRs256, Rsa().private_pem, R"({"sub":"r"})"),
      Sign(Algorithm::kEs256, P256().private_pem, R"({"sub":"e"})"),
  };
  std::string bad = SignHs256("nope", R"({"sub":"x"})");
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 300; ++i) {
        const std::string& token = good[(i + t) % good.size()];
        ConnectionClaims c;
        if (Connect(*v, token, kNow, &c) != TokenStatus::kOk || c.user.size() != 1) ++failures;
        if (Connect(*v, bad) != TokenStatus::kInvalid) ++failures;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
}

/*---- Micro-measure (reported, not asserted) ----*/

// Thread CPU time, not wall time: on a shared, oversubscribed build machine wall time mostly
// measures the scheduler.
int64_t ThreadCpuNs() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

TEST_F(VerifierTest, MicroMeasure) {
  constexpr std::string_view kSecret = "a-typical-32-byte-secret-value!!";
  auto v = Make({.hmac_secret = std::string(kSecret),
                 .rsa_public_pem = Rsa().public_pem,
                 .ecdsa_public_pem = P256().public_pem});
  // A typical connection token: ~120 bytes of claims, ~240 bytes of token.
  std::string claims =
      R"({"sub":"2694","exp":1700003600,"iat":1699999999,"info":{"name":"Alexander","id":2694},)"
      R"("channels":["news","$user:2694"]})";
  std::string hs = SignHs256(kSecret, claims);
  auto measure = [&](const std::string& token, int runs) {
    ConnectionClaims c;
    int ok = 0;
    int64_t start = ThreadCpuNs();
    for (int i = 0; i < runs; ++i) ok += Connect(*v, token, kNow, &c) == TokenStatus::kOk;
    int64_t ns = ThreadCpuNs() - start;
    EXPECT_EQ(ok, runs);
    return static_cast<double>(ns) / runs;
  };
  measure(hs, 1000);  // warm up
  double hs_ns = measure(hs, 100000);
  double rs_ns = measure(Sign(Algorithm::kRs256, Rsa().private_pem, claims), 2000);
  double es_ns = measure(Sign(Algorithm::kEs256, P256().private_pem, claims), 2000);
  std::printf(
      "[ measure  ] %zu-byte token, thread CPU time per verification: HS256 %.0f ns (100k runs), "
      "RS256-2048 %.0f ns, ES256 %.0f ns\n",
      hs.size(), hs_ns, rs_ns, es_ns);
}

}  // namespace
}  // namespace instant::auth
