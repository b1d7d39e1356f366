#include "ws/frame.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

namespace instant::ws {
namespace {

using Status = DecodeResult::Status;

constexpr uint64_t kBig = uint64_t{1} << 40;

std::string Bytes(std::initializer_list<int> bytes) {
  std::string s;
  for (int b : bytes) s.push_back(static_cast<char>(b));
  return s;
}

std::string Pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(i * 7 + 3);
  return s;
}

// Decodes a copy of `wire` (decoding unmasks in place).
DecodeResult Decode(const std::string& wire, std::vector<char>& buf, uint64_t max = kBig) {
  buf.assign(wire.begin(), wire.end());
  return DecodeClientFrame(buf.data(), buf.size(), max);
}

// The incremental-parse rule: every strict prefix of a valid frame is kNeedMore and leaves the
// bytes alone; the whole frame decodes to `payload`, also with the next frame's bytes behind it.
void ExpectDecodesAtEverySplit(const std::string& wire, bool fin, Opcode op,
                               const std::string& payload) {
  std::vector<char> buf;
  for (size_t k = 0; k < wire.size(); ++k) {
    buf.assign(wire.begin(), wire.begin() + static_cast<std::ptrdiff_t>(k));
    DecodeResult r = DecodeClientFrame(buf.data(), k, kBig);
    ASSERT_EQ(r.status, Status::kNeedMore) << "prefix " << k << " of " << wire.size();
    ASSERT_EQ(r.consumed, 0u);
    ASSERT_EQ(std::string(buf.begin(), buf.end()), wire.substr(0, k)) << "prefix modified";
  }
  for (const std::string& trailer : {std::string(), std::string("\x81\x80\0\0\0\0", 6)}) {
    DecodeResult r = Decode(wire + trailer, buf);
    ASSERT_EQ(r.status, Status::kFrame);
    EXPECT_EQ(r.consumed, wire.size());
    EXPECT_EQ(r.frame.fin, fin);
    EXPECT_EQ(r.frame.opcode, op);
    EXPECT_EQ(r.frame.payload, payload);
    EXPECT_EQ(r.frame.payload.data(), buf.data() + (wire.size() - payload.size()));
  }
}

void ExpectError(const std::string& wire, uint16_t code, uint64_t max = kBig) {
  std::vector<char> buf;
  DecodeResult r = Decode(wire, buf, max);
  EXPECT_EQ(r.status, Status::kError);
  EXPECT_EQ(r.close_code, code);
  EXPECT_EQ(r.consumed, 0u);
  ASSERT_NE(r.error, nullptr);
  EXPECT_GT(std::strlen(r.error), 0u);
}

// ---- RFC 6455 §5.7 examples ---------------------------------------------------------------

TEST(DecodeClientFrame, Rfc5_7MaskedHello) {
  const std::string wire =
      Bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58});
  ExpectDecodesAtEverySplit(wire, true, Opcode::kText, "Hello");
  std::string built;
  AppendClientFrame(built, Opcode::kText, "Hello", 0x37fa213d);
  EXPECT_EQ(built, wire);
}

TEST(DecodeClientFrame, Rfc5_7FragmentedHelloBackToBack) {
  std::string wire;
  AppendClientFrame(wire, Opcode::kText, "Hel", 0x01020304, /*fin=*/false);
  const size_t first = wire.size();
  AppendClientFrame(wire, Opcode::kContinuation, "lo", 0xa0b0c0d0, /*fin=*/true);
  EXPECT_EQ(wire[0], '\x01');  // §5.7: 0x01 0x03 "Hel", 0x80 0x02 "lo" (plus MASK and key here)
  EXPECT_EQ(wire[first], '\x80');

  std::vector<char> buf(wire.begin(), wire.end());
  DecodeResult a = DecodeClientFrame(buf.data(), buf.size(), kBig);
  ASSERT_EQ(a.status, Status::kFrame);
  EXPECT_FALSE(a.frame.fin);
  EXPECT_EQ(a.frame.opcode, Opcode::kText);
  EXPECT_EQ(a.frame.payload, "Hel");
  EXPECT_EQ(a.consumed, first);
  DecodeResult b = DecodeClientFrame(buf.data() + a.consumed, buf.size() - a.consumed, kBig);
  ASSERT_EQ(b.status, Status::kFrame);
  EXPECT_TRUE(b.frame.fin);
  EXPECT_EQ(b.frame.opcode, Opcode::kContinuation);
  EXPECT_EQ(b.frame.payload, "lo");
  EXPECT_EQ(a.consumed + b.consumed, buf.size());
}

TEST(DecodeClientFrame, Rfc5_7PingHello) {
  std::string wire;
  AppendClientFrame(wire, Opcode::kPing, "Hello", 0x37fa213d);
  EXPECT_EQ(wire.substr(0, 2), Bytes({0x89, 0x85}));
  ExpectDecodesAtEverySplit(wire, true, Opcode::kPing, "Hello");
}

TEST(EncodeServerFrame, Rfc5_7Examples) {
  std::string out;
  AppendFrame(out, Opcode::kText, "Hello");
  EXPECT_EQ(out, Bytes({0x81, 0x05, 'H', 'e', 'l', 'l', 'o'}));
  out.clear();
  AppendFrame(out, Opcode::kText, "Hel", /*fin=*/false);
  AppendFrame(out, Opcode::kContinuation, "lo");
  EXPECT_EQ(out, Bytes({0x01, 0x03, 'H', 'e', 'l', 0x80, 0x02, 'l', 'o'}));
  out.clear();
  AppendFrame(out, Opcode::kPing, "Hello");
  EXPECT_EQ(out, Bytes({0x89, 0x05, 'H', 'e', 'l', 'l', 'o'}));
  out.clear();
  AppendFrame(out, Opcode::kPong, "Hello");
  EXPECT_EQ(out, Bytes({0x8a, 0x05, 'H', 'e', 'l', 'l', 'o'}));
  out.clear();
  AppendFrame(out, Opcode::kBinary, std::string(256, 'x'));
  EXPECT_EQ(out.substr(0, 4), Bytes({0x82, 0x7E, 0x01, 0x00}));
  EXPECT_EQ(out.size(), 4u + 256);
  out.clear();
  AppendFrame(out, Opcode::kBinary, std::string(65536, 'x'));
  EXPECT_EQ(out.substr(0, 10), Bytes({0x82, 0x7F, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00}));
  EXPECT_EQ(out.size(), 10u + 65536);
}

// ---- Length encodings --------------------------------------------------------------------

TEST(EncodeHeader, LengthBoundaries) {
  struct Case {
    uint64_t len;
    size_t header;
  } cases[] = {{0, 2},     {1, 2},      {125, 2},     {126, 4},       {127, 4},
               {65535, 4}, {65536, 10}, {70000, 10},  {uint64_t{1} << 32, 10},
               {(uint64_t{1} << 63) - 1, 10}};
  for (const Case& c : cases) {
    char h[10];
    ASSERT_EQ(EncodeHeader(h, Opcode::kBinary, c.len), c.header) << c.len;
    uint64_t decoded = static_cast<uint8_t>(h[1]);
    if (c.header == 4) decoded = static_cast<uint8_t>(h[2]) << 8 | static_cast<uint8_t>(h[3]);
    if (c.header == 10) {
      decoded = 0;
      for (int i = 2; i < 10; ++i) decoded = decoded << 8 | static_cast<uint8_t>(h[i]);
    }
    EXPECT_EQ(decoded, c.len);
    EXPECT_EQ(static_cast<uint8_t>(h[0]), 0x82);
  }
  char h[10];
  EncodeHeader(h, Opcode::kText, 3, /*fin=*/false);
  EXPECT_EQ(static_cast<uint8_t>(h[0]), 0x01);
}

TEST(ServerFrameSize, EveryLengthEncodingAndIncompleteHeaders) {
  for (uint64_t len : {0, 1, 125, 126, 65535, 65536, 70000}) {
    std::string out;
    AppendFrame(out, Opcode::kText, std::string(len, 'x'));
    EXPECT_EQ(ServerFrameSize(out.data(), out.size()), out.size()) << len;
    // Only the header is needed; fewer bytes than the header: 0.
    const size_t header = out.size() - len;
    EXPECT_EQ(ServerFrameSize(out.data(), header), out.size()) << len;
    EXPECT_EQ(ServerFrameSize(out.data(), header - 1), 0u) << len;
  }
  std::string close;
  AppendClose(close, 3008, "slow");
  EXPECT_EQ(ServerFrameSize(close.data(), close.size()), 8u);
  std::string masked;
  AppendClientFrame(masked, Opcode::kText, "Hello", 0x37fa213d);
  EXPECT_EQ(ServerFrameSize(masked.data(), masked.size()), masked.size());
  char h[10];
  EncodeHeader(h, Opcode::kBinary, uint64_t{1} << 40);
  EXPECT_EQ(ServerFrameSize(h, 10), 10 + (uint64_t{1} << 40));
  EXPECT_EQ(ServerFrameSize(h, 1), 0u);
}

TEST(DecodeClientFrame, AllLengthEncodingsAtEverySplit) {
  for (size_t len : {0, 1, 124, 125, 126, 127, 65535, 65536}) {
    const std::string payload = Pattern(len);
    std::string wire;
    AppendClientFrame(wire, Opcode::kBinary, payload, 0x9e3779b9);
    const size_t header = len <= 125 ? 6 : len <= 65535 ? 8 : 14;
    ASSERT_EQ(wire.size(), header + len);
    if (len <= 300) {
      ExpectDecodesAtEverySplit(wire, true, Opcode::kBinary, payload);
    } else {
      // Large frames: every header split, then a sample of payload splits (all 65k are slow).
      std::vector<char> buf;
      for (size_t k : {size_t{0}, size_t{1}, size_t{2}, size_t{3}, header - 1, header,
                       header + 1, wire.size() / 2, wire.size() - 1}) {
        buf.assign(wire.begin(), wire.begin() + static_cast<std::ptrdiff_t>(k));
        EXPECT_EQ(DecodeClientFrame(buf.data(), k, kBig).status, Status::kNeedMore) << k;
      }
      DecodeResult r = Decode(wire, buf);
      ASSERT_EQ(r.status, Status::kFrame);
      EXPECT_EQ(r.consumed, wire.size());
      EXPECT_EQ(r.frame.payload, payload);
    }
  }
}

TEST(DecodeClientFrame, NeededIsKnownOnceTheHeaderIsComplete) {
  std::string wire;
  AppendClientFrame(wire, Opcode::kBinary, std::string(1000, 'n'), 0x01020304);
  ASSERT_EQ(wire.size(), 8u + 1000);
  std::vector<char> buf;
  for (size_t k = 0; k < wire.size(); ++k) {
    buf.assign(wire.begin(), wire.begin() + static_cast<std::ptrdiff_t>(k));
    DecodeResult r = DecodeClientFrame(buf.data(), k, kBig);
    ASSERT_EQ(r.status, Status::kNeedMore);
    EXPECT_EQ(r.needed, k < 8 ? 0u : wire.size()) << k;
  }
}

TEST(DecodeClientFrame, AcceptsNonMinimalLengthEncoding) {
  // §5.2 says senders MUST use the minimal encoding; we are lenient (see frame.h).
  const std::string wire = Bytes({0x82, 0xFE, 0x00, 0x03, 0, 0, 0, 0, 'a', 'b', 'c'});
  ExpectDecodesAtEverySplit(wire, true, Opcode::kBinary, "abc");
  const std::string wire64 = Bytes({0x82, 0xFF, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 'z'});
  ExpectDecodesAtEverySplit(wire64, true, Opcode::kBinary, "z");
}

TEST(DecodeClientFrame, EmptyAndTinyInputs) {
  EXPECT_EQ(DecodeClientFrame(nullptr, 0, kBig).status, Status::kNeedMore);
  char one[1] = {'\x81'};
  EXPECT_EQ(DecodeClientFrame(one, 1, kBig).status, Status::kNeedMore);
}

// ---- Masking -----------------------------------------------------------------------------

TEST(ApplyMask, MatchesBytewiseAtEveryAlignmentAndLength) {
  const uint8_t key[4] = {0xde, 0xad, 0xbe, 0xef};
  for (size_t offset = 0; offset < 16; ++offset) {
    for (size_t len = 0; len < 80; ++len) {
      std::vector<char> buf(offset + len + 16, '\x55');
      const std::string data = Pattern(len);
      std::memcpy(buf.data() + offset, data.data(), len);
      ApplyMask(buf.data() + offset, len, key);
      for (size_t i = 0; i < len; ++i) {
        ASSERT_EQ(static_cast<uint8_t>(buf[offset + i]),
                  static_cast<uint8_t>(data[i] ^ key[i % 4]))
            << "offset " << offset << " len " << len << " i " << i;
      }
      for (size_t i = 0; i < offset; ++i) ASSERT_EQ(buf[i], '\x55');  // no write outside
      for (size_t i = offset + len; i < buf.size(); ++i) ASSERT_EQ(buf[i], '\x55');
    }
  }
}

TEST(DecodeClientFrame, UnmasksFramesAtUnalignedOffsets) {
  for (size_t offset = 0; offset < 9; ++offset) {
    for (size_t len : {0, 1, 3, 7, 8, 9, 31, 32, 33, 100, 1000}) {
      for (uint32_t mask : {0x00000000u, 0xffffffffu, 0x01020304u, 0x80c0e0f0u}) {
        const std::string payload = Pattern(len);
        std::string wire(offset, 'p');
        AppendClientFrame(wire, Opcode::kBinary, payload, mask);
        std::vector<char> buf(wire.begin(), wire.end());
        DecodeResult r = DecodeClientFrame(buf.data() + offset, buf.size() - offset, kBig);
        ASSERT_EQ(r.status, Status::kFrame);
        ASSERT_EQ(r.frame.payload, payload) << offset << " " << len << " " << mask;
        ASSERT_EQ(r.consumed, wire.size() - offset);
      }
    }
  }
}

// ---- Protocol errors (§5.1, §5.2, §5.5) ----------------------------------------------------

TEST(DecodeClientFrame, RejectsReservedBits) {
  for (int rsv : {0x40, 0x20, 0x10, 0x70}) {
    ExpectError(Bytes({0x81 | rsv, 0x80, 0, 0, 0, 0}), close_code::kProtocolError);
    // Reported from the first two bytes, before the mask key arrives.
    ExpectError(Bytes({0x81 | rsv, 0x80}), close_code::kProtocolError);
  }
}

TEST(DecodeClientFrame, RejectsUnknownOpcodes) {
  for (int op : {3, 4, 5, 6, 7, 11, 12, 13, 14, 15}) {
    ExpectError(Bytes({0x80 | op, 0x80, 0, 0, 0, 0}), close_code::kProtocolError);
  }
  for (int op : {0, 1, 2, 8, 9, 10}) {
    std::vector<char> buf;
    EXPECT_EQ(Decode(Bytes({0x80 | op, 0x80, 0, 0, 0, 0}), buf).status, Status::kFrame) << op;
  }
}

TEST(DecodeClientFrame, RejectsUnmaskedFrames) {
  ExpectError(Bytes({0x81, 0x05, 'H', 'e', 'l', 'l', 'o'}), close_code::kProtocolError);
  ExpectError(Bytes({0x81, 0x05}), close_code::kProtocolError);
}

TEST(DecodeClientFrame, RejectsFragmentedControlFrames) {
  for (int op : {8, 9, 10}) ExpectError(Bytes({op, 0x80, 0, 0, 0, 0}), close_code::kProtocolError);
}

TEST(DecodeClientFrame, ControlFramePayloadLimit) {
  for (Opcode op : {Opcode::kPing, Opcode::kPong, Opcode::kClose}) {
    std::string ok;
    AppendClientFrame(ok, op, std::string(125, 'a'), 1);
    std::vector<char> buf;
    EXPECT_EQ(Decode(ok, buf).status, Status::kFrame);
    std::string too_long;
    AppendClientFrame(too_long, op, std::string(126, 'a'), 1);
    ExpectError(too_long, close_code::kProtocolError);
    ExpectError(too_long.substr(0, 2), close_code::kProtocolError);  // 126 marker alone suffices
  }
}

TEST(DecodeClientFrame, Rejects64BitLengthWithMsbSet) {
  ExpectError(Bytes({0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0}), close_code::kProtocolError);
  ExpectError(Bytes({0x82, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}),
              close_code::kProtocolError);
}

TEST(DecodeClientFrame, TooBigReportedAsSoonAsTheLengthIsKnown) {
  // 7-bit length over a small limit.
  ExpectError(Bytes({0x81, 0x80 | 11}), close_code::kMessageTooBig, 10);
  // 16-bit length: header only, no key, no payload.
  ExpectError(Bytes({0x82, 0xFE, 0x01, 0x00}), close_code::kMessageTooBig, 255);
  // 64-bit length of 2^62: never buffered.
  ExpectError(Bytes({0x82, 0xFF, 0x40, 0, 0, 0, 0, 0, 0, 0}), close_code::kMessageTooBig, 65536);
  // Before the length field is complete it is still kNeedMore.
  std::vector<char> buf;
  EXPECT_EQ(Decode(Bytes({0x82, 0xFE, 0x01}), buf, 255).status, Status::kNeedMore);
  // Exactly the limit is fine.
  std::string wire;
  AppendClientFrame(wire, Opcode::kBinary, std::string(256, 'q'), 7);
  EXPECT_EQ(Decode(wire, buf, 256).status, Status::kFrame);
  ExpectError(wire, close_code::kMessageTooBig, 255);
  // Zero limit: only empty frames pass.
  EXPECT_EQ(Decode(Bytes({0x81, 0x80, 1, 2, 3, 4}), buf, 0).status, Status::kFrame);
  ExpectError(Bytes({0x81, 0x81}), close_code::kMessageTooBig, 0);
}

// ---- Encoding ----------------------------------------------------------------------------

TEST(AppendClose, CodeAndReason) {
  std::string out;
  AppendClose(out, 3000, "unauthorized");
  EXPECT_EQ(out, Bytes({0x88, 14, 0x0B, 0xB8}) + "unauthorized");
  out.clear();
  AppendClose(out, close_code::kNormal, "");
  EXPECT_EQ(out, Bytes({0x88, 2, 0x03, 0xE8}));
  out.clear();
  AppendClose(out, close_code::kNoStatus, "ignored");
  EXPECT_EQ(out, Bytes({0x88, 0}));
}

TEST(AppendClose, TruncatesReasonOnUtf8Boundary) {
  auto reason_of = [](std::string_view reason) {
    std::string out;
    AppendClose(out, 4000, reason);
    EXPECT_LE(out.size(), 2u + 125);
    EXPECT_EQ(static_cast<uint8_t>(out[1]), out.size() - 2);
    return out.substr(4);
  };
  EXPECT_EQ(reason_of(std::string(123, 'a')), std::string(123, 'a'));
  EXPECT_EQ(reason_of(std::string(200, 'a')), std::string(123, 'a'));
  // "é" = C3 A9 at bytes 121-122 fits exactly; at 122-123 it would straddle and is dropped.
  EXPECT_EQ(reason_of(std::string(121, 'a') + "\xC3\xA9"), std::string(121, 'a') + "\xC3\xA9");
  EXPECT_EQ(reason_of(std::string(122, 'a') + "\xC3\xA9" + "zz"), std::string(122, 'a'));
  // A 4-byte character (U+1F600) straddling the limit is dropped whole.
  EXPECT_EQ(reason_of(std::string(121, 'a') + "\xF0\x9F\x98\x80"), std::string(121, 'a'));
  EXPECT_EQ(reason_of(std::string(119, 'a') + "\xF0\x9F\x98\x80" + "b"),
            std::string(119, 'a') + "\xF0\x9F\x98\x80");
}

TEST(AppendClientFrame, RoundTripsEveryOpcode) {
  for (Opcode op : {Opcode::kContinuation, Opcode::kText, Opcode::kBinary, Opcode::kClose,
                    Opcode::kPing, Opcode::kPong}) {
    for (bool fin : {true, false}) {
      if (IsControl(op) && !fin) continue;
      std::string wire;
      AppendClientFrame(wire, op, "payload", 0x12345678, fin);
      ExpectDecodesAtEverySplit(wire, fin, op, "payload");
    }
  }
}

TEST(IsValidWireCloseCode, Rfc7_4Ranges) {
  for (int code : {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000,
                   3500, 3999, 4000, 4999}) {
    EXPECT_TRUE(IsValidWireCloseCode(static_cast<uint16_t>(code))) << code;
  }
  for (int code : {0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535}) {
    EXPECT_FALSE(IsValidWireCloseCode(static_cast<uint16_t>(code))) << code;
  }
}

}  // namespace
}  // namespace instant::ws
