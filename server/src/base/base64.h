#pragma once
// Base64 (RFC 4648 §4) and base64url without padding (§5, as JWT uses it).

#include <optional>
#include <string>
#include <string_view>

namespace instant {

std::string Base64Encode(std::string_view in);
std::string Base64UrlEncode(std::string_view in);  // no '=' padding
// Accepts both alphabets, with or without padding. Returns nullopt on any invalid character or
// impossible length.
std::optional<std::string> Base64Decode(std::string_view in);

}  // namespace instant
