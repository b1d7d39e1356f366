#include "node/config_snapshot.h"

#include "config/channel_regex.h"

namespace instant::node {

ConfigSnapshot::ConfigSnapshot(config::Config c) : config(std::move(c)), origins(config.allowed_origins) {}

std::shared_ptr<const ConfigSnapshot> BuildConfigSnapshot(config::Config config, std::string* error) {
  config::CompileChannelRegexes(config);  // validated: they compile
  auto snapshot = std::make_shared<ConfigSnapshot>(std::move(config));
  const config::Config& c = snapshot->config;
  auth::VerifierConfig vc;
  vc.hmac_secret = c.token_hmac_secret_key;
  vc.rsa_public_pem = c.token_rsa_public_key;
  vc.ecdsa_public_pem = c.token_ecdsa_public_key;
  vc.audience = c.token_audience;
  vc.issuer = c.token_issuer;
  if (!vc.hmac_secret.empty() || !vc.rsa_public_pem.empty() || !vc.ecdsa_public_pem.empty()) {
    snapshot->verifier = auth::Verifier::Create(vc, error);
    if (!snapshot->verifier) return nullptr;
  }
  return snapshot;
}

}  // namespace instant::node
