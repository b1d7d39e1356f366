#pragma once
// Server side of the WebSocket opening handshake (RFC 6455 §4.2), independent of the HTTP parser:
// the caller fills UpgradeRequest from its parsed request (header values with surrounding
// whitespace allowed; a missing header is an empty view), calls CheckUpgrade, and writes either
// AppendAcceptResponse or AppendRejectResponse. No allocation on success except the response.

#include <string>
#include <string_view>
#include <vector>

namespace instant::ws {

// The only subprotocol we speak (spec §1.3): JSON. Protobuf is not implemented, so a client that
// offers only "centrifuge-protobuf" gets no subprotocol and its browser fails the connection.
inline constexpr std::string_view kJsonSubprotocol = "centrifuge-json";

struct UpgradeRequest {
  std::string_view method;  // "GET"
  int http_minor = 1;       // HTTP/1.x minor version
  std::string_view host, upgrade, connection, sec_key, sec_version, sec_protocol, origin;
  bool has_origin = false;
};

/// Centrifugo's `allowed_origins` (spec §1.2).
///   - Empty list: only requests WITHOUT an Origin header pass (browsers are rejected).
///   - "*": everything passes.
///   - Otherwise each entry is an exact origin or a glob where '*' matches any run of characters
///     (including none, and including '.' and ':'), e.g. "https://*.example.com",
///     "http://localhost:*". Every other character is literal. The whole origin must match.
/// Comparison is ASCII case-insensitive (origins are scheme://host[:port]). A request without an
/// Origin header, or with an empty one, passes any non-empty list: it is not a browser, and
/// Centrifugo does the same (Go's Header.Get cannot tell empty from absent).
/// Immutable after construction, so one policy may be shared by all loops.
class OriginPolicy {
 public:
  explicit OriginPolicy(std::vector<std::string> allowed);
  // O(patterns x origin length) in the worst case, linear for patterns with one '*'.
  bool Allows(bool has_origin, std::string_view origin) const;

 private:
  std::vector<std::string> patterns_;  // lower-cased
  bool allow_all_ = false;             // the list contains "*"
};

struct HandshakeResult {
  bool ok = false;
  int status = 0;                // on failure: 400, 403, 405 or 426
  std::string reason;            // on failure: what is wrong ("missing Sec-WebSocket-Key header")
  std::string_view subprotocol;  // on success: kJsonSubprotocol if offered, else empty (static)
};

/// Validates an upgrade request, first failure wins, in this order:
///   method GET (else 405); HTTP/1.1 or later (else 400); a Host header (else 400, §4.2.1 item 2);
///   Upgrade containing the token "websocket" and Connection the token "upgrade" (case-insensitive,
///   comma lists; else 426); Sec-WebSocket-Version 13 (else 426 — the response must then carry
///   "Sec-WebSocket-Version: 13", §4.4; AppendRejectResponse adds it); Sec-WebSocket-Key the
///   base64 of exactly 16 bytes (else 400); Origin per `origins` (else 403 "origin not allowed").
/// Subprotocol tokens are compared case-sensitively (§4.1: they are registered names).
HandshakeResult CheckUpgrade(const UpgradeRequest& req, const OriginPolicy& origins);

// base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")) (§4.2.2 item 5.4), with surrounding
// whitespace of the key ignored. 28 characters.
std::string AcceptKey(std::string_view sec_key);

// Appends the "HTTP/1.1 101 Switching Protocols" response: Upgrade, Connection,
// Sec-WebSocket-Accept, and Sec-WebSocket-Protocol when `subprotocol` is non-empty.
void AppendAcceptResponse(std::string& out, std::string_view sec_key, std::string_view subprotocol);

// Appends a complete failure response for a result with ok == false: status line, text/plain body
// = reason, Content-Length, "Connection: close"; plus "Allow: GET" for 405 and
// "Upgrade: websocket" + "Sec-WebSocket-Version: 13" for 426 (RFC 9110 §15.5.22, RFC 6455 §4.4).
void AppendRejectResponse(std::string& out, const HandshakeResult& result);

}  // namespace instant::ws
