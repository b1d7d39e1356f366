#pragma once
// A one-shot timer on a net::Loop, backed by its own timerfd.
//
// Why here and not in net/: the loop offers one coarse periodic tick (owned by the worker for
// pings and timeouts), and a Redis client needs a handful of precise one-shot deadlines (reconnect
// backoff, connect timeout, I/O timeout, health pings). A timerfd registered like any socket gives
// exactly that without touching the loop. There are a few clients per loop, so a few fds.
//
// Times are milliseconds of CLOCK_MONOTONIC, the clock of Loop::now_ms() and of Timer::Now().
// Threading: loop thread only. The callback runs on the loop thread, from the loop's I/O step;
// it may re-arm or disarm the timer, or destroy it.

#include <cstdint>
#include <functional>

#include "net/loop.h"

namespace instant::redis {

class Timer final : private net::IoHandler {
 public:
  Timer(net::Loop* loop, std::function<void()> on_fire);
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  // Fires once at `deadline_ms` (or at the next iteration if it has passed). Replaces any earlier
  // arming. One timerfd_settime syscall.
  void ArmAt(int64_t deadline_ms);
  void Disarm();
  bool armed() const { return armed_; }
  int64_t deadline_ms() const { return deadline_ms_; }

  // The current CLOCK_MONOTONIC time in ms, read now (Loop::now_ms() is the iteration's start).
  static int64_t Now();

 private:
  void OnIo(uint32_t events) override;

  net::Loop* const loop_;
  const std::function<void()> on_fire_;
  int fd_ = -1;
  bool armed_ = false;
  int64_t deadline_ms_ = 0;
};

}  // namespace instant::redis
