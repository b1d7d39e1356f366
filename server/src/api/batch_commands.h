#pragma once
// The body of `POST /api/batch` (Centrifugo v5+): {"commands":[{"<method>":{params}},...]}, read
// in one pass.
//
// Cost model: a batch is typically hundreds of publishes. When the body is valid JSON as a whole
// (protocol::IsJsonValue, one pass), its publish params are read right here, in place, from the
// same On-Demand iteration: each byte is validated once and the body is parsed once. Otherwise
// (some bytes outside the commands are not JSON, which On-Demand alone does not notice) each
// command is checked on its own and read later from its raw params, exactly as such bodies were
// always handled, so replies to malformed input do not change.

#include <string>
#include <string_view>
#include <vector>

#include "api/api.h"
#include "api/publish_params.h"

namespace instant::api {

struct BatchCommand {
  std::string method;  // unescaped command key ("publish", ...)
  // Raw params JSON, a view into the body, valid per protocol::IsJsonValue. Unset if read_ahead.
  std::string_view params;
  // A publish whose params were read in the body's pass: `status` is their outcome (the reply
  // when it is an error) and `publish` the params when ok (views into the body).
  bool read_ahead = false;
  Status status;
  PublishParams publish;
};

// Reads the commands of `body`, which must be followed by kPadding readable bytes (json_params.h)
// and outlive `out`. Uses the thread's parser (OpenParams). Commands are listed in order; a
// command object with no key is skipped, keys after the first are ignored. False, with a
// message for the 400 answer in *problem, when the body is not such an object or a command is
// malformed; `out` is then unspecified.
bool ReadBatchCommands(std::string_view body, std::vector<BatchCommand>* out, std::string* problem);

}  // namespace instant::api
