// Validation of a typed Config (step 5 of config.h), and the small Config methods.

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <map>
#include <regex>
#include <set>

#include "base/log.h"
#include "config/config.h"
#include "config/duration.h"
#include "config/keys.h"

namespace instant::config {
namespace {

using std::chrono::milliseconds;

// std::regex compiles and matches recursively: bound what we hand it so a config cannot blow the
// stack at startup (or, later, on every subscribe).
constexpr size_t kMaxRegexLength = 512;
constexpr int kMaxRegexNesting = 16;

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

bool ValidNamespaceName(std::string_view name) {
  if (name.size() < 2) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

std::string Quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s.substr(0, 60)) {
    if (c == '"' || c == '\\') out += '\\';
    out += static_cast<unsigned char>(c) < 0x20 ? ' ' : c;
  }
  return out + (s.size() > 60 ? "...\"" : "\"");
}

class Validator {
 public:
  Validator(const Config& c, std::string_view source, const internal::OriginMap* origins,
            std::string* error, std::vector<std::string>* warnings)
      : c_(c), source_(source), origins_(origins), error_(error), warnings_(warnings) {}

  bool Run();

 private:
  // Where a top-level key came from: the environment variable that set it, or the source.
  std::string_view Origin(std::string_view key) const {
    if (origins_ != nullptr) {
      if (auto it = origins_->find(key); it != origins_->end()) return it->second;
    }
    return source_;
  }
  bool Fail(std::string message) {
    *error_ = std::move(message);
    return false;
  }
  void Warn(std::string message) {
    if (warnings_ != nullptr) warnings_->push_back(std::move(message));
  }
  bool Ranges();
  bool Server();
  bool Options(const ChannelOptions& o, std::string_view origin, std::string_view label);
  bool Namespaces();

  const Config& c_;
  std::string_view source_;
  const internal::OriginMap* origins_;
  std::string* error_;
  std::vector<std::string>* warnings_;
};

// Range checks from the key table, so values set by CLI flags or code get the same rules and
// messages as values from the file.
bool Validator::Ranges() {
  static const Config kDefaults;
  for (const internal::ServerKey& k : internal::ServerKeys()) {
    std::string problem = std::visit(
        Overloaded{
            [&](int Config::*f) -> std::string {
              int64_t v = c_.*f;
              if (v >= k.min && v <= k.max) return "";
              bool unbounded = k.max == internal::kNoMax || k.max == INT_MAX;
              return fmt::format("must be {}, got {}: {} (default {})",
                                 internal::IntExpectation(k.min, k.max), v,
                                 unbounded ? fmt::format("use a value of at least {}", k.min)
                                           : fmt::format("use a value from {} to {}", k.min, k.max),
                                 kDefaults.*f);
            },
            [&](size_t Config::*f) -> std::string {
              size_t v = c_.*f;
              if (v >= static_cast<uint64_t>(k.min) && v <= static_cast<uint64_t>(k.max)) return "";
              return fmt::format("must be {}, got {}: use a value of at least {} (default {})",
                                 internal::IntExpectation(k.min, k.max), v, k.min, kDefaults.*f);
            },
            [&](milliseconds Config::*f) -> std::string {
              milliseconds v = c_.*f;
              if (v.count() >= k.min && v.count() >= 0) return "";
              return fmt::format(
                  "must be a positive duration, got {}: use a value above 0 "
                  "(default \"{}\")",
                  FormatDuration(v), FormatDuration(kDefaults.*f));
            },
            [](auto) -> std::string { return ""; },
        },
        k.field);
    if (!problem.empty())
      return Fail(fmt::format("{}: \"{}\" {}", Origin(k.name), k.name, problem));
  }
  return true;
}

bool Validator::Server() {
  log::Level level;
  if (!log::ParseLevel(c_.log_level, &level)) {
    return Fail(
        fmt::format("{}: \"log_level\" must be one of trace, debug, info, warn, error, "
                    "none, got {}: use \"info\" (the default)",
                    Origin("log_level"), Quote(c_.log_level)));
  }
  log::Format format;
  if (!log::ParseFormat(c_.log_format, &format)) {
    return Fail(fmt::format("{}: \"log_format\" must be text or json, got {}: use \"text\" (the default) or \"json\" "
                            "(one JSON object per line, for log shippers)",
                            Origin("log_format"), Quote(c_.log_format)));
  }
  if (c_.engine == "redis") {
    for (const std::string& a : c_.redis_address) {
      if (a.empty()) {
        return Fail(fmt::format("{}: \"redis_address\" has an empty entry: write \"host:port\" or "
                                "\"redis://host:port/db\" for each shard",
                                Origin("redis_address")));
      }
    }
  } else if (c_.engine != "memory") {
    return Fail(
        fmt::format("{}: \"engine\" must be \"memory\" or \"redis\", got {}: use "
                    "\"memory\" (the default)",
                    Origin("engine"), Quote(c_.engine)));
  }
  const std::pair<std::string_view, const std::string*> boundaries[] = {
      {"channel_private_prefix", &c_.channel_private_prefix},
      {"channel_namespace_boundary", &c_.channel_namespace_boundary},
      {"channel_user_boundary", &c_.channel_user_boundary},
      {"channel_user_separator", &c_.channel_user_separator},
  };
  static const Config kDefaults;
  for (const auto& [key, value] : boundaries) {
    if (value->empty()) {
      const std::string& d = key == "channel_private_prefix" ? kDefaults.channel_private_prefix
                             : key == "channel_namespace_boundary"
                                 ? kDefaults.channel_namespace_boundary
                             : key == "channel_user_boundary" ? kDefaults.channel_user_boundary
                                                              : kDefaults.channel_user_separator;
      return Fail(fmt::format("{}: \"{}\" must not be empty: use \"{}\" (the default)", Origin(key),
                              key, d));
    }
  }
  if (c_.ping_interval.count() > 0 && c_.pong_timeout.count() > 0 &&
      c_.ping_interval <= c_.pong_timeout) {
    std::string_view origin =
        Origin("ping_interval") != source_ ? Origin("ping_interval") : Origin("pong_timeout");
    return Fail(
        fmt::format("{}: \"ping_interval\" ({}) must be greater than \"pong_timeout\" ({}): "
                    "raise ping_interval or lower pong_timeout",
                    origin, FormatDuration(c_.ping_interval), FormatDuration(c_.pong_timeout)));
  }
  if (c_.admin) {
    Warn(fmt::format("{}: \"admin\" is true, but the admin web UI is not implemented yet (ignored)",
                     Origin("admin")));
  }
  return true;
}

bool Validator::Options(const ChannelOptions& o, std::string_view origin, std::string_view label) {
  auto fail = [&](std::string what) { return Fail(fmt::format("{}: {}{}", origin, label, what)); };
  if (o.history_size < 0) {
    return fail(
        fmt::format("\"history_size\" must be a non-negative integer, got {}: use 0 (no "
                    "history) or a positive size",
                    o.history_size));
  }
  if (o.history_ttl.count() < 0 || o.history_meta_ttl.count() < 0) {
    return fail("history durations must not be negative: use 0 or a positive duration");
  }
  bool history = o.history_size > 0 && o.history_ttl.count() > 0;
  if ((o.history_size > 0) != (o.history_ttl.count() > 0)) {
    return fail(fmt::format(
        "\"history_size\" ({}) and \"history_ttl\" ({}) must be both set or both zero: {}",
        o.history_size, FormatDuration(o.history_ttl),
        o.history_size > 0 ? "set history_ttl (e.g. \"300s\") or set history_size to 0"
                           : "set history_size (e.g. 100) or set history_ttl to 0"));
  }
  if ((o.force_recovery || o.allow_recovery) && !history) {
    return fail(
        fmt::format("\"{}\" needs history: set \"history_size\" and \"history_ttl\" (e.g. "
                    "100 and \"300s\"), or remove {}",
                    o.force_recovery ? "force_recovery" : "allow_recovery",
                    o.force_recovery ? "force_recovery" : "allow_recovery"));
  }
  milliseconds meta =
      o.history_meta_ttl.count() > 0 ? o.history_meta_ttl : c_.global_history_meta_ttl;
  if (history && meta.count() > 0 && o.history_ttl > meta) {
    return fail(fmt::format(
        "\"history_ttl\" ({}) must not exceed the history meta TTL ({}, from \"{}\"): the stream "
        "position would expire before its publications; lower history_ttl or raise {}",
        FormatDuration(o.history_ttl), FormatDuration(meta),
        o.history_meta_ttl.count() > 0 ? "history_meta_ttl" : "global_history_meta_ttl",
        o.history_meta_ttl.count() > 0 ? "history_meta_ttl" : "global_history_meta_ttl"));
  }
  if (!o.channel_regex.empty()) {
    int depth = 0, max_depth = 0;
    for (char ch : o.channel_regex) {
      if (ch == '(') max_depth = std::max(max_depth, ++depth);
      if (ch == ')') --depth;
    }
    if (o.channel_regex.size() > kMaxRegexLength || max_depth > kMaxRegexNesting) {
      return fail(
          fmt::format("\"channel_regex\" is too complex (over {} characters or {} nested "
                      "groups): simplify it",
                      kMaxRegexLength, kMaxRegexNesting));
    }
    try {
      std::regex re(o.channel_regex, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      return fail(
          fmt::format("\"channel_regex\" {} is not a valid regular expression ({}): fix "
                      "the pattern",
                      Quote(o.channel_regex), e.what()));
    }
  }
  return true;
}

bool Validator::Namespaces() {
  std::string_view origin = Origin("namespaces");
  std::map<std::string_view, size_t> seen;
  for (size_t i = 0; i < c_.namespaces.size(); ++i) {
    const Namespace& ns = c_.namespaces[i];
    if (!ValidNamespaceName(ns.name)) {
      return Fail(
          fmt::format("{}: namespaces[{}]: name {} is invalid: a namespace name has at least "
                      "2 characters, each a letter, digit, '-', '_' or '.'",
                      origin, i, Quote(ns.name)));
    }
    auto [it, inserted] = seen.emplace(ns.name, i);
    if (!inserted) {
      return Fail(
          fmt::format("{}: namespace {} is defined twice (namespaces[{}] and "
                      "namespaces[{}]): merge them or rename one",
                      origin, Quote(ns.name), it->second, i));
    }
    if (!Options(ns.options, origin, fmt::format("namespace {}: ", Quote(ns.name)))) return false;
  }
  if (c_.user_subscribe_to_personal && !c_.user_personal_channel_namespace.empty() &&
      c_.FindNamespace(c_.user_personal_channel_namespace) == nullptr) {
    return Fail(fmt::format(
        "{}: \"user_personal_channel_namespace\" is {}, which is not a "
        "configured namespace: add it to \"namespaces\" or clear the key",
        Origin("user_personal_channel_namespace"), Quote(c_.user_personal_channel_namespace)));
  }
  return true;
}

bool Validator::Run() {
  return Ranges() && Server() && Options(c_.defaults, source_, "") && Namespaces();
}

}  // namespace

namespace internal {

bool ValidateWithOrigins(const Config& config, std::string_view source_name,
                         const OriginMap* origins, std::string* error,
                         std::vector<std::string>* warnings) {
  return Validator(config, source_name, origins, error, warnings).Run();
}

}  // namespace internal

bool Validate(const Config& config, std::string_view source_name, std::string* error,
              std::vector<std::string>* warnings) {
  return internal::ValidateWithOrigins(config, source_name, nullptr, error, warnings);
}

const Namespace* Config::FindNamespace(std::string_view ns_name) const {
  for (const Namespace& ns : namespaces) {
    if (ns.name == ns_name) return &ns;
  }
  return nullptr;
}

std::string Config::NodeName() const {
  if (!name.empty()) return name;
  char host[256] = {};
  if (::gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0') {
    return fmt::format("localhost_{}", port);
  }
  return fmt::format("{}_{}", host, port);
}

}  // namespace instant::config
