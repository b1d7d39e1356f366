#include "hub/channel_rules.h"

#include "config/channel_regex.h"
#include "config/config.h"

namespace instant::hub {

ChannelStatus ResolveChannel(const config::Config& config, std::string_view channel,
                             const config::ChannelOptions** options) {
  if (channel.size() > static_cast<size_t>(config.channel_max_length)) return ChannelStatus::kBadName;
  const bool ascii_only = config.defaults.channel_regex.empty();
  for (unsigned char c : channel) {
    if (c < 0x20 || c == 0x7f) return ChannelStatus::kBadName;
    if (c >= 0x80 && ascii_only) return ChannelStatus::kBadName;
  }
  std::string_view rest = channel;
  const std::string& priv = config.channel_private_prefix;
  if (!priv.empty() && rest.substr(0, priv.size()) == priv) rest.remove_prefix(priv.size());
  const std::string& boundary = config.channel_namespace_boundary;
  size_t pos = boundary.empty() ? std::string_view::npos : rest.find(boundary);
  if (pos == std::string_view::npos) {
    *options = &config.defaults;
  } else {
    const config::Namespace* ns = config.FindNamespace(rest.substr(0, pos));
    if (ns == nullptr) return ChannelStatus::kUnknownNamespace;
    *options = &ns->options;
    rest.remove_prefix(pos + boundary.size());
  }
  if (!config::ChannelRegexMatches(**options, rest)) return ChannelStatus::kBadName;
  return ChannelStatus::kOk;
}

bool IsUserLimitedChannel(const config::Config& config, std::string_view channel) {
  const std::string& boundary = config.channel_user_boundary;
  return !boundary.empty() && channel.find(boundary) != std::string_view::npos;
}

bool IsPrivateChannel(const config::Config& config, std::string_view channel) {
  const std::string& priv = config.channel_private_prefix;
  return !priv.empty() && channel.substr(0, priv.size()) == priv;
}

bool UserInLimitedChannel(const config::Config& config, std::string_view channel, std::string_view user) {
  const std::string& boundary = config.channel_user_boundary;
  if (boundary.empty() || user.empty()) return false;
  size_t pos = channel.rfind(boundary);
  if (pos == std::string_view::npos) return false;
  std::string_view list = channel.substr(pos + boundary.size());
  const std::string& sep = config.channel_user_separator;
  while (true) {
    size_t next = sep.empty() ? std::string_view::npos : list.find(sep);
    if (list.substr(0, next) == user) return true;
    if (next == std::string_view::npos) return false;
    list.remove_prefix(next + sep.size());
  }
}

}  // namespace instant::hub
