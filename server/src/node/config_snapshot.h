#pragma once
// ConfigSnapshot: everything the loops read from one loaded configuration, built once and never
// changed afterwards — the Config itself (channel regexes compiled), the token verifier built
// from its keys and the origin policy built from allowed_origins. Loops share it through
// shared_ptr<const ConfigSnapshot>; a SIGHUP reload builds a new one on the main thread and hands
// it to every loop, and each loop drops the old one when its own swap task runs
// (docs/architecture/threading.md "Config reload").

#include <memory>
#include <string>

#include "auth/verifier.h"
#include "config/config.h"
#include "ws/handshake.h"

namespace instant::node {

struct ConfigSnapshot {
  explicit ConfigSnapshot(config::Config c);

  config::Config config;
  std::unique_ptr<auth::Verifier> verifier;  // nullptr when no token key is configured
  ws::OriginPolicy origins;
};

// Builds the snapshot of a validated config: compiles its channel regexes and loads its token
// keys. nullptr with *error ("token_rsa_public_key: ...") when a key does not load.
std::shared_ptr<const ConfigSnapshot> BuildConfigSnapshot(config::Config config, std::string* error);

}  // namespace instant::node
