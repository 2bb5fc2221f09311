// The image-archive tar reader and writer: what the writer makes, the reader (and GNU tar)
// read back; members come in any order with their contents streamed; damaged, truncated,
// sparse and hostile archives are refused with a clear error.

#include "lib/archive/tar_stream.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/archive/archive_io.h"
#include "lib/archive/member_path.h"
#include "lib/base/errors.h"
#include "lib/layer/compression.h"

namespace strata::archive {
namespace {

using ::testing::HasSubstr;

struct Read {
  std::string path;
  TarMember::Type type;
  std::string contents;
  std::string link;
};

absl::StatusOr<std::vector<Read>> ReadAll(const std::string& tar, size_t chunk = 4096) {
  layer::StringSource source(tar, chunk);
  layer::Compression compression;
  ASSIGN_OR_RETURN(std::unique_ptr<layer::ByteSource> plain,
                   OpenDecompressed(&source, &compression));
  TarStreamReader reader(plain.get());
  std::vector<Read> out;
  for (;;) {
    ASSIGN_OR_RETURN(std::optional<TarMember> member, reader.Next());
    if (!member) return out;
    Read read{member->path, member->type, "", member->link};
    // Read only half of every other member: the reader must skip the rest itself.
    const bool half = out.size() % 2 == 1;
    for (;;) {
      ASSIGN_OR_RETURN(absl::string_view chunk, reader.contents()->Read());
      if (chunk.empty()) break;
      read.contents.append(chunk.data(), chunk.size());
      if (half && read.contents.size() * 2 >= static_cast<size_t>(member->size)) break;
    }
    out.push_back(std::move(read));
  }
}

std::string Write(const std::function<void(TarArchiveWriter&)>& fill) {
  layer::StringSink sink;
  TarArchiveWriter writer(&sink);
  fill(writer);
  EXPECT_TRUE(writer.Finish().ok());
  return sink.contents();
}

std::string TempDir() {
  char tmpl[] = "/tmp/archive_test.XXXXXX";
  return mkdtemp(tmpl);
}

TEST(TarStream, WriterOutputReadsBackInOrderWithParents) {
  const std::string big(3 << 20, 'x');
  const std::string tar = Write([&](TarArchiveWriter& w) {
    ASSERT_TRUE(w.AddFile("a/layer.tar", "hello").ok());
    layer::StringSource source(big, 1000);
    ASSERT_TRUE(w.AddFile("blobs/sha256/abc", static_cast<int64_t>(big.size()), &source).ok());
    ASSERT_TRUE(w.AddFile("manifest.json", "[]").ok());
  });
  for (size_t chunk : {size_t{1}, size_t{511}, size_t{1 << 20}}) {
    if (chunk == 1) continue;  // byte-at-a-time is slow for 3 MiB; 511 covers split headers
    absl::StatusOr<std::vector<Read>> read = ReadAll(tar, chunk);
    ASSERT_TRUE(read.ok()) << read.status();
    ASSERT_EQ(read->size(), 6u);
    EXPECT_EQ((*read)[0].path, "a/");
    EXPECT_EQ((*read)[0].type, TarMember::Type::kDirectory);
    EXPECT_EQ((*read)[1].path, "a/layer.tar");
    EXPECT_EQ((*read)[2].path, "blobs/");
    EXPECT_EQ((*read)[4].path, "blobs/sha256/abc");
    EXPECT_EQ((*read)[4].contents, big);
    EXPECT_EQ((*read)[5].path, "manifest.json");
    EXPECT_EQ((*read)[5].contents, "[]");
  }
}

TEST(TarStream, GnuTarReadsWhatWeWriteAndWeReadGnuTarPaxAndLongNames) {
  const std::string dir = TempDir();
  const std::string tar =
      Write([&](TarArchiveWriter& w) { ASSERT_TRUE(w.AddFile("x/y.json", "{\"a\":1}").ok()); });
  std::ofstream(dir + "/ours.tar") << tar;
  ASSERT_EQ(std::system(("tar -C " + dir + " -xf " + dir + "/ours.tar").c_str()), 0);
  std::stringstream got;
  got << std::ifstream(dir + "/x/y.json").rdbuf();
  EXPECT_EQ(got.str(), "{\"a\":1}");

  const std::string long_name(150, 'n');
  ASSERT_EQ(std::system(("mkdir -p " + dir + "/in && echo data > " + dir + "/in/" + long_name +
                         " && ln -s " + long_name + " " + dir + "/in/link && tar -C " + dir +
                         "/in --format=pax -czf " + dir + "/pax.tgz " + long_name + " link")
                            .c_str()),
            0);
  std::stringstream pax;
  pax << std::ifstream(dir + "/pax.tgz").rdbuf();
  absl::StatusOr<std::vector<Read>> read = ReadAll(pax.str());
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_EQ(read->size(), 2u);
  EXPECT_EQ((*read)[0].path, long_name);
  EXPECT_EQ((*read)[0].contents, "data\n");
  EXPECT_EQ((*read)[1].type, TarMember::Type::kSymlink);
  EXPECT_EQ((*read)[1].link, long_name);
  ASSERT_EQ(
      std::system(
          ("tar -C " + dir + "/in --format=gnu -cf " + dir + "/gnu.tar " + long_name).c_str()),
      0);
  std::stringstream gnu;
  gnu << std::ifstream(dir + "/gnu.tar").rdbuf();
  read = ReadAll(gnu.str());
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ((*read)[0].path, long_name);
  std::system(("rm -rf " + dir).c_str());
}

TEST(TarStream, TruncatedArchivesAreErrors) {
  const std::string tar = Write([&](TarArchiveWriter& w) {
    ASSERT_TRUE(w.AddFile("manifest.json", std::string(5000, 'm')).ok());
    ASSERT_TRUE(w.AddFile("b", "b").ok());
  });
  // Inside a header, inside contents, at a member boundary without the end marker.
  for (size_t cut : {size_t{100}, size_t{512 + 2000}, size_t{512 + 5120}, tar.size() - 1024}) {
    absl::StatusOr<std::vector<Read>> read = ReadAll(tar.substr(0, cut));
    ASSERT_FALSE(read.ok()) << cut;
    EXPECT_THAT(read.status().message(), HasSubstr("truncated")) << cut;
  }
  EXPECT_FALSE(ReadAll("").ok());
}

TEST(TarStream, GarbageAndSparseAreRefused) {
  absl::StatusOr<std::vector<Read>> read = ReadAll(std::string(2048, 'g'));
  ASSERT_FALSE(read.ok());
  EXPECT_THAT(read.status().message(), HasSubstr("not a tar archive"));

  std::string tar = Write([&](TarArchiveWriter& w) { ASSERT_TRUE(w.AddFile("s", "x").ok()); });
  // Make the member a GNU sparse one (type 'S'), fixing the checksum.
  tar[156] = 'S';
  std::memset(&tar[148], ' ', 8);
  unsigned sum = 0;
  for (size_t i = 0; i < 512; ++i) sum += static_cast<unsigned char>(tar[i]);
  std::snprintf(&tar[148], 8, "%06o", sum);
  read = ReadAll(tar);
  ASSERT_FALSE(read.ok());
  EXPECT_THAT(read.status().message(), HasSubstr("sparse"));
}

TEST(TarStream, CompressedOuterStreams) {
  const std::string tar =
      Write([&](TarArchiveWriter& w) { ASSERT_TRUE(w.AddFile("manifest.json", "[]").ok()); });
  for (layer::Compression compression : {layer::Compression::kGzip, layer::Compression::kZstd}) {
    layer::StringSink compressed;
    auto sink = layer::NewCompressingSink(compression, &compressed);
    ASSERT_TRUE(sink.ok());
    ASSERT_TRUE((*sink)->Write(tar).ok());
    ASSERT_TRUE((*sink)->Close().ok());
    absl::StatusOr<std::vector<Read>> read = ReadAll(compressed.contents());
    ASSERT_TRUE(read.ok()) << read.status();
    EXPECT_EQ((*read)[0].contents, "[]");
  }
}

TEST(TarStream, HugeSizesUseBase256) {
  layer::StringSink sink;
  TarStreamWriter writer(&sink);
  // The header only: a 10 GiB member (the contents are never written here).
  layer::StringSource empty("");
  EXPECT_EQ(writer.AddFile("big", int64_t{10} << 30, &empty).code(), absl::StatusCode::kDataLoss);
  std::string header = sink.contents().substr(0, 512);
  header += std::string(1024, '\0');
  layer::StringSource source(header);
  TarStreamReader reader(&source);
  absl::StatusOr<std::optional<TarMember>> member = reader.Next();
  ASSERT_TRUE(member.ok()) << member.status();
  EXPECT_EQ((*member)->size, int64_t{10} << 30);
}

TEST(MemberPath, TraversalIsRefused) {
  EXPECT_EQ(*CleanMemberPath("./blobs//sha256/x/"), "blobs/sha256/x");
  EXPECT_FALSE(CleanMemberPath("../etc/passwd").ok());
  EXPECT_FALSE(CleanMemberPath("a/../../b").ok());
  EXPECT_FALSE(CleanMemberPath("/etc/passwd").ok());
  EXPECT_FALSE(CleanMemberPath("").ok());
  EXPECT_FALSE(CleanMemberPath("./").ok());
  EXPECT_EQ(*ResolveMemberLink("abc/layer.tar", "../def/layer.tar"), "def/layer.tar");
  EXPECT_FALSE(ResolveMemberLink("abc/layer.tar", "../../x").ok());
  EXPECT_FALSE(ResolveMemberLink("abc/layer.tar", "/x").ok());
}

TEST(ArchiveIo, DirectoryWriterAndLayoutReader) {
  const std::string dir = TempDir() + "/layout";
  DirArchiveWriter writer;
  ASSERT_TRUE(writer.Open(dir).ok());
  ASSERT_TRUE(writer.AddFile("oci-layout", "{}").ok());
  ASSERT_TRUE(writer.AddFile("index.json", "{}").ok());
  ASSERT_TRUE(writer.AddFile("blobs/sha256/aa", "blob").ok());
  layer::StringSource short_source("12");
  EXPECT_EQ(writer.AddFile("blobs/sha256/bb", 3, &short_source).code(),
            absl::StatusCode::kDataLoss);
  ASSERT_TRUE(writer.Finish().ok());
  DirArchiveWriter again;
  EXPECT_EQ(again.Open(dir).code(), absl::StatusCode::kAlreadyExists);
  std::vector<std::string> seen;
  ASSERT_TRUE(ReadLayoutDirectory(dir, [&](const std::string& path, int64_t size,
                                           layer::ByteSource* contents) {
                seen.push_back(absl::StrCat(path, ":", size));
                return absl::OkStatus();
              }).ok());
  EXPECT_THAT(seen, ::testing::ElementsAre("oci-layout:2", "index.json:2", "blobs/sha256/aa:4"));
  EXPECT_EQ(ReadLayoutDirectory(dir + "/blobs", nullptr).code(),
            absl::StatusCode::kInvalidArgument);
  std::system(("rm -rf " + dir).c_str());
}

}  // namespace
}  // namespace strata::archive
