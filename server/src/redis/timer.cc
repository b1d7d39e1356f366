#include "redis/timer.h"

#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "base/log.h"

namespace instant::redis {

Timer::Timer(net::Loop* loop, std::function<void()> on_fire)
    : loop_(loop), on_fire_(std::move(on_fire)) {
  fd_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (fd_ < 0 || !loop_->Add(fd_, EPOLLIN, this)) {
    // Like the loop's own epoll/eventfd: out of fds at startup is not recoverable.
    log::Error("redis timer: cannot create timerfd: {}", std::strerror(errno));
    std::abort();
  }
}

Timer::~Timer() {
  loop_->Remove(fd_);
  ::close(fd_);
}

int64_t Timer::Now() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

void Timer::ArmAt(int64_t deadline_ms) {
  // An absolute time of 0 would disarm the timerfd: fire "as soon as possible" instead.
  if (deadline_ms < 1) deadline_ms = 1;
  itimerspec spec{};
  spec.it_value.tv_sec = deadline_ms / 1000;
  spec.it_value.tv_nsec = (deadline_ms % 1000) * 1000000;
  timerfd_settime(fd_, TFD_TIMER_ABSTIME, &spec, nullptr);
  armed_ = true;
  deadline_ms_ = deadline_ms;
}

void Timer::Disarm() {
  if (!armed_) return;
  itimerspec spec{};
  timerfd_settime(fd_, TFD_TIMER_ABSTIME, &spec, nullptr);
  armed_ = false;
}

void Timer::OnIo(uint32_t events) {
  uint64_t expirations;
  ssize_t n = ::read(fd_, &expirations, sizeof(expirations));
  // EAGAIN: disarmed or re-armed after the expiry was queued; nothing is due.
  if (n != static_cast<ssize_t>(sizeof(expirations)) || !armed_) return;
  armed_ = false;
  on_fire_();  // last: it may destroy this timer
}

}  // namespace instant::redis
