#pragma once
// A parsed HTTP/1.x request head (RFC 9112 §2-§6). Every string_view points into the buffer that
// was handed to ParseRequestHead (request_parser.h): a Request is valid only while that buffer
// is unchanged, and must be re-parsed (not copied) after the caller compacts or grows it.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace instant::http {

struct Header {
  std::string_view name;   // a token (RFC 9110 §5.1), case as received
  std::string_view value;  // leading and trailing OWS removed (RFC 9110 §5.5)
};

// More field lines than this is answered with 431 (RFC 6585 §5): no client of ours sends
// anywhere near it, and the fixed array keeps the parser free of allocation.
constexpr size_t kMaxHeaders = 64;

struct Request {
  std::string_view method;  // a token, case-sensitive (RFC 9110 §9.1)
  std::string_view target;  // origin-form ("/path?query") or "*" (asterisk-form, OPTIONS only)
  std::string_view path;    // target before the first '?' (raw, not percent-decoded)
  std::string_view query;   // target after the first '?' (raw; empty if none)
  int version_minor = 1;    // 0 for HTTP/1.0, 1 for HTTP/1.1 (and for 1.2-1.9, RFC 9110 §6.2)
  Header headers[kMaxHeaders];
  size_t num_headers = 0;
  // Bytes from the start of the parsed buffer to the end of the blank line that ends the head,
  // including any empty lines skipped before the request line: the body (or the next pipelined
  // request) starts at buffer + head_size.
  size_t head_size = 0;
  // Declared body size, not capped here (any 64-bit value): the caller compares it with its
  // body limit (413) before reading. 0 when has_content_length is false and !chunked, which
  // for a request means no body (RFC 9112 §6.3 item 7).
  uint64_t content_length = 0;
  bool has_content_length = false;
  bool chunked = false;  // Transfer-Encoding: chunked (never together with Content-Length)
  // HTTP/1.1: true unless a Connection header lists "close". HTTP/1.0: false unless it lists
  // "keep-alive" (RFC 9112 §9.3). "close" wins if both are listed.
  bool keep_alive = true;

  // The first header named `name` (ASCII case-insensitive), or nullptr if absent.
  const Header* FindHeader(std::string_view name) const;
  // Value of the first header named `name`; "" if absent. Use Has() or FindHeader() to tell an
  // absent header from an empty one.
  std::string_view Find(std::string_view name) const;
  bool Has(std::string_view name) const { return FindHeader(name) != nullptr; }
};

struct Limits {
  // Largest accepted head, counting the request line, every field line, their line ends and the
  // final blank line (and any empty lines before the request line). Larger heads get 431.
  size_t max_head_size = 16384;
};

struct ParseResult {
  enum class Status { kComplete, kNeedMore, kError } status = Status::kNeedMore;
  // For kError: 400 (malformed), 431 (head larger than Limits::max_head_size, or more than
  // kMaxHeaders field lines), 501 (transfer coding other than chunked), 505 (not HTTP/1.x).
  int http_status = 0;
  // For kError: a short static English reason, suitable for the {"error": ...} body.
  const char* error = nullptr;
};

}  // namespace instant::http
