#include "protocol/codes.h"

#include <gtest/gtest.h>

namespace instant::protocol {
namespace {

TEST(CodesTest, CloseReasonPerVersion) {
  // v2: plain text, the code carries the reconnect decision (spec §1.7).
  EXPECT_EQ(CloseReason(Version::kV2, disconnect::kBadRequest), "bad request");
  EXPECT_EQ(CloseReason(Version::kV2, disconnect::kShutdown), "shutdown");
  // v1: JSON text, which is all JS 2.x reads (spec §3.2).
  EXPECT_EQ(CloseReason(Version::kV1, disconnect::kBadRequest),
            R"({"reason":"bad request","reconnect":false})");
  EXPECT_EQ(CloseReason(Version::kV1, disconnect::kShutdown),
            R"({"reason":"shutdown","reconnect":true})");
  Disconnect custom{4500, "say \"bye\"", false};
  EXPECT_EQ(CloseReason(Version::kV1, custom), R"({"reason":"say \"bye\"","reconnect":false})");
}

TEST(CodesTest, TablesMatchTheSpec) {
  // Reconnect flag follows the code range (spec §4.2): 3000-3499 reconnect, 3500-3999 terminal.
  for (const Disconnect& d : {disconnect::kShutdown,
                              disconnect::kInternal,
                              disconnect::kExpired,
                              disconnect::kSubExpired,
                              disconnect::kSlow,
                              disconnect::kWriteError,
                              disconnect::kInsufficientState,
                              disconnect::kForceReconnect,
                              disconnect::kNoPong,
                              disconnect::kTooManyRequests,
                              disconnect::kInvalidToken,
                              disconnect::kBadRequest,
                              disconnect::kStale,
                              disconnect::kForceDisconnect,
                              disconnect::kConnectionLimit,
                              disconnect::kChannelLimit,
                              disconnect::kInappropriateProtocol,
                              disconnect::kPermissionDenied,
                              disconnect::kNotAvailable,
                              disconnect::kTooManyErrors}) {
    EXPECT_EQ(d.reconnect, d.code < 3500) << d.code;
    EXPECT_FALSE(d.reason.empty());
    EXPECT_LE(CloseReason(Version::kV1, d).size(), 123u) << d.code;  // RFC 6455 close reason limit
  }
  EXPECT_EQ(disconnect::kInappropriateProtocol.reason, "inappropriate protocol");
  EXPECT_EQ(disconnect::kTooManyErrors.code, 3509);
  // Only internal and rate-limit errors are temporary (spec §4.1).
  uint32_t expected_code = 100;
  for (const ErrorCode& e :
       {error::kInternal, error::kUnauthorized, error::kUnknownChannel, error::kPermissionDenied,
        error::kMethodNotFound, error::kAlreadySubscribed, error::kLimitExceeded,
        error::kBadRequest, error::kNotAvailable, error::kTokenExpired, error::kExpired,
        error::kTooManyRequests, error::kUnrecoverablePosition}) {
    EXPECT_EQ(e.code, expected_code++);
    EXPECT_EQ(e.temporary, e.code == 100 || e.code == 111) << e.code;
  }
  EXPECT_EQ(error::kUnrecoverablePosition.message, "unrecoverable position");
  EXPECT_EQ(unsubscribe_code::kInsufficientState, 2500u);
}

}  // namespace
}  // namespace instant::protocol
