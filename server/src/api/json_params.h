#pragma once
// Small helpers to read API params with simdjson On-Demand. Kept out of api.h so that only the
// .cc files of this folder pay for simdjson.h.

#include <string>
#include <string_view>

#include <simdjson.h>

namespace instant::api {

// Readable bytes simdjson needs after the text it iterates (their content does not matter).
inline constexpr size_t kPadding = simdjson::SIMDJSON_PADDING;

// A copy of `s` with kPadding bytes of capacity after it: any view into it can be iterated.
std::string Padded(std::string_view s);

// Starts iterating `params` (followed by kPadding readable bytes) with this thread's parser,
// which the next OpenParams on the thread reuses: read everything needed first. Empty params
// count as {}. False if the text does not start as an object.
bool OpenParams(std::string_view params, simdjson::ondemand::document* doc, simdjson::ondemand::object* obj);

// The raw bytes of `value` (any JSON type), fully validated — On-Demand alone does not validate
// values it skips, and these bytes are forwarded into clients' frames. False if invalid.
bool ExtractRawJson(simdjson::ondemand::value value, std::string_view* out);

// The raw bytes of `value` without validating them: only for a value of a text that was checked
// whole with protocol::IsJsonValue, whose sub-values are then valid too (each byte is checked
// once). Trailing whitespace removed. False if On-Demand cannot delimit the value.
bool RawJson(simdjson::ondemand::value value, std::string_view* out);

}  // namespace instant::api
