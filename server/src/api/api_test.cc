// api::HandleHttp end to end on a memory engine, answering at once or later (engine::DeferredEngine,
// the Redis engine's timing): replies, their order, 400 answers, one response per request.

#include "api/api.h"

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "config/config.h"
#include "engine/deferred_engine.h"
#include "engine/memory_engine.h"
#include "http/request_parser.h"

namespace instant::api {
namespace {

// Records what reaches subscribers: publication data, in delivery order.
class Recorder final : public engine::LocalDelivery {
 public:
  void DeliverLocal(const engine::Publication& pub) override {
    delivered.push_back(std::string(pub.channel) + " " + std::string(pub.data));
  }
  void DeliverJoinLeave(const engine::JoinLeave&) override {}
  std::vector<std::string> delivered;
};

class ApiTest : public ::testing::TestWithParam<bool> {
 protected:
  ApiTest() {
    cfg_.api_key = "k";
    config::Namespace ns;
    ns.name = "hist";
    ns.options.history_size = 10;
    ns.options.history_ttl = std::chrono::seconds(60);
    cfg_.namespaces.push_back(ns);
    auto memory = std::make_unique<engine::MemoryEngine>(&recorder_);
    if (deferred()) {
      engine_ = std::make_unique<engine::DeferredEngine>(std::move(memory),
                                                         [this](std::function<void()> fn) { posted_.push_back(std::move(fn)); });
    } else {
      engine_ = std::move(memory);
    }
    ctx_.config = &cfg_;
    ctx_.engine = engine_.get();
  }

  bool deferred() const { return GetParam(); }

  // The responses to one request, after every deferred engine answer ran (one turn at a time).
  std::vector<std::string> Post(std::string_view path, std::string_view body) {
    head_ = "POST " + std::string(path) + " HTTP/1.1\r\nHost: x\r\nX-API-Key: k\r\nContent-Length: " +
            std::to_string(body.size()) + "\r\n\r\n";
    http::Request req;
    EXPECT_EQ(http::ParseRequestHead(head_, http::Limits{}, &req).status, http::ParseResult::Status::kComplete);
    std::vector<std::string> responses;
    HandleHttp(ctx_, req, body, true, [&responses](std::string r) { responses.push_back(std::move(r)); });
    answered_at_once_ = !responses.empty();
    while (!posted_.empty()) {
      std::function<void()> fn = std::move(posted_.front());
      posted_.pop_front();
      fn();
    }
    return responses;
  }

  // The body of the single response, which must have `status`.
  std::string Body(const std::vector<std::string>& responses, int status) {
    EXPECT_EQ(responses.size(), 1u);
    if (responses.size() != 1) return "";
    const std::string& r = responses[0];
    EXPECT_EQ(r.rfind("HTTP/1.1 " + std::to_string(status) + " ", 0), 0u) << r;
    size_t blank = r.find("\r\n\r\n");
    return blank == std::string::npos ? "" : r.substr(blank + 4);
  }

  config::Config cfg_;
  Recorder recorder_;
  std::unique_ptr<engine::Engine> engine_;
  std::deque<std::function<void()>> posted_;
  Context ctx_;
  std::string head_;
  bool answered_at_once_ = false;
};

TEST_P(ApiTest, SinglePublish) {
  EXPECT_EQ(Body(Post("/api/publish", R"({"channel":"a","data":{"x":"y"}})"), 200), R"({"result":{}})");
  EXPECT_EQ(answered_at_once_, !deferred());
  EXPECT_EQ(recorder_.delivered, std::vector<std::string>{R"(a {"x":"y"})"});
  EXPECT_EQ(Body(Post("/api/publish", R"({"channel":"hist:a","data":1})"), 200).substr(0, 22),
            R"({"result":{"offset":1,)");
  EXPECT_EQ(Body(Post("/api/publish", R"({"channel":"a"})"), 200),
            R"({"error":{"code":107,"message":"data required"}})");
  EXPECT_EQ(Body(Post("/api/publish", R"({"channel":"a","data":[1,]})"), 400),
            R"({"error":"request body is not valid JSON"})");
  EXPECT_EQ(Body(Post("/api/publish", "[1]"), 400),
            R"({"error":"request body must be a JSON object of the method's params"})");
  EXPECT_EQ(Body(Post("/api/nosuch", "{}"), 404), R"({"error":{"code":104,"message":"method not found"}})");
  EXPECT_EQ(recorder_.delivered.size(), 2u);
}

TEST_P(ApiTest, BatchRepliesInOrderWithErrorsInPlace) {
  const std::string body = R"({"commands":[)"
                           R"({"publish":{"channel":"a","data":1}},)"
                           R"({"publish":{"channel":"","data":2}},)"
                           R"({"nosuch":{}},)"
                           R"({"publish":{"channel":"hist:b","data":3}},)"
                           R"({"publish":{"channel":"a"}},)"
                           R"({"history":{"channel":"hist:b","limit":0}},)"
                           R"({"broadcast":{"channels":["a","hist:b"],"data":4}},)"
                           R"({"publish":{"channel":"a","data":{"last":true}}}]})";
  const std::string reply = Body(Post("/api/batch", body), 200);
  // Offsets of hist:b: 1 (command 4), 2 (the broadcast); epochs vary, so compare around them.
  EXPECT_EQ(reply.rfind(R"({"replies":[{"publish":{}},{"error":{"code":107,"message":"channel required"}},)"
                        R"({"error":{"code":104,"message":"method not found"}},{"publish":{"offset":1,"epoch":")",
                        0),
            0u)
      << reply;
  EXPECT_NE(reply.find(R"("}},{"error":{"code":107,"message":"data required"}},{"history":{"publications":[],"offset":1,)"),
            std::string::npos)
      << reply;
  EXPECT_NE(reply.find(R"({"broadcast":{"responses":[{"result":{}},{"result":{"offset":2,"epoch":")"),
            std::string::npos)
      << reply;
  EXPECT_TRUE(reply.ends_with(R"("}}]}},{"publish":{}}]})")) << reply;
  EXPECT_EQ(recorder_.delivered,
            (std::vector<std::string>{"a 1", "hist:b 3", "a 4", "hist:b 4", R"(a {"last":true})"}));
}

TEST_P(ApiTest, MalformedBatchIsOne400) {
  for (const char* body : {"[]", "nope", R"({"commands":{}})", R"({"commands":[1]})",
                           R"({"commands":[{"publish":{"channel":"a","data":tru}}]})"}) {
    const std::string reply = Body(Post("/api/batch", body), 400);
    EXPECT_EQ(reply.rfind(R"({"error":")", 0), 0u) << body << " -> " << reply;
  }
  EXPECT_TRUE(recorder_.delivered.empty());
  EXPECT_EQ(Body(Post("/api/batch", ""), 200), R"({"replies":[]})");
}

TEST_P(ApiTest, LargeBatchRunsWithoutRecursion) {
  // Answered at once, 20,000 commands run as a loop (a recursion would overflow the stack of an
  // ASan build); answered later, one engine turn each.
  std::string body = R"({"commands":[)";
  for (int i = 0; i < 20000; ++i) body += std::string(i > 0 ? "," : "") + R"({"publish":{"channel":"a","data":)" + std::to_string(i) + "}}";
  body += "]}";
  const std::string reply = Body(Post("/api/batch", body), 200);
  EXPECT_EQ(reply.size(), std::string(R"({"replies":[]})").size() + 20000 * std::string(R"({"publish":{}})").size() + 19999);
  ASSERT_EQ(recorder_.delivered.size(), 20000u);
  for (int i = 0; i < 20000; ++i) ASSERT_EQ(recorder_.delivered[i], "a " + std::to_string(i));
}

TEST_P(ApiTest, LegacyLinesInOrder) {
  const std::string body = "{\"method\":\"publish\",\"params\":{\"channel\":\"a\",\"data\":1},\"id\":7}\n"
                           "{\"method\":\"publish\",\"params\":{\"channel\":\"\",\"data\":2}}\r\n"
                           "{\"params\":{\"channel\":\"a\",\"data\":[3]}}\n";
  EXPECT_EQ(Body(Post("/api", body), 200),
            "{\"id\":7,\"result\":{}}\n{\"error\":{\"code\":107,\"message\":\"channel required\"}}\n{\"result\":{}}");
  EXPECT_EQ(recorder_.delivered, (std::vector<std::string>{"a 1", "a [3]"}));
  EXPECT_EQ(Body(Post("/api", "{\"method\":\"publish\"} x\n"), 400), R"({"error":"command 1 is not valid JSON"})");
}

TEST_P(ApiTest, RefusedWithoutTheKey) {
  head_ = "POST /api/batch HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n";
  http::Request req;
  ASSERT_EQ(http::ParseRequestHead(head_, http::Limits{}, &req).status, http::ParseResult::Status::kComplete);
  std::vector<std::string> responses;
  HandleHttp(ctx_, req, "{}", true, [&responses](std::string r) { responses.push_back(std::move(r)); });
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].rfind("HTTP/1.1 401 ", 0), 0u);
}

INSTANTIATE_TEST_SUITE_P(Engine, ApiTest, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& info) { return info.param ? "Later" : "AtOnce"; });

}  // namespace
}  // namespace instant::api
