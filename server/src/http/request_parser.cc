#include "http/request_parser.h"

#include <algorithm>
#include <array>
#include <cstring>

#include "http/util.h"

namespace instant::http {
namespace {

using Status = ParseResult::Status;

// tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" /
//         "~" / DIGIT / ALPHA  (RFC 9110 §5.6.2)
constexpr std::array<bool, 256> MakeTcharTable() {
  std::array<bool, 256> t{};
  for (int c = '0'; c <= '9'; ++c) t[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) t[c] = true;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = true;
  for (char c : std::string_view("!#$%&'*+-.^_`|~")) t[static_cast<unsigned char>(c)] = true;
  return t;
}
constexpr std::array<bool, 256> kTchar = MakeTcharTable();

bool IsTchar(char c) { return kTchar[static_cast<unsigned char>(c)]; }
bool IsOws(char c) { return c == ' ' || c == '\t'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// field-value bytes: VCHAR / obs-text / SP / HTAB (RFC 9110 §5.5). CR, LF and NUL are what
// would let a value smuggle a line; the other CTLs are refused as the RFC permits.
bool IsFieldValueByte(char ch) {
  unsigned char c = static_cast<unsigned char>(ch);
  return c == '\t' || (c >= 0x20 && c != 0x7f);
}

// request-target bytes: anything visible. Bytes >= 0x80 are tolerated (some clients send raw
// UTF-8 paths); CTL, SP and DEL are not.
bool IsTargetByte(char ch) {
  unsigned char c = static_cast<unsigned char>(ch);
  return c > 0x20 && c != 0x7f;
}

bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!IsTchar(c)) return false;
  }
  return true;
}

ParseResult Error(int http_status, const char* reason) {
  ParseResult r;
  r.status = Status::kError;
  r.http_status = http_status;
  r.error = reason;
  return r;
}

// The element helpers below return kComplete for "this element is valid".
ParseResult Ok(Status status) {
  ParseResult r;
  r.status = status;
  return r;
}

// request-line = method SP request-target SP HTTP-version (RFC 9112 §3). `line` has its line
// end removed.
ParseResult ParseRequestLine(std::string_view line, Request* out) {
  size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos || !IsToken(line.substr(0, sp1))) {
    return Error(400, "invalid method");
  }
  out->method = line.substr(0, sp1);
  size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return Error(400, "malformed request line");
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);

  // HTTP-version = "HTTP" "/" DIGIT "." DIGIT, case-sensitive (RFC 9112 §2.3). Checked before
  // the target so that an HTTP/2 preface ("PRI * HTTP/2.0") gets 505 rather than 400.
  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || !IsDigit(version[5]) ||
      version[6] != '.' || !IsDigit(version[7])) {
    return Error(400, "invalid HTTP version");
  }
  if (version[5] != '1') return Error(505, "HTTP version not supported");
  // A higher 1.x minor is answered as 1.1, the highest we conform to (RFC 9110 §6.2).
  out->version_minor = version[7] == '0' ? 0 : 1;

  if (target.empty()) return Error(400, "invalid request target");
  for (char c : target) {
    if (!IsTargetByte(c)) return Error(400, "invalid request target");
  }
  if (target == "*") {
    // asterisk-form is only for a server-wide OPTIONS (RFC 9112 §3.2.4).
    if (out->method != "OPTIONS") return Error(400, "invalid request target");
    out->target = out->path = target;
    return Ok(Status::kComplete);
  }
  // origin-form = absolute-path [ "?" query ] (RFC 9112 §3.2.1). absolute-form and
  // authority-form are for proxies and CONNECT, which we are not.
  if (target[0] != '/') return Error(400, "invalid request target");
  out->target = target;
  size_t q = target.find('?');
  out->path = target.substr(0, q);
  out->query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
  return Ok(Status::kComplete);
}

// Content-Length = 1*DIGIT (RFC 9110 §8.6), refusing values that do not fit in 64 bits.
bool ParseContentLength(std::string_view s, uint64_t* out) {
  if (s.empty()) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (!IsDigit(c)) return false;
    uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
  }
  *out = v;
  return true;
}

// What the fields seen so far say about framing and persistence; settled at the blank line.
struct FieldState {
  std::string_view transfer_encoding;
  int transfer_encoding_lines = 0;
  int host_lines = 0;
  bool connection_close = false;
  bool connection_keep_alive = false;
};

// Validates one field line (line end removed) and records it.
ParseResult ParseFieldLine(std::string_view line, Request* out, FieldState* state) {
  // obs-fold, and whitespace between the start-line and the first field (RFC 9112 §2.2, §5.2):
  // both are refused rather than unfolded, the safe choice the RFC allows.
  if (IsOws(line[0])) return Error(400, "obs-fold not allowed");
  if (out->num_headers == kMaxHeaders) return Error(431, "too many headers");
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return Error(400, "header line without colon");
  std::string_view name = line.substr(0, colon);
  // No whitespace between field-name and colon (RFC 9112 §5.1): a proxy that strips it and one
  // that does not would disagree on which header this is.
  if (!name.empty() && IsOws(name.back())) return Error(400, "whitespace before colon");
  if (!IsToken(name)) return Error(400, "invalid header name");
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && IsOws(value.front())) value.remove_prefix(1);
  while (!value.empty() && IsOws(value.back())) value.remove_suffix(1);
  for (char c : value) {
    if (!IsFieldValueByte(c)) return Error(400, "invalid header value");
  }
  out->headers[out->num_headers++] = Header{name, value};

  if (EqualsIgnoreCase(name, "content-length")) {
    uint64_t n = 0;
    if (!ParseContentLength(value, &n)) return Error(400, "invalid Content-Length");
    // Several copies are tolerated only when identical (RFC 9112 §6.3 item 5).
    if (out->has_content_length && out->content_length != n) {
      return Error(400, "conflicting Content-Length");
    }
    out->content_length = n;
    out->has_content_length = true;
  } else if (EqualsIgnoreCase(name, "transfer-encoding")) {
    state->transfer_encoding = value;
    ++state->transfer_encoding_lines;
  } else if (EqualsIgnoreCase(name, "connection")) {
    state->connection_close |= HeaderHasToken(value, "close");
    state->connection_keep_alive |= HeaderHasToken(value, "keep-alive");
  } else if (EqualsIgnoreCase(name, "host")) {
    if (++state->host_lines > 1) return Error(400, "duplicate Host");
  }
  return Ok(Status::kComplete);
}

// Decides the message framing once all fields are known (RFC 9112 §6.1, §6.3).
ParseResult FinishHead(const FieldState& state, Request* out) {
  if (state.transfer_encoding_lines > 0) {
    if (out->has_content_length) return Error(400, "Content-Length with Transfer-Encoding");
    // HTTP/1.0 has no transfer codings; a 1.0 message carrying one has faulty framing.
    if (out->version_minor == 0) return Error(400, "Transfer-Encoding in HTTP/1.0");
    if (state.transfer_encoding_lines > 1) return Error(400, "duplicate Transfer-Encoding");
    std::string_view te = state.transfer_encoding;
    if (EqualsIgnoreCase(te, "chunked")) {
      out->chunked = true;
    } else {
      // Not exactly "chunked". If chunked is in the list but not last (or twice), the body
      // length cannot be determined at all: 400 (RFC 9112 §6.3 item 4). Otherwise the list is
      // well-framed but uses codings we do not implement: 501 (RFC 9112 §6.1).
      size_t last_comma = te.rfind(',');
      std::string_view head = last_comma == std::string_view::npos ? std::string_view()
                                                                    : te.substr(0, last_comma);
      if (te.empty() || HeaderHasToken(head, "chunked")) {
        return Error(400, "invalid Transfer-Encoding");
      }
      return Error(501, "unsupported transfer coding");
    }
  }
  if (out->version_minor == 0) {
    out->keep_alive = state.connection_keep_alive && !state.connection_close;
  } else {
    out->keep_alive = !state.connection_close;
  }
  return Ok(Status::kComplete);
}

// Refuses at once a first line that cannot become a request line: its method, so far, holds a
// non-token byte. A trailing CR may still be half of a CRLF.
ParseResult CheckPartialRequestLine(std::string_view partial) {
  for (size_t i = 0; i < partial.size(); ++i) {
    char c = partial[i];
    if (c == ' ') {
      return i == 0 ? Error(400, "invalid method") : Ok(Status::kNeedMore);
    }
    if (c == '\r' && i + 1 == partial.size()) break;
    if (!IsTchar(c)) return Error(400, "invalid method");
  }
  return Ok(Status::kNeedMore);
}

void ResetRequest(Request* out) {
  out->method = out->target = out->path = out->query = {};
  out->version_minor = 1;
  out->num_headers = 0;
  out->head_size = 0;
  out->content_length = 0;
  out->has_content_length = false;
  out->chunked = false;
  out->keep_alive = true;
}

}  // namespace

ParseResult ParseRequestHead(std::string_view data, const Limits& limits, Request* out) {
  ResetRequest(out);
  // Only the first max_head_size bytes are searched: a line end beyond them could only end a
  // head that is too large anyway.
  const size_t window = std::min(data.size(), limits.max_head_size);
  FieldState state;
  bool have_request_line = false;
  size_t pos = 0;
  while (true) {
    const void* lf = pos < window ? std::memchr(data.data() + pos, '\n', window - pos) : nullptr;
    if (lf == nullptr) {
      // The partial first line is checked before the size limit, and only within the window,
      // so that a longer buffer can never turn this call's 400 into a 431.
      if (!have_request_line) {
        std::string_view partial = pos < window ? data.substr(pos, window - pos) : std::string_view();
        ParseResult r = CheckPartialRequestLine(partial);
        if (r.status == Status::kError) return r;
      }
      if (data.size() >= limits.max_head_size) return Error(431, "request head too large");
      return Ok(Status::kNeedMore);
    }
    const size_t end = static_cast<const char*>(lf) - data.data();
    const size_t next = end + 1;
    // CRLF or bare LF (RFC 9112 §2.2). Any other CR is left in the line, where every element's
    // grammar refuses it.
    std::string_view line = data.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pos = next;

    if (!have_request_line) {
      if (line.empty()) continue;  // empty lines before the request line (RFC 9112 §2.2)
      ParseResult r = ParseRequestLine(line, out);
      if (r.status == Status::kError) return r;
      have_request_line = true;
      continue;
    }
    if (line.empty()) {
      ParseResult r = FinishHead(state, out);
      if (r.status == Status::kError) return r;
      out->head_size = next;
      return r;
    }
    ParseResult r = ParseFieldLine(line, out, &state);
    if (r.status == Status::kError) return r;
  }
}

}  // namespace instant::http
