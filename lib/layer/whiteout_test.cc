// Whiteouts on unpack follow the OCI image spec: they and opaque markers delete from the
// layers below only, whatever their order in the tar; a bottom layer gets no whiteout device;
// a character device 0:0 under a plain name is refused. Checked on the unpacked snapshots and
// through a real overlay mount of them (needs root: tagged local).

#include "lib/layer/whiteout.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/base/fs.h"
#include "lib/layer/tar_writer.h"
#include "lib/layer/unpacker.h"
#include "lib/testing/temp_dir.h"
#include "lib/testing/tree.h"

namespace strata::layer {
namespace {

using ::testing::HasSubstr;

TarHeader Entry(const std::string& path, mode_t mode) {
  TarHeader header;
  header.path = path;
  header.mode = mode;
  return header;
}
TarHeader File(const std::string& path) { return Entry(path, S_IFREG | 0644); }
TarHeader Dir(const std::string& path) { return Entry(path + "/", S_IFDIR | 0755); }

class WhiteoutTest : public ::testing::Test {
 protected:
  ~WhiteoutTest() override {
    if (mounted_) ::umount2(dir_.Join("merged").c_str(), MNT_DETACH);
  }

  // Unpacks a tar of empty files, directories and devices into a new snapshot `name`, over
  // the snapshots `below` (top first).
  absl::Status Unpack(const std::string& name, const std::vector<TarHeader>& headers,
                      const std::vector<std::string>& below) {
    StringSink tar;
    {
      TarWriter writer(&tar);
      const std::string empty = dir_.Join("empty");
      testing::WriteFileOrDie(empty, "");
      for (const TarHeader& header : headers) {
        UniqueFd content(::open(empty.c_str(), O_RDONLY));
        EXPECT_TRUE(writer.WriteEntry(header, content.get()).ok()) << header.path;
      }
      EXPECT_TRUE(writer.Finish().ok());
    }
    EXPECT_TRUE(MakeDirs(dir_.Join(name)).ok());
    UniqueFd root(::open(dir_.Join(name).c_str(), O_RDONLY | O_DIRECTORY));
    std::vector<UniqueFd> lower_fds;
    UnpackOptions options;
    options.lower_layers.emplace();
    for (const std::string& lower : below) {
      lower_fds.emplace_back(::open(dir_.Join(lower).c_str(), O_RDONLY | O_DIRECTORY));
      options.lower_layers->push_back(lower_fds.back().get());
    }
    StringSource source(tar.contents());
    return UnpackLayer(&source, root.get(), options).status();
  }

  // Mounts the snapshots (top first) read-only, as the runtime stacks them.
  std::string Mount(const std::vector<std::string>& layers) {
    std::string lowerdir;
    for (const std::string& layer : layers) {
      absl::StrAppend(&lowerdir, lowerdir.empty() ? "" : ":", dir_.Join(layer));
    }
    const std::string merged = dir_.Join("merged");
    EXPECT_TRUE(MakeDirs(merged).ok());
    const std::string options =
        absl::StrCat("lowerdir=", lowerdir, ",redirect_dir=off,metacopy=off,index=off");
    EXPECT_EQ(::mount("overlay", merged.c_str(), "overlay", MS_RDONLY, options.c_str()), 0)
        << strerror(errno);
    mounted_ = true;
    return merged;
  }

  // The names in a directory, sorted, each of which must stat (what `ls -l` needs).
  static std::vector<std::string> ListAndStat(const std::string& dir) {
    std::vector<std::string> names;
    DIR* stream = ::opendir(dir.c_str());
    EXPECT_NE(stream, nullptr) << dir;
    if (stream == nullptr) return names;
    while (struct dirent* entry = ::readdir(stream)) {
      const std::string name = entry->d_name;
      if (name == "." || name == "..") continue;
      struct stat st;
      EXPECT_EQ(::lstat((dir + "/" + name).c_str(), &st), 0) << name << " is listed, no stat";
      names.push_back(name);
    }
    ::closedir(stream);
    std::sort(names.begin(), names.end());
    return names;
  }

  // Every 0:0 character device under root, relative paths.
  static std::vector<std::string> WhiteoutDevices(const std::string& root,
                                                  const std::string& relative = "") {
    std::vector<std::string> found;
    DIR* stream = ::opendir((root + "/" + relative).c_str());
    if (stream == nullptr) return found;
    while (struct dirent* entry = ::readdir(stream)) {
      const std::string name = entry->d_name;
      if (name == "." || name == "..") continue;
      const std::string path = relative.empty() ? name : relative + "/" + name;
      struct stat st;
      if (::lstat((root + "/" + path).c_str(), &st) != 0) continue;
      if (IsWhiteoutDevice(st)) found.push_back(path);
      if (S_ISDIR(st.st_mode)) {
        std::vector<std::string> inner = WhiteoutDevices(root, path);
        found.insert(found.end(), inner.begin(), inner.end());
      }
    }
    ::closedir(stream);
    std::sort(found.begin(), found.end());
    return found;
  }

  static std::vector<std::string> Names(const std::string& prefix, int from, int to) {
    std::vector<std::string> names;
    for (int i = from; i < to; ++i) names.push_back(absl::StrCat(prefix, i));
    return names;
  }

  testing::TempDir dir_{"whiteout"};
  bool mounted_ = false;
};

// The case, smaller: a big directory over a lower one, the opaque marker after some
// of the layer's entries and before others, and whiteouts of the layer's own names and of
// the lower's, before and after what they name.
TEST_F(WhiteoutTest, OpaqueDirectoryKeepsTheLayersOwnEntriesWhateverTheOrder) {
  std::vector<TarHeader> lower = {Dir("d")};
  for (const std::string& name : Names("l", 0, 500)) lower.push_back(File("d/" + name));
  for (const std::string& name : Names("f", 0, 100)) lower.push_back(File("d/" + name));
  lower.push_back(File("top"));
  ASSERT_TRUE(Unpack("lower", lower, {}).ok());

  std::vector<TarHeader> upper = {Dir("d")};
  for (int i = 0; i < 2000; ++i) {
    const std::string name = absl::StrCat("d/f", i);
    if (i == 1000) upper.push_back(File("d/.wh..wh..opq"));
    if (i % 10 == 3) upper.push_back(File(absl::StrCat("d/.wh.f", i)));  // before the file
    upper.push_back(File(name));
    if (i % 10 == 7) upper.push_back(File(absl::StrCat("d/.wh.f", i)));        // after the file
    if (i % 100 == 0) upper.push_back(File(absl::StrCat("d/.wh.l", i / 10)));  // the lower's
  }
  ASSERT_TRUE(Unpack("upper", upper, {"lower"}).ok());

  std::vector<std::string> expected = Names("f", 0, 2000);
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(WhiteoutDevices(dir_.Join("upper")), std::vector<std::string>{});
  EXPECT_TRUE(IsOpaqueDirectory(dir_.Join("upper/d")));
  EXPECT_EQ(ListAndStat(dir_.Join("upper/d")), expected);

  const std::string merged = Mount({"upper", "lower"});
  EXPECT_EQ(ListAndStat(merged + "/d"), expected);
  EXPECT_EQ(ListAndStat(merged), (std::vector<std::string>{"d", "top"}));
}

TEST_F(WhiteoutTest, BottomLayerGetsNoWhiteoutsAndNoOpaqueMarkers) {
  ASSERT_TRUE(Unpack("bottom",
                     {File(".wh.gone"), Dir("d"), File("d/.wh..wh..opq"), File("d/kept"),
                      File("d/.wh.kept"), File("d/.wh.other"), File("e/.wh.x")},
                     {})
                  .ok());
  EXPECT_EQ(WhiteoutDevices(dir_.Join("bottom")), std::vector<std::string>{});
  EXPECT_FALSE(IsOpaqueDirectory(dir_.Join("bottom/d")));
  // overlayfs mounts two lower layers at least: an empty one goes under.
  ASSERT_TRUE(MakeDirs(dir_.Join("none")).ok());
  const std::string merged = Mount({"bottom", "none"});
  EXPECT_EQ(ListAndStat(merged), std::vector<std::string>{"d"});
  EXPECT_EQ(ListAndStat(merged + "/d"), std::vector<std::string>{"kept"});
}

TEST_F(WhiteoutTest, WhiteoutsOnlyWhereTheLayersBelowShowSomething) {
  ASSERT_TRUE(
      Unpack("one", {File("a"), File("b"), Dir("dir"), File("dir/x"), File("dir/y")}, {}).ok());
  ASSERT_TRUE(Unpack("two", {File(".wh.b"), File("dir/.wh.y")}, {"one"}).ok());
  ASSERT_TRUE(Unpack("three",
                     {File(".wh.a"), File(".wh.b"), File(".wh.never"), File("dir/.wh.x"),
                      File("dir/.wh.y"), File("new/.wh.z")},
                     {"two", "one"})
                  .ok());
  EXPECT_EQ(WhiteoutDevices(dir_.Join("two")), (std::vector<std::string>{"b", "dir/y"}));
  // b and dir/y are already hidden by "two"; "never" and new/z never existed.
  EXPECT_EQ(WhiteoutDevices(dir_.Join("three")), (std::vector<std::string>{"a", "dir/x"}));
  const std::string merged = Mount({"three", "two", "one"});
  EXPECT_EQ(ListAndStat(merged), (std::vector<std::string>{"dir", "new"}));
  EXPECT_EQ(ListAndStat(merged + "/dir"), std::vector<std::string>{});
  EXPECT_EQ(ListAndStat(merged + "/new"), std::vector<std::string>{});
}

// ".wh.d" and a new directory d in one layer: the lower d is deleted, so the new one must
// not merge with it, in either order.
TEST_F(WhiteoutTest, WhiteoutOfADirectoryTheLayerCreatesMakesItOpaque) {
  ASSERT_TRUE(Unpack("lower", {Dir("d"), File("d/old"), Dir("e"), File("e/old")}, {}).ok());
  ASSERT_TRUE(
      Unpack("upper",
             {File(".wh.d"), Dir("d"), File("d/new"), Dir("e"), File("e/new"), File(".wh.e")},
             {"lower"})
          .ok());
  EXPECT_EQ(WhiteoutDevices(dir_.Join("upper")), std::vector<std::string>{});
  const std::string merged = Mount({"upper", "lower"});
  EXPECT_EQ(ListAndStat(merged + "/d"), std::vector<std::string>{"new"});
  EXPECT_EQ(ListAndStat(merged + "/e"), std::vector<std::string>{"new"});
}

// A file the layer replaces needs no whiteout; one it whites out after creating it stays.
TEST_F(WhiteoutTest, LayerNeverHidesWhatItCreates) {
  ASSERT_TRUE(Unpack("lower", {File("a"), File("b")}, {}).ok());
  ASSERT_TRUE(
      Unpack("upper", {File("a"), File(".wh.a"), File(".wh.b"), File("b")}, {"lower"}).ok());
  EXPECT_EQ(WhiteoutDevices(dir_.Join("upper")), std::vector<std::string>{});
  const std::string merged = Mount({"upper", "lower"});
  EXPECT_EQ(ListAndStat(merged), (std::vector<std::string>{"a", "b"}));
}

// Only ".wh." entries delete: a 0:0 character device under a plain name is refused, so it
// can never hide the lower file of its name.
TEST_F(WhiteoutTest, CharacterDeviceZeroZeroIsRefused) {
  ASSERT_TRUE(Unpack("lower", {File("victim")}, {}).ok());
  TarHeader device = Entry("victim", S_IFCHR | 0600);
  device.rdev = makedev(0, 0);
  absl::Status status = Unpack("upper", {device}, {"lower"});
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr("\"victim\": a character device 0:0"));
  // Other devices still unpack.
  TarHeader null = Entry("null", S_IFCHR | 0666);
  null.rdev = makedev(1, 3);
  EXPECT_TRUE(Unpack("other", {null}, {"lower"}).ok());
}

}  // namespace
}  // namespace strata::layer
