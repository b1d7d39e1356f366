#include "sock_diag.h"

#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace instant::bench {

SockDiag::SockDiag() {
  fd_ = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  if (fd_ >= 0) {
    timeval tv{0, 200'000};  // an answer is immediate; never let a lost one stall the loop
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
}

SockDiag::~SockDiag() {
  if (fd_ >= 0) close(fd_);
}

int SockDiag::ServerEstablished(uint32_t server_addr, uint16_t server_port, uint32_t client_addr,
                                uint16_t client_port) {
  if (fd_ < 0) return -1;
  struct {
    nlmsghdr nlh;
    inet_diag_req_v2 req;
  } msg{};
  msg.nlh.nlmsg_len = sizeof msg;
  msg.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  msg.nlh.nlmsg_flags = NLM_F_REQUEST;  // no NLM_F_DUMP: one socket, looked up by its 4-tuple
  msg.nlh.nlmsg_seq = ++seq_;
  msg.req.sdiag_family = AF_INET;
  msg.req.sdiag_protocol = IPPROTO_TCP;
  msg.req.idiag_states = ~0u;
  msg.req.id.idiag_sport = htons(server_port);
  msg.req.id.idiag_dport = htons(client_port);
  msg.req.id.idiag_src[0] = server_addr;
  msg.req.id.idiag_dst[0] = client_addr;
  msg.req.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
  msg.req.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (sendto(fd_, &msg, sizeof msg, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) < 0) return -1;
  alignas(nlmsghdr) char buf[8192];
  for (;;) {
    ssize_t n = recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return -1;
    for (auto* h = reinterpret_cast<nlmsghdr*>(buf); NLMSG_OK(h, static_cast<unsigned>(n)); h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_seq != seq_) continue;  // a late answer to an earlier question
      if (h->nlmsg_type == NLMSG_ERROR) {
        const auto* err = static_cast<const nlmsgerr*>(NLMSG_DATA(h));
        return err->error == -ENOENT ? 0 : -1;  // no such socket: the server's end is gone
      }
      if (h->nlmsg_type == SOCK_DIAG_BY_FAMILY) {
        const auto* d = static_cast<const inet_diag_msg*>(NLMSG_DATA(h));
        // Without its connection the lookup may land on the listener: not ESTABLISHED either.
        return d->idiag_state == TCP_ESTABLISHED && d->id.idiag_dport == htons(client_port) ? 1 : 0;
      }
    }
  }
}

}  // namespace instant::bench
