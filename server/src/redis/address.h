#pragma once
// Where a Redis server is and how to log in to it: the `redis_address` forms Centrifugo accepts,
// parsed once at startup, and their resolution to a socket address.
//
// Accepted forms (TLS "rediss://", unix sockets, Sentinel and Cluster are not supported):
//   host                                   port 6379
//   host:port                              "localhost:6379", "10.0.0.5:6380"
//   [v6addr]:port                          "[::1]:6379"
//   redis://[[user]:password@]host[:port][/db]
//                                          "redis://:secret@127.0.0.1:6379/2",
//                                          "redis://app:s%40cret@redis/0" (user and password are
//                                          percent-decoded, as in any URL)
// Centrifugo also takes the password and db as separate options (redis_password, redis_db); the
// caller copies those into the fields after parsing.

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace instant::redis {

struct Address {
  std::string host = "127.0.0.1";
  uint16_t port = 6379;
  std::string user;      // ACL user (Redis 6+); empty: AUTH with the password only
  std::string password;  // empty: no AUTH
  int db = 0;            // SELECT after connecting unless 0

  // "host:port" (plus "/db" when not 0), without credentials: safe for logs.
  std::string ToString() const;
};

// Parses `text` into *out (fields absent from the text keep their defaults). Returns false and
// sets *error on malformed input: empty host, bad or zero port, bad db, unsupported scheme.
bool ParseAddress(std::string_view text, Address* out, std::string* error);

// A resolved socket address, ready for connect().
struct Endpoint {
  sockaddr_storage addr{};
  socklen_t size = 0;
};

// Resolves host:port. Numeric IPv4/IPv6 addresses never block; names go through getaddrinfo,
// which may block (DNS): call it at startup, not on a hot path. Prefers the first result.
bool Resolve(const Address& address, Endpoint* out, std::string* error);

}  // namespace instant::redis
