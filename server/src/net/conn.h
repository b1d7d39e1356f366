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
//     and all queued references. A backlog above max_backlog() calls OnBacklogExceeded(), unless
//     the connection is closing: nothing can be queued then, its queue no longer grows.
//
// Frames (EnableFraming): a subclass whose output is a sequence of frames (WebSocket) lets the
// connection know where they start, so that CloseDroppingQueued() can drop what has not started
// going out without cutting a frame in two. Each WriteShared() call must carry whole frames (if
// several, they count as one); Write() calls may carry parts of a frame, but what is queued when
// Flush() runs must end on a frame boundary. The connection keeps one number for it (frame_rest_:
// what is left of the frame the kernel took part of) and parses frame headers (FrameSizeAt) only
// for bytes that leave from the backlog after a partial write, so a connection whose kernel takes
// everything pays nothing.
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
  // The first kHotBytes of the object hold everything WriteShared touches (see the layout note
  // on the fields): callers that fan out to many connections prefetch that range.
  static constexpr size_t kHotBytes = 48;

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
  // Inline: the hub's fan-out calls it once per subscriber; it is an arena bump, a list append
  // and, the first time in an iteration, a push on the loop's dirty list.
  void WriteShared(const char* data, uint32_t size) {
    if (closed_ || closing_) return;
    auto* node = static_cast<Pending*>(loop_->ArenaAlloc(sizeof(Pending)));
    node->data = data;
    node->size = size;
    node->next = nullptr;
    if (pending_tail_ != nullptr) {
      pending_tail_->next = node;
    } else {
      pending_head_ = node;
    }
    pending_tail_ = node;
    pending_bytes_ += size;
    MarkDirty();
  }

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
  // The output is a sequence of frames from here on, FrameSizeAt() tells their sizes. Whatever is
  // queued now (an HTTP 101 response) counts as one frame that has started going out.
  void EnableFraming();
  // Closing a peer that cannot keep up (slow WebSocket client): drops every queued byte that has
  // not started going out, except the rest of the frame in progress (cutting it would corrupt the
  // stream), queues `last_frame` (a close frame) after it, and closes like CloseAfterFlush(), with
  // one difference: input is no longer read (only the peer's FIN or reset is watched, so a peer
  // that floods us meanwhile meets TCP backpressure). The write-stall clock restarts: the peer
  // gets the caller's grace time from now to take the rest. Without EnableFraming() nothing queued
  // is dropped. No-op once closing or closed.
  void CloseDroppingQueued(std::string_view last_frame);
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
  // The backlog grew past max_backlog() (checked after each flush while not closing). Default:
  // Close().
  virtual void OnBacklogExceeded();
  // After EnableFraming(): the size (header included) of the frame that starts at data[0, size),
  // which always holds the whole frame. Called only for frames that leave from the backlog after
  // a partial write. Default: `size` (the rest of the backlog is one frame).
  virtual size_t FrameSizeAt(const char* data, size_t size);

 private:
  struct Pending {
    const char* data;
    uint32_t size;
    Pending* next;
  };

  void HandleReadable();
  void MaterializePending();
  // After EnableFraming: moves frame_rest_ past `written` more bytes (those the kernel just took
  // from the head of the queue, not yet consumed) when a writev took only part of the queue.
  void TrackFrameInProgress(size_t written);
  void UpdateInterest();
  void MarkDirty() {
    if (!dirty_) {
      dirty_ = true;
      loop_->MarkDirty(this, flush_first_);
    }
  }
  void ReleaseInput();
  // Presents in_ (with its padding reserved) to OnRead and drops what was consumed.
  void ReadHeldInput();

  // Layout: the fields WriteShared touches (flags, loop_, the pending list) come first, so that
  // with the vtable pointer they fill the first kHotBytes of the object: the fan-out reads at
  // most two cache lines of each subscriber's connection (one when the object starts on a line),
  // instead of two lines 100 bytes apart. Keep new fields below them.
  Loop* const loop_;
  Pending* pending_head_ = nullptr;
  Pending* pending_tail_ = nullptr;
  size_t pending_bytes_ = 0;
  bool closed_ = false;
  bool closing_ = false;
  bool dirty_ = false;
  bool flush_first_ = false;
  const int fd_;
  // Cold: flush, close and input paths.
  bool want_write_ = false;
  bool half_closed_ = false;
  bool framed_ = false;         // EnableFraming() was called
  bool input_stopped_ = false;  // CloseDroppingQueued(): EPOLLIN is off, only FIN/reset is watched
  uint32_t out_pos_ = 0;  // bytes of out_ already written
  // After EnableFraming: bytes at the head of the queue (from out_pos_, always inside out_) that
  // belong to a frame the kernel has taken part of; 0 = the queue starts on a frame boundary.
  uint32_t frame_rest_ = 0;
  size_t max_backlog_ = SIZE_MAX;
  std::string out_;       // backlog: bytes not yet accepted by the kernel
  std::string in_;        // unconsumed input (partial frame or request)
  int64_t write_stalled_since_ms_ = 0;

  friend class Loop;
};

}  // namespace instant::net
