#include "publication_frame.h"

#include "protocol/encoder.h"
#include "ws/frame.h"

namespace instant::bench {

std::shared_ptr<hub::PubFrame> BuildPublicationFrame(const SamplePublication& pub, bool with_v1) {
  auto frame = std::make_shared<hub::PubFrame>();
  frame->channel.assign(pub.channel);
  frame->offset = pub.offset;
  frame->epoch.assign(pub.epoch);
  protocol::Publication p;
  p.data = pub.data;
  p.offset = pub.offset;
  std::string line;
  line.reserve(pub.channel.size() + pub.data.size() + 64);
  protocol::AppendPublicationPush(line, protocol::Version::kV2, pub.channel, p);
  ws::AppendFrame(frame->v2, ws::Opcode::kText, line);
  if (with_v1) {
    line.clear();
    protocol::AppendPublicationPush(line, protocol::Version::kV1, pub.channel, p);
    ws::AppendFrame(frame->v1, ws::Opcode::kText, line);
  }
  return frame;
}

std::string MakeJsonPayload(size_t size) {
  const std::string_view head = "{\"text\":\"", tail = "\"}";
  std::string json(head);
  const size_t body = size > head.size() + tail.size() ? size - head.size() - tail.size() : 0;
  for (size_t i = 0; i < body; ++i) json += static_cast<char>('a' + i % 26);
  json.append(tail);
  return json;
}

}  // namespace instant::bench
