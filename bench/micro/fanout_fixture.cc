#include "fanout_fixture.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>

#include "net/conn.h"
#include "publication_frame.h"

namespace instant::bench {
namespace {

constexpr char kChannel[] = "news:sports";
constexpr char kEpoch[] = "dQw4";
constexpr size_t kPayloadSize = 100;
// sizeof(node::Connection) on x86-64 with g++ 12 when this was written (Conn 136 + Session 344 +
// WebSocket and HTTP state). Only the memory stride depends on it, not the code measured.
constexpr size_t kServerConnectionSize = 704;
// Descriptors left for everything else (stdio, epoll, eventfd, benchmark output).
constexpr size_t kReservedFds = 64;

[[noreturn]] void Die(const char* what) {
  std::perror(what);
  std::abort();
}

}  // namespace

// A subscriber as the server has it: net::Conn and hub::Subscriber in one allocation.
class BenchClient final : public net::Conn, public hub::Subscriber {
 public:
  BenchClient(net::Loop* loop, int fd) : net::Conn(loop, fd), hub::Subscriber(this, false) {}

 protected:
  size_t OnRead(char*, size_t size) override { return size; }
  void OnClose() override {}

 private:
  static constexpr size_t kOwnSize = sizeof(net::Conn) + sizeof(hub::Subscriber);
  static constexpr size_t kRest =
      (kServerConnectionSize > kOwnSize) ? kServerConnectionSize - kOwnSize : 1;
  std::array<char, kRest> rest_of_connection_{};
};

bool FanoutFixture::FitsSocketPairs(size_t subscribers) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return false;
  return limit.rlim_cur == RLIM_INFINITY || 2 * subscribers + kReservedFds <= limit.rlim_cur;
}

FanoutFixture::FanoutFixture(size_t subscribers, Sink sink, bool positioned)
    : sink_(sink), payload_(MakeJsonPayload(kPayloadSize)), drain_buffer_(64 * 1024) {
  if (sink_ == Sink::kDevNull) {
    shared_fd_ = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    spare_fd_ = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (shared_fd_ < 0 || spare_fd_ < 0) Die("open /dev/null");
  }
  clients_.reserve(subscribers);
  for (size_t i = 0; i < subscribers; ++i) {
    int fd = shared_fd_;
    if (sink_ == Sink::kSocketPair) {
      int fds[2];
      if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0) {
        Die("socketpair");
      }
      fd = fds[0];
      peers_.push_back(fds[1]);
    }
    auto* client = new BenchClient(&loop_, fd);
    if (sink_ == Sink::kSocketPair && !client->Start()) Die("epoll_ctl");
    clients_.push_back(client);
    hub_.Add(client, kChannel, /*server_side=*/false, /*expires_at=*/0, positioned,
             /*offset=*/0, positioned ? kEpoch : "");
  }
  SamplePublication pub{kChannel, payload_, positioned ? 1u : 0u, positioned ? kEpoch : ""};
  auto frame = BuildPublicationFrame(pub, /*with_v1=*/false);
  mutable_frame_ = frame.get();
  frame_ = std::move(frame);
}

void FanoutFixture::EndIteration() {
  loop_.RunOnce(0);
  // One read takes everything: a connection receives one frame (~130 bytes) per iteration.
  for (int peer : peers_) {
    ssize_t ignored = ::read(peer, drain_buffer_.data(), drain_buffer_.size());
    (void)ignored;
  }
  // The loop released its hold on frame_ in RunOnce, so nothing reads it while it changes.
  if (mutable_frame_->offset != 0) ++mutable_frame_->offset;
}

FanoutFixture::~FanoutFixture() {
  for (BenchClient* client : clients_) hub_.RemoveAll(client);
  for (size_t i = 0; i < clients_.size(); ++i) {
    // ~Conn closes its descriptor. kDevNull connections share one, so it is put back under the
    // same number (dup2, nothing else runs in between) before the next connection closes it.
    delete clients_[i];
    if (sink_ == Sink::kDevNull && i + 1 < clients_.size()) ::dup2(spare_fd_, shared_fd_);
  }
  for (int peer : peers_) ::close(peer);
  if (spare_fd_ >= 0) ::close(spare_fd_);
  if (sink_ == Sink::kDevNull && clients_.empty() && shared_fd_ >= 0) ::close(shared_fd_);
}

}  // namespace instant::bench
