#include "config/channel_regex.h"

#include <regex>

#include "config/config.h"

namespace instant::config {

struct CompiledRegex {
  std::regex re;
};

namespace {

bool Compile(ChannelOptions& o) {
  if (o.channel_regex.empty()) return true;
  try {
    auto compiled = std::make_shared<CompiledRegex>();
    compiled->re = std::regex(o.channel_regex, std::regex::ECMAScript | std::regex::optimize);
    o.compiled_regex = std::move(compiled);
    return true;
  } catch (const std::regex_error&) {
    return false;
  }
}

}  // namespace

bool CompileChannelRegexes(Config& config) {
  bool ok = Compile(config.defaults);
  for (Namespace& ns : config.namespaces) ok = Compile(ns.options) && ok;
  return ok;
}

bool ChannelRegexMatches(const ChannelOptions& options, std::string_view rest) {
  if (options.channel_regex.empty()) return true;
  try {
    if (options.compiled_regex) return std::regex_search(rest.begin(), rest.end(), options.compiled_regex->re);
    std::regex re(options.channel_regex, std::regex::ECMAScript);
    return std::regex_search(rest.begin(), rest.end(), re);
  } catch (const std::regex_error&) {
    return false;  // std::regex gives up on pathological input: refuse rather than crash
  }
}

}  // namespace instant::config
