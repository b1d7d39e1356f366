#include "net/conn.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>

namespace instant::net {
namespace {
constexpr int kMaxIov = 512;
constexpr int kMaxReadsPerEvent = 4;  // fairness between connections of one loop
}  // namespace

Conn::Conn(Loop* loop, int fd) : loop_(loop), fd_(fd) {
  // The fan-out's prefetch (kHotBytes) must cover what WriteShared touches. offsetof on a class
  // with virtual functions is conditionally supported; g++ and clang compute it.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Winvalid-offsetof"
  static_assert(offsetof(Conn, flush_first_) < kHotBytes && offsetof(Conn, pending_bytes_) + sizeof(size_t) <= kHotBytes,
                "WriteShared's fields must stay in the first kHotBytes");
#pragma GCC diagnostic pop
}

Conn::~Conn() {
  if (!closed_) ::close(fd_);
}

bool Conn::Start() { return loop_->Add(fd_, EPOLLIN | EPOLLRDHUP, this); }

void Conn::Write(std::string_view bytes) {
  if (closed_ || closing_) return;
  if (pending_head_ != nullptr) MaterializePending();
  out_.append(bytes.data(), bytes.size());
  MarkDirty();
}

void Conn::MaterializePending() {
  for (Pending* p = pending_head_; p != nullptr; p = p->next) out_.append(p->data, p->size);
  pending_head_ = pending_tail_ = nullptr;
  pending_bytes_ = 0;
}

void Conn::Flush() {
  if (closed_) return;
  bool progress = false;
  while (out_pos_ < out_.size() || pending_head_ != nullptr) {
    iovec iov[kMaxIov];
    int n = 0;
    size_t total = 0;
    if (out_pos_ < out_.size()) {
      iov[n].iov_base = out_.data() + out_pos_;
      iov[n].iov_len = out_.size() - out_pos_;
      total += iov[n].iov_len;
      ++n;
    }
    Pending* p = pending_head_;
    for (; p != nullptr && n < kMaxIov; p = p->next) {
      iov[n].iov_base = const_cast<char*>(p->data);
      iov[n].iov_len = p->size;
      total += p->size;
      ++n;
    }
    ssize_t w = ::writev(fd_, iov, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        Close();
        return;
      }
      w = 0;
    }
    // Consume what the kernel took: first the backlog, then queued references.
    size_t written = static_cast<size_t>(w);
    if (written > 0) progress = true;
    if (framed_) {
      // All taken: the queue ended on a frame boundary (see the header). Otherwise find where
      // the frame in progress ends; only this slow path parses frame headers.
      if (written == total) {
        frame_rest_ = 0;
      } else {
        TrackFrameInProgress(written);
      }
    }
    if (out_pos_ < out_.size()) {
      size_t take = std::min(written, out_.size() - out_pos_);
      out_pos_ += static_cast<uint32_t>(take);
      written -= take;
    }
    while (pending_head_ != nullptr && written >= pending_head_->size) {
      written -= pending_head_->size;
      pending_bytes_ -= pending_head_->size;
      pending_head_ = pending_head_->next;
    }
    if (pending_head_ == nullptr) pending_tail_ = nullptr;
    if (written > 0) {  // partial reference: keep its tail
      pending_head_->data += written;
      pending_head_->size -= static_cast<uint32_t>(written);
      pending_bytes_ -= written;
    }
    if (static_cast<size_t>(w) < total) break;  // kernel buffer full
  }
  // What is still queued must outlive this iteration: copy it into the backlog.
  if (pending_head_ != nullptr) {
    if (out_pos_ > 0) {
      out_.erase(0, out_pos_);
      out_pos_ = 0;
    }
    MaterializePending();
  }
  if (out_pos_ == out_.size()) {
    // Idle connections keep no write buffer (memory per connection is a product figure).
    std::string().swap(out_);
    out_pos_ = 0;
  } else if (out_pos_ > out_.size() / 2) {
    out_.erase(0, out_pos_);
    out_pos_ = 0;
  }
  if (queued_bytes() == 0) {
    write_stalled_since_ms_ = 0;
  } else if (progress || write_stalled_since_ms_ == 0) {
    write_stalled_since_ms_ = loop_->now_ms();
  }
  UpdateInterest();
  if (closed_) return;
  if (queued_bytes() > max_backlog_ && !closing_) {  // a closing queue no longer grows
    OnBacklogExceeded();
    return;
  }
  if (closing_ && !half_closed_ && queued_bytes() == 0) {
    half_closed_ = true;
    ::shutdown(fd_, SHUT_WR);
  }
}

void Conn::TrackFrameInProgress(size_t written) {
  if (written < frame_rest_) {
    frame_rest_ -= static_cast<uint32_t>(written);
    return;
  }
  written -= frame_rest_;
  size_t pos = out_pos_ + frame_rest_;
  frame_rest_ = 0;
  // Whole frames in the backlog (their headers are there: nothing has been erased yet)...
  while (written > 0 && pos < out_.size()) {
    const size_t left = out_.size() - pos;
    size_t size = FrameSizeAt(out_.data() + pos, left);
    if (size == 0 || size > left) size = left;  // not a frame: the rest of the backlog is one
    if (written < size) {
      frame_rest_ = static_cast<uint32_t>(size - written);
      return;
    }
    written -= size;
    pos += size;
  }
  // ...then queued references, one frame each. A partly taken one is copied to the head of the
  // backlog at the end of the flush, which keeps frame_rest_ inside out_.
  for (Pending* p = pending_head_; written > 0 && p != nullptr; p = p->next) {
    if (written < p->size) {
      frame_rest_ = static_cast<uint32_t>(p->size - written);
      return;
    }
    written -= p->size;
  }
}

void Conn::UpdateInterest() {
  bool want = out_pos_ < out_.size();
  if (want == want_write_ || closed_) return;
  want_write_ = want;
  const uint32_t read = input_stopped_ ? 0u : uint32_t{EPOLLIN};
  loop_->Modify(fd_, read | EPOLLRDHUP | (want ? uint32_t{EPOLLOUT} : 0u), this);
}

void Conn::OnBacklogExceeded() { Close(); }

size_t Conn::FrameSizeAt(const char* /*data*/, size_t size) { return size; }

void Conn::CloseAfterFlush() {
  if (closed_ || closing_) return;
  closing_ = true;
  MarkDirty();
}

void Conn::EnableFraming() {
  if (pending_head_ != nullptr) MaterializePending();  // keeps frame_rest_ inside out_
  framed_ = true;
  frame_rest_ = static_cast<uint32_t>(out_.size() - out_pos_);
}

void Conn::CloseDroppingQueued(std::string_view last_frame) {
  if (closed_ || closing_) return;
  // Queued references never started going out (a partly written one was copied into the backlog
  // at the end of its flush); neither did the backlog past the frame in progress.
  if (!framed_) MaterializePending();
  pending_head_ = pending_tail_ = nullptr;
  pending_bytes_ = 0;
  const size_t keep = framed_ ? std::min<size_t>(frame_rest_, out_.size() - out_pos_) : out_.size() - out_pos_;
  // A new string: the old one may hold client_queue_max_size bytes of capacity.
  std::string out;
  out.reserve(keep + last_frame.size());
  out.append(out_, out_pos_, keep);
  out.append(last_frame);
  out_.swap(out);
  out_pos_ = 0;
  closing_ = true;
  input_stopped_ = true;
  write_stalled_since_ms_ = loop_->now_ms();
  want_write_ = true;  // the last frame waits
  loop_->Modify(fd_, EPOLLRDHUP | EPOLLOUT, this);
  MarkDirty();
}

void Conn::Close() {
  if (closed_) return;
  closed_ = true;
  loop_->Remove(fd_);
  ::close(fd_);
  pending_head_ = pending_tail_ = nullptr;
  pending_bytes_ = 0;
  std::string().swap(out_);
  std::string().swap(in_);
  OnClose();
  loop_->DeferDelete(this);
}

void Conn::OnIo(uint32_t events) {
  if (closed_) return;
  if (events & EPOLLOUT) {
    Flush();
    if (closed_) return;
  }
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) HandleReadable();
}

void Conn::ReleaseInput() { std::string().swap(in_); }

void Conn::ResumeInput() {
  if (closed_ || closing_ || in_.empty()) return;
  in_.reserve(in_.size() + Loop::kReadPadding);
  ReadHeldInput();
}

void Conn::ReadHeldInput() {
  size_t used = OnRead(in_.data(), in_.size());
  if (closed_) return;
  if (used >= in_.size() || closing_) {
    ReleaseInput();
  } else if (used > 0) {
    in_.erase(0, used);
  }
}

void Conn::HandleReadable() {
  char* buf = loop_->read_buffer();
  for (int round = 0; round < kMaxReadsPerEvent; ++round) {
    ssize_t n = ::read(fd_, buf, Loop::kReadBufferSize);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      Close();
      return;
    }
    if (n == 0) {
      Close();
      return;
    }
    if (closing_) continue;  // draining after our close: input is discarded
    size_t size = static_cast<size_t>(n);
    if (in_.empty()) {
      size_t used = OnRead(buf, size);
      if (closed_) return;
      if (used < size && !closing_) {
        in_.reserve(size - used + Loop::kReadPadding);
        in_.assign(buf + used, size - used);
      }
    } else {
      in_.reserve(in_.size() + size + Loop::kReadPadding);
      in_.append(buf, size);
      ReadHeldInput();
      if (closed_) return;
    }
    if (size < Loop::kReadBufferSize) return;
  }
}

}  // namespace instant::net
