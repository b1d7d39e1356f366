#pragma once
// What a config reload (SIGHUP, node/node.h) may change in a running node, and what it may not.
//
// Every top-level key is classified once, in reload.cc: *reloadable* keys are read by the node
// per event (per connect, command, request, tick), so a new value simply takes effect for the
// next one; *restart-only* keys shaped something built at startup (the listening socket, the
// worker threads, the engine and its Redis connections, the node's name) or were announced to
// clients that keep relying on them (ping_interval, pong_timeout). docs/configuration.md
// "Reloading the configuration" lists both; config_test checks that every key is classified.
//
// PlanReload compares the running config with a freshly loaded and validated one and returns the
// config to apply: the loaded one with every restart-only key kept at its running value, so the
// node never runs on a half-applied change.

#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"

namespace instant::config {

// A restart-only key whose value changed. Values are shown for numbers, bools and durations;
// strings and lists ("" here) may hold secrets (redis_password) and are not repeated in logs.
struct RestartOnlyChange {
  std::string key;
  std::string running, loaded;
};

struct ReloadPlan {
  // The loaded config with every restart-only key at its running value. Valid if both inputs
  // were: the validation rules that involve a restart-only key involve only restart-only keys
  // (ping_interval > pong_timeout; engine and redis_address).
  Config config;
  // Changed keys that take effect, in key-table order: top-level keys, then the top-level channel
  // options by name ("presence", ...), then "namespaces" when any namespace changed.
  std::vector<std::string> applied;
  // Changed restart-only keys, not applied.
  std::vector<RestartOnlyChange> restart;
};

ReloadPlan PlanReload(const Config& running, Config loaded);

// Whether a top-level key (as in config.json) takes effect on reload. Channel options and
// namespaces do; unknown keys do not.
bool IsReloadable(std::string_view key);

// The restart-only keys (documentation and tests).
std::vector<std::string_view> RestartOnlyKeys();

namespace internal {
// Keys of the key table that are in neither or both of reload.cc's lists, and names in those
// lists that are not keys: empty unless someone added a key without classifying it (config_test).
std::vector<std::string> UnclassifiedOrTwice();
}  // namespace internal

}  // namespace instant::config
