// libFuzzer target for the client command decoder (server/src/protocol/decoder.h) and the JSON
// syntax check it applies to payloads (server/src/protocol/json_check.h).
//
// Input: arbitrary bytes taken as one WebSocket text message. It is copied into a buffer with
// kMessagePadding bytes of hostile padding (digits, quotes, closing brackets) and decoded in both
// protocol versions until kEnd/kError; Sniff runs on it too. Properties checked:
//  * every view of a decoded command can be read (ASan catches dangling ones);
//  * `data` is present iff has_data, lies inside the message, has no surrounding whitespace, is
//    valid UTF-8 and valid JSON (json_check + simdjson DOM, see Differential below);
//  * the decoded channel and data, re-encoded as a publication push in both versions, give one
//    line without raw '\n' that is valid JSON and UTF-8 (what another client will receive);
//  * Differential: the whole input checked by IsJsonValue and by a simdjson DOM parse. DOM
//    accepts => IsJsonValue accepts. IsJsonValue accepts and DOM refuses => the refusal is one
//    of the documented strictness differences (huge numbers, lone surrogate escapes, depth).
//  * v1 explicitly (spec §3.1): a v1 command never decodes to kPong, its method is the integer
//    `method` of the line, and v1 <-> v2 agree: when a one-line input decodes as a v1 command
//    {"id":N,"method":M,"params":P}, the v2 line {"id":N,"<name of M>":P} built from it must decode
//    to the same command, field by field (P = {} when params is absent or null). This checks the
//    v1-only path (integer methods, `params` before or after `method`, the raw `params` slice
//    re-read as a document of its own) against the v2 one that reads the body in place.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include <simdjson.h>

#include "protocol/command.h"
#include "protocol/decoder.h"
#include "protocol/encoder.h"
#include "protocol/json_check.h"

namespace {

using instant::protocol::Command;
using instant::protocol::CommandDecoder;
using instant::protocol::DecodeStatus;
using instant::protocol::IsJsonValue;
using instant::protocol::kMessagePadding;
using instant::protocol::Method;
using instant::protocol::Version;

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "protocol_command_fuzz: property violated: %s\n", what);
    std::abort();
  }
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Reads every byte so that ASan sees a dangling view.
size_t Touch(std::string_view s) {
  size_t sum = 0;
  for (char c : s) sum += static_cast<unsigned char>(c);
  return sum;
}

// A digit run that cannot fit a double/uint64, or an exponent of 3+ digits: what makes
// simdjson's DOM refuse a number that the JSON grammar allows.
bool HasHugeNumber(std::string_view s) {
  size_t run = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const bool digit = s[i] >= '0' && s[i] <= '9';
    run = digit ? run + 1 : 0;
    if (run >= 18) return true;
    if ((s[i] == 'e' || s[i] == 'E') && i + 3 < s.size()) {
      size_t j = i + 1;
      if (s[j] == '+' || s[j] == '-') ++j;
      size_t digits = 0;
      while (j < s.size() && s[j] >= '0' && s[j] <= '9') ++j, ++digits;
      if (digits >= 3) return true;
    }
  }
  return false;
}

// An escaped UTF-16 surrogate (\uD800-\uDFFF), which simdjson refuses when unpaired.
bool HasSurrogateEscape(std::string_view s) {
  for (size_t i = 0; i + 3 < s.size(); ++i) {
    if (s[i] == '\\' && s[i + 1] == 'u' && (s[i + 2] == 'd' || s[i + 2] == 'D') &&
        std::strchr("89abcdefABCDEF", s[i + 3]) != nullptr && s[i + 3] != '\0') {
      return true;
    }
  }
  return false;
}

// IsJsonValue and simdjson DOM agree on `json`, up to the documented differences. Returns the
// verdict of IsJsonValue.
bool CheckedIsJson(simdjson::dom::parser& parser, std::string_view json) {
  const bool mine = IsJsonValue(json);
  if (!simdjson::validate_utf8(json.data(), json.size()))
    return mine;  // DOM refuses, we don't look
  simdjson::padded_string copy(json);
  simdjson::dom::element ignored;
  const simdjson::error_code dom = parser.parse(copy).get(ignored);
  if (dom == simdjson::SUCCESS) {
    Check(mine, "IsJsonValue accepts what simdjson DOM accepts");
  } else if (mine) {
    const bool explained = (dom == simdjson::NUMBER_ERROR && HasHugeNumber(json)) ||
                           (dom == simdjson::STRING_ERROR && HasSurrogateEscape(json)) ||
                           dom == simdjson::DEPTH_ERROR;
    if (!explained) {
      std::fprintf(stderr, "simdjson: %s\n", simdjson::error_message(dom));
      Check(false, "IsJsonValue accepts only valid JSON");
    }
  }
  return mine;
}

void CheckCommand(const Command& c, Version v, std::string_view message,
                  simdjson::dom::parser& parser) {
  volatile size_t sink = Touch(c.token) + Touch(c.channel) + Touch(c.name) + Touch(c.version) +
                         Touch(c.rpc_method) + Touch(c.delta) + Touch(c.data) +
                         Touch(c.position.epoch) + Touch(c.since.epoch);
  (void)sink;
  Check(static_cast<size_t>(c.method) <= static_cast<size_t>(Method::kPong), "method in range");
  Check(v == Version::kV2 || c.method != Method::kPong, "v1 never yields kPong");
  Check(c.num_subs <= Command::kMaxSubs, "num_subs bounded");
  for (size_t i = 0; i < c.num_subs; ++i) {
    volatile size_t s = Touch(c.subs[i].channel) + Touch(c.subs[i].pos.epoch);
    (void)s;
  }
  if (!c.has_data) {
    Check(c.data.empty(), "data empty without has_data");
    return;
  }
  Check(!c.data.empty(), "data non-empty");
  Check(c.data.data() >= message.data() &&
            c.data.data() + c.data.size() <= message.data() + message.size(),
        "data inside the message");
  Check(!IsSpace(c.data.front()) && !IsSpace(c.data.back()), "data trimmed");
  Check(simdjson::validate_utf8(c.data.data(), c.data.size()), "data is valid UTF-8");
  Check(CheckedIsJson(parser, c.data), "data is valid JSON");
  for (Version out_version : {Version::kV2, Version::kV1}) {
    std::string line;
    instant::protocol::AppendPublicationPush(
        line, out_version, c.channel,
        instant::protocol::Publication{c.data, c.position.offset, nullptr});
    Check(line.find('\n') == std::string::npos, "encoded push has no raw newline");
    Check(simdjson::validate_utf8(line.data(), line.size()), "encoded push is valid UTF-8");
    Check(CheckedIsJson(parser, line), "encoded push is valid JSON");
  }
}

// Strings of a Command, copied (its views die at the decoder's next Next()).
struct Fields {
  uint32_t id;
  Method method;
  std::string token, channel, name, version, rpc_method, delta, data, pos_epoch, since_epoch;
  bool has_data, recover, positioned, recoverable, join_leave, reverse, has_since;
  uint64_t pos_offset, since_offset;
  int32_t limit;
  std::string subs;  // every connect.subs entry, serialized

  explicit Fields(const Command& c)
      : id(c.id), method(c.method), token(c.token), channel(c.channel), name(c.name),
        version(c.version), rpc_method(c.rpc_method), delta(c.delta), data(c.data),
        pos_epoch(c.position.epoch), since_epoch(c.since.epoch), has_data(c.has_data),
        recover(c.recover), positioned(c.positioned), recoverable(c.recoverable),
        join_leave(c.join_leave), reverse(c.reverse), has_since(c.has_since),
        pos_offset(c.position.offset), since_offset(c.since.offset), limit(c.limit) {
    for (size_t i = 0; i < c.num_subs; ++i) {
      const auto& s = c.subs[i];
      subs += std::to_string(s.channel.size()) + ":" + std::string(s.channel) + "/" +
              (s.recover ? "r" : "-") + std::to_string(s.pos.offset) + "/" +
              std::to_string(s.pos.epoch.size()) + ":" + std::string(s.pos.epoch) + ";";
    }
  }
  bool operator==(const Fields& o) const {
    return id == o.id && method == o.method && token == o.token && channel == o.channel &&
           name == o.name && version == o.version && rpc_method == o.rpc_method &&
           delta == o.delta && data == o.data && pos_epoch == o.pos_epoch &&
           since_epoch == o.since_epoch && has_data == o.has_data && recover == o.recover &&
           positioned == o.positioned && recoverable == o.recoverable &&
           join_leave == o.join_leave && reverse == o.reverse && has_since == o.has_since &&
           pos_offset == o.pos_offset && since_offset == o.since_offset && limit == o.limit &&
           subs == o.subs;
  }
};

// The top-level `method` and `params` of one v1 line, read independently of the decoder with
// simdjson On-Demand: the last non-null value of each wins (easyjson). False if the line does not
// parse this way (then no differential is attempted).
bool SplitV1(std::string_view line, int64_t* method, std::string_view* params) {
  static simdjson::ondemand::parser od;
  simdjson::ondemand::document doc;
  simdjson::ondemand::object root;
  if (od.iterate(line.data(), line.size(), line.size() + kMessagePadding).get(doc) !=
          simdjson::SUCCESS ||
      doc.get_object().get(root) != simdjson::SUCCESS) {
    return false;
  }
  *method = 0;
  *params = {};
  for (auto field_result : root) {
    simdjson::ondemand::field field;
    std::string_view key;
    if (std::move(field_result).get(field) != simdjson::SUCCESS ||
        field.unescaped_key().get(key) != simdjson::SUCCESS) {
      return false;
    }
    if (key != "method" && key != "params") continue;
    simdjson::ondemand::json_type type;
    if (field.value().type().get(type) != simdjson::SUCCESS) return false;
    if (type == simdjson::ondemand::json_type::null) continue;
    if (key == "method") {
      if (field.value().get_int64().get(*method) != simdjson::SUCCESS) return false;
      continue;
    }
    simdjson::ondemand::object obj;
    if (field.value().get_object().get(obj) != simdjson::SUCCESS ||
        obj.raw_json().get(*params) != simdjson::SUCCESS) {
      return false;
    }
    while (!params->empty() && IsSpace(params->back())) params->remove_suffix(1);
  }
  return true;
}

// `message` (padded) decoded as v1 gave exactly one command, `v1`. Re-decodes its v2 equivalent.
void CheckV1AgainstV2(std::string_view message, const Command& v1) {
  static CommandDecoder v2_decoder;
  Check(v1.method != Method::kPong, "v1 never yields kPong");
  std::string_view line = message;
  while (!line.empty() && IsSpace(line.front())) line.remove_prefix(1);
  while (!line.empty() && IsSpace(line.back())) line.remove_suffix(1);
  if (line.find('\n') != std::string_view::npos) return;  // several lines: not this check
  int64_t method = 0;
  std::string_view params;
  if (!SplitV1(line, &method, &params)) return;
  Check(method == static_cast<int64_t>(v1.method), "v1 method is the line's integer method");
  std::string v2_line = "{\"id\":" + std::to_string(v1.id) + ",\"" +
                        std::string(instant::protocol::MethodName(v1.method)) +
                        "\":" + (params.empty() ? std::string("{}") : std::string(params)) + "}";
  const size_t n = v2_line.size();
  v2_line.append(kMessagePadding, ' ');
  v2_decoder.Reset(std::string_view(v2_line.data(), n), Version::kV2);
  Command v2;
  const DecodeStatus st = v2_decoder.Next(&v2);
  if (st != DecodeStatus::kCommand) {
    std::fprintf(stderr, "v2 line: %s\nv2 error: %s\n", v2_line.c_str(), v2_decoder.error());
    Check(false, "the v2 equivalent of a valid v1 command decodes");
  }
  Check(Fields(v1) == Fields(v2), "v1 command = its v2 equivalent, field by field");
  Check(v2_decoder.Next(&v2) == DecodeStatus::kEnd, "the v2 equivalent is one command");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static CommandDecoder decoder;  // one per loop in the server: reused across messages here too
  static simdjson::dom::parser parser;

  std::unique_ptr<char[]> buf(new char[size + kMessagePadding]);
  if (size > 0) std::memcpy(buf.get(), data, size);
  for (size_t i = 0; i < kMessagePadding; ++i) buf[size + i] = "1}\"]"[i % 4];
  const std::string_view message(buf.get(), size);

  for (Version v : {Version::kV2, Version::kV1}) {
    decoder.Reset(message, v);
    Command cmd;
    DecodeStatus st;
    size_t n = 0;
    while ((st = decoder.Next(&cmd)) == DecodeStatus::kCommand) {
      CheckCommand(cmd, v, message, parser);
      Check(++n <= size, "at most one command per input byte");
      if (v == Version::kV1 && n == 1) CheckV1AgainstV2(message, cmd);
    }
    if (st == DecodeStatus::kError) {
      Check(decoder.error()[0] != '\0', "an error has a reason");
      Check(decoder.Next(&cmd) == DecodeStatus::kError, "errors are sticky");
    } else {
      Check(decoder.Next(&cmd) == DecodeStatus::kEnd, "end is sticky");
    }
  }
  volatile Version sniffed = CommandDecoder::Sniff(message);
  (void)sniffed;
  CheckedIsJson(parser, message);
  return 0;
}
