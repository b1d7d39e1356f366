// libFuzzer target for the WebSocket read path: arbitrary bytes are treated as a client's byte
// stream and driven through DecodeClientFrame + MessageAssembler the way a connection does
// (decode, feed, advance, stop at kNeedMore or the first error). Each input runs twice, with
// small limits (so 1009 paths and control-frame-sized limits are reached) and with large ones.
//
// Checked invariants (a violation traps):
//   - consumed <= remaining bytes, and >= header size on kFrame; kNeedMore's `needed` is 0 or more
//     than what is there; errors carry a code and a reason;
//   - every strict prefix of a decoded frame is kNeedMore (the incremental-parse rule);
//   - decoded frames obey their rules (known opcode, control frames FIN and <= 125 bytes,
//     payload <= max_payload) and re-encode to the same payload;
//   - delivered text messages and close reasons are valid UTF-8, messages fit max_message, and a
//     reassembled message has kPadding readable bytes after it.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "ws/frame.h"
#include "ws/message_assembler.h"
#include "ws/utf8.h"

namespace {

using instant::ws::DecodeClientFrame;
using instant::ws::DecodeResult;
using instant::ws::MessageAssembler;
using instant::ws::Opcode;

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

void Run(const uint8_t* input, size_t size, uint64_t max_payload, uint64_t max_message) {
  // `pristine` keeps the masked bytes for the prefix checks; `stream` is unmasked in place.
  const std::vector<char> pristine(input, input + size);
  std::vector<char> stream = pristine;
  MessageAssembler assembler;
  size_t off = 0;
  while (off <= stream.size()) {
    const size_t remaining = stream.size() - off;
    DecodeResult r = DecodeClientFrame(stream.data() + off, remaining, max_payload);
    Check(r.consumed <= remaining);
    if (r.status == DecodeResult::Status::kNeedMore) {
      Check(r.consumed == 0);
      Check(r.needed == 0 || r.needed > remaining);
      break;
    }
    if (r.status == DecodeResult::Status::kError) {
      Check(r.consumed == 0 && r.error != nullptr);
      Check(r.close_code == 1002 || r.close_code == 1009);
      break;
    }
    const instant::ws::Frame& f = r.frame;
    Check(r.consumed >= 6 && r.consumed <= remaining);
    Check(f.payload.size() <= max_payload && f.payload.size() <= r.consumed - 6);
    Check(f.payload.data() + f.payload.size() == stream.data() + off + r.consumed);
    const uint8_t op = static_cast<uint8_t>(f.opcode);
    Check(op <= 2 || (op >= 8 && op <= 10));
    if (instant::ws::IsControl(f.opcode)) Check(f.fin && f.payload.size() <= 125);

    // Every strict prefix is kNeedMore (prefixes of the unmodified bytes, which it leaves alone).
    // Checking all of them is quadratic: sample the header boundary region and the last byte.
    std::vector<char> prefix(pristine.begin() + static_cast<std::ptrdiff_t>(off),
                             pristine.begin() + static_cast<std::ptrdiff_t>(off + r.consumed));
    for (size_t k : {size_t{0}, size_t{1}, size_t{2}, size_t{5}, r.consumed / 2, r.consumed - 1}) {
      if (k >= r.consumed) continue;
      DecodeResult p = DecodeClientFrame(prefix.data(), k, max_payload);
      Check(p.status == DecodeResult::Status::kNeedMore && p.consumed == 0);
    }
    Check(std::memcmp(prefix.data(), pristine.data() + off, r.consumed) == 0);

    // Re-encoding the frame (with a fixed key) decodes to the same payload.
    if (f.payload.size() <= 4096) {
      std::string wire;
      instant::ws::AppendClientFrame(wire, f.opcode, f.payload, 0xA5A5A5A5u, f.fin);
      DecodeResult again = DecodeClientFrame(wire.data(), wire.size(), max_payload);
      Check(again.status == DecodeResult::Status::kFrame && again.consumed == wire.size());
      Check(again.frame.payload == f.payload && again.frame.opcode == f.opcode &&
            again.frame.fin == f.fin);
    }

    off += r.consumed;
    const MessageAssembler::Event e = assembler.Feed(f, max_message);
    switch (e.kind) {
      case MessageAssembler::Kind::kText:
        Check(instant::ws::IsValidUtf8(e.data));
        [[fallthrough]];
      case MessageAssembler::Kind::kBinary:
        Check(e.data.size() <= max_message);
        if (e.data.data() < stream.data() || e.data.data() > stream.data() + stream.size()) {
          // Reassembled in the assembler's buffer: the padding must be readable (ASan checks).
          char acc = 0;
          const char* end = e.data.data() + e.data.size();
          for (size_t i = 0; i < MessageAssembler::kPadding; ++i) acc ^= end[i];
          volatile char sink = acc;
          (void)sink;
        }
        break;
      case MessageAssembler::Kind::kClose:
        Check(instant::ws::IsValidUtf8(e.data));
        Check(e.close_code == 1005 || instant::ws::IsValidWireCloseCode(e.close_code));
        break;
      case MessageAssembler::Kind::kError:
        Check(e.error != nullptr);
        Check(e.close_code == 1002 || e.close_code == 1007 || e.close_code == 1009);
        Check(assembler.idle());
        return;  // the connection closes
      case MessageAssembler::Kind::kPing:
      case MessageAssembler::Kind::kPong:
        Check(e.data.size() <= 125);
        break;
      case MessageAssembler::Kind::kNone:
        Check(!assembler.idle());
        break;
    }
    if (e.kind == MessageAssembler::Kind::kClose) return;  // a connection stops reading here
  }

  // Server-side encoders must also take whatever the input is.
  std::string out;
  const std::string_view text(reinterpret_cast<const char*>(input), size);
  instant::ws::AppendClose(out, size >= 2 ? static_cast<uint16_t>(input[0] << 8 | input[1]) : 1000,
                           text);
  Check(out.size() <= 2 + 125);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Run(data, size, /*max_payload=*/125, /*max_message=*/300);
  Run(data, size, /*max_payload=*/uint64_t{1} << 24, /*max_message=*/uint64_t{1} << 24);
  return 0;
}
