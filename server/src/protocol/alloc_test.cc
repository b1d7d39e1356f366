// Steady-state allocation check: after warm-up, decoding commands and encoding replies/pushes
// must not allocate (DESIGN.md: no heap allocation per command on the loop's hot path). Counts
// calls to the global operator new, which libsimdjson's buffers also go through.

#include <cstddef>
#include <cstdlib>
#include <new>
#include <string>

#include <gtest/gtest.h>

#include "protocol/decoder.h"
#include "protocol/encoder.h"

namespace {
bool g_counting = false;
size_t g_allocations = 0;
}  // namespace

void* operator new(size_t size) {
  if (g_counting) ++g_allocations;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void* operator new[](size_t size) { return operator new(size); }
void* operator new(size_t size, const std::nothrow_t&) noexcept {
  if (g_counting) ++g_allocations;
  return std::malloc(size == 0 ? 1 : size);
}
void* operator new[](size_t size, const std::nothrow_t& tag) noexcept {
  return operator new(size, tag);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }

namespace instant::protocol {
namespace {

class Counting {
 public:
  Counting() {
    g_allocations = 0;
    g_counting = true;
  }
  ~Counting() { g_counting = false; }
  size_t count() const { return g_allocations; }
};

TEST(AllocationTest, TheCounterSeesAllocations) {
  size_t allocations;
  {
    Counting counting;
    auto* p = new std::string(100, 'x');  // too long for the small-string buffer: 2 allocations
    delete p;
    allocations = counting.count();
  }
  EXPECT_EQ(allocations, 2u);
}

TEST(AllocationTest, DecodingAllocatesNothingInSteadyState) {
  std::string v2 =
      "{\"id\":1,\"connect\":{\"token\":\"eyJ.x.y\",\"name\":\"js\",\"data\":{\"a\":[1,2]},"
      "\"subs\":{\"\\u0024a\":{\"recover\":true,\"offset\":3,\"epoch\":\"e\"}}}}\n"
      "{\"id\":2,\"subscribe\":{\"channel\":\"chat:\\u0031\",\"recover\":true,\"offset\":9}}\n"
      "{\"id\":3,\"publish\":{\"channel\":\"c\",\"data\":{\"text\":\"hi "
      "\\\"there\\\"\",\"n\":[1.5,true]}}}\n"
      "{\"id\":4,\"subscribe\":{\"channel\":\"x\"},\"connect\":{\"token\":\"t\"}}\n"
      "{\"id\":5,\"rpc\":{\"method\":\"m\",\"data\":\"s\"}}\n{}";
  std::string v1 = "{\"params\":{\"channel\":\"x\",\"data\":[1]},\"method\":3,\"id\":4}";
  const size_t v2_size = v2.size(), v1_size = v1.size();
  v2.append(kMessagePadding, ' ');
  v1.append(kMessagePadding, ' ');
  CommandDecoder decoder;
  Command cmd;
  auto decode_all = [&] {
    size_t n = 0;
    decoder.Reset(std::string_view(v2.data(), v2_size), Version::kV2);
    while (decoder.Next(&cmd) == DecodeStatus::kCommand) ++n;
    decoder.Reset(std::string_view(v1.data(), v1_size), Version::kV1);
    while (decoder.Next(&cmd) == DecodeStatus::kCommand) ++n;
    return n;
  };
  ASSERT_EQ(decode_all(), 7u);  // warm-up: parser buffers grow to their steady size
  size_t allocations;
  {
    Counting counting;
    for (int i = 0; i < 100; ++i) decode_all();
    allocations = counting.count();
  }
  EXPECT_EQ(allocations, 0u);
}

TEST(AllocationTest, EncodingAllocatesNothingOnceTheBufferIsLarge) {
  std::string out;
  out.reserve(4096);
  ClientInfo info{"42", "c1", "{\"n\":1}", ""};
  Publication pub{"{\"a\":\n1}", 7, &info};
  SubscribeResult sub;
  sub.publications = &pub;
  sub.num_publications = 1;
  sub.epoch = "e";
  size_t allocations;
  {
    Counting counting;
    for (int i = 0; i < 100; ++i) {
      out.clear();
      AppendPublicationPush(out, Version::kV2, "news", pub);
      AppendPublicationPush(out, Version::kV1, "news", pub);
      AppendSubscribeReply(out, Version::kV2, 2, sub);
      AppendErrorReply(out, Version::kV2, 3, error::kInternal);
      AppendJoinPush(out, Version::kV1, "news", info);
      AppendPing(out);
    }
    allocations = counting.count();
  }
  EXPECT_EQ(allocations, 0u);
}

}  // namespace
}  // namespace instant::protocol
