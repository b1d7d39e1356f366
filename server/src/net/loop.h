#pragma once
// An event loop: one epoll instance driven by one thread (DESIGN.md decision 1).
//
// Owns: the epoll fd, an eventfd for wake-ups, a queue of tasks posted from other threads, a
// loop-owned read buffer (connections keep no read buffer of their own), a per-iteration arena for
// shared-frame references, and the list of connections that have something to flush.
//
// Threading: everything here must be called on the loop's thread EXCEPT Post() and Stop(), which
// are the one door into a loop from elsewhere (docs/architecture/threading.md).
//
// One iteration:
//   1. epoll_wait (timeout = time to the next tick, 0 if tasks are pending)
//   2. dispatch I/O events to their handlers
//   3. run posted tasks (FIFO)
//   4. run the tick callback if its period elapsed (coarse timers: pings, timeouts)
//   5. flush every connection marked dirty — one writev per connection per iteration
//   6. drop the per-iteration frame references and destroy connections closed during the iteration

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace instant::net {

class Conn;

// Receives readiness events for one file descriptor.
class IoHandler {
 public:
  virtual void OnIo(uint32_t events) = 0;

 protected:
  ~IoHandler() = default;
};

class Loop {
 public:
  using Task = std::function<void()>;
  static constexpr size_t kReadBufferSize = 256 * 1024;
  static constexpr size_t kReadPadding = 64;  // simdjson reads up to 64 bytes past a message

  explicit Loop(int index);
  ~Loop();
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  int index() const { return index_; }

  // Registers `fd` (level-triggered) for `events` (EPOLLIN/EPOLLOUT...). Returns false on failure.
  bool Add(int fd, uint32_t events, IoHandler* handler);
  bool Modify(int fd, uint32_t events, IoHandler* handler);
  void Remove(int fd);

  // Thread-safe. Queues `task` to run on this loop's thread, in posting order. Never blocks
  // beyond a short mutex; wakes the loop only when the queue was empty.
  void Post(Task task);
  // Thread-safe. Makes Run() return after the current iteration.
  void Stop();

  // Runs iterations until Stop(). Call on the thread that owns the loop.
  void Run();
  // Runs one iteration waiting at most `max_wait_ms` (tests).
  void RunOnce(int max_wait_ms);

  // Coarse periodic callback (timeouts, pings). Period granularity = one iteration.
  void SetTick(std::chrono::milliseconds period, Task tick);

  // Monotonic milliseconds, refreshed once per iteration (cheap to read on hot paths).
  int64_t now_ms() const { return now_ms_; }
  // Wall clock seconds since the epoch, refreshed once per iteration.
  int64_t unix_now() const { return unix_now_; }

  // The shared read buffer: kReadBufferSize usable bytes followed by kReadPadding readable bytes.
  char* read_buffer() { return read_buffer_.get(); }

  // Called by connections: schedules `conn` for the end-of-iteration flush. Connections marked
  // `first` (request/response peers such as API clients) are flushed before the others, so that an
  // API reply does not wait behind the fan-out it just caused.
  // Inline: called once per subscriber of a fan-out (through Conn::WriteShared).
  void MarkDirty(Conn* conn, bool first = false) { (first ? dirty_first_ : dirty_).push_back(conn); }
  // Called by connections: destroys `conn` at the end of the iteration (after its last use).
  void DeferDelete(Conn* conn);
  // Keeps `ref` alive until the end of the current iteration's flush. Connections queue raw
  // pointers into frames kept here instead of taking a reference each (no refcount traffic
  // per subscriber).
  void HoldUntilFlushed(std::shared_ptr<const void> ref) { held_.push_back(std::move(ref)); }

  // Per-iteration bump allocator for small nodes (frame references queued on connections):
  // `size` (at most kArenaBlockSize) rounded up to 16 bytes, 16-byte aligned. Memory is reclaimed
  // wholesale at the end of the iteration. Inline: the fan-out calls it once per subscriber, and
  // the common case is a pointer bump; a new block is taken out of line.
  static constexpr size_t kArenaBlockSize = 64 * 1024;
  void* ArenaAlloc(size_t size) {
    size = (size + 15) & ~size_t{15};
    if (size <= static_cast<size_t>(arena_end_ - arena_cur_)) {
      void* p = arena_cur_;
      arena_cur_ += size;
      return p;
    }
    return ArenaAllocSlow(size);
  }

  bool on_loop_thread() const { return std::this_thread::get_id() == thread_id_; }
  void BindToCurrentThread() { thread_id_ = std::this_thread::get_id(); }

 private:
  void UpdateClock();
  void RunTasks();
  void FlushDirty();
  // The current arena block is full (or there is none yet): moves to the next block, allocating
  // it the first time, and takes `size` (already rounded) from it.
  void* ArenaAllocSlow(size_t size);

  const int index_;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  std::atomic<bool> stop_{false};
  std::thread::id thread_id_;

  std::mutex tasks_mu_;
  std::vector<Task> tasks_;          // guarded by tasks_mu_
  std::atomic<bool> wake_pending_{false};
  std::vector<Task> running_;        // loop thread only

  std::chrono::milliseconds tick_period_{1000};
  Task tick_;
  int64_t next_tick_ms_ = 0;

  int64_t now_ms_ = 0;
  int64_t unix_now_ = 0;

  std::unique_ptr<char[]> read_buffer_;
  std::vector<Conn*> dirty_first_;
  std::vector<Conn*> dirty_;
  std::vector<Conn*> dead_;
  std::vector<std::shared_ptr<const void>> held_;

  // Blocks are kept across iterations (a busy loop allocates them once). arena_block_ is the
  // block [arena_cur_, arena_end_) is in; both null until the first allocation.
  std::vector<std::unique_ptr<char[]>> arena_blocks_;
  size_t arena_block_ = 0;
  char* arena_cur_ = nullptr;
  char* arena_end_ = nullptr;
};

}  // namespace instant::net
