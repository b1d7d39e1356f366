#pragma once
// Small helpers over HTTP field values and query strings. ASCII-only case folding: field names,
// tokens and the schemes we compare are ASCII by grammar (RFC 9110 §5.1, §5.6.2).

#include <optional>
#include <string>
#include <string_view>

namespace instant::http {

// ASCII case-insensitive equality; bytes >= 0x80 must match exactly.
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

// True if the comma-separated list `value` (RFC 9110 §5.6.1) holds an element equal to `token`,
// ignoring case and the OWS around each element. Empty elements are skipped, so
// HeaderHasToken("keep-alive, Upgrade", "upgrade") and HeaderHasToken(",close,", "close") hold.
bool HeaderHasToken(std::string_view value, std::string_view token);

// Value of the first query parameter named `name` in a raw query string (the part after '?',
// pairs separated by '&'). Names and values are percent-decoded (RFC 3986 §2.1) with '+' read
// as ' ' (application/x-www-form-urlencoded), so "api%5Fkey=a+b%21" yields "a b!" for "api_key".
// A parameter without '=' has the empty value. nullopt if absent, or if the first matching
// parameter's value is badly encoded ('%' not followed by two hex digits).
std::optional<std::string> QueryParam(std::string_view query, std::string_view name);

}  // namespace instant::http
