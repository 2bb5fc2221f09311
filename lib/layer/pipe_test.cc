#include "lib/layer/pipe.h"

#include <string>
#include <thread>

#include "gtest/gtest.h"

namespace strata::layer {
namespace {

std::string ReadAll(ByteSource* source, absl::Status* end) {
  std::string all;
  for (;;) {
    absl::StatusOr<absl::string_view> chunk = source->Read();
    if (!chunk.ok()) {
      *end = chunk.status();
      return all;
    }
    if (chunk->empty()) return all;
    all.append(chunk->data(), chunk->size());
  }
}

TEST(PipeTest, CarriesEveryChunkInOrderThroughASmallBuffer) {
  Pipe pipe(2);
  std::string expected;
  for (int i = 0; i < 5000; ++i) expected += std::to_string(i);
  std::thread writer([&] {
    for (int i = 0; i < 5000; ++i) EXPECT_TRUE(pipe.sink()->Write(std::to_string(i)).ok());
    EXPECT_TRUE(pipe.sink()->Close().ok());
  });
  absl::Status end;
  EXPECT_EQ(ReadAll(pipe.source(), &end), expected);
  EXPECT_TRUE(end.ok());
  writer.join();
}

TEST(PipeTest, TheWritersErrorReachesTheReaderAfterTheChunksBeforeIt) {
  Pipe pipe(4);
  ASSERT_TRUE(pipe.sink()->Write("abc").ok());
  pipe.Fail(absl::DataLossError("diff id mismatch"));
  absl::Status end;
  EXPECT_EQ(ReadAll(pipe.source(), &end), "abc");
  EXPECT_EQ(end.code(), absl::StatusCode::kDataLoss);
}

TEST(PipeTest, AWriterBlockedOnAFullPipeIsReleasedWhenTheReaderGoes) {
  Pipe pipe(1);
  std::thread writer([&] {
    for (int i = 0; i < 100; ++i) EXPECT_TRUE(pipe.sink()->Write("chunk").ok());
    EXPECT_TRUE(pipe.sink()->Close().ok());
  });
  ASSERT_TRUE(pipe.source()->Read().ok());
  pipe.CloseRead();
  writer.join();  // would hang if the writer stayed blocked
}

}  // namespace
}  // namespace strata::layer
