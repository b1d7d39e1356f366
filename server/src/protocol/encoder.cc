#include "protocol/encoder.h"

#include "base/json_writer.h"

namespace instant::protocol {

namespace {

// Writes a JSON object field by field; the first field gets no comma. `key` is a literal such as
// "\"data\":" so that each field costs one append.
class ObjectWriter {
 public:
  explicit ObjectWriter(std::string& out) : out_(out) { out_ += '{'; }
  ~ObjectWriter() { out_ += '}'; }
  ObjectWriter(const ObjectWriter&) = delete;
  ObjectWriter& operator=(const ObjectWriter&) = delete;

  std::string& Key(std::string_view key) {
    if (!first_) out_ += ',';
    first_ = false;
    out_.append(key);
    return out_;
  }
  void Bool(std::string_view key, bool v) {
    if (v) Key(key).append("true");
  }
  void Uint(std::string_view key, uint64_t v) {
    if (v != 0) json::AppendUint(Key(key), v);
  }
  void String(std::string_view key, std::string_view v) {
    if (!v.empty()) json::AppendString(Key(key), v);
  }
  void Raw(std::string_view key, std::string_view v) {
    if (!v.empty()) json::AppendRaw(Key(key), v);
  }

 private:
  std::string& out_;
  bool first_ = true;
};

void AppendClientInfo(std::string& out, const ClientInfo& info) {
  out += "{\"user\":";
  json::AppendString(out, info.user);
  out += ",\"client\":";
  json::AppendString(out, info.client);
  if (!info.conn_info.empty()) {
    out += ",\"conn_info\":";
    json::AppendRaw(out, info.conn_info);
  }
  if (!info.chan_info.empty()) {
    out += ",\"chan_info\":";
    json::AppendRaw(out, info.chan_info);
  }
  out += '}';
}

void AppendPublication(std::string& out, const Publication& p);

}  // namespace

void AppendClientInfoObject(std::string& out, const ClientInfo& info) { AppendClientInfo(out, info); }

namespace {

void AppendPublication(std::string& out, const Publication& p) {
  ObjectWriter o(out);
  o.Raw("\"data\":", p.data);
  if (p.info != nullptr) {
    AppendClientInfo(o.Key("\"info\":"), *p.info);
  } else if (!p.info_raw.empty()) {
    o.Raw("\"info\":", p.info_raw);
  }
  o.Uint("\"offset\":", p.offset);
  if (!p.tags.empty()) o.Raw("\"tags\":", p.tags);
}

// SubscribeResult in client.proto order: expires, ttl, recoverable, epoch, publications,
// recovered, offset, positioned, data, was_recovering (v2 only).
void AppendSubscribeResult(std::string& out, const SubscribeResult& r, Version v) {
  ObjectWriter o(out);
  o.Bool("\"expires\":", r.expires);
  o.Uint("\"ttl\":", r.ttl);
  o.Bool("\"recoverable\":", r.recoverable);
  o.String("\"epoch\":", r.epoch);
  if (r.num_publications > 0 && r.publications != nullptr) {
    std::string& s = o.Key("\"publications\":");
    s += '[';
    for (size_t i = 0; i < r.num_publications; ++i) {
      if (i > 0) s += ',';
      AppendPublication(s, r.publications[i]);
    }
    s += ']';
  }
  o.Bool("\"recovered\":", r.recovered);
  o.Uint("\"offset\":", r.offset);
  o.Bool("\"positioned\":", r.positioned);
  o.Raw("\"data\":", r.data);
  if (v == Version::kV2) o.Bool("\"was_recovering\":", r.was_recovering);
}

// `{"id":N,"<key>":` (v2) or `{"id":N,"result":` (v1); the caller writes the value and '}'.
void OpenReply(std::string& out, Version v, uint32_t id, Method m) {
  out += '{';
  if (id != 0) {
    out += "\"id\":";
    json::AppendUint(out, id);
    out += ',';
  }
  if (v == Version::kV2) {
    out += '"';
    out.append(MethodName(m));
    out += "\":";
  } else {
    out += "\"result\":";
  }
}

// `{"push":{"channel":"ch","<type>":` (v2) or `{"result":{"type":T,"channel":"ch","data":` (v1);
// the caller writes the body and ClosePush(). Empty channel is omitted (message push).
void OpenPush(std::string& out, Version v, std::string_view channel, std::string_view v2_type,
              int v1_type) {
  if (v == Version::kV2) {
    out += "{\"push\":{";
    if (!channel.empty()) {
      out += "\"channel\":";
      json::AppendString(out, channel);
      out += ',';
    }
    out += '"';
    out.append(v2_type);
    out += "\":";
  } else {
    out += "{\"result\":{";
    if (v1_type != 0) {
      out += "\"type\":";
      json::AppendUint(out, static_cast<uint64_t>(v1_type));
      out += ',';
    }
    if (!channel.empty()) {
      out += "\"channel\":";
      json::AppendString(out, channel);
      out += ',';
    }
    out += "\"data\":";
  }
}

void ClosePush(std::string& out) { out += "}}"; }

// v1 push types (spec §3.1).
constexpr int kV1Publication = 0, kV1Join = 1, kV1Leave = 2, kV1Unsubscribe = 3, kV1Message = 4,
              kV1Subscribe = 5;

void AppendJoinLeave(std::string& out, Version v, std::string_view channel, const ClientInfo& info,
                     bool join) {
  OpenPush(out, v, channel, join ? "join" : "leave", join ? kV1Join : kV1Leave);
  out += "{\"info\":";
  AppendClientInfo(out, info);
  out += '}';
  ClosePush(out);
}

}  // namespace

void AppendConnectReply(std::string& out, Version v, uint32_t id, const ConnectResult& r) {
  OpenReply(out, v, id, Method::kConnect);
  {
    // client.proto order: client, version, expires, ttl, data, subs, ping, pong.
    ObjectWriter o(out);
    o.String("\"client\":", r.client);
    o.String("\"version\":", r.version);
    o.Bool("\"expires\":", r.expires);
    o.Uint("\"ttl\":", r.ttl);
    o.Raw("\"data\":", r.data);
    o.Raw("\"subs\":", r.subs_raw);
    if (v == Version::kV2) {  // v1 ConnectResult has no ping/pong (spec §3.1)
      o.Uint("\"ping\":", r.ping);
      o.Bool("\"pong\":", r.pong);
    }
  }
  out += '}';
}

void AppendSubscribeReply(std::string& out, Version v, uint32_t id, const SubscribeResult& r) {
  OpenReply(out, v, id, Method::kSubscribe);
  AppendSubscribeResult(out, r, v);
  out += '}';
}

void AppendSubscribeResultObject(std::string& out, const SubscribeResult& r) {
  AppendSubscribeResult(out, r, Version::kV2);
}

void AppendRefreshReply(std::string& out, Version v, uint32_t id, Method m,
                        const RefreshResult& r) {
  OpenReply(out, v, id, m);
  {
    ObjectWriter o(out);
    if (m == Method::kRefresh) {
      o.String("\"client\":", r.client);
      o.String("\"version\":", r.version);
    }
    o.Bool("\"expires\":", r.expires);
    o.Uint("\"ttl\":", r.ttl);
  }
  out += '}';
}

void AppendEmptyReply(std::string& out, Version v, uint32_t id, Method m) {
  const bool has_result =
      static_cast<size_t>(m) < kNumKeyedMethods && !(v == Version::kV1 && m == Method::kPing);
  if (!has_result) {  // v1 ping reply is a Reply without result (lib v0.18)
    out += '{';
    if (id != 0) {
      out += "\"id\":";
      json::AppendUint(out, id);
    }
    out += '}';
    return;
  }
  OpenReply(out, v, id, m);
  out += "{}}";
}

void AppendErrorReply(std::string& out, Version v, uint32_t id, const ErrorCode& e) {
  out += '{';
  if (id != 0) {
    out += "\"id\":";
    json::AppendUint(out, id);
    out += ',';
  }
  out += "\"error\":{\"code\":";
  json::AppendUint(out, e.code);
  out += ",\"message\":";
  json::AppendString(out, e.message);
  if (e.temporary && v == Version::kV2) out += ",\"temporary\":true";
  out += "}}";
}

void AppendPresenceReply(std::string& out, Version v, uint32_t id, const ClientInfo* clients,
                         size_t num_clients) {
  OpenReply(out, v, id, Method::kPresence);
  out += "{\"presence\":{";
  for (size_t i = 0; i < num_clients; ++i) {
    if (i > 0) out += ',';
    json::AppendString(out, clients[i].client);
    out += ':';
    AppendClientInfo(out, clients[i]);
  }
  out += "}}}";
}

void AppendPresenceStatsReply(std::string& out, Version v, uint32_t id, uint32_t num_clients,
                              uint32_t num_users) {
  OpenReply(out, v, id, Method::kPresenceStats);
  out += "{\"num_clients\":";
  json::AppendUint(out, num_clients);
  out += ",\"num_users\":";
  json::AppendUint(out, num_users);
  out += "}}";
}

void AppendHistoryReply(std::string& out, Version v, uint32_t id, const HistoryResult& r) {
  OpenReply(out, v, id, Method::kHistory);
  out += "{\"publications\":[";
  for (size_t i = 0; r.publications != nullptr && i < r.num_publications; ++i) {
    if (i > 0) out += ',';
    AppendPublication(out, r.publications[i]);
  }
  out += "],\"epoch\":";
  json::AppendString(out, r.epoch);
  out += ",\"offset\":";
  json::AppendUint(out, r.offset);
  out += "}}";
}

void AppendRpcReply(std::string& out, Version v, uint32_t id, std::string_view data) {
  OpenReply(out, v, id, Method::kRpc);
  {
    ObjectWriter o(out);
    o.Raw("\"data\":", data);
  }
  out += '}';
}

void AppendPublicationPush(std::string& out, Version v, std::string_view channel,
                           const Publication& p) {
  OpenPush(out, v, channel, "pub", kV1Publication);
  AppendPublication(out, p);
  ClosePush(out);
}

void AppendJoinPush(std::string& out, Version v, std::string_view channel, const ClientInfo& info) {
  AppendJoinLeave(out, v, channel, info, true);
}

void AppendLeavePush(std::string& out, Version v, std::string_view channel,
                     const ClientInfo& info) {
  AppendJoinLeave(out, v, channel, info, false);
}

void AppendUnsubscribePush(std::string& out, Version v, std::string_view channel, uint32_t code,
                           std::string_view reason) {
  OpenPush(out, v, channel, "unsubscribe", kV1Unsubscribe);
  if (v == Version::kV2) {
    ObjectWriter o(out);
    o.Uint("\"code\":", code);
    o.String("\"reason\":", reason);
  } else {
    out += "{}";
  }
  ClosePush(out);
}

void AppendSubscribePush(std::string& out, Version v, std::string_view channel,
                         const SubscribeResult& r) {
  OpenPush(out, v, channel, "subscribe", kV1Subscribe);
  {
    // client.proto Subscribe: recoverable, epoch, offset, positioned, data.
    ObjectWriter o(out);
    o.Bool("\"recoverable\":", r.recoverable);
    o.String("\"epoch\":", r.epoch);
    o.Uint("\"offset\":", r.offset);
    o.Bool("\"positioned\":", r.positioned);
    o.Raw("\"data\":", r.data);
  }
  ClosePush(out);
}

void AppendMessagePush(std::string& out, Version v, std::string_view data) {
  OpenPush(out, v, {}, "message", kV1Message);
  {
    ObjectWriter o(out);
    o.Raw("\"data\":", data);
  }
  ClosePush(out);
}

void AppendPing(std::string& out) { out += "{}"; }

}  // namespace instant::protocol
