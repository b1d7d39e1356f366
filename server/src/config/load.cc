// Loading config.json + environment into a Config (steps 1-4 of config.h); step 5 is validate.cc.

#include <fcntl.h>
#include <fmt/format.h>
#include <simdjson.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <map>
#include <set>

#include "config/config.h"
#include "config/duration.h"
#include "config/json_error.h"
#include "config/keys.h"

extern char** environ;  // POSIX; not declared by <unistd.h> without _GNU_SOURCE

namespace instant::config {
namespace {

using internal::Alias;
using internal::OptionKey;
using internal::ServerKey;
using internal::V3Options;
using simdjson::dom::element;
using simdjson::dom::element_type;
using std::chrono::milliseconds;
using KeySet = std::set<std::string, std::less<>>;

constexpr size_t kMaxConfigFileSize = 64 << 20;

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

// Typed views of an element whose type() was already checked. get(out) copies the value out of
// the temporary simdjson_result; value_unsafe() would return a reference into it, which dangles
// when used as a range-for initializer.
simdjson::dom::array AsArray(element e) {
  simdjson::dom::array a;
  if (e.get_array().get(a) != simdjson::SUCCESS) return {};
  return a;
}
simdjson::dom::object AsObject(element e) {
  simdjson::dom::object o;
  if (e.get_object().get(o) != simdjson::SUCCESS) return {};
  return o;
}
std::string_view AsString(element e) {
  std::string_view s;
  if (e.get_string().get(s) != simdjson::SUCCESS) return {};
  return s;
}
double AsDouble(element e) {  // simdjson converts int64/uint64 elements too
  double d = 0;
  if (e.get_double().get(d) != simdjson::SUCCESS) return {};
  return d;
}
int64_t AsInt64(element e) {
  int64_t v = 0;
  if (e.get_int64().get(v) != simdjson::SUCCESS) return {};
  return v;
}
bool AsBool(element e) {
  bool b = false;
  if (e.get_bool().get(b) != simdjson::SUCCESS) return {};
  return b;
}

// --- value text helpers ------------------------------------------------------------------------

std::string Shorten(std::string s) {
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}

std::string Quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += static_cast<unsigned char>(c) < 0x20 ? ' ' : c;
  }
  return Shorten(out + "\"");
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Go's strconv.ParseBool, which is what Centrifugo applies to environment values.
bool ParseBoolText(std::string_view s, bool* out) {
  s = Trim(s);
  if (s == "1" || s == "t" || s == "T" || s == "true" || s == "TRUE" || s == "True") {
    *out = true;
    return true;
  }
  if (s == "0" || s == "f" || s == "F" || s == "false" || s == "FALSE" || s == "False") {
    *out = false;
    return true;
  }
  return false;
}

// Decimal integer text. *overflow is set (and true returned) for a well-formed integer beyond
// int64, so the caller reports a range error rather than a type error.
bool ParseIntText(std::string_view s, int64_t* out, bool* overflow) {
  s = Trim(s);
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  if (s.empty()) return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  if (end != s.data() + s.size()) return false;
  if (ec == std::errc::result_out_of_range) {
    *overflow = true;
    return true;
  }
  return ec == std::errc();
}

// --- one value being applied -------------------------------------------------------------------

// A value from the file (JSON) or from an environment variable (text).
struct Input {
  std::string_view origin;  // "config.json" or "environment variable CENTRIFUGO_PORT"
  std::string_view scope;   // "" or "namespace \"chat\": "
  std::string_view key;
  bool from_env = false;
  std::string_view text;  // from_env
  element json;           // !from_env

  std::string Got() const { return from_env ? Quote(text) : Shorten(simdjson::to_string(json)); }
  std::string Where() const { return fmt::format("{}: {}\"{}\"", origin, scope, key); }
  bool IsJsonString() const { return !from_env && json.type() == element_type::STRING; }
  std::string_view JsonString() const { return AsString(json); }
};

bool CoerceBool(const Input& in, bool* out, std::string* error) {
  bool ok = false;
  if (in.from_env) {
    ok = ParseBoolText(in.text, out);
  } else {
    switch (in.json.type()) {
      case element_type::BOOL:
        *out = AsBool(in.json);
        ok = true;
        break;
      case element_type::STRING:  // viper leniency: "true" in quotes
        ok = ParseBoolText(in.JsonString(), out);
        break;
      case element_type::INT64:
      case element_type::UINT64: {
        int64_t v = in.json.is_int64() ? AsInt64(in.json) : 2;
        ok = v == 0 || v == 1;
        *out = v == 1;
        break;
      }
      default:
        break;
    }
  }
  if (!ok) {
    *error = fmt::format("{} must be true or false, got {}: write true or false{}", in.Where(),
                         in.Got(), in.IsJsonString() ? " without quotes" : "");
  }
  return ok;
}

std::string RangeFix(int64_t min, int64_t max, std::string_view default_text) {
  bool unbounded = max == internal::kNoMax || max == INT32_MAX;
  if (unbounded) return fmt::format("use a value of at least {} (default {})", min, default_text);
  return fmt::format("use a value from {} to {} (default {})", min, max, default_text);
}

bool CoerceInt(const Input& in, int64_t min, int64_t max, std::string_view default_text,
               int64_t* out, std::string* error) {
  bool typed = false, overflow = false;
  int64_t v = 0;
  if (in.from_env) {
    typed = ParseIntText(in.text, &v, &overflow);
  } else {
    switch (in.json.type()) {
      case element_type::INT64:
        v = AsInt64(in.json);
        typed = true;
        break;
      case element_type::UINT64:  // only reached above INT64_MAX
        typed = overflow = true;
        break;
      case element_type::DOUBLE: {
        double d = AsDouble(in.json);
        if (d == std::floor(d)) {
          typed = true;
          if (std::fabs(d) < 9.0e18) {
            v = static_cast<int64_t>(d);
          } else {
            overflow = true;
          }
        }
        break;
      }
      case element_type::STRING:  // viper leniency: "8000" in quotes
        typed = ParseIntText(in.JsonString(), &v, &overflow);
        break;
      default:
        break;
    }
  }
  std::string expectation = internal::IntExpectation(min, max);
  if (!typed) {
    *error = fmt::format("{} must be {}, got {}: write a number such as {}", in.Where(),
                         expectation, in.Got(), default_text);
    return false;
  }
  if (overflow || v < min || v > max) {
    *error = fmt::format("{} must be {}, got {}: {}", in.Where(), expectation, in.Got(),
                         RangeFix(min, max, default_text));
    return false;
  }
  *out = v;
  return true;
}

bool CoerceDuration(const Input& in, int64_t min_ms, std::string_view default_text,
                    milliseconds* out, std::string* error) {
  std::optional<milliseconds> d;
  std::string why;
  if (in.from_env) {
    d = ParseConfigDuration(Trim(in.text), &why);
  } else {
    switch (in.json.type()) {
      case element_type::INT64:
      case element_type::UINT64:
      case element_type::DOUBLE: {
        double seconds = AsDouble(in.json);
        d = DurationFromSeconds(seconds);
        if (!d) why = fmt::format("{} seconds is out of range", in.Got());
        break;
      }
      case element_type::STRING:
        d = ParseConfigDuration(in.JsonString(), &why);
        break;
      default:
        why = fmt::format("expected a duration, got {}", in.Got());
        break;
    }
  }
  if (!d) {
    *error = fmt::format(
        "{}: {}: write a duration such as \"25s\", \"1m30s\" or \"500ms\", or a number of "
        "seconds (default \"{}\")",
        in.Where(), why, default_text);
    return false;
  }
  if (d->count() < min_ms) {
    *error = fmt::format(
        "{} must be a positive duration, got {}: use a value above 0 (default "
        "\"{}\")",
        in.Where(), in.Got(), default_text);
    return false;
  }
  *out = *d;
  return true;
}

bool CoerceString(const Input& in, std::string* out, std::string* error) {
  if (in.from_env) {
    *out = std::string(in.text);
    return true;
  }
  if (in.json.type() != element_type::STRING) {
    *error = fmt::format("{} must be a string, got {}: put the value in double quotes", in.Where(),
                         in.Got());
    return false;
  }
  *out = std::string(in.JsonString());
  return true;
}

// Array of strings from a JSON array element.
bool StringsFromArray(const Input& in, element array, std::vector<std::string>* out,
                      std::string* error) {
  std::vector<std::string> items;
  size_t i = 0;
  for (element item : AsArray(array)) {
    if (item.type() != element_type::STRING) {
      *error = fmt::format("{}[{}] must be a string, got {}: put it in double quotes", in.Where(),
                           i, Shorten(simdjson::to_string(item)));
      return false;
    }
    items.emplace_back(AsString(item));
    ++i;
  }
  *out = std::move(items);
  return true;
}

bool CoerceList(const Input& in, std::vector<std::string>* out, std::string* error) {
  if (!in.from_env) {
    if (in.json.type() == element_type::ARRAY) return StringsFromArray(in, in.json, out, error);
    if (in.key == "redis_address" && in.IsJsonString()) {  // one shard: Centrifugo takes a string
      *out = {std::string(in.JsonString())};
      return true;
    }
    std::string example = in.IsJsonString() ? fmt::format("[{}]", in.Got())
                                            : std::string("[\"https://example.com\"]");
    *error = fmt::format("{} must be an array of strings, got {}: write {}", in.Where(), in.Got(),
                         example);
    return false;
  }
  std::string_view text = Trim(in.text);
  if (!text.empty() && text[0] == '[') {
    simdjson::dom::parser parser;
    element doc;
    simdjson::padded_string padded(text);
    if (parser.parse(padded).get(doc) != simdjson::SUCCESS || doc.type() != element_type::ARRAY) {
      *error = fmt::format(
          "{} must be a JSON array of strings or a space/comma separated list, "
          "got {}: fix the JSON or drop the brackets",
          in.Where(), in.Got());
      return false;
    }
    return StringsFromArray(in, doc, out, error);
  }
  // A space/comma separated list, as Centrifugo reads CENTRIFUGO_ALLOWED_ORIGINS.
  out->clear();
  size_t start = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == ',' || std::isspace(static_cast<unsigned char>(text[i]))) {
      if (i > start) out->emplace_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  return true;
}

// Renders a default for "(default ...)" hints.
std::string DefaultText(int64_t v) { return std::to_string(v); }

bool ApplyServerField(const ServerKey& k, const Input& in, Config* c, std::string* error) {
  static const Config kDefaults;
  return std::visit(
      Overloaded{
          [&](bool Config::*f) { return CoerceBool(in, &(c->*f), error); },
          [&](int Config::*f) {
            int64_t v;
            if (!CoerceInt(in, k.min, k.max, DefaultText(kDefaults.*f), &v, error)) return false;
            c->*f = static_cast<int>(v);
            return true;
          },
          [&](size_t Config::*f) {
            int64_t v;
            if (!CoerceInt(in, k.min, k.max, DefaultText(static_cast<int64_t>(kDefaults.*f)), &v,
                           error)) {
              return false;
            }
            c->*f = static_cast<size_t>(v);
            return true;
          },
          [&](std::string Config::*f) { return CoerceString(in, &(c->*f), error); },
          [&](milliseconds Config::*f) {
            return CoerceDuration(in, k.min, FormatDuration(kDefaults.*f), &(c->*f), error);
          },
          [&](std::vector<std::string> Config::*f) { return CoerceList(in, &(c->*f), error); },
      },
      k.field);
}

bool ApplyOptionField(const OptionKey& k, const Input& in, ChannelOptions* o, std::string* error) {
  static const ChannelOptions kDefaults;
  return std::visit(
      Overloaded{
          [&](bool ChannelOptions::*f) { return CoerceBool(in, &(o->*f), error); },
          [&](int ChannelOptions::*f) {
            int64_t v;
            if (!CoerceInt(in, k.min, k.max, DefaultText(kDefaults.*f), &v, error)) return false;
            o->*f = static_cast<int>(v);
            return true;
          },
          [&](milliseconds ChannelOptions::*f) {
            return CoerceDuration(in, k.min, FormatDuration(kDefaults.*f), &(o->*f), error);
          },
          [&](std::string ChannelOptions::*f) { return CoerceString(in, &(o->*f), error); },
      },
      k.field);
}

// Copies one field (the target of an alias) from `from` to `to`.
template <class T, class Field>
void CopyField(const Field& field, const T& from, T* to) {
  std::visit([&](auto f) { to->*f = from.*f; }, field);
}

// --- the loader --------------------------------------------------------------------------------

// Per-scope state: the top level or one namespace.
struct Scope {
  std::string where;  // "" or "namespace \"chat\""
  std::string label;  // "" or "namespace \"chat\": " (message prefix)
  KeySet set_keys;    // option keys given explicitly, file or environment
  V3Options v3;
  ChannelOptions alias_values;                 // values given through an alias (history_lifetime)
  std::map<std::string, std::string> aliased;  // target key -> alias key used
  std::string v3_key, v4_key;                  // first marker of each dialect seen, for messages
};

class Loader {
 public:
  Loader(std::string_view source, const std::vector<std::string>& env)
      : source_(source.empty() ? "config" : source), env_(env) {}

  LoadResult Run(std::string_view json);

 private:
  enum class Applied { kYes, kNotOption, kError };

  bool ApplyTop(std::string_view key, const Input& in);
  Applied ApplyOption(std::string_view key, const Input& in, ChannelOptions* o, Scope* s);
  bool ApplyNamespaces(element value, const Input& in);
  bool ApplyEnvironment();
  void ApplyAliases();
  void ConvertV3();
  void ConvertScope(const Scope& s, ChannelOptions* o, bool full);
  LoadResult Fail() {
    LoadResult r;
    r.error = std::move(error_);
    r.warnings = std::move(warnings_);
    return r;
  }

  std::string source_;
  const std::vector<std::string>& env_;
  Config config_;
  Scope top_;
  std::vector<Scope> ns_scopes_;  // parallel to config_.namespaces
  KeySet set_server_keys_;
  Config alias_config_;                                // values given through server aliases
  std::map<std::string, std::string> server_aliased_;  // target key -> alias key used
  std::string top_v3_key_, top_v4_key_;
  internal::OriginMap origins_;
  std::vector<std::string> warnings_;
  std::string error_;
};

Loader::Applied Loader::ApplyOption(std::string_view key, const Input& in, ChannelOptions* o,
                                    Scope* s) {
  auto marker = [&](std::string* slot) {
    if (slot->empty()) {
      *slot = s->where.empty() ? fmt::format("\"{}\"", key)
                               : fmt::format("\"{}\" in {}", key, s->where);
    }
  };
  if (const OptionKey* k = internal::FindOptionKey(key)) {
    if (!ApplyOptionField(*k, in, o, &error_)) return Applied::kError;
    s->set_keys.emplace(key);
    if (k->v4_only) marker(&s->v4_key);
    return Applied::kYes;
  }
  for (const internal::V3OptionKey& k : internal::V3OptionKeys()) {
    if (k.name != key) continue;
    bool v;
    if (!CoerceBool(in, &v, &error_)) return Applied::kError;
    s->v3.*k.field = v;
    marker(&s->v3_key);
    return Applied::kYes;
  }
  for (const Alias& a : internal::OptionAliases()) {
    if (a.name != key) continue;
    const OptionKey* target = internal::FindOptionKey(a.target);
    if (!ApplyOptionField(*target, in, &s->alias_values, &error_)) return Applied::kError;
    s->aliased[std::string(a.target)] = std::string(a.name);
    marker(&s->v3_key);
    return Applied::kYes;
  }
  return Applied::kNotOption;
}

bool Loader::ApplyTop(std::string_view key, const Input& in) {
  if (const ServerKey* k = internal::FindServerKey(key)) {
    if (!ApplyServerField(*k, in, &config_, &error_)) return false;
    set_server_keys_.emplace(key);
    if (in.from_env) origins_[std::string(key)] = std::string(in.origin);
    if (k->v4_only && top_v4_key_.empty()) top_v4_key_ = fmt::format("\"{}\"", key);
    return true;
  }
  switch (ApplyOption(key, in, &config_.defaults, &top_)) {
    case Applied::kYes:
      return true;
    case Applied::kError:
      return false;
    case Applied::kNotOption:
      break;
  }
  for (const Alias& a : internal::ServerAliases()) {
    if (a.name != key) continue;
    if (!ApplyServerField(*internal::FindServerKey(a.target), in, &alias_config_, &error_)) {
      return false;
    }
    server_aliased_[std::string(a.target)] = std::string(a.name);
    if (in.from_env) origins_[std::string(a.target)] = std::string(in.origin);
    if (top_v3_key_.empty()) top_v3_key_ = fmt::format("\"{}\"", key);
    return true;
  }
  if (key == "namespaces") {
    if (!in.from_env) return ApplyNamespaces(in.json, in);
    // The environment carries namespaces as JSON text; parse it here, use it, drop it.
    simdjson::dom::parser parser;
    simdjson::padded_string padded(in.text);
    element doc;
    if (parser.parse(padded).get(doc) != simdjson::SUCCESS) {
      auto where = LocateJsonError(in.text);
      error_ = fmt::format("{}: invalid JSON{}: {}: write the namespaces as a JSON array",
                           in.origin, where ? fmt::format(" at column {}", where->column) : "",
                           where ? where->message : "cannot parse");
      return false;
    }
    origins_["namespaces"] = std::string(in.origin);
    return ApplyNamespaces(doc, in);
  }
  for (auto table : {internal::IgnoredServerKeys(), internal::IgnoredOptionKeys()}) {
    for (const internal::IgnoredKey& k : table) {
      if (k.name == key) {
        warnings_.push_back(fmt::format("{}: key \"{}\" is ignored: {}", in.origin, key, k.why));
        // Obsolete keys still tell which Centrifugo wrote the file (django-instant 2.2's
        // genconfig wrote "v3_use_offset").
        if ((key == "v3_use_offset" || key == "use_unlimited_history_by_default") &&
            top_v3_key_.empty()) {
          top_v3_key_ = fmt::format("\"{}\"", key);
        }
        return true;
      }
    }
  }
  std::string_view suggestion = internal::SuggestKey(key, /*top_level=*/true);
  warnings_.push_back(fmt::format(
      "{}: unknown key \"{}\" (ignored{})", in.origin, key,
      suggestion.empty() ? std::string() : fmt::format("; did you mean \"{}\"?", suggestion)));
  return true;
}

bool Loader::ApplyNamespaces(element value, const Input& in) {
  if (value.type() != element_type::ARRAY) {
    error_ = fmt::format(
        "{} must be an array of objects, got {}: write [{{\"name\": \"chat\", "
        "...}}]",
        in.Where(), Shorten(simdjson::to_string(value)));
    return false;
  }
  config_.namespaces.clear();
  ns_scopes_.clear();
  size_t index = 0;
  for (element item : AsArray(value)) {
    if (item.type() != element_type::OBJECT) {
      error_ = fmt::format(
          "{}: namespaces[{}] must be an object, got {}: write {{\"name\": "
          "\"chat\", ...}}",
          in.origin, index, Shorten(simdjson::to_string(item)));
      return false;
    }
    simdjson::dom::object object = AsObject(item);
    Namespace ns;
    Scope scope;
    element name;
    if (object.at_key("name").get(name) != simdjson::SUCCESS ||
        name.type() == element_type::NULL_VALUE) {
      error_ =
          fmt::format("{}: namespaces[{}] has no \"name\": add \"name\": \"<namespace>\" to it",
                      in.origin, index);
      return false;
    }
    if (name.type() != element_type::STRING) {
      error_ = fmt::format(
          "{}: namespaces[{}]: \"name\" must be a string, got {}: put it in "
          "double quotes",
          in.origin, index, Shorten(simdjson::to_string(name)));
      return false;
    }
    ns.name = std::string(AsString(name));
    scope.where = fmt::format("namespace {}", Quote(ns.name));
    scope.label = scope.where + ": ";
    std::set<std::string_view> seen;
    for (auto field : object) {
      std::string_view key = field.key;
      if (!seen.insert(key).second) {
        warnings_.push_back(fmt::format("{}: {}duplicate key \"{}\" (the last value wins)",
                                        in.origin, scope.label, key));
      }
      if (key == "name" || field.value.type() == element_type::NULL_VALUE) continue;
      Input option{in.origin, scope.label, key, false, {}, field.value};
      Applied applied = ApplyOption(key, option, &ns.options, &scope);
      if (applied == Applied::kError) return false;
      if (applied == Applied::kYes) continue;
      bool ignored = false;
      for (const internal::IgnoredKey& k : internal::IgnoredOptionKeys()) {
        if (k.name == key) {
          warnings_.push_back(
              fmt::format("{}: {}key \"{}\" is ignored: {}", in.origin, scope.label, key, k.why));
          ignored = true;
          break;
        }
      }
      if (ignored) continue;
      std::string hint;
      if (internal::FindServerKey(key) || key == "namespaces") {
        hint = "; it is a top-level key";
      } else if (auto s = internal::SuggestKey(key, /*top_level=*/false); !s.empty()) {
        hint = fmt::format("; did you mean \"{}\"?", s);
      }
      warnings_.push_back(
          fmt::format("{}: {}unknown key \"{}\" (ignored{})", in.origin, scope.label, key, hint));
    }
    config_.namespaces.push_back(std::move(ns));
    ns_scopes_.push_back(std::move(scope));
    ++index;
  }
  return true;
}

bool Loader::ApplyEnvironment() {
  // key -> (priority, variable name, value); INSTANT_ (2) beats CENTRIFUGO_ (1).
  struct Found {
    int priority;
    std::string_view var;
    std::string_view value;
  };
  std::map<std::string, Found, std::less<>> found;
  for (const std::string& entry : env_) {
    size_t eq = entry.find('=');
    if (eq == std::string::npos) continue;
    std::string_view var(entry.data(), eq);
    std::string_view value(entry.data() + eq + 1, entry.size() - eq - 1);
    int priority;
    std::string_view rest;
    if (var.starts_with("INSTANT_")) {
      priority = 2;
      rest = var.substr(8);
    } else if (var.starts_with("CENTRIFUGO_")) {
      priority = 1;
      rest = var.substr(11);
    } else {
      continue;
    }
    std::string key(rest);
    for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    auto it = found.find(key);
    if (it == found.end() || it->second.priority <= priority) found[key] = {priority, var, value};
  }
  if (found.empty()) return true;

  auto apply = [&](std::string_view key) {
    auto it = found.find(key);
    if (it == found.end()) return true;
    const Found& f = it->second;
    // Kubernetes injects <SERVICE>_PORT=tcp://10.0.0.1:8000 for a Service named "centrifugo" (or
    // "instant"): not ours, and fatal if parsed as a port.
    if (key == "port" && Trim(f.value).starts_with("tcp://")) {
      warnings_.push_back(fmt::format(
          "environment variable {}={} ignored: it looks like a Kubernetes service address, not a "
          "port (rename the Service or set INSTANT_PORT)",
          f.var, Quote(f.value)));
      return true;
    }
    std::string origin = fmt::format("environment variable {}", f.var);
    Input in{origin, "", key, true, f.value, {}};
    return ApplyTop(key, in);
  };
  for (const ServerKey& k : internal::ServerKeys()) {
    if (!apply(k.name)) return false;
  }
  for (const OptionKey& k : internal::OptionKeys()) {
    if (!apply(k.name)) return false;
  }
  for (const internal::V3OptionKey& k : internal::V3OptionKeys()) {
    if (!apply(k.name)) return false;
  }
  for (const Alias& a : internal::ServerAliases()) {
    if (!apply(a.name)) return false;
  }
  for (const Alias& a : internal::OptionAliases()) {
    if (!apply(a.name)) return false;
  }
  return apply("namespaces");
}

void Loader::ApplyAliases() {
  for (const auto& [target, alias] : server_aliased_) {
    if (set_server_keys_.contains(target)) {
      warnings_.push_back(
          fmt::format("{}: \"{}\" (Centrifugo v3) and \"{}\" are both set: \"{}\" "
                      "wins; remove \"{}\"",
                      source_, alias, target, target, alias));
      continue;
    }
    CopyField(internal::FindServerKey(target)->field, alias_config_, &config_);
  }
  // v3's websocket_ping_interval had no pong_timeout next to it; keep the pair valid rather than
  // reject a config that was fine for Centrifugo v3.
  if (server_aliased_.contains("ping_interval") && !set_server_keys_.contains("ping_interval") &&
      !set_server_keys_.contains("pong_timeout") && config_.ping_interval.count() > 0 &&
      config_.ping_interval <= config_.pong_timeout) {
    milliseconds old = config_.pong_timeout;
    config_.pong_timeout = config_.ping_interval / 3;
    warnings_.push_back(
        fmt::format("{}: \"websocket_ping_interval\" ({}) is not above the default "
                    "\"pong_timeout\" ({}): pong_timeout lowered to {}",
                    source_, FormatDuration(config_.ping_interval), FormatDuration(old),
                    FormatDuration(config_.pong_timeout)));
  }
  auto scope_aliases = [&](Scope& s, ChannelOptions* o) {
    for (const auto& [target, alias] : s.aliased) {
      if (s.set_keys.contains(target)) {
        warnings_.push_back(
            fmt::format("{}: {}\"{}\" (Centrifugo v2) and \"{}\" are both set: "
                        "\"{}\" wins; remove \"{}\"",
                        source_, s.label, alias, target, target, alias));
        continue;
      }
      CopyField(internal::FindOptionKey(target)->field, s.alias_values, o);
      s.set_keys.insert(target);
    }
  };
  scope_aliases(top_, &config_.defaults);
  for (size_t i = 0; i < ns_scopes_.size(); ++i) {
    scope_aliases(ns_scopes_[i], &config_.namespaces[i].options);
  }
}

// Spec §5.2 "v3 -> v4 mapping", after the official converter, with two deliberate differences:
// *_for_anonymous is granted only where v3 said "anonymous": true (the converter grants
// publish/presence/history to anonymous users unconditionally), and "subscribe_to_publish" maps
// publish to allow_publish_for_subscriber (the converter drops it).
void Loader::ConvertScope(const Scope& s, ChannelOptions* o, bool full) {
  auto grant = [&](std::string_view key, bool ChannelOptions::*f) {
    if (!s.set_keys.contains(key)) o->*f = true;
  };
  bool anonymous = s.v3.anonymous.value_or(false);
  // v3 namespaces were open to subscribe unless "protected" (v2: "server_side").
  bool open = full ? !s.v3.protected_.value_or(false) : s.v3.protected_ == false;
  if (open) {
    grant("allow_subscribe_for_client", &ChannelOptions::allow_subscribe_for_client);
    if (anonymous) {
      grant("allow_subscribe_for_anonymous", &ChannelOptions::allow_subscribe_for_anonymous);
    }
  }
  if (s.v3.publish.value_or(false)) {
    if (s.v3.subscribe_to_publish.value_or(false)) {
      grant("allow_publish_for_subscriber", &ChannelOptions::allow_publish_for_subscriber);
    } else {
      grant("allow_publish_for_client", &ChannelOptions::allow_publish_for_client);
    }
    if (anonymous) {
      grant("allow_publish_for_anonymous", &ChannelOptions::allow_publish_for_anonymous);
    }
  }
  if (s.v3.recover.value_or(false)) grant("force_recovery", &ChannelOptions::force_recovery);
  if (s.v3.position.value_or(false)) grant("force_positioning", &ChannelOptions::force_positioning);
  if (!full) return;
  // Keys spelled the same in v3 and v4 whose v3 meaning granted more.
  if (o->presence && !s.v3.presence_disable_for_client.value_or(false)) {
    grant("allow_presence_for_subscriber", &ChannelOptions::allow_presence_for_subscriber);
    if (anonymous) {
      grant("allow_presence_for_anonymous", &ChannelOptions::allow_presence_for_anonymous);
    }
  }
  if (o->history_size > 0 && o->history_ttl.count() > 0 &&
      !s.v3.history_disable_for_client.value_or(false)) {
    grant("allow_history_for_subscriber", &ChannelOptions::allow_history_for_subscriber);
    if (anonymous) {
      grant("allow_history_for_anonymous", &ChannelOptions::allow_history_for_anonymous);
    }
  }
  if (o->join_leave) grant("force_push_join_leave", &ChannelOptions::force_push_join_leave);
  // v3 always let listed users into "#" channels.
  grant("allow_user_limited_channels", &ChannelOptions::allow_user_limited_channels);
}

void Loader::ConvertV3() {
  std::string v3_key = top_v3_key_.empty() ? top_.v3_key : top_v3_key_;
  std::string v4_key = top_v4_key_.empty() ? top_.v4_key : top_v4_key_;
  for (const Scope& s : ns_scopes_) {
    if (v3_key.empty()) v3_key = s.v3_key;
    if (v4_key.empty()) v4_key = s.v4_key;
  }
  if (v3_key.empty()) return;
  bool full = v4_key.empty();
  config_.v3_semantics = full;
  ConvertScope(top_, &config_.defaults, full);
  for (size_t i = 0; i < ns_scopes_.size(); ++i) {
    ConvertScope(ns_scopes_[i], &config_.namespaces[i].options, full);
  }
  if (full) {
    warnings_.push_back(fmt::format(
        "{}: Centrifugo v3 configuration (key {}): channel options converted to their v4 meaning "
        "(namespaces not \"protected\" open to subscribe, presence and history granted to "
        "subscribers, join/leave pushed to all); see docs/configuration.md, \"Centrifugo v3 "
        "configs\"",
        source_, v3_key));
  } else {
    warnings_.push_back(fmt::format(
        "{}: mixes Centrifugo v3 keys ({}) with v4 keys ({}): v3-only keys are converted, "
        "\"presence\", \"join_leave\" and history keep their v4 meaning; better use v4 keys only",
        source_, v3_key, v4_key));
  }
}

LoadResult Loader::Run(std::string_view json) {
  if (json.starts_with("\xef\xbb\xbf")) json.remove_prefix(3);  // BOM from Windows editors
  if (Trim(json).empty()) {
    error_ =
        fmt::format("{}: the file is empty: write {{}} for a config with all defaults", source_);
    return Fail();
  }
  simdjson::dom::parser parser;
  simdjson::padded_string padded(json);
  element root;
  if (auto err = parser.parse(padded).get(root); err != simdjson::SUCCESS) {
    if (auto where = LocateJsonError(json)) {
      error_ = fmt::format("{}:{}:{}: invalid JSON: {}", source_, where->line, where->column,
                           where->message);
    } else {
      error_ = fmt::format("{}: invalid JSON: {}", source_, simdjson::error_message(err));
    }
    return Fail();
  }
  if (root.type() != element_type::OBJECT) {
    error_ = fmt::format(
        "{}: the top level must be a JSON object {{...}}, got {}: wrap the keys in "
        "{{ }}",
        source_, Shorten(simdjson::to_string(root)));
    return Fail();
  }
  std::set<std::string_view> seen;
  for (auto field : AsObject(root)) {
    std::string_view key = field.key;
    if (!seen.insert(key).second) {
      warnings_.push_back(
          fmt::format("{}: duplicate key \"{}\" (the last value wins)", source_, key));
    }
    if (field.value.type() == element_type::NULL_VALUE) continue;  // null = not set, as in Go
    Input in{source_, "", key, false, {}, field.value};
    if (!ApplyTop(key, in)) return Fail();
  }
  if (!ApplyEnvironment()) return Fail();
  ApplyAliases();
  ConvertV3();
  if (!internal::ValidateWithOrigins(config_, source_, &origins_, &error_, &warnings_)) {
    return Fail();
  }
  LoadResult r;
  r.ok = true;
  r.config = std::move(config_);
  r.warnings = std::move(warnings_);
  return r;
}

}  // namespace

LoadResult LoadString(std::string_view json, std::string_view source_name,
                      const std::vector<std::string>& env) {
  return Loader(source_name, env).Run(json);
}

LoadResult LoadFile(const std::string& path, const std::vector<std::string>& env) {
  LoadResult r;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    r.error = fmt::format("{}: cannot read: {}", path, std::strerror(errno));
    return r;
  }
  struct stat st;
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    ::close(fd);
    r.error = fmt::format("{}: cannot read: it is a directory; pass the path of a JSON file", path);
    return r;
  }
  std::string data;
  char buf[65536];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      r.error = fmt::format("{}: cannot read: {}", path, std::strerror(errno));
      ::close(fd);
      return r;
    }
    if (n == 0) break;
    data.append(buf, static_cast<size_t>(n));
    if (data.size() > kMaxConfigFileSize) {  // also stops `-c /dev/zero`
      ::close(fd);
      r.error = fmt::format("{}: larger than {} MB: is this really the config file?", path,
                            kMaxConfigFileSize >> 20);
      return r;
    }
  }
  ::close(fd);
  r = LoadString(data, path, env);
  if (r.ok) r.config.source_path = path;
  return r;
}

std::vector<std::string> CurrentEnvironment() {
  std::vector<std::string> out;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    if (entry.starts_with("INSTANT_") || entry.starts_with("CENTRIFUGO_")) out.emplace_back(entry);
  }
  return out;
}

}  // namespace instant::config
