#include "api/api.h"

#include <openssl/crypto.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "api/batch_commands.h"
#include "api/in_order.h"
#include "api/json_params.h"
#include "api/publish_params.h"
#include "client/services.h"
#include "client/session.h"
#include "hub/channel_registry.h"
#include "base/json_writer.h"
#include "config/config.h"
#include "engine/broker.h"
#include "engine/engine.h"
#include "http/request.h"
#include "http/response.h"
#include "http/util.h"
#include "hub/channel_rules.h"
#include "protocol/encoder.h"
#include "protocol/json_check.h"

namespace instant::api {
namespace {

Status ChannelParam(std::string_view params, std::string* channel);
void AppendHistoryResult(std::string* result, const engine::HistoryResult& hr);

namespace error = protocol::error;
using simdjson::ondemand::object;
using simdjson::ondemand::value;

Status CheckChannel(const Context& ctx, std::string_view channel,
                    const config::ChannelOptions** out = nullptr) {
  if (channel.empty()) return Status::Error(error::kBadRequest, "channel required");
  const config::ChannelOptions* opts = nullptr;
  if (out == nullptr) out = &opts;
  switch (hub::ResolveChannel(*ctx.config, channel, out)) {
    case hub::ChannelStatus::kOk: return Status::Ok();
    case hub::ChannelStatus::kUnknownNamespace: return Status::Error(error::kUnknownChannel);
    case hub::ChannelStatus::kBadName: return Status::Error(error::kBadRequest, "invalid channel name");
  }
  return Status::Ok();
}

// Reads publish or broadcast params from a standalone params text.
Status ParsePublishParams(std::string_view params, bool broadcast, PublishParams* p) {
  simdjson::ondemand::document doc;
  object obj;
  if (!OpenParams(params, &doc, &obj)) return Status::Error(error::kBadRequest, "params must be a JSON object");
  return ReadPublishParams(obj, broadcast, p);
}

void AppendError(std::string* out, const Status& s) {
  *out += "{\"code\":";
  json::AppendUint(*out, s.error->code);
  *out += ",\"message\":";
  json::AppendString(*out, s.message.empty() ? s.error->message : s.message);
  *out += '}';
}

// Hands the publication to the engine (which stores it first when the channel keeps history);
// the engine calls `done` at once or later. `channel` passed CheckChannel, which gave `opts`.
void StartPublish(Context& ctx, std::string_view channel, const config::ChannelOptions& opts, const PublishParams& p,
                  const engine::Engine::PublishDone& done) {
  engine::Publication pub;
  pub.channel = channel;
  pub.data = p.data;
  pub.tags = p.tags;
  ctx.engine->Publish(pub, engine::HistoryOptionsOf(opts, ctx.config->global_history_meta_ttl.count()),
                      {.skip_history = p.skip_history, .idempotency_key = p.idempotency_key}, ctx.now_ms, done);
}

// Appends the result object of a publish the engine did (r.ok): {} or {"offset":N,"epoch":"..."}.
void AppendPublishResult(const engine::PublishResult& r, std::string* out) {
  if (r.offset == 0) {
    *out += "{}";
    return;
  }
  *out += "{\"offset\":";
  json::AppendUint(*out, r.offset);
  *out += ",\"epoch\":";
  json::AppendString(*out, r.epoch);
  *out += '}';
}

// Publishes to one channel; `done` gets the result object.
void PublishOne(Context& ctx, std::string_view channel, const PublishParams& p, MethodDone done) {
  const config::ChannelOptions* opts = nullptr;
  if (Status s = CheckChannel(ctx, channel, &opts); s.error) return done(s, {});
  StartPublish(ctx, channel, *opts, p, [done = std::move(done)](const engine::PublishResult& r) {
    if (!r.ok) return done(Status::Error(error::kInternal), {});
    std::string result;
    AppendPublishResult(r, &result);
    done(Status::Ok(), std::move(result));
  });
}

void Publish(Context& ctx, std::string_view params, MethodDone done) {
  PublishParams p;
  if (Status s = ParsePublishParams(params, false, &p); s.error) return done(s, {});
  PublishOne(ctx, p.channel, p, std::move(done));
}

// history: channel*, limit (0 = position only), since {offset, epoch}, reverse (spec §7.3).
Status ParseHistory(Context& ctx, std::string_view params, std::string* channel_out, engine::HistoryQuery* query_out,
                    engine::HistoryOptions* options) {
  simdjson::ondemand::document doc;
  object obj;
  if (!OpenParams(params, &doc, &obj)) return Status::Error(error::kBadRequest, "params must be a JSON object");
  std::string& channel = *channel_out;
  engine::HistoryQuery& query = *query_out;
  for (auto field : obj) {
    std::string_view key;
    if (field.unescaped_key().get(key) != simdjson::SUCCESS) return Status::Error(error::kBadRequest);
    value v = field.value();
    if (key == "channel") {
      std::string_view s;
      if (v.get_string().get(s) != simdjson::SUCCESS) return Status::Error(error::kBadRequest, "channel must be a string");
      channel.assign(s);
    } else if (key == "limit") {
      int64_t n;
      if (v.get_int64().get(n) != simdjson::SUCCESS) return Status::Error(error::kBadRequest, "limit must be an integer");
      query.limit = n > INT32_MAX ? INT32_MAX : n < INT32_MIN ? INT32_MIN : static_cast<int>(n);
    } else if (key == "reverse") {
      if (v.get_bool().get(query.reverse) != simdjson::SUCCESS) {
        return Status::Error(error::kBadRequest, "reverse must be a boolean");
      }
    } else if (key == "since") {
      object since;
      if (v.get_object().get(since) != simdjson::SUCCESS) {
        return Status::Error(error::kBadRequest, "since must be an object {offset, epoch}");
      }
      query.has_since = true;
      for (auto f : since) {
        std::string_view k;
        if (f.unescaped_key().get(k) != simdjson::SUCCESS) return Status::Error(error::kBadRequest);
        if (k == "offset") {
          if (f.value().get_uint64().get(query.since.offset) != simdjson::SUCCESS) {
            return Status::Error(error::kBadRequest, "since.offset must be a non-negative integer");
          }
        } else if (k == "epoch") {
          std::string_view e;
          if (f.value().get_string().get(e) != simdjson::SUCCESS) {
            return Status::Error(error::kBadRequest, "since.epoch must be a string");
          }
          query.since.epoch.assign(e);
        }
      }
    }
  }
  const config::ChannelOptions* opts = nullptr;
  if (Status s = CheckChannel(ctx, channel, &opts); s.error) return s;
  engine::HistoryOptions h = engine::HistoryOptionsOf(*opts, ctx.config->global_history_meta_ttl.count());
  if (!engine::KeepsHistory(h)) return Status::Error(error::kNotAvailable, "history is not enabled for this channel");
  if (query.reverse && query.has_since && query.since.offset == 0) {
    return Status::Error(error::kBadRequest, "reverse with since.offset 0");
  }
  if (query.limit < 0) query.limit = h.size;
  *options = h;
  return Status::Ok();
}

void History(Context& ctx, std::string_view params, MethodDone done) {
  std::string channel;
  engine::HistoryQuery query;
  engine::HistoryOptions h;
  if (Status s = ParseHistory(ctx, params, &channel, &query, &h); s.error) return done(s, {});
  ctx.engine->history().Read(channel, query, h, 0, ctx.now_ms, [done = std::move(done)](engine::HistoryResult hr) {
    if (!hr.ok) return done(Status::Error(error::kInternal), {});
    if (hr.unrecoverable) return done(Status::Error(error::kUnrecoverablePosition), {});
    std::string out;
    AppendHistoryResult(&out, hr);
    done(Status::Ok(), std::move(out));
  });
}

void AppendHistoryResult(std::string* result, const engine::HistoryResult& hr) {
  *result += "{\"publications\":[";
  for (size_t i = 0; i < hr.publications.size(); ++i) {
    const auto& p = hr.publications[i];
    if (i > 0) *result += ',';
    *result += "{\"data\":";
    json::AppendRaw(*result, p.data);
    if (!p.info.empty()) {
      *result += ",\"info\":";
      json::AppendRaw(*result, p.info);
    }
    *result += ",\"offset\":";
    json::AppendUint(*result, p.offset);
    if (!p.tags.empty()) {
      *result += ",\"tags\":";
      json::AppendRaw(*result, p.tags);
    }
    *result += '}';
  }
  *result += "],\"offset\":";
  json::AppendUint(*result, hr.top.offset);
  *result += ",\"epoch\":";
  json::AppendString(*result, hr.top.epoch);
  *result += '}';
}

void HistoryRemove(Context& ctx, std::string_view params, MethodDone done) {
  std::string channel;
  if (Status s = ChannelParam(params, &channel); s.error) return done(s, {});
  const config::ChannelOptions* opts = nullptr;
  if (Status s = CheckChannel(ctx, channel, &opts); s.error) return done(s, {});
  if (!engine::KeepsHistory(engine::HistoryOptionsOf(*opts, ctx.config->global_history_meta_ttl.count()))) {
    return done(Status::Error(error::kNotAvailable, "history is not enabled for this channel"), {});
  }
  ctx.engine->history().Remove(channel, [done = std::move(done)](bool ok) {
    if (!ok) return done(Status::Error(error::kInternal), {});
    done(Status::Ok(), "{}");
  });
}


// broadcast: publish to each of `channels` in turn; one result or error per channel, in order.
class BroadcastRun final : public InOrder {
 public:
  BroadcastRun(Context& ctx, std::string params, MethodDone done)
      : ctx_(ctx), text_(std::move(params)), done_(std::move(done)) {}

  // The params' raw data stays in text_ while publishes are answered later.
  static void Run(Context& ctx, std::string_view params, MethodDone done) {
    auto run = std::make_shared<BroadcastRun>(ctx, Padded(params), std::move(done));
    if (Status s = ParsePublishParams(run->text_, true, &run->p_); s.error) return run->done_(s, {});
    if (run->p_.channels.empty()) return run->done_(Status::Error(error::kBadRequest, "channels required"), {});
    run->out_ = "{\"responses\":[";
    run->Start(run->p_.channels.size());
  }

 private:
  void Step(size_t i) override {
    PublishOne(ctx_, p_.channels[i], p_, [self = std::static_pointer_cast<BroadcastRun>(shared_from_this()), i](
                                             Status s, std::string one) {
      std::string& out = self->out_;
      if (i > 0) out += ',';
      if (s.error) {
        out += "{\"error\":";
        AppendError(&out, s);
        out += '}';
      } else {
        out += "{\"result\":";
        out += one;
        out += '}';
      }
      self->StepDone();
    });
  }
  void Finish() override {
    out_ += "]}";
    done_(Status::Ok(), std::move(out_));
  }

  Context& ctx_;
  std::string text_;
  PublishParams p_;
  std::string out_;
  MethodDone done_;
};

void Broadcast(Context& ctx, std::string_view params, MethodDone done) {
  BroadcastRun::Run(ctx, params, std::move(done));
}

// Reads the "channel" param of methods that take only a channel.
Status ChannelParam(std::string_view params, std::string* channel) {
  simdjson::ondemand::document doc;
  object obj;
  if (!OpenParams(params, &doc, &obj)) return Status::Error(error::kBadRequest, "params must be a JSON object");
  for (auto field : obj) {
    std::string_view key, s;
    if (field.unescaped_key().get(key) != simdjson::SUCCESS) return Status::Error(error::kBadRequest);
    if (key == "channel") {
      if (field.value().get_string().get(s) != simdjson::SUCCESS) {
        return Status::Error(error::kBadRequest, "channel must be a string");
      }
      channel->assign(s);
    }
  }
  return Status::Ok();
}

Status PresenceChannel(Context& ctx, std::string_view params, std::string* channel) {
  if (Status s = ChannelParam(params, channel); s.error) return s;
  const config::ChannelOptions* opts = nullptr;
  if (Status s = CheckChannel(ctx, *channel, &opts); s.error) return s;
  if (!opts->presence) return Status::Error(error::kNotAvailable, "presence is not enabled for this channel");
  return Status::Ok();
}

void Presence(Context& ctx, std::string_view params, MethodDone done) {
  std::string channel;
  if (Status s = PresenceChannel(ctx, params, &channel); s.error) return done(s, {});
  ctx.engine->presence().Get(channel, ctx.now_ms, [done = std::move(done)](bool ok,
                                                                          std::vector<engine::PresenceEntry> entries) {
    if (!ok) return done(Status::Error(error::kInternal), {});
    std::string result = "{\"presence\":{";
    for (size_t i = 0; i < entries.size(); ++i) {
      const auto& e = entries[i];
      if (i > 0) result += ',';
      json::AppendString(result, e.client);
      result += ':';
      protocol::AppendClientInfoObject(result, protocol::ClientInfo{e.user, e.client, e.conn_info, e.chan_info});
    }
    result += "}}";
    done(Status::Ok(), std::move(result));
  });
}

void PresenceStats(Context& ctx, std::string_view params, MethodDone done) {
  std::string channel;
  if (Status s = PresenceChannel(ctx, params, &channel); s.error) return done(s, {});
  ctx.engine->presence().Stats(channel, ctx.now_ms, [done = std::move(done)](bool ok, engine::PresenceStats stats) {
    if (!ok) return done(Status::Error(error::kInternal), {});
    std::string result = "{\"num_clients\":";
    json::AppendUint(result, stats.num_clients);
    result += ",\"num_users\":";
    json::AppendUint(result, stats.num_users);
    result += '}';
    done(Status::Ok(), std::move(result));
  });
}

struct UserParams {
  std::string user, client, channel, pattern, reason;
  std::vector<std::string> whitelist;
  bool has_user = false, expired = false;
  int64_t expire_at = 0;
  uint32_t code = 0;
};

Status ParseUserParams(std::string_view params, UserParams* p) {
  simdjson::ondemand::document doc;
  object obj;
  if (!OpenParams(params, &doc, &obj)) return Status::Error(error::kBadRequest, "params must be a JSON object");
  auto str = [](value v, std::string* out) {
    std::string_view sv;
    if (v.get_string().get(sv) != simdjson::SUCCESS) return false;
    out->assign(sv);
    return true;
  };
  for (auto field : obj) {
    std::string_view key;
    if (field.unescaped_key().get(key) != simdjson::SUCCESS) return Status::Error(error::kBadRequest);
    value v = field.value();
    bool ok = true;
    if (key == "user") {
      ok = str(v, &p->user);
      p->has_user = true;
    } else if (key == "client") {
      ok = str(v, &p->client);
    } else if (key == "channel") {
      ok = str(v, &p->channel);
    } else if (key == "pattern") {
      ok = str(v, &p->pattern);
    } else if (key == "expired") {
      ok = v.get_bool().get(p->expired) == simdjson::SUCCESS;
    } else if (key == "expire_at") {
      ok = v.get_int64().get(p->expire_at) == simdjson::SUCCESS;
    } else if (key == "whitelist") {
      simdjson::ondemand::array arr;
      ok = v.get_array().get(arr) == simdjson::SUCCESS;
      if (ok) {
        for (auto item : arr) {
          std::string id;
          if (!str(item.value(), &id)) return Status::Error(error::kBadRequest, "whitelist must be an array of client ids");
          p->whitelist.push_back(std::move(id));
        }
      }
    } else if (key == "disconnect") {
      object d;
      ok = v.get_object().get(d) == simdjson::SUCCESS;
      if (ok) {
        for (auto f : d) {
          std::string_view k;
          if (f.unescaped_key().get(k) != simdjson::SUCCESS) return Status::Error(error::kBadRequest);
          if (k == "code") {
            uint64_t c;
            if (f.value().get_uint64().get(c) != simdjson::SUCCESS || c < 3000 || c > 4999) {
              return Status::Error(error::kBadRequest, "disconnect.code must be between 3000 and 4999");
            }
            p->code = static_cast<uint32_t>(c);
          } else if (k == "reason") {
            if (!str(f.value(), &p->reason)) return Status::Error(error::kBadRequest, "disconnect.reason must be a string");
          }
        }
      }
    }
    if (!ok) return Status::Error(error::kBadRequest, "malformed params");
  }
  return Status::Ok();
}

Status NeedUser(const UserParams& p) {
  if (p.user.empty()) return Status::Error(error::kBadRequest, "user required");
  return Status::Ok();
}

Status ApiSubscribe(Context& ctx, std::string_view params, std::string* result) {
  UserParams p;
  if (Status s = ParseUserParams(params, &p); s.error) return s;
  if (Status s = NeedUser(p); s.error) return s;
  if (Status s = CheckChannel(ctx, p.channel); s.error) return s;
  ctx.clients->ForEachSession(p.user, p.client, [ch = p.channel](client::Session& s) { s.ServerSubscribe(ch); });
  *result += "{}";
  return Status::Ok();
}

Status ApiUnsubscribe(Context& ctx, std::string_view params, std::string* result) {
  UserParams p;
  if (Status s = ParseUserParams(params, &p); s.error) return s;
  if (Status s = NeedUser(p); s.error) return s;
  if (Status s = CheckChannel(ctx, p.channel); s.error) return s;
  ctx.clients->ForEachSession(p.user, p.client, [ch = p.channel](client::Session& s) { s.ServerUnsubscribe(ch); });
  *result += "{}";
  return Status::Ok();
}

Status ApiDisconnect(Context& ctx, std::string_view params, std::string* result) {
  UserParams p;
  if (Status s = ParseUserParams(params, &p); s.error) return s;
  if (Status s = NeedUser(p); s.error) return s;
  uint32_t code = p.code != 0 ? p.code : protocol::disconnect::kForceDisconnect.code;
  std::string reason = p.code != 0 ? p.reason : std::string(protocol::disconnect::kForceDisconnect.reason);
  // Codes 3000-3499 and 4000-4499 let SDKs reconnect; 3500-3999 and 4500-4999 are terminal (spec §4.2).
  const bool reconnect = (code >= 3000 && code < 3500) || (code >= 4000 && code < 4500);
  ctx.clients->ForEachSession(p.user, p.client,
                              [code, reason, reconnect, whitelist = p.whitelist](client::Session& s) {
                                for (const std::string& id : whitelist) {
                                  if (id == s.client_id()) return;
                                }
                                s.Disconnect(protocol::Disconnect{static_cast<uint16_t>(code), reason, reconnect});
                              });
  *result += "{}";
  return Status::Ok();
}

Status ApiRefresh(Context& ctx, std::string_view params, std::string* result) {
  UserParams p;
  if (Status s = ParseUserParams(params, &p); s.error) return s;
  if (Status s = NeedUser(p); s.error) return s;
  ctx.clients->ForEachSession(p.user, p.client, [expired = p.expired, at = p.expire_at](client::Session& s) {
    s.ServerRefresh(expired, at);
  });
  *result += "{}";
  return Status::Ok();
}

Status ApiChannels(Context& ctx, std::string_view params, std::string* result) {
  UserParams p;
  if (Status s = ParseUserParams(params, &p); s.error) return s;
  *result += "{\"channels\":{";
  bool first = true;
  for (const auto& [name, count] : ctx.registry->Snapshot(p.pattern)) {
    if (!first) *result += ',';
    first = false;
    json::AppendString(*result, name);
    *result += ":{\"num_clients\":";
    json::AppendUint(*result, static_cast<uint64_t>(count));
    *result += '}';
  }
  *result += "}}";
  return Status::Ok();
}

Status ApiInfo(Context& ctx, std::string_view, std::string* result) {
  if (ctx.cluster_nodes) {
    std::vector<ClusterNode> nodes = ctx.cluster_nodes();
    if (!nodes.empty()) {
      *result += "{\"nodes\":[";
      for (size_t i = 0; i < nodes.size(); ++i) {
        const ClusterNode& c = nodes[i];
        if (i > 0) *result += ',';
        *result += "{\"uid\":";
        json::AppendString(*result, c.uid);
        *result += ",\"name\":";
        json::AppendString(*result, c.name);
        *result += ",\"version\":";
        json::AppendString(*result, c.version);
        *result += ",\"num_clients\":";
        json::AppendUint(*result, c.num_clients);
        *result += ",\"num_users\":";
        json::AppendUint(*result, c.num_users);
        *result += ",\"num_channels\":";
        json::AppendUint(*result, c.num_channels);
        *result += ",\"num_subs\":";
        json::AppendUint(*result, c.num_subs);
        *result += ",\"uptime\":";
        json::AppendUint(*result, c.uptime);
        *result += '}';
      }
      *result += "]}";
      return Status::Ok();
    }
  }
  const NodeInfo& n = *ctx.node;
  *result += "{\"nodes\":[{\"uid\":";
  json::AppendString(*result, n.uid);
  *result += ",\"name\":";
  json::AppendString(*result, n.name);
  *result += ",\"version\":";
  json::AppendString(*result, n.version);
  *result += ",\"num_clients\":";
  json::AppendUint(*result, static_cast<uint64_t>(std::max<int64_t>(0, ctx.counters->clients.load())));
  *result += ",\"num_users\":";
  json::AppendUint(*result, static_cast<uint64_t>(ctx.users->users()));
  *result += ",\"num_channels\":";
  json::AppendUint(*result, static_cast<uint64_t>(ctx.registry->num_channels()));
  *result += ",\"num_subs\":";
  json::AppendUint(*result, static_cast<uint64_t>(ctx.registry->num_subscriptions()));
  *result += ",\"uptime\":";
  json::AppendUint(*result, static_cast<uint64_t>(std::max<int64_t>(0, ctx.now_unix - n.started_unix)));
  *result += "}]}";
  return Status::Ok();
}

// Methods that ask the engine answer through `done`; the others answer at once.
using EngineHandler = void (*)(Context&, std::string_view, MethodDone);
using LocalHandler = Status (*)(Context&, std::string_view, std::string*);
struct Route {
  std::string_view name;
  EngineHandler engine = nullptr;
  LocalHandler local = nullptr;
};

constexpr Route kRoutes[] = {
    {"publish", Publish, nullptr},
    {"broadcast", Broadcast, nullptr},
    {"history", History, nullptr},
    {"history_remove", HistoryRemove, nullptr},
    {"presence", Presence, nullptr},
    {"presence_stats", PresenceStats, nullptr},
    {"subscribe", nullptr, ApiSubscribe},
    {"unsubscribe", nullptr, ApiUnsubscribe},
    {"disconnect", nullptr, ApiDisconnect},
    {"refresh", nullptr, ApiRefresh},
    {"channels", nullptr, ApiChannels},
    {"info", nullptr, ApiInfo},
};

// Legacy integer method numbers (spec §7.1).
constexpr std::string_view kLegacyNames[] = {"publish", "broadcast", "unsubscribe", "disconnect",
                                             "presence", "presence_stats", "history", "history_remove",
                                             "channels", "info", "rpc", "subscribe", "refresh"};

bool KeyMatches(const config::Config& cfg, const http::Request& req) {
  std::string_view given;
  std::optional<std::string> from_query;
  if (const http::Header* h = req.FindHeader("X-API-Key")) {
    given = h->value;
  } else if (std::string_view auth = req.Find("Authorization"); !auth.empty()) {
    size_t sp = auth.find(' ');
    if (sp == std::string_view::npos || !http::EqualsIgnoreCase(auth.substr(0, sp), "apikey")) return false;
    given = auth.substr(sp + 1);
    while (!given.empty() && given.front() == ' ') given.remove_prefix(1);
  } else if ((from_query = http::QueryParam(req.query, "api_key"))) {
    given = *from_query;
  }
  const std::string& key = cfg.api_key;
  if (key.empty() || given.size() != key.size()) return false;
  return CRYPTO_memcmp(given.data(), key.data(), key.size()) == 0;
}

void JsonResponse(std::string* response, int status, std::string_view body, bool keep_alive) {
  http::AppendResponse(*response, status, "application/json", body, keep_alive);
}

// Batch (v5+): {"commands":[{"publish":{...}},...]} -> {"replies":[{"publish":{...}}|{"error":..}]}.
// The commands run one after another, in order; publishes read ahead (batch_commands.h) go to the
// engine directly and their replies are written straight into the response body.
class BatchRun final : public InOrder {
 public:
  using Done = std::function<void(std::string body)>;
  BatchRun(Context& ctx, std::string body) : ctx_(ctx), body_(std::move(body)) {}

  // The batch of `body`, or nullptr with *problem for a malformed body.
  static std::shared_ptr<BatchRun> Read(Context& ctx, std::string_view body, std::string* problem) {
    auto run = std::make_shared<BatchRun>(ctx, Padded(body));
    if (!ReadBatchCommands(run->body_, &run->commands_, problem)) return nullptr;
    return run;
  }

  // Runs the commands; `done` gets the reply body.
  void Run(Done done) {
    done_ = std::move(done);
    // {"publish":{}} per command is the common reply: one allocation for the whole body.
    out_.reserve(16 + 16 * commands_.size());
    out_ = "{\"replies\":[";
    Start(commands_.size());
  }

 private:
  std::shared_ptr<BatchRun> Self() { return std::static_pointer_cast<BatchRun>(shared_from_this()); }

  void Step(size_t i) override {
    BatchCommand& c = commands_[i];
    if (!c.read_ahead) {
      CallMethod(ctx_, c.method, c.params, [self = Self(), i](Status s, std::string result) {
        self->Reply(i, s, result);
        self->StepDone();
      });
      return;
    }
    const config::ChannelOptions* opts = nullptr;
    Status s = c.status;
    if (!s.error) s = CheckChannel(ctx_, c.publish.channel, &opts);
    if (!s.error) {
      StartPublish(ctx_, c.publish.channel, *opts, c.publish, [self = Self(), i](const engine::PublishResult& r) {
        if (r.ok) {
          self->out_ += i > 0 ? ",{\"publish\":" : "{\"publish\":";
          AppendPublishResult(r, &self->out_);
          self->out_ += '}';
        } else {
          self->Reply(i, Status::Error(error::kInternal), {});
        }
        self->StepDone();
      });
      return;
    }
    Reply(i, s, {});
    StepDone();
  }

  // {"<method>":<result>} or {"error":{..}}.
  void Reply(size_t i, const Status& s, std::string_view result) {
    if (i > 0) out_ += ',';
    if (s.error) {
      out_ += "{\"error\":";
      AppendError(&out_, s);
    } else {
      out_ += '{';
      json::AppendString(out_, commands_[i].method);
      out_ += ':';
      out_ += result;
    }
    out_ += '}';
  }

  void Finish() override {
    out_ += "]}";
    done_(std::move(out_));
  }

  Context& ctx_;
  std::string body_;  // padded: commands and read-ahead params point into it
  std::vector<BatchCommand> commands_;
  std::string out_;
  Done done_;
};

// Legacy /api body: one {"method":..,"params":..,"id"?:..} per line.
struct LegacyCommand {
  std::string method;
  std::string params;
  std::string id_raw;  // echoed as-is when present
};

bool ParseLegacy(std::string_view body, std::vector<LegacyCommand>* out, std::string* problem) {
  size_t line_no = 0;
  while (!body.empty()) {
    size_t nl = body.find('\n');
    std::string_view line = body.substr(0, nl);
    body = nl == std::string_view::npos ? std::string_view() : body.substr(nl + 1);
    ++line_no;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
    if (line.empty()) continue;
    std::string padded = Padded(line);
    // Full syntax check first: On-Demand would not notice garbage after the object.
    if (!protocol::IsJsonValue(line)) {
      *problem = "command " + std::to_string(line_no) + " is not valid JSON";
      return false;
    }
    simdjson::ondemand::document doc;
    object obj;
    if (!OpenParams(padded, &doc, &obj)) {
      *problem = "command " + std::to_string(line_no) + " is not a JSON object";
      return false;
    }
    LegacyCommand cmd;
    bool has_method = false;
    for (auto field : obj) {
      std::string_view key;
      if (field.unescaped_key().get(key) != simdjson::SUCCESS) {
        *problem = "command " + std::to_string(line_no) + " is not valid JSON";
        return false;
      }
      value v = field.value();
      if (key == "method") {
        simdjson::ondemand::json_type t;
        if (v.type().get(t) != simdjson::SUCCESS) break;
        if (t == simdjson::ondemand::json_type::string) {
          std::string_view s;
          if (v.get_string().get(s) != simdjson::SUCCESS) break;
          cmd.method.assign(s);
          for (char& c : cmd.method) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
          has_method = true;
        } else if (t == simdjson::ondemand::json_type::number) {
          uint64_t n;
          if (v.get_uint64().get(n) != simdjson::SUCCESS) {
            *problem = "command " + std::to_string(line_no) + ": method must be a name or a number";
            return false;
          }
          cmd.method = n < std::size(kLegacyNames) ? std::string(kLegacyNames[n]) : "#" + std::to_string(n);
          has_method = true;
        }
      } else if (key == "params") {
        std::string_view raw;  // of the line checked whole above
        if (!RawJson(v, &raw)) {
          *problem = "command " + std::to_string(line_no) + ": params is not valid JSON";
          return false;
        }
        cmd.params.assign(raw);
      } else if (key == "id") {
        std::string_view raw;
        if (!RawJson(v, &raw)) {
          *problem = "command " + std::to_string(line_no) + ": id is not valid JSON";
          return false;
        }
        cmd.id_raw.assign(raw);
      }
    }
    if (!has_method) {
      // Centrifugo v3 treated a missing method as 0 (publish); keep that for old clients.
      cmd.method = "publish";
    }
    out->push_back(std::move(cmd));
  }
  if (out->empty()) {
    *problem = "empty request body: send one JSON command per line";
    return false;
  }
  return true;
}

// Legacy /api: the lines' commands in order, one reply line each.
class LegacyRun final : public InOrder {
 public:
  using Done = std::function<void(std::string body)>;
  LegacyRun(Context& ctx, std::vector<LegacyCommand> commands, Done done)
      : ctx_(ctx), commands_(std::move(commands)), done_(std::move(done)) {}

 private:
  void Step(size_t i) override {
    LegacyCommand& cmd = commands_[i];
    cmd.params = Padded(cmd.params);
    CallMethod(ctx_, cmd.method, cmd.params,
               [self = std::static_pointer_cast<LegacyRun>(shared_from_this()), i](Status s, std::string result) {
                 self->Reply(i, s, result);
                 self->StepDone();
               });
  }

  void Reply(size_t i, const Status& s, std::string_view result) {
    const LegacyCommand& c = commands_[i];
    if (i > 0) out_ += '\n';
    out_ += '{';
    if (!c.id_raw.empty()) {
      out_ += "\"id\":";
      out_ += c.id_raw;
      out_ += ',';
    }
    if (s.error) {
      out_ += "\"error\":";
      AppendError(&out_, s);
    } else {
      out_ += "\"result\":";
      out_ += result;
    }
    out_ += '}';
  }

  void Finish() override { done_(std::move(out_)); }

  Context& ctx_;
  std::vector<LegacyCommand> commands_;
  std::string out_;
  Done done_;
};

}  // namespace

void CallMethod(Context& ctx, std::string_view name, std::string_view params, MethodDone done) {
  for (const Route& r : kRoutes) {
    if (r.name != name) continue;
    if (r.engine != nullptr) return r.engine(ctx, params, std::move(done));
    std::string result;
    Status s = r.local(ctx, params, &result);
    return done(s, std::move(result));
  }
  done(Status::Error(error::kMethodNotFound), {});
}

void HandleHttp(Context& ctx, const http::Request& req, std::string_view body, bool keep_alive,
                Respond respond) {
  std::string response;
  if (req.method != "POST") {
    http::AppendResponse(response, 405, "application/json",
                         "{\"error\":\"method not allowed: the API takes POST requests\"}", keep_alive,
                         "Allow: POST\r\n");
    return respond(std::move(response));
  }
  const config::Config& cfg = *ctx.config;
  if (!cfg.api_insecure && !KeyMatches(cfg, req)) {
    const char* msg = cfg.api_key.empty()
        ? "{\"error\":\"unauthorized: no api_key is configured on the server (set api_key, or api_insecure for development)\"}"
        : "{\"error\":\"unauthorized: send the API key in an X-API-Key header or as Authorization: apikey <key>\"}";
    JsonResponse(&response, 401, msg, keep_alive);
    return respond(std::move(response));
  }
  // The 200 answer of /api and /api/batch, whose body the commands assemble (made only there:
  // it takes `respond`).
  auto reply_200 = [&respond, keep_alive] {
    return [respond = std::move(respond), keep_alive](std::string body) {
      std::string r;
      JsonResponse(&r, 200, body, keep_alive);
      respond(std::move(r));
    };
  };
  std::string_view path = req.path;
  while (path.size() > 4 && path.back() == '/') path.remove_suffix(1);
  if (path == "/api") {
    std::vector<LegacyCommand> commands;
    std::string problem;
    if (!ParseLegacy(body, &commands, &problem)) {
      http::AppendJsonError(response, 400, problem, keep_alive);
      return respond(std::move(response));
    }
    const size_t n = commands.size();
    std::make_shared<LegacyRun>(ctx, std::move(commands), reply_200())->Start(n);
    return;
  }
  std::string_view method = path.substr(5);  // after "/api/"
  if (method == "batch") {
    std::string problem;
    std::shared_ptr<BatchRun> run = BatchRun::Read(ctx, body, &problem);
    if (run == nullptr) {
      http::AppendJsonError(response, 400, problem, keep_alive);
      return respond(std::move(response));
    }
    run->Run(reply_200());
    return;
  }
  // Malformed JSON is a transport-level error (HTTP 400), not a method error. Checked whole here,
  // the params need no other check (CallMethod).
  std::string_view probe = body.empty() ? std::string_view("{}") : body;
  if (!protocol::IsJsonValue(probe)) {
    http::AppendJsonError(response, 400, "request body is not valid JSON", keep_alive);
    return respond(std::move(response));
  }
  size_t first = probe.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos || probe[first] != '{') {
    http::AppendJsonError(response, 400, "request body must be a JSON object of the method's params", keep_alive);
    return respond(std::move(response));
  }
  CallMethod(ctx, method, Padded(body), [respond = std::move(respond), keep_alive](Status s, std::string result) {
    std::string out;
    if (s.error) {
      out = "{\"error\":";
      AppendError(&out, s);
      out += '}';
    } else {
      out.reserve(result.size() + 11);
      out = "{\"result\":";
      out += result;
      out += '}';
    }
    std::string r;
    JsonResponse(&r, s.error && s.error->code == error::kMethodNotFound.code ? 404 : 200, out, keep_alive);
    respond(std::move(r));
  });
}

}  // namespace instant::api
