// Fuzzes the HTTP/1.x request-head parser and the chunked body decoder (server/src/http).
//
// Beyond "no crash, no sanitizer report" it checks what callers rely on:
//   * a complete head lies inside the input (head_size <= size, ends in LF, within the limit),
//     every view points into the input and obeys its grammar (tokens, OWS-trimmed values with
//     no CTL), Content-Length and chunked never come together;
//   * errors carry one of the documented statuses and a reason;
//   * the verdict is stable as data arrives: over the prefixes of the input (all of them up to
//     64 bytes, those ending next to a CR or LF up to 8 KiB; each copied to an exactly-sized
//     buffer, so ASan sees any read past the end), the result is kNeedMore up to some length
//     and then one fixed verdict (same status, same head_size);
//   * ChunkedDecoder gives the same status, body and consumed count whether the input arrives
//     at once or in pieces, never consumes more than it was given and honours max_body.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "http/chunked.h"
#include "http/request_parser.h"
#include "http/util.h"

namespace {

using instant::http::ChunkedDecoder;
using instant::http::Limits;
using instant::http::ParseRequestHead;
using instant::http::ParseResult;
using instant::http::Request;
using Status = ParseResult::Status;

// Checking every prefix is O(n^2): do it for short inputs, and only around line ends (where the
// verdict can change) for longer ones.
constexpr size_t kAllPrefixesUpTo = 64;
constexpr size_t kLineEndPrefixesUpTo = 8192;

void Check(bool ok) {
  if (!ok) std::abort();
}

bool Inside(std::string_view part, std::string_view whole) {
  // Empty views may point anywhere (including nullptr); non-empty ones must be in `whole`.
  if (part.empty()) return true;
  return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

bool IsTchar(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c != '\0' && std::strchr("!#$%&'*+-.^_`|~", c) != nullptr);
}

bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!IsTchar(c)) return false;
  }
  return true;
}

void CheckRequest(std::string_view in, const Limits& limits, const Request& req) {
  Check(req.head_size > 0 && req.head_size <= in.size() && req.head_size <= limits.max_head_size);
  Check(in[req.head_size - 1] == '\n');
  std::string_view head = in.substr(0, req.head_size);
  for (std::string_view v : {req.method, req.target, req.path, req.query}) Check(Inside(v, head));
  Check(IsToken(req.method));
  Check(req.target == "*" ? req.method == "OPTIONS" && req.path == "*"
                          : !req.target.empty() && req.target[0] == '/');
  Check(req.target.substr(0, req.path.size()) == req.path);
  if (req.path.size() < req.target.size()) {
    Check(req.target[req.path.size()] == '?');
    Check(req.target.substr(req.path.size() + 1) == req.query);
  } else {
    Check(req.query.empty());
  }
  Check(req.version_minor == 0 || req.version_minor == 1);
  Check(req.num_headers <= instant::http::kMaxHeaders);
  Check(!(req.chunked && req.has_content_length));
  Check(!(req.chunked && req.version_minor == 0));
  bool saw_content_length = false;
  for (size_t i = 0; i < req.num_headers; ++i) {
    const auto& h = req.headers[i];
    Check(Inside(h.name, head) && Inside(h.value, head));
    Check(IsToken(h.name));
    Check(req.Has(h.name));
    if (!h.value.empty()) {
      Check(h.value.front() != ' ' && h.value.front() != '\t');
      Check(h.value.back() != ' ' && h.value.back() != '\t');
    }
    for (char c : h.value) {
      unsigned char u = static_cast<unsigned char>(c);
      Check(u == '\t' || (u >= 0x20 && u != 0x7f));
    }
    saw_content_length |= instant::http::EqualsIgnoreCase(h.name, "content-length");
  }
  Check(saw_content_length == req.has_content_length);
  Check(req.Find("content-length").empty() == !req.has_content_length);
  // Exercise the helpers the server applies to these values; they must merely not crash.
  (void)instant::http::QueryParam(req.query, "api_key");
  (void)instant::http::HeaderHasToken(req.Find("connection"), "upgrade");
}

ParseResult ParseChecked(std::string_view in, const Limits& limits, Request* req) {
  ParseResult r = ParseRequestHead(in, limits, req);
  switch (r.status) {
    case Status::kComplete:
      Check(r.http_status == 0 && r.error == nullptr);
      CheckRequest(in, limits, *req);
      break;
    case Status::kNeedMore:
      Check(in.size() < limits.max_head_size);
      break;
    case Status::kError:
      Check(r.http_status == 400 || r.http_status == 431 || r.http_status == 501 ||
            r.http_status == 505);
      Check(r.error != nullptr && r.error[0] != '\0');
      break;
  }
  return r;
}

// Prefixes of `in`, each in its own heap buffer of exactly that size: all of them for short
// inputs, else those ending next to a CR or LF (plus the whole input).
void CheckPrefixes(std::string_view in, const Limits& limits) {
  bool decided = false;
  ParseResult verdict;
  size_t verdict_head = 0;
  const bool all = in.size() <= kAllPrefixesUpTo;
  for (size_t k = 0; k <= in.size(); ++k) {
    if (!all && k != in.size()) {
      auto near_line_end = [&](size_t i) { return i < in.size() && (in[i] == '\n' || in[i] == '\r'); };
      if (!near_line_end(k) && !(k > 0 && near_line_end(k - 1))) continue;
    }
    std::unique_ptr<char[]> buf(new char[k == 0 ? 1 : k]);
    if (k > 0) std::memcpy(buf.get(), in.data(), k);
    Request req;
    ParseResult r = ParseChecked(std::string_view(buf.get(), k), limits, &req);
    if (!decided) {
      if (r.status == Status::kNeedMore) continue;
      decided = true;
      verdict = r;
      verdict_head = req.head_size;
      continue;
    }
    Check(r.status == verdict.status);
    Check(r.http_status == verdict.http_status);
    if (r.status == Status::kComplete) Check(req.head_size == verdict_head);
  }
}

struct Decoded {
  ChunkedDecoder::Status status;
  std::string body;
  size_t consumed = 0;
};

// Feeds `in` in pieces of `piece` bytes (0 = all at once).
Decoded Decode(std::string_view in, size_t max_body, size_t piece) {
  ChunkedDecoder decoder;
  Decoded d{ChunkedDecoder::Status::kNeedMore, "", 0};
  size_t pos = 0;
  do {
    size_t n = piece == 0 ? in.size() - pos : std::min(piece, in.size() - pos);
    std::string_view chunk = in.substr(pos, n);
    size_t used = 12345;
    d.status = decoder.Feed(chunk, max_body, &d.body, &used);
    Check(used <= chunk.size());
    if (d.status == ChunkedDecoder::Status::kNeedMore) Check(used == chunk.size());
    if (d.status == ChunkedDecoder::Status::kError) {
      Check(decoder.error() != nullptr);
      Check(decoder.error_status() == 400 || decoder.error_status() == 413);
    }
    d.consumed += used;
    pos += n;
    Check(d.body.size() <= max_body);
    Check(decoder.decoded_size() == d.body.size());
  } while (d.status == ChunkedDecoder::Status::kNeedMore && pos < in.size());
  return d;
}

void CheckChunked(std::string_view in) {
  for (size_t max_body : {size_t{64}, size_t{1} << 20}) {
    Decoded whole = Decode(in, max_body, 0);
    for (size_t piece : {size_t{1}, size_t{2}, size_t{7}, size_t{64}}) {
      if (piece == 1 && in.size() > 4096) continue;
      Decoded split = Decode(in, max_body, piece);
      Check(split.status == whole.status);
      Check(split.body == whole.body);
      Check(split.consumed == whole.consumed);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  const Limits default_limits;
  Limits small_limits;
  small_limits.max_head_size = 128;  // so that 431 and the boundary are reached often

  Request req;
  ParseResult r = ParseChecked(in, default_limits, &req);
  if (r.status == Status::kComplete && req.chunked) CheckChunked(in.substr(req.head_size));
  Request small_req;
  ParseChecked(in, small_limits, &small_req);

  if (size <= kLineEndPrefixesUpTo) {
    CheckPrefixes(in, default_limits);
    CheckPrefixes(in, small_limits);
  }
  // The decoder also sees the raw input, so framing bugs are reachable without a valid head.
  CheckChunked(in);
  return 0;
}
