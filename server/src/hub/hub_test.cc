#include "hub/hub.h"

#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <deque>
#include <vector>

#include <gtest/gtest.h>

#include "net/conn.h"
#include "net/loop.h"

namespace instant::hub {
namespace {

class SinkConn : public net::Conn {
 public:
  using net::Conn::Conn;

 protected:
  size_t OnRead(char*, size_t size) override { return size; }
  void OnClose() override {}
};

struct Client {
  int peer = -1;
  SinkConn* conn = nullptr;
  std::unique_ptr<Subscriber> sub;
};

std::string Drain(int fd) {
  std::string out;
  char buf[65536];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof(buf))) > 0) out.append(buf, n);
  return out;
}

class HubTest : public ::testing::Test {
 protected:
  Client& NewClient(bool v1 = false) {
    int fds[2];
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
    clients_.emplace_back();
    Client& c = clients_.back();
    c.peer = fds[1];
    c.conn = new SinkConn(&loop_, fds[0]);
    EXPECT_TRUE(c.conn->Start());
    c.sub = std::make_unique<Subscriber>(c.conn, v1);
    return c;
  }
  PubFrameRef Frame(std::string channel, std::string v2, std::string v1 = "") {
    auto f = std::make_shared<PubFrame>();
    f->channel = std::move(channel);
    f->v2 = std::move(v2);
    f->v1 = std::move(v1);
    return f;
  }
  void TearDown() override {
    for (auto& c : clients_) {
      hub_.RemoveAll(c.sub.get());
      c.conn->Close();
      ::close(c.peer);
    }
    loop_.RunOnce(0);
  }

  net::Loop loop_{0};
  Hub hub_{&loop_};
  std::deque<Client> clients_;  // stable references
};

TEST_F(HubTest, DeliversToMembersInOrderWithTheRightEncoding) {
  Client& a = NewClient();
  Client& b = NewClient(/*v1=*/true);
  Client& c = NewClient();
  hub_.Add(a.sub.get(), "news", false, 0);
  hub_.Add(b.sub.get(), "news", false, 0);
  hub_.Add(c.sub.get(), "other", false, 0);
  EXPECT_EQ(hub_.Deliver(Frame("news", "[v2-1]", "[v1-1]")), 2u);
  EXPECT_EQ(hub_.Deliver(Frame("news", "[v2-2]", "[v1-2]")), 2u);
  EXPECT_EQ(hub_.Deliver(Frame("nobody", "x")), 0u);
  loop_.RunOnce(0);
  EXPECT_EQ(Drain(a.peer), "[v2-1][v2-2]");
  EXPECT_EQ(Drain(b.peer), "[v1-1][v1-2]");
  EXPECT_EQ(Drain(c.peer), "");
}

// Members keep a copy of the version for the fan-out: a change after subscribing must reach it.
TEST_F(HubTest, VersionChangeAfterSubscribingChangesTheEncodingDelivered) {
  Client& a = NewClient();
  hub_.Add(a.sub.get(), "news", false, 0);
  hub_.Add(a.sub.get(), "sport", false, 0);
  a.sub->set_v1(true);
  EXPECT_EQ(hub_.Deliver(Frame("news", "[v2-1]", "[v1-1]")), 1u);
  EXPECT_EQ(hub_.Deliver(Frame("sport", "[v2-2]", "[v1-2]")), 1u);
  a.sub->set_v1(false);
  EXPECT_EQ(hub_.Deliver(Frame("news", "[v2-3]", "[v1-3]")), 1u);
  loop_.RunOnce(0);
  EXPECT_EQ(Drain(a.peer), "[v1-1][v1-2][v2-3]");
}

TEST_F(HubTest, SwapRemoveKeepsBothIndexesConsistent) {
  std::vector<Client*> cs;
  for (int i = 0; i < 6; ++i) cs.push_back(&NewClient());
  const char* channels[] = {"a", "b", "c", "d"};
  for (Client* c : cs) {
    for (const char* ch : channels) hub_.Add(c->sub.get(), ch, false, 0);
  }
  EXPECT_EQ(hub_.num_subscriptions(), 24u);
  // Remove in an order that moves elements around on both sides.
  hub_.Remove(cs[0]->sub.get(), static_cast<size_t>(hub_.Find(cs[0]->sub.get(), "b")));
  hub_.Remove(cs[3]->sub.get(), static_cast<size_t>(hub_.Find(cs[3]->sub.get(), "a")));
  hub_.RemoveAll(cs[5]->sub.get());
  hub_.Remove(cs[2]->sub.get(), static_cast<size_t>(hub_.Find(cs[2]->sub.get(), "d")));
  EXPECT_EQ(hub_.num_subscriptions(), 24u - 3 - 4);
  // Every back-index points at the right place.
  for (Client* c : cs) {
    const auto& subs = c->sub->subs();
    for (size_t i = 0; i < subs.size(); ++i) {
      const Member& m = subs[i].channel->members[subs[i].position];
      EXPECT_EQ(m.subscriber, c->sub.get());
      EXPECT_EQ(m.index, i);
    }
  }
  EXPECT_EQ(hub_.CountMembers("a"), 4u);
  EXPECT_EQ(hub_.CountMembers("b"), 4u);
  EXPECT_EQ(hub_.CountMembers("c"), 5u);
  EXPECT_EQ(hub_.CountMembers("d"), 4u);
  EXPECT_EQ(hub_.Find(cs[0]->sub.get(), "b"), -1);
  for (Client* c : cs) hub_.RemoveAll(c->sub.get());
  EXPECT_EQ(hub_.num_channels(), 0u);
  EXPECT_EQ(hub_.num_subscriptions(), 0u);
}

TEST_F(HubTest, FrameOutlivesPublisherUntilFlush) {
  Client& a = NewClient();
  hub_.Add(a.sub.get(), "news", false, 0);
  {
    PubFrameRef f = Frame("news", std::string(1000, 'z'));
    hub_.Deliver(f);
  }  // the publisher's reference is gone; the loop still holds one until the flush
  loop_.RunOnce(0);
  EXPECT_EQ(Drain(a.peer), std::string(1000, 'z'));
}

class RecordingSubscriber : public Subscriber {
 public:
  using Subscriber::Subscriber;
  std::vector<std::string> lost;
  void OnInsufficientState(std::string_view channel) override { lost.emplace_back(channel); }
};

TEST_F(HubTest, PositionedMembersSkipDuplicatesAndReportGapsAndNewEpochs) {
  Client& a = NewClient();
  RecordingSubscriber positioned(a.conn, false);
  hub_.Add(&positioned, "s", false, 0, /*positioned=*/true, /*offset=*/5, "E1");
  auto frame = [&](uint64_t offset, std::string epoch, std::string bytes) {
    auto f = std::make_shared<PubFrame>();
    f->channel.assign(std::string_view("s"));  // not = "s": GCC 12 -Wrestrict false positive
    f->offset = offset;
    f->epoch = std::move(epoch);
    f->v2 = std::move(bytes);
    return PubFrameRef(f);
  };
  EXPECT_EQ(hub_.Deliver(frame(5, "E1", "[5]")), 0u);  // already recovered: late duplicate
  EXPECT_EQ(hub_.Deliver(frame(6, "E1", "[6]")), 1u);
  EXPECT_EQ(hub_.Deliver(frame(7, "E1", "[7]")), 1u);
  loop_.RunOnce(0);
  EXPECT_EQ(Drain(a.peer), "[6][7]");
  EXPECT_TRUE(positioned.lost.empty());
  EXPECT_EQ(hub_.Deliver(frame(9, "E1", "[9]")), 0u);  // 8 is missing
  ASSERT_EQ(positioned.lost.size(), 1u);
  EXPECT_EQ(positioned.lost[0], "s");
  hub_.RemoveAll(&positioned);
  hub_.Add(&positioned, "s", false, 0, true, 9, "E1");
  EXPECT_EQ(hub_.Deliver(frame(10, "E2", "[10]")), 0u);  // the stream was recreated
  EXPECT_EQ(positioned.lost.size(), 2u);
  hub_.RemoveAll(&positioned);
}

// The periodic check compares members with the top read at the PREVIOUS check: a publication
// still in flight to this loop at check time is never taken for a loss.
TEST_F(HubTest, PositionCheckReportsMembersBelowThePreviouslyReadTop) {
  Client& a = NewClient();
  Client& b = NewClient();
  RecordingSubscriber behind(a.conn, false);
  RecordingSubscriber current(b.conn, false);
  hub_.Add(&behind, "s", false, 0, /*positioned=*/true, /*offset=*/3, "E1");
  hub_.Add(&current, "s", false, 0, true, 3, "E1");
  hub_.Add(&current, "plain", false, 0);
  std::vector<std::string> positioned;
  hub_.ForEachPositionedChannel([&](std::string_view name) { positioned.emplace_back(name); });
  EXPECT_EQ(positioned, std::vector<std::string>{"s"});

  hub_.CheckPositions("s", 4, "E1");  // first check: 4 may be in flight, nobody is blamed
  EXPECT_TRUE(behind.lost.empty());
  auto f = std::make_shared<PubFrame>();
  f->channel = "s";
  f->offset = 4;
  f->epoch = "E1";
  f->v2 = "[4]";
  // Offset 4 reaches `current` only; `behind` lost it (as if a broker message was dropped).
  hub_.Remove(&behind, 0);
  hub_.Deliver(PubFrameRef(f));
  hub_.Add(&behind, "s", false, 0, true, 3, "E1");
  hub_.CheckPositions("s", 4, "E1");
  ASSERT_EQ(behind.lost.size(), 1u);
  EXPECT_EQ(behind.lost[0], "s");
  EXPECT_TRUE(current.lost.empty());
  hub_.CheckPositions("gone", 10, "E1");  // no local members: ignored
  hub_.RemoveAll(&behind);
  hub_.RemoveAll(&current);
  positioned.clear();
  hub_.ForEachPositionedChannel([&](std::string_view name) { positioned.emplace_back(name); });
  EXPECT_TRUE(positioned.empty());
}

}  // namespace
}  // namespace instant::hub
