#pragma once
// Channel regexes (`channel_regex`, spec §5.1): the part of a channel name after its namespace
// must match the namespace's regex, or the channel is refused as a bad name (107).
//
// std::regex is a heavy header and slow to compile, so ChannelOptions holds the compiled form
// behind an opaque pointer that CompileChannelRegexes fills once, after validation (the server
// does this before it starts; the options are then read-only and shared by every loop).

#include <string_view>

namespace instant::config {

struct ChannelOptions;
struct Config;

// Compiles every non-empty channel_regex of `config` (top level and namespaces). The regexes must
// have passed Validate; returns false (and leaves that one uncompiled) only if one does not compile.
bool CompileChannelRegexes(Config& config);

// Whether `rest` (the channel name after "<namespace>:", or the whole name in the default
// namespace) satisfies `options`. No regex: true. A regex that CompileChannelRegexes did not
// compile is compiled for this call (slow, for tools and tests that skip that step).
bool ChannelRegexMatches(const ChannelOptions& options, std::string_view rest);

}  // namespace instant::config
