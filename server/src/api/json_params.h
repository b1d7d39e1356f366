#pragma once
// Small helpers to read API params with simdjson On-Demand. Kept out of api.h so that only the
// two .cc files of this folder pay for simdjson.h.

#include <string_view>

#include <simdjson.h>

namespace instant::api {

// The raw bytes of `value` (any JSON type), fully validated — On-Demand alone does not validate
// values it skips, and these bytes are forwarded into clients' frames. False if invalid.
bool ExtractRawJson(simdjson::ondemand::value value, std::string_view* out);

}  // namespace instant::api
