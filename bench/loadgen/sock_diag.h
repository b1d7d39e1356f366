#pragma once
// When did the server drop a client that stopped reading (S7)? The client cannot tell by itself:
// its receive buffer is full, so a FIN (or a close frame) the server sends waits behind data the
// client will not read. The server's end of the connection shows it at once, though: its socket
// leaves ESTABLISHED (FIN_WAIT1 with unsent data, or gone after a reset).
//
// This asks the kernel for that one socket by its 4-tuple (NETLINK_SOCK_DIAG, an exact lookup,
// O(1)): reading /proc/net/tcp instead formats every socket of the machine, TIME_WAIT ones
// included, and took long enough after a handshake storm to stall the worker's event loop.

#include <cstdint>

namespace instant::bench {

class SockDiag {
 public:
  SockDiag();
  ~SockDiag();
  SockDiag(const SockDiag&) = delete;
  SockDiag& operator=(const SockDiag&) = delete;

  // State of the server's socket for the connection server_addr:server_port <->
  // client_addr:client_port (addresses in network byte order, ports in host order):
  // 1 = ESTABLISHED, 0 = anything else or gone, -1 = the kernel could not be asked.
  int ServerEstablished(uint32_t server_addr, uint16_t server_port, uint32_t client_addr, uint16_t client_port);

 private:
  int fd_ = -1;
  uint32_t seq_ = 0;
};

}  // namespace instant::bench
