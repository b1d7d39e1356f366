#pragma once
// A listening TCP socket served by one loop. Accepted sockets are non-blocking, close-on-exec and
// TCP_NODELAY; each is handed to `on_accept`, which owns it from then on (the node spreads them
// over its loops round-robin).
//
// SO_REUSEADDR only, not SO_REUSEPORT: a second process on the same port must fail loudly instead
// of silently sharing the port's connections.
// When the process runs out of file descriptors the listener sheds the connection (accept then
// close, using a reserved descriptor) instead of spinning on a readable socket it cannot accept.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "net/loop.h"

namespace instant::net {

class Listener final : public IoHandler {
 public:
  using AcceptFn = std::function<void(int fd)>;

  // Binds and listens on address:port ("" = all IPv4 interfaces; port 0 = ephemeral). Returns
  // nullptr and sets *error ("cannot listen on 127.0.0.1:8427: Address already in use").
  static std::unique_ptr<Listener> Open(Loop* loop, const std::string& address, int port,
                                        AcceptFn on_accept, std::string* error);
  ~Listener();

  int port() const { return port_; }
  // Stops accepting (graceful shutdown). Idempotent.
  void Close();

  void OnIo(uint32_t events) override;

 private:
  Listener(Loop* loop, int fd, int port, AcceptFn on_accept);

  Loop* loop_;
  int fd_;
  int port_;
  int spare_fd_;
  // "Out of file descriptors" is logged at most once a second, with the count refused since.
  int64_t fd_warned_ms_ = 0;
  uint64_t fd_refused_ = 0;
  AcceptFn on_accept_;
};

}  // namespace instant::net
