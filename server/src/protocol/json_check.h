#pragma once
// Syntax check of one raw JSON value, used on every payload (`data`) a client sends before it is
// spliced verbatim into other clients' frames (spec §1.4: embedded payloads must be valid JSON).
//
// Why not a simdjson DOM parse: it builds a tape, copies root scalars to the heap and is stricter
// than the JSON grammar (integers beyond 64 bits, 1e400 and escaped lone surrogates such as
// "\ud800" are rejected), while Centrifugo (Go, syntax-only) and every JS client accept them. JS
// JSON.stringify writes "\ud800" for a string cut in the middle of an emoji, so rejecting it
// would disconnect real clients.

#include <cstddef>
#include <string_view>

namespace instant::protocol {

// Deepest accepted nesting of arrays/objects; same bound as simdjson's default parser depth.
inline constexpr size_t kMaxJsonDepth = 1024;

// True if `text` is exactly one JSON value per RFC 8259 §2-§7, optionally surrounded by JSON
// whitespace: literals, numbers of any magnitude, strings with valid escapes (any \uXXXX,
// including lone surrogates) and no raw control characters, nested at most kMaxJsonDepth deep.
// Does NOT validate UTF-8: the decoder's callers pass slices of a line that simdjson's stage 1
// already validated. Linear time, no allocation, never reads outside `text`.
bool IsJsonValue(std::string_view text);

}  // namespace instant::protocol
