#pragma once
// One decoded client command: the same plain struct for protocol v1 and v2 (spec §2, §3), filled
// by CommandDecoder without heap allocation. All string fields are views; see Command below for
// how long they live.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace instant::protocol {

// Values are the v2 method-key order (spec §2.1: when several keys are present the first in this
// order wins) and, for kConnect..kSubRefresh, also the v1 integer method numbers (spec §3.1).
enum class Method : uint8_t {
  kConnect,
  kSubscribe,
  kUnsubscribe,
  kPublish,
  kPresence,
  kPresenceStats,
  kHistory,
  kPing,
  kSend,
  kRpc,
  kRefresh,
  kSubRefresh,
  kPong,  // v2 command without a method key, e.g. the pong `{}` (spec §1.6); never produced in v1
};

// Number of methods that have a key / v1 number (kConnect..kSubRefresh).
inline constexpr size_t kNumKeyedMethods = 12;

// The v2 JSON key of a method ("connect", "presence_stats", ...); "" for kPong. Also the result
// key of its v2 reply (spec §2.1).
std::string_view MethodName(Method m);

struct StreamPosition {
  uint64_t offset = 0;
  std::string_view epoch;
};

// One `connect.subs` entry: recovery state of a server-side subscription (spec §2.3, §6.3).
struct SubRecovery {
  std::string_view channel;
  bool recover = false;
  StreamPosition pos;
};

// The union of all request fields; which ones a method fills is listed per field. Fields the
// command did not carry keep their defaults. JSON `null` counts as absent for every field except
// `data`, where it is the JSON value null (has_data = true, data = "null"), as in lib's Raw type.
struct Command {
  static constexpr size_t kMaxSubs = 16;

  uint32_t id = 0;  // 0 when absent; the session enforces id rules (spec §2.1), not the decoder
  Method method = Method::kPong;

  // Every view points into the decoded message (`data`) or into the decoder's string buffer
  // (strings, unescaped: "\u0024users" -> "$users"); valid until the decoder's next Next()/Reset().
  std::string_view token;  // connect, subscribe, refresh, sub_refresh
  std::string_view
      channel;            // subscribe, unsubscribe, publish, presence(_stats), history, sub_refresh
  std::string_view name;  // connect: client name ("js")
  std::string_view version;     // connect: client app version
  std::string_view rpc_method;  // rpc: `method`
  std::string_view delta;       // subscribe: requested delta format ("fossil")

  // connect, subscribe, publish, send, rpc: the value exactly as received (original bytes,
  // trailing whitespace trimmed; inner whitespace kept), fully validated as one JSON value.
  std::string_view data;
  bool has_data = false;

  // subscribe flags (positioned/recoverable/join_leave exist in v2 only, but are read in v1 too).
  bool recover = false, positioned = false, recoverable = false, join_leave = false;
  bool reverse = false;     // history
  StreamPosition position;  // subscribe: `offset`/`epoch` to recover from

  bool has_since = false;  // history: `since` present (even `{}`)
  StreamPosition since;
  int32_t limit = 0;  // history

  SubRecovery subs[kMaxSubs];  // connect.subs, in message order; a duplicate channel overwrites
  size_t num_subs = 0;         // more than kMaxSubs entries -> decode error
};

}  // namespace instant::protocol
