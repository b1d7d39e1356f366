#include "node/node.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>

#include "auth/verifier.h"
#include "base/log.h"
#include "base/random.h"
#include "config/config.h"
#include "config/reload.h"
#include "config/version.h"
#include "engine/deferred_engine.h"
#include "engine/memory_engine.h"
#include "engine/redis_engine.h"
#include "engine/memory_history.h"
#include "engine/memory_presence.h"
#include "hub/channel_rules.h"
#include "node/config_snapshot.h"
#include "node/connection.h"
#include "node/serve.h"
#include "protocol/codes.h"
#include "protocol/encoder.h"
#include "ws/frame.h"

namespace instant::node {
namespace {

// The worker whose loop runs on this thread (set when its thread starts), so that code reached
// through Node (Node::config(), ::origins()) reads that loop's snapshot and never the main
// thread's, which a reload replaces at any moment.
thread_local const Worker* t_worker = nullptr;

}  // namespace

// ---- Worker ---------------------------------------------------------------------------------

Worker::Worker(Node* node, int index) : node_(node), loop_(index), hub_(&loop_, &node->registry()) {
  ApplyConfig(node->current_snapshot());
  services_.hub = &hub_;
  services_.loop = &loop_;
  services_.decoder = &decoder_;
  services_.counters = &node->counters();
  services_.users = &node->users();
  services_.version = kVersion;
  api_.counters = &node->counters();
  api_.node = &node->info();
  api_.clients = node;
  api_.registry = &node->registry();
  api_.users = &node->users();
  api_.cluster_nodes = [node] { return node->ClusterNodes(); };
  services_.disconnect_other_connections = [node](const std::string& user, const std::string& keep) {
    node->ForEachSession(user, "", [keep](client::Session& s) {
      if (s.client_id() != keep) s.Disconnect(protocol::disconnect::kConnectionLimit);
    });
  };
  loop_.SetTick(std::chrono::milliseconds(1000), [this] { Tick(); });
}

Worker::~Worker() {
  listener.reset();
  // Connections are owned by the loop's sockets; close what is left without callbacks into a
  // half-destroyed node.
  for (Connection* c : std::vector<Connection*>(conns_)) c->Close();
  loop_.RunOnce(0);
}

void Worker::ApplyConfig(std::shared_ptr<const ConfigSnapshot> snapshot) {
  // Sessions and API handlers reach the config through these pointers, re-read on every use: the
  // next command, request or tick sees the new snapshot; nothing keeps a pointer into the old one
  // past the current call (threading.md), so it can go now.
  snapshot_ = std::move(snapshot);
  services_.config = &snapshot_->config;
  services_.verifier = snapshot_->verifier.get();
  api_.config = &snapshot_->config;
}

const config::Config& Worker::config() const { return snapshot_->config; }

void Worker::Accept(int fd) {
  auto* conn = new Connection(this, fd);
  if (!conn->Start()) {
    delete conn;  // closes fd
    return;
  }
  conn->slot = static_cast<uint32_t>(conns_.size());
  conns_.push_back(conn);
  open_.fetch_add(1, std::memory_order_relaxed);
  node_->counters().connections.fetch_add(1, std::memory_order_relaxed);
}

void Worker::Forget(Connection* conn) {
  uint32_t slot = conn->slot;
  if (slot >= conns_.size() || conns_[slot] != conn) return;
  conns_[slot] = conns_.back();
  conns_[slot]->slot = slot;
  conns_.pop_back();
  open_.fetch_sub(1, std::memory_order_relaxed);
  node_->counters().connections.fetch_sub(1, std::memory_order_relaxed);
}

void Worker::Tick() {
  if (loop_.index() == 0) {
    // Expired history streams and presence entries: bounded work per call (engine/memory_*.h).
    node_->engine()->history().Sweep(loop_.now_ms());
    node_->engine()->presence().Sweep(loop_.now_ms());
  }
  const int64_t check_delay = config().client_channel_position_check_delay.count();
  if (check_delay > 0 && loop_.now_ms() >= next_position_check_ms_) {
    if (next_position_check_ms_ != 0) CheckPositions();
    next_position_check_ms_ = loop_.now_ms() + check_delay;
  }
  // Backwards: a tick may close connections, which swap-removes them from conns_.
  for (size_t i = conns_.size(); i-- > 0;) {
    if (i < conns_.size()) conns_[i]->OnTick();
  }
}

void Worker::CheckPositions() {
  const config::Config& cfg = config();
  std::vector<std::string> channels;
  hub_.ForEachPositionedChannel([&](std::string_view name) { channels.emplace_back(name); });
  engine::HistoryQuery top_only;  // limit 0: the stream top, no publications
  for (const std::string& name : channels) {
    const config::ChannelOptions* opts = nullptr;
    if (hub::ResolveChannel(cfg, name, &opts) != hub::ChannelStatus::kOk) continue;
    engine::HistoryOptions h = engine::HistoryOptionsOf(*opts, cfg.global_history_meta_ttl.count());
    if (!engine::KeepsHistory(h)) continue;  // positioned without a stream: nothing to compare with
    node_->engine()->history().Read(
        name, top_only, h, 0, loop_.now_ms(), [this, name](engine::HistoryResult r) {
          if (!r.ok) return;  // engine unavailable: the next check tries again
          // The answer may come on another thread (Redis engine): the hub is touched only here.
          loop_.Post([this, name, top = std::move(r.top)] { hub_.CheckPositions(name, top.offset, top.epoch); });
        });
  }
}

void Worker::ForEachSession(const std::string& user, const std::string& client,
                            const std::function<void(client::Session&)>& fn) {
  // Backwards and re-checked: fn may disconnect sessions, which removes them from conns_.
  for (size_t i = conns_.size(); i-- > 0;) {
    if (i >= conns_.size()) continue;
    Connection* c = conns_[i];
    if (c->connected() && c->user() == user && (client.empty() || c->client_id() == client)) fn(*c);
  }
}

void Worker::BeginShutdown() {
  if (listener) listener->Close();
  for (size_t i = conns_.size(); i-- > 0;) {
    if (i < conns_.size()) conns_[i]->Shutdown();
  }
}

// ---- Node -----------------------------------------------------------------------------------

Node::Node(const config::Config& config, ConfigLoader reload)
    : start_config_(config), reload_(std::move(reload)) {}

Node::~Node() {
  for (auto& w : workers_) {
    w->loop().Stop();
    if (w->thread.joinable()) w->thread.join();
  }
  workers_.clear();
}

const ConfigSnapshot& Node::SnapshotHere() const {
  if (t_worker != nullptr && t_worker->node() == this) return t_worker->snapshot();
  return *snapshot_;
}

const config::Config& Node::config() const { return SnapshotHere().config; }
const auth::Verifier* Node::verifier() const { return SnapshotHere().verifier.get(); }
const ws::OriginPolicy& Node::origins() const { return SnapshotHere().origins; }

bool Node::Start(std::string* error) {
  snapshot_ = BuildConfigSnapshot(start_config_, error);
  if (!snapshot_) return false;
  const config::Config& cfg = snapshot_->config;  // restart-only keys: fixed from here on
  uid_ = NewUuidV4();
  char host[256] = {0};
  gethostname(host, sizeof(host) - 1);
  int n = cfg.workers > 0 ? cfg.workers : static_cast<int>(std::thread::hardware_concurrency());
  if (n <= 0) n = 1;
  for (int i = 0; i < n; ++i) workers_.push_back(std::make_unique<Worker>(this, i));
  port_ = cfg.port;
  name_ = cfg.name.empty() ? std::string(host) + "_" + std::to_string(port_) : cfg.name;
  if (!StartEngine(error)) return false;
  Worker* first = workers_[0].get();
  first->listener = net::Listener::Open(
      &first->loop(), cfg.address, cfg.port,
      [this](int fd) {
        Worker* w = NextWorker();
        if (w->loop().on_loop_thread()) {
          w->Accept(fd);
        } else {
          w->loop().Post([w, fd] { w->Accept(fd); });
        }
      },
      error);
  if (!first->listener) return false;
  port_ = first->listener->port();
  info_.uid = uid_;
  info_.name = name_;
  info_.version = kVersion;
  info_.started_unix = static_cast<int64_t>(::time(nullptr));
  return true;
}

std::vector<api::ClusterNode> Node::ClusterNodes() const {
  std::vector<api::ClusterNode> out;
  if (redis_ == nullptr) return out;
  for (const engine::NodeSnapshot& n : redis_->Nodes()) {
    api::ClusterNode c;
    c.uid = n.uid;
    c.name = n.name;
    c.version = n.stats.version;
    c.num_clients = n.stats.num_clients;
    c.num_users = n.stats.num_users;
    c.num_channels = n.stats.num_channels;
    c.num_subs = n.stats.num_subs;
    c.uptime = n.stats.uptime_s;
    out.push_back(std::move(c));
  }
  return out;
}

bool Node::StartEngine(std::string* error) {
  const config::Config& cfg = snapshot_->config;  // engine and redis_* are restart-only
  if (cfg.engine == "redis") {
    engine::RedisEngineOptions o;
    for (const std::string& text : cfg.redis_address) {
      redis::Address a;
      std::string problem;
      if (!redis::ParseAddress(text, &a, &problem)) {
        *error = "\"redis_address\" " + text + ": " + problem;
        return false;
      }
      o.addresses.push_back(std::move(a));
    }
    o.prefix = cfg.redis_prefix;
    o.password = cfg.redis_password;
    o.user = cfg.redis_user;
    o.db = cfg.redis_db;
    o.node_uid = uid_;
    o.node_name = name_;
    o.connect_timeout_ms = cfg.redis_connect_timeout.count();
    o.io_timeout_ms = cfg.redis_io_timeout.count();
    std::vector<net::Loop*> loops;
    for (auto& w : workers_) loops.push_back(&w->loop());
    auto redis = std::make_unique<engine::RedisEngine>(std::move(o), this, std::move(loops));
    redis->SetAvailabilityHandler([this](bool up) {
      const bool was = engine_available_.exchange(up);
      if (was != up) {
        if (up) {
          log::Info("redis: connected, the engine is available");
        } else {
          log::Warn("redis: connection lost, the engine is unavailable (commands that need it fail with 100)");
        }
      }
    });
    redis->SetNodeStatsProvider([this] {
      engine::NodeStats s;
      s.version = std::string(kVersion);
      s.num_clients = static_cast<uint64_t>(std::max<int64_t>(0, counters_.clients.load(std::memory_order_relaxed)));
      s.num_users = static_cast<uint64_t>(users_.users());
      s.num_channels = static_cast<uint64_t>(registry_.num_channels());
      s.num_subs = static_cast<uint64_t>(registry_.num_subscriptions());
      s.uptime_s = static_cast<uint64_t>(std::max<int64_t>(0, ::time(nullptr) - info_.started_unix));
      return s;
    });
    redis_ = redis.get();
    engine_available_ = false;
    engine_ = std::move(redis);
  } else {
    engine_ = std::make_unique<engine::MemoryEngine>(this);
  }
  if (const char* defer = std::getenv("INSTANT_TEST_DEFER_ENGINE"); defer != nullptr && std::string_view(defer) == "1" &&
      redis_ == nullptr) {
    // Tests only (HACKING.md): every engine answer comes one loop turn later, like Redis'.
    log::Warn("INSTANT_TEST_DEFER_ENGINE=1: engine answers are deferred (a test mode, not for production)");
    engine_ = std::make_unique<engine::DeferredEngine>(std::move(engine_), [this](std::function<void()> fn) {
      for (auto& w : workers_) {
        if (w->loop().on_loop_thread()) {
          w->loop().Post(std::move(fn));
          return;
        }
      }
      fn();
    });
  }
  for (auto& w : workers_) {
    w->services().engine = engine_.get();
    w->api().engine = engine_.get();
  }
  // The first local subscriber of a channel makes the node listen to it (Redis: SUBSCRIBE).
  registry_.SetInterestHandler(
      [this](std::string_view channel, bool interested) { engine_->SetChannelInterest(channel, interested); });
  if (redis_ != nullptr) redis_->Start();
  return true;
}

Worker* Node::NextWorker() {
  Worker* w = workers_[next_worker_].get();
  next_worker_ = (next_worker_ + 1) % workers_.size();
  return w;
}

void Node::DeliverLocal(const engine::Publication& pub) {
  // Many publications go to channels nobody here listens to (a user's channel while they are
  // away), or that only some loops serve (one subscriber): encode for and wake only those loops.
  // A subscriber joining now does not miss it: the registry is ordered with the join, and the
  // session joins before it reads the stream position, which already holds this publication.
  const uint64_t loops = registry_.LoopsWithSubscribers(pub.channel);
  if (loops == 0) return;
  auto frame = std::make_shared<hub::PubFrame>();
  frame->channel.assign(pub.channel);
  frame->offset = pub.offset;
  frame->epoch.assign(pub.epoch);
  protocol::ClientInfo info{pub.user, pub.client, pub.conn_info, pub.chan_info};
  protocol::Publication p;
  p.data = pub.data;
  p.offset = pub.offset;
  p.tags = pub.tags;
  p.info = pub.has_info ? &info : nullptr;
  std::string line;
  line.reserve(pub.channel.size() + pub.data.size() + 64);
  protocol::AppendPublicationPush(line, protocol::Version::kV2, pub.channel, p);
  ws::AppendFrame(frame->v2, ws::Opcode::kText, line);
  if (counters_.v1_clients.load(std::memory_order_relaxed) > 0) {
    line.clear();
    protocol::AppendPublicationPush(line, protocol::Version::kV1, pub.channel, p);
    ws::AppendFrame(frame->v1, ws::Opcode::kText, line);
  }
  Fanout(std::move(frame), loops);
}

void Node::DeliverJoinLeave(const engine::JoinLeave& event) {
  const uint64_t loops = registry_.LoopsWithSubscribers(event.channel);
  if (loops == 0) return;
  auto frame = std::make_shared<hub::PubFrame>();
  frame->kind = hub::PubFrame::Kind::kJoinLeave;
  frame->channel.assign(event.channel);
  protocol::ClientInfo info{event.user, event.client, event.conn_info, event.chan_info};
  std::string line;
  for (protocol::Version v : {protocol::Version::kV2, protocol::Version::kV1}) {
    if (v == protocol::Version::kV1 && counters_.v1_clients.load(std::memory_order_relaxed) == 0) break;
    line.clear();
    if (event.join) {
      protocol::AppendJoinPush(line, v, event.channel, info);
    } else {
      protocol::AppendLeavePush(line, v, event.channel, info);
    }
    ws::AppendFrame(v == protocol::Version::kV2 ? frame->v2 : frame->v1, ws::Opcode::kText, line);
  }
  Fanout(std::move(frame), loops);
}

void Node::ForEachSession(std::string user, std::string client, std::function<void(client::Session&)> fn) {
  auto shared = std::make_shared<std::tuple<std::string, std::string, std::function<void(client::Session&)>>>(
      std::move(user), std::move(client), std::move(fn));
  for (auto& w : workers_) {
    Worker* worker = w.get();
    auto task = [worker, shared] {
      worker->ForEachSession(std::get<0>(*shared), std::get<1>(*shared), std::get<2>(*shared));
    };
    if (worker->loop().on_loop_thread()) {
      task();
    } else {
      worker->loop().Post(std::move(task));
    }
  }
}

void Node::Fanout(hub::PubFrameRef ref, uint64_t loops) {
  // A publication with an offset goes through every loop's queue, its own loop's too: the engine
  // posts offsets in order under the stream lock, but a direct delivery here could overtake an
  // earlier offset another loop already queued for this one, and positioned subscribers would
  // see a gap (insufficient state). Without an offset there is no order across publishers to keep.
  for (auto& w : workers_) {
    Worker* worker = w.get();
    if ((loops & (uint64_t{1} << std::min(worker->loop().index(), 63))) == 0) continue;
    if (worker->loop().on_loop_thread() && ref->offset == 0) {
      counters_.deliveries.fetch_add(worker->hub().Deliver(ref), std::memory_order_relaxed);
    } else {
      worker->loop().Post([this, worker, ref] {
        counters_.deliveries.fetch_add(worker->hub().Deliver(ref), std::memory_order_relaxed);
      });
    }
  }
}

int Node::Run() {
  // Signals are taken synchronously by this thread; workers inherit the blocked mask.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
  for (auto& w : workers_) {
    Worker* worker = w.get();
    worker->thread = std::thread([worker] {
      t_worker = worker;
      worker->loop().BindToCurrentThread();
      worker->loop().Run();
    });
  }
  const config::Config& cfg = snapshot_->config;
  log::Info("instant {} serving on {}:{} ({} workers, engine {})", kVersion,
            cfg.address.empty() ? "0.0.0.0" : cfg.address, port_, workers_.size(), engine_->name());
  int sig = 0;
  while (sigwait(&set, &sig) == 0 && sig == SIGHUP) {
    log::Info("received SIGHUP, reloading the configuration");
    Reload();
  }
  // Read after the reloads: shutdown_timeout is reloadable.
  const std::chrono::milliseconds shutdown_timeout = snapshot_->config.shutdown_timeout;
  log::Info("received {}, shutting down (clients are told to reconnect; up to {} ms)",
            sig == SIGINT ? "SIGINT" : "SIGTERM", shutdown_timeout.count());
  for (auto& w : workers_) {
    Worker* worker = w.get();
    worker->loop().Post([worker] { worker->BeginShutdown(); });
  }
  auto deadline = std::chrono::steady_clock::now() + shutdown_timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    size_t open = 0;
    for (auto& w : workers_) open += w->open_connections();
    if (open == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (redis_ != nullptr) redis_->Stop();  // while the loops still run (redis_engine.h)
  for (auto& w : workers_) w->loop().Stop();
  for (auto& w : workers_) {
    if (w->thread.joinable()) w->thread.join();
  }
  log::Info("stopped");
  return 0;
}

void Node::Reload() {
  if (!reload_) {
    log::Warn("config reload: this node was not started from a configuration it can read again");
    return;
  }
  config::LoadResult loaded = reload_();
  for (const std::string& w : loaded.warnings) log::Warn("config reload: {}", w);
  if (!loaded.ok) {
    log::Error("config reload failed, the running configuration stays: {}", loaded.error);
    return;
  }
  const std::string source = loaded.config.source_path.empty() ? "defaults and environment" : loaded.config.source_path;
  config::ReloadPlan plan = config::PlanReload(snapshot_->config, std::move(loaded.config));
  for (const config::RestartOnlyChange& c : plan.restart) {
    if (c.running.empty()) {
      log::Warn("config reload: \"{}\" changed, but it needs a restart: NOT applied", c.key);
    } else {
      log::Warn("config reload: \"{}\" changed from {} to {}, but it needs a restart: NOT applied (still {})",
                c.key, c.running, c.loaded, c.running);
    }
  }
  if (plan.applied.empty()) {
    log::Info("config reload: {}: nothing to apply", source);
    return;
  }
  // The merged config keeps the running values of restart-only keys, which the validation rules
  // only relate to each other (config/reload.h); checked again all the same, it costs nothing.
  std::string error;
  if (!config::Validate(plan.config, source, &error)) {
    log::Error("config reload failed, the running configuration stays: {}", error);
    return;
  }
  std::shared_ptr<const ConfigSnapshot> snapshot = BuildConfigSnapshot(std::move(plan.config), &error);
  if (!snapshot) {
    log::Error("config reload failed, the running configuration stays: {}: {}", source, error);
    return;
  }
  // More verbose: before the summary line, so it shows; less verbose: after it, for the same reason.
  log::Level level = log::Level::kInfo;
  log::ParseLevel(snapshot->config.log_level, &level);  // validated
  const bool quieter = level > log::GetLevel();
  log::Format format = log::Format::kText;
  log::ParseFormat(snapshot->config.log_format, &format);  // validated
  log::SetFormat(format);
  if (!quieter) log::SetLevel(level);
  snapshot_ = snapshot;
  // Each loop switches between two of its events; until then it serves on the previous snapshot,
  // whole. The task holds the new one, so a loop never sees a half-built or freed config.
  for (auto& w : workers_) {
    Worker* worker = w.get();
    worker->loop().Post([worker, snapshot] { worker->ApplyConfig(snapshot); });
  }
  std::string applied;
  for (const std::string& key : plan.applied) applied += (applied.empty() ? "" : ", ") + key;
  log::Info("config reloaded from {}: applied {}", source, applied);
  if (quieter) log::SetLevel(level);
}

int Serve(const config::Config& config, ConfigLoader reload) {
  Node node(config, std::move(reload));
  std::string error;
  if (!node.Start(&error)) {
    log::Error("{}", error);
    return 1;
  }
  return node.Run();
}

}  // namespace instant::node
