// Layer codec round trips: directory -> layer (every compression) -> directory gives the same
// tree; digests are those of the bytes; the same tree gives the same diff id.

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <random>
#include <string>

#include "gtest/gtest.h"
#include "lib/base/fs.h"
#include "lib/layer/layer_reader.h"
#include "lib/layer/layer_writer.h"
#include "lib/layer/unpacker.h"
#include "lib/layer/whiteout.h"
#include "lib/testing/subprocess.h"
#include "lib/testing/temp_dir.h"
#include "lib/testing/tree.h"

namespace strata::layer {
namespace {

using testing::MakeDirOrDie;
using testing::WriteFileOrDie;

std::string RandomBytes(size_t size, unsigned seed) {
  std::mt19937_64 generator(seed);
  std::string bytes(size, '\0');
  for (size_t i = 0; i + 8 <= size; i += 8) {
    uint64_t value = generator();
    memcpy(&bytes[i], &value, 8);
  }
  return bytes;
}

// An overlay upper directory with every kind of entry a layer must carry.
void BuildUpper(const std::string& root) {
  MakeDirOrDie(root + "/dir/sub", 0750);
  WriteFileOrDie(root + "/dir/file", "hello");
  WriteFileOrDie(root + "/empty", "");
  WriteFileOrDie(root + "/setuid", "x", 04755);
  WriteFileOrDie(root + "/big", RandomBytes(3 << 20, 7), 0600);
  WriteFileOrDie(root + "/dir/" + std::string(150, 'n'), "long name");
  // Names are bytes: UTF-8, and bytes that are no encoding at all.
  WriteFileOrDie(root + "/dir/café", "utf-8");
  WriteFileOrDie(root + "/dir/raw-\xff\xfe", "binary");
  ASSERT_EQ(::symlink("/etc/passwd", (root + "/abs-link").c_str()), 0);
  ASSERT_EQ(::symlink("dir/file", (root + "/rel-link").c_str()), 0);
  ASSERT_EQ(::link((root + "/dir/file").c_str(), (root + "/hardlink").c_str()), 0);
  ASSERT_EQ(::mkfifo((root + "/fifo").c_str(), 0640), 0);
  ASSERT_EQ(::mknod((root + "/null").c_str(), S_IFCHR | 0666, makedev(1, 3)), 0);
  ASSERT_EQ(::lchown((root + "/dir/file").c_str(), 1000, 1001), 0);
  ASSERT_EQ(::lchown((root + "/abs-link").c_str(), 7, 8), 0);
  ASSERT_EQ(::lsetxattr((root + "/dir/file").c_str(), "user.note", "v1", 2, 0), 0);
  ASSERT_EQ(::lsetxattr((root + "/dir").c_str(), "trusted.custom", "t", 1, 0), 0);
  ASSERT_EQ(::lsetxattr((root + "/dir").c_str(), "trusted.overlay.origin", "o", 1, 0), 0);
  // Overlay's own records: a whiteout and an opaque directory.
  ASSERT_EQ(::mknod((root + "/gone").c_str(), S_IFCHR, makedev(0, 0)), 0);
  MakeDirOrDie(root + "/opq");
  WriteFileOrDie(root + "/opq/kept", "k");
  ASSERT_EQ(::lsetxattr((root + "/opq").c_str(), "trusted.overlay.opaque", "y", 1, 0), 0);
}

std::string Describe(const std::string& root) {
  auto description = testing::DescribeTree(root);
  EXPECT_TRUE(description.ok()) << description.status();
  return description.ok() ? *description : "";
}

LayerDigests WriteLayer(const std::string& upper, Compression compression, StringSink* sink) {
  UniqueFd fd(::open(upper.c_str(), O_RDONLY | O_DIRECTORY));
  auto digests =
      WriteOverlayUpperAsLayer(fd.get(), {.compression = compression, .threads = 2}, sink);
  EXPECT_TRUE(digests.ok()) << digests.status();
  return digests.ok() ? *digests : LayerDigests{};
}

UnpackStats Unpack(std::string bytes, const std::string& target) {
  EXPECT_TRUE(MakeDirs(target).ok());
  UniqueFd fd(::open(target.c_str(), O_RDONLY | O_DIRECTORY));
  StringSource source(std::move(bytes), 100000);
  auto stats = UnpackLayer(&source, fd.get());
  EXPECT_TRUE(stats.ok()) << stats.status();
  return stats.ok() ? *stats : UnpackStats{};
}

class CodecRoundTripTest : public ::testing::TestWithParam<Compression> {};

TEST_P(CodecRoundTripTest, UnpackGivesTheSameTree) {
  testing::TempDir dir("codec");
  const std::string upper = dir.Join("upper");
  MakeDirOrDie(upper);
  BuildUpper(upper);

  StringSink blob;
  LayerDigests digests = WriteLayer(upper, GetParam(), &blob);
  EXPECT_EQ(digests.digest, Digest::Of(blob.contents()));
  EXPECT_EQ(digests.size, blob.contents().size());
  EXPECT_EQ(DetectCompression(blob.contents().substr(0, 8)), GetParam());

  // The diff id is the digest of the decompressed stream.
  StringSource source(blob.contents());
  StringSink tar;
  LayerReader reader(&source, &tar);
  for (;;) {
    auto entry = reader.NextEntry();
    ASSERT_TRUE(entry.ok()) << entry.status();
    if (*entry == nullptr) break;
  }
  ASSERT_TRUE(reader.Finish().ok());
  EXPECT_EQ(reader.compression(), GetParam());
  EXPECT_EQ(reader.diff_id(), digests.diff_id);
  EXPECT_EQ(Digest::Of(tar.contents()), digests.diff_id);
  EXPECT_EQ(digests.uncompressed_size, tar.contents().size());

  UnpackStats stats = Unpack(blob.contents(), dir.Join("unpacked"));
  EXPECT_EQ(stats.diff_id, digests.diff_id);
  EXPECT_EQ(Describe(dir.Join("unpacked")), Describe(upper));
  EXPECT_TRUE(IsOpaqueDirectory(dir.Join("unpacked/opq")));
  char value[8];
  EXPECT_LT(
      ::lgetxattr(dir.Join("unpacked/dir").c_str(), "trusted.overlay.origin", value, sizeof(value)),
      0)
      << "overlay bookkeeping must not travel in layers";
}

TEST_P(CodecRoundTripTest, SameTreeSameDigests) {
  testing::TempDir dir("codec");
  MakeDirOrDie(dir.Join("upper"));
  BuildUpper(dir.Join("upper"));
  StringSink first, second;
  LayerDigests a = WriteLayer(dir.Join("upper"), GetParam(), &first);
  LayerDigests b = WriteLayer(dir.Join("upper"), GetParam(), &second);
  EXPECT_EQ(a.diff_id, b.diff_id);
  EXPECT_EQ(a.digest, b.digest);
}

INSTANTIATE_TEST_SUITE_P(Compressions, CodecRoundTripTest,
                         ::testing::Values(Compression::kZstd, Compression::kGzip,
                                           Compression::kNone),
                         [](const auto& info) { return CompressionName(info.param); });

// Layers compressed by other tools (bzip2, xz, gzip, zstd command lines) read the same.
TEST(CodecTest, ReadsEveryCompressionByContent) {
  testing::TempDir dir("codec");
  MakeDirOrDie(dir.Join("upper"));
  BuildUpper(dir.Join("upper"));
  StringSink tar;
  LayerDigests digests = WriteLayer(dir.Join("upper"), Compression::kNone, &tar);
  const std::string tar_path = dir.Join("layer.tar");
  WriteFileOrDie(tar_path, tar.contents());
  struct Tool {
    std::vector<std::string> argv;
    std::string output;
    Compression expected;
  };
  const Tool tools[] = {
      {{"bzip2", "-k", tar_path}, tar_path + ".bz2", Compression::kBzip2},
      {{"xz", "-k", tar_path}, tar_path + ".xz", Compression::kXz},
      {{"gzip", "-k", tar_path}, tar_path + ".gz", Compression::kGzip},
      {{"zstd", "-q", "-k", tar_path}, tar_path + ".zst", Compression::kZstd},
  };
  for (const Tool& tool : tools) {
    ASSERT_TRUE(testing::RunOk(tool.argv).ok()) << tool.argv[0];
    auto compressed = ReadFile(tool.output);
    ASSERT_TRUE(compressed.ok());
    const std::string target = dir.Join("out-" + tool.argv[0]);
    UnpackStats stats = Unpack(*compressed, target);
    EXPECT_EQ(stats.compression, tool.expected) << tool.argv[0];
    EXPECT_EQ(stats.diff_id, digests.diff_id) << tool.argv[0];
    EXPECT_EQ(Describe(target), Describe(dir.Join("upper"))) << tool.argv[0];
  }
}

TEST(CodecTest, RejectsWhatIsNotATar) {
  testing::TempDir dir("codec");
  UniqueFd fd(::open(dir.path().c_str(), O_RDONLY | O_DIRECTORY));
  for (const std::string& bytes :
       {std::string(), RandomBytes(5000, 1), std::string("\x1f\x8b\x08\x00garbage", 12)}) {
    StringSource source(bytes);
    auto stats = UnpackLayer(&source, fd.get());
    EXPECT_EQ(stats.status().code(), absl::StatusCode::kInvalidArgument) << stats.status();
  }
}

TEST(CodecTest, RejectsATruncatedLayer) {
  testing::TempDir dir("codec");
  MakeDirOrDie(dir.Join("upper"));
  BuildUpper(dir.Join("upper"));
  StringSink blob;
  WriteLayer(dir.Join("upper"), Compression::kZstd, &blob);
  MakeDirOrDie(dir.Join("out"));
  UniqueFd fd(::open(dir.Join("out").c_str(), O_RDONLY | O_DIRECTORY));
  StringSource source(blob.contents().substr(0, blob.contents().size() / 2));
  auto stats = UnpackLayer(&source, fd.get());
  EXPECT_EQ(stats.status().code(), absl::StatusCode::kInvalidArgument) << stats.status();
}

TEST(CodecTest, ExportedTreeKeepsEverything) {
  testing::TempDir dir("codec");
  const std::string tree = dir.Join("tree");
  MakeDirOrDie(tree);
  BuildUpper(tree);
  ASSERT_EQ(::unlink(dir.Join("tree/gone").c_str()), 0);
  ASSERT_EQ(::lremovexattr(dir.Join("tree/opq").c_str(), "trusted.overlay.opaque"), 0);
  UniqueFd fd(::open(tree.c_str(), O_RDONLY | O_DIRECTORY));
  StringSink tar;
  auto entries = WriteTreeAsTar(fd.get(), &tar);
  ASSERT_TRUE(entries.ok()) << entries.status();
  Unpack(tar.contents(), dir.Join("copy"));
  EXPECT_EQ(Describe(dir.Join("copy")), Describe(tree));
}

}  // namespace
}  // namespace strata::layer
