#pragma once
// Connection: one accepted socket. It starts as HTTP/1.1 (API requests with keep-alive and
// pipelining, /health, or the WebSocket upgrade) and, once upgraded, carries WebSocket frames to
// its client::Session. One allocation holds the socket state, the WebSocket reassembly state and
// the session (DESIGN.md decision 3: session state in one allocation).
//
// Threading: lives on one loop; all methods run on that loop's thread.
// Lifetime: created by Worker on accept, destroyed by the loop at the end of the iteration in which
// it closed; Worker::Forget() is called from OnClose().

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "client/session.h"
#include "http/chunked.h"
#include "net/conn.h"
#include "ws/message_assembler.h"

namespace instant::node {

class Worker;

class Connection final : public net::Conn, public client::Session {
 public:
  Connection(Worker* worker, int fd);

  // About once a second: handshake timeout, close-handshake deadline, then the session's timers.
  void OnTick();
  // Graceful shutdown: WebSocket clients get the "shutdown" disconnect; idle HTTP connections close.
  void Shutdown();

  uint32_t slot = 0;  // index in Worker's connection list (maintained by Worker)

 protected:
  size_t OnRead(char* data, size_t size) override;
  void OnClose() override;
  // A WebSocket client over client_queue_max_size is closed with 3008 "slow" (DropSlow); an HTTP
  // peer that does not read its responses is dropped.
  void OnBacklogExceeded() override;
  size_t FrameSizeAt(const char* data, size_t size) override;

  void SendLines(std::string_view lines) override;
  void CloseTransport(uint16_t code, std::string_view reason, CloseMode mode) override;
  void SendTransportPing() override;

 private:
  enum class Mode : uint8_t { kHttp, kWebSocket };

  size_t ReadHttp(char* data, size_t size);
  size_t ReadWebSocket(char* data, size_t size);
  // Returns bytes consumed by one complete request (0 = need more; the connection may close).
  size_t HandleRequest(char* data, size_t size);
  void WsClose(uint16_t code, std::string_view reason);
  void BeginClosing();
  // A WebSocket client that cannot keep up (3008 slow, 3009 write error): counted once, its
  // queue dropped behind the frame in progress, then the close frame, then a bounded grace
  // (OnTick: websocket_write_timeout without progress, kCloseHandshakeMs in all).
  void DropSlow(const protocol::Disconnect& d);

  Worker* worker_;
  Mode mode_ = Mode::kHttp;
  bool served_request_ = false;
  int64_t opened_ms_ = 0;
  int64_t closing_since_ms_ = 0;
  ws::MessageAssembler assembler_;
  // An API request whose answer comes later (engine/engine.h): later pipelined requests wait in
  // the unconsumed input until it is written, so responses keep the order of the requests.
  bool awaiting_response_ = false;
  int64_t last_request_ms_ = 0;   // when the last complete request was read
  int64_t partial_since_ms_ = 0;  // first byte of the request in progress; 0 = none
  // A chunked request body being received: decoded incrementally across reads.
  http::ChunkedDecoder chunked_;
  std::string chunked_body_;
  size_t chunked_fed_ = 0;  // body bytes (after the head) already fed to chunked_
  bool in_request_ = false;  // HandleRequest is on the stack
  // Late API answers hold a weak_ptr: one arriving after the connection died does nothing. Made
  // by the first API request: WebSocket connections never need one (an allocation less each).
  std::shared_ptr<char> alive_token_;

  // Writes an API response (now, or later when the engine answered later).
  void FinishResponse(std::string response, bool keep_alive);
};

}  // namespace instant::node
