#include "auth/signer.h"

#include <gtest/gtest.h>

#include "auth/test_keys.h"
#include "base/base64.h"

namespace instant::auth {
namespace {

// The well-known jwt.io HS256 example: header {"alg":"HS256","typ":"JWT"}, secret
// "your-256-bit-secret". Our header serialization is byte-identical, so the token is too.
TEST(Signer, Hs256KnownAnswer) {
  EXPECT_EQ(SignHs256("your-256-bit-secret",
                      R"({"sub":"1234567890","name":"John Doe","iat":1516239022})"),
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9l"
            "IiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c");
}

// RFC 7515 Appendix A.1 reproduced through SignWithHeader (its header has CRLF whitespace).
TEST(Signer, Rfc7515AppendixA1) {
  std::string key =
      Base64Decode(
          "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow")
          .value();
  std::string token = SignWithHeader(
      Algorithm::kHs256, key, "{\"typ\":\"JWT\",\r\n \"alg\":\"HS256\"}",
      "{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":true}");
  EXPECT_EQ(token,
            "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAs"
            "DQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1"
            "gFWFOEjXk");
}

TEST(Signer, HeaderNamesTheAlgorithm) {
  std::string token = Sign(Algorithm::kHs512, "k", "{}");
  std::string header = Base64Decode(token.substr(0, token.find('.'))).value();
  EXPECT_EQ(header, R"({"alg":"HS512","typ":"JWT"})");
  // HS512 signature: 64 bytes -> 86 base64url characters.
  EXPECT_EQ(token.size() - token.rfind('.') - 1, 86u);
}

TEST(Signer, RefusesKeysThatDoNotFitTheAlgorithm) {
  testing::KeyPair rsa = testing::GenerateRsa(2048);
  testing::KeyPair p256 = testing::GenerateEc("P-256");
  EXPECT_EQ(Sign(Algorithm::kRs256, "not a pem", "{}"), "");
  EXPECT_EQ(Sign(Algorithm::kRs256, rsa.public_pem, "{}"), "");  // a public key cannot sign
  EXPECT_EQ(Sign(Algorithm::kRs256, p256.private_pem, "{}"), "");
  EXPECT_EQ(Sign(Algorithm::kEs256, rsa.private_pem, "{}"), "");
  EXPECT_EQ(Sign(Algorithm::kEs384, p256.private_pem, "{}"), "");  // curve bound to the alg
  EXPECT_NE(Sign(Algorithm::kRs256, rsa.private_pem, "{}"), "");
  std::string es = Sign(Algorithm::kEs256, p256.private_pem, "{}");
  // JOSE r||s: 64 bytes -> 86 characters, whatever the DER length was.
  EXPECT_EQ(es.size() - es.rfind('.') - 1, 86u);
}

}  // namespace
}  // namespace instant::auth
