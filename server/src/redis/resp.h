#pragma once
// RESP2, the Redis wire format, in both directions:
//   - ReplyParser: an incremental parser for what Redis sends (replies and pub/sub pushes);
//   - AppendCommand: the encoder for what we send (a command is an array of bulk strings).
// Reference: https://redis.io/docs/latest/develop/reference/protocol-spec/ (RESP2 part).
//
// Representation. A parsed reply is a flat array of ReplyNode in pre-order (an array node is
// followed by its elements' subtrees) plus one byte arena holding every string of the reply.
// Reply is a two-pointer view into that storage: no allocation per element, and the parser
// reuses both buffers from one reply to the next, so a steady pipeline of replies allocates
// nothing. The price: a Reply is valid only until the parser is fed again — copy what you keep.
//
// Hostile input. Redis is trusted more than a browser, but a bug, a proxy or a wrong port must
// not crash the server or make it allocate without bound. ParserLimits turns every way of asking
// for unbounded memory into a parse error: declared lengths are checked before any byte is
// buffered, nothing is reserved from a declared count, and the whole reply is capped in memory.
// After an error the parser stays failed until Reset(): the stream cannot be resynchronised, the
// connection must be dropped.
//
// Threading: ReplyParser is a plain single-threaded object; the encoder functions are pure.

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace instant::redis {

// ---------------------------------------------------------------------------------------------
// Replies
// ---------------------------------------------------------------------------------------------

enum class ReplyType : uint8_t {
  kStatus,   // "+OK\r\n"           simple string
  kError,    // "-ERR ...\r\n"      error (str() is the whole message, code word included)
  kInteger,  // ":42\r\n"
  kBulk,     // "$3\r\nfoo\r\n"     binary-safe string
  kNil,      // "$-1\r\n" and "*-1\r\n": RESP2's two spellings of null are not distinguished
  kArray,    // "*2\r\n..."         elements may be arrays again
};

// One node of a parsed reply. Public so that code outside the parser (the client's synthetic
// error replies, tests) can build a Reply; ordinary users only see Reply.
struct ReplyNode {
  ReplyType type = ReplyType::kNil;
  uint32_t span = 1;        // nodes in this subtree, itself included (1 for scalars)
  uint32_t str_offset = 0;  // kStatus/kError/kBulk: bytes in the string arena
  uint32_t str_size = 0;
  int64_t value = 0;        // kInteger: the value; kArray: the element count
};

// A read-only view of one reply or of one element of it. Cheap to copy (two pointers).
// Valid until the ReplyParser that produced it is fed again or reset.
class Reply {
 public:
  class Iterator;

  Reply() = default;
  Reply(const ReplyNode* node, const char* strings) : node_(node), strings_(strings) {}

  ReplyType type() const { return node_->type; }
  bool is_status() const { return type() == ReplyType::kStatus; }
  bool is_error() const { return type() == ReplyType::kError; }
  bool is_integer() const { return type() == ReplyType::kInteger; }
  bool is_bulk() const { return type() == ReplyType::kBulk; }
  bool is_nil() const { return type() == ReplyType::kNil; }
  bool is_array() const { return type() == ReplyType::kArray; }
  // Status or bulk: the two string kinds a command can answer with.
  bool is_string() const { return is_status() || is_bulk(); }

  // kStatus, kError, kBulk: the bytes (binary-safe for kBulk). Other types: empty.
  std::string_view str() const {
    return std::string_view(strings_ + node_->str_offset, node_->str_size);
  }
  // kInteger: the value. Other types: 0.
  int64_t integer() const { return node_->type == ReplyType::kInteger ? node_->value : 0; }
  // kArray: the number of elements. Other types: 0.
  size_t size() const {
    return node_->type == ReplyType::kArray ? static_cast<size_t>(node_->value) : 0;
  }
  // Element `i` of an array (i < size()). O(i) because elements are variable-sized subtrees:
  // iterate with begin()/end() to walk all of them.
  Reply operator[](size_t i) const;
  Iterator begin() const;
  Iterator end() const;

  // kError: true if the message starts with the error code word `code` ("NOSCRIPT", "WRONGTYPE").
  bool IsErrorCode(std::string_view code) const;

  // A human-readable rendering for logs and test failures, e.g. `["message", "ch", (integer) 1]`.
  // Allocates; not for hot paths.
  std::string ToString() const;

 private:
  const ReplyNode* node_ = nullptr;
  const char* strings_ = nullptr;
};

// Forward iterator over the elements of an array reply.
class Reply::Iterator {
 public:
  using value_type = Reply;
  using difference_type = std::ptrdiff_t;

  Iterator() = default;
  Iterator(const ReplyNode* node, const char* strings) : node_(node), strings_(strings) {}
  Reply operator*() const { return Reply(node_, strings_); }
  Iterator& operator++() {
    node_ += node_->span;
    return *this;
  }
  Iterator operator++(int) {
    Iterator old = *this;
    ++*this;
    return old;
  }
  bool operator==(const Iterator& other) const { return node_ == other.node_; }

 private:
  const ReplyNode* node_ = nullptr;
  const char* strings_ = nullptr;
};

inline Reply::Iterator Reply::begin() const {
  return Iterator(is_array() ? node_ + 1 : node_ + node_->span, strings_);
}
inline Reply::Iterator Reply::end() const { return Iterator(node_ + node_->span, strings_); }

// ---------------------------------------------------------------------------------------------
// Parser
// ---------------------------------------------------------------------------------------------

// Bounds on what one reply may ask for. Defaults fit the Redis engine (publications are at most a
// few MB; a history read of 10k publications is one array) with a wide margin; anything beyond
// them is a broken or hostile peer.
struct ParserLimits {
  // Longest bulk string. Redis's own proto-max-bulk-len defaults to 512 MB; we never store
  // anything near that.
  size_t max_bulk_length = size_t{64} << 20;
  // Longest header, status or error line, type byte and CRLF excluded. Real ones are < 1 KB.
  size_t max_line_length = size_t{64} << 10;
  // Most elements one array may declare.
  size_t max_array_length = size_t{1} << 20;
  // Deepest nesting of arrays (a top-level array is depth 1). Engine replies reach depth 4.
  size_t max_depth = 16;
  // Most memory one reply may take inside the parser: its string bytes plus sizeof(ReplyNode)
  // per element plus a partial line. Bounds memory for input that never completes a reply (e.g.
  // endlessly nested arrays, each within the other limits). Clamped to < 4 GiB.
  size_t max_reply_memory = size_t{256} << 20;
};

// Incremental RESP2 reply parser. Feed it bytes in chunks of any size, split anywhere:
//
//   while (size > 0) {
//     size_t used = 0;
//     ReplyParser::Status st = parser.Parse(data, size, &used);
//     data += used; size -= used;
//     if (st == ReplyParser::Status::kReply) Handle(parser.reply());  // valid until next Parse
//     else if (st == ReplyParser::Status::kError) { Drop(parser.error()); break; }
//     else break;  // kNeedMore: every byte was consumed, the partial reply is kept inside
//   }
//
// The parser copies what it needs (string bytes, a partial header line) into its own buffers, so
// the caller never has to keep unconsumed input. Cost is linear in the input: no byte is scanned
// twice whatever the chunking.
class ReplyParser {
 public:
  enum class Status {
    kNeedMore,  // all input consumed, no complete reply yet
    kReply,     // one complete reply is available through reply()
    kError,     // malformed input or a limit was hit; see error(); sticky until Reset()
  };

  explicit ReplyParser(const ParserLimits& limits = {});

  // Parses from data[0, size) and stops right after the first complete reply. *consumed receives
  // the number of bytes used: all of them for kNeedMore, up to the end of the reply for kReply,
  // the bytes up to the offending one for kError. The previous reply() is invalidated.
  Status Parse(const char* data, size_t size, size_t* consumed);

  // The reply completed by the last Parse() that returned kReply.
  Reply reply() const { return Reply(nodes_.data(), strings_.data()); }
  // Why the last Parse() returned kError: a short static text.
  const char* error() const { return error_; }
  bool failed() const { return error_ != nullptr; }
  // True if some bytes of an incomplete reply are held (a mid-reply disconnect loses them).
  bool in_progress() const;

  // Forgets everything: partial reply, error. Use with a new connection.
  void Reset();

  const ParserLimits& limits() const { return limits_; }

 private:
  enum class State : uint8_t { kLine, kBulk, kBulkCrlf };
  struct OpenArray {
    uint32_t node;       // index in nodes_
    int64_t remaining;   // elements still to come
  };

  Status Fail(const char* why);
  // Handles one complete header/status/error/integer line (type byte first, CR LF stripped).
  // Returns false after Fail().
  bool OnLine(const char* line, size_t size);
  // Accounts `bytes` more memory for the reply in progress; fails past max_reply_memory.
  bool Charge(size_t bytes);
  // Appends a node (charged); returns false after Fail().
  bool AddNode(ReplyType type, int64_t value, uint32_t str_offset, uint32_t str_size);
  // Called when a node is complete: closes the arrays it completes. Returns true when the whole
  // reply is complete.
  bool CompleteElement();
  void StartNextReply();

  ParserLimits limits_;
  State state_ = State::kLine;
  bool reply_ready_ = false;   // nodes_/strings_ hold a finished reply to discard on next Parse
  const char* error_ = nullptr;
  size_t bulk_left_ = 0;       // kBulk: payload bytes still to copy
  size_t crlf_seen_ = 0;       // kBulkCrlf: bytes of the trailing CR LF already checked
  size_t reply_memory_ = 0;    // bytes of the reply in progress, as counted by max_reply_memory
  std::string line_;           // partial line carried across chunks (usually empty)
  std::vector<ReplyNode> nodes_;
  std::string strings_;
  std::vector<OpenArray> stack_;
};

// Serializes `reply` back to RESP2 (kNil is written as "$-1"). Parsing the result gives an equal
// reply. For tests, fuzzing and fake servers.
void AppendReply(std::string& out, Reply reply);

// ---------------------------------------------------------------------------------------------
// Encoder
// ---------------------------------------------------------------------------------------------

// One argument of a command: a string view (binary-safe, not copied) or an integer (written in
// decimal, as Redis expects for counts, TTLs and offsets). Arg does not own the bytes it points
// to; they must stay valid until the call that takes the Arg returns.
class Arg {
 public:
  Arg(std::string_view s) : data_(s.data()), size_(s.size()) {}  // NOLINT: implicit on purpose
  Arg(const char* s) : Arg(std::string_view(s)) {}                // NOLINT
  Arg(const std::string& s) : Arg(std::string_view(s)) {}         // NOLINT
  template <typename T>
    requires(std::is_integral_v<T> && !std::is_same_v<T, bool> && !std::is_same_v<T, char>)
  Arg(T v) : is_integer_(true), negative_(v < 0) {  // NOLINT
    magnitude_ = negative_ ? uint64_t{0} - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
  }

  bool is_integer() const { return is_integer_; }
  std::string_view view() const { return std::string_view(data_, size_); }  // strings only
  // Integers only: digits without sign, and the sign.
  uint64_t magnitude() const { return magnitude_; }
  bool negative() const { return negative_; }

 private:
  const char* data_ = nullptr;
  size_t size_ = 0;
  uint64_t magnitude_ = 0;
  bool is_integer_ = false;
  bool negative_ = false;
};

// Appends the command `args` ("*N\r\n" then "$len\r\nbytes\r\n" per argument) to `out`.
// Computes the exact size first and grows `out` once: no allocation per argument, none at all
// when `out` already has the capacity (reuse one buffer across commands).
void AppendCommand(std::string& out, std::span<const Arg> args);
inline void AppendCommand(std::string& out, std::initializer_list<Arg> args) {
  AppendCommand(out, std::span<const Arg>(args.begin(), args.size()));
}

// Building blocks for commands assembled in parts (EVALSHA's header and its arguments).
// An array header "*n\r\n" announcing n arguments:
void AppendArrayHeader(std::string& out, size_t n);
// One argument as a bulk string:
void AppendArg(std::string& out, const Arg& arg);
// Exact bytes AppendArg would write.
size_t EncodedArgSize(const Arg& arg);

}  // namespace instant::redis
