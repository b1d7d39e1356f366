#pragma once
// Test helper: a real redis-server (Debian's /usr/bin/redis-server) on a free loopback port, with
// persistence off, in a temporary directory; killed (and its directory removed) by the destructor.
// Also dies with the test process (PR_SET_PDEATHSIG), so a crashed test leaves no server behind.

#include <sys/types.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "redis/resp.h"

namespace instant::redis::testing {

class RedisServer {
 public:
  // Picks a free port and starts the server with `extra_args` (e.g. {"--requirepass", "pw"}),
  // unless `start` is false (then Start() starts it later on the same port).
  explicit RedisServer(std::vector<std::string> extra_args = {}, bool start = true);
  ~RedisServer();
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  // Starts the server on port() and waits (up to 10 s) until it answers. False on failure.
  bool Start();
  // SIGKILL, then waits for the process: the port is closed when this returns.
  void Kill();
  // SIGSTOP / SIGCONT: the server keeps its sockets but answers nothing.
  void Pause();
  void Resume();

  bool running() const { return pid_ > 0; }
  uint16_t port() const { return port_; }
  const std::string& log_path() const { return log_path_; }

  // Runs one command on a fresh blocking connection (AUTH first with `password` if not empty)
  // and returns Reply::ToString() of the answer, or "CONNECT FAILED"/"IO FAILED".
  std::string Query(std::initializer_list<Arg> args, const std::string& password = "") const;
  // The "calls=" figure of `command` in INFO commandstats (0 if absent).
  int64_t CommandCalls(std::string_view command, const std::string& password = "") const;

 private:
  std::vector<std::string> extra_args_;
  std::string dir_;
  std::string log_path_;
  uint16_t port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace instant::redis::testing
