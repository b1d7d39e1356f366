#include "redis/address.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <charconv>
#include <cstring>

namespace instant::redis {
namespace {

bool ParseDecimal(std::string_view s, int64_t max, int64_t* out) {
  if (s.empty() || s.size() > 10) return false;
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  if (v > max) return false;
  *out = v;
  return true;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool PercentDecode(std::string_view in, std::string* out) {
  out->clear();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out->push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) return false;
    const int hi = HexValue(in[i + 1]);
    const int lo = HexValue(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return true;
}

// "host", "host:port", "[v6]", "[v6]:port".
bool ParseHostPort(std::string_view s, Address* out, std::string* error) {
  std::string_view host = s;
  std::string_view port;
  if (!s.empty() && s.front() == '[') {
    const size_t close = s.find(']');
    if (close == std::string_view::npos) {
      *error = "unterminated '[' in redis address";
      return false;
    }
    host = s.substr(1, close - 1);
    std::string_view rest = s.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') {
        *error = "unexpected text after ']' in redis address";
        return false;
      }
      port = rest.substr(1);
      if (port.empty()) {
        *error = "empty port in redis address";
        return false;
      }
    }
  } else {
    const size_t colon = s.rfind(':');
    if (colon != std::string_view::npos) {
      if (s.find(':') != colon) {
        *error = "IPv6 redis addresses need brackets: [::1]:6379";
        return false;
      }
      host = s.substr(0, colon);
      port = s.substr(colon + 1);
      if (port.empty()) {
        *error = "empty port in redis address";
        return false;
      }
    }
  }
  if (host.empty()) {
    *error = "empty host in redis address";
    return false;
  }
  if (!port.empty()) {
    int64_t p = 0;
    if (!ParseDecimal(port, 65535, &p) || p == 0) {
      *error = "invalid port in redis address";
      return false;
    }
    out->port = static_cast<uint16_t>(p);
  }
  out->host.assign(host);
  return true;
}

}  // namespace

std::string Address::ToString() const {
  std::string s = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  s += ':';
  s += std::to_string(port);
  if (db != 0) {
    s += '/';
    s += std::to_string(db);
  }
  return s;
}

bool ParseAddress(std::string_view text, Address* out, std::string* error) {
  constexpr std::string_view kScheme = "redis://";
  if (text.find("://") != std::string_view::npos && text.substr(0, kScheme.size()) != kScheme) {
    *error = "unsupported redis address scheme (only redis:// is supported)";
    return false;
  }
  if (text.substr(0, kScheme.size()) != kScheme) return ParseHostPort(text, out, error);

  std::string_view rest = text.substr(kScheme.size());
  if (rest.find_first_of("?#") != std::string_view::npos) {
    *error = "query parameters in redis:// addresses are not supported";
    return false;
  }
  // The host part ends at the first '/' after the userinfo.
  const size_t at = rest.rfind('@');
  std::string_view userinfo;
  if (at != std::string_view::npos) {
    userinfo = rest.substr(0, at);
    rest = rest.substr(at + 1);
  }
  std::string_view hostport = rest;
  std::string_view path;
  const size_t slash = rest.find('/');
  if (slash != std::string_view::npos) {
    hostport = rest.substr(0, slash);
    path = rest.substr(slash + 1);
  }
  Address parsed = *out;
  if (!ParseHostPort(hostport, &parsed, error)) return false;
  if (at != std::string_view::npos) {
    const size_t colon = userinfo.find(':');
    const std::string_view user = userinfo.substr(0, colon);
    const std::string_view pass =
        colon == std::string_view::npos ? std::string_view() : userinfo.substr(colon + 1);
    // "redis://secret@host" is a password-only login in redis-cli and go-redis: follow them.
    const bool password_only = colon == std::string_view::npos;
    if (!PercentDecode(password_only ? std::string_view() : user, &parsed.user) ||
        !PercentDecode(password_only ? user : pass, &parsed.password)) {
      *error = "invalid percent-encoding in redis address credentials";
      return false;
    }
  }
  if (!path.empty()) {
    int64_t db = 0;
    if (!ParseDecimal(path, 1 << 20, &db)) {
      *error = "invalid database number in redis address";
      return false;
    }
    parsed.db = static_cast<int>(db);
  }
  *out = std::move(parsed);
  return true;
}

bool Resolve(const Address& address, Endpoint* out, std::string* error) {
  *out = Endpoint{};
  auto* v4 = reinterpret_cast<sockaddr_in*>(&out->addr);
  if (inet_pton(AF_INET, address.host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(address.port);
    out->size = sizeof(sockaddr_in);
    return true;
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&out->addr);
  if (inet_pton(AF_INET6, address.host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(address.port);
    out->size = sizeof(sockaddr_in6);
    return true;
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* result = nullptr;
  const std::string port = std::to_string(address.port);
  const int rc = getaddrinfo(address.host.c_str(), port.c_str(), &hints, &result);
  if (rc != 0 || result == nullptr) {
    *error = "cannot resolve redis host " + address.host + ": " + gai_strerror(rc);
    return false;
  }
  std::memcpy(&out->addr, result->ai_addr, result->ai_addrlen);
  out->size = result->ai_addrlen;
  freeaddrinfo(result);
  return true;
}

}  // namespace instant::redis
