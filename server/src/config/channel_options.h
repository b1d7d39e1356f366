#pragma once
// Channel options: what a channel namespace allows and keeps. The top level of config.json holds
// the options of channels without a namespace ("news"); each entry of "namespaces" holds the
// options of channels "<name>:..." (spec §5.1, §5.2). Namespaces do not inherit the top-level
// options: every option a namespace does not set is at its default below.
//
// Names and meanings are Centrifugo v4/v5's ("secure by default": everything off). Centrifugo v3
// spellings (publish, anonymous, protected, recover, ...) are read by the loader and mapped to
// these fields; see config.h and docs/configuration.md "Centrifugo v3 configs".

#include <chrono>
#include <memory>
#include <string>

namespace instant::config {

struct CompiledRegex;  // config/channel_regex.cc

struct ChannelOptions {
  // Presence: keep the set of subscribers (presence/presence_stats need it).
  bool presence = false;
  // Emit join/leave of subscribers: to subscribers that asked (join_leave in subscribe), or to all
  // with force_push_join_leave.
  bool join_leave = false;
  bool force_push_join_leave = false;

  // History stream: both or neither (the loader enforces it). history_meta_ttl: how long the
  // stream's epoch/offset survive without publications; 0 = Config::global_history_meta_ttl.
  int history_size = 0;
  std::chrono::milliseconds history_ttl{0};
  std::chrono::milliseconds history_meta_ttl{0};

  // Positioning and recovery (need history; recovery enforced by the loader).
  bool force_positioning = false, allow_positioning = false;
  bool force_recovery = false, allow_recovery = false;

  // Permissions. *_for_client: any authenticated connection; *_for_subscriber: connections
  // subscribed to the channel; *_for_anonymous: extends the former to user "" (it never grants on
  // its own). Private "$" channels always need a subscription token.
  bool allow_subscribe_for_client = false, allow_subscribe_for_anonymous = false;
  bool allow_publish_for_client = false, allow_publish_for_subscriber = false,
       allow_publish_for_anonymous = false;
  bool allow_presence_for_client = false, allow_presence_for_subscriber = false,
       allow_presence_for_anonymous = false;
  bool allow_history_for_client = false, allow_history_for_subscriber = false,
       allow_history_for_anonymous = false;
  // "ns:#42,56" may be subscribed by users 42 and 56 without a token.
  bool allow_user_limited_channels = false;

  // If set, the part of a channel name after the namespace must match it (ECMAScript syntax as
  // std::regex reads it; Centrifugo uses Go RE2, which agrees on the common subset). The loader
  // checks that it compiles. "" = any ASCII name. Matched by config/channel_regex.h, which
  // keeps the compiled form here (shared by copies of these options; nullptr until compiled).
  std::string channel_regex;
  std::shared_ptr<const CompiledRegex> compiled_regex;
};

struct Namespace {
  std::string name;  // matches ^[-a-zA-Z0-9_.]{2,}$, unique (loader-enforced)
  ChannelOptions options;
};

}  // namespace instant::config
