// Client tests against a real redis-server, one per test on its own free loopback port.
// Every wait is a poll of the loop with a deadline (RunUntil), never a fixed sleep.

#include "redis/client.h"

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "redis/test_redis_server.h"

namespace instant::redis {
namespace {

using testing::RedisServer;

// What a callback saw, copied out of the (callback-scoped) reply.
struct Outcome {
  bool called = false;
  Failure failure = Failure::kNone;
  std::string reply;  // Reply::ToString()
  bool is_error = false;
};

Callback Record(Outcome* out) {
  return [out](const Reply& r, Failure f) {
    EXPECT_FALSE(out->called) << "callback called twice";
    out->called = true;
    out->failure = f;
    out->reply = r.ToString();
    out->is_error = r.is_error();
  };
}

class RedisClientTest : public ::testing::Test {
 protected:
  // Runs the loop until `done` or the deadline; returns done().
  bool RunUntil(const std::function<bool()>& done, int timeout_ms = 10000) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (!done()) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      loop_.RunOnce(5);
    }
    return true;
  }

  ClientOptions Options(const RedisServer& server) {
    ClientOptions o;
    o.address.host = "127.0.0.1";
    o.address.port = server.port();
    return o;
  }

  std::unique_ptr<Client> Connected(ClientOptions options) {
    auto c = std::make_unique<Client>(&loop_, std::move(options));
    c->Start();
    EXPECT_TRUE(RunUntil([&] { return c->connected(); })) << "client did not connect";
    return c;
  }

  // Runs one command to completion.
  Outcome Do(Client& c, std::initializer_list<Arg> args) {
    Outcome o;
    c.Command(args, Record(&o));
    EXPECT_TRUE(RunUntil([&] { return o.called; })) << "no reply";
    return o;
  }

  // Destroy clients before the loop (declaration order: the loop is declared first).
  net::Loop loop_{0};
};

TEST_F(RedisClientTest, ConnectsAndReportsState) {
  RedisServer server;
  ASSERT_TRUE(server.running());
  Client c(&loop_, Options(server));
  std::vector<State> states;
  c.set_state_handler([&](State s) { states.push_back(s); });
  EXPECT_EQ(c.state(), State::kDisconnected);
  c.Start();
  EXPECT_EQ(c.state(), State::kConnecting);
  ASSERT_TRUE(RunUntil([&] { return c.connected(); }));
  EXPECT_EQ(states, std::vector<State>{State::kConnected});
  EXPECT_EQ(Do(c, {"PING"}).reply, "+PONG");
}

TEST_F(RedisClientTest, Pipelined10kSetGetArriveInOrder) {
  RedisServer server;
  auto c = Connected(Options(server));
  constexpr int kN = 10000;
  std::vector<int> order;
  order.reserve(2 * kN);
  int bad = 0;
  // All 20k commands are issued within one loop iteration, so they leave in one writev batch.
  for (int i = 0; i < kN; ++i) {
    c->Command({"SET", "k:" + std::to_string(i), "v:" + std::to_string(i)},
               [&, i](const Reply& r, Failure f) {
                 order.push_back(i);
                 if (f != Failure::kNone || !r.is_status() || r.str() != "OK") ++bad;
               });
  }
  for (int i = 0; i < kN; ++i) {
    c->Command({"GET", "k:" + std::to_string(i)}, [&, i](const Reply& r, Failure f) {
      order.push_back(kN + i);
      if (f != Failure::kNone || r.str() != "v:" + std::to_string(i)) ++bad;
    });
  }
  EXPECT_EQ(c->pending(), static_cast<size_t>(2 * kN));
  ASSERT_TRUE(RunUntil([&] { return order.size() == 2 * kN; }, 30000)) << order.size();
  EXPECT_EQ(bad, 0);
  for (int i = 0; i < 2 * kN; ++i) ASSERT_EQ(order[i], i) << "reply out of order at " << i;
  EXPECT_EQ(c->pending(), 0u);
}

TEST_F(RedisClientTest, ErrorRepliesAreErrorsAndKeepThePipelineAligned) {
  RedisServer server;
  auto c = Connected(Options(server));
  Outcome set, incr, lpush, unknown, get;
  c->Command({"SET", "s", "x"}, Record(&set));
  c->Command({"INCR", "s"}, Record(&incr));
  c->Command({"LPUSH", "s", "a"}, Record(&lpush));
  c->Command({"NOSUCHCOMMAND", "arg"}, Record(&unknown));
  c->Command({"GET", "s"}, Record(&get));
  ASSERT_TRUE(RunUntil([&] { return get.called; }));
  EXPECT_EQ(set.reply, "+OK");
  EXPECT_TRUE(incr.is_error);
  EXPECT_EQ(incr.failure, Failure::kNone);  // Redis answered: an error reply, not a failure
  EXPECT_EQ(incr.reply, "(error) ERR value is not an integer or out of range");
  EXPECT_TRUE(lpush.is_error);
  EXPECT_EQ(lpush.reply.rfind("(error) WRONGTYPE", 0), 0u) << lpush.reply;
  EXPECT_TRUE(unknown.is_error);
  EXPECT_NE(unknown.reply.find("unknown command"), std::string::npos) << unknown.reply;
  EXPECT_EQ(get.reply, "\"x\"");
  EXPECT_TRUE(c->connected());
}

TEST_F(RedisClientTest, ReplyTypes) {
  RedisServer server;
  auto c = Connected(Options(server));
  EXPECT_EQ(Do(*c, {"GET", "missing"}).reply, "(nil)");
  EXPECT_EQ(Do(*c, {"RPUSH", "l", "a", "b", 3}).reply, "(integer) 3");
  EXPECT_EQ(Do(*c, {"LRANGE", "l", 0, -1}).reply, "[\"a\", \"b\", \"3\"]");
  EXPECT_EQ(Do(*c, {"LRANGE", "nothing", 0, -1}).reply, "[]");
  EXPECT_EQ(Do(*c, {"EVAL", "return {1, {2, 'x', {}}, redis.status_reply('FINE')}", 0}).reply,
            "[(integer) 1, [(integer) 2, \"x\", []], +FINE]");
  const std::string binary("\0\r\n\xff", 4);
  EXPECT_EQ(Do(*c, {"SET", "b", binary}).reply, "+OK");
  Outcome get;
  std::string got;
  c->Command({"GET", "b"}, [&](const Reply& r, Failure) {
    got = std::string(r.str());
    get.called = true;
  });
  ASSERT_TRUE(RunUntil([&] { return get.called; }));
  EXPECT_EQ(got, binary);
}

TEST_F(RedisClientTest, RefusesCommandsThatBreakReplyPairing) {
  RedisServer server;
  auto c = Connected(Options(server));
  for (const char* name : {"SUBSCRIBE", "psubscribe", "Monitor", "HELLO", "reset"}) {
    Outcome o;
    c->Command({name, "x"}, Record(&o));
    EXPECT_TRUE(o.called) << name;  // synchronously, nothing sent
    EXPECT_EQ(o.failure, Failure::kRefused) << name;
  }
  Outcome empty;
  c->Command(std::span<const Arg>(), Record(&empty));
  EXPECT_EQ(empty.failure, Failure::kRefused);
  EXPECT_EQ(c->pending(), 0u);
  EXPECT_EQ(Do(*c, {"PING"}).reply, "+PONG");  // the pipeline is intact
}

TEST_F(RedisClientTest, LargeValueRoundTrip) {
  RedisServer server;
  auto c = Connected(Options(server));
  std::string big(5 << 20, 'x');
  for (size_t i = 0; i < big.size(); i += 4096) big[i] = static_cast<char>('a' + (i / 4096) % 26);
  EXPECT_EQ(Do(*c, {"SET", "big", big}).reply, "+OK");
  bool same = false, called = false;
  c->Command({"GET", "big"}, [&](const Reply& r, Failure) {
    same = r.str() == big;
    called = true;
  });
  ASSERT_TRUE(RunUntil([&] { return called; }));
  EXPECT_TRUE(same);
}

TEST_F(RedisClientTest, CallbacksMayIssueCommands) {
  RedisServer server;
  auto c = Connected(Options(server));
  int remaining = 100;
  std::function<void(const Reply&, Failure)> step = [&](const Reply&, Failure f) {
    ASSERT_EQ(f, Failure::kNone);
    if (--remaining > 0) c->Command({"INCR", "chain"}, step);
  };
  c->Command({"INCR", "chain"}, step);
  ASSERT_TRUE(RunUntil([&] { return remaining == 0; }));
  EXPECT_EQ(Do(*c, {"GET", "chain"}).reply, "\"100\"");
}

TEST_F(RedisClientTest, PubSubRoundTrip) {
  RedisServer server;
  auto pub = Connected(Options(server));
  ClientOptions so = Options(server);
  so.subscriber = true;
  auto sub = Connected(so);

  std::vector<std::string> messages;
  sub->set_message_handler([&](const Message& m) {
    messages.push_back(std::string(m.pattern) + "|" + std::string(m.channel) + "|" +
                       std::string(m.payload));
  });
  Outcome confirm, pconfirm;
  sub->Subscribe("news", Record(&confirm));
  sub->PSubscribe("n*", Record(&pconfirm));
  ASSERT_TRUE(RunUntil([&] { return pconfirm.called; }));
  EXPECT_EQ(confirm.reply, "[\"subscribe\", \"news\", (integer) 1]");
  EXPECT_EQ(pconfirm.reply, "[\"psubscribe\", \"n*\", (integer) 2]");

  const std::string payload("hello\0world", 11);
  EXPECT_EQ(Do(*pub, {"PUBLISH", "news", payload}).reply, "(integer) 2");  // channel + pattern
  EXPECT_EQ(Do(*pub, {"PUBLISH", "nope", "p"}).reply, "(integer) 1");      // pattern only
  ASSERT_TRUE(RunUntil([&] { return messages.size() == 3; }));
  EXPECT_EQ(messages[0], "|news|" + payload);
  EXPECT_EQ(messages[1], "n*|news|" + payload);
  EXPECT_EQ(messages[2], "n*|nope|p");

  Outcome unsub, punsub;
  sub->Unsubscribe("news", Record(&unsub));
  sub->PUnsubscribe("n*", Record(&punsub));
  ASSERT_TRUE(RunUntil([&] { return punsub.called; }));
  EXPECT_EQ(unsub.reply, "[\"unsubscribe\", \"news\", (integer) 1]");
  EXPECT_EQ(punsub.reply, "[\"punsubscribe\", \"n*\", (integer) 0]");
  EXPECT_EQ(Do(*pub, {"PUBLISH", "news", "late"}).reply, "(integer) 0");

  // Each mode refuses the other's calls, without sending anything.
  Outcome wrong1, wrong2;
  sub->Command({"GET", "x"}, Record(&wrong1));
  pub->Subscribe("x", Record(&wrong2));
  EXPECT_TRUE(wrong1.called && wrong2.called);  // synchronously
  EXPECT_EQ(wrong1.failure, Failure::kWrongMode);
  EXPECT_EQ(wrong2.failure, Failure::kWrongMode);
  EXPECT_TRUE(wrong1.is_error);
  EXPECT_TRUE(sub->connected());
}

TEST_F(RedisClientTest, AuthWithRequirepass) {
  RedisServer server({"--requirepass", "s3cret"});
  ASSERT_TRUE(server.running());

  // Right password, given as a URL (user "default" is Redis 6+'s name for the legacy password).
  ClientOptions good = Options(server);
  std::string error;
  ASSERT_TRUE(ParseAddress("redis://default:s3cret@127.0.0.1:" + std::to_string(server.port()),
                           &good.address, &error))
      << error;
  auto c = Connected(good);
  EXPECT_EQ(Do(*c, {"SET", "a", 1}).reply, "+OK");
  EXPECT_EQ(Do(*c, {"GET", "a"}).reply, "\"1\"");

  // Password only (legacy AUTH form).
  ClientOptions legacy = Options(server);
  legacy.address.password = "s3cret";
  auto c2 = Connected(legacy);
  EXPECT_EQ(Do(*c2, {"GET", "a"}).reply, "\"1\"");

  // Wrong password: the handshake fails, the held command fails without having run.
  ClientOptions wrong = Options(server);
  wrong.address.password = "nope";
  Client bad(&loop_, wrong);
  bool ever_connected = false;
  bad.set_state_handler([&](State s) { ever_connected |= s == State::kConnected; });
  bad.Start();
  Outcome held;
  bad.Command({"SET", "a", "hijacked"}, Record(&held));
  ASSERT_TRUE(RunUntil([&] { return held.called; }));
  EXPECT_EQ(held.failure, Failure::kNotConnected);
  EXPECT_NE(held.reply.find("AUTH failed: WRONGPASS"), std::string::npos) << held.reply;
  EXPECT_FALSE(ever_connected);
  EXPECT_FALSE(bad.connected());

  // No password at all: PING answers NOAUTH.
  Client none(&loop_, Options(server));
  none.Start();
  Outcome held2;
  none.Command({"GET", "a"}, Record(&held2));
  ASSERT_TRUE(RunUntil([&] { return held2.called; }));
  EXPECT_EQ(held2.failure, Failure::kNotConnected);
  EXPECT_NE(held2.reply.find("PING failed: NOAUTH"), std::string::npos) << held2.reply;
  EXPECT_EQ(Do(*c, {"GET", "a"}).reply, "\"1\"");  // never overwritten
}

TEST_F(RedisClientTest, SelectsTheDatabase) {
  RedisServer server;
  ClientOptions o3 = Options(server);
  o3.address.db = 3;
  auto db3 = Connected(o3);
  auto db0 = Connected(Options(server));
  EXPECT_EQ(Do(*db3, {"SET", "where", "three"}).reply, "+OK");
  EXPECT_EQ(Do(*db0, {"GET", "where"}).reply, "(nil)");
  EXPECT_EQ(Do(*db3, {"GET", "where"}).reply, "\"three\"");

  // A database that does not exist: the handshake fails, nothing runs in database 0.
  ClientOptions bad_db = Options(server);
  bad_db.address.db = 999;
  Client bad(&loop_, bad_db);
  bad.Start();
  Outcome held;
  bad.Command({"SET", "where", "wrong db"}, Record(&held));
  ASSERT_TRUE(RunUntil([&] { return held.called; }));
  EXPECT_EQ(held.failure, Failure::kNotConnected);
  EXPECT_NE(held.reply.find("SELECT failed"), std::string::npos) << held.reply;
  EXPECT_EQ(Do(*db0, {"GET", "where"}).reply, "(nil)");
}

TEST_F(RedisClientTest, KillMidPipelineFailsEveryPendingCallback) {
  RedisServer server;
  auto c = Connected(Options(server));
  std::vector<State> states;
  c->set_state_handler([&](State s) { states.push_back(s); });

  constexpr int kN = 50000;
  const std::string value(100, 'v');
  std::vector<int> calls(kN, 0);
  int ok = 0, failed = 0, wrong_failure = 0, not_error = 0;
  for (int i = 0; i < kN; ++i) {
    c->Command({"SET", "key:" + std::to_string(i), value}, [&, i](const Reply& r, Failure f) {
      ++calls[i];
      if (f == Failure::kNone) {
        ++ok;
        // Kill the server while most of the pipeline is still in flight.
        if (ok == 100) server.Kill();
        return;
      }
      ++failed;
      if (f != Failure::kConnectionLost) ++wrong_failure;
      if (!r.is_error() || r.str().find("CONNLOST") != 0) ++not_error;
    });
  }
  ASSERT_TRUE(RunUntil([&] { return ok + failed == kN; }, 30000)) << ok << " + " << failed;
  EXPECT_GE(ok, 100);
  EXPECT_GT(failed, 0);
  EXPECT_EQ(wrong_failure, 0);
  EXPECT_EQ(not_error, 0);
  for (int i = 0; i < kN; ++i) ASSERT_EQ(calls[i], 1) << "callback " << i;
  EXPECT_EQ(states, std::vector<State>{State::kDisconnected});
  EXPECT_FALSE(c->connected());
  EXPECT_EQ(c->pending(), 0u);

  // While disconnected, new commands fail at once instead of queueing.
  Outcome now;
  c->Command({"GET", "x"}, Record(&now));
  EXPECT_TRUE(now.called);
  EXPECT_EQ(now.failure, Failure::kNotConnected);
}

TEST_F(RedisClientTest, ReconnectsByItselfAfterRestart) {
  RedisServer server;
  ClientOptions so = Options(server);
  so.subscriber = true;
  auto c = Connected(Options(server));
  auto sub = Connected(so);
  std::vector<State> states;
  c->set_state_handler([&](State s) { states.push_back(s); });
  std::vector<std::string> messages;
  sub->set_message_handler([&](const Message& m) { messages.emplace_back(m.payload); });
  Outcome confirmed;
  sub->Subscribe("events", Record(&confirmed));
  ASSERT_TRUE(RunUntil([&] { return confirmed.called; }));

  server.Kill();
  ASSERT_TRUE(RunUntil([&] { return !c->connected() && !sub->connected(); }));
  ASSERT_TRUE(server.Start());
  ASSERT_TRUE(RunUntil([&] { return c->connected() && sub->connected(); }));
  EXPECT_EQ(states, (std::vector<State>{State::kDisconnected, State::kConnected}));
  EXPECT_EQ(Do(*c, {"SET", "after", "restart"}).reply, "+OK");
  EXPECT_EQ(Do(*c, {"GET", "after"}).reply, "\"restart\"");

  // The subscriber restored its subscription without being asked.
  ASSERT_TRUE(RunUntil([&] { return sub->pending() == 0; }));
  EXPECT_EQ(Do(*c, {"PUBLISH", "events", "back"}).reply, "(integer) 1");
  ASSERT_TRUE(RunUntil([&] { return !messages.empty(); }));
  EXPECT_EQ(messages, std::vector<std::string>{"back"});
}

TEST_F(RedisClientTest, RetriesUntilTheServerAppears) {
  RedisServer server({}, /*start=*/false);
  ClientOptions o = Options(server);
  Client c(&loop_, o);
  c.Start();
  Outcome held;
  c.Command({"PING"}, Record(&held));  // held for the handshake, which never happens
  ASSERT_TRUE(RunUntil([&] { return held.called; }));
  EXPECT_EQ(held.failure, Failure::kNotConnected);
  EXPECT_NE(held.reply.find("Connection refused"), std::string::npos) << held.reply;
  EXPECT_FALSE(c.connected());

  ASSERT_TRUE(server.Start());
  ASSERT_TRUE(RunUntil([&] { return c.connected(); }));
  EXPECT_EQ(Do(c, {"PING"}).reply, "+PONG");
}

TEST_F(RedisClientTest, IoTimeoutDropsAStalledConnection) {
  RedisServer server;
  ClientOptions o = Options(server);
  o.io_timeout_ms = 200;
  o.connect_timeout_ms = 200;
  auto c = Connected(o);
  server.Pause();
  Outcome stalled;
  c->Command({"PING"}, Record(&stalled));
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(RunUntil([&] { return stalled.called; }, 5000));
  const auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(stalled.failure, Failure::kTimeout);
  EXPECT_GE(waited, std::chrono::milliseconds(190));
  EXPECT_FALSE(c->connected());
  server.Resume();
  ASSERT_TRUE(RunUntil([&] { return c->connected(); }));
  EXPECT_EQ(Do(*c, {"PING"}).reply, "+PONG");
}

TEST_F(RedisClientTest, HealthPingsDetectADeadIdleSubscriber) {
  RedisServer server;
  ClientOptions o = Options(server);
  o.subscriber = true;
  o.ping_interval_ms = 50;
  o.io_timeout_ms = 200;
  auto sub = Connected(o);
  Outcome confirmed;
  sub->Subscribe("ch", Record(&confirmed));
  ASSERT_TRUE(RunUntil([&] { return confirmed.called; }));
  // Idle, pings flow.
  ASSERT_TRUE(RunUntil([&] { return server.CommandCalls("ping") >= 3; }));
  std::vector<State> states;
  sub->set_state_handler([&](State s) { states.push_back(s); });
  server.Pause();
  ASSERT_TRUE(RunUntil([&] { return !states.empty(); }, 5000));
  EXPECT_EQ(states[0], State::kDisconnected);
  server.Resume();
  ASSERT_TRUE(RunUntil([&] { return sub->connected(); }));
}

TEST_F(RedisClientTest, StopFailsPendingAndStartReconnects) {
  RedisServer server;
  auto c = Connected(Options(server));
  Outcome a, b;
  c->Command({"SET", "x", 1}, Record(&a));
  c->Command({"GET", "x"}, Record(&b));
  c->Stop();  // before the loop flushed them
  EXPECT_TRUE(a.called && b.called);
  EXPECT_EQ(a.failure, Failure::kClosed);
  EXPECT_EQ(b.failure, Failure::kClosed);
  Outcome after;
  c->Command({"PING"}, Record(&after));
  EXPECT_EQ(after.failure, Failure::kNotConnected);
  EXPECT_NE(after.reply.find("not started"), std::string::npos);
  c->Start();
  ASSERT_TRUE(RunUntil([&] { return c->connected(); }));
  EXPECT_EQ(Do(*c, {"GET", "x"}).reply, "(nil)");  // the SET never ran
}

TEST_F(RedisClientTest, MaxPendingRefusesTheExcess) {
  RedisServer server;
  ClientOptions o = Options(server);
  o.max_pending = 10;
  auto c = Connected(o);
  std::vector<Outcome> out(20);
  for (Outcome& x : out) c->Command({"PING"}, Record(&x));
  int overloaded = 0;
  for (Outcome& x : out) overloaded += x.called && x.failure == Failure::kOverloaded;
  EXPECT_EQ(overloaded, 10);
  ASSERT_TRUE(RunUntil([&] { return out[9].called; }));
  for (int i = 0; i < 10; ++i) EXPECT_EQ(out[i].reply, "+PONG");
}

TEST_F(RedisClientTest, DestructorFailsPendingWithClosed) {
  RedisServer server;
  auto c = Connected(Options(server));
  Outcome o;
  c->Command({"PING"}, Record(&o));
  c.reset();
  EXPECT_TRUE(o.called);
  EXPECT_EQ(o.failure, Failure::kClosed);
  loop_.RunOnce(0);  // the loop deletes the closed connection
}

// --- Scripts -----------------------------------------------------------------------------------

TEST_F(RedisClientTest, EvalShaFallsBackToEvalOnNoscript) {
  RedisServer server;
  auto c = Connected(Options(server));
  static const Script script("return {KEYS[1], ARGV[1], tonumber(ARGV[2]) + 1}");

  // A fresh Redis has no scripts: EVALSHA gets NOSCRIPT, the client resends as EVAL.
  Outcome first;
  c->Eval(script, {"k"}, {"v", 41}, Record(&first));
  ASSERT_TRUE(RunUntil([&] { return first.called; }));
  EXPECT_EQ(first.failure, Failure::kNone);
  EXPECT_EQ(first.reply, "[\"k\", \"v\", (integer) 42]");
  EXPECT_EQ(server.CommandCalls("eval"), 1);
  EXPECT_GE(server.CommandCalls("evalsha"), 1);

  // Now cached: EVALSHA only.
  const int64_t evalsha_before = server.CommandCalls("evalsha");
  Outcome second;
  c->Eval(script, {"k2"}, {"w", 1}, Record(&second));
  ASSERT_TRUE(RunUntil([&] { return second.called; }));
  EXPECT_EQ(second.reply, "[\"k2\", \"w\", (integer) 2]");
  EXPECT_EQ(server.CommandCalls("eval"), 1);
  EXPECT_EQ(server.CommandCalls("evalsha"), evalsha_before + 1);

  // After SCRIPT FLUSH a whole pipeline of calls falls back, and callbacks keep their order.
  EXPECT_EQ(Do(*c, {"SCRIPT", "FLUSH"}).reply, "+OK");
  std::vector<int64_t> results;
  for (int i = 0; i < 100; ++i) {
    c->Eval(script, {"k"}, {"v", i}, [&](const Reply& r, Failure f) {
      results.push_back(f == Failure::kNone && r.size() == 3 ? r[2].integer() : -1);
    });
  }
  ASSERT_TRUE(RunUntil([&] { return results.size() == 100; }));
  for (int i = 0; i < 100; ++i) EXPECT_EQ(results[i], i + 1);

  // A script error is a reply, passed through, not retried.
  static const Script broken("return redis.call('INCR', KEYS[1])");
  EXPECT_EQ(Do(*c, {"SET", "str", "x"}).reply, "+OK");
  Outcome err;
  c->Eval(broken, {"str"}, {}, Record(&err));
  ASSERT_TRUE(RunUntil([&] { return err.called; }));
  EXPECT_EQ(err.failure, Failure::kNone);
  EXPECT_TRUE(err.is_error);
  EXPECT_NE(err.reply.find("not an integer"), std::string::npos) << err.reply;
}

TEST_F(RedisClientTest, PreloadedScriptsNeverNeedEval) {
  RedisServer server;
  static const Script script("return ARGV[1]");
  ClientOptions o = Options(server);
  o.preload_scripts = {&script};
  auto c = Connected(o);
  Outcome r;
  c->Eval(script, {}, {"hi"}, Record(&r));
  ASSERT_TRUE(RunUntil([&] { return r.called; }));
  EXPECT_EQ(r.reply, "\"hi\"");
  EXPECT_EQ(server.CommandCalls("eval"), 0);
  EXPECT_EQ(server.CommandCalls("evalsha"), 1);
}

}  // namespace
}  // namespace instant::redis
