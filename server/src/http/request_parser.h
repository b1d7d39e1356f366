#pragma once
// HTTP/1.x request-head parser (RFC 9112). Stateless and allocation-free: it re-reads the head
// from the start of the buffer on every call and fills a Request with string_views into it, so
// the caller just calls again once more bytes have arrived. Re-reading costs little because
// heads are small and bounded by Limits::max_head_size.
//
// Strict wherever laxness enables request smuggling or header injection behind a proxy, lenient
// only where the RFC allows it and no framing decision depends on it:
//   * request-line = method SP request-target SP HTTP-version, single SPs (RFC 9112 §3);
//     method is a token (RFC 9110 §5.6.2); request-target is origin-form (starts with '/') or
//     "*" with OPTIONS (RFC 9112 §3.2.1, §3.2.4), no CTL, SP or DEL; absolute-form and
//     authority-form are refused with 400 (we are an origin server, not a proxy).
//   * HTTP-version is case-sensitive "HTTP/" DIGIT "." DIGIT (RFC 9112 §2.3): major != 1 -> 505,
//     anything else malformed -> 400. HTTP/1.2-1.9 are treated as 1.1 (RFC 9110 §6.2).
//   * Lines end in CRLF or a bare LF (RFC 9112 §2.2); a bare CR anywhere else -> 400.
//     Empty lines before the request line are skipped (RFC 9112 §2.2) and count in head_size.
//   * field-line = field-name ":" OWS field-value OWS: the name is a token with no whitespace
//     before ':' (RFC 9112 §5.1), obs-fold (a line starting with SP/HTAB) is refused (§5.2),
//     values hold no CTL other than HTAB and no DEL (RFC 9110 §5.5). All -> 400.
//   * More than one Host line -> 400 (RFC 9112 §3.2). A missing Host is tolerated.
//   * Content-Length is 1*DIGIT without overflow, and every copy carries the same value
//     (RFC 9112 §6.3 item 5) -> else 400.
//   * Transfer-Encoding (RFC 9112 §6.1, §6.3): together with Content-Length -> 400; in an
//     HTTP/1.0 request -> 400; on more than one line -> 400; "chunked" not as the final coding
//     (or twice) -> 400; exactly "chunked" (case-insensitive) -> Request::chunked; any other
//     coding list -> 501.
//   * More than kMaxHeaders field lines -> 431. A head that has not ended within
//     Limits::max_head_size bytes -> 431 (a head of exactly max_head_size bytes is accepted).
//
// Errors are reported as soon as the line that carries them is complete, so garbage (a TLS
// ClientHello on the plain port, say) is refused at once rather than after max_head_size bytes;
// the method of a still-incomplete first line is checked too. The verdict never changes as more
// data arrives: once kError or kComplete, calling again with a longer buffer gives the same
// status (and the same head_size).

#include <string_view>

#include "http/request.h"

namespace instant::http {

// Parses the request head at the start of `data`:
//   kComplete: *out is filled; the body or the next request starts at data + out->head_size.
//   kNeedMore: no blank line yet and fewer than limits.max_head_size bytes; call again with
//              the same bytes plus more. *out is unspecified.
//   kError:    http_status and error say why; the connection should answer and close.
//              *out is unspecified.
ParseResult ParseRequestHead(std::string_view data, const Limits& limits, Request* out);

}  // namespace instant::http
