#pragma once
// Encoders of replies and pushes, protocol v2 and v1 over JSON (spec §2, §3).
//
// Every function appends exactly ONE line to `out`: no '\n' before or after, and none inside
// (spec §1.4: frames are '\n'-joined lines; embedded raw JSON goes through json::AppendRaw, which
// drops raw newline bytes). The caller joins lines with '\n' inside a frame.
//
// Field names, order and omission follow the Go encoders (client.proto field order, omitempty,
// spec §2.1): zero/empty fields are left out, except ClientInfo.user/client which are always
// written. Raw JSON inputs (`data`, infos, subs_raw) must be valid JSON values; they are spliced,
// not checked. Strings (channels, reasons, epochs) are escaped. No allocation beyond growing `out`.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "protocol/codes.h"
#include "protocol/command.h"

namespace instant::protocol {

// Raw JSON infos; "" = omitted (user and client are always written, possibly as "").
struct ClientInfo {
  std::string_view user, client, conn_info, chan_info;
};

struct Publication {
  std::string_view data;             // raw JSON
  uint64_t offset = 0;               // 0 = omitted (channel without history)
  const ClientInfo* info = nullptr;  // set for publications from a client `publish`
  std::string_view info_raw{};       // alternative to `info`: a pre-encoded ClientInfo object (history)
  std::string_view tags{};           // raw JSON object of strings; "" = omitted
};
// The ClientInfo object {"user":..,"client":..,"conn_info"?,"chan_info"?} (stored with history).
void AppendClientInfoObject(std::string& out, const ClientInfo& info);

struct ConnectResult {
  std::string_view client, version;
  bool expires = false;
  uint32_t ttl = 0;
  uint32_t ping = 0;          // v2 only
  bool pong = false;          // v2 only
  std::string_view data;      // raw JSON
  std::string_view subs_raw;  // pre-encoded JSON object channel -> SubscribeResult, "" = omit
};

struct SubscribeResult {
  bool expires = false;
  uint32_t ttl = 0;
  bool recoverable = false, positioned = false;
  std::string_view epoch;
  uint64_t offset = 0;
  bool recovered = false;
  bool was_recovering = false;                // v2 only (no such field in v1)
  std::string_view data;                      // raw JSON
  const Publication* publications = nullptr;  // written only when num_publications > 0
  size_t num_publications = 0;
};

struct RefreshResult {
  std::string_view client, version;  // kRefresh only (SubRefreshResult has neither)
  bool expires = false;
  uint32_t ttl = 0;
};

// Replies. v2: {"id":N,"<method key>":{result}}; v1: {"id":N,"result":{result}}. "id" is
// omitted when 0 (Go omitempty).
void AppendConnectReply(std::string& out, Version v, uint32_t id, const ConnectResult& r);
void AppendSubscribeReply(std::string& out, Version v, uint32_t id, const SubscribeResult& r);
// The bare v2 SubscribeResult object, for building ConnectResult::subs_raw ({"chan":<this>,...}).
void AppendSubscribeResultObject(std::string& out, const SubscribeResult& r);
// `m` is kRefresh (client, version, expires, ttl) or kSubRefresh (expires, ttl).
void AppendRefreshReply(std::string& out, Version v, uint32_t id, Method m, const RefreshResult& r);
// Empty result: v2 {"id":3,"publish":{}}; v1 {"id":3,"result":{}}; v1 ping {"id":3} (spec §3.1).
// For kPong/kSend (which have no reply) it writes {"id":3}.
void AppendEmptyReply(std::string& out, Version v, uint32_t id, Method m);
// {"id":N,"error":{"code":C,"message":"..","temporary":true}}; `temporary` only when set and
// only in v2 (v1's Error has code and message only).
void AppendErrorReply(std::string& out, Version v, uint32_t id, const ErrorCode& e);

// Presence, history and RPC results (spec §2.7-§2.9); same bodies in v1 under "result".
// {"presence":{"<client>":{ClientInfo},...}}: keyed by each entry's `client`; always written,
// {} when empty.
void AppendPresenceReply(std::string& out, Version v, uint32_t id, const ClientInfo* clients,
                         size_t num_clients);
// {"num_clients":N,"num_users":M}: both always written, even 0.
void AppendPresenceStatsReply(std::string& out, Version v, uint32_t id, uint32_t num_clients,
                              uint32_t num_users);
struct HistoryResult {
  const Publication* publications = nullptr;
  size_t num_publications = 0;
  std::string_view epoch;
  uint64_t offset = 0;
};
// {"publications":[..],"epoch":"..","offset":N}: all three always written; no publications is []
// (Go may write null; [] is what every client iterates safely).
void AppendHistoryReply(std::string& out, Version v, uint32_t id, const HistoryResult& r);
// {"data":<raw>} (data omitted when empty).
void AppendRpcReply(std::string& out, Version v, uint32_t id, std::string_view data);

// Pushes. v2: {"push":{"channel":"ch","<type>":{body}}}; v1: {"result":{"type":T,"channel":"ch",
// "data":{body}}} with type omitted when 0 (publication) (spec §2.11, §3.1).
// Publication body: {"data":..,"info":{..},"offset":N} (each omitted when empty/zero).
void AppendPublicationPush(std::string& out, Version v, std::string_view channel,
                           const Publication& p);
// Join/leave body {"info":{ClientInfo}}; v1 types 1 and 2.
void AppendJoinPush(std::string& out, Version v, std::string_view channel, const ClientInfo& info);
void AppendLeavePush(std::string& out, Version v, std::string_view channel, const ClientInfo& info);
// v2 body {"code":C,"reason":".."}; v1 type 3 with data {} (the v1 Unsubscribe message is empty).
void AppendUnsubscribePush(std::string& out, Version v, std::string_view channel, uint32_t code,
                           std::string_view reason);
// Server-side subscription (spec §2.11): body {"recoverable","epoch","offset","positioned","data"}
// taken from `r`; v1 type 5.
void AppendSubscribePush(std::string& out, Version v, std::string_view channel,
                         const SubscribeResult& r);
// Asynchronous message, no channel: v2 {"push":{"message":{"data":..}}};
// v1 {"result":{"type":4,"data":{"data":..}}}.
void AppendMessagePush(std::string& out, Version v, std::string_view data);
// v2 server ping: the empty reply "{}" (spec §1.6). v1 uses WebSocket-level pings instead.
void AppendPing(std::string& out);

}  // namespace instant::protocol
