#include "engine/redis_shards.h"

#include <chrono>
#include <future>
#include <utility>

#include "base/log.h"
#include "base/random.h"

namespace instant::engine {

uint64_t Fnv1a64(std::string_view s) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

int32_t JumpConsistentHash(uint64_t key, int32_t buckets) {
  int64_t b = -1;
  int64_t j = 0;
  while (j < buckets) {
    b = j;
    key = key * 2862933555777941757ull + 1;
    j = static_cast<int64_t>(static_cast<double>(b + 1) *
                             (static_cast<double>(int64_t{1} << 31) /
                              static_cast<double>((key >> 33) + 1)));
  }
  return static_cast<int32_t>(b);
}

RedisKeys::RedisKeys(std::string prefix) : prefix_(std::move(prefix)), control_(prefix_ + ".control") {}

std::string& RedisKeys::Make(std::string& out, std::string_view part, std::string_view channel) const {
  out.clear();
  out.reserve(prefix_.size() + part.size() + channel.size());
  out.append(prefix_).append(part).append(channel);
  return out;
}

std::string& RedisKeys::ClientChannel(std::string& out, std::string_view channel) const {
  return Make(out, ".client.", channel);
}
std::string& RedisKeys::Stream(std::string& out, std::string_view channel) const {
  return Make(out, ".stream.", channel);
}
std::string& RedisKeys::StreamMeta(std::string& out, std::string_view channel) const {
  return Make(out, ".stream.meta.", channel);
}
std::string& RedisKeys::Result(std::string& out, std::string_view channel, std::string_view key) const {
  Make(out, ".result.", channel);
  out.push_back('.');
  out.append(key);
  return out;
}
std::string& RedisKeys::PresenceExpire(std::string& out, std::string_view channel) const {
  return Make(out, ".presence.expire.", channel);
}
std::string& RedisKeys::PresenceData(std::string& out, std::string_view channel) const {
  return Make(out, ".presence.data.", channel);
}

std::string_view RedisShards::LoopContext::NewEpoch() {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  // splitmix64: one multiply-xorshift round per epoch; seeded from the CSPRNG at Start.
  uint64_t z = (rng += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  std::string& out = buf[7];
  out.assign(8, '\0');
  for (char& c : out) {
    c = kAlphabet[z % 62];
    z /= 62;
  }
  return out;
}

RedisShards::RedisShards(const RedisEngineOptions& options, std::vector<net::Loop*> loops,
                         std::vector<const redis::Script*> scripts)
    : addresses_(options.addresses),
      keys_(options.prefix),
      options_(options),
      loops_(std::move(loops)),
      scripts_(std::move(scripts)),
      contexts_(loops_.size()) {
  if (addresses_.empty()) addresses_.emplace_back();
  for (redis::Address& a : addresses_) {
    if (a.password.empty()) a.password = options.password;
    if (a.user.empty()) a.user = options.user;
    if (a.db == 0) a.db = options.db;
  }
  RandomSource random;
  for (size_t i = 0; i < loops_.size(); ++i) {
    contexts_[i].loop = loops_[i];
    contexts_[i].rng = random.U64();
  }
}

RedisShards::~RedisShards() = default;

int RedisShards::CallerLoop() const {
  for (size_t i = 0; i < loops_.size(); ++i) {
    if (loops_[i]->on_loop_thread()) return static_cast<int>(i);
  }
  return -1;
}

void RedisShards::Count(int delta) {
  const size_t now = delta > 0 ? connected_.fetch_add(1, std::memory_order_acq_rel) + 1
                               : connected_.fetch_sub(1, std::memory_order_acq_rel) - 1;
  const bool available = started_.load(std::memory_order_acquire) && now == total_clients();
  if (reported_available_.exchange(available, std::memory_order_acq_rel) != available) {
    if (available) {
      log::Info("redis engine: all {} shard(s) connected", addresses_.size());
    } else {
      log::Warn("redis engine: a shard connection is down, engine unavailable");
    }
    if (on_availability_) on_availability_(available);
  }
}

void RedisShards::OnClientState(uint8_t* flag, redis::State state) {
  if (state == redis::State::kConnected && !*flag) {
    *flag = 1;
    Count(+1);
  } else if (state != redis::State::kConnected && *flag) {
    *flag = 0;
    Count(-1);
  }
}

void RedisShards::Start(std::function<void()> on_first_loop,
                        std::function<void()> before_stop_first_loop) {
  if (started_.exchange(true)) return;
  on_first_loop_ = std::move(on_first_loop);
  before_stop_first_loop_ = std::move(before_stop_first_loop);
  for (size_t i = 0; i < loops_.size(); ++i) {
    if (loops_[i]->on_loop_thread()) {
      StartLoop(i);
    } else {
      loops_[i]->Post([this, i] { StartLoop(i); });
    }
  }
}

void RedisShards::StartLoop(size_t i) {
  LoopContext& c = contexts_[i];
  const size_t n = addresses_.size();
  c.commands.clear();
  c.command_up.assign(n, 0);
  for (size_t s = 0; s < n; ++s) {
    redis::ClientOptions o;
    o.address = addresses_[s];
    o.name = "redis engine loop " + std::to_string(i) + " shard " + std::to_string(s);
    o.connect_timeout_ms = options_.connect_timeout_ms;
    o.io_timeout_ms = options_.io_timeout_ms;
    o.max_pending = options_.max_pending;
    o.preload_scripts = scripts_;
    c.commands.push_back(std::make_unique<redis::Client>(c.loop, std::move(o)));
  }
  if (i == 0) {
    c.subscriber_up.assign(n, 0);
    for (size_t s = 0; s < n; ++s) {
      redis::ClientOptions o;
      o.address = addresses_[s];
      o.name = "redis engine subscriber shard " + std::to_string(s);
      o.subscriber = true;
      o.connect_timeout_ms = options_.connect_timeout_ms;
      o.io_timeout_ms = options_.io_timeout_ms;
      o.ping_interval_ms = options_.subscriber_ping_interval_ms;
      o.max_pending = options_.max_pending;
      c.subscribers.push_back(std::make_unique<redis::Client>(c.loop, std::move(o)));
    }
  }
  // Handlers reference the flag vectors: set them once the vectors have their final size.
  for (size_t s = 0; s < n; ++s) {
    c.commands[s]->set_state_handler(
        [this, flag = &c.command_up[s]](redis::State st) { OnClientState(flag, st); });
    c.commands[s]->Start();
  }
  for (size_t s = 0; s < c.subscribers.size(); ++s) {
    c.subscribers[s]->set_state_handler(
        [this, flag = &c.subscriber_up[s]](redis::State st) { OnClientState(flag, st); });
    c.subscribers[s]->set_message_handler([this, s](const redis::Message& m) {
      if (on_message_) on_message_(s, m);
    });
    c.subscribers[s]->Start();
  }
  if (i == 0 && on_first_loop_) on_first_loop_();
}

void RedisShards::StopLoop(size_t i) {
  LoopContext& c = contexts_[i];
  if (i == 0 && before_stop_first_loop_) before_stop_first_loop_();
  // Stop fails pending callbacks (kClosed) while the clients still exist; then destroy them.
  for (auto& client : c.commands) client->Stop();
  for (auto& client : c.subscribers) client->Stop();
  for (uint8_t& up : c.command_up) {
    if (up) {
      up = 0;
      Count(-1);
    }
  }
  for (uint8_t& up : c.subscriber_up) {
    if (up) {
      up = 0;
      Count(-1);
    }
  }
  c.commands.clear();
  c.subscribers.clear();
}

void RedisShards::Stop() {
  if (!started_.exchange(false)) return;
  reported_available_.store(false);
  for (size_t i = 0; i < loops_.size(); ++i) {
    if (loops_[i]->on_loop_thread()) {
      StopLoop(i);
    } else {
      // Whoever claims the stop runs it: normally the loop; if it does not run the task within
      // kStopWaitMs (its thread is gone: Stop() called too late, e.g. from a destructor after the
      // workers were joined), this thread does, since nothing else touches the clients any more.
      struct Pending {
        std::atomic<bool> claimed{false};
        std::promise<void> stopped;
      };
      auto pending = std::make_shared<Pending>();
      loops_[i]->Post([this, i, pending] {
        if (pending->claimed.exchange(true)) return;
        StopLoop(i);
        pending->stopped.set_value();
      });
      constexpr auto kStopWaitMs = std::chrono::milliseconds(2000);
      std::future<void> done = pending->stopped.get_future();
      if (done.wait_for(kStopWaitMs) != std::future_status::ready) {
        if (!pending->claimed.exchange(true)) {
          log::Warn("redis engine: loop {} did not run its stop task; stopping its clients here", i);
          StopLoop(i);
        } else {
          done.wait();  // the loop is running it, just slowly
        }
      }
    }
  }
}

}  // namespace instant::engine
