#include "auth/test_keys.h"

#include <memory>
#include <optional>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/encoder.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "base/base64.h"

namespace instant::auth::testing {
namespace {

struct Deleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
  void operator()(BIGNUM* p) const { BN_free(p); }
  void operator()(OSSL_PARAM_BLD* p) const { OSSL_PARAM_BLD_free(p); }
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
  void operator()(OSSL_ENCODER_CTX* p) const { OSSL_ENCODER_CTX_free(p); }
  void operator()(X509* p) const { X509_free(p); }
};
template <typename T>
using Ptr = std::unique_ptr<T, Deleter>;

std::string BioText(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(len));
}

std::string PublicPem(EVP_PKEY* pkey) {
  Ptr<BIO> bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PUBKEY(bio.get(), pkey);
  return BioText(bio.get());
}

KeyPair Export(EVP_PKEY* pkey) {
  KeyPair pair;
  Ptr<BIO> bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), pkey, nullptr, nullptr, 0, nullptr, nullptr);
  pair.private_pem = BioText(bio.get());
  pair.public_pem = PublicPem(pkey);
  return pair;
}

Ptr<EVP_PKEY> FromData(const char* type, OSSL_PARAM_BLD* bld) {
  Ptr<OSSL_PARAM> params(OSSL_PARAM_BLD_to_param(bld));
  Ptr<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* pkey = nullptr;
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &pkey, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return nullptr;
  }
  return Ptr<EVP_PKEY>(pkey);
}

Ptr<BIGNUM> Bignum(std::string_view b64url) {
  std::string bytes = Base64Decode(b64url).value_or("");
  return Ptr<BIGNUM>(BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()),
                               static_cast<int>(bytes.size()), nullptr));
}

Ptr<EVP_PKEY> ReadPrivate(const std::string& pem) {
  Ptr<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return Ptr<EVP_PKEY>(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
}

}  // namespace

KeyPair GenerateRsa(int bits) {
  Ptr<EVP_PKEY> pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(bits)));
  return Export(pkey.get());
}

KeyPair GenerateEc(const char* curve) {
  Ptr<EVP_PKEY> pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve));
  return Export(pkey.get());
}

KeyPair GenerateEd25519() {
  Ptr<EVP_PKEY> pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  return Export(pkey.get());
}

std::string RsaPublicPemFromJwk(std::string_view n, std::string_view e) {
  Ptr<BIGNUM> bn_n = Bignum(n);
  Ptr<BIGNUM> bn_e = Bignum(e);
  Ptr<OSSL_PARAM_BLD> bld(OSSL_PARAM_BLD_new());
  OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get());
  OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get());
  Ptr<EVP_PKEY> pkey = FromData("RSA", bld.get());
  return pkey ? PublicPem(pkey.get()) : std::string();
}

std::string EcPublicPemFromJwk(const char* curve, std::string_view x, std::string_view y) {
  // SEC 1 §2.3.3 uncompressed point: 0x04 || X || Y.
  // (Built by appends: GCC 12 reports a bogus -Wrestrict for "literal" + std::string&&.)
  std::string point(1, '\x04');
  point += Base64Decode(x).value_or("");
  point += Base64Decode(y).value_or("");
  Ptr<OSSL_PARAM_BLD> bld(OSSL_PARAM_BLD_new());
  OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, curve, 0);
  OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size());
  Ptr<EVP_PKEY> pkey = FromData("EC", bld.get());
  return pkey ? PublicPem(pkey.get()) : std::string();
}

std::string RsaPkcs1PublicPem(const KeyPair& rsa) {
  Ptr<EVP_PKEY> pkey = ReadPrivate(rsa.private_pem);
  Ptr<OSSL_ENCODER_CTX> encoder(OSSL_ENCODER_CTX_new_for_pkey(pkey.get(), EVP_PKEY_PUBLIC_KEY,
                                                              "PEM", "type-specific", nullptr));
  unsigned char* data = nullptr;
  size_t len = 0;
  if (!encoder || OSSL_ENCODER_to_data(encoder.get(), &data, &len) != 1) return std::string();
  std::string pem(reinterpret_cast<char*>(data), len);
  OPENSSL_free(data);
  return pem;
}

std::string SelfSignedCertificatePem(const KeyPair& pair) {
  Ptr<EVP_PKEY> pkey = ReadPrivate(pair.private_pem);
  Ptr<X509> cert(X509_new());
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("instant-test"), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  X509_set_pubkey(cert.get(), pkey.get());
  X509_sign(cert.get(), pkey.get(), EVP_sha256());
  Ptr<BIO> bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), cert.get());
  return BioText(bio.get());
}

}  // namespace instant::auth::testing
