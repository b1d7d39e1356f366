#pragma once
// Per-connection message reassembly on top of frame.h (RFC 6455 §5.4 fragmentation, §5.5 control
// frames, §5.6 UTF-8 text, §7.4 close codes).
//
// One lives in every connection, so it is small (a std::string plus the pending opcode, 40 bytes)
// and owns no memory unless a fragmented message is in flight:
//   1. An unfragmented data frame (the common case: browsers and the `ws` package never fragment
//      what they send) is validated and returned as a view into the frame: no copy.
//   2. The first fragment of a message starts the buffer; continuation fragments are appended.
//      Control frames may arrive between fragments (§5.4) and are returned at once, leaving the
//      buffer untouched.
//   3. On FIN the whole message is validated and returned as a view into the buffer, followed by
//      at least 64 readable bytes (zeros) so a JSON parser (simdjson) can read past the end.
//   4. That buffer is released by the next Feed() that does not start another fragmented message,
//      or by Clear(); a connection that wants zero bytes held while idle calls Clear() once it has
//      handled the message.
//
// Not thread-safe: used by the connection's loop only. No exceptions except std::bad_alloc from
// the buffer (bounded by max_message).

#include <cstdint>
#include <string>
#include <string_view>

#include "ws/frame.h"

namespace instant::ws {

class MessageAssembler {
 public:
  // Readable bytes guaranteed past the end of a reassembled message (simdjson::SIMDJSON_PADDING).
  static constexpr size_t kPadding = 64;

  enum class Kind { kNone, kText, kBinary, kPing, kPong, kClose, kError };
  struct Event {
    Kind kind = Kind::kNone;
    // Text/binary: the message. Ping/pong: the payload. Close: the reason (UTF-8, maybe empty).
    // Valid until the next Feed() or Clear(), and as long as the frame's bytes for unfragmented
    // messages and control frames.
    std::string_view data;
    uint16_t close_code = 0;      // kClose: code the peer sent (1005 if none); kError: close with
    const char* error = nullptr;  // kError: short static reason
  };

  /// Feeds one decoded frame; O(payload) (copy of a fragment, UTF-8 check of a text message).
  ///
  /// Returns kNone while a fragmented message is incomplete. An unfragmented data frame returns
  /// its payload as-is (no copy). Errors (the connection must then close with `close_code`; the
  /// assembler has reset itself):
  ///   - continuation without a started message, or a new data frame while one is fragmented,
  ///     or a control frame that is fragmented / longer than 125 bytes, or an unknown opcode: 1002;
  ///   - message size > max_message: 1009, detected before the fragment is copied;
  ///   - invalid UTF-8 in a complete text message (fragments are not checked on their own, so a
  ///     character may straddle two fragments) or in a close reason: 1007;
  ///   - close payload of 1 byte, or a close code not allowed on the wire (IsValidWireCloseCode:
  ///     <1000, 1004-1006, 1015, 1016-2999, >=5000): 1002.
  /// After a kClose the caller is expected to stop feeding; the pending message is not dropped.
  Event Feed(const Frame& frame, uint64_t max_message);

  // True if no fragmented message is pending.
  bool idle() const { return opcode_ == kIdle; }
  // Drops any pending message and frees the buffer. Invalidates views into a reassembled message.
  void Clear();

 private:
  static constexpr uint8_t kIdle = 0xFF;

  Event Fail(uint16_t code, const char* reason);
  Event Deliver(Opcode op, std::string_view message);
  Event FeedClose(std::string_view payload);

  std::string buffer_;     // fragments so far; after FIN: message + kPadding zero bytes
  uint8_t opcode_ = kIdle; // Opcode of the pending fragmented message, or kIdle
};

}  // namespace instant::ws
