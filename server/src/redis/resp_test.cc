#include "redis/resp.h"

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace instant::redis {
namespace {

using Status = ReplyParser::Status;

// Feeds `chunks` in order and renders every complete reply with Reply::ToString(). Stops at the
// first error and appends "ERROR: <why>".
std::vector<std::string> Feed(ReplyParser& parser, const std::vector<std::string_view>& chunks) {
  std::vector<std::string> out;
  for (std::string_view chunk : chunks) {
    const char* data = chunk.data();
    size_t size = chunk.size();
    while (true) {
      size_t used = 0;
      const Status st = parser.Parse(data, size, &used);
      EXPECT_LE(used, size);
      data += used;
      size -= used;
      if (st == Status::kReply) {
        out.push_back(parser.reply().ToString());
        continue;  // a reply may end exactly at the chunk's end: Parse(…, 0) is fine
      }
      if (st == Status::kError) {
        out.push_back(std::string("ERROR: ") + parser.error());
        return out;
      }
      EXPECT_EQ(size, 0u) << "kNeedMore must consume everything";
      break;
    }
  }
  return out;
}

std::vector<std::string> FeedWhole(std::string_view wire, const ParserLimits& limits = {}) {
  ReplyParser p(limits);
  return Feed(p, {wire});
}

struct Case {
  std::string wire;
  std::string rendered;
};

// Every reply type, the edge values, and the nesting the engine's scripts produce.
std::vector<Case> Corpus() {
  return {
      {"+OK\r\n", "+OK"},
      {"+\r\n", "+"},
      {std::string("+a\rb\r\n"), "+a\rb"},
      {"-ERR unknown command 'FOO'\r\n", "(error) ERR unknown command 'FOO'"},
      {":0\r\n", "(integer) 0"},
      {":-42\r\n", "(integer) -42"},
      {":9223372036854775807\r\n", "(integer) 9223372036854775807"},
      {":-9223372036854775808\r\n", "(integer) -9223372036854775808"},
      {"$3\r\nfoo\r\n", "\"foo\""},
      {"$0\r\n\r\n", "\"\""},
      {"$-1\r\n", "(nil)"},
      {"*-1\r\n", "(nil)"},
      {"*0\r\n", "[]"},
      {std::string("$8\r\na\r\nb\0\xff\r\n\r\n", 14), "\"a\\x0d\\x0ab\\x00\\xff\\x0d\\x0a\""},
      {"*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$5\r\nhello\r\n", "[\"message\", \"ch\", \"hello\"]"},
      {"*2\r\n*2\r\n:1\r\n*0\r\n*3\r\n$-1\r\n+x\r\n-e\r\n",
       "[[(integer) 1, []], [(nil), +x, (error) e]]"},
      // A history read as the engine's script returns it: {top, epoch, {{id, {k, v}}, ...}}.
      {"*3\r\n:7\r\n$4\r\nabcd\r\n*1\r\n*2\r\n$3\r\n7-0\r\n*2\r\n$1\r\nd\r\n$2\r\n{}\r\n",
       "[(integer) 7, \"abcd\", [[\"7-0\", [\"d\", \"{}\"]]]]"},
  };
}

TEST(ReplyParser, ParsesEachReplyWhole) {
  for (const Case& c : Corpus()) {
    ReplyParser p;
    size_t used = 0;
    ASSERT_EQ(p.Parse(c.wire.data(), c.wire.size(), &used), Status::kReply) << c.rendered;
    EXPECT_EQ(used, c.wire.size()) << c.rendered;
    EXPECT_EQ(p.reply().ToString(), c.rendered);
    EXPECT_FALSE(p.in_progress());
  }
}

TEST(ReplyParser, EveryReplySplitAtEveryByte) {
  for (const Case& c : Corpus()) {
    const std::string_view w = c.wire;
    for (size_t k = 0; k <= w.size(); ++k) {
      ReplyParser p;
      EXPECT_EQ(Feed(p, {w.substr(0, k), w.substr(k)}), std::vector<std::string>{c.rendered})
          << c.rendered << " split at " << k;
    }
    // One byte at a time: the worst chunking there is.
    ReplyParser p;
    std::vector<std::string_view> bytes;
    for (size_t i = 0; i < w.size(); ++i) bytes.push_back(w.substr(i, 1));
    EXPECT_EQ(Feed(p, bytes), std::vector<std::string>{c.rendered}) << c.rendered;
  }
}

TEST(ReplyParser, PipelinedStreamSplitAtEveryByte) {
  std::string stream;
  std::vector<std::string> expected;
  for (const Case& c : Corpus()) {
    stream += c.wire;
    expected.push_back(c.rendered);
  }
  for (size_t k = 0; k <= stream.size(); ++k) {
    ReplyParser p;
    const std::string_view s = stream;
    ASSERT_EQ(Feed(p, {s.substr(0, k), s.substr(k)}), expected) << "split at " << k;
  }
  // Three chunks, a sample of split pairs.
  for (size_t a = 0; a <= stream.size(); a += 7) {
    for (size_t b = a; b <= stream.size(); b += 13) {
      ReplyParser p;
      const std::string_view s = stream;
      ASSERT_EQ(Feed(p, {s.substr(0, a), s.substr(a, b - a), s.substr(b)}), expected);
    }
  }
}

TEST(ReplyParser, StopsAfterEachReply) {
  const std::string wire = "+OK\r\n:5\r\n$1\r\nx\r\n";
  ReplyParser p;
  size_t used = 0;
  ASSERT_EQ(p.Parse(wire.data(), wire.size(), &used), Status::kReply);
  EXPECT_EQ(used, 5u);
  EXPECT_TRUE(p.reply().is_status());
  size_t off = used;
  ASSERT_EQ(p.Parse(wire.data() + off, wire.size() - off, &used), Status::kReply);
  EXPECT_EQ(used, 4u);
  EXPECT_EQ(p.reply().integer(), 5);
  off += used;
  ASSERT_EQ(p.Parse(wire.data() + off, wire.size() - off, &used), Status::kReply);
  EXPECT_EQ(p.reply().str(), "x");
  off += used;
  EXPECT_EQ(off, wire.size());
  EXPECT_EQ(p.Parse(wire.data() + off, 0, &used), Status::kNeedMore);
  EXPECT_EQ(used, 0u);
}

TEST(ReplyParser, KeepsPartialReplyAcrossChunks) {
  ReplyParser p;
  size_t used = 0;
  EXPECT_EQ(p.Parse("*2\r\n$5\r\nhel", 11, &used), Status::kNeedMore);
  EXPECT_EQ(used, 11u);
  EXPECT_TRUE(p.in_progress());
  EXPECT_EQ(p.Parse("lo\r\n:1", 6, &used), Status::kNeedMore);
  ASSERT_EQ(p.Parse("2\r\n", 3, &used), Status::kReply);
  EXPECT_EQ(used, 3u);
  EXPECT_EQ(p.reply().ToString(), "[\"hello\", (integer) 12]");
  EXPECT_FALSE(p.in_progress());
}

TEST(ReplyParser, ReplyAccessors) {
  const std::string wire = "*4\r\n:3\r\n*2\r\n$1\r\na\r\n$-1\r\n-NOSCRIPT No matching script\r\n+OK\r\n";
  ReplyParser p;
  size_t used = 0;
  ASSERT_EQ(p.Parse(wire.data(), wire.size(), &used), Status::kReply);
  const Reply r = p.reply();
  ASSERT_TRUE(r.is_array());
  ASSERT_EQ(r.size(), 4u);
  EXPECT_EQ(r[0].integer(), 3);
  EXPECT_EQ(r[1].size(), 2u);
  EXPECT_EQ(r[1][0].str(), "a");
  EXPECT_TRUE(r[1][1].is_nil());
  EXPECT_TRUE(r[2].is_error());
  EXPECT_TRUE(r[2].IsErrorCode("NOSCRIPT"));
  EXPECT_FALSE(r[2].IsErrorCode("NOSCRIPTX"));
  EXPECT_FALSE(r[2].IsErrorCode("NOSC"));
  EXPECT_TRUE(r[3].is_status());
  EXPECT_TRUE(r[3].is_string());
  EXPECT_EQ(r[3].str(), "OK");
  // Iteration visits the elements, skipping nested subtrees.
  std::vector<ReplyType> types;
  for (Reply e : r) types.push_back(e.type());
  EXPECT_EQ(types, (std::vector<ReplyType>{ReplyType::kInteger, ReplyType::kArray,
                                           ReplyType::kError, ReplyType::kStatus}));
  // Scalars have no elements and no integer value unless they are integers.
  EXPECT_EQ(r[3].size(), 0u);
  EXPECT_EQ(r[3].begin(), r[3].end());
  EXPECT_EQ(r[1].integer(), 0);
}

TEST(ReplyParser, AppendReplyRoundTrips) {
  for (const Case& c : Corpus()) {
    ReplyParser p;
    size_t used = 0;
    ASSERT_EQ(p.Parse(c.wire.data(), c.wire.size(), &used), Status::kReply);
    std::string again;
    AppendReply(again, p.reply());
    EXPECT_EQ(FeedWhole(again), std::vector<std::string>{c.rendered});
  }
}

TEST(ReplyParser, LargeBulkInSmallChunks) {
  std::string payload(1 << 20, '\0');
  for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>(i * 131 + 7);
  std::string wire = "$";  // appended piecewise: g++ 12 warns falsely on "lit" + std::string&&
  wire += std::to_string(payload.size());
  wire += "\r\n";
  wire += payload;
  wire += "\r\n";
  ReplyParser p;
  size_t off = 0;
  bool done = false;
  while (off < wire.size()) {
    const size_t n = std::min<size_t>(1000, wire.size() - off);
    size_t used = 0;
    const Status st = p.Parse(wire.data() + off, n, &used);
    off += used;
    if (st == Status::kReply) {
      done = true;
      break;
    }
    ASSERT_EQ(st, Status::kNeedMore);
  }
  ASSERT_TRUE(done);
  EXPECT_EQ(off, wire.size());
  EXPECT_TRUE(p.reply().str() == payload);
}

// --- Malformed input -------------------------------------------------------------------------

TEST(ReplyParser, MalformedInputIsAnError) {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"?x\r\n", "unknown reply type"},
      {"\r\n", "empty line"},
      {"+OK\n", "CR LF"},
      {"\n", "CR LF"},
      {":\r\n", "invalid integer"},
      {":abc\r\n", "invalid integer"},
      {":+1\r\n", "invalid integer"},
      {": 1\r\n", "invalid integer"},
      {":1 \r\n", "invalid integer"},
      {":-\r\n", "invalid integer"},
      {":9223372036854775808\r\n", "invalid integer"},
      {":-9223372036854775809\r\n", "invalid integer"},
      {":99999999999999999999\r\n", "invalid integer"},
      {"$-2\r\n", "invalid bulk string length"},
      {"$\r\n", "invalid bulk string length"},
      {"$x\r\n", "invalid bulk string length"},
      {"$3\r\nfooXY", "not terminated"},
      {"$3\r\nfoo\rX", "not terminated"},
      {"$0\r\n\n", "not terminated"},
      {"*-2\r\n", "invalid array length"},
      {"*1\r\n*a\r\n", "invalid array length"},
      {"*2\r\n:1\r\n%\r\n", "unknown reply type"},
  };
  for (const auto& [wire, why] : bad) {
    const std::vector<std::string> got = FeedWhole(wire);
    ASSERT_FALSE(got.empty()) << wire;
    EXPECT_NE(got.back().find("ERROR:"), std::string::npos) << wire;
    EXPECT_NE(got.back().find(why), std::string::npos) << wire << " -> " << got.back();
    // Whatever the chunking, the same error and never a reply.
    for (size_t k = 0; k <= wire.size(); ++k) {
      ReplyParser p;
      const std::string_view w = wire;
      const std::vector<std::string> split = Feed(p, {w.substr(0, k), w.substr(k)});
      ASSERT_EQ(split.size(), 1u) << wire << " split at " << k;
      EXPECT_EQ(split[0], got.back()) << wire << " split at " << k;
    }
  }
}

TEST(ReplyParser, ErrorIsStickyUntilReset) {
  ReplyParser p;
  size_t used = 0;
  ASSERT_EQ(p.Parse("?\r\n", 3, &used), Status::kError);
  EXPECT_TRUE(p.failed());
  EXPECT_EQ(p.Parse("+OK\r\n", 5, &used), Status::kError);
  EXPECT_EQ(used, 0u);
  p.Reset();
  EXPECT_FALSE(p.failed());
  ASSERT_EQ(p.Parse("+OK\r\n", 5, &used), Status::kReply);
  EXPECT_EQ(p.reply().str(), "OK");
}

TEST(ReplyParser, ResetDropsPartialReply) {
  ReplyParser p;
  size_t used = 0;
  ASSERT_EQ(p.Parse("*2\r\n:1\r\n$5\r\nab", 14, &used), Status::kNeedMore);
  p.Reset();
  EXPECT_FALSE(p.in_progress());
  ASSERT_EQ(p.Parse(":9\r\n", 4, &used), Status::kReply);
  EXPECT_EQ(p.reply().integer(), 9);
}

// --- Limits ----------------------------------------------------------------------------------

TEST(ReplyParserLimits, BulkLengthCheckedBeforeThePayload) {
  ParserLimits limits;
  limits.max_bulk_length = 10;
  EXPECT_EQ(FeedWhole("$10\r\n0123456789\r\n", limits), std::vector<std::string>{"\"0123456789\""});
  // Only the header is sent: the error comes without waiting for (or buffering) any payload.
  ReplyParser p(limits);
  size_t used = 0;
  ASSERT_EQ(p.Parse("$11\r\n", 5, &used), Status::kError);
  EXPECT_STREQ(p.error(), "bulk string exceeds max_bulk_length");
  // Default limits reject absurd lengths the same way.
  EXPECT_EQ(FeedWhole("$999999999999\r\n").back(), "ERROR: bulk string exceeds max_bulk_length");
}

TEST(ReplyParserLimits, LineLengthCheckedBeforeTheNewline) {
  ParserLimits limits;
  limits.max_line_length = 8;
  EXPECT_EQ(FeedWhole("+12345678\r\n", limits), std::vector<std::string>{"+12345678"});
  EXPECT_EQ(FeedWhole("+123456789\r\n", limits).back(), "ERROR: line exceeds max_line_length");
  // A line that never ends fails once it is too long, not when memory runs out.
  ReplyParser p(limits);
  size_t used = 0;
  EXPECT_EQ(p.Parse("-abcdefgh", 9, &used), Status::kNeedMore);
  EXPECT_EQ(p.Parse("ij", 2, &used), Status::kNeedMore);  // 11 bytes: still within 8 + 3
  EXPECT_EQ(p.Parse("k", 1, &used), Status::kError);
}

TEST(ReplyParserLimits, ArrayLength) {
  ParserLimits limits;
  limits.max_array_length = 3;
  EXPECT_EQ(FeedWhole("*3\r\n:1\r\n:2\r\n:3\r\n", limits).size(), 1u);
  EXPECT_EQ(FeedWhole("*4\r\n", limits).back(), "ERROR: array exceeds max_array_length");
  EXPECT_EQ(FeedWhole("*1\r\n*4\r\n", limits).back(), "ERROR: array exceeds max_array_length");
  EXPECT_EQ(FeedWhole("*99999999999\r\n").back(), "ERROR: array exceeds max_array_length");
}

TEST(ReplyParserLimits, Depth) {
  ParserLimits limits;
  limits.max_depth = 3;
  EXPECT_EQ(FeedWhole("*1\r\n*1\r\n*1\r\n:1\r\n", limits),
            std::vector<std::string>{"[[[(integer) 1]]]"});
  EXPECT_EQ(FeedWhole("*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n", limits).back(),
            "ERROR: arrays nested deeper than max_depth");
  EXPECT_EQ(FeedWhole("*1\r\n*1\r\n*1\r\n*0\r\n", limits).back(),
            "ERROR: arrays nested deeper than max_depth");
  // Default depth: 16 levels parse, 17 do not.
  std::string ok, too_deep;
  for (int i = 0; i < 16; ++i) ok += "*1\r\n";
  too_deep = ok + "*1\r\n:1\r\n";
  ok += ":1\r\n";
  EXPECT_EQ(FeedWhole(ok).size(), 1u);
  EXPECT_EQ(FeedWhole(ok)[0].substr(0, 3), "[[[");
  EXPECT_EQ(FeedWhole(too_deep).back(), "ERROR: arrays nested deeper than max_depth");
}

TEST(ReplyParserLimits, ReplyMemoryBoundsEndlessInput) {
  ParserLimits limits;
  limits.max_reply_memory = 1000;
  // An array that claims many elements and keeps sending them, each element within every other
  // limit: the reply is cut once it holds ~1000 bytes of nodes.
  ReplyParser p(limits);
  size_t used = 0;
  ASSERT_EQ(p.Parse("*100000\r\n", 9, &used), Status::kNeedMore);
  Status st = Status::kNeedMore;
  int fed = 0;
  while (st == Status::kNeedMore && fed < 1000) {
    st = p.Parse(":1\r\n", 4, &used);
    ++fed;
  }
  EXPECT_EQ(st, Status::kError);
  EXPECT_STREQ(p.error(), "reply exceeds max_reply_memory");
  EXPECT_LT(fed, 1000 / static_cast<int>(sizeof(ReplyNode)) + 2);

  // Bulk payloads count up front.
  EXPECT_EQ(FeedWhole("*2\r\n$1000\r\n", limits),
            std::vector<std::string>{"ERROR: reply exceeds max_reply_memory"});
  // The budget is per reply: many small replies in a row are fine.
  std::string many;
  for (int i = 0; i < 1000; ++i) many += "$10\r\n0123456789\r\n";
  EXPECT_EQ(FeedWhole(many, limits).size(), 1000u);
}

// --- Encoder ---------------------------------------------------------------------------------

TEST(Encoder, AppendCommand) {
  std::string out;
  AppendCommand(out, {"SET", "key", "value"});
  EXPECT_EQ(out, "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n");
}

TEST(Encoder, AppendsToExistingContent) {
  std::string out = "prefix";
  AppendCommand(out, {"PING"});
  AppendCommand(out, {"GET", std::string("k")});
  EXPECT_EQ(out, "prefix*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
}

TEST(Encoder, IntegersAndBinary) {
  std::string out;
  const std::string binary("a\0\r\nb", 5);
  AppendCommand(out, {"X", 0, 60, -5, std::numeric_limits<int64_t>::min(),
                      std::numeric_limits<uint64_t>::max(), "", binary});
  EXPECT_EQ(out, std::string("*8\r\n$1\r\nX\r\n$1\r\n0\r\n$2\r\n60\r\n$2\r\n-5\r\n"
                             "$20\r\n-9223372036854775808\r\n$20\r\n18446744073709551615\r\n"
                             "$0\r\n\r\n") +
                     std::string("$5\r\na\0\r\nb\r\n", 11));
}

TEST(Encoder, NoReallocationWhenCapacitySuffices) {
  std::string out;
  out.reserve(4096);
  const char* before = out.data();
  const std::string value(1000, 'v');
  for (int i = 0; i < 3; ++i) AppendCommand(out, {"SET", "some:key", value, "EX", 60});
  EXPECT_EQ(out.data(), before);
  EXPECT_GT(out.size(), 3000u);
}

TEST(Encoder, PartsMatchWholeCommand) {
  const std::string big(300, 'z');  // Arg only points at it
  const std::vector<Arg> args = {"EVALSHA", "0123", 2, "k1", "k2", -7, big};
  std::string whole;
  AppendCommand(whole, std::span<const Arg>(args));
  std::string parts;
  AppendArrayHeader(parts, args.size());
  size_t sizes = 0;
  for (const Arg& a : args) {
    const size_t before = parts.size();
    AppendArg(parts, a);
    EXPECT_EQ(parts.size() - before, EncodedArgSize(a));
    sizes += EncodedArgSize(a);
  }
  EXPECT_EQ(parts, whole);
  EXPECT_EQ(whole.size(), 4 + sizes);
}

TEST(Encoder, CommandParsesAsArrayOfBulks) {
  const std::string binary("\r\n\0*$", 5);
  std::string out;
  AppendCommand(out, {"PUBLISH", "ch", binary, 123});
  ReplyParser p;
  size_t used = 0;
  ASSERT_EQ(p.Parse(out.data(), out.size(), &used), Status::kReply);
  const Reply r = p.reply();
  ASSERT_EQ(r.size(), 4u);
  EXPECT_EQ(r[0].str(), "PUBLISH");
  EXPECT_EQ(r[1].str(), "ch");
  EXPECT_EQ(r[2].str(), binary);
  EXPECT_EQ(r[3].str(), "123");
}

}  // namespace
}  // namespace instant::redis
