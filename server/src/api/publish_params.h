#pragma once
// Params of the API `publish` and `broadcast` methods (spec §7.3), read with simdjson On-Demand
// from a standalone params text or in place inside a batch body (batch_commands.h).

#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "api/api.h"

namespace instant::api {

struct PublishParams {
  std::string channel;                // publish
  std::vector<std::string> channels;  // broadcast
  // Raw JSON pointing into the text that was read: the caller keeps it alive as long as these.
  std::string_view data;
  std::string_view tags;  // an object of string values (Centrifugo map<string,string>); "" = none
  bool has_data = false;
  bool has_b64data = false;
  bool skip_history = false;
  std::string idempotency_key;
};

// Reads the fields of `params` (publish, or broadcast when `broadcast`: `channels` instead of
// `channel`). The text `params` belongs to must have been checked whole with protocol::IsJsonValue:
// `data` is taken raw, unchecked (each byte of a request is validated once). Errors are protocol
// error 100 with a message saying which field is wrong; "data required" when data is missing.
Status ReadPublishParams(simdjson::ondemand::object params, bool broadcast, PublishParams* p);

}  // namespace instant::api
