#include "lib/layer/read_ahead.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace strata::layer {
namespace {

// Chunks "0", "1", ... up to count, then `end` (an error or the end of the stream).
class CountingChunks : public ByteSource {
 public:
  CountingChunks(int count, absl::Status end) : count_(count), end_(std::move(end)) {}
  absl::StatusOr<absl::string_view> Read() override {
    ++reads_;
    if (next_ < count_) {
      chunk_ = std::to_string(next_++);
      return absl::string_view(chunk_);
    }
    if (!end_.ok()) return end_;
    return absl::string_view();
  }
  int reads() const { return reads_; }

 private:
  const int count_;
  const absl::Status end_;
  int next_ = 0;
  int reads_ = 0;
  std::string chunk_;
};

TEST(ReadAheadSourceTest, PassesEveryChunkInOrderThenTheEnd) {
  CountingChunks inner(1000, absl::OkStatus());
  ReadAheadSource ahead(&inner, 4);
  std::string all, expected;
  for (int i = 0; i < 1000; ++i) expected += std::to_string(i);
  for (;;) {
    absl::StatusOr<absl::string_view> chunk = ahead.Read();
    ASSERT_TRUE(chunk.ok()) << chunk.status();
    if (chunk->empty()) break;
    all.append(chunk->data(), chunk->size());
  }
  EXPECT_EQ(all, expected);
  EXPECT_TRUE(ahead.Read().ok());  // the end stays the end
}

TEST(ReadAheadSourceTest, TheInnerErrorComesAfterTheChunksBeforeIt) {
  CountingChunks inner(3, absl::DataLossError("truncated"));
  ReadAheadSource ahead(&inner);
  for (const char* expected : {"0", "1", "2"}) {
    absl::StatusOr<absl::string_view> chunk = ahead.Read();
    ASSERT_TRUE(chunk.ok()) << chunk.status();
    EXPECT_EQ(*chunk, expected);
  }
  absl::StatusOr<absl::string_view> failed = ahead.Read();
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(failed.status().message(), "truncated");
}

TEST(ReadAheadSourceTest, AConsumerThatStopsEarlyStopsTheReader) {
  CountingChunks inner(1000000, absl::OkStatus());
  {
    ReadAheadSource ahead(&inner, 2);
    ASSERT_TRUE(ahead.Read().ok());
  }  // destroyed with the reader blocked on a full queue: it must stop, not read on
  EXPECT_LT(inner.reads(), 10);
}

}  // namespace
}  // namespace strata::layer
