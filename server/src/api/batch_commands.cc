#include "api/batch_commands.h"

#include <algorithm>

#include "api/json_params.h"
#include "protocol/json_check.h"

namespace instant::api {

bool ReadBatchCommands(std::string_view body, std::vector<BatchCommand>* out, std::string* problem) {
  // Checked whole, the body's sub-values need no check of their own (json_params.h RawJson).
  const bool checked = protocol::IsJsonValue(body);
  simdjson::ondemand::document doc;
  simdjson::ondemand::object obj;
  if (!OpenParams(body, &doc, &obj)) {
    *problem = "body must be a JSON object with a \"commands\" array";
    return false;
  }
  // Commands are moved on every growth of the vector: start near the usual count (a publish
  // command is ~100 bytes and rarely under 64), bounded for big bodies of few commands.
  out->reserve(std::min<size_t>(body.size() / 64 + 1, 1024));
  for (auto field : obj) {
    std::string_view key;
    if (field.unescaped_key().get(key) != simdjson::SUCCESS) break;
    if (key != "commands") continue;
    simdjson::ondemand::array arr;
    if (field.value().get_array().get(arr) != simdjson::SUCCESS) {
      *problem = "\"commands\" must be an array";
      return false;
    }
    for (auto item : arr) {
      simdjson::ondemand::object cmd;
      if (item.get_object().get(cmd) != simdjson::SUCCESS) {
        *problem = "each command must be an object like {\"publish\":{...}}";
        return false;
      }
      for (auto f : cmd) {
        std::string_view name;
        if (f.unescaped_key().get(name) != simdjson::SUCCESS) {
          *problem = "malformed command in \"commands\"";
          return false;
        }
        BatchCommand& c = out->emplace_back();
        c.method.assign(name);
        simdjson::ondemand::value v = f.value();
        if (checked && name == "publish") {
          c.read_ahead = true;
          simdjson::ondemand::object params;
          c.status = v.get_object().get(params) == simdjson::SUCCESS
                         ? ReadPublishParams(params, false, &c.publish)
                         : Status::Error(protocol::error::kBadRequest, "params must be a JSON object");
        } else if (!(checked ? RawJson(v, &c.params) : ExtractRawJson(v, &c.params))) {
          *problem = "malformed command in \"commands\"";
          return false;
        }
        break;  // one method per command
      }
    }
  }
  return true;
}

}  // namespace instant::api
