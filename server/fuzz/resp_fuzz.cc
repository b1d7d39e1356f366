// libFuzzer target for the RESP2 reply parser and the command encoder (server/src/redis/resp.h).
//
// Input layout: byte 0 picks the limits (bit 0: tiny limits, so every limit path is reachable
// with short inputs), bytes 1-2 pick a split point; the rest is the byte stream from "Redis".
// The stream is parsed three ways — in one chunk, split in two at the derived byte, and one byte
// at a time — and the three must agree exactly (same replies, same final status and error).
//
// Checked invariants (a violation traps):
//   - consumed <= size; kNeedMore consumes everything; an error is sticky;
//   - the parse result does not depend on how the input is chunked;
//   - every reply re-encodes (AppendReply) to bytes that parse back to the same reply, within the
//     same limits (re-encoding never grows a reply);
//   - walking every reply (iteration, operator[], accessors) stays inside its storage (ASan);
//   - a command encoded from input-derived arguments parses back as the same array of bulks.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "redis/resp.h"

namespace {

using instant::redis::Arg;
using instant::redis::ParserLimits;
using instant::redis::Reply;
using instant::redis::ReplyParser;

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

struct Outcome {
  std::vector<std::string> replies;  // re-encoded
  ReplyParser::Status last = ReplyParser::Status::kNeedMore;
  std::string error;
  bool operator==(const Outcome& o) const {
    return replies == o.replies && last == o.last && error == o.error;
  }
};

// Touches every node through the public accessors.
size_t Walk(const Reply& r, int depth) {
  size_t n = 1 + r.str().size() + static_cast<size_t>(r.integer() & 1);
  if (r.is_array()) {
    size_t count = 0;
    for (Reply e : r) {
      n += Walk(e, depth + 1);
      ++count;
    }
    Check(count == r.size());
    if (r.size() > 0) {
      Check(r[r.size() - 1].type() == r[r.size() - 1].type());
      (void)r[0].str();
    }
  } else {
    Check(r.size() == 0 && r.begin() == r.end());
  }
  return n;
}

// Feeds `chunks` to a fresh parser; records every reply re-encoded.
Outcome Run(const ParserLimits& limits, const std::vector<std::string_view>& chunks) {
  ReplyParser p(limits);
  Outcome out;
  for (std::string_view chunk : chunks) {
    const char* data = chunk.data();
    size_t size = chunk.size();
    while (true) {
      size_t used = 0;
      const ReplyParser::Status st = p.Parse(data, size, &used);
      Check(used <= size);
      out.last = st;
      if (st == ReplyParser::Status::kError) {
        Check(p.failed() && p.error() != nullptr);
        out.error = p.error();
        size_t again = 1;
        Check(p.Parse(data, size, &again) == ReplyParser::Status::kError && again == 0);
        return out;
      }
      data += used;
      size -= used;
      if (st == ReplyParser::Status::kNeedMore) {
        Check(size == 0);
        break;
      }
      const Reply r = p.reply();
      Walk(r, 0);
      std::string encoded;
      instant::redis::AppendReply(encoded, r);
      out.replies.push_back(std::move(encoded));
    }
  }
  return out;
}

void CheckRoundTrip(const ParserLimits& limits, const std::string& encoded) {
  ReplyParser p(limits);
  size_t used = 0;
  Check(p.Parse(encoded.data(), encoded.size(), &used) == ReplyParser::Status::kReply);
  Check(used == encoded.size());
  std::string again;
  instant::redis::AppendReply(again, p.reply());
  Check(again == encoded);
}

void FuzzEncoder(std::string_view body) {
  // Arguments: the body cut at '\n', every third one as an integer made of its bytes.
  std::vector<std::string_view> pieces;
  size_t start = 0;
  for (size_t i = 0; i <= body.size() && pieces.size() < 64; ++i) {
    if (i == body.size() || body[i] == '\n') {
      pieces.push_back(body.substr(start, i - start));
      start = i + 1;
    }
  }
  std::vector<Arg> args;
  std::vector<std::string> expected;
  for (size_t i = 0; i < pieces.size(); ++i) {
    if (i % 3 == 2) {
      int64_t v = 0;
      for (char c : pieces[i].substr(0, 8)) v = (v << 8) | static_cast<unsigned char>(c);
      if (!pieces[i].empty() && (pieces[i][0] & 1)) v = -v;
      args.emplace_back(v);
      expected.push_back(std::to_string(v));
    } else {
      args.emplace_back(pieces[i]);
      expected.emplace_back(pieces[i]);
    }
  }
  std::string out = "x";  // appends after existing content
  instant::redis::AppendCommand(out, std::span<const Arg>(args));
  size_t sizes = 0;
  for (const Arg& a : args) sizes += instant::redis::EncodedArgSize(a);
  Check(out.size() > 1 + sizes);
  ReplyParser p;
  size_t used = 0;
  Check(p.Parse(out.data() + 1, out.size() - 1, &used) == ReplyParser::Status::kReply);
  Check(used == out.size() - 1);
  const Reply r = p.reply();
  Check(r.is_array() && r.size() == args.size());
  size_t i = 0;
  for (Reply e : r) {
    Check(e.is_bulk() && e.str() == expected[i]);
    ++i;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3) return 0;
  ParserLimits limits;
  if (data[0] & 1) {
    limits.max_bulk_length = 64;
    limits.max_line_length = 32;
    limits.max_array_length = 8;
    limits.max_depth = 4;
    limits.max_reply_memory = 2048;
  }
  const std::string_view body(reinterpret_cast<const char*>(data) + 3, size - 3);
  const size_t split = (static_cast<size_t>(data[1]) << 8 | data[2]) % (body.size() + 1);

  const Outcome whole = Run(limits, {body});
  const Outcome halves = Run(limits, {body.substr(0, split), body.substr(split)});
  Check(whole == halves);
  if (body.size() <= 4096) {
    std::vector<std::string_view> bytes;
    bytes.reserve(body.size());
    for (size_t i = 0; i < body.size(); ++i) bytes.push_back(body.substr(i, 1));
    Check(Run(limits, bytes) == whole);
  }
  for (const std::string& encoded : whole.replies) CheckRoundTrip(limits, encoded);

  if (data[0] & 2) FuzzEncoder(body);
  return 0;
}
