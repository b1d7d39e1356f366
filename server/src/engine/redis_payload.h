#pragma once
// What the Redis engine writes into Redis: PUB/SUB payloads between nodes, history entries and
// presence values. Our own format (spec §8.2 notes Centrifugo's protobuf one matters only when
// sharing a Redis with real Centrifugo nodes, which we do not support under the same prefix).
//
// Building block, a length-prefixed field:   F(x) := <decimal byte length of x> ':' x
// (binary-safe, cheap to produce in Lua as `#x .. ':' .. x`, and parsed without allocation).
//
//   publication payload  := "#i1p" F(channel) F(offset) F(epoch) body
//                           offset in decimal ("0" and epoch "" for a channel without history).
//                           The add-history script receives "#i1p" F(channel) and body from us
//                           and inserts F(offset) F(epoch) itself, so every node sees the offset
//                           that Redis assigned, in the order Redis assigned it.
//   body                 := F(data) F(tags) info       (also the history STREAM entry, field "b")
//   info                 := "-"                                  no ClientInfo (API publish)
//                         | "c" F(user) F(client) F(conn_info) F(chan_info)   a client's publish
//                         | "j" F(json)      a pre-encoded ClientInfo object (HistoryStore::Add
//                                            of a StoredPublication; never PUBLISHed)
//   join / leave payload := "#i1j" | "#i1l", then F(channel) F(user) F(client) F(conn_info)
//                           F(chan_info)
//   presence value       := F(user) F(conn_info) F(chan_info)    (the client id is the hash field;
//                           the user comes first so the stats script can count users in Lua)
//
// data, conn_info, chan_info, tags are raw JSON ("" = none) copied as is.
//
// Decoding never allocates for PUB/SUB payloads (views into the payload) and rejects anything
// malformed (returns false): a payload from a foreign writer on our prefix is dropped, not
// trusted.

#include <cstdint>
#include <string>
#include <string_view>

#include "engine/broker.h"
#include "engine/history.h"
#include "engine/presence.h"

namespace instant::engine::redis_payload {

inline constexpr std::string_view kPublicationMagic = "#i1p";
inline constexpr std::string_view kJoinMagic = "#i1j";
inline constexpr std::string_view kLeaveMagic = "#i1l";

void AppendField(std::string& out, std::string_view value);
void AppendField(std::string& out, uint64_t value);

// "#i1p" F(channel): what precedes the offset.
void AppendPublicationHead(std::string& out, std::string_view channel);
// F(data) F(tags) info, from a broker publication (info "c" when has_info, else "-").
void AppendPublicationBody(std::string& out, const Publication& pub);
// The same from a stored publication (info "j" when pub.info is set, else "-").
void AppendStoredBody(std::string& out, const StoredPublication& pub);
// A complete publication payload with pub.offset / pub.epoch.
void AppendPublication(std::string& out, const Publication& pub);
void AppendJoinLeave(std::string& out, const JoinLeave& event);

enum class Kind { kPublication, kJoinLeave };
struct Decoded {
  Kind kind = Kind::kPublication;
  Publication pub;   // kPublication: views into the payload
  JoinLeave event;   // kJoinLeave
};
bool Decode(std::string_view payload, Decoded* out);

// A history entry body -> StoredPublication (info re-encoded as a ClientInfo JSON object).
bool DecodeStoredBody(std::string_view body, uint64_t offset, StoredPublication* out);

void AppendPresenceValue(std::string& out, const PresenceEntry& entry);
bool DecodePresenceValue(std::string_view client, std::string_view value, PresenceEntry* out);

}  // namespace instant::engine::redis_payload
