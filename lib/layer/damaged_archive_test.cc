// Damaged archives: a tar header that fails its checksum, a gzip member whose CRC-32 or
// length does not match, a bit flipped in compressed data, and a stream of any compression
// cut short are refused with their cause, never read as if whole. Multi-member gzip (what
// pigz and `cat a.gz b.gz` make) still reads.

#include <fcntl.h>
#include <sys/stat.h>

#include <random>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/base/fs.h"
#include "lib/layer/compression.h"
#include "lib/layer/layer_reader.h"
#include "lib/layer/tar_writer.h"
#include "lib/testing/subprocess.h"
#include "lib/testing/temp_dir.h"
#include "lib/testing/tree.h"

namespace strata::layer {
namespace {

using ::testing::HasSubstr;

std::string RandomBytes(size_t size, unsigned seed) {
  std::mt19937 generator(seed);
  std::string bytes(size, '\0');
  for (char& byte : bytes) byte = static_cast<char>(generator());
  return bytes;
}

// A tar of three files; "random" is incompressible, so deflate stores it in stored blocks and
// a flipped bit there changes the bytes without breaking the deflate syntax: only the CRC
// tells.
std::string MakeTar(const testing::TempDir& dir) {
  const std::vector<std::pair<std::string, std::string>> files = {
      {"first", "the first file\n"},
      {"random", RandomBytes(200000, 1)},
      {"last", std::string(30000, 'z')},
  };
  StringSink tar;
  TarWriter writer(&tar);
  for (const auto& [name, content] : files) {
    const std::string path = dir.Join("content-" + name);
    testing::WriteFileOrDie(path, content);
    UniqueFd fd(::open(path.c_str(), O_RDONLY));
    TarHeader header;
    header.path = name;
    header.mode = S_IFREG | 0644;
    header.size = static_cast<int64_t>(content.size());
    EXPECT_TRUE(writer.WriteEntry(header, fd.get()).ok());
  }
  EXPECT_TRUE(writer.Finish().ok());
  return tar.contents();
}

std::string Compress(const std::string& tar, Compression compression) {
  StringSink compressed;
  auto sink = NewCompressingSink(compression, &compressed);
  EXPECT_TRUE(sink.ok());
  EXPECT_TRUE((*sink)->Write(tar).ok());
  EXPECT_TRUE((*sink)->Close().ok());
  return compressed.contents();
}

// Compresses with a command line tool (xz, bzip2), reading stdin.
std::string CompressWithTool(const testing::TempDir& dir, const std::string& tar,
                             const std::string& tool) {
  const std::string path = dir.Join("layer.tar");
  testing::WriteFileOrDie(path, tar);
  EXPECT_TRUE(testing::RunOk({tool, "-k", "-f", path}).ok()) << tool;
  auto compressed = ReadFile(path + (tool == "xz" ? ".xz" : ".bz2"));
  EXPECT_TRUE(compressed.ok());
  return compressed.ok() ? *compressed : "";
}

// Reads the whole archive as import does: every entry, every byte, then the end.
absl::Status ReadAll(const std::string& bytes, std::vector<std::string>* names = nullptr) {
  StringSource source(bytes, 4096);
  LayerReader reader(&source);
  for (;;) {
    absl::StatusOr<archive_entry*> entry = reader.NextEntry();
    if (!entry.ok()) return entry.status();
    if (*entry == nullptr) break;
    if (names != nullptr) names->push_back(EntryPath(*entry));
    absl::string_view data;
    int64_t offset = 0;
    for (;;) {
      absl::StatusOr<bool> more = reader.NextBlock(&data, &offset);
      if (!more.ok()) return more.status();
      if (!*more) break;
    }
  }
  return reader.Finish();
}

void ExpectRefused(const std::string& bytes, const std::string& cause) {
  absl::Status status = ReadAll(bytes);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr(cause));
}

TEST(DamagedArchiveTest, WholeArchivesRead) {
  testing::TempDir dir("damaged");
  const std::string tar = MakeTar(dir);
  for (const std::string& bytes :
       {tar, Compress(tar, Compression::kGzip), Compress(tar, Compression::kZstd),
        CompressWithTool(dir, tar, "xz"), CompressWithTool(dir, tar, "bzip2")}) {
    std::vector<std::string> names;
    EXPECT_TRUE(ReadAll(bytes, &names).ok());
    EXPECT_EQ(names, (std::vector<std::string>{"first", "random", "last"}));
  }
}

TEST(DamagedArchiveTest, TarHeaderWithABadChecksum) {
  testing::TempDir dir("damaged");
  std::string tar = MakeTar(dir);
  // The second entry's header follows the first's 512-byte header and one block of data
  // (pax headers would come first; these short names need none).
  const size_t second_header = 1024;
  ASSERT_EQ(tar.substr(second_header, 6), "random");
  tar[second_header] = 'R';  // the name changes; the stored checksum no longer matches
  ExpectRefused(tar, "Damaged tar archive");
  ExpectRefused(Compress(tar, Compression::kGzip), "Damaged tar archive");
}

TEST(DamagedArchiveTest, GzipWithABadCrc) {
  testing::TempDir dir("damaged");
  std::string gzip = Compress(MakeTar(dir), Compression::kGzip);
  gzip[gzip.size() - 8] ^= 0x01;  // the CRC-32 of the trailer
  ExpectRefused(gzip, "incorrect data check");
}

TEST(DamagedArchiveTest, GzipWithABadLength) {
  testing::TempDir dir("damaged");
  std::string gzip = Compress(MakeTar(dir), Compression::kGzip);
  gzip[gzip.size() - 1] ^= 0x01;  // ISIZE
  ExpectRefused(gzip, "incorrect length check");
}

TEST(DamagedArchiveTest, GzipWithAFlippedBitInTheData) {
  testing::TempDir dir("damaged");
  const std::string tar = MakeTar(dir);
  std::string gzip = Compress(tar, Compression::kGzip);
  // Inside the stored blocks of "random" (its bytes start at 1024 + 512 in the tar).
  const size_t position = 1536 + 100000;
  ASSERT_LT(position, gzip.size() - 40000);
  gzip[position] ^= 0x10;
  ExpectRefused(gzip, "damaged gzip stream");
}

TEST(DamagedArchiveTest, TruncatedStreamsOfEveryCompression) {
  testing::TempDir dir("damaged");
  const std::string tar = MakeTar(dir);
  const struct {
    const char* name;
    std::string bytes;
  } streams[] = {
      {"gzip", Compress(tar, Compression::kGzip)},
      {"zstd", Compress(tar, Compression::kZstd)},
      {"xz", CompressWithTool(dir, tar, "xz")},
      {"bzip2", CompressWithTool(dir, tar, "bzip2")},
  };
  for (const auto& stream : streams) {
    SCOPED_TRACE(stream.name);
    // Cut in the trailer (every tar byte may still be there) and in the middle.
    for (size_t cut : {size_t{3}, stream.bytes.size() / 2}) {
      SCOPED_TRACE(cut);
      absl::Status status = ReadAll(stream.bytes.substr(0, stream.bytes.size() - cut));
      EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
    }
    ExpectRefused(stream.bytes.substr(0, stream.bytes.size() - 3), "truncated");
  }
}

TEST(DamagedArchiveTest, GzipMembersOneAfterAnotherReadAsOneStream) {
  testing::TempDir dir("damaged");
  const std::string tar = MakeTar(dir);
  const std::string two_members = Compress(tar.substr(0, 100000), Compression::kGzip) +
                                  Compress(tar.substr(100000), Compression::kGzip);
  std::vector<std::string> names;
  EXPECT_TRUE(ReadAll(two_members, &names).ok());
  EXPECT_EQ(names, (std::vector<std::string>{"first", "random", "last"}));

  std::string damaged_second = two_members;
  damaged_second[damaged_second.size() - 8] ^= 0x01;
  ExpectRefused(damaged_second, "incorrect data check in member 2");
}

TEST(DamagedArchiveTest, TrailingGarbageAfterTheLastMember) {
  testing::TempDir dir("damaged");
  const std::string tar = MakeTar(dir);
  ExpectRefused(Compress(tar, Compression::kGzip) + "garbage!",
                "data after the end of the last member");
  absl::Status zstd = ReadAll(Compress(tar, Compression::kZstd) + "garbage!");
  EXPECT_EQ(zstd.code(), absl::StatusCode::kInvalidArgument) << zstd;
}

}  // namespace
}  // namespace strata::layer
