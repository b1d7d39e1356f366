#pragma once
// DeferredEngine: a test wrapper that makes any engine answer LATER — every `done` callback is
// handed to `post` instead of running at once — so the memory engine exercises the asynchronous
// paths the Redis engine takes (sessions and the API waiting for answers, requests and commands
// queued behind them). Turned on by the node when INSTANT_TEST_DEFER_ENGINE=1 (HACKING.md); never
// in production.
//
// Threading: as the wrapped engine. `post(fn)` must run fn later on the calling loop's thread.

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/engine.h"

namespace instant::engine {

class DeferredEngine final : public Engine, private HistoryStore, private PresenceStore {
 public:
  using Post = std::function<void(std::function<void()>)>;
  DeferredEngine(std::unique_ptr<Engine> inner, Post post) : inner_(std::move(inner)), post_(std::move(post)) {}

  void Publish(const Publication& pub, const HistoryOptions& history, const PublishOptions& options, int64_t now_ms,
               const PublishDone& done) override {
    inner_->Publish(pub, history, options, now_ms, [this, done](const PublishResult& r) {
      post_([done, r] { done(r); });
    });
  }
  void PublishJoinLeave(const JoinLeave& event) override { inner_->PublishJoinLeave(event); }
  void SetChannelInterest(std::string_view channel, bool interested) override {
    inner_->SetChannelInterest(channel, interested);
  }
  void WhenListening(std::string_view channel, std::function<void(bool)> done) override {
    inner_->WhenListening(channel, [this, done](bool ok) { post_([done, ok] { done(ok); }); });
  }
  HistoryStore& history() override { return *this; }
  PresenceStore& presence() override { return *this; }
  std::string_view name() const override { return inner_->name(); }

 private:
  // HistoryStore
  void Add(std::string_view channel, StoredPublication pub, const HistoryOptions& options, int64_t now_ms,
           const AddDone& done) override {
    inner_->history().Add(channel, std::move(pub), options, now_ms, done);  // ordering contract: not deferred
  }
  void Read(std::string_view channel, const HistoryQuery& query, const HistoryOptions& options, int max_limit,
            int64_t now_ms, const ReadDone& done) override {
    inner_->history().Read(channel, query, options, max_limit, now_ms, [this, done](HistoryResult r) {
      post_([done, r = std::move(r)]() mutable { done(std::move(r)); });
    });
  }
  void Remove(std::string_view channel, const RemoveDone& done) override {
    inner_->history().Remove(channel, [this, done](bool ok) { post_([done, ok] { done(ok); }); });
  }
  size_t Sweep(int64_t now_ms) override { return inner_->history().Sweep(now_ms) + inner_->presence().Sweep(now_ms); }

  // PresenceStore
  void Add(std::string_view channel, const PresenceEntry& entry, int64_t ttl_ms, int64_t now_ms) override {
    inner_->presence().Add(channel, entry, ttl_ms, now_ms);
  }
  void Remove(std::string_view channel, std::string_view client) override { inner_->presence().Remove(channel, client); }
  void Get(std::string_view channel, int64_t now_ms, const GetDone& done) override {
    inner_->presence().Get(channel, now_ms, [this, done](bool ok, std::vector<PresenceEntry> e) {
      post_([done, ok, e = std::move(e)]() mutable { done(ok, std::move(e)); });
    });
  }
  void Stats(std::string_view channel, int64_t now_ms, const StatsDone& done) override {
    inner_->presence().Stats(channel, now_ms, [this, done](bool ok, PresenceStats s) { post_([done, ok, s] { done(ok, s); }); });
  }

  std::unique_ptr<Engine> inner_;
  Post post_;
};

}  // namespace instant::engine
