#include "api/json_params.h"

#include "protocol/json_check.h"

namespace instant::api {

std::string Padded(std::string_view s) {
  std::string p;
  p.reserve(s.size() + kPadding);
  p.assign(s.data(), s.size());
  return p;
}

bool OpenParams(std::string_view params, simdjson::ondemand::document* doc, simdjson::ondemand::object* obj) {
  thread_local simdjson::ondemand::parser parser;
  static const std::string kEmpty = Padded("{}");
  if (params.empty()) params = kEmpty;
  if (parser.iterate(params.data(), params.size(), params.size() + kPadding).get(*doc) != simdjson::SUCCESS) {
    return false;
  }
  return doc->get_object().get(*obj) == simdjson::SUCCESS;
}

bool RawJson(simdjson::ondemand::value value, std::string_view* out) {
  simdjson::ondemand::json_type type;
  if (value.type().get(type) != simdjson::SUCCESS) return false;
  std::string_view raw;
  switch (type) {
    case simdjson::ondemand::json_type::object: {
      simdjson::ondemand::object obj;
      if (value.get_object().get(obj) != simdjson::SUCCESS || obj.raw_json().get(raw) != simdjson::SUCCESS) {
        return false;
      }
      break;
    }
    case simdjson::ondemand::json_type::array: {
      simdjson::ondemand::array arr;
      if (value.get_array().get(arr) != simdjson::SUCCESS || arr.raw_json().get(raw) != simdjson::SUCCESS) {
        return false;
      }
      break;
    }
    default:
      raw = value.raw_json_token();
      break;
  }
  while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\n' || raw.back() == '\r' || raw.back() == '\t')) {
    raw.remove_suffix(1);
  }
  *out = raw;
  return true;
}

bool ExtractRawJson(simdjson::ondemand::value value, std::string_view* out) {
  std::string_view raw;
  // The same strict RFC 8259 check as client payloads (protocol/json_check.h): simdjson's DOM would
  // refuse valid JSON that Centrifugo accepts (64-bit+ integers, 1e400, lone escaped surrogates).
  if (!RawJson(value, &raw) || !protocol::IsJsonValue(raw)) return false;
  *out = raw;
  return true;
}

}  // namespace instant::api
