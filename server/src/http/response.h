#pragma once
// Serialisation of the few response shapes the server sends (RFC 9112 §4, §6). Appends to a
// caller-owned buffer so that pipelined responses share one write.

#include <string>
#include <string_view>

namespace instant::http {

// Reason phrase for `status` as registered in RFC 9110 §15 ("OK", "Bad Request",
// "Content Too Large", ...), or RFC 6585 for 429/431. "" for codes we never send: the
// reason-phrase may be empty (RFC 9112 §4).
std::string_view StatusText(int status);

// Appends
//   "HTTP/1.1 <status> <text>\r\n"
//   "Content-Type: <content_type>\r\n"      (omitted if content_type is empty)
//   "Content-Length: <body size>\r\n"
//   "Connection: close\r\n"                 (only if !keep_alive)
//   <extra_headers>                         (zero or more complete "Name: value\r\n" lines)
//   "\r\n" <body>
// For 1xx and 204 there is no Content-Length and no body, as RFC 9110 §8.6 / §15.3.5 require;
// `body` is then ignored. A status outside 100..599 is a programming error and is sent as 500.
// All arguments are trusted: content_type and extra_headers must not contain CR/LF except as
// the line ends described above.
// Persistence is HTTP/1.1's default; to keep an HTTP/1.0 client's connection open the caller
// must add "Connection: keep-alive\r\n" to extra_headers (RFC 9112 §9.3).
void AppendResponse(std::string& out, int status, std::string_view content_type,
                    std::string_view body, bool keep_alive, std::string_view extra_headers = {});

// Appends a response with body {"error":"<message>"} (message JSON-escaped) and
// Content-Type: application/json — what the server answers to malformed HTTP input.
void AppendJsonError(std::string& out, int status, std::string_view message, bool keep_alive);

}  // namespace instant::http
