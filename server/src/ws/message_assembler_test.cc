#include "ws/message_assembler.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ws/frame.h"
#include "ws/utf8.h"

namespace instant::ws {
namespace {

using Kind = MessageAssembler::Kind;
constexpr uint64_t kMax = 1 << 20;

Frame Data(Opcode op, std::string_view payload, bool fin = true) { return Frame{fin, op, payload}; }
Frame Text(std::string_view payload, bool fin = true) { return Data(Opcode::kText, payload, fin); }
Frame Cont(std::string_view payload, bool fin = true) {
  return Data(Opcode::kContinuation, payload, fin);
}

std::string CloseBody(uint16_t code, std::string_view reason = "") {
  std::string s;
  s.push_back(static_cast<char>(code >> 8));
  s.push_back(static_cast<char>(code & 0xFF));
  s.append(reason);
  return s;
}

void ExpectError(const MessageAssembler::Event& e, uint16_t code) {
  EXPECT_EQ(e.kind, Kind::kError);
  EXPECT_EQ(e.close_code, code);
  EXPECT_NE(e.error, nullptr);
}

TEST(MessageAssembler, IsSmall) { EXPECT_LE(sizeof(MessageAssembler), 40u); }

TEST(MessageAssembler, UnfragmentedMessagesAreNotCopied) {
  MessageAssembler a;
  const std::string text = "{\"connect\":{}}";
  auto e = a.Feed(Text(text), kMax);
  EXPECT_EQ(e.kind, Kind::kText);
  EXPECT_EQ(e.data.data(), text.data());
  EXPECT_EQ(e.data.size(), text.size());
  const std::string bin = "\xff\x00\xfe";
  e = a.Feed(Data(Opcode::kBinary, bin), kMax);
  EXPECT_EQ(e.kind, Kind::kBinary);
  EXPECT_EQ(e.data.data(), bin.data());
  EXPECT_TRUE(a.idle());
}

TEST(MessageAssembler, EmptyMessages) {
  MessageAssembler a;
  EXPECT_EQ(a.Feed(Text(""), kMax).kind, Kind::kText);
  EXPECT_EQ(a.Feed(Text("", false), kMax).kind, Kind::kNone);
  auto e = a.Feed(Cont(""), kMax);
  EXPECT_EQ(e.kind, Kind::kText);
  EXPECT_EQ(e.data, "");
}

TEST(MessageAssembler, Rfc5_7FragmentedHello) {
  MessageAssembler a;
  EXPECT_TRUE(a.idle());
  EXPECT_EQ(a.Feed(Text("Hel", false), kMax).kind, Kind::kNone);
  EXPECT_FALSE(a.idle());
  auto e = a.Feed(Cont("lo"), kMax);
  EXPECT_EQ(e.kind, Kind::kText);
  EXPECT_EQ(e.data, "Hello");
  EXPECT_TRUE(a.idle());
  // 64 readable bytes past the end, for simdjson.
  for (size_t i = 0; i < MessageAssembler::kPadding; ++i) EXPECT_EQ(e.data.data()[5 + i], '\0');
}

TEST(MessageAssembler, ManyFragmentsAndBinary) {
  MessageAssembler a;
  std::string expected;
  EXPECT_EQ(a.Feed(Data(Opcode::kBinary, "", false), kMax).kind, Kind::kNone);
  for (int i = 0; i < 1000; ++i) {
    std::string part(static_cast<size_t>(i % 17), static_cast<char>(i));
    expected += part;
    EXPECT_EQ(a.Feed(Cont(part, false), kMax).kind, Kind::kNone);
  }
  auto e = a.Feed(Cont("end"), kMax);
  expected += "end";
  EXPECT_EQ(e.kind, Kind::kBinary);
  EXPECT_EQ(e.data, expected);
}

TEST(MessageAssembler, ControlFramesInterleavedWithFragments) {
  // §5.4: control frames may be injected in the middle of a fragmented message.
  MessageAssembler a;
  EXPECT_EQ(a.Feed(Text("Hel", false), kMax).kind, Kind::kNone);
  auto ping = a.Feed(Frame{true, Opcode::kPing, "p1"}, kMax);
  EXPECT_EQ(ping.kind, Kind::kPing);
  EXPECT_EQ(ping.data, "p1");
  EXPECT_FALSE(a.idle());
  auto pong = a.Feed(Frame{true, Opcode::kPong, ""}, kMax);
  EXPECT_EQ(pong.kind, Kind::kPong);
  EXPECT_EQ(a.Feed(Cont("l", false), kMax).kind, Kind::kNone);
  auto e = a.Feed(Cont("o"), kMax);
  EXPECT_EQ(e.kind, Kind::kText);
  EXPECT_EQ(e.data, "Hello");
}

TEST(MessageAssembler, BufferIsReleasedAfterUseAndReusedForTheNextFragmentedMessage) {
  MessageAssembler a;
  a.Feed(Text("ab", false), kMax);
  auto first = a.Feed(Cont("cd"), kMax);
  EXPECT_EQ(first.data, "abcd");
  // Starting another fragmented message reuses the buffer.
  EXPECT_EQ(a.Feed(Text("xy", false), kMax).kind, Kind::kNone);
  EXPECT_EQ(a.Feed(Cont("z"), kMax).data, "xyz");
  // An unfragmented frame afterwards frees it; the message still arrives intact.
  EXPECT_EQ(a.Feed(Text("solo"), kMax).data, "solo");
  a.Clear();
  EXPECT_TRUE(a.idle());
}

TEST(MessageAssembler, ClearDropsPendingMessage) {
  MessageAssembler a;
  a.Feed(Text("partial", false), kMax);
  a.Clear();
  EXPECT_TRUE(a.idle());
  ExpectError(a.Feed(Cont("x"), kMax), close_code::kProtocolError);
}

// ---- Fragmentation errors (§5.4) -----------------------------------------------------------

TEST(MessageAssembler, ContinuationWithoutMessage) {
  MessageAssembler a;
  ExpectError(a.Feed(Cont("x"), kMax), close_code::kProtocolError);
  ExpectError(a.Feed(Cont("x", false), kMax), close_code::kProtocolError);
}

TEST(MessageAssembler, NewDataFrameInsideFragmentedMessage) {
  for (Opcode op : {Opcode::kText, Opcode::kBinary}) {
    for (bool fin : {true, false}) {
      MessageAssembler a;
      a.Feed(Text("a", false), kMax);
      ExpectError(a.Feed(Data(op, "b", fin), kMax), close_code::kProtocolError);
      EXPECT_TRUE(a.idle());  // reset after an error
    }
  }
}

TEST(MessageAssembler, RejectsMalformedControlFramesFromElsewhere) {
  MessageAssembler a;
  ExpectError(a.Feed(Frame{false, Opcode::kPing, ""}, kMax), close_code::kProtocolError);
  const std::string big(126, 'a');
  ExpectError(a.Feed(Frame{true, Opcode::kPong, big}, kMax), close_code::kProtocolError);
  ExpectError(a.Feed(Frame{true, static_cast<Opcode>(3), ""}, kMax), close_code::kProtocolError);
}

// ---- Size limit ----------------------------------------------------------------------------

TEST(MessageAssembler, MessageSizeLimit) {
  MessageAssembler a;
  EXPECT_EQ(a.Feed(Text(std::string(10, 'a')), 10).kind, Kind::kText);
  ExpectError(a.Feed(Text(std::string(11, 'a')), 10), close_code::kMessageTooBig);
  ExpectError(a.Feed(Text(std::string(11, 'a'), false), 10), close_code::kMessageTooBig);
  // Fragments: exactly the limit passes, one byte over fails, at whichever fragment crosses it.
  EXPECT_EQ(a.Feed(Text("aaaa", false), 10).kind, Kind::kNone);
  EXPECT_EQ(a.Feed(Cont("bbb", false), 10).kind, Kind::kNone);
  EXPECT_EQ(a.Feed(Cont("ccc"), 10).data, "aaaabbbccc");
  EXPECT_EQ(a.Feed(Text("aaaa", false), 10).kind, Kind::kNone);
  EXPECT_EQ(a.Feed(Cont("bbbbbb", false), 10).kind, Kind::kNone);
  ExpectError(a.Feed(Cont("c", false), 10), close_code::kMessageTooBig);
  EXPECT_TRUE(a.idle());
  // Control frames are not messages: the limit does not apply to them.
  EXPECT_EQ(a.Feed(Frame{true, Opcode::kPing, "0123456789ab"}, 10).kind, Kind::kPing);
}

// ---- UTF-8 (§5.6, §8.1) ----------------------------------------------------------------------

const char* const kInvalidUtf8[] = {
    "\x80",                  // lone continuation byte
    "\xbf",                  //
    "\xc0\xaf",              // overlong '/'
    "\xe0\x80\xaf",          // overlong '/' in 3 bytes
    "\xf0\x80\x80\xaf",      // overlong '/' in 4 bytes
    "\xc1\xbf",              // overlong U+007F
    "\xed\xa0\x80",          // U+D800 (high surrogate)
    "\xed\xbf\xbf",          // U+DFFF (low surrogate)
    "\xed\xa0\xbd\xed\xb2\x96",  // CESU-8 surrogate pair
    "\xf4\x90\x80\x80",      // U+110000
    "\xf5\x80\x80\x80",      // F5 lead byte
    "\xff",                  //
    "\xfe\xfe\xff\xff",      //
    "\xce",                  // truncated 2-byte sequence
    "\xe2\x82",              // truncated 3-byte sequence
    "abc\xf0\x9f\x98",       // truncated 4-byte sequence at the end
    "\xce\xbax\xe1",         //
};

TEST(IsValidUtf8, ValidAndInvalid) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("hello"));
  EXPECT_TRUE(IsValidUtf8("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"));  // κόσμε
  EXPECT_TRUE(IsValidUtf8("\xf0\x9f\x98\x80"));                              // U+1F600
  EXPECT_TRUE(IsValidUtf8("\xef\xbf\xbf"));                                  // U+FFFF
  EXPECT_TRUE(IsValidUtf8("\xf4\x8f\xbf\xbf"));                              // U+10FFFF
  EXPECT_TRUE(IsValidUtf8("\xed\x9f\xbf"));                                  // U+D7FF
  EXPECT_TRUE(IsValidUtf8(std::string_view("nul\0inside", 10)));
  for (const char* s : kInvalidUtf8) EXPECT_FALSE(IsValidUtf8(s)) << s;
  // Long input exercises the SIMD path, with the error far from the start.
  std::string long_text(1000, 'a');
  EXPECT_TRUE(IsValidUtf8(long_text));
  long_text[777] = '\xc0';
  EXPECT_FALSE(IsValidUtf8(long_text));
}

TEST(MessageAssembler, InvalidUtf8InTextMessage) {
  for (const char* s : kInvalidUtf8) {
    MessageAssembler a;
    ExpectError(a.Feed(Text(s), kMax), close_code::kInvalidPayload);
    // Binary messages are not checked.
    EXPECT_EQ(a.Feed(Data(Opcode::kBinary, s), kMax).kind, Kind::kBinary);
  }
}

TEST(MessageAssembler, Utf8IsValidatedOnTheCompleteMessageOnly) {
  // "κ" = CE BA split across fragments: each fragment alone is invalid, the message is valid.
  MessageAssembler a;
  EXPECT_EQ(a.Feed(Text("x\xce", false), kMax).kind, Kind::kNone);
  auto e = a.Feed(Cont("\xba"), kMax);
  EXPECT_EQ(e.kind, Kind::kText);
  EXPECT_EQ(e.data, "x\xce\xba");
  // U+1F600 split over three fragments.
  EXPECT_EQ(a.Feed(Text("\xf0", false), kMax).kind, Kind::kNone);
  EXPECT_EQ(a.Feed(Cont("\x9f\x98", false), kMax).kind, Kind::kNone);
  EXPECT_EQ(a.Feed(Cont("\x80"), kMax).kind, Kind::kText);
  // A sequence left truncated at FIN is invalid.
  EXPECT_EQ(a.Feed(Text("ok", false), kMax).kind, Kind::kNone);
  ExpectError(a.Feed(Cont("\xe2\x82"), kMax), close_code::kInvalidPayload);
  // Surrogate assembled from fragments.
  EXPECT_EQ(a.Feed(Text("\xed", false), kMax).kind, Kind::kNone);
  ExpectError(a.Feed(Cont("\xa0\x80"), kMax), close_code::kInvalidPayload);
}

// ---- Close frames (§5.5.1, §7.4) -------------------------------------------------------------

TEST(MessageAssembler, CloseWithoutBodyMeans1005) {
  MessageAssembler a;
  auto e = a.Feed(Frame{true, Opcode::kClose, ""}, kMax);
  EXPECT_EQ(e.kind, Kind::kClose);
  EXPECT_EQ(e.close_code, close_code::kNoStatus);
  EXPECT_EQ(e.data, "");
}

TEST(MessageAssembler, CloseWithCodeAndReason) {
  MessageAssembler a;
  const std::string body = CloseBody(1000, "bye \xce\xba");
  auto e = a.Feed(Frame{true, Opcode::kClose, body}, kMax);
  EXPECT_EQ(e.kind, Kind::kClose);
  EXPECT_EQ(e.close_code, 1000);
  EXPECT_EQ(e.data, "bye \xce\xba");
  const std::string app = CloseBody(4999);
  e = a.Feed(Frame{true, Opcode::kClose, app}, kMax);
  EXPECT_EQ(e.close_code, 4999);
}

TEST(MessageAssembler, CloseWithOneBytePayload) {
  MessageAssembler a;
  ExpectError(a.Feed(Frame{true, Opcode::kClose, "\x03"}, kMax), close_code::kProtocolError);
}

TEST(MessageAssembler, CloseCodesNotAllowedOnTheWire) {
  for (int code : {0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535}) {
    MessageAssembler a;
    const std::string body = CloseBody(static_cast<uint16_t>(code), "r");
    ExpectError(a.Feed(Frame{true, Opcode::kClose, body}, kMax), close_code::kProtocolError);
  }
  for (int code : {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000,
                   3999, 4000, 4999}) {
    MessageAssembler a;
    const std::string body = CloseBody(static_cast<uint16_t>(code));
    auto e = a.Feed(Frame{true, Opcode::kClose, body}, kMax);
    EXPECT_EQ(e.kind, Kind::kClose) << code;
    EXPECT_EQ(e.close_code, code);
  }
}

TEST(MessageAssembler, CloseReasonMustBeUtf8) {
  for (const char* s : kInvalidUtf8) {
    MessageAssembler a;
    const std::string body = CloseBody(1000, s);
    ExpectError(a.Feed(Frame{true, Opcode::kClose, body}, kMax), close_code::kInvalidPayload);
  }
}

// ---- Decoder + assembler, as a connection drives them ----------------------------------------

TEST(MessageAssembler, DrivenByDecoderOverAByteStream) {
  std::string wire;
  AppendClientFrame(wire, Opcode::kText, "{\"id\":1,", 0x11223344, false);
  AppendClientFrame(wire, Opcode::kPing, "keepalive", 0x55667788);
  AppendClientFrame(wire, Opcode::kContinuation, "\"connect\":{}}", 0x99aabbcc, true);
  AppendClientFrame(wire, Opcode::kText, "second", 0xddeeff00);
  std::string close_body = CloseBody(1001, "going");
  AppendClientFrame(wire, Opcode::kClose, close_body, 0x01010101);

  // Deliver the stream in 3-byte reads, keeping only the unconsumed tail between reads.
  std::vector<char> pending;
  MessageAssembler a;
  std::vector<std::string> seen;
  for (size_t at = 0; at < wire.size(); at += 3) {
    pending.insert(pending.end(), wire.begin() + static_cast<std::ptrdiff_t>(at),
                   wire.begin() + static_cast<std::ptrdiff_t>(std::min(at + 3, wire.size())));
    size_t off = 0;
    while (true) {
      DecodeResult r = DecodeClientFrame(pending.data() + off, pending.size() - off, kMax);
      ASSERT_NE(r.status, DecodeResult::Status::kError) << r.error;
      if (r.status == DecodeResult::Status::kNeedMore) break;
      off += r.consumed;
      auto e = a.Feed(r.frame, kMax);
      ASSERT_NE(e.kind, Kind::kError) << e.error;
      if (e.kind != Kind::kNone) seen.push_back(std::to_string(static_cast<int>(e.kind)) + ":" +
                                                std::string(e.data));
    }
    pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(off));
  }
  EXPECT_TRUE(pending.empty());
  const std::vector<std::string> expected = {
      std::to_string(static_cast<int>(Kind::kPing)) + ":keepalive",
      std::to_string(static_cast<int>(Kind::kText)) + ":{\"id\":1,\"connect\":{}}",
      std::to_string(static_cast<int>(Kind::kText)) + ":second",
      std::to_string(static_cast<int>(Kind::kClose)) + ":going",
  };
  EXPECT_EQ(seen, expected);
}

}  // namespace
}  // namespace instant::ws
