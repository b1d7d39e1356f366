#include "node/connection.h"

#include <algorithm>
#include <string>

#include "api/api.h"
#include "base/log.h"
#include "config/config.h"
#include "http/chunked.h"
#include "http/request.h"
#include "http/request_parser.h"
#include "http/response.h"
#include "http/util.h"
#include "node/metrics.h"
#include "node/node.h"
#include "ws/frame.h"
#include "ws/handshake.h"

namespace instant::node {
namespace {
constexpr int64_t kCloseHandshakeMs = 5000;  // wait this long for the peer's close, then drop TCP
// An HTTP keep-alive connection with no request in progress is closed after this long (nginx's
// keepalive_timeout default); a request in progress must complete within handshake_timeout.
constexpr int64_t kHttpIdleMs = 75000;
}  // namespace

// Memory per idle connection is a product figure (S1: at most 1 KB, with the subscription and the
// allocator's overhead). The object is most of it; a member that allocates when constructed (a
// std::deque does) adds to it unseen here, so keep the members lazy.
static_assert(sizeof(Connection) <= 704, "a connection grew: measure S1 (bench/suite.sh) before raising this");

Connection::Connection(Worker* worker, int fd)
    : net::Conn(&worker->loop(), fd), client::Session(&worker->services(), this), worker_(worker) {
  opened_ms_ = worker->loop().now_ms();
  last_request_ms_ = opened_ms_;
  set_flush_first(true);  // HTTP replies first; cleared once the connection becomes a WebSocket
  // Pipelined HTTP requests from a peer that does not read its responses: the same bound as a
  // WebSocket client's queue.
  set_max_backlog(worker->node()->config().client_queue_max_size);
}

size_t Connection::OnRead(char* data, size_t size) {
  if (awaiting_response_) {
    // Pipelined requests wait for the pending answer; a client that floods meanwhile is cut off.
    const config::Config& cfg = worker_->node()->config();
    if (size > 4 * (cfg.api_max_body_size + cfg.http_max_header_size)) Close();
    return 0;
  }
  size_t pos = 0;
  while (pos < size && mode_ == Mode::kHttp && !closed() && !closing() && !awaiting_response_) {
    size_t used = HandleRequest(data + pos, size - pos);
    if (used == 0) break;
    pos += used;
    last_request_ms_ = loop()->now_ms();
  }
  if (mode_ == Mode::kHttp && !closed() && !closing()) {
    // A request in progress (head or body incomplete) must complete within handshake_timeout,
    // counted from its first byte (OnTick).
    if (pos < size && !awaiting_response_) {
      if (pos > 0 || partial_since_ms_ == 0) partial_since_ms_ = loop()->now_ms();
    } else {
      partial_since_ms_ = 0;
    }
  }
  if (mode_ == Mode::kWebSocket && pos < size && !closed() && !closing()) {
    pos += ReadWebSocket(data + pos, size - pos);
  }
  return closed() || closing() ? size : pos;
}

void Connection::BeginClosing() {
  if (closing() || closed()) return;
  closing_since_ms_ = loop()->now_ms();
  CloseAfterFlush();
}

size_t Connection::HandleRequest(char* data, size_t size) {
  const config::Config& cfg = worker_->node()->config();
  std::string_view view(data, size);
  http::Request req;
  http::Limits limits;
  limits.max_head_size = cfg.http_max_header_size;
  http::ParseResult pr = http::ParseRequestHead(view, limits, &req);
  if (pr.status == http::ParseResult::Status::kNeedMore) return 0;
  std::string out;
  if (pr.status == http::ParseResult::Status::kError) {
    http::AppendJsonError(out, pr.http_status, pr.error ? pr.error : "bad request", false);
    Write(out);
    BeginClosing();
    return size;
  }
  served_request_ = true;
  const bool keep_alive = req.keep_alive;

  // WebSocket upgrade (spec §1.1).
  if (req.path == "/connection/websocket") {
    ws::UpgradeRequest u;
    u.method = req.method;
    u.http_minor = req.version_minor;
    u.host = req.Find("Host");
    u.upgrade = req.Find("Upgrade");
    u.connection = req.Find("Connection");
    u.sec_key = req.Find("Sec-WebSocket-Key");
    u.sec_version = req.Find("Sec-WebSocket-Version");
    u.sec_protocol = req.Find("Sec-WebSocket-Protocol");
    u.has_origin = req.Has("Origin");
    u.origin = req.Find("Origin");
    ws::HandshakeResult hs = ws::CheckUpgrade(u, worker_->node()->origins());
    // Protocol version from the URL (spec §1.5); otherwise sniffed from the first message.
    const std::string forced = http::QueryParam(req.query, "cf_protocol_version").value_or("");
    if (hs.ok && !forced.empty() && forced != "v1" && forced != "v2") {
      hs.ok = false;
      hs.status = 400;
      hs.reason = "cf_protocol_version must be v1 or v2";
    }
    if (!hs.ok) {
      worker_->node()->counters().ws_refused.fetch_add(1, std::memory_order_relaxed);
      log::Info(log::With{{"origin", u.has_origin ? u.origin : std::string_view("(none)")}},
                "websocket upgrade refused ({}): {}", hs.status, hs.reason);
      ws::AppendRejectResponse(out, hs);
      Write(out);
      BeginClosing();
      return size;
    }
    if (!forced.empty()) SetVersion(forced == "v1" ? protocol::Version::kV1 : protocol::Version::kV2);
    ws::AppendAcceptResponse(out, u.sec_key, hs.subprotocol);
    Write(out);
    EnableFraming();  // a slow client's queue is dropped on frame boundaries (DropSlow)
    mode_ = Mode::kWebSocket;
    worker_->node()->counters().ws_upgrades.fetch_add(1, std::memory_order_relaxed);
    set_flush_first(false);
    set_max_backlog(cfg.client_queue_max_size);
    return req.head_size;
  }

  // Request body (API): Content-Length or chunked, bounded by api_max_body_size.
  std::string chunked_body;
  std::string_view body;
  size_t total = req.head_size;
  if (req.chunked) {
    // The decoder keeps its state between reads: each byte of the body is decoded once, however
    // small the pieces it arrives in (the bytes stay unconsumed, at the same place, meanwhile).
    size_t consumed = 0;
    auto st = chunked_.Feed(view.substr(req.head_size + chunked_fed_), cfg.api_max_body_size, &chunked_body_,
                            &consumed);
    chunked_fed_ += consumed;
    if (st == http::ChunkedDecoder::Status::kNeedMore) return 0;
    if (st == http::ChunkedDecoder::Status::kError) {
      const int status = chunked_.error_status();
      http::AppendJsonError(out, status,
                            status == 413 ? "request body larger than api_max_body_size (" +
                                                std::to_string(cfg.api_max_body_size) + " bytes)"
                                          : std::string("malformed chunked body: ") + chunked_.error(),
                            false);
      Write(out);
      BeginClosing();
      return size;
    }
    chunked_body.swap(chunked_body_);
    body = chunked_body;
    total += chunked_fed_;
    chunked_.Reset();
    chunked_body_.clear();
    chunked_fed_ = 0;
  } else if (req.has_content_length) {
    if (req.content_length > cfg.api_max_body_size) {
      http::AppendJsonError(out, 413,
                            "request body larger than api_max_body_size (" +
                                std::to_string(cfg.api_max_body_size) + " bytes)",
                            false);
      Write(out);
      BeginClosing();
      return size;
    }
    if (size - req.head_size < req.content_length) return 0;
    body = view.substr(req.head_size, req.content_length);
    total += req.content_length;
  }

  if (req.path == "/api" || req.path.substr(0, 5) == "/api/") {
    api::Context& ctx = worker_->api();
    ctx.now_unix = loop()->unix_now();
    ctx.now_ms = loop()->now_ms();
    awaiting_response_ = true;
    in_request_ = true;
    if (!alive_token_) alive_token_ = std::make_shared<char>();
    api::HandleHttp(ctx, req, body, keep_alive,
                    [this, alive = std::weak_ptr<char>(alive_token_), keep_alive](std::string response) {
                      if (alive.expired()) return;
                      FinishResponse(std::move(response), keep_alive);
                    });
    in_request_ = false;
    return total;
  } else if (req.path == "/health") {
    if (worker_->node()->engine_available()) {
      http::AppendResponse(out, 200, "application/json", "{}", keep_alive);
    } else {
      http::AppendJsonError(out, 503, "engine unavailable: the node cannot reach Redis", keep_alive);
    }
  } else if (req.path == "/metrics" && cfg.prometheus) {
    std::string body;
    AppendMetrics(body, *worker_->node(), loop()->unix_now());
    http::AppendResponse(out, 200, "text/plain; version=0.0.4; charset=utf-8", body, keep_alive);
  } else if (req.path == "/metrics") {
    http::AppendJsonError(out, 404, "metrics are off: set \"prometheus\": true in the config", keep_alive);
  } else {
    http::AppendJsonError(out, 404, "not found: " + std::string(req.path.substr(0, 200)), keep_alive);
  }
  Write(out);
  if (!keep_alive) BeginClosing();
  return total;
}

void Connection::FinishResponse(std::string response, bool keep_alive) {
  awaiting_response_ = false;
  if (closed() || closing()) return;
  Write(response);
  if (!keep_alive) {
    BeginClosing();
    return;
  }
  if (!in_request_) ResumeInput();  // answered later: the requests that waited go on now
}

size_t Connection::ReadWebSocket(char* data, size_t size) {
  const uint64_t limit = worker_->node()->config().websocket_message_size_limit;
  size_t pos = 0;
  while (pos < size) {
    ws::DecodeResult r = ws::DecodeClientFrame(data + pos, size - pos, limit);
    if (r.status == ws::DecodeResult::Status::kNeedMore) break;
    if (r.status == ws::DecodeResult::Status::kError) {
      WsClose(r.close_code, r.error ? r.error : "protocol error");
      return size;
    }
    pos += r.consumed;
    ws::MessageAssembler::Event ev = assembler_.Feed(r.frame, limit);
    switch (ev.kind) {
      case ws::MessageAssembler::Kind::kNone:
      case ws::MessageAssembler::Kind::kPong:
        break;
      case ws::MessageAssembler::Kind::kText:
        Session::OnMessage(ev.data);
        if (closed() || closing()) return size;
        break;
      case ws::MessageAssembler::Kind::kBinary:
        WsClose(ws::close_code::kUnsupportedData, "binary messages are not supported (JSON protocol)");
        return size;
      case ws::MessageAssembler::Kind::kPing: {
        std::string pong;
        ws::AppendFrame(pong, ws::Opcode::kPong, ev.data);
        Write(pong);
        break;
      }
      case ws::MessageAssembler::Kind::kClose:
        // Echo the peer's code (RFC 6455 §5.5.1), then let it close the TCP connection.
        WsClose(ev.close_code == 1005 ? ws::close_code::kNormal : ev.close_code, "");
        return size;
      case ws::MessageAssembler::Kind::kError:
        WsClose(ev.close_code, ev.error ? ev.error : "protocol error");
        return size;
    }
  }
  if (assembler_.idle() && pos == size) assembler_.Clear();
  return pos;
}

void Connection::WsClose(uint16_t code, std::string_view reason) {
  Session::OnTransportClosed();
  CloseTransport(code, reason, CloseMode::kAfterQueued);
}

void Connection::SendLines(std::string_view lines) {
  char header[10];
  size_t n = ws::EncodeHeader(header, ws::Opcode::kText, lines.size());
  Write(std::string_view(header, n));
  Write(lines);
}

void Connection::CloseTransport(uint16_t code, std::string_view reason, CloseMode mode) {
  if (closing() || closed()) return;
  if (mode_ == Mode::kWebSocket) {
    std::string frame;
    ws::AppendClose(frame, code, reason);
    if (mode == CloseMode::kDropQueued) {
      closing_since_ms_ = loop()->now_ms();
      CloseDroppingQueued(frame);
      return;
    }
    Write(frame);
  }
  BeginClosing();
}

size_t Connection::FrameSizeAt(const char* data, size_t size) {
  return static_cast<size_t>(std::min<uint64_t>(ws::ServerFrameSize(data, size), size));
}

void Connection::SendTransportPing() {
  std::string frame;
  ws::AppendFrame(frame, ws::Opcode::kPing, "");
  Write(frame);
}

void Connection::OnClose() {
  Session::OnTransportClosed();
  worker_->Forget(this);
}

void Connection::OnBacklogExceeded() {
  // The peer does not read fast enough (client_queue_max_size).
  if (mode_ == Mode::kHttp) {
    // No close frame to send (pipelined requests whose responses are not read): drop TCP.
    log::Info("closing an HTTP connection that does not read its responses, {} bytes queued", queued_bytes());
    worker_->node()->counters().slow_drops.fetch_add(1, std::memory_order_relaxed);
    Close();
    return;
  }
  log::Info(log::With{{"client", client_id()}, {"user", user()}},
            "disconnecting slow client (3008): {} bytes queued, over client_queue_max_size", queued_bytes());
  DropSlow(protocol::disconnect::kSlow);
}

void Connection::DropSlow(const protocol::Disconnect& d) {
  // Once per client: CloseTransport makes the connection closing(), and callers check that.
  worker_->node()->counters().slow_drops.fetch_add(1, std::memory_order_relaxed);
  // The client reconnects (3008 and 3009 are not terminal) and recovers what it missed. A full
  // socket may not take the close frame either: OnTick bounds the wait.
  Session::Disconnect(d, CloseMode::kDropQueued);
  if (!closing()) Close();  // the session had already ended: nothing left to say
}

void Connection::OnTick() {
  if (closed()) return;
  const int64_t now = loop()->now_ms();
  const config::Config& cfg = worker_->node()->config();
  // websocket_write_timeout: a client whose socket took nothing for that long has stopped reading.
  const int64_t stalled = write_stalled_since_ms();
  const int64_t write_timeout = cfg.websocket_write_timeout.count();
  const bool write_stalled =
      mode_ == Mode::kWebSocket && write_timeout > 0 && stalled != 0 && now - stalled >= write_timeout;
  if (closing()) {
    // The grace of a closing WebSocket: its close frame must leave (the socket taking bytes at
    // least every websocket_write_timeout) and the peer answer within kCloseHandshakeMs in all.
    if (now - closing_since_ms_ >= kCloseHandshakeMs || write_stalled) Close();
    return;
  }
  if (mode_ == Mode::kHttp) {
    if (awaiting_response_) return;  // the engine answers; the request is complete
    const int64_t timeout = cfg.handshake_timeout.count();
    if (!served_request_ && now - opened_ms_ >= timeout) {
      Close();
    } else if (partial_since_ms_ != 0 && now - partial_since_ms_ >= timeout) {
      log::Info("closing an HTTP connection whose request did not complete within handshake_timeout");
      Close();
    } else if (partial_since_ms_ == 0 && now - last_request_ms_ >= kHttpIdleMs) {
      Close();  // idle keep-alive
    }
    return;
  }
  // A stalled client is closed like a slow one, with 3009 "write error" (spec §4.2: Centrifugo's
  // code for its write timeout), even under client_queue_max_size.
  if (write_stalled) {
    log::Info(log::With{{"client", client_id()}, {"user", user()}},
              "disconnecting (3009): its socket took nothing for {} ms (websocket_write_timeout), {} bytes queued",
              now - stalled, queued_bytes());
    DropSlow(protocol::disconnect::kWriteError);
    return;
  }
  Session::OnTick();
}

void Connection::Shutdown() {
  if (closed() || closing()) return;
  if (mode_ == Mode::kWebSocket) {
    Session::Disconnect(protocol::disconnect::kShutdown);
  } else if (queued_bytes() == 0) {
    Close();  // an idle keep-alive HTTP connection: nothing to finish, do not wait for the peer
  } else {
    BeginClosing();
  }
}

}  // namespace instant::node
