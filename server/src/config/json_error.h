#pragma once
// Where is a JSON text wrong? simdjson says only *that* a document is invalid ("improper
// structure"), which is useless for a hand-edited config.json. This is a small validating scanner
// (RFC 8259, plus simdjson's limits: UTF-8, number ranges, nesting depth) that finds the first
// offending byte and says what was expected there, so checkconfig can print
// `config.json:3:3: expected ',' or '}' ...`. It only runs after simdjson has rejected the input.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace instant::config {

struct JsonErrorLocation {
  size_t offset = 0;  // byte offset of the offending byte (== size for "unexpected end")
  size_t line = 1;    // 1-based
  size_t column = 1;  // 1-based, in characters (UTF-8 code points), not bytes
  // What was expected there and the likely fix: "expected ',' or '}' after the value of \"port\":
  // add a ',' at the end of line 2".
  std::string message;
};

// Scans `text` as one JSON document. Returns nullopt if it is valid. Iterative (explicit stack),
// so hostile input cannot overflow the C++ stack; depth is capped at kMaxJsonDepth like simdjson.
std::optional<JsonErrorLocation> LocateJsonError(std::string_view text);

inline constexpr size_t kMaxJsonDepth = 1024;

// 1-based line and code-point column of byte `offset` in `text`.
void LineAndColumn(std::string_view text, size_t offset, size_t* line, size_t* column);

}  // namespace instant::config
