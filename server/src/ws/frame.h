#pragma once
// RFC 6455 frame codec: decoding of client->server frames (masked) and encoding of server->client
// frames (unmasked). Pure functions over caller-owned bytes: no allocation on the decode path, no
// state, no exceptions, safe on any input. Thread-compatible.
//
// Framing only: fragmentation, UTF-8 and close-payload rules live in message_assembler.h.
// No extension is ever negotiated, so RSV1-3 must be 0 (permessage-deflate would change that).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace instant::ws {

// RFC 6455 §5.2 / §11.8. Values 3-7 and 11-15 are reserved and rejected by the decoder.
enum class Opcode : uint8_t {
  kContinuation = 0,
  kText = 1,
  kBinary = 2,
  kClose = 8,
  kPing = 9,
  kPong = 10,
};

// Control frames are the opcodes with the high bit set (§5.5).
constexpr bool IsControl(Opcode op) { return (static_cast<uint8_t>(op) & 0x08) != 0; }

// RFC 6455 §7.4.1, plus the IANA-registered 1012-1014.
namespace close_code {
constexpr uint16_t kNormal = 1000;
constexpr uint16_t kGoingAway = 1001;
constexpr uint16_t kProtocolError = 1002;
constexpr uint16_t kUnsupportedData = 1003;
// Never on the wire (§7.4.1): what a received close frame without a body means. AppendClose with
// this code writes a close frame with an empty body.
constexpr uint16_t kNoStatus = 1005;
constexpr uint16_t kInvalidPayload = 1007;
constexpr uint16_t kPolicyViolation = 1008;
constexpr uint16_t kMessageTooBig = 1009;
constexpr uint16_t kInternalError = 1011;
}  // namespace close_code

// True if `code` may appear in a close frame (§7.4.1, §7.4.2): 1000-1003, 1007-1014, 3000-4999.
// Rejects <1000, 1004-1006 (reserved / never sent), 1015 (TLS failure, never sent), 1016-2999
// (reserved for future RFCs) and >=5000 (not assigned by RFC 6455; browsers can only send 1000 and
// 3000-4999, the `ws` npm package rejects them too).
bool IsValidWireCloseCode(uint16_t code);

constexpr size_t kMaxControlPayload = 125;   // §5.5
constexpr size_t kMaxCloseReason = 123;      // §5.5.1: 125 minus the 2-byte code
constexpr size_t kMaxServerHeaderSize = 10;  // 2 + 8-byte length
constexpr size_t kMaxClientHeaderSize = 14;  // 2 + 8-byte length + 4-byte mask key

struct Frame {
  bool fin = true;
  Opcode opcode = Opcode::kText;
  std::string_view payload;
};

struct DecodeResult {
  enum class Status { kFrame, kNeedMore, kError } status = Status::kNeedMore;
  size_t consumed = 0;          // kFrame: size of the whole frame (header + payload); else 0
  // kNeedMore: the whole frame's size once its header (with the mask key) is complete, else 0.
  // Lets a connection reserve its partial-frame buffer once instead of growing it per read.
  size_t needed = 0;
  Frame frame;                  // kFrame: payload points into `data`, already unmasked in place
  uint16_t close_code = 0;      // kError: 1002 protocol error or 1009 too big
  const char* error = nullptr;  // kError: short static reason, usable as close reason / log text
};

/// Decodes the client->server frame at the start of data[0, size) (RFC 6455 §5.2).
///
/// Requires MASK=1 (§5.1), RSV1-3=0 (no extension negotiated), a known opcode, control frames with
/// FIN=1 and length <= 125 (§5.5), a 64-bit length with MSB 0. Errors are reported as early as
/// the bytes allow: header-bit errors as soon as 2 bytes are present, and a declared payload
/// length > max_payload (1009) as soon as the length field is complete, without waiting for the
/// mask key or the payload, so a peer cannot make us buffer an oversized frame.
///
/// Non-minimal length encodings (e.g. 126 + 16-bit 5) are accepted: the RFC forbids sending them
/// but they are unambiguous, and no mainstream server rejects them.
///
/// Returns kNeedMore (consumed 0, data untouched) until the whole frame is present; then kFrame,
/// with the payload unmasked in place (so `data` is mutable). Trailing bytes after the frame are
/// left alone. consumed <= size always.
///
/// Cost: O(1) for the header, O(payload) for unmasking (8 bytes per step, any alignment).
/// Re-decoding the same prefix while waiting for more bytes is cheap: only the header is reparsed.
DecodeResult DecodeClientFrame(char* data, size_t size, uint64_t max_payload);

// XORs data[0, size) with the 4-byte masking key (§5.3), key byte i%4 on byte i. In place, any
// alignment. Exposed for tests and for the load generator, which must mask what it sends.
void ApplyMask(char* data, size_t size, const uint8_t key[4]);

// Server->client encoding (no mask, §5.1). Writes the 2, 4 or 10 header bytes (§5.2 length
// encodings: <=125 inline, <=65535 as 126 + 16 bits, else 127 + 64 bits) and returns the count.
size_t EncodeHeader(char out[10], Opcode op, uint64_t payload_len, bool fin = true);
// Size (header, mask key if any, payload) of the frame that starts at data[0, size), or 0 while
// its header is incomplete. Reads only the length encoding: it walks frames this server encoded
// (a slow client's queue, node::Connection::FrameSizeAt), never peer input.
uint64_t ServerFrameSize(const char* data, size_t size);
// Appends header + payload. One reserve, no other allocation.
void AppendFrame(std::string& out, Opcode op, std::string_view payload, bool fin = true);
// Appends a close frame: 2-byte code + reason truncated to at most 123 bytes, cut on a UTF-8
// character boundary (§5.5.1; the reason must be UTF-8, §7.1.6). code == close_code::kNoStatus
// writes a close frame with an empty body (1005 must not be sent, §7.4.1), which is the right
// echo of a peer close that carried no code.
void AppendClose(std::string& out, uint16_t code, std::string_view reason);

// Masked client->server frame, for tests, fuzz seeds and the load generator. The masking key is
// the 4 bytes of `mask` in network order: mask 0x37fa213d gives the key 37 fa 21 3d (§5.7).
void AppendClientFrame(std::string& out, Opcode op, std::string_view payload, uint32_t mask,
                       bool fin = true);

}  // namespace instant::ws
