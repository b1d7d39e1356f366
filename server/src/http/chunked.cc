#include "http/chunked.h"

#include <algorithm>

namespace instant::http {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Bytes allowed inside a chunk extension or a trailer field line: VCHAR, obs-text, SP, HTAB.
bool IsLineByte(char ch) {
  unsigned char c = static_cast<unsigned char>(ch);
  return c == '\t' || (c >= 0x20 && c != 0x7f);
}

}  // namespace

ChunkedDecoder::Status ChunkedDecoder::Fail(const char* reason, int status, size_t at,
                                            size_t* consumed) {
  state_ = State::kError;
  error_ = reason;
  error_status_ = status;
  *consumed = at;
  return Status::kError;
}

ChunkedDecoder::Status ChunkedDecoder::Feed(std::string_view data, size_t max_body,
                                            std::string* body, size_t* consumed) {
  *consumed = 0;
  if (state_ == State::kDone) return Status::kDone;
  if (state_ == State::kError) return Status::kError;
  size_t i = 0;
  while (i < data.size()) {
    if (state_ == State::kData) {
      // The one bulk path: copy as much of the chunk as has arrived.
      size_t n = static_cast<size_t>(std::min<uint64_t>(chunk_size_, data.size() - i));
      body->append(data.data() + i, n);
      i += n;
      chunk_size_ -= n;
      decoded_ += n;
      if (chunk_size_ == 0) state_ = State::kDataCr;
      continue;
    }
    const char c = data[i];
    switch (state_) {
      case State::kSize: {
        if (++line_bytes_ > kMaxChunkLineSize) return Fail("chunk line too long", 400, i, consumed);
        int v = HexValue(c);
        if (v >= 0) {
          if (chunk_size_ > (UINT64_MAX >> 4)) return Fail("chunk too large", 413, i, consumed);
          chunk_size_ = chunk_size_ * 16 + static_cast<uint64_t>(v);
          ++size_digits_;
          // The size only grows with more digits, so refuse as soon as it passes the limit.
          if (decoded_ > max_body || chunk_size_ > max_body - decoded_) {
            return Fail("body too large", 413, i, consumed);
          }
          break;
        }
        if (size_digits_ == 0) return Fail("invalid chunk size", 400, i, consumed);
        if (c == '\r') {
          state_ = State::kSizeLf;
        } else if (c == ';') {
          state_ = State::kExtension;
        } else if (c == ' ' || c == '\t') {
          state_ = State::kSizeWhitespace;
        } else {
          return Fail("invalid chunk size", 400, i, consumed);
        }
        break;
      }
      case State::kSizeWhitespace:
        // chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ): whitespace
        // after the size is only allowed in front of an extension.
        if (++line_bytes_ > kMaxChunkLineSize) return Fail("chunk line too long", 400, i, consumed);
        if (c == ';') {
          state_ = State::kExtension;
        } else if (c != ' ' && c != '\t') {
          return Fail("invalid chunk size", 400, i, consumed);
        }
        break;
      case State::kExtension:
        if (++line_bytes_ > kMaxChunkLineSize) return Fail("chunk line too long", 400, i, consumed);
        if (c == '\r') {
          state_ = State::kSizeLf;
        } else if (!IsLineByte(c)) {
          return Fail("invalid chunk extension", 400, i, consumed);
        }
        break;
      case State::kSizeLf:
        if (c != '\n') return Fail("bad chunk line end", 400, i, consumed);
        line_bytes_ = 0;
        size_digits_ = 0;
        state_ = chunk_size_ == 0 ? State::kTrailerLineStart : State::kData;
        break;
      case State::kDataCr:
        if (c != '\r') return Fail("chunk data longer than its size", 400, i, consumed);
        state_ = State::kDataLf;
        break;
      case State::kDataLf:
        if (c != '\n') return Fail("bad chunk line end", 400, i, consumed);
        state_ = State::kSize;
        break;
      case State::kTrailerLineStart:
      case State::kTrailerLine:
        if (++trailer_bytes_ > kMaxTrailerSize) return Fail("trailers too large", 400, i, consumed);
        if (c == '\r') {
          state_ = state_ == State::kTrailerLineStart ? State::kFinalLf : State::kTrailerLf;
        } else if (IsLineByte(c)) {
          state_ = State::kTrailerLine;
        } else {
          return Fail("invalid trailer", 400, i, consumed);
        }
        break;
      case State::kTrailerLf:
        if (++trailer_bytes_ > kMaxTrailerSize) return Fail("trailers too large", 400, i, consumed);
        if (c != '\n') return Fail("bad trailer line end", 400, i, consumed);
        state_ = State::kTrailerLineStart;
        break;
      case State::kFinalLf:
        if (c != '\n') return Fail("bad chunked body end", 400, i, consumed);
        state_ = State::kDone;
        *consumed = i + 1;
        return Status::kDone;
      case State::kData:
      case State::kDone:
      case State::kError:
        break;  // handled above the switch
    }
    ++i;
  }
  *consumed = i;
  return Status::kNeedMore;
}

}  // namespace instant::http
