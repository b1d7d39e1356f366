#include "http/response.h"

#include <gtest/gtest.h>

#include <string>

namespace instant::http {
namespace {

TEST(StatusText, KnownAndUnknown) {
  EXPECT_EQ(StatusText(200), "OK");
  EXPECT_EQ(StatusText(101), "Switching Protocols");
  EXPECT_EQ(StatusText(400), "Bad Request");
  EXPECT_EQ(StatusText(401), "Unauthorized");
  EXPECT_EQ(StatusText(404), "Not Found");
  EXPECT_EQ(StatusText(405), "Method Not Allowed");
  EXPECT_EQ(StatusText(413), "Content Too Large");
  EXPECT_EQ(StatusText(431), "Request Header Fields Too Large");
  EXPECT_EQ(StatusText(501), "Not Implemented");
  EXPECT_EQ(StatusText(503), "Service Unavailable");
  EXPECT_EQ(StatusText(505), "HTTP Version Not Supported");
  EXPECT_EQ(StatusText(599), "");
  EXPECT_EQ(StatusText(-1), "");
}

TEST(AppendResponse, KeepAlive) {
  std::string out;
  AppendResponse(out, 200, "application/json", "{\"result\":{}}", true);
  EXPECT_EQ(out,
            "HTTP/1.1 200 OK\r\n"
            "Content-Type: application/json\r\n"
            "Content-Length: 13\r\n"
            "\r\n"
            "{\"result\":{}}");
}

TEST(AppendResponse, CloseAndExtraHeaders) {
  std::string out;
  AppendResponse(out, 405, "text/plain", "", false, "Allow: POST\r\nX-A: b\r\n");
  EXPECT_EQ(out,
            "HTTP/1.1 405 Method Not Allowed\r\n"
            "Content-Type: text/plain\r\n"
            "Content-Length: 0\r\n"
            "Connection: close\r\n"
            "Allow: POST\r\nX-A: b\r\n"
            "\r\n");
}

TEST(AppendResponse, AppendsForPipelining) {
  std::string out = "previous";
  AppendResponse(out, 401, "", "", true);
  EXPECT_EQ(out, "previousHTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n");
}

TEST(AppendResponse, NoContentLengthFor1xxAnd204) {
  std::string out;
  AppendResponse(out, 204, "", "ignored", true);
  EXPECT_EQ(out, "HTTP/1.1 204 No Content\r\n\r\n");
  out.clear();
  AppendResponse(out, 101, "", "", true,
                 "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                 "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n");
  EXPECT_EQ(out,
            "HTTP/1.1 101 Switching Protocols\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
            "\r\n");
}

TEST(AppendResponse, UnknownAndInvalidStatus) {
  std::string out;
  AppendResponse(out, 299, "", "x", true);
  EXPECT_EQ(out, "HTTP/1.1 299 \r\nContent-Length: 1\r\n\r\nx");
  out.clear();
  AppendResponse(out, 42, "", "", true);
  EXPECT_EQ(out, "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n");
}

TEST(AppendJsonError, EscapesMessage) {
  std::string out;
  AppendJsonError(out, 400, "bad \"header\"\n\\", false);
  const std::string body = "{\"error\":\"bad \\\"header\\\"\\n\\\\\"}";
  EXPECT_EQ(out, "HTTP/1.1 400 Bad Request\r\n"
                 "Content-Type: application/json\r\n"
                 "Content-Length: " + std::to_string(body.size()) + "\r\n"
                 "Connection: close\r\n"
                 "\r\n" + body);
}

TEST(AppendJsonError, KeepAlive) {
  std::string out;
  AppendJsonError(out, 404, "not found", true);
  EXPECT_EQ(out, "HTTP/1.1 404 Not Found\r\n"
                 "Content-Type: application/json\r\n"
                 "Content-Length: 21\r\n"
                 "\r\n"
                 "{\"error\":\"not found\"}");
}

}  // namespace
}  // namespace instant::http
