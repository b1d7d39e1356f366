#include "protocol/decoder.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace instant::protocol {
namespace {

// A message followed by kMessagePadding bytes of hostile content: digits, quotes and closing
// brackets, so that any read past the end of the message would change the result.
class Frame {
 public:
  explicit Frame(std::string_view message) : size_(message.size()) {
    buf_.assign(message);
    for (size_t i = 0; i < kMessagePadding; ++i) buf_ += "1}\"]"[i % 4];
  }
  std::string_view view() const { return {buf_.data(), size_}; }

 private:
  std::string buf_;
  size_t size_;
};

std::string Quoted(std::string_view s) {
  std::string q = "\"";
  q.append(s);
  q += '"';
  return q;
}

// Canonical text of a command: the method, the id, then every non-default field.
std::string Dump(const Command& c) {
  std::string s = c.method == Method::kPong ? "pong" : std::string(MethodName(c.method));
  s += " id=" + std::to_string(c.id);
  auto str = [&](const char* name, std::string_view v) {
    if (!v.empty()) s += std::string(" ") + name + "=" + Quoted(v);
  };
  auto flag = [&](const char* name, bool v) {
    if (v) s += std::string(" ") + name;
  };
  str("token", c.token);
  str("channel", c.channel);
  str("name", c.name);
  str("version", c.version);
  str("method", c.rpc_method);
  str("delta", c.delta);
  if (c.has_data) s += " data=" + std::string(c.data);
  flag("recover", c.recover);
  flag("positioned", c.positioned);
  flag("recoverable", c.recoverable);
  flag("join_leave", c.join_leave);
  flag("reverse", c.reverse);
  if (c.position.offset != 0) s += " offset=" + std::to_string(c.position.offset);
  str("epoch", c.position.epoch);
  if (c.has_since) {
    s += " since={" + std::to_string(c.since.offset) + "," + Quoted(c.since.epoch) + "}";
  }
  if (c.limit != 0) s += " limit=" + std::to_string(c.limit);
  for (size_t i = 0; i < c.num_subs; ++i) {
    const SubRecovery& sub = c.subs[i];
    s += " sub=" + Quoted(sub.channel) + (sub.recover ? ":recover" : "") + ":" +
         std::to_string(sub.pos.offset) + ":" + Quoted(sub.pos.epoch);
  }
  return s;
}

// Decodes a whole message; every command as Dump() text, then "END" or "ERROR: <why>".
std::vector<std::string> DecodeAll(std::string_view message, Version v) {
  Frame frame(message);
  CommandDecoder decoder;
  decoder.Reset(frame.view(), v);
  std::vector<std::string> out;
  Command cmd;
  for (int i = 0; i < 10000; ++i) {
    DecodeStatus st = decoder.Next(&cmd);
    if (st == DecodeStatus::kEnd) {
      out.push_back("END");
      break;
    }
    if (st == DecodeStatus::kError) {
      out.push_back(std::string("ERROR: ") + decoder.error());
      break;
    }
    out.push_back(Dump(cmd));
  }
  return out;
}

// The single command of a one-line message, or "ERROR: ..".
std::string One(std::string_view message, Version v = Version::kV2) {
  std::vector<std::string> all = DecodeAll(message, v);
  if (all.size() == 2 && all[1] == "END") return all[0];
  if (!all.empty() && all.back().rfind("ERROR", 0) == 0) return "ERROR";
  std::string joined;
  for (const auto& s : all) joined += s + " | ";
  return "UNEXPECTED: " + joined;
}

std::string V1(std::string_view message) { return One(message, Version::kV1); }

// ---- Spec §2 examples (v2) ---------------------------------------------------------------------

TEST(DecoderV2Test, SpecExamples) {
  EXPECT_EQ(One(R"({"id":1,"connect":{"token":"eyJ...","name":"js"}})"),
            R"(connect id=1 token="eyJ..." name="js")");
  EXPECT_EQ(One(R"({"id":2,"subscribe":{"channel":"news"}})"), R"(subscribe id=2 channel="news")");
  EXPECT_EQ(
      One(R"({"id":3,"subscribe":{"channel":"chat:1","recover":true,"offset":10,"epoch":"xAbC"}})"),
      R"(subscribe id=3 channel="chat:1" recover offset=10 epoch="xAbC")");
  EXPECT_EQ(One(R"({"id":4,"unsubscribe":{"channel":"news"}})"),
            R"(unsubscribe id=4 channel="news")");
  EXPECT_EQ(One(R"({"id":5,"publish":{"channel":"chat:1","data":{"text":"hi"}}})"),
            R"(publish id=5 channel="chat:1" data={"text":"hi"})");
  EXPECT_EQ(One(R"({"id":6,"presence":{"channel":"chat:1"}})"),
            R"(presence id=6 channel="chat:1")");
  EXPECT_EQ(One(R"({"id":7,"presence_stats":{"channel":"chat:1"}})"),
            R"(presence_stats id=7 channel="chat:1")");
  EXPECT_EQ(
      One(R"({"id":8,"history":{"channel":"chat:1","limit":10,"since":{"offset":4,"epoch":"xAbC"},"reverse":true}})"),
      R"(history id=8 channel="chat:1" reverse since={4,"xAbC"} limit=10)");
  EXPECT_EQ(One(R"({"send":{"data":{"hello":1}}})"), R"(send id=0 data={"hello":1})");
  EXPECT_EQ(One(R"({"id":9,"rpc":{"method":"getX","data":{"k":[1,2]}}})"),
            R"(rpc id=9 method="getX" data={"k":[1,2]})");
  EXPECT_EQ(One(R"({"id":10,"refresh":{"token":"<new connection JWT>"}})"),
            R"(refresh id=10 token="<new connection JWT>")");
  EXPECT_EQ(One(R"({"id":11,"sub_refresh":{"channel":"c","token":"<new sub JWT>"}})"),
            R"(sub_refresh id=11 token="<new sub JWT>" channel="c")");
  EXPECT_EQ(One("{}"), "pong id=0");  // v2 pong (spec §1.6)
  EXPECT_EQ(One(R"({"id":12,"ping":{}})"), "ping id=12");
}

TEST(DecoderV2Test, AllRequestFields) {
  EXPECT_EQ(One(R"({"id":1,"connect":{"token":"t","data":{"k":1},"name":"js","version":"1.2",)"
                R"("subs":{"chat:1":{"recover":true,"offset":5,"epoch":"e1"},"news":{}}}})"),
            R"(connect id=1 token="t" name="js" version="1.2" data={"k":1} )"
            R"(sub="chat:1":recover:5:"e1" sub="news":0:"")");
  EXPECT_EQ(
      One(R"({"id":2,"subscribe":{"channel":"c","token":"st","data":[1],"recover":true,)"
          R"("offset":18446744073709551615,"epoch":"ep","positioned":true,"recoverable":true,)"
          R"("join_leave":true,"delta":"fossil"}})"),
      R"(subscribe id=2 token="st" channel="c" delta="fossil" data=[1] recover positioned )"
      R"(recoverable join_leave offset=18446744073709551615 epoch="ep")");
  EXPECT_EQ(One(R"({"id":3,"history":{"channel":"c","limit":-1,"since":{}}})"),
            R"(history id=3 channel="c" since={0,""} limit=-1)");
  EXPECT_EQ(One(R"({"id":3,"history":{"channel":"c","limit":2147483647}})"),
            R"(history id=3 channel="c" limit=2147483647)");
  EXPECT_EQ(One(R"({"id":3,"history":{"channel":"c","limit":-2147483648}})"),
            R"(history id=3 channel="c" limit=-2147483648)");
}

TEST(DecoderV2Test, NullIsAbsentExceptForData) {
  EXPECT_EQ(One(R"({"id":null,"subscribe":{"channel":null,"recover":null,"offset":null}})"),
            "subscribe id=0");
  EXPECT_EQ(One(R"({"id":1,"history":{"since":null,"limit":null}})"), "history id=1");
  EXPECT_EQ(One(R"({"id":1,"connect":{"subs":{"a":null}}})"), R"(connect id=1 sub="a":0:"")");
  EXPECT_EQ(One(R"({"id":1,"publish":{"channel":"c","data":null}})"),
            R"(publish id=1 channel="c" data=null)");
  // A null method body is a nil request in lib: the key does not select the method.
  EXPECT_EQ(One(R"({"id":1,"connect":null})"), "pong id=1");
  EXPECT_EQ(One(R"({"id":1,"connect":null,"subscribe":{"channel":"x"}})"),
            R"(subscribe id=1 channel="x")");
}

TEST(DecoderV2Test, UnknownFieldsAreIgnored) {
  // JS 5.7 sends headers/flag/dict in connect and tf/flag/... in subscribe (spec §2.3, §2.4).
  EXPECT_EQ(
      One(R"({"id":1,"connect":{"token":"t","headers":{"X-A":"b"},"flag":3,"dict":[1,{"x":null}],)"
          R"("profile":"p"},"extra":{"deep":[{},[]]},"method":7,"params":{}})"),
      R"(connect id=1 token="t")");
  EXPECT_EQ(
      One(R"({"id":2,"subscribe":{"channel":"c","tf":1,"flag":2,"type":3,"phase":4,"cursor":"x","asc":true}})"),
      R"(subscribe id=2 channel="c")");
  // A field of another method is unknown here, whatever its type.
  EXPECT_EQ(One(R"({"id":3,"unsubscribe":{"channel":"c","token":5,"data":tru,"recover":"x"}})"),
            R"(unsubscribe id=3 channel="c")");
  EXPECT_EQ(One(R"({"id":4,"ping":{"channel":1}})"), "ping id=4");
}

TEST(DecoderV2Test, EscapedStringsAndKeys) {
  EXPECT_EQ(One(R"({"id":2,"subscribe":{"channel":"\u0024users"}})"),
            R"(subscribe id=2 channel="$users")");
  EXPECT_EQ(One(R"({"id":2,"subscribe":{"channel":"a\"b\\c\/d\u00e9"}})"),
            "subscribe id=2 channel=\"a\"b\\c/d\xc3\xa9\"");
  EXPECT_EQ(One(R"({"\u0069d":2,"\u0073ubscribe":{"\u0063hannel":"x"}})"),
            R"(subscribe id=2 channel="x")");
  EXPECT_EQ(One(R"({"id":1,"connect":{"subs":{"\u0024a":{"epoch":"\u0041"}}}})"),
            R"(connect id=1 sub="$a":0:"A")");
  EXPECT_EQ(One("{\"id\":2,\"subscribe\":{\"channel\":\"\xe2\x82\xac\"}}"),
            "subscribe id=2 channel=\"\xe2\x82\xac\"");
  EXPECT_EQ(One("{\"id\":2,\"subscribe\":{\"channel\":\"\xff\"}}"), "ERROR");  // invalid UTF-8
  EXPECT_EQ(One(R"({"id":2,"subscribe":{"channel":"\x"}})"), "ERROR");         // invalid escape
  EXPECT_EQ(One("{\"id\":2,\"subscribe\":{\"channel\":\"a\tb\"}}"), "ERROR");  // raw control char
}

TEST(DecoderV2Test, DataIsKeptByteExact) {
  EXPECT_EQ(One(R"({"id":1,"publish":{"channel":"c","data":{"a":{"b":[1,2,{"c":null}]}}}})"),
            R"(publish id=1 channel="c" data={"a":{"b":[1,2,{"c":null}]}})");
  EXPECT_EQ(One(R"({"id":1,"publish":{"channel":"c","data":[1,"x",[],{}]}})"),
            R"(publish id=1 channel="c" data=[1,"x",[],{}])");
  // A JSON string holding JSON stays a string, escapes untouched (spec §2.13 delta payloads).
  EXPECT_EQ(One(R"({"id":1,"publish":{"channel":"c","data":"{\"a\":1}"}})"),
            R"(publish id=1 channel="c" data="{\"a\":1}")");
  EXPECT_EQ(One(R"({"id":1,"publish":{"channel":"c","data":-12.5e+3}})"),
            R"(publish id=1 channel="c" data=-12.5e+3)");
  EXPECT_EQ(One(R"({"id":1,"publish":{"channel":"c","data":0}})"),
            R"(publish id=1 channel="c" data=0)");
  // Valid JSON that simdjson's DOM would refuse (json_check.h): accepted, as Centrifugo does.
  EXPECT_EQ(
      One(R"({"id":1,"publish":{"channel":"c","data":{"big":123456789012345678901234567890}}})"),
      R"(publish id=1 channel="c" data={"big":123456789012345678901234567890})");
  EXPECT_EQ(One(R"({"id":1,"publish":{"channel":"c","data":1e400}})"),
            R"(publish id=1 channel="c" data=1e400)");
  EXPECT_EQ(One(R"({"id":1,"publish":{"channel":"c","data":"cut \ud83d"}})"),
            R"(publish id=1 channel="c" data="cut \ud83d")");
  // Invalid UTF-8 anywhere in the line is refused (simdjson stage 1).
  EXPECT_EQ(One("{\"id\":1,\"publish\":{\"channel\":\"c\",\"data\":\"\xff\"}}"), "ERROR");
  EXPECT_EQ(One("{\"id\":1,\"publish\":{\"channel\":\"c\",\"data\":{\"\xc3\":1}}}"), "ERROR");
  EXPECT_EQ(One(R"({"id":1,"publish":{"channel":"c","data":true}})"),
            R"(publish id=1 channel="c" data=true)");
  EXPECT_EQ(One(R"({"id":1,"publish":{"channel":"c","data":false}})"),
            R"(publish id=1 channel="c" data=false)");
  EXPECT_EQ(One(R"({"id":1,"publish":{"channel":"c","data":""}})"),
            R"(publish id=1 channel="c" data="")");
  // Inner whitespace (incl. raw \t and \r) and escaped newlines are kept; whitespace after the
  // value is not part of it.
  EXPECT_EQ(One("{\"id\":1,\"publish\":{\"data\" :  { \"a\" :\t[ 1 ,\r2 ] , \"s\":\"l1\\nl2\" }  , "
                "\"channel\":\"c\"}}"),
            "publish id=1 channel=\"c\" data={ \"a\" :\t[ 1 ,\r2 ] , \"s\":\"l1\\nl2\" }");
  EXPECT_EQ(One("{\"id\":1,\"publish\":{\"data\":[ 1 ]\t,\"channel\":\"c\"}}"),
            "publish id=1 channel=\"c\" data=[ 1 ]");
  EXPECT_EQ(One("{\"id\":1,\"publish\":{\"data\":\"x\"  ,\"channel\":\"c\"}}"),
            "publish id=1 channel=\"c\" data=\"x\"");
  EXPECT_EQ(One("{\"id\":1,\"publish\":{\"channel\":\"c\",\"data\":7 }}"),
            "publish id=1 channel=\"c\" data=7");
  // The data view points into the message itself (no copy).
  Frame frame(R"({"id":1,"send":{"data":{"x":1}}})");
  CommandDecoder decoder;
  decoder.Reset(frame.view(), Version::kV2);
  Command cmd;
  ASSERT_EQ(decoder.Next(&cmd), DecodeStatus::kCommand);
  EXPECT_GE(cmd.data.data(), frame.view().data());
  EXPECT_LE(cmd.data.data() + cmd.data.size(), frame.view().data() + frame.view().size());
}

TEST(DecoderV2Test, InvalidDataIsRejected) {
  for (const char* data : {R"({"a":tru})",
                           R"({"a":1,})",
                           R"([1,])",
                           R"([1 2])",
                           R"({"a" 1})",
                           R"({"a":01})",
                           R"({"a":"\x"})",
                           R"({"a":nul})",
                           R"({"a":-})",
                           R"({"a":1.})",
                           R"({"a":.5})",
                           "tru",
                           "nul",
                           "falsey",
                           "01",
                           "1.",
                           "-",
                           "+1",
                           R"("\u12")",
                           R"({"a":[}])",
                           R"({1:2})",
                           R"({"a":{"b":1})",
                           R"(["a")",
                           "1e",
                           "NaN",
                           "Infinity",
                           "'x'",
                           "undefined"}) {
    std::string line = std::string(R"({"id":1,"publish":{"channel":"c","data":)") + data + "}}";
    EXPECT_EQ(One(line), "ERROR") << line;
  }
  // A raw newline ends the line (lib splits on '\n' too), so a pretty-printed payload is two
  // broken commands.
  EXPECT_EQ(One("{\"id\":1,\"publish\":{\"channel\":\"c\",\"data\":{\"a\":\n1}}}"), "ERROR");
  // Losing method bodies are validated too.
  EXPECT_EQ(One(R"({"id":1,"connect":{},"publish":{"data":{"a":tru}}})"), "ERROR");
}

TEST(DecoderV2Test, Id) {
  EXPECT_EQ(One(R"({"id":0,"send":{}})"), "send id=0");
  EXPECT_EQ(One(R"({"id":4294967295,"ping":{}})"), "ping id=4294967295");
  EXPECT_EQ(One(R"({"connect":{},"id":7})"), "connect id=7");
  EXPECT_EQ(One(R"({"id":1,"id":2,"ping":{}})"), "ping id=2");  // last wins, as in Go
  for (const char* id : {"-1", "-0", "1.5", "1.0", "1e2", "4294967296", "18446744073709551616",
                         "\"1\"", "true", "[]", "{}", "01"}) {
    std::string line = std::string(R"({"id":)") + id + R"(,"ping":{}})";
    EXPECT_EQ(One(line), "ERROR") << line;
  }
}

TEST(DecoderV2Test, SeveralMethodKeys) {
  // The first key in the fixed order wins (spec §2.1), not the first in the object; nothing of
  // the losing body leaks into the command.
  EXPECT_EQ(One(R"({"id":1,"subscribe":{"channel":"a","recover":true},"connect":{"token":"t"}})"),
            R"(connect id=1 token="t")");
  EXPECT_EQ(One(R"({"id":1,"connect":{"token":"t"},"subscribe":{"channel":"a"}})"),
            R"(connect id=1 token="t")");
  EXPECT_EQ(One(R"({"id":1,"publish":{"channel":"p","data":1},"unsubscribe":{"channel":"u"}})"),
            R"(unsubscribe id=1 channel="u")");
  EXPECT_EQ(One(R"({"id":1,"sub_refresh":{"channel":"s"},"rpc":{"method":"m"},"send":{}})"),
            "send id=1");
  EXPECT_EQ(One(R"({"id":1,"subscribe":{"channel":"a"},"subscribe":{"channel":"b"}})"),
            R"(subscribe id=1 channel="b")");
  // A losing body is still type-checked, as Go decodes every field of the command.
  EXPECT_EQ(One(R"({"id":1,"connect":{},"subscribe":{"channel":5}})"), "ERROR");
  EXPECT_EQ(One(R"({"id":1,"connect":{},"subscribe":[]})"), "ERROR");
}

TEST(DecoderV2Test, WrongTypesAreErrors) {
  for (const char* line : {
           R"({"id":1,"connect":[]})",
           R"({"id":1,"connect":"x"})",
           R"({"id":1,"connect":true})",
           R"({"id":1,"subscribe":{"channel":5}})",
           R"({"id":1,"subscribe":{"channel":["c"]}})",
           R"({"id":1,"subscribe":{"channel":"c","recover":"true"}})",
           R"({"id":1,"subscribe":{"channel":"c","recover":1}})",
           R"({"id":1,"subscribe":{"channel":"c","offset":-1}})",
           R"({"id":1,"subscribe":{"channel":"c","offset":1.5}})",
           R"({"id":1,"subscribe":{"channel":"c","offset":"5"}})",
           R"({"id":1,"subscribe":{"channel":"c","offset":18446744073709551616}})",
           R"({"id":1,"subscribe":{"channel":"c","epoch":1}})",
           R"({"id":1,"subscribe":{"channel":"c","delta":true}})",
           R"({"id":1,"history":{"channel":"c","limit":2147483648}})",
           R"({"id":1,"history":{"channel":"c","limit":-2147483649}})",
           R"({"id":1,"history":{"channel":"c","limit":1.5}})",
           R"({"id":1,"history":{"channel":"c","since":"x"}})",
           R"({"id":1,"history":{"channel":"c","since":{"offset":"1"}}})",
           R"({"id":1,"history":{"channel":"c","reverse":0}})",
           R"({"id":1,"connect":{"subs":[]}})",
           R"({"id":1,"connect":{"subs":{"a":5}}})",
           R"({"id":1,"connect":{"subs":{"a":{"recover":"yes"}}}})",
           R"({"id":1,"connect":{"name":{}}})",
           R"({"id":1,"rpc":{"method":1}})",
       }) {
    EXPECT_EQ(One(line), "ERROR") << line;
  }
}

TEST(DecoderV2Test, ConnectSubsLimit) {
  std::string subs;
  for (int i = 0; i < 16; ++i) {
    if (i > 0) subs += ',';
    subs += "\"c" + std::to_string(i) + "\":{}";
  }
  Frame frame(R"({"id":1,"connect":{"subs":{)" + subs + "}}}");
  CommandDecoder decoder;
  decoder.Reset(frame.view(), Version::kV2);
  Command cmd;
  ASSERT_EQ(decoder.Next(&cmd), DecodeStatus::kCommand);
  ASSERT_EQ(cmd.num_subs, 16u);
  EXPECT_EQ(cmd.subs[15].channel, "c15");
  EXPECT_EQ(One(R"({"id":1,"connect":{"subs":{)" + subs + R"(,"c16":{}}}})"), "ERROR");
  // A repeated channel does not take a second slot; the last entry wins, like the Go map.
  EXPECT_EQ(One(R"({"id":1,"connect":{"subs":{"a":{"offset":1},"b":{},"a":{"offset":2}}}})"),
            R"(connect id=1 sub="a":2:"" sub="b":0:"")");
}

TEST(DecoderV2Test, NotAnObjectOrTrailingGarbage) {
  for (const char* line : {"[1]",
                           "\"x\"",
                           "1",
                           "null",
                           "true",
                           "{",
                           "}",
                           "{\"id\":1",
                           "{\"id\":1}}",
                           "{\"id\":1} {\"id\":2}",
                           "{\"id\":1}{\"id\":2}",
                           "{\"id\":1}x",
                           "{\"id\":1},",
                           "hello",
                           "{'id':1}",
                           "{\"id\":1,}",
                           "{\"id\" 1}",
                           "{\"id\":1 \"ping\":{}}",
                           "{\"ping\":{}]",
                           "\xef\xbb\xbf{}",
                           "{\"a\":\"unterminated}"}) {
    EXPECT_EQ(One(line), "ERROR") << line;
  }
}

// ---- Framing (spec §1.4) -----------------------------------------------------------------------

TEST(DecoderFramingTest, BatchIsDecodedInOrder) {
  // What JS 5.x sends on open (spec §2.12).
  EXPECT_EQ(DecodeAll("{\"id\":1,\"connect\":{\"token\":\"t\",\"name\":\"js\"}}\n"
                      "{\"id\":2,\"subscribe\":{\"channel\":\"a\"}}\n"
                      "{\"id\":3,\"subscribe\":{\"channel\":\"b\",\"recover\":true,\"offset\":3,"
                      "\"epoch\":\"e\"}}",
                      Version::kV2),
            (std::vector<std::string>{
                R"(connect id=1 token="t" name="js")", R"(subscribe id=2 channel="a")",
                R"(subscribe id=3 channel="b" recover offset=3 epoch="e")", "END"}));
}

TEST(DecoderFramingTest, EmptyLinesCrLfAndTrailingNewline) {
  EXPECT_EQ(DecodeAll("\n\r\n{\"id\":1,\"ping\":{}}\r\n\r\n  \t \n{}\n\n", Version::kV2),
            (std::vector<std::string>{"ping id=1", "pong id=0", "END"}));
  EXPECT_EQ(DecodeAll("  {\"id\":1,\"ping\":{}}  \r", Version::kV2),
            (std::vector<std::string>{"ping id=1", "END"}));
  EXPECT_EQ(DecodeAll("", Version::kV2), (std::vector<std::string>{"END"}));
  EXPECT_EQ(DecodeAll("\n", Version::kV1), (std::vector<std::string>{"END"}));
  EXPECT_EQ(DecodeAll("\r\n\r\n", Version::kV2), (std::vector<std::string>{"END"}));
}

TEST(DecoderFramingTest, ErrorStopsTheMessageAndIsSticky) {
  EXPECT_EQ(DecodeAll("{\"id\":1,\"ping\":{}}\n{bad}\n{\"id\":3,\"ping\":{}}", Version::kV2),
            (std::vector<std::string>{"ping id=1", "ERROR: malformed command"}));
  Frame bad("[]");
  Frame good("{}");
  CommandDecoder decoder;
  Command cmd;
  decoder.Reset(bad.view(), Version::kV2);
  EXPECT_EQ(decoder.Next(&cmd), DecodeStatus::kError);
  EXPECT_STRNE(decoder.error(), "");
  EXPECT_EQ(decoder.Next(&cmd), DecodeStatus::kError);
  decoder.Reset(good.view(), Version::kV2);
  EXPECT_STREQ(decoder.error(), "");
  EXPECT_EQ(decoder.Next(&cmd), DecodeStatus::kCommand);
  EXPECT_EQ(decoder.Next(&cmd), DecodeStatus::kEnd);
  EXPECT_EQ(decoder.Next(&cmd), DecodeStatus::kEnd);
}

TEST(DecoderFramingTest, BytesAfterTheMessageAreNotRead) {
  // The message is a prefix of a buffer whose next bytes look like more JSON.
  std::string buf = "{\"id\":1,\"ping\":{}}{\"id\":2,\"connect\":{}}";
  buf.append(kMessagePadding, ' ');
  CommandDecoder decoder;
  decoder.Reset(std::string_view(buf.data(), 18), Version::kV2);
  Command cmd;
  ASSERT_EQ(decoder.Next(&cmd), DecodeStatus::kCommand);
  EXPECT_EQ(Dump(cmd), "ping id=1");
  EXPECT_EQ(decoder.Next(&cmd), DecodeStatus::kEnd);
  // A number at the very end of a truncated message must not continue into the padding digits.
  EXPECT_EQ(One("{\"id\":1"), "ERROR");
}

TEST(DecoderFramingTest, ManyLinesAndGrowingLines) {
  std::string msg;
  for (int i = 1; i <= 1000; ++i) {
    msg += "{\"id\":" + std::to_string(i) + ",\"subscribe\":{\"channel\":\"" + std::string(i, 'x') +
           "\"}}\n";
  }
  std::vector<std::string> all = DecodeAll(msg, Version::kV2);
  ASSERT_EQ(all.size(), 1001u);
  EXPECT_EQ(all[999], "subscribe id=1000 channel=\"" + std::string(1000, 'x') + "\"");
  EXPECT_EQ(all[1000], "END");
}

TEST(DecoderFramingTest, ReusedAcrossMessagesAndVersions) {
  CommandDecoder decoder;
  Command cmd;
  Frame a(R"({"id":1,"subscribe":{"channel":"a","recover":true,"offset":3}})");
  Frame b(R"({"id":2,"method":2,"params":{"channel":"b"}})");
  decoder.Reset(a.view(), Version::kV2);
  ASSERT_EQ(decoder.Next(&cmd), DecodeStatus::kCommand);
  decoder.Reset(b.view(), Version::kV1);
  ASSERT_EQ(decoder.Next(&cmd), DecodeStatus::kCommand);
  EXPECT_EQ(Dump(cmd), R"(unsubscribe id=2 channel="b")");  // nothing left over from `a`
}

// ---- v1 (spec §3) ------------------------------------------------------------------------------

TEST(DecoderV1Test, SpecExamples) {
  EXPECT_EQ(V1(R"({"id":1,"params":{"token":"eyJ...","name":"js"}})"),
            R"(connect id=1 token="eyJ..." name="js")");
  EXPECT_EQ(V1(R"({"id":2,"method":1,"params":{"channel":"news"}})"),
            R"(subscribe id=2 channel="news")");
  EXPECT_EQ(V1(R"({"id":3,"method":7})"), "ping id=3");
  EXPECT_EQ(V1(R"({"id":4,"method":10,"params":{"token":"t2"}})"), R"(refresh id=4 token="t2")");
  EXPECT_EQ(
      V1(R"({"id":5,"method":1,"params":{"channel":"$ch","token":"jwt","recover":true,"offset":3,"epoch":"e"}})"),
      R"(subscribe id=5 token="jwt" channel="$ch" recover offset=3 epoch="e")");
  EXPECT_EQ(V1(R"({"id":6,"method":3,"params":{"channel":"c","data":{"x":[1]}}})"),
            R"(publish id=6 channel="c" data={"x":[1]})");
  EXPECT_EQ(
      V1(R"({"id":7,"method":6,"params":{"channel":"c","limit":5,"since":{"offset":2,"epoch":"e"},"reverse":true}})"),
      R"(history id=7 channel="c" reverse since={2,"e"} limit=5)");
  EXPECT_EQ(V1(R"({"id":8,"method":9,"params":{"method":"m","data":"s"}})"),
            R"(rpc id=8 method="m" data="s")");
  EXPECT_EQ(V1(R"({"method":8,"params":{"data":{"a":1}}})"), R"(send id=0 data={"a":1})");
  EXPECT_EQ(V1(R"({"id":9,"method":11,"params":{"channel":"c","token":"t"}})"),
            R"(sub_refresh id=9 token="t" channel="c")");
  EXPECT_EQ(V1(R"({"id":1,"params":{"subs":{"a":{"recover":true,"offset":1,"epoch":"x"}}}})"),
            R"(connect id=1 sub="a":recover:1:"x")");
}

TEST(DecoderV1Test, EveryMethodNumber) {
  for (int m = 0; m < 12; ++m) {
    std::string line = R"({"id":1,"method":)" + std::to_string(m) + R"(,"params":{}})";
    EXPECT_EQ(V1(line), std::string(MethodName(static_cast<Method>(m))) + " id=1") << line;
  }
  EXPECT_EQ(V1(R"({"id":1})"), "connect id=1");  // method omitted = 0 connect
  EXPECT_EQ(V1("{}"), "connect id=0");
  EXPECT_EQ(V1(R"({"id":1,"method":null,"params":null})"), "connect id=1");
  for (const char* method :
       {"12", "-1", "100", "\"subscribe\"", "\"1\"", "1.5", "1.0", "true", "{}", "4294967297"}) {
    std::string line = std::string(R"({"id":1,"method":)") + method + "}";
    EXPECT_EQ(V1(line), "ERROR") << line;
  }
}

TEST(DecoderV1Test, ParamsMayComeFirstAndAreChecked) {
  EXPECT_EQ(V1(R"({"params":{"channel":"x"},"method":1,"id":4})"), R"(subscribe id=4 channel="x")");
  EXPECT_EQ(V1(R"({"params":{"channel":"x"},"method":2,"params":{"channel":"y"}})"),
            R"(unsubscribe id=0 channel="y")");
  // null is skipped, as easyjson does: an earlier value stays.
  EXPECT_EQ(V1(R"({"id":1,"method":1,"params":{"channel":"a"},"params":null,"method":null})"),
            R"(subscribe id=1 channel="a")");
  EXPECT_EQ(V1(R"({"id":1,"method":3,"params":{"channel":"c","data":{"a":tru}}})"), "ERROR");
  EXPECT_EQ(V1(R"({"id":1,"method":1,"params":{"channel":5}})"), "ERROR");
  EXPECT_EQ(V1(R"({"id":1,"method":1,"params":[1]})"), "ERROR");
  EXPECT_EQ(V1(R"({"id":1,"method":1,"params":"x"})"), "ERROR");
  EXPECT_EQ(V1(R"({"id":1,"method":1,"params":{"channel":"a",}})"), "ERROR");
  EXPECT_EQ(V1(R"({"id":1,"method":1,"params":{"channel":"a"}]})"), "ERROR");
  EXPECT_EQ(V1(R"({"id":1,"method":1,"params":{"channel":"a" "b"}})"), "ERROR");
  // Unknown envelope and params fields are ignored; v2 method keys mean nothing in v1.
  EXPECT_EQ(
      V1(R"({"id":2,"method":1,"params":{"channel":"c","seq":1,"gen":2},"connect":{},"x":[]})"),
      R"(subscribe id=2 channel="c")");
  EXPECT_EQ(V1(R"({"id":2,"method":1,"params":{"channel":"\u0024c"}})"),
            R"(subscribe id=2 channel="$c")");
  EXPECT_EQ(V1(R"({"id":-2,"method":1})"), "ERROR");
  EXPECT_EQ(
      DecodeAll(
          "{\"id\":1,\"method\":1,\"params\":{\"channel\":\"c\"}}\r\n{\"id\":2,\"method\":7}\n",
          Version::kV1),
      (std::vector<std::string>{R"(subscribe id=1 channel="c")", "ping id=2", "END"}));
}

// ---- Sniff (spec §1.5) -------------------------------------------------------------------------

Version Sniff(std::string_view message) {
  Frame frame(message);
  return CommandDecoder::Sniff(frame.view());
}

TEST(DecoderSniffTest, ConnectKeyMeansV2) {
  EXPECT_EQ(Sniff(R"({"id":1,"connect":{"token":"t","name":"js"}})"), Version::kV2);
  EXPECT_EQ(Sniff("{\"id\":1,\"connect\":{}}\n{\"id\":2,\"subscribe\":{\"channel\":\"a\"}}"),
            Version::kV2);
  EXPECT_EQ(Sniff("\r\n\n  {\"connect\":{},\"id\":1}"), Version::kV2);
  EXPECT_EQ(Sniff(R"({"id":1,"\u0063onnect":{}})"), Version::kV2);
  EXPECT_EQ(Sniff(R"({"id":1,"params":{"token":"t","name":"js"}})"), Version::kV1);
  EXPECT_EQ(Sniff(R"({"id":1,"params":{"data":{"connect":1}}})"), Version::kV1);  // nested key
  EXPECT_EQ(Sniff(R"({"id":1})"), Version::kV1);
  EXPECT_EQ(Sniff(R"({"id":1,"method":0})"), Version::kV1);
  EXPECT_EQ(Sniff("{\"id\":1,\"params\":{}}\n{\"id\":2,\"connect\":{}}"),
            Version::kV1);  // first command only
  EXPECT_EQ(Sniff(""), Version::kV1);
  EXPECT_EQ(Sniff("garbage"), Version::kV1);
  EXPECT_EQ(Sniff("[{\"connect\":{}}]"), Version::kV1);
  EXPECT_EQ(Sniff("{\"connect\""), Version::kV1);
}

// ---- Micro measure (printed, not asserted) -----------------------------------------------------

double ThreadCpuNs() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

TEST(DecoderMeasure, ConnectPlusTwoSubscribes) {
  Frame frame(
      "{\"id\":1,\"connect\":{\"token\":\"eyJhbGciOiJIUzI1NiJ9."
      "eyJzdWIiOiI0MiIsImV4cCI6MTcwMDAwMDAwMH0."
      "3q2nYm2mQnIY6jTlnXkE2lZpfnbgTxSYhJt3b1lK0xQ\",\"name\":\"js\"}}\n"
      "{\"id\":2,\"subscribe\":{\"channel\":\"chat:index\"}}\n"
      "{\"id\":3,\"subscribe\":{\"channel\":\"$users:42\",\"recover\":true,\"offset\":17,\"epoch\":"
      "\"xAbC\"}}");
  CommandDecoder decoder;
  Command cmd;
  constexpr int kIterations = 100000;
  size_t commands = 0;
  auto run = [&] {
    decoder.Reset(frame.view(), Version::kV2);
    while (decoder.Next(&cmd) == DecodeStatus::kCommand) ++commands;
  };
  run();  // warm-up: parser buffers reach their steady size
  double best = 1e300;
  for (int round = 0; round < 5;
       ++round) {  // best of 5 in thread CPU time: the build machine is shared
    const double start = ThreadCpuNs();
    for (int i = 0; i < kIterations; ++i) run();
    const double ns = ThreadCpuNs() - start;
    best = std::min(best, ns / kIterations);
  }
  EXPECT_EQ(commands, 3u * (5 * kIterations + 1));
  std::printf(
      "[ measure  ] decode connect+2 subscribes frame (%zu bytes): %.0f ns/frame (best of 5)\n",
      frame.view().size(), best);
}

TEST(DecoderMeasure, PublishWith100ByteData) {
  std::string data = R"({"event_class":"chat.message","message":")";
  data += std::string(100 - data.size() - 2, 'x') + "\"}";
  Frame frame(R"({"id":7,"publish":{"channel":"chat:index","data":)" + data + "}}");
  CommandDecoder decoder;
  Command cmd;
  constexpr int kIterations = 100000;
  double best = 1e300;
  for (int round = 0; round < 5; ++round) {
    const double start = ThreadCpuNs();
    for (int i = 0; i < kIterations; ++i) {
      decoder.Reset(frame.view(), Version::kV2);
      while (decoder.Next(&cmd) == DecodeStatus::kCommand) {
      }
    }
    best = std::min(best, (ThreadCpuNs() - start) / kIterations);
  }
  EXPECT_EQ(cmd.data.size(), 100u);
  std::printf(
      "[ measure  ] decode publish with 100-byte data (%zu bytes): %.0f ns/frame (best of 5)\n",
      frame.view().size(), best);
}

}  // namespace
}  // namespace instant::protocol
