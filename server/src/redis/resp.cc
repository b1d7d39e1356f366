#include "redis/resp.h"

#include <algorithm>
#include <charconv>
#include <cstring>

namespace instant::redis {
namespace {

// Largest string arena / node count a uint32 offset can address.
constexpr size_t kMaxReplyMemoryCap = uint32_t{0xFFFFFFFF} - 1;
// Buffers above these sizes are released after the reply that grew them, so one big history read
// does not pin its memory for the life of the connection.
constexpr size_t kKeepStringsCapacity = size_t{1} << 20;
constexpr size_t kKeepNodesCapacity = size_t{16} << 10;

// Strict RESP integer: optional '-', then 1..19 digits, within int64. No '+', no spaces.
bool ParseInt64(const char* p, size_t n, int64_t* out) {
  bool negative = false;
  if (n > 0 && p[0] == '-') {
    negative = true;
    ++p;
    --n;
  }
  if (n == 0 || n > 19) return false;
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) {
    const unsigned d = static_cast<unsigned char>(p[i]) - '0';
    if (d > 9) return false;
    v = v * 10 + d;  // 19 digits cannot overflow uint64
  }
  const uint64_t limit = negative ? uint64_t{1} << 63 : (uint64_t{1} << 63) - 1;
  if (v > limit) return false;
  *out = negative ? static_cast<int64_t>(uint64_t{0} - v) : static_cast<int64_t>(v);
  return true;
}

size_t DecimalDigits(uint64_t v) {
  size_t n = 1;
  while (v >= 10) {
    v /= 10;
    ++n;
  }
  return n;
}

char* WriteDecimal(char* p, uint64_t v) { return std::to_chars(p, p + 20, v).ptr; }

char* WriteLength(char* p, char type, size_t n) {
  *p++ = type;
  p = WriteDecimal(p, n);
  *p++ = '\r';
  *p++ = '\n';
  return p;
}

void AppendQuoted(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(ch);
    } else if (c >= 0x20 && c < 0x7f) {
      out.push_back(ch);
    } else {
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  out.push_back('"');
}

void AppendReadable(std::string& out, Reply r) {
  switch (r.type()) {
    case ReplyType::kStatus:
      out.push_back('+');
      out.append(r.str());
      break;
    case ReplyType::kError:
      out += "(error) ";
      out.append(r.str());
      break;
    case ReplyType::kInteger:
      out += "(integer) ";
      out += std::to_string(r.integer());
      break;
    case ReplyType::kBulk:
      AppendQuoted(out, r.str());
      break;
    case ReplyType::kNil:
      out += "(nil)";
      break;
    case ReplyType::kArray: {
      out.push_back('[');
      bool first = true;
      for (Reply e : r) {
        if (!first) out += ", ";
        first = false;
        AppendReadable(out, e);
      }
      out.push_back(']');
      break;
    }
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Reply
// ---------------------------------------------------------------------------------------------

Reply Reply::operator[](size_t i) const {
  Iterator it = begin();
  for (size_t k = 0; k < i; ++k) ++it;
  return *it;
}

bool Reply::IsErrorCode(std::string_view code) const {
  if (!is_error()) return false;
  const std::string_view s = str();
  return s.size() >= code.size() && s.compare(0, code.size(), code) == 0 &&
         (s.size() == code.size() || s[code.size()] == ' ');
}

std::string Reply::ToString() const {
  std::string out;
  AppendReadable(out, *this);
  return out;
}

void AppendReply(std::string& out, Reply r) {
  switch (r.type()) {
    case ReplyType::kStatus:
    case ReplyType::kError:
      out.push_back(r.is_status() ? '+' : '-');
      out.append(r.str());
      out += "\r\n";
      break;
    case ReplyType::kInteger:
      out.push_back(':');
      out += std::to_string(r.integer());
      out += "\r\n";
      break;
    case ReplyType::kBulk:
      out.push_back('$');
      out += std::to_string(r.str().size());
      out += "\r\n";
      out.append(r.str());
      out += "\r\n";
      break;
    case ReplyType::kNil:
      out += "$-1\r\n";
      break;
    case ReplyType::kArray:
      out.push_back('*');
      out += std::to_string(r.size());
      out += "\r\n";
      for (Reply e : r) AppendReply(out, e);
      break;
  }
}

// ---------------------------------------------------------------------------------------------
// ReplyParser
// ---------------------------------------------------------------------------------------------

ReplyParser::ReplyParser(const ParserLimits& limits) : limits_(limits) {
  limits_.max_reply_memory = std::min(limits_.max_reply_memory, kMaxReplyMemoryCap);
  // Keeps `max_line_length + 3` (type byte, CR, LF) from overflowing.
  limits_.max_line_length = std::min(limits_.max_line_length, limits_.max_reply_memory);
}

void ReplyParser::Reset() {
  state_ = State::kLine;
  reply_ready_ = false;
  error_ = nullptr;
  bulk_left_ = 0;
  crlf_seen_ = 0;
  reply_memory_ = 0;
  line_.clear();
  nodes_.clear();
  strings_.clear();
  stack_.clear();
}

bool ReplyParser::in_progress() const {
  return !reply_ready_ && (!nodes_.empty() || !line_.empty() || state_ != State::kLine);
}

ReplyParser::Status ReplyParser::Fail(const char* why) {
  error_ = why;
  return Status::kError;
}

void ReplyParser::StartNextReply() {
  reply_ready_ = false;
  reply_memory_ = 0;
  if (strings_.capacity() > kKeepStringsCapacity) {
    std::string().swap(strings_);
  } else {
    strings_.clear();
  }
  if (nodes_.capacity() > kKeepNodesCapacity) {
    std::vector<ReplyNode>().swap(nodes_);
  } else {
    nodes_.clear();
  }
}

bool ReplyParser::Charge(size_t bytes) {
  if (bytes > limits_.max_reply_memory - reply_memory_) {
    Fail("reply exceeds max_reply_memory");
    return false;
  }
  reply_memory_ += bytes;
  return true;
}

bool ReplyParser::AddNode(ReplyType type, int64_t value, uint32_t str_offset, uint32_t str_size) {
  if (!Charge(sizeof(ReplyNode))) return false;
  ReplyNode& n = nodes_.emplace_back();
  n.type = type;
  n.value = value;
  n.str_offset = str_offset;
  n.str_size = str_size;
  return true;
}

bool ReplyParser::CompleteElement() {
  while (!stack_.empty()) {
    OpenArray& top = stack_.back();
    if (--top.remaining > 0) return false;
    nodes_[top.node].span = static_cast<uint32_t>(nodes_.size() - top.node);
    stack_.pop_back();
  }
  return true;
}

bool ReplyParser::OnLine(const char* line, size_t size) {
  if (size == 0) {
    Fail("empty line where a reply type byte was expected");
    return false;
  }
  const char type = line[0];
  const char* body = line + 1;
  const size_t body_size = size - 1;
  switch (type) {
    case '+':
    case '-': {
      if (!Charge(body_size)) return false;
      const auto offset = static_cast<uint32_t>(strings_.size());
      strings_.append(body, body_size);
      if (!AddNode(type == '+' ? ReplyType::kStatus : ReplyType::kError, 0, offset,
                   static_cast<uint32_t>(body_size))) {
        return false;
      }
      break;
    }
    case ':': {
      int64_t v = 0;
      if (!ParseInt64(body, body_size, &v)) {
        Fail("invalid integer reply");
        return false;
      }
      if (!AddNode(ReplyType::kInteger, v, 0, 0)) return false;
      break;
    }
    case '$': {
      int64_t len = 0;
      if (!ParseInt64(body, body_size, &len) || len < -1) {
        Fail("invalid bulk string length");
        return false;
      }
      if (len == -1) {
        if (!AddNode(ReplyType::kNil, 0, 0, 0)) return false;
        break;
      }
      if (static_cast<uint64_t>(len) > limits_.max_bulk_length) {
        Fail("bulk string exceeds max_bulk_length");
        return false;
      }
      // Charge the whole payload up front: an oversized reply fails before we buffer any of it.
      if (!Charge(static_cast<size_t>(len))) return false;
      if (!AddNode(ReplyType::kBulk, 0, static_cast<uint32_t>(strings_.size()),
                   static_cast<uint32_t>(len))) {
        return false;
      }
      bulk_left_ = static_cast<size_t>(len);
      crlf_seen_ = 0;
      state_ = len > 0 ? State::kBulk : State::kBulkCrlf;
      return true;  // the element completes after its payload
    }
    case '*': {
      int64_t count = 0;
      if (!ParseInt64(body, body_size, &count) || count < -1) {
        Fail("invalid array length");
        return false;
      }
      if (count == -1) {
        if (!AddNode(ReplyType::kNil, 0, 0, 0)) return false;
        break;
      }
      if (static_cast<uint64_t>(count) > limits_.max_array_length) {
        Fail("array exceeds max_array_length");
        return false;
      }
      if (stack_.size() + 1 > limits_.max_depth) {
        Fail("arrays nested deeper than max_depth");
        return false;
      }
      const auto index = static_cast<uint32_t>(nodes_.size());
      if (!AddNode(ReplyType::kArray, count, 0, 0)) return false;
      if (count > 0) {
        stack_.push_back(OpenArray{index, count});
        return true;  // completes with its last element
      }
      break;
    }
    default:
      Fail("unknown reply type byte");
      return false;
  }
  if (CompleteElement()) reply_ready_ = true;
  return true;
}

ReplyParser::Status ReplyParser::Parse(const char* data, size_t size, size_t* consumed) {
  *consumed = 0;
  if (error_ != nullptr) return Status::kError;
  if (reply_ready_) StartNextReply();
  size_t pos = 0;
  while (pos < size) {
    switch (state_) {
      case State::kLine: {
        const char* start = data + pos;
        const size_t avail = size - pos;
        const auto* nl = static_cast<const char*>(std::memchr(start, '\n', avail));
        const size_t take = nl != nullptr ? static_cast<size_t>(nl - start) + 1 : avail;
        // A line is the type byte, the content and CR LF. When a limit is hit, report the one a
        // byte-at-a-time feed would hit first, so the error never depends on the chunking.
        const size_t line_room = limits_.max_line_length + 3 - line_.size();
        const size_t memory_room = limits_.max_reply_memory - reply_memory_;
        if (take > line_room || take > memory_room) {
          *consumed = pos;
          return Fail(line_room <= memory_room ? "line exceeds max_line_length"
                                               : "reply exceeds max_reply_memory");
        }
        reply_memory_ += take;
        pos += take;
        if (nl == nullptr) {
          line_.append(start, take);
          break;
        }
        const char* line = start;
        size_t line_size = take;
        if (!line_.empty()) {
          line_.append(start, take);
          line = line_.data();
          line_size = line_.size();
        }
        if (line_size < 2 || line[line_size - 2] != '\r') {
          *consumed = pos;
          return Fail("line not terminated by CR LF");
        }
        // A line is charged while it is buffered; from here on only what OnLine stores counts.
        reply_memory_ -= line_size;
        const bool ok = OnLine(line, line_size - 2);
        line_.clear();
        if (!ok) {
          *consumed = pos;
          return Status::kError;
        }
        if (reply_ready_) {
          *consumed = pos;
          return Status::kReply;
        }
        break;
      }
      case State::kBulk: {
        const size_t take = std::min(bulk_left_, size - pos);
        strings_.append(data + pos, take);
        bulk_left_ -= take;
        pos += take;
        if (bulk_left_ == 0) state_ = State::kBulkCrlf;
        break;
      }
      case State::kBulkCrlf: {
        const char expected = crlf_seen_ == 0 ? '\r' : '\n';
        if (data[pos] != expected) {
          *consumed = pos;
          return Fail("bulk string not terminated by CR LF");
        }
        ++pos;
        if (++crlf_seen_ == 2) {
          state_ = State::kLine;
          if (CompleteElement()) {
            reply_ready_ = true;
            *consumed = pos;
            return Status::kReply;
          }
        }
        break;
      }
    }
  }
  *consumed = pos;
  return Status::kNeedMore;
}

// ---------------------------------------------------------------------------------------------
// Encoder
// ---------------------------------------------------------------------------------------------

namespace {

size_t ArgPayloadSize(const Arg& arg) {
  return arg.is_integer() ? DecimalDigits(arg.magnitude()) + (arg.negative() ? 1 : 0)
                          : arg.view().size();
}

char* WriteArg(char* p, const Arg& arg) {
  const size_t payload = ArgPayloadSize(arg);
  p = WriteLength(p, '$', payload);
  if (arg.is_integer()) {
    if (arg.negative()) *p++ = '-';
    p = WriteDecimal(p, arg.magnitude());
  } else if (payload > 0) {
    std::memcpy(p, arg.view().data(), payload);
    p += payload;
  }
  *p++ = '\r';
  *p++ = '\n';
  return p;
}

}  // namespace

size_t EncodedArgSize(const Arg& arg) {
  const size_t payload = ArgPayloadSize(arg);
  return 1 + DecimalDigits(payload) + 2 + payload + 2;
}

void AppendArrayHeader(std::string& out, size_t n) {
  char buf[24];
  char* end = WriteLength(buf, '*', n);
  out.append(buf, static_cast<size_t>(end - buf));
}

void AppendArg(std::string& out, const Arg& arg) {
  const size_t old = out.size();
  out.resize(old + EncodedArgSize(arg));
  WriteArg(out.data() + old, arg);
}

void AppendCommand(std::string& out, std::span<const Arg> args) {
  size_t total = 1 + DecimalDigits(args.size()) + 2;
  for (const Arg& a : args) total += EncodedArgSize(a);
  const size_t old = out.size();
  out.resize(old + total);
  char* p = WriteLength(out.data() + old, '*', args.size());
  for (const Arg& a : args) p = WriteArg(p, a);
}

}  // namespace instant::redis
