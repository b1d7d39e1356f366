#pragma once
// Test-only key material: fresh key pairs generated with OpenSSL, and PEM public keys built
// from RFC 7515 Appendix A JWK parameters. Not part of instant_auth.

#include <string>
#include <string_view>

namespace instant::auth::testing {

struct KeyPair {
  std::string private_pem;  // PKCS#8 "PRIVATE KEY"
  std::string public_pem;   // SPKI "PUBLIC KEY"
};

KeyPair GenerateRsa(int bits);
// curve: "P-256", "P-384", "P-521", "secp256k1", ...
KeyPair GenerateEc(const char* curve);
KeyPair GenerateEd25519();

// Public keys from JWK members (base64url big-endian integers / coordinates).
std::string RsaPublicPemFromJwk(std::string_view n, std::string_view e);
std::string EcPublicPemFromJwk(const char* curve, std::string_view x, std::string_view y);

// The same public key re-encoded as PKCS#1 "RSA PUBLIC KEY" and as a self-signed certificate.
std::string RsaPkcs1PublicPem(const KeyPair& rsa);
std::string SelfSignedCertificatePem(const KeyPair& pair);

}  // namespace instant::auth::testing
