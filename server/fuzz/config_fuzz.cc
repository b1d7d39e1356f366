// libFuzzer target for config loading: arbitrary bytes go through LoadString (JSON parse, the
// syntax-error scanner, key coercion, environment overrides, v3 conversion, validation).
//
// Input layout: the bytes before the first NUL are the config file; the bytes after it, split on
// '\n', are environment entries ("CENTRIFUGO_NAMESPACES=[...]"), so env parsing is fuzzed too.
//
// Checked invariants (a violation traps):
//   - a config that loads is valid: Validate() on it succeeds;
//   - reloading a config over the defaults gives a valid config (restart-only keys back at their
//     running values), and reloading a config over itself changes nothing (config/reload.h);
//   - a failed load always explains itself (non-empty error);
//   - the syntax-error scanner agrees with simdjson: it finds an error exactly when simdjson
//     rejects the document (depth aside: simdjson counts nesting differently), so a JSON error is
//     always reported with a line and column.

#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "config/json_error.h"
#include "config/reload.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string_view json = input.substr(0, input.find('\0'));
  std::vector<std::string> env;
  if (json.size() < input.size()) {
    std::string_view rest = input.substr(json.size() + 1);
    while (!rest.empty()) {
      size_t nl = rest.find('\n');
      env.emplace_back(rest.substr(0, nl));
      if (nl == std::string_view::npos) break;
      rest.remove_prefix(nl + 1);
    }
  }

  instant::config::LoadResult r = instant::config::LoadString(json, "fuzz.json", env);
  if (r.ok) {
    std::string error;
    if (!instant::config::Validate(r.config, "fuzz.json", &error)) __builtin_trap();
    instant::config::ReloadPlan same = instant::config::PlanReload(r.config, r.config);
    if (!same.applied.empty() || !same.restart.empty()) __builtin_trap();
    static const instant::config::Config kDefaults;
    instant::config::ReloadPlan over = instant::config::PlanReload(kDefaults, r.config);
    if (!instant::config::Validate(over.config, "fuzz.json", &error)) __builtin_trap();
  } else if (r.error.empty()) {
    __builtin_trap();
  }

  std::string_view doc = json;
  if (doc.starts_with("\xef\xbb\xbf")) doc.remove_prefix(3);  // as LoadString does
  static simdjson::dom::parser parser;  // keeps its buffers across inputs, as the server does
  simdjson::dom::element root;
  simdjson::error_code err = parser.parse(doc.data(), doc.size()).get(root);
  bool scanner_found = instant::config::LocateJsonError(doc).has_value();
  if (err == simdjson::SUCCESS && scanner_found) __builtin_trap();
  if (err != simdjson::SUCCESS && err != simdjson::DEPTH_ERROR && err != simdjson::EMPTY &&
      !scanner_found) {
    __builtin_trap();
  }
  return 0;
}
