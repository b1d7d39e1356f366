#pragma once
// UTF-8 validation for text messages and close reasons (RFC 6455 §5.6, §8.1).

#include <string_view>

namespace instant::ws {

// True if `s` is well-formed UTF-8 (RFC 3629): rejects overlong encodings, surrogates
// (U+D800-U+DFFF), code points above U+10FFFF and truncated sequences. The empty string is valid.
// O(n), SIMD with runtime CPU dispatch (simdjson::validate_utf8); needs no padding past the end.
bool IsValidUtf8(std::string_view s);

}  // namespace instant::ws
