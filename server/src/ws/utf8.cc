#include "ws/utf8.h"

// Kept out of the header: simdjson.h costs ~3.7 s per including TU (research/deps.md).
#include <simdjson.h>

namespace instant::ws {

bool IsValidUtf8(std::string_view s) { return simdjson::validate_utf8(s.data(), s.size()); }

}  // namespace instant::ws
