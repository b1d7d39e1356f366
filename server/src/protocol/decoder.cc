#include "protocol/decoder.h"

#include <cstdint>
#include <cstring>
#include <limits>
#include <utility>

#include <simdjson.h>

#include "protocol/json_check.h"

namespace instant::protocol {

static_assert(simdjson::SIMDJSON_PADDING <= kMessagePadding,
              "the framing contract must cover simdjson's read-ahead");

namespace {

namespace od = simdjson::ondemand;

// ---- Field tables ------------------------------------------------------------------------------

// Request fields, one bit each. A method reads only its own fields and ignores the others, as
// lib's per-method request structs do (an unknown-for-this-method field is never a type error).
enum Field : uint8_t {
  kFToken,
  kFData,
  kFSubs,
  kFName,
  kFVersion,
  kFChannel,
  kFRecover,
  kFEpoch,
  kFOffset,
  kFPositioned,
  kFRecoverable,
  kFJoinLeave,
  kFDelta,
  kFLimit,
  kFSince,
  kFReverse,
  kFMethod,
  kFUnknown,
};

constexpr uint32_t Bit(Field f) { return uint32_t{1} << f; }

// Indexed by Method (kConnect..kSubRefresh); field sets of client.proto's request messages.
constexpr uint32_t kMethodFields[kNumKeyedMethods] = {
    /* connect */ Bit(kFToken) | Bit(kFData) | Bit(kFSubs) | Bit(kFName) | Bit(kFVersion),
    /* subscribe */ Bit(kFChannel) | Bit(kFToken) | Bit(kFData) | Bit(kFRecover) | Bit(kFEpoch) |
        Bit(kFOffset) | Bit(kFPositioned) | Bit(kFRecoverable) | Bit(kFJoinLeave) | Bit(kFDelta),
    /* unsubscribe */ Bit(kFChannel),
    /* publish */ Bit(kFChannel) | Bit(kFData),
    /* presence */ Bit(kFChannel),
    /* presence_stats */ Bit(kFChannel),
    /* history */ Bit(kFChannel) | Bit(kFLimit) | Bit(kFSince) | Bit(kFReverse),
    /* ping */ 0,
    /* send */ Bit(kFData),
    /* rpc */ Bit(kFMethod) | Bit(kFData),
    /* refresh */ Bit(kFToken),
    /* sub_refresh */ Bit(kFChannel) | Bit(kFToken),
};

Field LookupField(std::string_view k) {
  switch (k.size()) {
    case 4:
      if (k == "data") return kFData;
      if (k == "subs") return kFSubs;
      if (k == "name") return kFName;
      break;
    case 5:
      if (k == "token") return kFToken;
      if (k == "epoch") return kFEpoch;
      if (k == "delta") return kFDelta;
      if (k == "limit") return kFLimit;
      if (k == "since") return kFSince;
      break;
    case 6:
      if (k == "offset") return kFOffset;
      if (k == "method") return kFMethod;
      break;
    case 7:
      if (k == "channel") return kFChannel;
      if (k == "version") return kFVersion;
      if (k == "recover") return kFRecover;
      if (k == "reverse") return kFReverse;
      break;
    case 10:
      if (k == "positioned") return kFPositioned;
      if (k == "join_leave") return kFJoinLeave;
      break;
    case 11:
      if (k == "recoverable") return kFRecoverable;
      break;
  }
  return kFUnknown;
}

constexpr int kNoMethod = static_cast<int>(kNumKeyedMethods);

// v2 method key -> Method value (= priority), kNoMethod if `k` is not a method key.
int LookupMethodKey(std::string_view k) {
  for (size_t i = 0; i < kNumKeyedMethods; ++i) {
    if (k == MethodName(static_cast<Method>(i))) return static_cast<int>(i);
  }
  return kNoMethod;
}

bool IsJsonSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view TrimRight(std::string_view s) {
  while (!s.empty() && IsJsonSpace(s.back())) s.remove_suffix(1);
  return s;
}

// Resets every field (subs entries past num_subs are never read, so they are left alone: the
// array is most of the struct).
void ResetCommand(Command* c) {
  c->id = 0;
  c->method = Method::kPong;
  c->token = c->channel = c->name = c->version = c->rpc_method = c->delta = c->data = {};
  c->has_data = false;
  c->recover = c->positioned = c->recoverable = c->join_leave = c->reverse = false;
  c->position = {};
  c->has_since = false;
  c->since = {};
  c->limit = 0;
  c->num_subs = 0;
}

// ---- Body decoding -----------------------------------------------------------------------------

// Reads method bodies / v1 params into a Command. Keeps the first failure reason.
class BodyReader {
 public:
  const char* error() const { return error_; }

  bool Fail(const char* why) {
    error_ = why;
    return false;
  }

  // `obj` is a method body (v2) or `params` (v1) of method `m` (< kNumKeyedMethods).
  bool ReadBody(od::object& obj, Method m, Command* c) {
    const uint32_t allowed = kMethodFields[static_cast<size_t>(m)];
    for (auto field_result : obj) {
      od::field field;
      if (std::move(field_result).get(field) != simdjson::SUCCESS) {
        return Fail("malformed method body");
      }
      std::string_view key;
      if (field.unescaped_key().get(key) != simdjson::SUCCESS) return Fail("malformed key");
      const Field f = LookupField(key);
      if (f == kFUnknown || (allowed & Bit(f)) == 0) continue;  // skipped by the iterator
      od::value& value = field.value();
      od::json_type type;
      if (value.type().get(type) != simdjson::SUCCESS) return Fail("malformed value");
      if (type == od::json_type::null && f != kFData) continue;
      if (!ReadField(f, value, type, c)) return false;
    }
    return true;
  }

  bool ReadId(od::value& value, uint32_t* id) {
    od::json_type type;
    if (value.type().get(type) != simdjson::SUCCESS) return Fail("malformed id");
    if (type == od::json_type::null) return true;
    uint64_t v;
    if (value.get_uint64().get(v) != simdjson::SUCCESS) {
      return Fail("id is not an unsigned integer");
    }
    if (v > std::numeric_limits<uint32_t>::max()) return Fail("id does not fit uint32");
    *id = static_cast<uint32_t>(v);
    return true;
  }

 private:
  bool ReadField(Field f, od::value& value, od::json_type type, Command* c) {
    switch (f) {
      case kFToken:
        return ReadString(value, &c->token);
      case kFChannel:
        return ReadString(value, &c->channel);
      case kFName:
        return ReadString(value, &c->name);
      case kFVersion:
        return ReadString(value, &c->version);
      case kFMethod:
        return ReadString(value, &c->rpc_method);
      case kFDelta:
        return ReadString(value, &c->delta);
      case kFEpoch:
        return ReadString(value, &c->position.epoch);
      case kFOffset:
        return ReadUint64(value, &c->position.offset);
      case kFRecover:
        return ReadBool(value, &c->recover);
      case kFPositioned:
        return ReadBool(value, &c->positioned);
      case kFRecoverable:
        return ReadBool(value, &c->recoverable);
      case kFJoinLeave:
        return ReadBool(value, &c->join_leave);
      case kFReverse:
        return ReadBool(value, &c->reverse);
      case kFLimit:
        return ReadInt32(value, &c->limit);
      case kFData:
        c->has_data = true;
        return ReadRaw(value, type, &c->data);
      case kFSince:
        c->has_since = true;
        return ReadPosition(value, type, &c->since);
      case kFSubs:
        return ReadSubs(value, type, c);
      case kFUnknown:
        break;
    }
    return true;
  }

  bool ReadString(od::value& value, std::string_view* out) {
    if (value.get_string().get(*out) != simdjson::SUCCESS) return Fail("expected a string");
    return true;
  }
  bool ReadBool(od::value& value, bool* out) {
    if (value.get_bool().get(*out) != simdjson::SUCCESS) return Fail("expected a boolean");
    return true;
  }
  bool ReadUint64(od::value& value, uint64_t* out) {
    if (value.get_uint64().get(*out) != simdjson::SUCCESS) return Fail("expected a uint64");
    return true;
  }
  bool ReadInt32(od::value& value, int32_t* out) {
    int64_t v;
    if (value.get_int64().get(v) != simdjson::SUCCESS || v < std::numeric_limits<int32_t>::min() ||
        v > std::numeric_limits<int32_t>::max()) {
      return Fail("expected an int32");
    }
    *out = static_cast<int32_t>(v);
    return true;
  }

  // The raw bytes of any JSON value, syntax-checked as one complete value (json_check.h):
  // On-Demand skipped over the inside without checking it (e.g. {"a":tru} or {"a":1,}). UTF-8 of
  // the whole line was validated by simdjson's stage 1 in iterate().
  bool ReadRaw(od::value& value, od::json_type type, std::string_view* out) {
    std::string_view raw;
    if (type == od::json_type::object) {
      od::object o;
      if (value.get_object().get(o) != simdjson::SUCCESS ||
          o.raw_json().get(raw) != simdjson::SUCCESS) {
        return Fail("malformed data");
      }
    } else if (type == od::json_type::array) {
      od::array a;
      if (value.get_array().get(a) != simdjson::SUCCESS ||
          a.raw_json().get(raw) != simdjson::SUCCESS) {
        return Fail("malformed data");
      }
    } else {
      raw = value.raw_json_token();  // token plus the whitespace up to the next token
    }
    raw = TrimRight(raw);
    if (raw.empty()) return Fail("malformed data");
    if (!IsJsonValue(raw)) return Fail("data is not valid JSON");
    *out = raw;
    return true;
  }

  bool ReadPosition(od::value& value, od::json_type type, StreamPosition* pos) {
    if (type != od::json_type::object) return Fail("expected a stream position object");
    od::object obj;
    if (value.get_object().get(obj) != simdjson::SUCCESS) return Fail("malformed stream position");
    for (auto field_result : obj) {
      od::field field;
      std::string_view key;
      if (std::move(field_result).get(field) != simdjson::SUCCESS ||
          field.unescaped_key().get(key) != simdjson::SUCCESS) {
        return Fail("malformed stream position");
      }
      od::value& v = field.value();
      if (key != "offset" && key != "epoch") continue;
      od::json_type t;
      if (v.type().get(t) != simdjson::SUCCESS) return Fail("malformed stream position");
      if (t == od::json_type::null) continue;
      if (key == "offset" ? !ReadUint64(v, &pos->offset) : !ReadString(v, &pos->epoch)) {
        return false;
      }
    }
    return true;
  }

  // connect.subs: {"<channel>":{"recover":bool,"offset":N,"epoch":"..."}, ...} (spec §2.3).
  bool ReadSubs(od::value& value, od::json_type type, Command* c) {
    if (type != od::json_type::object) return Fail("subs is not an object");
    od::object obj;
    if (value.get_object().get(obj) != simdjson::SUCCESS) return Fail("malformed subs");
    for (auto field_result : obj) {
      od::field field;
      std::string_view channel;
      if (std::move(field_result).get(field) != simdjson::SUCCESS ||
          field.unescaped_key().get(channel) != simdjson::SUCCESS) {
        return Fail("malformed subs");
      }
      // A repeated channel replaces the earlier entry, like the Go map does.
      SubRecovery* sub = nullptr;
      for (size_t i = 0; i < c->num_subs; ++i) {
        if (c->subs[i].channel == channel) sub = &c->subs[i];
      }
      if (sub == nullptr) {
        if (c->num_subs == Command::kMaxSubs) return Fail("too many subs");
        sub = &c->subs[c->num_subs++];
      }
      *sub = SubRecovery{};
      sub->channel = channel;
      od::value& v = field.value();
      od::json_type t;
      if (v.type().get(t) != simdjson::SUCCESS) return Fail("malformed subs");
      if (t == od::json_type::null) continue;
      if (t != od::json_type::object) return Fail("subs entry is not an object");
      od::object entry;
      if (v.get_object().get(entry) != simdjson::SUCCESS) return Fail("malformed subs");
      for (auto entry_field_result : entry) {
        od::field ef;
        std::string_view key;
        if (std::move(entry_field_result).get(ef) != simdjson::SUCCESS ||
            ef.unescaped_key().get(key) != simdjson::SUCCESS) {
          return Fail("malformed subs");
        }
        od::value& ev = ef.value();
        const Field f = LookupField(key);
        if (f != kFRecover && f != kFOffset && f != kFEpoch) continue;
        od::json_type et;
        if (ev.type().get(et) != simdjson::SUCCESS) return Fail("malformed subs");
        if (et == od::json_type::null) continue;
        bool ok = f == kFRecover  ? ReadBool(ev, &sub->recover)
                  : f == kFOffset ? ReadUint64(ev, &sub->pos.offset)
                                  : ReadString(ev, &sub->pos.epoch);
        if (!ok) return false;
      }
    }
    return true;
  }

  const char* error_ = "";
};

// Readable bytes from `p` to the end of the message's padding: what simdjson calls capacity.
size_t Capacity(const char* p, const char* message_end) {
  return static_cast<size_t>(message_end - p) + kMessagePadding;
}

// True if the document was consumed up to its last token (nothing follows the root object).
bool AtEnd(od::document& doc) { return doc.current_location().error() == simdjson::OUT_OF_BOUNDS; }

}  // namespace

std::string_view MethodName(Method m) {
  static constexpr std::string_view kNames[] = {
      "connect", "subscribe", "unsubscribe", "publish", "presence", "presence_stats",
      "history", "ping",      "send",        "rpc",     "refresh",  "sub_refresh",
  };
  const size_t i = static_cast<size_t>(m);
  return i < kNumKeyedMethods ? kNames[i] : std::string_view();
}

// ---- CommandDecoder ----------------------------------------------------------------------------

struct CommandDecoder::Parsers {
  od::parser json;
  Command shadowed;  // body of a method key that lost to an earlier one in the v2 order
};

CommandDecoder::CommandDecoder() : parsers_(std::make_unique<Parsers>()) {}
CommandDecoder::~CommandDecoder() = default;

void CommandDecoder::Reset(std::string_view message, Version version) {
  pos_ = message.data();
  end_ = message.data() + message.size();
  version_ = version;
  failed_ = false;
  error_ = "";
}

bool CommandDecoder::Fail(const char* why) {
  failed_ = true;
  error_ = why;
  return false;
}

DecodeStatus CommandDecoder::Next(Command* out) {
  if (failed_) return DecodeStatus::kError;
  while (pos_ < end_) {
    const char* line = pos_;
    const void* nl = std::memchr(line, '\n', static_cast<size_t>(end_ - line));
    const char* line_end = nl != nullptr ? static_cast<const char*>(nl) : end_;
    pos_ = nl != nullptr ? line_end + 1 : end_;
    while (line < line_end && IsJsonSpace(*line)) ++line;
    while (line_end > line && IsJsonSpace(line_end[-1])) --line_end;
    if (line == line_end) continue;  // empty line, "\r\n", trailing newline (spec §1.4)
    const size_t size = static_cast<size_t>(line_end - line);
    const bool ok =
        version_ == Version::kV2 ? DecodeV2(line, size, out) : DecodeV1(line, size, out);
    return ok ? DecodeStatus::kCommand : DecodeStatus::kError;
  }
  return DecodeStatus::kEnd;
}

bool CommandDecoder::DecodeV2(const char* line, size_t size, Command* out) {
  ResetCommand(out);
  od::document doc;
  if (parsers_->json.iterate(line, size, Capacity(line, end_)).get(doc) != simdjson::SUCCESS) {
    return Fail("malformed JSON");
  }
  od::object root;
  if (doc.get_object().get(root) != simdjson::SUCCESS) return Fail("command is not a JSON object");
  BodyReader reader;
  uint32_t id = 0;
  int best = kNoMethod;
  for (auto field_result : root) {
    od::field field;
    std::string_view key;
    if (std::move(field_result).get(field) != simdjson::SUCCESS ||
        field.unescaped_key().get(key) != simdjson::SUCCESS) {
      return Fail("malformed command");
    }
    od::value& value = field.value();
    if (key == "id") {
      if (!reader.ReadId(value, &id)) return Fail(reader.error());
      continue;
    }
    const int m = LookupMethodKey(key);
    if (m == kNoMethod) continue;
    od::json_type type;
    if (value.type().get(type) != simdjson::SUCCESS) return Fail("malformed method body");
    if (type == od::json_type::null) continue;  // a nil request pointer in lib: not selected
    if (type != od::json_type::object) return Fail("method body is not an object");
    // The earliest method in the fixed order wins (a repeated key: the last one, as in Go). A
    // losing body is still decoded, into a scratch command, so that it gets the same type and
    // `data` checks as lib applies to every field of the command.
    Command* dst = out;
    if (m <= best) {
      if (best != kNoMethod) ResetCommand(out);
      best = m;
    } else {
      dst = &parsers_->shadowed;
      ResetCommand(dst);
    }
    dst->method = static_cast<Method>(m);
    od::object body;
    if (value.get_object().get(body) != simdjson::SUCCESS) return Fail("malformed method body");
    if (!reader.ReadBody(body, static_cast<Method>(m), dst)) return Fail(reader.error());
  }
  if (!AtEnd(doc)) return Fail("trailing data after the command object");
  out->id = id;
  if (best == kNoMethod) out->method = Method::kPong;
  return true;
}

bool CommandDecoder::DecodeV1(const char* line, size_t size, Command* out) {
  ResetCommand(out);
  od::document doc;
  if (parsers_->json.iterate(line, size, Capacity(line, end_)).get(doc) != simdjson::SUCCESS) {
    return Fail("malformed JSON");
  }
  od::object root;
  if (doc.get_object().get(root) != simdjson::SUCCESS) return Fail("command is not a JSON object");
  BodyReader reader;
  uint32_t id = 0;
  int64_t method = 0;
  std::string_view params;  // raw `params` object; read in a second pass once `method` is known
  for (auto field_result : root) {
    od::field field;
    std::string_view key;
    if (std::move(field_result).get(field) != simdjson::SUCCESS ||
        field.unescaped_key().get(key) != simdjson::SUCCESS) {
      return Fail("malformed command");
    }
    od::value& value = field.value();
    if (key == "id") {
      if (!reader.ReadId(value, &id)) return Fail(reader.error());
      continue;
    }
    if (key != "method" && key != "params") continue;
    od::json_type type;
    if (value.type().get(type) != simdjson::SUCCESS) return Fail("malformed command");
    if (type == od::json_type::null) continue;  // easyjson skips nulls: an earlier value stays
    if (key == "method") {
      // An integer only: lib v0.18 decodes it with Int32(); string names are API-only (§3.1).
      if (value.get_int64().get(method) != simdjson::SUCCESS) {
        return Fail("v1 method is not an integer");
      }
      if (method < 0 || method >= static_cast<int64_t>(kNumKeyedMethods)) {
        return Fail("unknown v1 method");
      }
      continue;
    }
    od::object obj;
    if (type != od::json_type::object || value.get_object().get(obj) != simdjson::SUCCESS ||
        obj.raw_json().get(params) != simdjson::SUCCESS) {
      return Fail("params is not an object");
    }
    params = TrimRight(params);
  }
  if (!AtEnd(doc)) return Fail("trailing data after the command object");
  out->id = id;
  out->method = static_cast<Method>(method);
  if (params.empty()) return true;
  // `params` may precede `method` (JSON key order is free), so the body is read by iterating its
  // slice as a document of its own. The first document is finished; nothing of it is kept.
  if (parsers_->json.iterate(params.data(), params.size(), Capacity(params.data(), end_))
          .get(doc) != simdjson::SUCCESS) {
    return Fail("malformed params");
  }
  od::object body;
  if (doc.get_object().get(body) != simdjson::SUCCESS) return Fail("malformed params");
  if (!reader.ReadBody(body, out->method, out)) return Fail(reader.error());
  if (!AtEnd(doc)) return Fail("malformed params");
  return true;
}

Version CommandDecoder::Sniff(std::string_view first_message) {
  const char* p = first_message.data();
  const char* end = p + first_message.size();
  while (p < end) {
    const void* nl = std::memchr(p, '\n', static_cast<size_t>(end - p));
    const char* line_end = nl != nullptr ? static_cast<const char*>(nl) : end;
    const char* line = p;
    p = nl != nullptr ? line_end + 1 : end;
    while (line < line_end && IsJsonSpace(*line)) ++line;
    while (line_end > line && IsJsonSpace(line_end[-1])) --line_end;
    if (line == line_end) continue;
    // One parser per thread: Sniff runs once per connection, on the connection's loop.
    thread_local od::parser parser;
    od::document doc;
    od::object root;
    if (parser.iterate(line, static_cast<size_t>(line_end - line), Capacity(line, end)).get(doc) !=
            simdjson::SUCCESS ||
        doc.get_object().get(root) != simdjson::SUCCESS) {
      return Version::kV1;
    }
    for (auto field_result : root) {
      od::field field;
      std::string_view key;
      if (std::move(field_result).get(field) != simdjson::SUCCESS ||
          field.unescaped_key().get(key) != simdjson::SUCCESS) {
        return Version::kV1;
      }
      if (key == "connect") return Version::kV2;
    }
    return Version::kV1;
  }
  return Version::kV1;
}

}  // namespace instant::protocol
