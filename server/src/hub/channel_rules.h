#pragma once
// Channel names and the options that apply to them (spec §5.1): namespace resolution, private
// prefix, user-limited channels, name validity.

#include <string_view>

namespace instant::config {
struct Config;
struct ChannelOptions;
}  // namespace instant::config

namespace instant::hub {

enum class ChannelStatus {
  kOk,
  kUnknownNamespace,  // -> error 102
  kBadName,           // -> error 107 (empty handled by callers: 3501 for clients)
};

// Validates `channel` and finds its options: the namespace is the part before the first
// namespace boundary (':'), after the private prefix ('$') is stripped; no boundary -> top-level
// options. Names longer than channel_max_length bytes, with control characters, or (without
// channel_regex) non-ASCII bytes are kBadName — Centrifugo v4+ rules — and so are names whose
// part after the namespace does not match the namespace's channel_regex.
ChannelStatus ResolveChannel(const config::Config& config, std::string_view channel,
                             const config::ChannelOptions** options);

// True for channels that have a user boundary ('#'): "dialogs:#42,56".
bool IsUserLimitedChannel(const config::Config& config, std::string_view channel);

// True for channels that need a subscription token ('$' prefix).
bool IsPrivateChannel(const config::Config& config, std::string_view channel);

// For user-limited channels ("dialog:#42,56"): true if `channel` has a user boundary and `user`
// is in the list after the last '#'. False for channels without a boundary.
bool UserInLimitedChannel(const config::Config& config, std::string_view channel, std::string_view user);

}  // namespace instant::hub
