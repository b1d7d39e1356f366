#pragma once
// A non-blocking TCP connection on one loop: reads into the loop's shared buffer, keeps only an
// unconsumed partial message, and gathers writes for one writev per loop iteration.
//
// Write path (DESIGN.md decision 3):
//   - Write(bytes) copies into the connection's backlog string (replies, pings, close frames).
//   - WriteShared(ptr, len) queues a reference to bytes that the loop keeps alive until the end of
//     this iteration's flush (a publication frame encoded once for every subscriber). Nothing is
//     copied unless the kernel refuses part of it, in which case the remainder moves into the
//     backlog.
//   - Order is preserved: Write() after WriteShared() in the same iteration first moves the queued
//     references into the backlog.
//   - Flush() (called by the loop at the end of the iteration) issues one writev for the backlog
//     and all queued references. A backlog above max_backlog() calls OnBacklogExceeded().
//
// Lifetime: owned by its loop. After Close() the object stays valid until the end of the current
// iteration, then the loop deletes it. OnClose() runs exactly once.
// Threading: every method must be called on the owning loop's thread.

#include <cstdint>
#include <string>
#include <string_view>

#include "net/loop.h"

namespace instant::net {

class Conn : public IoHandler {
 public:
  Conn(Loop* loop, int fd);
  virtual ~Conn();
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  // Registers the socket with the loop. False if epoll refuses it (the caller closes the fd).
  bool Start();

  Loop* loop() const { return loop_; }
  int fd() const { return fd_; }
  bool closed() const { return closed_; }
  // True once CloseAfterFlush() was called: no new writes are accepted.
  bool closing() const { return closing_; }

  void Write(std::string_view bytes);
  // `data` must stay valid until the end of the current loop iteration (see Loop::HoldUntilFlushed).
  void WriteShared(const char* data, uint32_t size);

  // Bytes waiting in user space (backlog + queued references).
  size_t queued_bytes() const { return out_.size() - out_pos_ + pending_bytes_; }
  // Since when bytes wait without the kernel taking any (loop ms; 0 = none waiting, or progress
  // at the last flush). A peer that stopped reading keeps it set (websocket_write_timeout).
  int64_t write_stalled_since_ms() const { return write_stalled_since_ms_; }
  void set_max_backlog(size_t bytes) { max_backlog_ = bytes; }
  // Flush this connection before ordinary ones at the end of each iteration (Loop::MarkDirty).
  void set_flush_first(bool first) { flush_first_ = first; }

  // Flushes what is queued, then half-closes (FIN) and discards input until the peer closes or
  // Close() is called. Used after a WebSocket close frame or an HTTP "Connection: close" reply,
  // so that the peer reads our last bytes instead of a reset.
  void CloseAfterFlush();
  // Closes the socket now; queued bytes are dropped.
  void Close();
  // Presents the unconsumed input to OnRead again: for a subclass that stopped consuming while it
  // waited for something (an HTTP request answered asynchronously) and can go on now.
  void ResumeInput();

  // Loop-internal: end-of-iteration flush.
  void Flush();
  void OnIo(uint32_t events) final;

 protected:
  // New input: `data` holds everything unconsumed so far plus the new bytes and is followed by at
  // least Loop::kReadPadding readable bytes. Returns how many bytes were consumed; the rest is
  // presented again with more data. May call Close()/CloseAfterFlush().
  virtual size_t OnRead(char* data, size_t size) = 0;
  // The socket is gone (peer closed, error, or Close()). Called once.
  virtual void OnClose() = 0;
  // The backlog grew past max_backlog(). Default: Close().
  virtual void OnBacklogExceeded();

 private:
  struct Pending {
    const char* data;
    uint32_t size;
    Pending* next;
  };

  void HandleReadable();
  void MaterializePending();
  void UpdateInterest();
  void MarkDirty();
  void ReleaseInput();
  // Presents in_ (with its padding reserved) to OnRead and drops what was consumed.
  void ReadHeldInput();

  Loop* const loop_;
  const int fd_;
  bool closed_ = false;
  bool closing_ = false;
  bool dirty_ = false;
  bool want_write_ = false;
  bool half_closed_ = false;
  bool flush_first_ = false;
  uint32_t out_pos_ = 0;  // bytes of out_ already written
  size_t max_backlog_ = SIZE_MAX;
  std::string out_;       // backlog: bytes not yet accepted by the kernel
  std::string in_;        // unconsumed input (partial frame or request)
  Pending* pending_head_ = nullptr;
  Pending* pending_tail_ = nullptr;
  size_t pending_bytes_ = 0;
  int64_t write_stalled_since_ms_ = 0;

  friend class Loop;
};

}  // namespace instant::net
