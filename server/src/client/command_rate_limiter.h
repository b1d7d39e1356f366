#pragma once
// CommandRateLimiter: one connection's command budget (client_commands_per_second and
// client_commands_burst, docs/configuration.md). A token bucket refilled continuously, from the
// loop's cached clock, that may run into debt:
//
//   - a command that finds a whole token takes it and runs;
//   - a command that does not is refused (error 111, not executed) and takes its token anyway, so
//     the level drops below zero; the refill pays that debt before anything runs again;
//   - when the debt reaches a whole bucket, the client has gone on sending a full bucket's worth of
//     commands while being refused: it is disconnected (3013).
//
// So a client that slows down to the rate is out of debt within capacity/rate seconds, and a
// client that keeps sending faster than the rate is disconnected after about
// capacity / (its rate - rate) seconds: refused commands, each a decode and an error reply, are
// bounded too. An SDK that gets 111 backs off (the error is temporary), which is what a bucket
// sized for real clients expects.
//
// Integers only: the level is kept in thousandths of a command, so a refill of `per_second`
// commands per second is exactly `per_second` thousandths per millisecond. Per command: a compare,
// a multiply, an add, a min. 16 bytes, no allocation, single-threaded (the session's loop).

#include <algorithm>
#include <cstdint>

namespace instant::client {

class CommandRateLimiter {
 public:
  enum class Verdict : uint8_t {
    kAllow,       // run the command
    kRefuse,      // answer it with 111 without running it
    kDisconnect,  // close the connection with 3013
  };

  // One command at `now_ms` (monotonic, non-decreasing) for a bucket refilled at `per_second` > 0
  // commands per second that holds `capacity` > 0 commands. The bucket starts full. The arguments
  // may change from call to call (a config reload): a smaller capacity applies at once.
  Verdict Take(int64_t now_ms, int64_t per_second, int64_t capacity) {
    const int64_t full = capacity * kUnit;
    if (now_ms > last_ms_) {
      // Bounded so the product stays far from overflow whatever the gap (per_second <= 10^6).
      const int64_t elapsed = std::min(now_ms - last_ms_, kMaxElapsedMs);
      level_ += elapsed * per_second;
      last_ms_ = now_ms;
    }
    level_ = std::min(level_, full) - kUnit;
    if (level_ >= 0) return Verdict::kAllow;
    return level_ <= -full ? Verdict::kDisconnect : Verdict::kRefuse;
  }

 private:
  static constexpr int64_t kUnit = 1000;                 // one command, in thousandths
  static constexpr int64_t kMaxElapsedMs = 1'000'000'000;  // ~11.6 days: refills any bucket
  // Above any real bucket (10^6 commands * 10^3), and far from overflow after a refill: the first
  // Take clamps it to the capacity, so a new connection starts with a full bucket.
  int64_t level_ = int64_t{1} << 60;
  int64_t last_ms_ = 0;
};

}  // namespace instant::client
