#pragma once
// Decoder of client command frames, protocol v1 and v2 over JSON (spec §1.4, §2, §3).
//
// Design:
//  * One CommandDecoder per event loop, reused for every connection of that loop; it owns one
//    simdjson On-Demand parser whose buffers grow to the largest line seen and are then reused,
//    so decoding a command allocates nothing in steady state.
//  * A WebSocket text message holds one or more commands separated by '\n' (spec §1.4). The
//    decoder splits on '\n' exactly like lib's JSONCommandDecoder, so a command must fit on one
//    line (JSON strings cannot hold a raw '\n'; a raw '\n' between tokens ends the command).
//    Empty and whitespace-only lines and a trailing '\r' are ignored.
//  * Each line is one On-Demand document; fields are read in one forward pass. On-Demand only
//    checks the structure of values it skips (unknown fields, the inside of `data`), so every
//    `data` payload is syntax-checked (json_check.h) before it is handed out: it is spliced
//    verbatim into other clients' frames and must be one complete, valid JSON value. UTF-8 of
//    every line is validated by simdjson's stage 1.
//  * Not thread-safe; must be used on the owning loop only.

#include <cstddef>
#include <memory>
#include <string_view>

#include "protocol/codes.h"
#include "protocol/command.h"

namespace instant::protocol {

// Bytes that must be readable (any content) after the end of every message handed to Reset() or
// Sniff(). simdjson reads ahead in 64-byte blocks; the WebSocket layer allocates its read buffer
// with this much slack. Equals simdjson::SIMDJSON_PADDING (checked in decoder.cc).
inline constexpr size_t kMessagePadding = 64;

enum class DecodeStatus { kCommand, kEnd, kError };

class CommandDecoder {
 public:
  CommandDecoder();
  ~CommandDecoder();
  CommandDecoder(const CommandDecoder&) = delete;
  CommandDecoder& operator=(const CommandDecoder&) = delete;

  // Starts decoding one WebSocket text message (spec §1.4). `message` must stay alive and
  // unchanged while its commands are used, and must have kMessagePadding readable bytes after its
  // end.
  void Reset(std::string_view message, Version version);

  // Decodes the next command of the message into `*out` (every field is reset first).
  //  kCommand: `*out` holds the next command in message order.
  //  kEnd:     no more commands.
  //  kError:   the line is malformed; the connection must close with 3501 bad request. Sticky:
  //            later calls return kError until Reset(). error() says why.
  // kError is returned for: a line that is not exactly one JSON object (trailing tokens
  // included); an `id` that is not an integer in [0, 2^32); a method body that is not an object;
  // a known field of the wrong type (strings, bools, uint64 offsets, int32 limit, objects for
  // `since`/`subs`); more than Command::kMaxSubs `connect.subs`; `data` that is not one valid JSON
  // value. Unknown fields are ignored (spec §2.1: JS 5.7 sends `headers`, `flag`, ...), `null`
  // counts as absent (see Command), and object keys are unescaped before matching.
  //  v2 (spec §2.1): {"id":N,"<method>":{...}}. The method is the first present key in the order
  //    connect, subscribe, unsubscribe, publish, presence, presence_stats, history, ping, send,
  //    rpc, refresh, sub_refresh (= Method order); the other method bodies are still decoded and
  //    validated, then dropped. No method key -> kPong with whatever id was sent; deciding that a
  //    non-zero id on such a command is a bad request is the session's job.
  //  v1 (spec §3.1): {"id":N,"method":<int 0..11, absent = 0 connect>,"params":{...}} with the
  //    v2 field names inside params; 7 -> kPing. A method that is not an integer in 0..11 (e.g.
  //    the string "subscribe") -> kError.
  DecodeStatus Next(Command* out);

  // Reason for the last kError (static text, for logs); "" if none.
  const char* error() const { return error_; }

  // Protocol version sniffing (spec §1.5), for connections without `cf_protocol_version`: v2 if
  // the first command of the connection's first message is an object with a "connect" key, v1
  // otherwise (including unparsable input, which then fails in the v1 decoder). Same padding
  // contract as Reset(). Uses a thread-local parser; allocation-free after the first call.
  static Version Sniff(std::string_view first_message);

 private:
  struct Parsers;  // simdjson state, kept out of this header

  bool DecodeV2(const char* line, size_t size, Command* out);
  bool DecodeV1(const char* line, size_t size, Command* out);
  bool Fail(const char* why);

  std::unique_ptr<Parsers> parsers_;
  const char* pos_ = nullptr;  // start of the next unread line
  const char* end_ = nullptr;  // end of the message
  Version version_ = Version::kV2;
  bool failed_ = false;
  const char* error_ = "";
};

}  // namespace instant::protocol
