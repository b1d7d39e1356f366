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

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

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
