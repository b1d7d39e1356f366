#include "engine/redis_payload.h"

#include <charconv>

#include "protocol/encoder.h"

namespace instant::engine::redis_payload {
namespace {

// Reads F(x) from the front of *in.
bool ReadField(std::string_view* in, std::string_view* value) {
  // At most 10 digits (< 10 GB): only the first 11 bytes can hold the colon.
  const size_t colon = in->substr(0, 11).find(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(in->data(), in->data() + colon, n);
  if (ec != std::errc() || end != in->data() + colon) return false;
  if (n > in->size() - colon - 1) return false;
  *value = in->substr(colon + 1, n);
  in->remove_prefix(colon + 1 + n);
  return true;
}

bool ReadNumber(std::string_view* in, uint64_t* value) {
  std::string_view text;
  if (!ReadField(in, &text) || text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *value);
  return ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

void AppendField(std::string& out, std::string_view value) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof(digits), value.size());
  out.append(digits, end);
  out.push_back(':');
  out.append(value);
}

void AppendField(std::string& out, uint64_t value) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof(digits), value);
  AppendField(out, std::string_view(digits, static_cast<size_t>(end - digits)));
}

void AppendPublicationHead(std::string& out, std::string_view channel) {
  out.append(kPublicationMagic);
  AppendField(out, channel);
}

void AppendPublicationBody(std::string& out, const Publication& pub) {
  AppendField(out, pub.data);
  AppendField(out, pub.tags);
  if (pub.has_info) {
    out.push_back('c');
    AppendField(out, pub.user);
    AppendField(out, pub.client);
    AppendField(out, pub.conn_info);
    AppendField(out, pub.chan_info);
  } else {
    out.push_back('-');
  }
}

void AppendStoredBody(std::string& out, const StoredPublication& pub) {
  AppendField(out, pub.data);
  AppendField(out, pub.tags);
  if (!pub.info.empty()) {
    out.push_back('j');
    AppendField(out, pub.info);
  } else {
    out.push_back('-');
  }
}

void AppendPublication(std::string& out, const Publication& pub) {
  AppendPublicationHead(out, pub.channel);
  AppendField(out, pub.offset);
  AppendField(out, pub.epoch);
  AppendPublicationBody(out, pub);
}

void AppendJoinLeave(std::string& out, const JoinLeave& event) {
  out.append(event.join ? kJoinMagic : kLeaveMagic);
  AppendField(out, event.channel);
  AppendField(out, event.user);
  AppendField(out, event.client);
  AppendField(out, event.conn_info);
  AppendField(out, event.chan_info);
}

bool Decode(std::string_view in, Decoded* out) {
  if (in.size() < 4) return false;
  const std::string_view magic = in.substr(0, 4);
  in.remove_prefix(4);
  if (magic == kPublicationMagic) {
    out->kind = Kind::kPublication;
    Publication& p = out->pub;
    p = Publication{};
    if (!ReadField(&in, &p.channel) || !ReadNumber(&in, &p.offset) || !ReadField(&in, &p.epoch) ||
        !ReadField(&in, &p.data) || !ReadField(&in, &p.tags) || in.empty()) {
      return false;
    }
    const char info = in.front();
    in.remove_prefix(1);
    if (info == 'c') {
      p.has_info = true;
      if (!ReadField(&in, &p.user) || !ReadField(&in, &p.client) || !ReadField(&in, &p.conn_info) ||
          !ReadField(&in, &p.chan_info)) {
        return false;
      }
    } else if (info != '-') {
      return false;  // "j" is for history entries only
    }
    return in.empty();
  }
  if (magic == kJoinMagic || magic == kLeaveMagic) {
    out->kind = Kind::kJoinLeave;
    JoinLeave& e = out->event;
    e = JoinLeave{};
    e.join = magic == kJoinMagic;
    return ReadField(&in, &e.channel) && ReadField(&in, &e.user) && ReadField(&in, &e.client) &&
           ReadField(&in, &e.conn_info) && ReadField(&in, &e.chan_info) && in.empty();
  }
  return false;
}

bool DecodeStoredBody(std::string_view in, uint64_t offset, StoredPublication* out) {
  std::string_view data, tags;
  if (!ReadField(&in, &data) || !ReadField(&in, &tags) || in.empty()) return false;
  out->offset = offset;
  out->data.assign(data);
  out->tags.assign(tags);
  out->info.clear();
  const char info = in.front();
  in.remove_prefix(1);
  if (info == 'c') {
    protocol::ClientInfo ci;
    if (!ReadField(&in, &ci.user) || !ReadField(&in, &ci.client) || !ReadField(&in, &ci.conn_info) ||
        !ReadField(&in, &ci.chan_info)) {
      return false;
    }
    protocol::AppendClientInfoObject(out->info, ci);
  } else if (info == 'j') {
    std::string_view json;
    if (!ReadField(&in, &json)) return false;
    out->info.assign(json);
  } else if (info != '-') {
    return false;
  }
  return in.empty();
}

void AppendPresenceValue(std::string& out, const PresenceEntry& entry) {
  AppendField(out, entry.user);
  AppendField(out, entry.conn_info);
  AppendField(out, entry.chan_info);
}

bool DecodePresenceValue(std::string_view client, std::string_view value, PresenceEntry* out) {
  std::string_view user, conn_info, chan_info;
  if (!ReadField(&value, &user) || !ReadField(&value, &conn_info) || !ReadField(&value, &chan_info) ||
      !value.empty()) {
    return false;
  }
  out->client.assign(client);
  out->user.assign(user);
  out->conn_info.assign(conn_info);
  out->chan_info.assign(chan_info);
  return true;
}

}  // namespace instant::engine::redis_payload
