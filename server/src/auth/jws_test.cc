#include "auth/jws.h"

#include <string>

#include <gtest/gtest.h>

#include "auth/key_set.h"
#include "auth/test_keys.h"
#include "base/base64.h"

namespace instant::auth {
namespace {

TEST(Jws, ParsesExactlyTheNineAlgorithms) {
  for (const char* name :
       {"HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "ES256", "ES384", "ES512"}) {
    std::optional<Algorithm> alg = ParseAlgorithm(name);
    ASSERT_TRUE(alg.has_value()) << name;
    EXPECT_EQ(AlgorithmName(*alg), name);
  }
  // RFC 7515 §4.1.1: case-sensitive. "none" must never parse.
  for (const char* name :
       {"none", "None", "NONE", "hs256", "PS256", "EdDSA", "ES256K", "", "HS256 "}) {
    EXPECT_FALSE(ParseAlgorithm(name).has_value()) << name;
  }
  EXPECT_EQ(EcdsaCoordinateSize(Algorithm::kEs512), 66u);
  EXPECT_EQ(EcdsaCoordinateSize(Algorithm::kHs256), 0u);
  EXPECT_STREQ(DigestName(Algorithm::kRs384), "SHA384");
}

TEST(Jws, SplitCompactAcceptsThreeBase64UrlSegments) {
  std::optional<CompactParts> parts = SplitCompact("aGVhZA.cGF5bG9hZA.c2ln-_");
  ASSERT_TRUE(parts.has_value());
  EXPECT_EQ(parts->header, "aGVhZA");
  EXPECT_EQ(parts->payload, "cGF5bG9hZA");
  EXPECT_EQ(parts->signature, "c2ln-_");
  EXPECT_EQ(parts->signing_input, "aGVhZA.cGF5bG9hZA");
}

TEST(Jws, SplitCompactRejectsEverythingElse) {
  for (const char* token :
       {"", ".", "..", "a.b", "a.b.", ".b.c", "a..c", "a.b.c.d", "a.b.c.d.e",  // JWE shape
        "a.b.c=", "a.b=.c", "a+.b.c", "a.b/.c", "a .b.c", "a.b.c\n", " a.b.c", "a.b.c ", "a.b.\xff",
        "a.b\0.c"}) {
    EXPECT_FALSE(SplitCompact(token).has_value()) << token;
  }
  EXPECT_FALSE(SplitCompact(std::string_view("a.b\0c.d", 7)).has_value());
}

TEST(Jws, DecodeSegmentIsStrictBase64Url) {
  EXPECT_EQ(DecodeSegment("-__-").value(), std::string("\xfb\xff\xfe", 3));
  EXPECT_FALSE(DecodeSegment("+//+").has_value());  // standard alphabet
  EXPECT_FALSE(DecodeSegment("Zg==").has_value());  // padding
  EXPECT_FALSE(DecodeSegment("Zh").has_value());    // non-canonical trailing bits
  EXPECT_EQ(DecodeSegment("Zg").value(), "f");
}

TEST(Jws, EcdsaJoseDerRoundTrip) {
  // r with a leading zero byte and s with the top bit set exercise DER's minimal-length and
  // sign-byte rules; the JOSE form must come back byte for byte.
  std::string jose(64, '\0');
  for (int i = 1; i < 32; ++i) jose[i] = static_cast<char>(i);
  for (int i = 32; i < 64; ++i) jose[i] = static_cast<char>(0x80 + i);
  std::optional<std::string> der = EcdsaJoseToDer(jose, 32);
  ASSERT_TRUE(der.has_value());
  EXPECT_EQ(static_cast<uint8_t>((*der)[0]), 0x30);  // SEQUENCE
  EXPECT_EQ(EcdsaDerToJose(*der, 32).value(), jose);
  EXPECT_FALSE(EcdsaJoseToDer(jose, 48).has_value());
  EXPECT_FALSE(EcdsaJoseToDer(jose.substr(1), 32).has_value());
  EXPECT_FALSE(EcdsaJoseToDer("", 32).has_value());
  EXPECT_FALSE(EcdsaJoseToDer(jose, 0).has_value());
  EXPECT_FALSE(EcdsaDerToJose("garbage", 32).has_value());
  EXPECT_FALSE(EcdsaDerToJose(*der, 16).has_value());  // R does not fit
}

// RFC 7515 Appendix A.3 at the signature layer: ES256 with the JWK's P-256 key.
TEST(KeySet, Rfc7515AppendixA3) {
  std::string pem =
      testing::EcPublicPemFromJwk("P-256", "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
                                  "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0");
  std::string error;
  std::unique_ptr<KeySet> keys = KeySet::Create("", "", pem, &error);
  ASSERT_NE(keys, nullptr) << error;
  EXPECT_TRUE(keys->Supports(Algorithm::kEs256));
  EXPECT_FALSE(keys->Supports(Algorithm::kEs384));  // P-256 key: ES256 only (RFC 7518 §3.4)
  EXPECT_FALSE(keys->Supports(Algorithm::kHs256));
  EXPECT_FALSE(keys->Supports(Algorithm::kRs256));
  std::string input =
      "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFt"
      "cGxlLmNvbS9pc19yb290Ijp0cnVlfQ";
  std::string sig = Base64Decode(
                        "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKT"
                        "UJqPP3-Kg6NU1Q")
                        .value();
  EXPECT_TRUE(keys->Verify(Algorithm::kEs256, input, sig));
  EXPECT_FALSE(keys->Verify(Algorithm::kEs384, input, sig));
  EXPECT_FALSE(keys->Verify(Algorithm::kEs256, input + "x", sig));
  std::string tampered = sig;
  tampered[40] ^= 1;
  EXPECT_FALSE(keys->Verify(Algorithm::kEs256, input, tampered));
  EXPECT_FALSE(keys->Verify(Algorithm::kEs256, input, sig.substr(1)));
  EXPECT_FALSE(keys->Verify(Algorithm::kEs256, input, std::string(64, '\0')));  // r = s = 0
}

TEST(KeySet, EmptyConfigurationHasNoAlgorithm) {
  std::string error;
  std::unique_ptr<KeySet> keys = KeySet::Create("", "", "", &error);
  ASSERT_NE(keys, nullptr);
  EXPECT_TRUE(keys->empty());
  EXPECT_FALSE(keys->Supports(Algorithm::kHs256));
  EXPECT_FALSE(keys->Verify(Algorithm::kHs256, "a.b", std::string(32, 'x')));
}

}  // namespace
}  // namespace instant::auth
