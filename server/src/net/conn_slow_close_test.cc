// Conn::CloseDroppingQueued: a slow peer's queue is dropped on frame boundaries. Whatever the
// kernel took part of is completed, every whole frame that had not started going out is dropped,
// the last frame follows, then FIN. The peer must always read a valid sequence of whole frames.
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "net/conn.h"
#include "net/loop.h"

namespace instant::net {
namespace {

// Test framing: [u16 total size, big-endian][u16 id][filler]. Id 0xFFFF is the "close" frame.
constexpr uint16_t kCloseId = 0xFFFF;

std::string MakeFrame(uint16_t id, size_t size) {
  std::string f(size, static_cast<char>('a' + id % 26));
  f[0] = static_cast<char>(size >> 8);
  f[1] = static_cast<char>(size & 0xFF);
  f[2] = static_cast<char>(id >> 8);
  f[3] = static_cast<char>(id & 0xFF);
  return f;
}

size_t SizeOf(const char* p) { return static_cast<uint8_t>(p[0]) << 8 | static_cast<uint8_t>(p[1]); }
uint16_t IdOf(const char* p) { return static_cast<uint16_t>(static_cast<uint8_t>(p[2]) << 8 | static_cast<uint8_t>(p[3])); }

class FramedConn : public Conn {
 public:
  FramedConn(Loop* loop, int fd, bool* closed, int* reads, int* exceeded)
      : Conn(loop, fd), closed_(closed), reads_(reads), exceeded_(exceeded) {}

 protected:
  size_t OnRead(char* /*data*/, size_t size) override {
    ++*reads_;
    return size;
  }
  void OnClose() override { *closed_ = true; }
  void OnBacklogExceeded() override { ++*exceeded_; }
  size_t FrameSizeAt(const char* data, size_t size) override {
    EXPECT_GE(size, 4u);  // the connection only asks where a whole frame starts
    return SizeOf(data);
  }

 private:
  bool* closed_;
  int* reads_;
  int* exceeded_;
};

struct Peer {
  Loop loop{0};
  int server = -1;
  int client = -1;
  bool closed = false;
  int reads = 0;
  int exceeded = 0;
  FramedConn* conn = nullptr;  // deleted by the loop after Close()
  std::string received;        // everything the client read
  bool eof = false;

  explicit Peer(int sndbuf) {
    int fds[2];
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
    server = fds[0];
    client = fds[1];
    // A small socket buffer: the kernel takes part of a writev, at an arbitrary byte.
    setsockopt(server, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
    conn = new FramedConn(&loop, server, &closed, &reads, &exceeded);
    EXPECT_TRUE(conn->Start());
  }
  ~Peer() {
    if (!closed) conn->Close();
    loop.RunOnce(0);
    ::close(client);
  }

  // Reads at most `limit` bytes the server sent.
  void Read(size_t limit = SIZE_MAX) {
    char buf[4096];
    while (limit > 0) {
      ssize_t n = ::read(client, buf, std::min(sizeof(buf), limit));
      if (n == 0) eof = true;
      if (n <= 0) return;
      received.append(buf, static_cast<size_t>(n));
      limit -= static_cast<size_t>(n);
    }
  }

  // Reads and runs the loop until EOF (bounded).
  void ReadToEnd() {
    for (int i = 0; i < 1000 && !eof; ++i) {
      Read();
      loop.RunOnce(0);
    }
  }
};

// The ids of the whole frames in `bytes`; fails on a cut frame.
std::vector<uint16_t> ParseFrames(const std::string& bytes) {
  std::vector<uint16_t> ids;
  size_t pos = 0;
  while (pos < bytes.size()) {
    EXPECT_GE(bytes.size() - pos, 4u) << "a frame header cut at byte " << pos;
    if (bytes.size() - pos < 4) break;
    const size_t size = SizeOf(bytes.data() + pos);
    EXPECT_LE(size, bytes.size() - pos) << "a frame cut at byte " << pos;
    if (size > bytes.size() - pos || size < 4) break;
    const uint16_t id = IdOf(bytes.data() + pos);
    EXPECT_EQ(bytes.substr(pos, size), MakeFrame(id, size)) << "frame " << id << " corrupted";
    ids.push_back(id);
    pos += size;
  }
  return ids;
}

// Received: frames 0..k in order (k < the last one written), then the close frame, then EOF.
void ExpectPrefixThenClose(const Peer& p, uint16_t written) {
  EXPECT_TRUE(p.eof) << "no FIN after the close frame";
  std::vector<uint16_t> ids = ParseFrames(p.received);
  ASSERT_FALSE(ids.empty());
  EXPECT_EQ(ids.back(), kCloseId) << "the close frame comes last";
  ids.pop_back();
  for (size_t i = 0; i < ids.size(); ++i) ASSERT_EQ(ids[i], i) << "frames out of order or missing";
  EXPECT_LT(ids.size(), written) << "whole frames that had not started going out are dropped";
}

// Frame sizes vary so that the kernel's cut falls inside frames, on boundaries, in headers.
size_t SizeFor(uint16_t id, size_t base) { return base + (id * 37) % 500; }

TEST(ConnSlowClose, CompletesTheFrameInProgressDropsTheRestAndClosesLast) {
  int partial_cuts = 0;
  for (size_t base : {4, 100, 700, 1500, 5000}) {
    SCOPED_TRACE(base);
    Peer p(8192);
    p.conn->EnableFraming();
    // Backlog copies and shared references, one iteration.
    std::vector<std::shared_ptr<std::string>> shared;
    size_t total = 0;
    uint16_t id = 0;
    for (; id < 200; ++id) {
      std::string f = MakeFrame(id, SizeFor(id, base));
      total += f.size();
      if (id % 3 == 0) {
        auto s = std::make_shared<std::string>(std::move(f));
        p.loop.HoldUntilFlushed(s);
        p.conn->WriteShared(s->data(), static_cast<uint32_t>(s->size()));
      } else {
        p.conn->Write(f);
      }
    }
    p.loop.RunOnce(0);
    ASSERT_GT(p.conn->queued_bytes(), 0u) << "the kernel took everything: the buffer is not small";
    // Where did the kernel stop? Count the cuts that fall inside a frame (the case that matters).
    size_t taken = total - p.conn->queued_bytes(), at = 0;
    for (uint16_t i = 0; at < taken; ++i) at += SizeFor(i, base);
    if (at != taken) ++partial_cuts;
    p.conn->CloseDroppingQueued(MakeFrame(kCloseId, 9));
    p.conn->Write("ignored: nothing is queued after the last frame");
    EXPECT_TRUE(p.conn->closing());
    p.ReadToEnd();
    ExpectPrefixThenClose(p, id);
    EXPECT_EQ(p.exceeded, 0);
  }
  EXPECT_GT(partial_cuts, 0) << "no cut fell inside a frame: the test proves nothing";
}

TEST(ConnSlowClose, KeepsTrackOfFramesAcrossPartialFlushes) {
  // The peer reads a little between flushes: frames leave from the backlog, the connection walks
  // their headers, and the frame in progress changes many times before the drop.
  for (size_t chunk : {1, 3, 1000, 2500, 4096}) {
    SCOPED_TRACE(chunk);
    Peer p(8192);
    p.conn->Write("HTTP/1.1 101 (not a frame: queued before framing starts)\r\n\r\n");
    p.conn->EnableFraming();
    uint16_t id = 0;
    for (; id < 400; ++id) p.conn->Write(MakeFrame(id, SizeFor(id, 300)));
    for (int round = 0; round < 40; ++round) {
      p.loop.RunOnce(0);
      p.Read(chunk);
      if (round % 4 == 0) {  // more frames meanwhile, shared ones too
        auto s = std::make_shared<std::string>(MakeFrame(id, SizeFor(id, 300)));
        p.loop.HoldUntilFlushed(s);
        p.conn->WriteShared(s->data(), static_cast<uint32_t>(s->size()));
        ++id;
      }
    }
    p.loop.RunOnce(0);
    ASSERT_GT(p.conn->queued_bytes(), 0u);
    p.conn->CloseDroppingQueued(MakeFrame(kCloseId, 4));
    p.ReadToEnd();
    const std::string head = "HTTP/1.1 101 (not a frame: queued before framing starts)\r\n\r\n";
    ASSERT_EQ(p.received.substr(0, head.size()), head) << "the bytes queued before framing are kept whole";
    p.received.erase(0, head.size());
    ExpectPrefixThenClose(p, id);
  }
}

TEST(ConnSlowClose, DropsReferencesQueuedInTheSameIteration) {
  Peer p(8192);
  p.conn->EnableFraming();
  for (uint16_t id = 0; id < 3; ++id) p.conn->Write(MakeFrame(id, 100));
  p.loop.RunOnce(0);  // the kernel takes all three
  EXPECT_EQ(p.conn->queued_bytes(), 0u);
  auto s = std::make_shared<std::string>(MakeFrame(3, 100));
  p.loop.HoldUntilFlushed(s);
  p.conn->WriteShared(s->data(), static_cast<uint32_t>(s->size()));
  p.conn->Write(MakeFrame(4, 100));
  p.conn->CloseDroppingQueued(MakeFrame(kCloseId, 4));
  EXPECT_EQ(p.conn->queued_bytes(), 4u) << "nothing of 3 and 4 had started going out";
  p.ReadToEnd();
  EXPECT_EQ(ParseFrames(p.received), (std::vector<uint16_t>{0, 1, 2, kCloseId}));
  EXPECT_TRUE(p.eof);
}

TEST(ConnSlowClose, WithoutFramingNothingQueuedIsDropped) {
  Peer p(8192);
  std::string all;
  for (uint16_t id = 0; id < 50; ++id) {
    all += MakeFrame(id, 1000);
    p.conn->Write(MakeFrame(id, 1000));
  }
  p.loop.RunOnce(0);
  p.conn->CloseDroppingQueued(MakeFrame(kCloseId, 4));
  p.ReadToEnd();
  EXPECT_EQ(p.received, all + MakeFrame(kCloseId, 4));
}

TEST(ConnSlowClose, StopsReadingButSeesThePeersCloseAndIgnoresTheBacklogLimit) {
  Peer p(8192);
  p.conn->EnableFraming();
  p.conn->set_max_backlog(1000);
  // A partial frame larger than the backlog limit stays queued: no second OnBacklogExceeded.
  p.conn->Write(MakeFrame(0, 60000));
  p.loop.RunOnce(0);
  EXPECT_EQ(p.exceeded, 1);
  p.conn->CloseDroppingQueued(MakeFrame(kCloseId, 4));
  ASSERT_EQ(::write(p.client, "hello\n", 6), 6);
  for (int i = 0; i < 3; ++i) p.loop.RunOnce(0);
  EXPECT_EQ(p.exceeded, 1);
  EXPECT_EQ(p.reads, 0);
  int unread = 0;
  ASSERT_EQ(ioctl(p.server, FIONREAD, &unread), 0);
  EXPECT_EQ(unread, 6) << "input is no longer read (a flooding peer meets backpressure)";
  EXPECT_FALSE(p.closed);
  p.ReadToEnd();
  EXPECT_EQ(ParseFrames(p.received), (std::vector<uint16_t>{0, kCloseId}));
  ::shutdown(p.client, SHUT_WR);  // the peer answers: FIN
  for (int i = 0; i < 10 && !p.closed; ++i) p.loop.RunOnce(100);
  EXPECT_TRUE(p.closed);
}

TEST(ConnSlowClose, WriteStallClockRestartsAtTheDrop) {
  Peer p(8192);
  p.conn->EnableFraming();
  for (uint16_t id = 0; id < 100; ++id) p.conn->Write(MakeFrame(id, 1000));
  p.loop.RunOnce(0);
  ASSERT_NE(p.conn->write_stalled_since_ms(), 0);
  p.loop.RunOnce(30);  // time passes: the clock of the stall stays where it was...
  p.conn->CloseDroppingQueued(MakeFrame(kCloseId, 4));
  EXPECT_EQ(p.conn->write_stalled_since_ms(), p.loop.now_ms()) << "...and restarts for the grace";
}

}  // namespace
}  // namespace instant::net
