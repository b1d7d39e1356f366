#include "redis/test_redis_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>

namespace instant::redis::testing {
namespace {

constexpr const char* kRedisServer = "/usr/bin/redis-server";

uint16_t FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  uint16_t port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

// A blocking loopback connection with a 5 s I/O timeout; -1 if refused.
int Dial(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool SendAll(int fd, const std::string& bytes) {
  size_t off = 0;
  while (off < bytes.size()) {
    const ssize_t n = ::send(fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

// Reads one reply and renders it; "" on I/O failure.
bool ReadReply(int fd, ReplyParser& parser, std::string* rendered) {
  char buf[16384];
  while (true) {
    const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) return false;
    size_t used = 0;
    // Test replies are read one command at a time, so a reply never shares a read with the next.
    const ReplyParser::Status st = parser.Parse(buf, static_cast<size_t>(n), &used);
    if (st == ReplyParser::Status::kReply) {
      *rendered = parser.reply().ToString();
      return true;
    }
    if (st == ReplyParser::Status::kError) return false;
  }
}

}  // namespace

RedisServer::RedisServer(std::vector<std::string> extra_args, bool start)
    : extra_args_(std::move(extra_args)) {
  char tmpl[] = "/tmp/instant-redis-test-XXXXXX";
  const char* dir = ::mkdtemp(tmpl);
  dir_ = dir != nullptr ? dir : "/tmp";
  log_path_ = dir_ + "/redis.log";
  // A port another process grabs between FreePort() and redis binding it makes Start() fail:
  // try a few.
  for (int attempt = 0; attempt < 5; ++attempt) {
    port_ = FreePort();
    if (!start || Start()) return;
  }
}

RedisServer::~RedisServer() {
  Kill();
  std::error_code ec;
  if (dir_ != "/tmp") std::filesystem::remove_all(dir_, ec);
}

bool RedisServer::Start() {
  if (pid_ > 0) return true;
  std::vector<std::string> args = {kRedisServer,   "--port",       std::to_string(port_),
                                   "--bind",       "127.0.0.1",    "--save",
                                   "",             "--appendonly", "no",
                                   "--dir",        dir_,           "--daemonize",
                                   "no",           "--logfile",    log_path_};
  args.insert(args.end(), extra_args_.begin(), extra_args_.end());
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  const pid_t pid = ::fork();
  if (pid < 0) return false;
  if (pid == 0) {
    // Child: only async-signal-safe calls until exec.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    const int devnull = ::open("/dev/null", O_RDWR);
    if (devnull >= 0) {
      ::dup2(devnull, 0);
      ::dup2(devnull, 1);
      ::dup2(devnull, 2);
    }
    ::execv(kRedisServer, argv.data());
    ::_exit(127);
  }
  pid_ = pid;

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {  // exited: port taken, bad args...
      pid_ = -1;
      return false;
    }
    const int fd = Dial(port_);
    if (fd >= 0) {
      // Any reply (+PONG, or -NOAUTH with requirepass) means it is serving.
      std::string reply;
      ReplyParser parser;
      const bool ok = SendAll(fd, "PING\r\n") && ReadReply(fd, parser, &reply);
      ::close(fd);
      if (ok && !reply.empty() && reply.rfind("-LOADING", 0) != 0) return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  Kill();
  return false;
}

void RedisServer::Kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

void RedisServer::Pause() {
  if (pid_ > 0) ::kill(pid_, SIGSTOP);
}

void RedisServer::Resume() {
  if (pid_ > 0) ::kill(pid_, SIGCONT);
}

std::string RedisServer::Query(std::initializer_list<Arg> args, const std::string& password) const {
  const int fd = Dial(port_);
  if (fd < 0) return "CONNECT FAILED";
  ReplyParser parser;
  std::string reply;
  std::string out;
  bool ok = true;
  if (!password.empty()) {
    AppendCommand(out, {"AUTH", password});
    ok = SendAll(fd, out) && ReadReply(fd, parser, &reply);
    out.clear();
  }
  AppendCommand(out, args);
  ok = ok && SendAll(fd, out) && ReadReply(fd, parser, &reply);
  ::close(fd);
  return ok ? reply : "IO FAILED";
}

int64_t RedisServer::CommandCalls(std::string_view command, const std::string& password) const {
  const std::string info = Query({"INFO", "commandstats"}, password);
  const std::string key = "cmdstat_" + std::string(command) + ":calls=";
  const size_t at = info.find(key);
  if (at == std::string::npos) return 0;
  return std::strtoll(info.c_str() + at + key.size(), nullptr, 10);
}

}  // namespace instant::redis::testing
