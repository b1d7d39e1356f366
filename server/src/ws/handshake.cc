#include "ws/handshake.h"

#include <openssl/evp.h>

#include <cstdio>
#include <utility>

#include "base/base64.h"

namespace instant::ws {
namespace {

// §1.3 / §4.2.2: the GUID appended to the client's key before hashing.
constexpr std::string_view kAcceptGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

// Strips optional whitespace (RFC 9110 §5.6.3: SP / HTAB).
std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// True if the comma-separated header value `list` has an element equal to `token`.
template <typename Equal>
bool HasToken(std::string_view list, std::string_view token, Equal equal) {
  while (true) {
    const size_t comma = list.find(',');
    if (equal(Trim(list.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) return false;
    list.remove_prefix(comma + 1);
  }
}

bool HasTokenIgnoreCase(std::string_view list, std::string_view token) {
  return HasToken(list, token, EqualsIgnoreCase);
}

// '*' matches any run (possibly empty). Greedy with one backtrack point: when a literal fails,
// retry from the last '*' one character further. `pattern` is lower-case already.
bool GlobMatch(std::string_view pattern, std::string_view s) {
  size_t p = 0, i = 0;
  size_t star = std::string_view::npos, resume = 0;
  while (i < s.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = i;
    } else if (p < pattern.size() && pattern[p] == Lower(s[i])) {
      ++p;
      ++i;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      i = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

// §4.1: the key is base64 (RFC 4648 §4, standard alphabet, padded) of 16 random bytes, which is
// always 22 characters + "==".
bool IsValidKey(std::string_view key) {
  if (key.size() != 24 || key[22] != '=' || key[23] != '=') return false;
  for (size_t i = 0; i < 22; ++i) {
    const char c = key[i];
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '+' || c == '/';
    if (!ok) return false;
  }
  // Also rejects non-zero trailing bits in the 22nd character (not a canonical encoding).
  const auto decoded = Base64Decode(key);
  return decoded.has_value() && decoded->size() == 16;
}

HandshakeResult Fail(int status, std::string reason) {
  HandshakeResult r;
  r.status = status;
  r.reason = std::move(reason);
  return r;
}

const char* StatusText(int status) {
  switch (status) {
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 405: return "Method Not Allowed";
    case 426: return "Upgrade Required";
    default: return "Error";
  }
}

}  // namespace

OriginPolicy::OriginPolicy(std::vector<std::string> allowed) : patterns_(std::move(allowed)) {
  for (std::string& p : patterns_) {
    for (char& c : p) c = Lower(c);
    if (p == "*") allow_all_ = true;
  }
}

bool OriginPolicy::Allows(bool has_origin, std::string_view origin) const {
  origin = Trim(origin);
  // No Origin (or an empty one): not a browser, so cross-site protection does not apply.
  if (!has_origin || origin.empty()) return true;
  if (allow_all_) return true;
  for (const std::string& p : patterns_) {
    if (GlobMatch(p, origin)) return true;
  }
  return false;
}

HandshakeResult CheckUpgrade(const UpgradeRequest& req, const OriginPolicy& origins) {
  // §4.2.1 items 1-6, in order. Status codes: §4.2.2 and §4.4 (426 with the supported version).
  if (req.method != "GET") return Fail(405, "WebSocket upgrade requires GET");
  if (req.http_minor < 1) return Fail(400, "WebSocket upgrade requires HTTP/1.1");
  if (Trim(req.host).empty()) return Fail(400, "missing Host header");
  if (!HasTokenIgnoreCase(req.upgrade, "websocket")) {
    return Fail(426, "missing or invalid Upgrade header (expected \"websocket\")");
  }
  if (!HasTokenIgnoreCase(req.connection, "upgrade")) {
    return Fail(426, "missing or invalid Connection header (expected \"Upgrade\")");
  }
  const std::string_view version = Trim(req.sec_version);
  if (version.empty()) return Fail(426, "missing Sec-WebSocket-Version header");
  if (version != "13") return Fail(426, "unsupported Sec-WebSocket-Version (only 13 is supported)");
  const std::string_view key = Trim(req.sec_key);
  if (key.empty()) return Fail(400, "missing Sec-WebSocket-Key header");
  if (!IsValidKey(key)) {
    return Fail(400, "invalid Sec-WebSocket-Key header (must be base64 of 16 bytes)");
  }
  if (!origins.Allows(req.has_origin, req.origin)) return Fail(403, "origin not allowed");

  HandshakeResult r;
  r.ok = true;
  if (HasToken(req.sec_protocol, kJsonSubprotocol,
               [](std::string_view a, std::string_view b) { return a == b; })) {
    r.subprotocol = kJsonSubprotocol;
  }
  return r;
}

std::string AcceptKey(std::string_view sec_key) {
  // Fetched once: OpenSSL 3's EVP_sha1() re-fetches the implementation on every call
  // (research/deps.md gotcha 6). Thread-safe static init; never freed on purpose.
  static const EVP_MD* const sha1 = [] {
    const EVP_MD* md = EVP_MD_fetch(nullptr, "SHA1", nullptr);
    return md != nullptr ? md : EVP_sha1();
  }();
  std::string input(Trim(sec_key));
  input.append(kAcceptGuid);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  if (EVP_Digest(input.data(), input.size(), digest, &digest_len, sha1, nullptr) != 1) {
    return {};  // only on OpenSSL failure (e.g. no provider); the peer then rejects the handshake
  }
  return Base64Encode(std::string_view(reinterpret_cast<const char*>(digest), digest_len));
}

void AppendAcceptResponse(std::string& out, std::string_view sec_key,
                          std::string_view subprotocol) {
  out.append(
      "HTTP/1.1 101 Switching Protocols\r\n"
      "Upgrade: websocket\r\n"
      "Connection: Upgrade\r\n"
      "Sec-WebSocket-Accept: ");
  out.append(AcceptKey(sec_key));
  out.append("\r\n");
  if (!subprotocol.empty()) {
    out.append("Sec-WebSocket-Protocol: ");
    out.append(subprotocol);
    out.append("\r\n");
  }
  out.append("\r\n");
}

void AppendRejectResponse(std::string& out, const HandshakeResult& result) {
  const int status = result.status >= 100 && result.status <= 999 ? result.status : 400;
  char line[64];
  const int n = std::snprintf(line, sizeof(line), "HTTP/1.1 %d %s\r\n", status, StatusText(status));
  out.append(line, static_cast<size_t>(n));
  if (status == 405) out.append("Allow: GET\r\n");
  if (status == 426) out.append("Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n");
  out.append("Content-Type: text/plain; charset=utf-8\r\nConnection: close\r\nContent-Length: ");
  out.append(std::to_string(result.reason.size()));
  out.append("\r\n\r\n");
  out.append(result.reason);
}

}  // namespace instant::ws
