#pragma once
// What a verified Centrifugo token grants (spec centrifugo-protocol.md §4.3). Plain values with
// no references into the token, so a session may keep them as long as it likes.
//
// Raw JSON fields ("info", "meta", "data", "subs", "override") hold the claim's bytes exactly as
// the token issuer wrote them, whitespace included: they were validated as part of the payload
// (RFC 8259 + UTF-8) and are spliced into replies unchanged (json::AppendRaw drops raw newlines).
// A claim whose value is JSON null is treated as absent everywhere ("" / nullopt), as Go's
// encoding/json does for Centrifugo's optional fields.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace instant::auth {

struct ConnectionClaims {
  std::string user;                  // "sub" ("" = anonymous user)
  std::optional<int64_t> exp;        // "exp", seconds since epoch (RFC 7519 §4.1.4)
  std::optional<int64_t> expire_at;  // present -> overrides exp for session expiry; 0 = never
  // Raw JSON of "info", or the decoded "b64info" (standard or url alphabet, padding optional)
  // when that decodes to valid JSON; b64info wins when both are present, as in Centrifugo.
  // b64info that is not base64 makes the token invalid; b64info that decodes to something that
  // is not JSON (binary info meant for protobuf clients) is ignored, because the JSON protocol
  // could not carry it. "" if none.
  std::string info;
  std::vector<std::string> channels;  // "channels": server-side subscriptions at connect
  std::string meta;                   // raw JSON of "meta", "" if none
  // Added beyond the brief: raw JSON object of "subs" (channel -> {info, b64info, data, b64data,
  // override}), "" if none. Only its top-level type (object) is checked here; the session
  // layer interprets the members.
  std::string subs;
};

struct SubscriptionClaims {
  std::string user;                  // "sub"; the session compares it with the connection's user
  std::string channel;               // "channel" (required, non-empty)
  std::string client;                // optional legacy (v3) "client": must equal the client id
  std::optional<int64_t> exp;        // "exp"
  std::optional<int64_t> expire_at;  // overrides exp for subscription expiry; 0 = never
  std::string info;                  // raw JSON ("info" or b64info as above) -> chan_info
  std::string data;                  // raw JSON of "data" (or b64data, as b64info) -> result data
  // Added beyond the brief: raw JSON object of "override" (presence, join_leave, ... each
  // {"value": bool}), "" if none. Top-level type checked only.
  std::string overrides;
};

}  // namespace instant::auth
