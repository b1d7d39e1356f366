#include "http/chunked.h"

#include <gtest/gtest.h>

#include <string>

namespace instant::http {
namespace {

using Status = ChunkedDecoder::Status;

struct Outcome {
  Status status;
  std::string body;
  size_t consumed;  // total over all calls
};

// Feeds `in` in one call.
Outcome DecodeAll(std::string_view in, size_t max_body = 1 << 20) {
  ChunkedDecoder d;
  Outcome o{Status::kNeedMore, "", 0};
  o.status = d.Feed(in, max_body, &o.body, &o.consumed);
  return o;
}

// Feeds `in` as two pieces split at `split`, the way a connection sees it arrive.
Outcome DecodeSplit(std::string_view in, size_t split, size_t max_body = 1 << 20) {
  ChunkedDecoder d;
  Outcome o{Status::kNeedMore, "", 0};
  size_t n = 0;
  o.status = d.Feed(in.substr(0, split), max_body, &o.body, &n);
  o.consumed = n;
  if (o.status != Status::kNeedMore) return o;
  EXPECT_EQ(n, split);  // kNeedMore consumes everything it was given
  o.status = d.Feed(in.substr(split), max_body, &o.body, &n);
  o.consumed += n;
  return o;
}

Outcome DecodeByteByByte(std::string_view in, size_t max_body = 1 << 20) {
  ChunkedDecoder d;
  Outcome o{Status::kNeedMore, "", 0};
  for (size_t i = 0; i < in.size() && o.status == Status::kNeedMore; ++i) {
    size_t n = 0;
    o.status = d.Feed(in.substr(i, 1), max_body, &o.body, &n);
    o.consumed += n;
  }
  return o;
}

// Decodes `in` whole, split at every byte and byte by byte; all must agree. `rest` is what
// follows the body in `in` and must be left unconsumed.
void ExpectDecodes(std::string_view in, std::string_view body, std::string_view rest = {}) {
  Outcome whole = DecodeAll(in);
  ASSERT_EQ(whole.status, Status::kDone) << in;
  EXPECT_EQ(whole.body, body);
  EXPECT_EQ(in.substr(whole.consumed), rest);
  for (size_t split = 0; split <= in.size(); ++split) {
    Outcome o = DecodeSplit(in, split);
    EXPECT_EQ(o.status, Status::kDone) << "split at " << split;
    EXPECT_EQ(o.body, body) << "split at " << split;
    EXPECT_EQ(o.consumed, whole.consumed) << "split at " << split;
  }
  Outcome bytes = DecodeByteByByte(in);
  EXPECT_EQ(bytes.status, Status::kDone);
  EXPECT_EQ(bytes.body, body);
  EXPECT_EQ(bytes.consumed, whole.consumed);
}

// `in` must fail with `http_status`, however it is split; no prefix may complete.
void ExpectFails(std::string_view in, int http_status = 400, size_t max_body = 1 << 20) {
  ChunkedDecoder d;
  std::string body;
  size_t n = 0;
  ASSERT_EQ(d.Feed(in, max_body, &body, &n), Status::kError) << in;
  EXPECT_EQ(d.error_status(), http_status) << in;
  ASSERT_NE(d.error(), nullptr);
  for (size_t split = 0; split <= in.size(); ++split) {
    EXPECT_EQ(DecodeSplit(in, split, max_body).status, Status::kError) << "split at " << split;
  }
  EXPECT_EQ(DecodeByteByByte(in, max_body).status, Status::kError);
}

TEST(ChunkedDecoder, SingleChunk) { ExpectDecodes("5\r\nhello\r\n0\r\n\r\n", "hello"); }

TEST(ChunkedDecoder, EmptyBody) { ExpectDecodes("0\r\n\r\n", ""); }

TEST(ChunkedDecoder, SeveralChunksAndHexSizes) {
  ExpectDecodes("3\r\nabc\r\na\r\n0123456789\r\nA\r\nABCDEFGHIJ\r\n1\r\n!\r\n0\r\n\r\n",
                "abc0123456789ABCDEFGHIJ!");
  std::string big(0x1f4, 'x');
  ExpectDecodes("1F4\r\n" + big + "\r\n0\r\n\r\n", big);
  ExpectDecodes("0005\r\nhello\r\n000\r\n\r\n", "hello");  // leading zeros
}

TEST(ChunkedDecoder, BinaryDataIsOpaque) {
  std::string data("\r\n\0\xff" "0\r\n\r\n", 9);
  ExpectDecodes("9\r\n" + data + "\r\n0\r\n\r\n", data);
}

TEST(ChunkedDecoder, StopsAtEndOfBody) {
  ExpectDecodes("2\r\n{}\r\n0\r\n\r\nGET / HTTP/1.1\r\n\r\n", "{}", "GET / HTTP/1.1\r\n\r\n");
}

TEST(ChunkedDecoder, IgnoresExtensions) {
  ExpectDecodes("5;name=value\r\nhello\r\n0;last\r\n\r\n", "hello");
  ExpectDecodes("5 ;a=b; c = \"x;y\"\r\nhello\r\n0\t;z\r\n\r\n", "hello");
  ExpectDecodes("5;\r\nhello\r\n0\r\n\r\n", "hello");
}

TEST(ChunkedDecoder, IgnoresTrailers) {
  ExpectDecodes("5\r\nhello\r\n0\r\nX-Checksum: abc\r\nX-Other:\t1 2\r\n\r\n", "hello");
  ExpectDecodes("0\r\nX: y\r\n\r\nrest", "", "rest");
}

TEST(ChunkedDecoder, BadSize) {
  ExpectFails("g\r\nhello\r\n0\r\n\r\n");
  ExpectFails("\r\nhello\r\n0\r\n\r\n");
  ExpectFails("5x\r\nhello\r\n0\r\n\r\n");
  ExpectFails("-5\r\nhello\r\n0\r\n\r\n");
  ExpectFails("0x5\r\nhello\r\n0\r\n\r\n");
  ExpectFails(" 5\r\nhello\r\n0\r\n\r\n");
  ExpectFails("5 \r\nhello\r\n0\r\n\r\n");  // whitespace only before an extension
  ExpectFails("+5\r\nhello\r\n0\r\n\r\n");
}

TEST(ChunkedDecoder, StrictLineEnds) {
  ExpectFails("5\nhello\r\n0\r\n\r\n");
  ExpectFails("5\r\nhello\n0\r\n\r\n");
  ExpectFails("5\r\nhello\r\n0\n\r\n");
  ExpectFails("5\r\nhello\r\n0\r\n\n");
  ExpectFails("5\r\nhello\r\n0\r\nX: y\n\r\n");
  ExpectFails("5\rhello\r\n0\r\n\r\n");
  ExpectFails("5\r\nhello\r\r\n0\r\n\r\n");
}

TEST(ChunkedDecoder, DataMustMatchSize) {
  ExpectFails("5\r\nhelloX\r\n0\r\n\r\n");
  ExpectFails("6\r\nhello\r\n0\r\n\r\n");  // the CR is data, then 'n'... is not CRLF
}

TEST(ChunkedDecoder, ControlBytesInExtensionOrTrailer) {
  ExpectFails("5;a\x01\r\nhello\r\n0\r\n\r\n");
  ExpectFails("5;a\nb\r\nhello\r\n0\r\n\r\n");  // bare LF inside an extension
  ExpectFails(std::string("5;a\0\r\nhello\r\n0\r\n\r\n", 16));
  ExpectFails("0\r\nX: \x7f\r\n\r\n");
  ExpectFails("0\r\nX: a\rb\r\n\r\n");
}

TEST(ChunkedDecoder, OversizeBody) {
  // The declared size is refused before its data arrives.
  ChunkedDecoder d;
  std::string body;
  size_t n = 0;
  EXPECT_EQ(d.Feed("b\r\n", 10, &body, &n), Status::kError);
  EXPECT_EQ(d.error_status(), 413);
  // Cumulative over chunks.
  ExpectFails("5\r\nhello\r\n6\r\nworld!\r\n0\r\n\r\n", 413, 10);
  // Exactly the limit is fine.
  Outcome o = DecodeAll("5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n", 10);
  EXPECT_EQ(o.status, Status::kDone);
  EXPECT_EQ(o.body, "helloworld");
  // Sizes that do not fit in 64 bits.
  ExpectFails("10000000000000000\r\n", 413, SIZE_MAX);
  ExpectFails("ffffffffffffffffff\r\n", 413, SIZE_MAX);
  // max_body 0: only an empty body.
  EXPECT_EQ(DecodeAll("0\r\n\r\n", 0).status, Status::kDone);
  EXPECT_EQ(DecodeAll("1\r\n", 0).status, Status::kError);
}

TEST(ChunkedDecoder, OverheadIsBounded) {
  std::string ext(ChunkedDecoder::kMaxChunkLineSize, 'e');
  ExpectFails("5;" + ext + "\r\nhello\r\n0\r\n\r\n");
  std::string zeros(ChunkedDecoder::kMaxChunkLineSize + 1, '0');
  EXPECT_EQ(DecodeAll(zeros + "\r\n\r\n").status, Status::kError);
  std::string trailer = "X: " + std::string(ChunkedDecoder::kMaxTrailerSize, 't') + "\r\n";
  EXPECT_EQ(DecodeAll("0\r\n" + trailer + "\r\n").status, Status::kError);
  // Just under the limits is fine.
  std::string ok_ext(ChunkedDecoder::kMaxChunkLineSize - 4, 'e');
  EXPECT_EQ(DecodeAll("5;" + ok_ext + "\r\nhello\r\n0\r\n\r\n").status, Status::kDone);
}

TEST(ChunkedDecoder, AfterDoneOrError) {
  ChunkedDecoder d;
  std::string body;
  size_t n = 99;
  EXPECT_EQ(d.Feed("", 100, &body, &n), Status::kNeedMore);
  EXPECT_EQ(n, 0u);
  ASSERT_EQ(d.Feed("0\r\n\r\nX", 100, &body, &n), Status::kDone);
  EXPECT_EQ(n, 5u);
  EXPECT_EQ(d.Feed("3\r\nabc\r\n", 100, &body, &n), Status::kDone);
  EXPECT_EQ(n, 0u);
  EXPECT_EQ(body, "");

  d.Reset();
  ASSERT_EQ(d.Feed("z", 100, &body, &n), Status::kError);
  EXPECT_EQ(d.Feed("0\r\n\r\n", 100, &body, &n), Status::kError);

  d.Reset();  // reusable for the next body
  EXPECT_EQ(d.Feed("3\r\nabc\r\n0\r\n\r\n", 100, &body, &n), Status::kDone);
  EXPECT_EQ(body, "abc");
  EXPECT_EQ(d.decoded_size(), 3u);
}

TEST(ChunkedDecoder, AppendsToExistingBody) {
  ChunkedDecoder d;
  std::string body = "prefix:";
  size_t n = 0;
  // Bytes already in the string do not count against max_body.
  EXPECT_EQ(d.Feed("3\r\nabc\r\n0\r\n\r\n", 3, &body, &n), Status::kDone);
  EXPECT_EQ(body, "prefix:abc");
}

}  // namespace
}  // namespace instant::http
