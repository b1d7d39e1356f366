#include "auth/claims_parser.h"

#include <cmath>
#include <limits>
#include <string>
#include <utility>

#include <simdjson.h>

#include "base/base64.h"

namespace instant::auth {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

// Payloads up to this size are parsed with a per-thread parser that keeps its buffers; larger
// ones (rare: big "info") get a parser of their own, so a single huge token does not pin
// megabytes on every loop thread for the life of the process.
constexpr size_t kRetainedParserCapacity = 64 * 1024;

/*---- Raw member skipping (input already validated) ----*/

bool IsJsonSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

size_t SkipSpace(std::string_view s, size_t i) {
  while (i < s.size() && IsJsonSpace(s[i])) ++i;
  return i;
}

// `i` at an opening quote; returns the index after the closing quote, or npos.
size_t SkipString(std::string_view s, size_t i) {
  if (i >= s.size() || s[i] != '"') return std::string_view::npos;
  for (++i; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;  // the escaped character cannot end the string; \uXXXX digits are harmless
    } else if (s[i] == '"') {
      return i + 1;
    }
  }
  return std::string_view::npos;
}

// `i` at the first byte of a value; returns the index just past it, or npos.
size_t SkipValue(std::string_view s, size_t i) {
  if (i >= s.size()) return std::string_view::npos;
  char c = s[i];
  if (c == '"') return SkipString(s, i);
  if (c == '{' || c == '[') {
    size_t depth = 0;
    while (i < s.size()) {
      char d = s[i];
      if (d == '"') {
        i = SkipString(s, i);
        if (i == std::string_view::npos) return i;
        continue;
      }
      if (d == '{' || d == '[') {
        ++depth;
      } else if (d == '}' || d == ']') {
        if (--depth == 0) return i + 1;
      }
      ++i;
    }
    return std::string_view::npos;
  }
  // number, true, false, null: runs to the next delimiter.
  size_t start = i;
  while (i < s.size() && !IsJsonSpace(s[i]) && s[i] != ',' && s[i] != '}' && s[i] != ']') ++i;
  return i == start ? std::string_view::npos : i;
}

/*---- Claim table ----*/

enum Claim : int {
  kSub,
  kExp,
  kNbf,
  kAud,
  kIss,
  kExpireAt,
  kInfo,
  kB64Info,
  kChannel,
  kChannels,
  kSubs,
  kMeta,
  kClient,
  kData,
  kB64Data,
  kOverride,
};

enum class Kind { kConnection, kSubscription };

constexpr uint8_t kForConnection = 1;
constexpr uint8_t kForSubscription = 2;

struct ClaimName {
  std::string_view name;
  Claim claim;
  uint8_t kinds;
};

// spec §4.3. iat, jti and the rest are ignored (Centrifugo OSS ignores them too).
constexpr ClaimName kClaims[] = {
    {"sub", kSub, kForConnection | kForSubscription},
    {"exp", kExp, kForConnection | kForSubscription},
    {"nbf", kNbf, kForConnection | kForSubscription},
    {"aud", kAud, kForConnection | kForSubscription},
    {"iss", kIss, kForConnection | kForSubscription},
    {"expire_at", kExpireAt, kForConnection | kForSubscription},
    {"info", kInfo, kForConnection | kForSubscription},
    {"b64info", kB64Info, kForConnection | kForSubscription},
    {"channel", kChannel, kForConnection | kForSubscription},
    {"channels", kChannels, kForConnection},
    {"subs", kSubs, kForConnection},
    {"meta", kMeta, kForConnection},
    {"client", kClient, kForSubscription},
    {"data", kData, kForSubscription},
    {"b64data", kB64Data, kForSubscription},
    {"override", kOverride, kForSubscription},
};

std::optional<Claim> LookUp(std::string_view key, Kind kind) {
  uint8_t bit = kind == Kind::kConnection ? kForConnection : kForSubscription;
  for (const ClaimName& c : kClaims) {
    if (c.name == key) {
      if ((c.kinds & bit) == 0) return std::nullopt;
      return c.claim;
    }
  }
  return std::nullopt;
}

/*---- Extraction ----*/

// What the payload said. Views point into the parser's document or into the payload, so a
// Fields lives no longer than both.
struct Fields {
  std::optional<std::string_view> sub, iss, channel, client, b64info, b64data;
  std::optional<int64_t> exp, nbf, expire_at;
  std::optional<element> aud;
  std::optional<simdjson::dom::array> channels;
  std::optional<std::string_view> info, meta, data, subs, overrides;  // raw JSON
};

enum class Rounding { kFloor, kCeil };

// RFC 7519 §2 NumericDate: seconds, possibly fractional. Saturates at the int64 range.
bool ToSeconds(element e, Rounding rounding, int64_t* out) {
  switch (e.type()) {
    case element_type::INT64:
      return e.get_int64().get(*out) == simdjson::SUCCESS;
    case element_type::UINT64: {
      uint64_t v = 0;
      if (e.get_uint64().get(v) != simdjson::SUCCESS) return false;
      *out = std::numeric_limits<int64_t>::max();  // only values > INT64_MAX land here
      return true;
    }
    case element_type::DOUBLE: {
      double d = 0;
      if (e.get_double().get(d) != simdjson::SUCCESS || std::isnan(d)) return false;
      d = rounding == Rounding::kFloor ? std::floor(d) : std::ceil(d);
      constexpr double kTwo63 = 9223372036854775808.0;
      if (d >= kTwo63) {
        *out = std::numeric_limits<int64_t>::max();
      } else if (d < -kTwo63) {
        *out = std::numeric_limits<int64_t>::min();
      } else {
        *out = static_cast<int64_t>(d);
      }
      return true;
    }
    default:
      return false;
  }
}

bool GetString(element e, std::optional<std::string_view>* out) {
  std::string_view s;
  if (e.get_string().get(s) != simdjson::SUCCESS) return false;
  *out = s;
  return true;
}

bool IsStringOrStringArray(element e) {
  if (e.type() == element_type::STRING) return true;
  simdjson::dom::array array;
  if (e.get_array().get(array) != simdjson::SUCCESS) return false;
  for (element item : array) {
    if (item.type() != element_type::STRING) return false;
  }
  return true;
}

// RFC 7519 §4.1.3: "aud" is a string or an array of strings; the recipient must be among them.
bool AudienceContains(element aud, std::string_view audience) {
  std::string_view s;
  if (aud.get_string().get(s) == simdjson::SUCCESS) return s == audience;
  simdjson::dom::array array;
  if (aud.get_array().get(array) != simdjson::SUCCESS) return false;
  for (element item : array) {
    if (item.get_string().get(s) == simdjson::SUCCESS && s == audience) return true;
  }
  return false;
}

// Steps 4 of the rules in verifier.h: shape and types. `root` was parsed from `payload`.
bool Extract(element root, std::string_view payload, Kind kind, Fields* f) {
  simdjson::dom::object object;
  if (root.get_object().get(object) != simdjson::SUCCESS) return false;  // RFC 7519 §7.2 step 10
  uint32_t seen = 0;
  size_t index = 0;
  for (simdjson::dom::key_value_pair member : object) {
    size_t member_index = index++;
    std::optional<Claim> claim = LookUp(member.key, kind);
    if (!claim) continue;
    // A repeated claim is ambiguous (RFC 7519 §4 says reject or take the last; parsers differ),
    // so refuse instead of guessing which one the issuer meant.
    uint32_t bit = 1u << *claim;
    if (seen & bit) return false;
    seen |= bit;
    element value = member.value;
    if (value.is_null()) continue;
    auto raw = [&](std::optional<std::string_view>* out) {
      *out = TopLevelMemberValue(payload, member_index);
      return out->has_value();
    };
    bool ok = true;
    switch (*claim) {
      case kSub:
        ok = GetString(value, &f->sub);
        break;
      case kIss:
        ok = GetString(value, &f->iss);
        break;
      case kChannel:
        ok = GetString(value, &f->channel);
        break;
      case kClient:
        ok = GetString(value, &f->client);
        break;
      case kB64Info:
        ok = GetString(value, &f->b64info);
        break;
      case kB64Data:
        ok = GetString(value, &f->b64data);
        break;
      case kExp: {
        int64_t v = 0;
        ok = ToSeconds(value, Rounding::kFloor, &v);
        f->exp = v;
        break;
      }
      case kNbf: {
        int64_t v = 0;
        ok = ToSeconds(value, Rounding::kCeil, &v);
        f->nbf = v;
        break;
      }
      case kExpireAt: {
        int64_t v = 0;
        ok = ToSeconds(value, Rounding::kFloor, &v);
        f->expire_at = v;
        break;
      }
      case kAud:
        ok = IsStringOrStringArray(value);
        f->aud = value;
        break;
      case kChannels: {
        ok = value.type() == element_type::ARRAY && IsStringOrStringArray(value);
        simdjson::dom::array array;
        if (ok && value.get_array().get(array) == simdjson::SUCCESS) f->channels = array;
        break;
      }
      case kSubs:
        ok = value.type() == element_type::OBJECT && raw(&f->subs);
        break;
      case kOverride:
        ok = value.type() == element_type::OBJECT && raw(&f->overrides);
        break;
      case kInfo:
        ok = raw(&f->info);
        break;
      case kMeta:
        ok = raw(&f->meta);
        break;
      case kData:
        ok = raw(&f->data);
        break;
    }
    if (!ok) return false;
  }
  return true;
}

bool IsValidJson(std::string_view text) {
  thread_local simdjson::dom::parser shared;
  std::optional<simdjson::dom::parser> own;
  simdjson::dom::parser& parser = text.size() <= kRetainedParserCapacity ? shared : own.emplace();
  element root;
  return parser.parse(text.data(), text.size()).get(root) == simdjson::SUCCESS;
}

// "b64info"/"b64data" (spec §4.3): base64 of bytes that replace the raw claim. Centrifugo uses
// the standard alphabet; Base64Decode takes both, with or without padding. Returns false only
// for bad base64; binary that is not JSON is dropped (the JSON protocol cannot carry it).
bool ApplyBase64(const std::optional<std::string>& b64, std::string* target) {
  if (!b64 || b64->empty()) return true;
  std::optional<std::string> decoded = Base64Decode(*b64);
  if (!decoded) return false;
  if (IsValidJson(*decoded)) *target = std::move(*decoded);
  return true;
}

// Steps 4-6 shared by both kinds. On kOk the caller converts `f` while `parser` is untouched.
TokenStatus ParseCommon(std::string_view payload, const ClaimChecks& checks, Kind kind,
                        simdjson::dom::parser& parser, Fields* f) {
  element root;
  if (parser.parse(payload.data(), payload.size()).get(root) != simdjson::SUCCESS) {
    return TokenStatus::kInvalid;
  }
  if (!Extract(root, payload, kind, f)) return TokenStatus::kInvalid;
  // Step 5, RFC 7519 §4.1.4/§4.1.5, no leeway (Centrifugo has none either).
  if (f->exp && *f->exp <= checks.now) return TokenStatus::kExpired;
  if (f->nbf && *f->nbf > checks.now) return TokenStatus::kExpired;
  // Step 6.
  if (!checks.audience.empty() && (!f->aud || !AudienceContains(*f->aud, checks.audience))) {
    return TokenStatus::kInvalid;
  }
  if (!checks.issuer.empty() && (!f->iss || *f->iss != checks.issuer)) {
    return TokenStatus::kInvalid;
  }
  return TokenStatus::kOk;
}

simdjson::dom::parser& PayloadParser(size_t size, std::optional<simdjson::dom::parser>* own) {
  thread_local simdjson::dom::parser shared;
  return size <= kRetainedParserCapacity ? shared : own->emplace();
}

std::string ToString(const std::optional<std::string_view>& v) {
  return v ? std::string(*v) : std::string();
}

}  // namespace

std::optional<std::string_view> TopLevelMemberValue(std::string_view json, size_t index) {
  constexpr size_t npos = std::string_view::npos;
  size_t i = SkipSpace(json, 0);
  if (i >= json.size() || json[i] != '{') return std::nullopt;
  ++i;
  for (size_t k = 0;; ++k) {
    i = SkipSpace(json, i);
    i = SkipString(json, i);  // the key
    if (i == npos) return std::nullopt;
    i = SkipSpace(json, i);
    if (i >= json.size() || json[i] != ':') return std::nullopt;
    size_t start = SkipSpace(json, i + 1);
    size_t end = SkipValue(json, start);
    if (end == npos) return std::nullopt;
    if (k == index) return json.substr(start, end - start);
    i = SkipSpace(json, end);
    if (i >= json.size() || json[i] != ',') return std::nullopt;  // '}' = no such member
    ++i;
  }
}

TokenStatus ParseConnectionClaims(std::string_view payload, const ClaimChecks& checks,
                                  ConnectionClaims* out) {
  std::optional<simdjson::dom::parser> own;
  simdjson::dom::parser& parser = PayloadParser(payload.size(), &own);
  Fields f;
  TokenStatus status = ParseCommon(payload, checks, Kind::kConnection, parser, &f);
  if (status != TokenStatus::kOk) return status;
  // spec §4.3: a subscription token (it always has a channel) must not open a connection.
  // Like Centrifugo, "channel": "" is tolerated.
  if (f.channel && !f.channel->empty()) return TokenStatus::kInvalid;

  ConnectionClaims claims;
  claims.user = ToString(f.sub);
  claims.exp = f.exp;
  claims.expire_at = f.expire_at;
  claims.info = ToString(f.info);
  claims.meta = ToString(f.meta);
  claims.subs = ToString(f.subs);
  if (f.channels) {
    claims.channels.reserve(f.channels->size());
    for (element item : *f.channels) {
      std::string_view s;
      if (item.get_string().get(s) == simdjson::SUCCESS) claims.channels.emplace_back(s);
    }
  }
  // Copy before ApplyBase64 may parse again (views into the parser die then).
  std::optional<std::string> b64info;
  if (f.b64info) b64info.emplace(*f.b64info);
  if (!ApplyBase64(b64info, &claims.info)) return TokenStatus::kInvalid;
  *out = std::move(claims);
  return TokenStatus::kOk;
}

TokenStatus ParseSubscriptionClaims(std::string_view payload, const ClaimChecks& checks,
                                    SubscriptionClaims* out) {
  std::optional<simdjson::dom::parser> own;
  simdjson::dom::parser& parser = PayloadParser(payload.size(), &own);
  Fields f;
  TokenStatus status = ParseCommon(payload, checks, Kind::kSubscription, parser, &f);
  if (status != TokenStatus::kOk) return status;
  // spec §4.3: required; a connection token (no channel) cannot authorize a subscription.
  if (!f.channel || f.channel->empty()) return TokenStatus::kInvalid;

  SubscriptionClaims claims;
  claims.user = ToString(f.sub);
  claims.channel = ToString(f.channel);
  claims.client = ToString(f.client);
  claims.exp = f.exp;
  claims.expire_at = f.expire_at;
  claims.info = ToString(f.info);
  claims.data = ToString(f.data);
  claims.overrides = ToString(f.overrides);
  std::optional<std::string> b64info, b64data;
  if (f.b64info) b64info.emplace(*f.b64info);
  if (f.b64data) b64data.emplace(*f.b64data);
  if (!ApplyBase64(b64info, &claims.info) || !ApplyBase64(b64data, &claims.data)) {
    return TokenStatus::kInvalid;
  }
  *out = std::move(claims);
  return TokenStatus::kOk;
}

}  // namespace instant::auth
