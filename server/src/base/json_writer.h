#pragma once
// Appending JSON writer for the fixed-shape replies and pushes the server emits. It never
// allocates beyond growing the target string and never validates: callers write well-formed
// shapes and splice payloads that were validated when they came in.

#include <cstdint>
#include <string>
#include <string_view>

namespace instant::json {

// Appends `s` as a JSON string literal (quotes included), escaping '"', '\\' and control
// characters. Bytes >= 0x80 are copied as-is (input is valid UTF-8 by contract).
void AppendString(std::string& out, std::string_view s);

// Appends a validated raw JSON value, dropping every raw '\n' byte. Valid JSON can only hold a
// raw newline as insignificant whitespace, and the client protocol separates messages with
// '\n' (spec §1.4), so the value is unchanged for a JSON parser and safe for the framing.
void AppendRaw(std::string& out, std::string_view raw);

void AppendUint(std::string& out, uint64_t v);
void AppendInt(std::string& out, int64_t v);

// Length of `raw` once AppendRaw has dropped its newlines.
size_t RawSizeWithoutNewlines(std::string_view raw);

}  // namespace instant::json
