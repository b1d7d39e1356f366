#include "ws/handshake.h"

#include <gtest/gtest.h>

#include <string>

namespace instant::ws {
namespace {

// What Chromium sends to /connection/websocket (headers as the HTTP parser hands them over).
UpgradeRequest BrowserRequest() {
  UpgradeRequest r;
  r.method = "GET";
  r.http_minor = 1;
  r.host = "localhost:8427";
  r.upgrade = "websocket";
  r.connection = "Upgrade";
  r.sec_key = "dGhlIHNhbXBsZSBub25jZQ==";
  r.sec_version = "13";
  r.origin = "http://localhost:8000";
  r.has_origin = true;
  return r;
}

const OriginPolicy kAny({"*"});

TEST(AcceptKey, Rfc6455Sample) {
  // §1.3 / §4.2.2.
  EXPECT_EQ(AcceptKey("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  EXPECT_EQ(AcceptKey("  dGhlIHNhbXBsZSBub25jZQ==\t"), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(AppendAcceptResponse, WithAndWithoutSubprotocol) {
  std::string out = "prefix|";
  AppendAcceptResponse(out, "dGhlIHNhbXBsZSBub25jZQ==", "");
  EXPECT_EQ(out,
            "prefix|HTTP/1.1 101 Switching Protocols\r\n"
            "Upgrade: websocket\r\n"
            "Connection: Upgrade\r\n"
            "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
            "\r\n");
  out.clear();
  AppendAcceptResponse(out, "dGhlIHNhbXBsZSBub25jZQ==", kJsonSubprotocol);
  EXPECT_EQ(out,
            "HTTP/1.1 101 Switching Protocols\r\n"
            "Upgrade: websocket\r\n"
            "Connection: Upgrade\r\n"
            "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
            "Sec-WebSocket-Protocol: centrifuge-json\r\n"
            "\r\n");
}

TEST(CheckUpgrade, AcceptsBrowserRequest) {
  HandshakeResult r = CheckUpgrade(BrowserRequest(), kAny);
  EXPECT_TRUE(r.ok) << r.reason;
  EXPECT_EQ(r.subprotocol, "");
  EXPECT_EQ(r.reason, "");
}

TEST(CheckUpgrade, HeaderTokenListsAndCase) {
  UpgradeRequest req = BrowserRequest();
  req.connection = "keep-alive, Upgrade";  // Firefox
  req.upgrade = "WebSocket";
  EXPECT_TRUE(CheckUpgrade(req, kAny).ok);
  req.connection = "upgrade,keep-alive";
  req.upgrade = "h2c , websocket";
  EXPECT_TRUE(CheckUpgrade(req, kAny).ok);
  req.connection = " UPGRADE ";
  EXPECT_TRUE(CheckUpgrade(req, kAny).ok);
  req.http_minor = 2;  // a hypothetical HTTP/1.2 is still 1.1+
  EXPECT_TRUE(CheckUpgrade(req, kAny).ok);
}

TEST(CheckUpgrade, ChoosesCentrifugeJsonWhenOffered) {
  UpgradeRequest req = BrowserRequest();
  req.sec_protocol = "centrifuge-json";
  EXPECT_EQ(CheckUpgrade(req, kAny).subprotocol, "centrifuge-json");
  req.sec_protocol = "centrifuge-protobuf, centrifuge-json";
  EXPECT_EQ(CheckUpgrade(req, kAny).subprotocol, "centrifuge-json");
  req.sec_protocol = "centrifuge-protobuf";
  HandshakeResult r = CheckUpgrade(req, kAny);
  EXPECT_TRUE(r.ok);  // we do not reject; we just select nothing (spec §1.3)
  EXPECT_EQ(r.subprotocol, "");
  req.sec_protocol = "Centrifuge-JSON";  // subprotocol names are case-sensitive
  EXPECT_EQ(CheckUpgrade(req, kAny).subprotocol, "");
  req.sec_protocol = "centrifuge-jsonx";
  EXPECT_EQ(CheckUpgrade(req, kAny).subprotocol, "");
}

struct Rejection {
  const char* what;
  void (*mutate)(UpgradeRequest&);
  int status;
  const char* reason_part;
};

TEST(CheckUpgrade, Rejections) {
  const Rejection cases[] = {
      {"POST", [](UpgradeRequest& r) { r.method = "POST"; }, 405, "GET"},
      {"lower-case get", [](UpgradeRequest& r) { r.method = "get"; }, 405, "GET"},
      {"HTTP/1.0", [](UpgradeRequest& r) { r.http_minor = 0; }, 400, "HTTP/1.1"},
      {"no Host", [](UpgradeRequest& r) { r.host = ""; }, 400, "Host"},
      {"no Upgrade", [](UpgradeRequest& r) { r.upgrade = ""; }, 426, "Upgrade"},
      {"Upgrade h2c", [](UpgradeRequest& r) { r.upgrade = "h2c"; }, 426, "Upgrade"},
      {"Upgrade websockets", [](UpgradeRequest& r) { r.upgrade = "websockets"; }, 426, "Upgrade"},
      {"no Connection", [](UpgradeRequest& r) { r.connection = ""; }, 426, "Connection"},
      {"Connection keep-alive", [](UpgradeRequest& r) { r.connection = "keep-alive"; }, 426,
       "Connection"},
      {"Connection upgraded", [](UpgradeRequest& r) { r.connection = "upgraded"; }, 426,
       "Connection"},
      {"no version", [](UpgradeRequest& r) { r.sec_version = ""; }, 426, "Sec-WebSocket-Version"},
      {"version 8", [](UpgradeRequest& r) { r.sec_version = "8"; }, 426, "Sec-WebSocket-Version"},
      {"version 13,8", [](UpgradeRequest& r) { r.sec_version = "13, 8"; }, 426,
       "Sec-WebSocket-Version"},
      {"no key", [](UpgradeRequest& r) { r.sec_key = ""; }, 400, "missing Sec-WebSocket-Key"},
      {"key of 15 bytes", [](UpgradeRequest& r) { r.sec_key = "AAAAAAAAAAAAAAAAAAAA"; }, 400,
       "Sec-WebSocket-Key"},
      {"key of 17 bytes", [](UpgradeRequest& r) { r.sec_key = "AAAAAAAAAAAAAAAAAAAAAAA="; }, 400,
       "Sec-WebSocket-Key"},
      {"key of 18 bytes", [](UpgradeRequest& r) { r.sec_key = "AAAAAAAAAAAAAAAAAAAAAAAA"; }, 400,
       "Sec-WebSocket-Key"},
      {"key bad char", [](UpgradeRequest& r) { r.sec_key = "dGhlIHNhbXBsZSBub25jZQ!="; }, 400,
       "Sec-WebSocket-Key"},
      {"key url alphabet", [](UpgradeRequest& r) { r.sec_key = "dGhlIHNhbXBsZSBub25jZ-=="; }, 400,
       "Sec-WebSocket-Key"},
      {"key no padding", [](UpgradeRequest& r) { r.sec_key = "dGhlIHNhbXBsZSBub25jZQ"; }, 400,
       "Sec-WebSocket-Key"},
      {"key non-canonical", [](UpgradeRequest& r) { r.sec_key = "dGhlIHNhbXBsZSBub25jZR=="; }, 400,
       "Sec-WebSocket-Key"},
      {"key plain text", [](UpgradeRequest& r) { r.sec_key = "not base64 at all......"; }, 400,
       "Sec-WebSocket-Key"},
  };
  for (const Rejection& c : cases) {
    UpgradeRequest req = BrowserRequest();
    c.mutate(req);
    HandshakeResult r = CheckUpgrade(req, kAny);
    EXPECT_FALSE(r.ok) << c.what;
    EXPECT_EQ(r.status, c.status) << c.what;
    EXPECT_NE(r.reason.find(c.reason_part), std::string::npos) << c.what << ": " << r.reason;
    EXPECT_EQ(r.subprotocol, "") << c.what;
  }
}

TEST(CheckUpgrade, FirstFailureWins) {
  UpgradeRequest req = BrowserRequest();
  req.method = "POST";
  req.sec_key = "";
  EXPECT_EQ(CheckUpgrade(req, kAny).status, 405);
  req.method = "GET";
  req.sec_version = "8";
  EXPECT_EQ(CheckUpgrade(req, kAny).status, 426);
}

TEST(CheckUpgrade, KeyWhitespaceIsIgnored) {
  UpgradeRequest req = BrowserRequest();
  req.sec_key = " dGhlIHNhbXBsZSBub25jZQ== ";
  req.sec_version = " 13 ";
  EXPECT_TRUE(CheckUpgrade(req, kAny).ok);
}

TEST(CheckUpgrade, OriginRejectedWith403) {
  UpgradeRequest req = BrowserRequest();
  HandshakeResult r = CheckUpgrade(req, OriginPolicy({}));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.reason, "origin not allowed");
  req.has_origin = false;
  req.origin = "";
  EXPECT_TRUE(CheckUpgrade(req, OriginPolicy({})).ok);
}

// ---- Origin policy (spec §1.2) ---------------------------------------------------------------

TEST(OriginPolicy, EmptyListRejectsBrowsers) {
  OriginPolicy p({});
  EXPECT_TRUE(p.Allows(false, ""));
  EXPECT_FALSE(p.Allows(true, "http://localhost:8000"));
  EXPECT_FALSE(p.Allows(true, "null"));
  // An empty Origin header counts as absent, as in Centrifugo (Header.Get returns "").
  EXPECT_TRUE(p.Allows(true, ""));
}

TEST(OriginPolicy, StarAllowsEverything) {
  OriginPolicy p({"*"});
  EXPECT_TRUE(p.Allows(false, ""));
  EXPECT_TRUE(p.Allows(true, "https://evil.example"));
  EXPECT_TRUE(p.Allows(true, "null"));
  OriginPolicy mixed({"https://a.com", "*"});
  EXPECT_TRUE(mixed.Allows(true, "https://b.com"));
}

TEST(OriginPolicy, ExactOrigins) {
  OriginPolicy p({"https://example.com", "http://localhost:8000"});
  EXPECT_TRUE(p.Allows(true, "https://example.com"));
  EXPECT_TRUE(p.Allows(true, "http://localhost:8000"));
  EXPECT_TRUE(p.Allows(false, ""));  // non-browser clients pass any non-empty list
  EXPECT_FALSE(p.Allows(true, "http://example.com"));
  EXPECT_FALSE(p.Allows(true, "https://example.com:443"));
  EXPECT_FALSE(p.Allows(true, "https://example.com.evil.net"));
  EXPECT_FALSE(p.Allows(true, "https://sub.example.com"));
  EXPECT_FALSE(p.Allows(true, "https://example.co"));
  EXPECT_FALSE(p.Allows(true, "http://localhost:80001"));
  EXPECT_FALSE(p.Allows(true, "null"));
}

TEST(OriginPolicy, GlobPatterns) {
  OriginPolicy p({"https://*.example.com", "http://localhost:*"});
  EXPECT_TRUE(p.Allows(true, "https://a.example.com"));
  EXPECT_TRUE(p.Allows(true, "https://a.b.example.com"));
  EXPECT_TRUE(p.Allows(true, "https://.example.com"));  // '*' matches the empty run
  EXPECT_FALSE(p.Allows(true, "https://example.com"));
  EXPECT_FALSE(p.Allows(true, "http://a.example.com"));
  EXPECT_FALSE(p.Allows(true, "https://a.example.com.evil.net"));
  EXPECT_FALSE(p.Allows(true, "https://a.example.comx"));
  EXPECT_TRUE(p.Allows(true, "http://localhost:3000"));
  EXPECT_TRUE(p.Allows(true, "http://localhost:"));
  EXPECT_FALSE(p.Allows(true, "http://localhost"));
  EXPECT_FALSE(p.Allows(true, "http://localhost.evil.net:3000"));
  EXPECT_FALSE(p.Allows(true, "https://localhost:3000"));
}

TEST(OriginPolicy, GlobBacktracking) {
  OriginPolicy p({"*://*.example.com:*", "https://a*a*a*b"});
  EXPECT_TRUE(p.Allows(true, "https://x.example.com:8443"));
  EXPECT_TRUE(p.Allows(true, "wss://x.example.com.example.com:1"));
  EXPECT_FALSE(p.Allows(true, "https://x.example.org:8443"));
  EXPECT_TRUE(p.Allows(true, "https://aaaaaaaaab"));
  EXPECT_FALSE(p.Allows(true, "https://aaaaaaaaaa"));
  // Pathological input stays fast (quadratic bound, no exponential blow-up).
  EXPECT_FALSE(p.Allows(true, "https://" + std::string(5000, 'a')));
}

TEST(OriginPolicy, CaseInsensitive) {
  OriginPolicy p({"https://*.Example.COM", "HTTP://LOCALHOST:8000"});
  EXPECT_TRUE(p.Allows(true, "https://App.EXAMPLE.com"));
  EXPECT_TRUE(p.Allows(true, "http://localhost:8000"));
  EXPECT_TRUE(p.Allows(true, "HTTP://LocalHost:8000"));
  EXPECT_FALSE(p.Allows(true, "https://app.example.co"));
}

// ---- Reject responses ----------------------------------------------------------------------

TEST(AppendRejectResponse, CarriesRequiredHeaders) {
  UpgradeRequest req = BrowserRequest();
  req.sec_version = "8";
  HandshakeResult r = CheckUpgrade(req, kAny);
  std::string out;
  AppendRejectResponse(out, r);
  EXPECT_EQ(out.rfind("HTTP/1.1 426 Upgrade Required\r\n", 0), 0u) << out;
  EXPECT_NE(out.find("\r\nSec-WebSocket-Version: 13\r\n"), std::string::npos);
  EXPECT_NE(out.find("\r\nUpgrade: websocket\r\n"), std::string::npos);
  EXPECT_NE(out.find("\r\nContent-Length: " + std::to_string(r.reason.size()) + "\r\n"),
            std::string::npos);
  EXPECT_EQ(out.substr(out.size() - r.reason.size()), r.reason);

  req = BrowserRequest();
  req.method = "POST";
  out.clear();
  AppendRejectResponse(out, CheckUpgrade(req, kAny));
  EXPECT_EQ(out.rfind("HTTP/1.1 405 Method Not Allowed\r\n", 0), 0u);
  EXPECT_NE(out.find("\r\nAllow: GET\r\n"), std::string::npos);

  out.clear();
  AppendRejectResponse(out, CheckUpgrade(BrowserRequest(), OriginPolicy({})));
  EXPECT_EQ(out.rfind("HTTP/1.1 403 Forbidden\r\n", 0), 0u);
  EXPECT_NE(out.find("\r\n\r\norigin not allowed"), std::string::npos);
}

}  // namespace
}  // namespace instant::ws
