#include "net/loop.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "base/log.h"
#include "net/conn.h"

namespace instant::net {
namespace {

constexpr int kMaxEvents = 256;

// Marker for the wake eventfd in epoll's data.ptr.
IoHandler* const kWakeMarker = nullptr;

}  // namespace

Loop::Loop(int index)
    : index_(index), read_buffer_(new char[kReadBufferSize + kReadPadding]) {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epoll_fd_ < 0 || wake_fd_ < 0) {
    log::Error("loop {}: cannot create epoll/eventfd: {}", index_, std::strerror(errno));
    std::abort();  // no loop, no server: nothing to recover
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = kWakeMarker;
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev);
  std::memset(read_buffer_.get() + kReadBufferSize, 0, kReadPadding);
  thread_id_ = std::this_thread::get_id();
  UpdateClock();
}

Loop::~Loop() {
  for (Conn* c : dead_) delete c;
  ::close(wake_fd_);
  ::close(epoll_fd_);
}

bool Loop::Add(int fd, uint32_t events, IoHandler* handler) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = handler;
  return epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) == 0;
}

bool Loop::Modify(int fd, uint32_t events, IoHandler* handler) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = handler;
  return epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev) == 0;
}

void Loop::Remove(int fd) { epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr); }

void Loop::Post(Task task) {
  {
    std::lock_guard<std::mutex> lock(tasks_mu_);
    tasks_.push_back(std::move(task));
  }
  // Only the first poster after the loop drained its queue pays for the eventfd write.
  if (!wake_pending_.exchange(true, std::memory_order_acq_rel)) {
    uint64_t one = 1;
    ssize_t ignored = ::write(wake_fd_, &one, sizeof(one));
    (void)ignored;
  }
}

void Loop::Stop() {
  stop_.store(true, std::memory_order_release);
  uint64_t one = 1;
  ssize_t ignored = ::write(wake_fd_, &one, sizeof(one));
  (void)ignored;
}

void Loop::SetTick(std::chrono::milliseconds period, Task tick) {
  tick_period_ = period;
  tick_ = std::move(tick);
  next_tick_ms_ = now_ms_ + period.count();
}

void Loop::UpdateClock() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  now_ms_ = static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
  clock_gettime(CLOCK_REALTIME_COARSE, &ts);
  unix_now_ = ts.tv_sec;
}

void Loop::Run() {
  thread_id_ = std::this_thread::get_id();
  while (!stop_.load(std::memory_order_acquire)) RunOnce(-1);
}

void Loop::RunOnce(int max_wait_ms) {
  int timeout = -1;
  if (tick_) timeout = static_cast<int>(std::max<int64_t>(0, next_tick_ms_ - now_ms_));
  if (max_wait_ms >= 0 && (timeout < 0 || timeout > max_wait_ms)) timeout = max_wait_ms;

  epoll_event events[kMaxEvents];
  int n = epoll_wait(epoll_fd_, events, kMaxEvents, timeout);
  UpdateClock();
  for (int i = 0; i < n; ++i) {
    IoHandler* handler = static_cast<IoHandler*>(events[i].data.ptr);
    if (handler == kWakeMarker) {
      uint64_t v;
      ssize_t ignored = ::read(wake_fd_, &v, sizeof(v));
      (void)ignored;
      continue;
    }
    handler->OnIo(events[i].events);
  }
  RunTasks();
  if (tick_ && now_ms_ >= next_tick_ms_) {
    next_tick_ms_ = now_ms_ + tick_period_.count();
    tick_();
  }
  FlushDirty();
}

void Loop::RunTasks() {
  // Clear the flag before taking the batch: a task posted after the swap wakes us again.
  wake_pending_.store(false, std::memory_order_release);
  {
    std::lock_guard<std::mutex> lock(tasks_mu_);
    if (tasks_.empty()) return;
    running_.swap(tasks_);
  }
  for (Task& t : running_) t();
  running_.clear();
}

void Loop::DeferDelete(Conn* conn) { dead_.push_back(conn); }

void Loop::FlushDirty() {
  // Index loops: flushing may close connections, whose close handlers may queue more writes.
  for (size_t i = 0; i < dirty_first_.size(); ++i) {
    Conn* c = dirty_first_[i];
    c->dirty_ = false;
    c->Flush();
  }
  dirty_first_.clear();
  for (size_t i = 0; i < dirty_.size(); ++i) {
    Conn* c = dirty_[i];
    c->dirty_ = false;
    c->Flush();
  }
  dirty_.clear();
  held_.clear();
  // Back to the start of the first block (kept, with the others, for the next iterations).
  arena_block_ = 0;
  if (!arena_blocks_.empty()) {
    arena_cur_ = arena_blocks_[0].get();
    arena_end_ = arena_cur_ + kArenaBlockSize;
  }
  for (Conn* c : dead_) delete c;
  dead_.clear();
}

void* Loop::ArenaAllocSlow(size_t size) {
  // The first allocation ever (no block yet) uses block 0; later ones move past the full block.
  if (arena_cur_ != nullptr) ++arena_block_;
  if (arena_block_ == arena_blocks_.size()) arena_blocks_.emplace_back(new char[kArenaBlockSize]);
  char* block = arena_blocks_[arena_block_].get();
  arena_cur_ = block + size;
  arena_end_ = block + kArenaBlockSize;
  return block;
}

}  // namespace instant::net
