#include "http/request_parser.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "http/chunked.h"
#include "http/util.h"

namespace instant::http {
namespace {

using Status = ParseResult::Status;

// Everything a parse yields, as owned strings, so results over different buffers compare.
std::string Describe(const ParseResult& r, const Request& req) {
  if (r.status == Status::kNeedMore) return "need-more";
  if (r.status == Status::kError) return "error " + std::to_string(r.http_status);
  // Built with += only: GCC 12 warns falsely (-Wrestrict) on long operator+ chains.
  std::string s;
  s += req.method;
  s += '|';
  s += req.target;
  s += '|';
  s += req.path;
  s += '|';
  s += req.query;
  s += "|1." + std::to_string(req.version_minor);
  s += "|head=" + std::to_string(req.head_size);
  s += "|cl=";
  s += req.has_content_length ? std::to_string(req.content_length) : "-";
  s += "|chunked=" + std::to_string(req.chunked);
  s += "|ka=" + std::to_string(req.keep_alive);
  for (size_t i = 0; i < req.num_headers; ++i) {
    s += "|" + std::string(req.headers[i].name) + "=" + std::string(req.headers[i].value);
  }
  return s;
}

ParseResult Parse(std::string_view data, Request* req, Limits limits = {}) {
  return ParseRequestHead(data, limits, req);
}

// Feeds every prefix of `full` (each in its own exactly-sized buffer, as a connection's read
// buffer would hold it) and checks: kNeedMore for every strict prefix of the head, then the
// same complete result for every longer prefix. Returns the parse of all of `full`.
ParseResult ParseSplitEverywhere(const std::string& full, Request* req, Limits limits = {}) {
  ParseResult whole = Parse(full, req, limits);
  EXPECT_EQ(whole.status, Status::kComplete) << full;
  const std::string expected = Describe(whole, *req);
  for (size_t k = 0; k <= full.size(); ++k) {
    std::vector<char> buf(full.begin(), full.begin() + k);
    std::string_view prefix(buf.data(), buf.size());
    Request partial;
    ParseResult r = Parse(prefix, &partial, limits);
    if (k < req->head_size) {
      EXPECT_EQ(r.status, Status::kNeedMore) << "prefix " << k << " of " << full;
    } else {
      EXPECT_EQ(Describe(r, partial), expected) << "prefix " << k;
      // Views point into the buffer that was parsed, not anywhere else.
      EXPECT_GE(partial.method.data(), prefix.data());
      EXPECT_LE(partial.method.data() + partial.method.size(), prefix.data() + prefix.size());
    }
  }
  return whole;
}

// Checks that `input` is refused with `http_status`, and that no prefix of it is ever
// accepted or refused differently: the verdict only firms up as data arrives.
void ExpectError(const std::string& input, int http_status, Limits limits = {}) {
  Request req;
  ParseResult r = Parse(input, &req, limits);
  ASSERT_EQ(r.status, Status::kError) << input;
  EXPECT_EQ(r.http_status, http_status) << input;
  ASSERT_NE(r.error, nullptr);
  EXPECT_GT(std::string_view(r.error).size(), 0u);
  for (size_t k = 0; k < input.size(); ++k) {
    std::vector<char> buf(input.begin(), input.begin() + k);
    ParseResult p = Parse(std::string_view(buf.data(), buf.size()), &req, limits);
    EXPECT_NE(p.status, Status::kComplete) << "prefix " << k << " of " << input;
    if (p.status == Status::kError) {
      EXPECT_EQ(p.http_status, http_status) << "prefix " << k << " of " << input;
    }
  }
}

// A minimal valid head with `fields` (complete lines) inserted after Host.
std::string Head(std::string_view fields, std::string_view request_line = "GET / HTTP/1.1") {
  return std::string(request_line) + "\r\nHost: example.com\r\n" + std::string(fields) + "\r\n";
}

TEST(RequestParser, SimpleGet) {
  Request req;
  std::string in = "GET /info?x=1 HTTP/1.1\r\nHost: localhost:8000\r\nAccept: */*\r\n\r\n";
  ParseResult r = ParseSplitEverywhere(in, &req);
  ASSERT_EQ(r.status, Status::kComplete);
  EXPECT_EQ(r.http_status, 0);
  EXPECT_EQ(r.error, nullptr);
  EXPECT_EQ(req.method, "GET");
  EXPECT_EQ(req.target, "/info?x=1");
  EXPECT_EQ(req.path, "/info");
  EXPECT_EQ(req.query, "x=1");
  EXPECT_EQ(req.version_minor, 1);
  EXPECT_EQ(req.head_size, in.size());
  ASSERT_EQ(req.num_headers, 2u);
  EXPECT_EQ(req.headers[0].name, "Host");
  EXPECT_EQ(req.headers[0].value, "localhost:8000");
  EXPECT_FALSE(req.has_content_length);
  EXPECT_FALSE(req.chunked);
  EXPECT_TRUE(req.keep_alive);
}

TEST(RequestParser, WebSocketUpgrade) {
  Request req;
  std::string in =
      "GET /connection/websocket?cf_protocol_version=v2 HTTP/1.1\r\n"
      "Host: localhost:8000\r\n"
      "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0\r\n"
      "Accept: */*\r\n"
      "Sec-WebSocket-Version: 13\r\n"
      "Origin: http://localhost:3000\r\n"
      "Sec-WebSocket-Protocol: centrifuge-json\r\n"
      "Sec-WebSocket-Extensions: permessage-deflate\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
      "Connection: keep-alive, Upgrade\r\n"
      "Pragma: no-cache\r\n"
      "Upgrade: websocket\r\n"
      "\r\n";
  ASSERT_EQ(ParseSplitEverywhere(in, &req).status, Status::kComplete);
  EXPECT_EQ(req.path, "/connection/websocket");
  EXPECT_EQ(req.query, "cf_protocol_version=v2");
  EXPECT_EQ(req.num_headers, 11u);
  EXPECT_TRUE(HeaderHasToken(req.Find("connection"), "upgrade"));
  EXPECT_TRUE(EqualsIgnoreCase(req.Find("UPGRADE"), "WebSocket"));
  EXPECT_EQ(req.Find("sec-websocket-key"), "dGhlIHNhbXBsZSBub25jZQ==");
  EXPECT_EQ(req.Find("Sec-WebSocket-Protocol"), "centrifuge-json");
  EXPECT_EQ(QueryParam(req.query, "cf_protocol_version").value(), "v2");
  EXPECT_TRUE(req.keep_alive);
  EXPECT_EQ(req.head_size, in.size());
}

TEST(RequestParser, PostApiWithAuthorizationAndBody) {
  const std::string body = R"({"method":"publish","params":{"channel":"news","data":{"x":1}}})";
  std::string in = "POST /api HTTP/1.1\r\n"
                   "Host: localhost:8000\r\n"
                   "Authorization: apikey  secret-key \r\n"
                   "Content-Type: application/json\r\n"
                   "Content-Length: " + std::to_string(body.size()) + "\r\n"
                   "\r\n" + body;
  Request req;
  ASSERT_EQ(ParseSplitEverywhere(in, &req).status, Status::kComplete);
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.path, "/api");
  EXPECT_TRUE(req.query.empty());
  EXPECT_EQ(req.Find("authorization"), "apikey  secret-key");  // outer OWS trimmed only
  EXPECT_TRUE(req.has_content_length);
  EXPECT_EQ(req.content_length, body.size());
  EXPECT_EQ(in.substr(req.head_size), body);
}

TEST(RequestParser, PipelinedRequestsAdvanceByHeadSize) {
  std::string in = "GET /health HTTP/1.1\r\nHost: a\r\n\r\n"
                   "POST /api/publish HTTP/1.1\r\nHost: a\r\nX-API-Key: k\r\nContent-Length: 2\r\n"
                   "\r\n{}"
                   "GET /connection/websocket HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
                   "GET /partial HTTP/1.1\r\nHo";
  std::vector<std::string> seen;
  std::string_view rest = in;
  while (true) {
    Request req;
    ParseResult r = Parse(rest, &req);
    if (r.status != Status::kComplete) {
      EXPECT_EQ(r.status, Status::kNeedMore);
      break;
    }
    seen.push_back(std::string(req.method) + " " + std::string(req.path));
    ASSERT_LE(req.head_size + req.content_length, rest.size());
    if (req.has_content_length) {
      EXPECT_EQ(rest.substr(req.head_size, req.content_length), "{}");
    }
    if (req.path == "/connection/websocket") {
      EXPECT_FALSE(req.keep_alive);
    }
    rest.remove_prefix(req.head_size + req.content_length);
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"GET /health", "POST /api/publish",
                                            "GET /connection/websocket"}));
  EXPECT_EQ(rest, "GET /partial HTTP/1.1\r\nHo");
}

TEST(RequestParser, ChunkedPostThenDecoder) {
  std::string in = "POST /api HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                   "4\r\n{\"a\"\r\n3\r\n:1}\r\n0\r\n\r\nGET / HTTP/1.1\r\n\r\n";
  Request req;
  ASSERT_EQ(ParseSplitEverywhere(in, &req).status, Status::kComplete);
  EXPECT_TRUE(req.chunked);
  EXPECT_FALSE(req.has_content_length);
  ChunkedDecoder decoder;
  std::string body;
  size_t consumed = 0;
  std::string_view rest = std::string_view(in).substr(req.head_size);
  ASSERT_EQ(decoder.Feed(rest, 1024, &body, &consumed), ChunkedDecoder::Status::kDone);
  EXPECT_EQ(body, "{\"a\":1}");
  EXPECT_EQ(rest.substr(consumed), "GET / HTTP/1.1\r\n\r\n");
}

TEST(RequestParser, TransferEncodingIsCaseInsensitive) {
  Request req;
  ASSERT_EQ(Parse(Head("Transfer-Encoding:  Chunked \r\n"), &req).status, Status::kComplete);
  EXPECT_TRUE(req.chunked);
}

TEST(RequestParser, KeepAliveDefaultsAndConnectionHeader) {
  struct Case {
    const char* request_line;
    const char* fields;
    bool keep_alive;
  } cases[] = {
      {"GET / HTTP/1.1", "", true},
      {"GET / HTTP/1.1", "Connection: close\r\n", false},
      {"GET / HTTP/1.1", "Connection: Keep-Alive, CLOSE\r\n", false},
      {"GET / HTTP/1.1", "Connection: keep-alive\r\nConnection: close\r\n", false},
      {"GET / HTTP/1.1", "Connection: closed\r\n", true},
      {"GET / HTTP/1.0", "", false},
      {"GET / HTTP/1.0", "Connection: keep-alive\r\n", true},
      {"GET / HTTP/1.0", "connection: Upgrade ,Keep-Alive\r\n", true},
      {"GET / HTTP/1.0", "Connection: keep-alive, close\r\n", false},
  };
  for (const Case& c : cases) {
    Request req;
    ASSERT_EQ(ParseSplitEverywhere(Head(c.fields, c.request_line), &req).status,
              Status::kComplete);
    EXPECT_EQ(req.keep_alive, c.keep_alive) << c.request_line << " " << c.fields;
  }
}

TEST(RequestParser, HigherMinorVersionIsHttp11) {
  Request req;
  ASSERT_EQ(Parse(Head("", "GET / HTTP/1.0"), &req).status, Status::kComplete);
  EXPECT_EQ(req.version_minor, 0);
  ASSERT_EQ(Parse(Head("", "GET / HTTP/1.9"), &req).status, Status::kComplete);
  EXPECT_EQ(req.version_minor, 1);
}

TEST(RequestParser, BareLfLineEnds) {
  Request req;
  std::string in = "GET /a HTTP/1.1\nHost: x\r\nX-A: 1\n\n";
  ASSERT_EQ(ParseSplitEverywhere(in, &req).status, Status::kComplete);
  EXPECT_EQ(req.head_size, in.size());
  EXPECT_EQ(req.Find("x-a"), "1");
  EXPECT_EQ(req.Find("host"), "x");
  in = "GET /a HTTP/1.1\r\nHost: x\n\r\n";
  ASSERT_EQ(ParseSplitEverywhere(in, &req).status, Status::kComplete);
  EXPECT_EQ(req.head_size, in.size());
}

TEST(RequestParser, SkipsEmptyLinesBeforeRequestLine) {
  Request req;
  // What a client that sent "\r\n" after a previous POST body leaves in front of the next request.
  std::string in = "\r\n\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n";
  ASSERT_EQ(ParseSplitEverywhere(in, &req).status, Status::kComplete);
  EXPECT_EQ(req.method, "GET");
  EXPECT_EQ(req.head_size, in.size());  // the skipped lines are part of what to consume
  Request only_blank;
  EXPECT_EQ(Parse("\r\n\r\n\r\n", &only_blank).status, Status::kNeedMore);
}

TEST(RequestParser, HeaderValuesAndLookup) {
  Request req;
  std::string in = Head(
      "X-Empty:\r\n"
      "X-Spaces: \t a b \t \r\n"
      "X-Tab:\tx\ty\r\n"
      "X-Obs-Text: caf\xc3\xa9\r\n"
      "x-dup: first\r\n"
      "X-DUP: second\r\n"
      "X-Colons: a:b::c\r\n");
  ASSERT_EQ(ParseSplitEverywhere(in, &req).status, Status::kComplete);
  EXPECT_TRUE(req.Has("x-empty"));
  EXPECT_EQ(req.Find("X-Empty"), "");
  EXPECT_FALSE(req.Has("X-Absent"));
  EXPECT_EQ(req.Find("X-Absent"), "");
  EXPECT_EQ(req.Find("x-spaces"), "a b");
  EXPECT_EQ(req.Find("x-tab"), "x\ty");
  EXPECT_EQ(req.Find("x-obs-text"), "caf\xc3\xa9");
  EXPECT_EQ(req.Find("X-Dup"), "first");
  EXPECT_EQ(req.Find("x-colons"), "a:b::c");
  EXPECT_EQ(req.num_headers, 8u);
  // FindHeader: the first match, its name as received; nullptr when absent, even for "".
  const Header* dup = req.FindHeader("X-DUP");
  ASSERT_NE(dup, nullptr);
  EXPECT_EQ(dup->name, "x-dup");
  EXPECT_EQ(dup->value, "first");
  ASSERT_NE(req.FindHeader("X-EMPTY"), nullptr);
  EXPECT_EQ(req.FindHeader("x-empty")->value, "");
  EXPECT_EQ(req.FindHeader("X-Absent"), nullptr);
}

TEST(RequestParser, TargetForms) {
  // The views point into the parsed buffer, so each input must outlive its checks.
  Request req;
  std::string in = Head("", "OPTIONS * HTTP/1.1");
  ASSERT_EQ(Parse(in, &req).status, Status::kComplete);
  EXPECT_EQ(req.target, "*");
  EXPECT_EQ(req.path, "*");
  EXPECT_EQ(req.query, "");
  in = Head("", "GET /a/b? HTTP/1.1");
  ASSERT_EQ(Parse(in, &req).status, Status::kComplete);
  EXPECT_EQ(req.path, "/a/b");
  EXPECT_EQ(req.query, "");
  in = Head("", "GET /a?b=1?c=2&d HTTP/1.1");
  ASSERT_EQ(Parse(in, &req).status, Status::kComplete);
  EXPECT_EQ(req.path, "/a");
  EXPECT_EQ(req.query, "b=1?c=2&d");
  in = Head("", "GET /caf\xc3\xa9 HTTP/1.1");
  ASSERT_EQ(Parse(in, &req).status, Status::kComplete);
  in = Head("", "get /lowercase-method-is-a-token HTTP/1.1");
  ASSERT_EQ(Parse(in, &req).status, Status::kComplete);
  EXPECT_EQ(req.method, "get");
}

TEST(RequestParser, DuplicateIdenticalContentLengthIsAccepted) {
  Request req;
  ASSERT_EQ(Parse(Head("Content-Length: 5\r\ncontent-length: 005\r\n"), &req).status,
            Status::kComplete);
  EXPECT_EQ(req.content_length, 5u);
  ASSERT_EQ(Parse(Head("Content-Length: 18446744073709551615\r\n"), &req).status,
            Status::kComplete);
  EXPECT_EQ(req.content_length, UINT64_MAX);
  ASSERT_EQ(Parse(Head("Content-Length: 0\r\n"), &req).status, Status::kComplete);
  EXPECT_TRUE(req.has_content_length);
  EXPECT_EQ(req.content_length, 0u);
}

TEST(RequestParser, MalformedRequestLine) {
  ExpectError("G(ET / HTTP/1.1\r\n\r\n", 400);
  ExpectError(" GET / HTTP/1.1\r\n\r\n", 400);
  ExpectError("GET  / HTTP/1.1\r\n\r\n", 400);
  ExpectError("GET /  HTTP/1.1\r\n\r\n", 400);
  ExpectError("GET / HTTP/1.1 \r\n\r\n", 400);
  ExpectError("GET\t/ HTTP/1.1\r\n\r\n", 400);
  ExpectError("GET /\r\n\r\n", 400);  // HTTP/0.9
  ExpectError("GET\r\n\r\n", 400);
  ExpectError("GET / HTTP/1.1\rX\r\n\r\n", 400);  // bare CR
  ExpectError("GET /\ra HTTP/1.1\r\n\r\n", 400);
  ExpectError("\r\r\n\r\n", 400);
}

TEST(RequestParser, InvalidTarget) {
  ExpectError("GET http://example.com/ HTTP/1.1\r\nHost: a\r\n\r\n", 400);  // absolute-form
  ExpectError("CONNECT example.com:443 HTTP/1.1\r\nHost: a\r\n\r\n", 400);  // authority-form
  ExpectError("GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400);  // asterisk-form is OPTIONS only
  ExpectError("GET a/b HTTP/1.1\r\n\r\n", 400);
  ExpectError(std::string("GET /a\0b HTTP/1.1\r\n\r\n", 22), 400);
  ExpectError("GET /a\x7f HTTP/1.1\r\n\r\n", 400);
  ExpectError("GET /a\x01 HTTP/1.1\r\n\r\n", 400);
}

TEST(RequestParser, InvalidVersion) {
  ExpectError("GET / HTTP/1.10\r\n\r\n", 400);
  ExpectError("GET / http/1.1\r\n\r\n", 400);
  ExpectError("GET / HTTP/1\r\n\r\n", 400);
  ExpectError("GET / HTTP/1.x\r\n\r\n", 400);
  ExpectError("GET / HTTPS/1.1\r\n\r\n", 400);
  ExpectError("GET / HTTP/2.0\r\n\r\n", 505);
  ExpectError("GET / HTTP/0.9\r\n\r\n", 505);
  ExpectError("GET / HTTP/3.0\r\nHost: a\r\n\r\n", 505);
  // The HTTP/2 connection preface (RFC 9113 §3.4).
  ExpectError("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505);
}

TEST(RequestParser, InvalidFieldLines) {
  ExpectError(Head("Host : a\r\n"), 400);  // whitespace before colon
  ExpectError(Head("X-A\t: a\r\n"), 400);
  ExpectError(Head("X-A: a\r\n b\r\n"), 400);  // obs-fold
  ExpectError(Head("X-A: a\r\n\tb\r\n"), 400);
  ExpectError("GET / HTTP/1.1\r\n Host: a\r\n\r\n", 400);  // whitespace before the first field
  ExpectError(Head("X-A a\r\n"), 400);  // no colon
  ExpectError(Head(": a\r\n"), 400);  // empty name
  ExpectError(Head("X(A): a\r\n"), 400);
  ExpectError(Head("X\"A: a\r\n"), 400);
  ExpectError(Head("X\x80: a\r\n"), 400);
  ExpectError(Head(std::string("X-A: a\0b\r\n", 10)), 400);  // control characters in values
  ExpectError(Head("X-A: a\x01\r\n"), 400);
  ExpectError(Head("X-A: a\x1f\r\n"), 400);
  ExpectError(Head("X-A: a\x7f\r\n"), 400);
  ExpectError(Head("X-A: a\rb\r\n"), 400);  // bare CR inside a value
  ExpectError(Head("X-A: a\r\r\n"), 400);
  ExpectError(Head("Host: b\r\n"), 400);  // a second Host line
}

TEST(RequestParser, InvalidContentLength) {
  for (const char* v : {"", "abc", "-1", "+1", "1 2", "1,1", "5, 5", "0x10", "1.0", "\t",
                        "18446744073709551616", "99999999999999999999999"}) {
    ExpectError(Head("Content-Length: " + std::string(v) + "\r\n"), 400);
  }
  ExpectError(Head("Content-Length: 5\r\nContent-Length: 6\r\n"), 400);
  ExpectError(Head("Content-Length: 5\r\nContent-Length: 5\r\nContent-Length: 50\r\n"), 400);
}

TEST(RequestParser, ContentLengthWithTransferEncoding) {
  ExpectError(Head("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n"), 400);
  ExpectError(Head("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n"), 400);
  ExpectError(Head("Transfer-Encoding: gzip\r\nContent-Length: 5\r\n"), 400);
}

TEST(RequestParser, TransferEncodingOtherThanChunked) {
  ExpectError(Head("Transfer-Encoding: gzip\r\n"), 501);
  ExpectError(Head("Transfer-Encoding: identity\r\n"), 501);
  ExpectError(Head("Transfer-Encoding: gzip, chunked\r\n"), 501);
  ExpectError(Head("Transfer-Encoding: chunkedx\r\n"), 501);
  // chunked not last, or twice: no way to find the end of the body at all.
  ExpectError(Head("Transfer-Encoding: chunked, gzip\r\n"), 400);
  ExpectError(Head("Transfer-Encoding: chunked, chunked\r\n"), 400);
  ExpectError(Head("Transfer-Encoding:\r\n"), 400);
  ExpectError(Head("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"), 400);
  ExpectError(Head("Transfer-Encoding: chunked\r\n", "POST / HTTP/1.0"), 400);
}

TEST(RequestParser, HeadSizeLimitIsInclusive) {
  Limits limits;
  limits.max_head_size = 256;
  const std::string start = "GET / HTTP/1.1\r\nX-Pad: ";
  const std::string end = "\r\n\r\n";
  std::string exact = start + std::string(256 - start.size() - end.size(), 'a') + end;
  ASSERT_EQ(exact.size(), 256u);
  Request req;
  ASSERT_EQ(ParseSplitEverywhere(exact, &req, limits).status, Status::kComplete);
  EXPECT_EQ(req.head_size, 256u);

  std::string over = start + std::string(256 - start.size() - end.size() + 1, 'a') + end;
  ExpectError(over, 431, limits);
  // 256 bytes without a blank line is already too much; 255 may still become a head.
  EXPECT_EQ(Parse(std::string_view(over).substr(0, 255), &req, limits).status, Status::kNeedMore);
  ParseResult r = Parse(std::string_view(over).substr(0, 256), &req, limits);
  EXPECT_EQ(r.status, Status::kError);
  EXPECT_EQ(r.http_status, 431);
  // Leading empty lines count too, so an endless stream of them ends in 431.
  ExpectError(std::string(256, '\n'), 431, limits);
  // The limit bounds the head, not what follows it in the buffer.
  ASSERT_EQ(Parse(exact + std::string(10000, 'b'), &req, limits).status, Status::kComplete);
  EXPECT_EQ(req.head_size, 256u);
}

TEST(RequestParser, DefaultHeadLimitIs16KiB) {
  Request req;
  std::string big = "GET / HTTP/1.1\r\nX-Big: " + std::string(16384, 'a') + "\r\n\r\n";
  ParseResult r = Parse(big, &req);
  EXPECT_EQ(r.status, Status::kError);
  EXPECT_EQ(r.http_status, 431);
  EXPECT_EQ(Parse(std::string_view(big).substr(0, 16383), &req).status, Status::kNeedMore);
}

TEST(RequestParser, SixtyFourHeadersButNotSixtyFive) {
  std::string fields;
  for (size_t i = 1; i < kMaxHeaders; ++i) fields += "X-H" + std::to_string(i) + ": v\r\n";
  Request req;
  std::string in = Head(fields);  // Host + 63
  ASSERT_EQ(ParseSplitEverywhere(in, &req).status, Status::kComplete);
  EXPECT_EQ(req.num_headers, kMaxHeaders);
  EXPECT_EQ(req.headers[kMaxHeaders - 1].name, "X-H63");
  ExpectError(Head(fields + "X-H64: v\r\n"), 431);
}

TEST(RequestParser, GarbageIsRefusedBeforeTheHeadEnds) {
  Request req;
  // The start of a TLS ClientHello sent to the plain-text port.
  ParseResult r = Parse(std::string_view("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11), &req);
  EXPECT_EQ(r.status, Status::kError);
  EXPECT_EQ(r.http_status, 400);
  r = Parse("GET<", &req);
  EXPECT_EQ(r.status, Status::kError);
  // A partial CR may still be a line end; a partial method may still become valid.
  EXPECT_EQ(Parse("\r", &req).status, Status::kNeedMore);
  EXPECT_EQ(Parse("GE", &req).status, Status::kNeedMore);
  EXPECT_EQ(Parse("GET /x", &req).status, Status::kNeedMore);
  EXPECT_EQ(Parse("", &req).status, Status::kNeedMore);
}

TEST(RequestParser, ReusedRequestIsReset) {
  Request req;
  ASSERT_EQ(Parse(Head("Content-Length: 3\r\nConnection: close\r\n", "POST /a?b HTTP/1.0"), &req)
                .status,
            Status::kComplete);
  ASSERT_EQ(Parse("GET /c HTTP/1.1\r\n\r\n", &req).status, Status::kComplete);
  EXPECT_EQ(req.query, "");
  EXPECT_EQ(req.num_headers, 0u);
  EXPECT_FALSE(req.has_content_length);
  EXPECT_EQ(req.content_length, 0u);
  EXPECT_EQ(req.version_minor, 1);
  EXPECT_TRUE(req.keep_alive);
}

}  // namespace
}  // namespace instant::http
