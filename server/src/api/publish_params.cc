#include "api/publish_params.h"

#include "api/json_params.h"

namespace instant::api {
namespace {

namespace error = protocol::error;
using simdjson::ondemand::object;
using simdjson::ondemand::value;

Status ReadTags(value v, std::string_view* out) {
  object tags;
  if (v.get_object().get(tags) != simdjson::SUCCESS) {
    return Status::Error(error::kBadRequest, "tags must be an object of strings");
  }
  size_t count = 0;
  for (auto tag : tags) {
    std::string_view k, s;
    if (tag.unescaped_key().get(k) != simdjson::SUCCESS || tag.value().get_string().get(s) != simdjson::SUCCESS) {
      return Status::Error(error::kBadRequest, "tags must be an object of strings");
    }
    ++count;
  }
  if (count == 0) return Status::Ok();  // {} is no tags: nothing to deliver
  std::string_view raw;
  if (tags.reset().error() != simdjson::SUCCESS || tags.raw_json().get(raw) != simdjson::SUCCESS) {
    return Status::Error(error::kBadRequest, "tags must be an object of strings");
  }
  while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\n' || raw.back() == '\r' || raw.back() == '\t')) {
    raw.remove_suffix(1);
  }
  *out = raw;
  return Status::Ok();
}

}  // namespace

Status ReadPublishParams(object params, bool broadcast, PublishParams* p) {
  for (auto field : params) {
    std::string_view key;
    if (field.unescaped_key().get(key) != simdjson::SUCCESS) return Status::Error(error::kBadRequest);
    value v = field.value();
    if (key == "channel" && !broadcast) {
      std::string_view s;
      if (v.get_string().get(s) != simdjson::SUCCESS) return Status::Error(error::kBadRequest, "channel must be a string");
      p->channel.assign(s);
    } else if (key == "channels" && broadcast) {
      simdjson::ondemand::array arr;
      if (v.get_array().get(arr) != simdjson::SUCCESS) {
        return Status::Error(error::kBadRequest, "channels must be an array of strings");
      }
      for (auto item : arr) {
        std::string_view s;
        if (item.get_string().get(s) != simdjson::SUCCESS) {
          return Status::Error(error::kBadRequest, "channels must be an array of strings");
        }
        p->channels.emplace_back(s);
      }
    } else if (key == "data") {
      if (!RawJson(v, &p->data)) return Status::Error(error::kBadRequest, "data is not valid JSON");
      p->has_data = true;
    } else if (key == "b64data") {
      p->has_b64data = true;
    } else if (key == "skip_history") {
      if (v.get_bool().get(p->skip_history) != simdjson::SUCCESS) {
        return Status::Error(error::kBadRequest, "skip_history must be a boolean");
      }
    } else if (key == "tags") {
      if (Status s = ReadTags(v, &p->tags); s.error) return s;
    } else if (key == "idempotency_key") {
      std::string_view s;
      if (v.get_string().get(s) != simdjson::SUCCESS) {
        return Status::Error(error::kBadRequest, "idempotency_key must be a string");
      }
      p->idempotency_key.assign(s);
    }
    // delta: accepted and ignored (no client here negotiates delta compression).
  }
  if (!p->has_data) {
    if (p->has_b64data) {
      return Status::Error(error::kBadRequest, "b64data cannot reach JSON clients: send data as JSON");
    }
    return Status::Error(error::kBadRequest, "data required");
  }
  return Status::Ok();
}

}  // namespace instant::api
