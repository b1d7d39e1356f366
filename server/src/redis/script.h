#pragma once
// A Lua script for EVALSHA: its source and its SHA1, which is the name Redis caches it under.
//
// Client::Eval sends EVALSHA and falls back to EVAL on NOSCRIPT (client.h), so a Script only has
// to know its text and digest. The digest is computed once, here, with OpenSSL.
//
// Lifetime: Client keeps a pointer to the Script while a call of it is in flight (for the EVAL
// fallback), so a Script must outlive every Client that runs it. Make scripts static or members of
// the object that owns the clients. Immutable after construction: safe to share between threads.

#include <string>
#include <string_view>

namespace instant::redis {

class Script {
 public:
  explicit Script(std::string source);
  Script(const Script&) = delete;  // Clients point at it: keep it in one place
  Script& operator=(const Script&) = delete;

  const std::string& source() const { return source_; }
  // 40 lowercase hex digits, as SCRIPT LOAD returns.
  std::string_view sha1() const { return std::string_view(sha1_, sizeof(sha1_)); }

 private:
  std::string source_;
  char sha1_[40];
};

}  // namespace instant::redis
