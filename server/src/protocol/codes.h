#pragma once
// Error, disconnect and unsubscribe codes of the Centrifugo client protocol, as constexpr tables
// (spec §4.1, §4.2, §3.2, §2.11). Numbers, messages and the temporary/reconnect flags are part
// of the wire contract: JS 5.x decides between retry and terminal state from them (§4.1, §1.7).

#include <cstdint>
#include <string>
#include <string_view>

namespace instant::protocol {

// Client protocol generation of one connection. v2 = JS 3.x+ (Centrifugo v4+), v1 = JS 2.x
// (Centrifugo v3). Chosen per connection (spec §1.5), see CommandDecoder::Sniff.
enum class Version : uint8_t { kV2 = 2, kV1 = 1 };

// An error reply `{"id":N,"error":{...}}` (spec §2.1). `temporary` is written in v2 only (the v1
// Error message has no such field) and tells JS 5.x to retry.
struct ErrorCode {
  uint32_t code;
  std::string_view message;
  bool temporary;
};

namespace error {
inline constexpr ErrorCode kInternal{100, "internal server error", true};
inline constexpr ErrorCode kUnauthorized{101, "unauthorized", false};
inline constexpr ErrorCode kUnknownChannel{102, "unknown channel", false};
inline constexpr ErrorCode kPermissionDenied{103, "permission denied", false};
inline constexpr ErrorCode kMethodNotFound{104, "method not found", false};
inline constexpr ErrorCode kAlreadySubscribed{105, "already subscribed", false};
inline constexpr ErrorCode kLimitExceeded{106, "limit exceeded", false};
inline constexpr ErrorCode kBadRequest{107, "bad request", false};
inline constexpr ErrorCode kNotAvailable{108, "not available", false};
inline constexpr ErrorCode kTokenExpired{109, "token expired", false};
inline constexpr ErrorCode kExpired{110, "expired", false};
inline constexpr ErrorCode kTooManyRequests{111, "too many requests", true};
inline constexpr ErrorCode kUnrecoverablePosition{112, "unrecoverable position", false};
}  // namespace error

// A connection close: WebSocket close code + reason text (spec §1.7). 3000-3499 reconnect,
// 3500-3999 terminal; `reconnect` only travels on the wire for v1 (inside the JSON reason).
struct Disconnect {
  uint16_t code;
  std::string_view reason;
  bool reconnect;
};

namespace disconnect {
inline constexpr Disconnect kShutdown{3001, "shutdown", true};
inline constexpr Disconnect kInternal{3004, "internal server error", true};
inline constexpr Disconnect kExpired{3005, "connection expired", true};
inline constexpr Disconnect kSubExpired{3006, "subscription expired", true};
inline constexpr Disconnect kSlow{3008, "slow", true};
inline constexpr Disconnect kWriteError{3009, "write error", true};
inline constexpr Disconnect kInsufficientState{3010, "insufficient state", true};
inline constexpr Disconnect kForceReconnect{3011, "force reconnect", true};
inline constexpr Disconnect kNoPong{3012, "no pong", true};
inline constexpr Disconnect kTooManyRequests{3013, "too many requests", true};
inline constexpr Disconnect kInvalidToken{3500, "invalid token", false};
inline constexpr Disconnect kBadRequest{3501, "bad request", false};
inline constexpr Disconnect kStale{3502, "stale", false};
inline constexpr Disconnect kForceDisconnect{3503, "force disconnect", false};
inline constexpr Disconnect kConnectionLimit{3504, "connection limit", false};
inline constexpr Disconnect kChannelLimit{3505, "channel limit", false};
inline constexpr Disconnect kInappropriateProtocol{3506, "inappropriate protocol", false};
inline constexpr Disconnect kPermissionDenied{3507, "permission denied", false};
inline constexpr Disconnect kNotAvailable{3508, "not available", false};
inline constexpr Disconnect kTooManyErrors{3509, "too many errors", false};
}  // namespace disconnect

// Close-frame reason text for a version: v2 = the plain reason; v1 = the JSON text
// {"reason":"..","reconnect":true|false}, which is all JS 2.x looks at (spec §1.7, §3.2). Both
// stay far below the 123-byte close-reason limit for the table above. Allocates (once per close).
std::string CloseReason(Version v, const Disconnect& d);

// Codes of the `unsubscribe` push (spec §2.11): < 2500 terminal for the subscription, >= 2500
// the client resubscribes (with recovery).
namespace unsubscribe_code {
inline constexpr uint32_t kServer = 2000;
inline constexpr uint32_t kInsufficientState = 2500;
inline constexpr uint32_t kExpired = 2501;
}  // namespace unsubscribe_code

}  // namespace instant::protocol
