#include "net/listener.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "base/log.h"

namespace instant::net {

std::unique_ptr<Listener> Listener::Open(Loop* loop, const std::string& address, int port,
                                         AcceptFn on_accept, std::string* error) {
  std::string host = address.empty() ? "0.0.0.0" : address;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  std::string service = std::to_string(port);
  if (int rc = getaddrinfo(host.c_str(), service.c_str(), &hints, &res); rc != 0) {
    *error = fmt::format("cannot listen on {}:{}: {}", host, port, gai_strerror(rc));
    return nullptr;
  }
  int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (fd < 0 || bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, 4096) != 0) {
    *error = fmt::format("cannot listen on {}:{}: {}", host, port, std::strerror(errno));
    if (fd >= 0) ::close(fd);
    freeaddrinfo(res);
    return nullptr;
  }
  freeaddrinfo(res);
  sockaddr_storage bound{};
  socklen_t len = sizeof(bound);
  getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
  int actual = bound.ss_family == AF_INET6
                   ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                   : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  std::unique_ptr<Listener> l(new Listener(loop, fd, actual, std::move(on_accept)));
  if (!loop->Add(fd, EPOLLIN, l.get())) {
    *error = fmt::format("cannot listen on {}:{}: epoll: {}", host, port, std::strerror(errno));
    return nullptr;
  }
  return l;
}

Listener::Listener(Loop* loop, int fd, int port, AcceptFn on_accept)
    : loop_(loop), fd_(fd), port_(port), on_accept_(std::move(on_accept)) {
  spare_fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
}

Listener::~Listener() {
  Close();
  if (spare_fd_ >= 0) ::close(spare_fd_);
}

void Listener::Close() {
  if (fd_ < 0) return;
  loop_->Remove(fd_);
  ::close(fd_);
  fd_ = -1;
}

void Listener::OnIo(uint32_t) {
  // Accept a bounded batch per readiness event so one storm cannot starve the loop.
  for (int i = 0; i < 256 && fd_ >= 0; ++i) {
    int fd = accept4(fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if ((errno == EMFILE || errno == ENFILE) && spare_fd_ >= 0) {
        ::close(spare_fd_);
        int shed = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (shed >= 0) ::close(shed);
        spare_fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
        ++fd_refused_;
        if (const int64_t now = loop_->now_ms(); now - fd_warned_ms_ >= 1000) {
          log::Warn("out of file descriptors: refused {} connection(s) (raise the limit or add nodes)", fd_refused_);
          fd_warned_ms_ = now;
          fd_refused_ = 0;
        }
        continue;
      }
      return;  // EAGAIN or a transient error
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    on_accept_(fd);
  }
}

}  // namespace instant::net
