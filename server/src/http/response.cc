#include "http/response.h"

#include "base/json_writer.h"

namespace instant::http {

std::string_view StatusText(int status) {
  switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 416: return "Range Not Satisfiable";
    case 417: return "Expectation Failed";
    case 422: return "Unprocessable Content";
    case 426: return "Upgrade Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "";
  }
}

void AppendResponse(std::string& out, int status, std::string_view content_type,
                    std::string_view body, bool keep_alive, std::string_view extra_headers) {
  if (status < 100 || status > 599) status = 500;
  // No Content-Length and no content for 1xx and 204 (RFC 9110 §8.6, §15.2, §15.3.5).
  const bool bodiless = status < 200 || status == 204;
  std::string_view text = StatusText(status);
  out.reserve(out.size() + 96 + content_type.size() + extra_headers.size() +
              (bodiless ? 0 : body.size()));
  out += "HTTP/1.1 ";
  json::AppendUint(out, static_cast<uint64_t>(status));
  out += ' ';  // SP is required even before an empty reason-phrase (RFC 9112 §4)
  out += text;
  out += "\r\n";
  if (!content_type.empty()) {
    out += "Content-Type: ";
    out += content_type;
    out += "\r\n";
  }
  if (!bodiless) {
    out += "Content-Length: ";
    json::AppendUint(out, body.size());
    out += "\r\n";
  }
  if (!keep_alive) out += "Connection: close\r\n";
  out += extra_headers;
  out += "\r\n";
  if (!bodiless) out += body;
}

void AppendJsonError(std::string& out, int status, std::string_view message, bool keep_alive) {
  std::string body;
  body.reserve(message.size() + 14);
  body += "{\"error\":";
  json::AppendString(body, message);
  body += '}';
  AppendResponse(out, status, "application/json", body, keep_alive);
}

}  // namespace instant::http
