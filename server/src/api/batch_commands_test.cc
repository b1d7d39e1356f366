#include "api/batch_commands.h"

#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "api/json_params.h"

namespace instant::api {
namespace {

// Params texts of one publish command, tricky ones included: each error a publish can answer,
// escapes, lone surrogates (valid JSON that simdjson cannot unescape), every kind of data.
const std::vector<std::string> kPublishParams = {
    R"({"channel":"a","data":{"x":1}})",
    R"({"channel":"a","data":{"ts":0,"pad":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}})",
    R"( { "channel" : "a" , "data" : [ 1 , 2 ] } )",
    R"({"data":"s","channel":"b"})",
    R"({"channel":"a","data":1e400})",
    R"({"channel":"a","data":123456789012345678901234567890})",
    R"({"channel":"a","data":"\ud800"})",
    R"({"channel":"a","data":true})",
    R"({"channel":"a","data":null})",
    R"({"channel":"a","data":{"deep":[[[{"a":[{}]}]]]}})",
    R"({"channel":"a"})",
    R"({"channel":"a","b64data":"eA=="})",
    R"({"channel":5,"data":1})",
    R"({"channel":"\u0061\u00e9","data":1})",
    R"({"channel":"\ud800","data":1})",
    R"({"\ud800":1,"channel":"a","data":1})",
    R"({"ch\u0061nnel":"esc","d\u0061ta":{"k":"v"}})",
    R"({"channel":"a","data":1,"skip_history":true})",
    R"({"channel":"a","data":1,"skip_history":"yes"})",
    R"({"channel":"a","data":1,"tags":{"k":"v","l":"w"}})",
    R"({"channel":"a","data":1,"tags":{}})",
    R"({"channel":"a","data":1,"tags":{"k":"v"},"tags":{}})",
    R"({"channel":"a","data":1,"tags":{"k":1}})",
    R"({"channel":"a","data":1,"tags":[]})",
    R"({"channel":"a","data":1,"tags":{"\ud800":"v"}})",
    R"({"channel":"a","data":1,"tags":{"k":"\ud800"}})",
    R"({"channel":"a","data":1,"idempotency_key":"key-1"})",
    R"({"channel":"a","data":1,"idempotency_key":7})",
    R"({"channel":"a","channel":"b","data":1,"data":2})",
    R"({"unknown":{"nested":[1,{"x":"}"}]},"channel":"a","data":1})",
    R"({"channels":["a","b"],"data":1})",
    R"({"delta":true,"channel":"a","data":1})",
    R"({})",
    R"([])",
    R"("publish")",
    R"(1)",
    R"(null)",
};

struct Reading {
  bool read_ahead = false;
  std::string params;  // raw params of a command not read ahead
  Status status;
  std::string channel, data, tags, idempotency_key;
  bool has_data = false, has_b64data = false, skip_history = false;
};

// What a command reads to: read ahead in the body's pass, or (the way every command of a body
// that is not valid JSON as a whole is read) from its own raw params text, later.
Reading Read(const BatchCommand& c) {
  Reading r;
  r.read_ahead = c.read_ahead;
  PublishParams standalone;
  const PublishParams* p = &c.publish;
  std::string text;
  if (c.read_ahead) {
    r.status = c.status;
  } else {
    r.params = std::string(c.params);
    text = Padded(c.params);
    simdjson::ondemand::document doc;
    simdjson::ondemand::object obj;
    r.status = OpenParams(text, &doc, &obj) ? ReadPublishParams(obj, false, &standalone)
                                            : Status::Error(protocol::error::kBadRequest, "params must be a JSON object");
    p = &standalone;
  }
  if (!r.status.error) {
    r.channel = p->channel;
    r.data = std::string(p->data);
    r.tags = std::string(p->tags);
    r.idempotency_key = p->idempotency_key;
    r.has_data = p->has_data;
    r.has_b64data = p->has_b64data;
    r.skip_history = p->skip_history;
  }
  return r;
}

void ExpectSame(const Reading& fast, const Reading& slow, const std::string& body) {
  EXPECT_EQ(fast.status.error, slow.status.error) << body;
  EXPECT_EQ(fast.status.message, slow.status.message) << body;
  EXPECT_EQ(fast.channel, slow.channel) << body;
  EXPECT_EQ(fast.data, slow.data) << body;
  EXPECT_EQ(fast.tags, slow.tags) << body;
  EXPECT_EQ(fast.idempotency_key, slow.idempotency_key) << body;
  EXPECT_EQ(fast.has_data, slow.has_data) << body;
  EXPECT_EQ(fast.has_b64data, slow.has_b64data) << body;
  EXPECT_EQ(fast.skip_history, slow.skip_history) << body;
}

// Reads `body` from a padded copy in *storage, which the commands point into.
bool ReadBody(const std::string& body, std::string* storage, std::vector<BatchCommand>* out, std::string* problem) {
  *storage = Padded(body);
  out->clear();
  problem->clear();
  return ReadBatchCommands(*storage, out, problem);
}

// Reads `commands` (the text of the "commands" array's elements) twice: as a valid body, where
// publishes are read ahead in place, and with an invalid member after the array, which makes every
// command be read on its own. Both readings must agree command by command.
void ExpectReadAheadMatchesStandalone(const std::vector<std::string>& commands) {
  std::string list;
  for (const std::string& c : commands) list += (list.empty() ? "" : ",") + c;
  const std::string valid = "{\"commands\":[" + list + "]}";
  // On-Demand skips the value of an unknown member without looking at it: the body reads the same
  // way, but is not JSON as a whole.
  const std::string invalid = "{\"commands\":[" + list + "],\"x\":tru}";
  std::vector<BatchCommand> fast, slow;
  std::string fast_body, slow_body, problem;
  ASSERT_TRUE(ReadBody(valid, &fast_body, &fast, &problem)) << problem << " " << valid;
  ASSERT_TRUE(ReadBody(invalid, &slow_body, &slow, &problem)) << problem << " " << invalid;
  ASSERT_EQ(fast.size(), commands.size()) << valid;
  ASSERT_EQ(slow.size(), commands.size()) << valid;
  for (size_t i = 0; i < commands.size(); ++i) {
    EXPECT_EQ(fast[i].method, slow[i].method) << valid;
    EXPECT_FALSE(slow[i].read_ahead);
    if (fast[i].method != "publish") {
      EXPECT_FALSE(fast[i].read_ahead);
      EXPECT_EQ(fast[i].params, slow[i].params) << valid;
      continue;
    }
    EXPECT_TRUE(fast[i].read_ahead) << valid;
    ExpectSame(Read(fast[i]), Read(slow[i]), valid);
  }
}

TEST(BatchCommandsTest, EveryPublishReadsTheSameInPlaceAsOnItsOwn) {
  for (const std::string& params : kPublishParams) {
    ExpectReadAheadMatchesStandalone({"{\"publish\":" + params + "}"});
  }
}

TEST(BatchCommandsTest, AnAnswerToOneCommandDoesNotDisturbTheNext) {
  // A publish that stops reading its params half-way (an error) leaves the body's iteration
  // where the next command starts.
  for (const std::string& a : kPublishParams) {
    for (const std::string& b : kPublishParams) {
      ExpectReadAheadMatchesStandalone({"{\"publish\":" + a + "}", "{\"publish\":" + b + "}",
                                        R"({"publish":{"channel":"last","data":"end"}})"});
    }
  }
}

TEST(BatchCommandsTest, RandomMixesOfMethodsAndParams) {
  std::mt19937 rng(42);
  const std::vector<std::string> others = {
      R"({"history":{"channel":"a","limit":1}})", R"({"broadcast":{"channels":["a"],"data":1}})",
      R"({"presence":{"channel":"a"}})", R"({"info":{}})", R"({"nosuch":{"a":[1,2]}})", R"({})",
      R"({"publish":{"channel":"a","data":1},"extra":{"ignored":[1]}})", R"({"p\u0075blish":{"channel":"e","data":2}})"};
  for (int round = 0; round < 300; ++round) {
    std::vector<std::string> commands;
    const int n = 1 + static_cast<int>(rng() % 8);
    for (int i = 0; i < n; ++i) {
      if (rng() % 3 == 0) {
        commands.push_back(others[rng() % others.size()]);
      } else {
        commands.push_back("{\"publish\":" + kPublishParams[rng() % kPublishParams.size()] + "}");
      }
    }
    // Commands whose object is empty are skipped: compare against the non-empty ones.
    std::vector<std::string> listed;
    for (const std::string& c : commands) {
      if (c != "{}") listed.push_back(c);
    }
    if (listed.size() != commands.size()) {
      std::vector<BatchCommand> out;
      std::string storage, problem, list;
      for (const std::string& c : commands) list += (list.empty() ? "" : ",") + c;
      ASSERT_TRUE(ReadBody("{\"commands\":[" + list + "]}", &storage, &out, &problem));
      EXPECT_EQ(out.size(), listed.size());
      continue;
    }
    ExpectReadAheadMatchesStandalone(commands);
  }
}

TEST(BatchCommandsTest, ReadAheadParamsPointIntoTheBody) {
  const std::string body = Padded(R"({"commands":[{"publish":{"channel":"c","data":{"k":[1,2]},"tags":{"t":"v"}}}]})");
  std::vector<BatchCommand> out;
  std::string problem;
  ASSERT_TRUE(ReadBatchCommands(body, &out, &problem));
  ASSERT_EQ(out.size(), 1u);
  ASSERT_TRUE(out[0].read_ahead);
  EXPECT_EQ(out[0].status.error, nullptr);
  EXPECT_EQ(out[0].publish.channel, "c");
  EXPECT_EQ(out[0].publish.data, R"({"k":[1,2]})");
  EXPECT_EQ(out[0].publish.tags, R"({"t":"v"})");
  EXPECT_GE(out[0].publish.data.data(), body.data());
  EXPECT_LE(out[0].publish.data.data() + out[0].publish.data.size(), body.data() + body.size());
}

TEST(BatchCommandsTest, MalformedBodiesAnd400Problems) {
  struct Case {
    std::string body;
    bool ok;
    std::string problem;
  };
  const std::vector<Case> cases = {
      {"[]", false, "body must be a JSON object with a \"commands\" array"},
      {"\"x\"", false, "body must be a JSON object with a \"commands\" array"},
      {R"({"commands":{}})", false, "\"commands\" must be an array"},
      {R"({"commands":[1]})", false, "each command must be an object like {\"publish\":{...}}"},
      {R"({"commands":[{"publish":{"channel":"a","data":1}},[]]})", false,
       "each command must be an object like {\"publish\":{...}}"},
      {R"({"commands":[{"publish":{"channel":"a","data":tru}}]})", false, "malformed command in \"commands\""},
      {R"({"commands":[{"info":{"a":tru}}]})", false, "malformed command in \"commands\""},
      {R"({"commands":[{"\ud800":{}}]})", false, "malformed command in \"commands\""},
      {"", true, ""},  // an empty body counts as {} (no commands), as for every method's params
      {R"({"commands":[]})", true, ""},
      {R"({"other":1})", true, ""},
      {R"({"commands":[{}]})", true, ""},
  };
  for (const Case& c : cases) {
    std::vector<BatchCommand> out;
    std::string storage, problem;
    EXPECT_EQ(ReadBody(c.body, &storage, &out, &problem), c.ok) << c.body;
    if (c.ok) {
      EXPECT_TRUE(out.empty()) << c.body;
    } else {
      EXPECT_EQ(problem, c.problem) << c.body;
    }
  }
}

TEST(BatchCommandsTest, InvalidPublishInAnInvalidBodyIsStillRefusedWhole) {
  // Not read ahead (the body is not JSON as a whole): each command is checked on its own, and a
  // malformed one refuses the batch, as before the read-ahead existed.
  std::vector<BatchCommand> out;
  std::string storage, problem;
  EXPECT_FALSE(ReadBody(R"({"commands":[{"publish":{"channel":"a","data":[1,]}}],"x":tru})", &storage, &out, &problem));
  EXPECT_EQ(problem, "malformed command in \"commands\"");
}

}  // namespace
}  // namespace instant::api
