#pragma once
// Incremental decoder for the chunked transfer coding (RFC 9112 §7.1):
//
//   chunked-body = *chunk last-chunk trailer-section CRLF
//   chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
//   last-chunk   = 1*("0") [ chunk-ext ] CRLF
//
// Chunk extensions and trailer fields are skipped (RFC 9112 §7.1.1, §7.1.2 allow ignoring
// them), but their bytes are still checked: framing is strict because a decoder that is laxer
// than the proxy in front of it is how chunked request smuggling works. Every line end must be
// CRLF (the bare-LF tolerance of RFC 9112 §2.2 covers the head, not chunk framing); no
// whitespace other than BWS before ';'; no CTL (but HTAB) inside an extension or trailer line.
// The size line of a chunk is limited to kMaxChunkLineSize bytes and the trailer section to
// kMaxTrailerSize, so a peer cannot keep the decoder busy without growing the body.
//
// One decoder per body; Reset() to reuse it. Not thread-safe.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace instant::http {

class ChunkedDecoder {
 public:
  enum class Status { kDone, kNeedMore, kError };

  static constexpr size_t kMaxChunkLineSize = 4096;
  static constexpr size_t kMaxTrailerSize = 16384;

  // Consumes from `data`, appending decoded bytes to *body; *consumed = bytes used.
  //   kDone:     the body ended at data + *consumed; what follows belongs to the next request.
  //              Further calls return kDone and consume nothing.
  //   kNeedMore: all of `data` was consumed (*consumed == data.size()); feed the rest later.
  //   kError:    malformed framing, or the decoded body would exceed max_body bytes in total
  //              (over all calls; bytes already in *body before the first call do not count).
  //              error() and error_status() say which. Further calls return kError.
  // The limit is checked against each chunk's declared size before its data arrives.
  Status Feed(std::string_view data, size_t max_body, std::string* body, size_t* consumed);

  // Back to the start of a new chunked body.
  void Reset() { *this = ChunkedDecoder(); }

  // After kError: a short static reason, and 413 if the body was too large, else 400.
  const char* error() const { return error_; }
  int error_status() const { return error_status_; }
  // Decoded body bytes so far.
  uint64_t decoded_size() const { return decoded_; }

 private:
  enum class State : uint8_t {
    kSize,              // chunk-size hex digits
    kSizeWhitespace,    // BWS after the size: only ';' may follow
    kExtension,         // inside chunk-ext, until CR
    kSizeLf,            // CR seen at the end of the size line
    kData,              // chunk-data
    kDataCr,            // CRLF after chunk-data
    kDataLf,
    kTrailerLineStart,  // start of a trailer field line, or of the final CRLF
    kTrailerLine,       // inside a trailer field line, until CR
    kTrailerLf,
    kFinalLf,           // CR of the final CRLF seen
    kDone,
    kError,
  };

  Status Fail(const char* reason, int status, size_t at, size_t* consumed);

  State state_ = State::kSize;
  uint64_t chunk_size_ = 0;       // value of the size being read, then bytes of data left
  size_t size_digits_ = 0;        // hex digits read of the current size
  size_t line_bytes_ = 0;         // bytes of the current size line
  size_t trailer_bytes_ = 0;      // bytes of the trailer section
  uint64_t decoded_ = 0;
  const char* error_ = nullptr;
  int error_status_ = 0;
};

}  // namespace instant::http
