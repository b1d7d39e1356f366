#include "ws/message_assembler.h"

#include <algorithm>

#include "ws/utf8.h"

namespace instant::ws {

static_assert(sizeof(MessageAssembler) <= 40, "lives in every connection: keep it small");

MessageAssembler::Event MessageAssembler::Fail(uint16_t code, const char* reason) {
  Clear();
  Event e;
  e.kind = Kind::kError;
  e.close_code = code;
  e.error = reason;
  return e;
}

MessageAssembler::Event MessageAssembler::Deliver(Opcode op, std::string_view message) {
  Event e;
  if (op == Opcode::kText) {
    // §8.1: a text message that is not valid UTF-8 fails the connection (1007, §7.4.1).
    if (!IsValidUtf8(message)) return Fail(close_code::kInvalidPayload, "invalid UTF-8 in text");
    e.kind = Kind::kText;
  } else {
    e.kind = Kind::kBinary;
  }
  e.data = message;
  return e;
}

MessageAssembler::Event MessageAssembler::FeedClose(std::string_view payload) {
  Event e;
  e.kind = Kind::kClose;
  // §5.5.1: the body, if any, starts with a 2-byte code; §7.1.5: no body means 1005.
  if (payload.empty()) {
    e.close_code = close_code::kNoStatus;
    return e;
  }
  if (payload.size() == 1) return Fail(close_code::kProtocolError, "close payload of 1 byte");
  const uint16_t code = static_cast<uint16_t>(static_cast<uint8_t>(payload[0]) << 8 |
                                              static_cast<uint8_t>(payload[1]));
  if (!IsValidWireCloseCode(code)) return Fail(close_code::kProtocolError, "invalid close code");
  std::string_view reason = payload.substr(2);
  if (!IsValidUtf8(reason)) {
    return Fail(close_code::kInvalidPayload, "invalid UTF-8 in close reason");
  }
  e.close_code = code;
  e.data = reason;
  return e;
}

MessageAssembler::Event MessageAssembler::Feed(const Frame& frame, uint64_t max_message) {
  const std::string_view payload = frame.payload;
  // A message reassembled by the previous call is no longer referenced (views end at the next
  // Feed): release it, so an idle connection holds no buffer. Only the start of another
  // fragmented message keeps the capacity, to reuse it.
  if (idle() && frame.fin && !buffer_.empty()) std::string().swap(buffer_);
  switch (frame.opcode) {
    case Opcode::kPing:
    case Opcode::kPong:
    case Opcode::kClose: {
      // Also enforced by DecodeClientFrame; repeated because a Frame may come from elsewhere.
      if (!frame.fin) return Fail(close_code::kProtocolError, "fragmented control frame");
      if (payload.size() > kMaxControlPayload) {
        return Fail(close_code::kProtocolError, "control frame payload over 125 bytes");
      }
      if (frame.opcode == Opcode::kClose) return FeedClose(payload);
      Event e;
      e.kind = frame.opcode == Opcode::kPing ? Kind::kPing : Kind::kPong;
      e.data = payload;
      return e;
    }
    case Opcode::kText:
    case Opcode::kBinary: {
      // §5.4: fragments of one message are not interleaved with another message.
      if (!idle()) {
        return Fail(close_code::kProtocolError, "new data frame inside a fragmented message");
      }
      if (payload.size() > max_message) return Fail(close_code::kMessageTooBig, "message too big");
      if (frame.fin) return Deliver(frame.opcode, payload);
      buffer_.clear();
      opcode_ = static_cast<uint8_t>(frame.opcode);
      break;  // append below
    }
    case Opcode::kContinuation:
      if (idle()) return Fail(close_code::kProtocolError, "continuation frame without a message");
      // Both terms are sizes of real memory, so the sum cannot wrap.
      if (static_cast<uint64_t>(buffer_.size()) + payload.size() > max_message) {
        return Fail(close_code::kMessageTooBig, "message too big");
      }
      break;  // append below
    default:
      return Fail(close_code::kProtocolError, "unknown opcode");
  }

  // Reserve the padding with the data, growing geometrically, so that appending it on FIN never
  // reallocates and many small fragments cost amortized O(1) each.
  const size_t needed = buffer_.size() + payload.size() + kPadding;
  if (buffer_.capacity() < needed) buffer_.reserve(std::max(needed, buffer_.capacity() * 2));
  buffer_.append(payload);
  if (!frame.fin) return {};

  const Opcode op = static_cast<Opcode>(opcode_);
  opcode_ = kIdle;
  const size_t size = buffer_.size();
  buffer_.append(kPadding, '\0');
  return Deliver(op, std::string_view(buffer_.data(), size));
}

void MessageAssembler::Clear() {
  std::string().swap(buffer_);
  opcode_ = kIdle;
}

}  // namespace instant::ws
