#include "net/conn.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>

#include <gtest/gtest.h>

namespace instant::net {
namespace {

class EchoConn : public Conn {
 public:
  EchoConn(Loop* loop, int fd, bool* closed) : Conn(loop, fd), closed_flag_(closed) {}
  std::string received;
  int* backlog_exceeded = nullptr;  // outlives the connection, which the loop deletes after Close()

 protected:
  size_t OnRead(char* data, size_t size) override {
    // Consume whole lines only, to exercise partial-input retention.
    std::string_view s(data, size);
    size_t nl = s.rfind('\n');
    if (nl == std::string_view::npos) return 0;
    received.append(data, nl + 1);
    return nl + 1;
  }
  void OnClose() override { *closed_flag_ = true; }
  void OnBacklogExceeded() override {
    if (backlog_exceeded) ++*backlog_exceeded;
    Close();
  }

 private:
  bool* closed_flag_;
};

struct Pair {
  int server;
  int client;
};

Pair MakePair() {
  int fds[2];
  EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
  return {fds[0], fds[1]};
}

std::string ReadAll(int fd) {
  std::string out;
  char buf[65536];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n <= 0) break;
    out.append(buf, n);
  }
  return out;
}

TEST(Conn, KeepsPartialInputAcrossReads) {
  Loop loop(0);
  Pair p = MakePair();
  bool closed = false;
  auto* c = new EchoConn(&loop, p.server, &closed);
  ASSERT_TRUE(c->Start());
  ASSERT_EQ(::write(p.client, "hel", 3), 3);
  loop.RunOnce(100);
  EXPECT_EQ(c->received, "");
  ASSERT_EQ(::write(p.client, "lo\nwor", 6), 6);
  loop.RunOnce(100);
  EXPECT_EQ(c->received, "hello\n");
  ASSERT_EQ(::write(p.client, "ld\n", 3), 3);
  loop.RunOnce(100);
  EXPECT_EQ(c->received, "hello\nworld\n");
  ::close(p.client);
  loop.RunOnce(100);
  EXPECT_TRUE(closed);
}

TEST(Conn, WritesKeepOrderAndShareBytes) {
  Loop loop(0);
  Pair p = MakePair();
  bool closed = false;
  auto* c = new EchoConn(&loop, p.server, &closed);
  ASSERT_TRUE(c->Start());
  auto frame = std::make_shared<std::string>("[shared]");
  loop.HoldUntilFlushed(frame);
  c->Write("a");
  c->WriteShared(frame->data(), frame->size());
  c->Write("b");  // must come after the shared frame
  c->WriteShared(frame->data(), frame->size());
  loop.RunOnce(0);
  EXPECT_EQ(ReadAll(p.client), "a[shared]b[shared]");
  EXPECT_EQ(c->queued_bytes(), 0u);
  c->Close();
  loop.RunOnce(0);
  ::close(p.client);
}

TEST(Conn, BacklogLimitAndCopyOfUnwrittenSharedBytes) {
  Loop loop(0);
  Pair p = MakePair();
  bool closed = false;
  auto* c = new EchoConn(&loop, p.server, &closed);
  int exceeded = 0;
  c->backlog_exceeded = &exceeded;
  ASSERT_TRUE(c->Start());
  c->set_max_backlog(4 << 20);
  auto frame = std::make_shared<std::string>(64 * 1024, 'x');
  // The peer does not read: the kernel takes a few hundred KB, the rest must be copied into the
  // backlog because the shared frame dies at the end of the iteration.
  for (int i = 0; i < 16; ++i) {
    loop.HoldUntilFlushed(frame);
    c->WriteShared(frame->data(), frame->size());
    loop.RunOnce(0);
  }
  EXPECT_GT(c->queued_bytes(), 0u);
  EXPECT_FALSE(closed);
  size_t drained = ReadAll(p.client).size();
  for (int i = 0; i < 50 && !closed && c->queued_bytes() > 0; ++i) {
    loop.RunOnce(10);
    drained += ReadAll(p.client).size();
  }
  EXPECT_EQ(drained, 16u * 64 * 1024);
  // Now exceed the limit.
  for (int i = 0; i < 200 && !closed; ++i) {
    loop.HoldUntilFlushed(frame);
    c->WriteShared(frame->data(), frame->size());
    loop.RunOnce(0);
  }
  EXPECT_TRUE(closed);
  EXPECT_EQ(exceeded, 1);
  ::close(p.client);
}

TEST(Conn, CloseAfterFlushDeliversThenHalfCloses) {
  Loop loop(0);
  Pair p = MakePair();
  bool closed = false;
  auto* c = new EchoConn(&loop, p.server, &closed);
  ASSERT_TRUE(c->Start());
  c->Write("bye");
  c->CloseAfterFlush();
  c->Write("ignored");
  loop.RunOnce(0);
  char buf[16];
  ssize_t n = ::read(p.client, buf, sizeof(buf));
  ASSERT_EQ(n, 3);
  EXPECT_EQ(::read(p.client, buf, sizeof(buf)), 0);  // FIN after our last bytes
  ::close(p.client);
  loop.RunOnce(100);
  EXPECT_TRUE(closed);
}

TEST(Loop, PostFromAnotherThreadRunsInOrder) {
  Loop loop(0);
  std::vector<int> seen;
  std::thread t([&] {
    for (int i = 0; i < 1000; ++i) loop.Post([&seen, i] { seen.push_back(i); });
  });
  t.join();
  loop.RunOnce(100);
  ASSERT_EQ(seen.size(), 1000u);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(seen[i], i);
}

}  // namespace
}  // namespace instant::net
