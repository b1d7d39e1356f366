#pragma once
// Internal to instant_config: the tables of config.json keys that the loader, the environment
// overrides and Validate all walk, so a key is declared once with its field, type and range.
// Adding a key = adding a Config/ChannelOptions field and one row in keys.cc (and a line in
// docs/configuration.md).

#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "config/config.h"

namespace instant::config::internal {

using std::chrono::milliseconds;

// The field a key sets; the alternative is the key's type.
using ServerField =
    std::variant<bool Config::*, int Config::*, size_t Config::*, std::string Config::*,
                 milliseconds Config::*, std::vector<std::string> Config::*>;
using OptionField = std::variant<bool ChannelOptions::*, int ChannelOptions::*,
                                 milliseconds ChannelOptions::*, std::string ChannelOptions::*>;

inline constexpr int64_t kNoMax = std::numeric_limits<int64_t>::max();

// min/max bound integers (value) and durations (milliseconds); ignored for other types.
struct ServerKey {
  std::string_view name;
  ServerField field;
  int64_t min = 0;
  int64_t max = kNoMax;
  bool v4_only = false;  // marks a config as v4-style (see config.h, step 4)
};

struct OptionKey {
  std::string_view name;
  OptionField field;
  int64_t min = 0;
  int64_t max = kNoMax;
  bool v4_only = false;
};

// Centrifugo v3 (and v2) channel options with no v4 field of their own: kept per scope and
// converted after all inputs are read.
struct V3Options {
  std::optional<bool> publish, anonymous, protected_, subscribe_to_publish,
      presence_disable_for_client, history_disable_for_client, recover, position;
};
struct V3OptionKey {
  std::string_view name;
  std::optional<bool> V3Options::*field;
};

// A key that is another key's old spelling: its value is read with the target's type and applied
// only if the target itself is not set (file or environment).
struct Alias {
  std::string_view name;
  std::string_view target;
};

// A Centrifugo key instant recognises but does not implement, with why it is ignored.
struct IgnoredKey {
  std::string_view name;
  std::string_view why;
};

std::span<const ServerKey> ServerKeys();
std::span<const OptionKey> OptionKeys();
std::span<const V3OptionKey> V3OptionKeys();
std::span<const Alias> ServerAliases();  // client_anonymous, websocket_ping_interval
std::span<const Alias> OptionAliases();  // history_lifetime (v2)
std::span<const IgnoredKey> IgnoredServerKeys();
std::span<const IgnoredKey> IgnoredOptionKeys();

const ServerKey* FindServerKey(std::string_view name);
const OptionKey* FindOptionKey(std::string_view name);

// The known name closest to `name` (edit distance <= 2, and less than a third of its length), or
// "" — for "unknown key \"prot\" (ignored; did you mean \"port\"?)".
std::string_view SuggestKey(std::string_view name, bool top_level);

// Range text shared by load-time and Validate messages: "a positive integer",
// "an integer from 1 to 65535", "a positive duration".
std::string IntExpectation(int64_t min, int64_t max);

// Where a top-level key's value came from when not from the config file: key -> "environment
// variable CENTRIFUGO_PORT". Lets Validate blame the right place.
using OriginMap = std::map<std::string, std::string, std::less<>>;

// Validate (config.h) with origins; `origins` may be null.
bool ValidateWithOrigins(const Config& config, std::string_view source_name,
                         const OriginMap* origins, std::string* error,
                         std::vector<std::string>* warnings);

}  // namespace instant::config::internal
