#include "lib/layer/gzip_sink.h"

#include <cstdio>
#include <random>
#include <string>

#include "gtest/gtest.h"
#include "lib/layer/compression.h"
#include "lib/layer/decompression.h"

namespace strata::layer {
namespace {

std::string Mixed(size_t size, uint32_t seed) {
  std::mt19937 random(seed);
  std::string data;
  data.reserve(size);
  while (data.size() < size) {
    // Runs of text (compressible) between runs of noise (not).
    if (random() % 2 == 0) {
      data += "the quick brown fox jumps over the lazy dog ";
    } else {
      for (int i = 0; i < 64; ++i) data.push_back(static_cast<char>(random()));
    }
  }
  data.resize(size);
  return data;
}

std::string Gzip(const std::string& data, int threads, size_t write_size) {
  StringSink out;
  std::unique_ptr<ByteSink> sink = NewGzipSink(&out, 1, threads);
  for (size_t offset = 0; offset < data.size(); offset += write_size) {
    EXPECT_TRUE(sink->Write(absl::string_view(data).substr(offset, write_size)).ok());
  }
  EXPECT_TRUE(sink->Close().ok());
  return out.contents();
}

std::string Gunzip(const std::string& compressed) {
  StringSource source(compressed);
  std::unique_ptr<ByteSource> plain = NewDecompressingSource(Compression::kGzip, &source);
  std::string data;
  for (;;) {
    absl::StatusOr<absl::string_view> chunk = plain->Read();
    EXPECT_TRUE(chunk.ok()) << chunk.status();
    if (!chunk.ok() || chunk->empty()) break;
    data.append(chunk->data(), chunk->size());
  }
  return data;
}

TEST(GzipSinkTest, RoundTripsAtEveryBlockBoundaryAndThreadCount) {
  const size_t sizes[] = {0,
                          1,
                          kGzipBlockSize - 1,
                          kGzipBlockSize,
                          kGzipBlockSize + 1,
                          5 * kGzipBlockSize + kGzipBlockSize / 2};
  for (size_t size : sizes) {
    const std::string data = Mixed(size, static_cast<uint32_t>(size));
    for (int threads : {0, 1, 3}) {
      const std::string compressed = Gzip(data, threads, 100'000);
      ASSERT_GE(compressed.size(), 18u) << "an empty stream is still one member";
      EXPECT_EQ(compressed.substr(0, 2), "\x1f\x8b");
      EXPECT_EQ(Gunzip(compressed), data) << size << " bytes on " << threads << " threads";
    }
  }
}

TEST(GzipSinkTest, OutputDependsOnTheInputOnlyNotOnThreadsOrWriteSizes) {
  const std::string data = Mixed(3 * kGzipBlockSize + 12345, 7);
  const std::string one = Gzip(data, 1, 4096);
  EXPECT_EQ(Gzip(data, 2, 1 << 20), one);
  EXPECT_EQ(Gzip(data, 8, 777), one);
  EXPECT_LT(one.size(), data.size());
}

TEST(GzipSinkTest, SystemGzipReadsTheMembersAsOneFile) {
  const std::string data = Mixed(4 * kGzipBlockSize + 99, 11);
  const std::string compressed = Gzip(data, 4, 65536);
  const std::string path = ::testing::TempDir() + "/members.gz";
  FILE* file = std::fopen(path.c_str(), "wb");
  ASSERT_NE(file, nullptr);
  ASSERT_EQ(std::fwrite(compressed.data(), 1, compressed.size(), file), compressed.size());
  std::fclose(file);
  FILE* gunzip = popen(("gzip -dc " + path).c_str(), "r");
  ASSERT_NE(gunzip, nullptr);
  std::string out;
  char buffer[1 << 16];
  for (size_t n; (n = std::fread(buffer, 1, sizeof(buffer), gunzip)) > 0;) out.append(buffer, n);
  EXPECT_EQ(pclose(gunzip), 0);
  EXPECT_EQ(out, data);
}

// Fails every write after the first `allowed`.
class FailingSink : public ByteSink {
 public:
  explicit FailingSink(int allowed) : allowed_(allowed) {}
  absl::Status Write(absl::string_view) override {
    if (allowed_-- > 0) return absl::OkStatus();
    return absl::UnavailableError("disk went away");
  }

 private:
  int allowed_;
};

TEST(GzipSinkTest, AnErrorOfTheNextSinkIsReturnedAndSticks) {
  for (int threads : {1, 4}) {
    FailingSink next(2);
    std::unique_ptr<ByteSink> sink = NewGzipSink(&next, 1, threads);
    const std::string data = Mixed(kGzipBlockSize, 3);
    absl::Status status;
    for (int i = 0; i < 40 && status.ok(); ++i) status = sink->Write(data);
    if (status.ok()) status = sink->Close();
    EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << threads;
    EXPECT_EQ(sink->Write("more").code(), absl::StatusCode::kUnavailable);
    // Destroying the sink with blocks still in flight must neither hang nor crash.
  }
}

}  // namespace
}  // namespace strata::layer
