// What goes wrong for users gives one clear line on stderr, a non-zero exit, and changes
// nothing.

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "lib/base/fs.h"
#include "lib/base/subprocess.h"
#include "tests/e2e/stack.h"

namespace strata::e2e {
namespace {

class BadInputTest : public BaseImageSuite {
 protected:
  // Expects a failure with exit code `code` and a message holding `text`, on one line.
  void ExpectError(const std::vector<std::string>& args, int code, const std::string& text) {
    CommandResult result = stack_->Strata(args);
    EXPECT_EQ(result.exit_code, code) << result.error_output;
    EXPECT_TRUE(absl::StrContains(result.error_output, text))
        << "expected \"" << text << "\" in: " << result.error_output;
    EXPECT_TRUE(absl::StartsWith(result.error_output, "Error: ") ||
                absl::StartsWith(result.error_output, "Error response from daemon: ") ||
                absl::StartsWith(result.error_output, "Error parsing reference: "))
        << result.error_output;
  }

  std::string Images() { return stack_->Strata({"images", "-q"}).output; }
};

TEST_F(BadInputTest, UnknownImageAndContainer) {
  ExpectError({"run", "no-such-image"}, 125, "no-such-image");
  ExpectError({"history", "nope:1"}, 1, "nope:1");
  ExpectError({"diff", "no-such-container"}, 1, "No such container: no-such-container");
  ExpectError({"rm", "no-such-container"}, 1, "No such container: no-such-container");
  ExpectError({"commit", "no-such-container", "x:1"}, 1, "No such container: no-such-container");
}

TEST_F(BadInputTest, BadReferenceNames) {
  const std::string before = Images();
  ExpectError({"tag", "base", "UPPER:case"}, 1, "must be lowercase");
  ExpectError({"tag", "base", "ok:" + std::string(129, 't')}, 1, "more than 128");
  ExpectError({"tag", "base", "../escape"}, 1, "invalid reference");
  ExpectError({"import", "/dev/null", "Bad Name"}, 1, "invalid reference");
  EXPECT_EQ(Images(), before);
}

TEST_F(BadInputTest, CommandNotInTheImage) {
  ExpectError({"run", "--rm", "base", "no-such-command"}, 127,
              "executable file not found in $PATH");
}

TEST_F(BadInputTest, ImageArchiveIsRefusedByImport) {
  const std::string dir = stack_->dir() + "/archive";
  ASSERT_TRUE(MakeDirs(dir + "/blobs").ok());
  ASSERT_TRUE(WriteFileAtomically(dir + "/manifest.json", "[]").ok());
  ASSERT_TRUE(WriteFileAtomically(dir + "/blobs/x", "x").ok());
  const std::string tar = stack_->dir() + "/image-archive.tar";
  ASSERT_TRUE(RunCommandOk({"tar", "-C", dir, "-cf", tar, "manifest.json", "blobs"}).ok());
  const std::string before = Images();
  ExpectError({"import", tar, "archive:1"}, 1, "image archive");
  ExpectError({"import", tar}, 1, "strata load");
  EXPECT_EQ(Images(), before);
}

TEST_F(BadInputTest, CorruptTarballIsRefused) {
  auto tarball = stack_->BusyboxTarball("gzip");
  ASSERT_TRUE(tarball.ok());
  auto bytes = ReadFile(*tarball);
  ASSERT_TRUE(bytes.ok());
  const std::string truncated = stack_->dir() + "/truncated.tar.gz";
  ASSERT_TRUE(WriteFileAtomically(truncated, bytes->substr(0, bytes->size() / 2)).ok());
  const std::string garbage = stack_->dir() + "/garbage.tar";
  ASSERT_TRUE(WriteFileAtomically(garbage, std::string(10000, '\x7f')).ok());
  const std::string before = Images();
  ExpectError({"import", truncated, "broken:1"}, 1, "truncated.tar.gz");
  ExpectError({"import", garbage, "broken:2"}, 1, "not a valid tar archive");
  EXPECT_EQ(Images(), before);
}

// Damage that libarchive alone lets through (a gzip CRC, a tar header checksum) fails the
// import with its cause, and no image is recorded, tagged or not.
TEST_F(BadInputTest, DamagedTarballIsRefused) {
  auto tarball = stack_->BusyboxTarball("gzip");
  ASSERT_TRUE(tarball.ok());
  auto gzip = ReadFile(*tarball);
  ASSERT_TRUE(gzip.ok());
  std::string bad_crc = *gzip;
  bad_crc[bad_crc.size() - 8] ^= 0x01;
  const std::string bad_crc_path = stack_->dir() + "/bad-crc.tar.gz";
  ASSERT_TRUE(WriteFileAtomically(bad_crc_path, bad_crc).ok());

  const std::string dir = stack_->dir() + "/damaged";
  ASSERT_TRUE(MakeDirs(dir).ok());
  ASSERT_TRUE(WriteFileAtomically(dir + "/a", "a").ok());
  ASSERT_TRUE(WriteFileAtomically(dir + "/b", "b").ok());
  const std::string tar_path = stack_->dir() + "/bad-header.tar";
  ASSERT_TRUE(RunCommandOk({"tar", "--format=ustar", "-C", dir, "-cf", tar_path, "a", "b"}).ok());
  auto tar = ReadFile(tar_path);
  ASSERT_TRUE(tar.ok());
  std::string bad_header = *tar;
  ASSERT_EQ(bad_header[1024], 'b');  // the second header: after a's header and data block
  bad_header[1024] = 'c';
  ASSERT_TRUE(WriteFileAtomically(tar_path, bad_header).ok());

  const std::string before = stack_->Strata({"images", "-a", "-q", "--no-trunc"}).output;
  ExpectError({"import", bad_crc_path, "damaged:1"}, 1, "incorrect data check");
  ExpectError({"import", bad_crc_path}, 1, "bad-crc.tar.gz");
  ExpectError({"import", tar_path, "damaged:2"}, 1, "Damaged tar archive");
  EXPECT_EQ(stack_->Strata({"images", "-a", "-q", "--no-trunc"}).output, before);
}

// Only ".wh." entries delete: a 0:0 character device under a plain name is refused.
TEST_F(BadInputTest, WhiteoutDeviceUnderAPlainNameIsRefused) {
  const std::string dir = stack_->dir() + "/device";
  ASSERT_TRUE(MakeDirs(dir).ok());
  ASSERT_TRUE(RunCommandOk({"mknod", dir + "/victim", "c", "0", "0"}).ok());
  const std::string tar = stack_->dir() + "/device.tar";
  ASSERT_TRUE(RunCommandOk({"tar", "-C", dir, "-cf", tar, "victim"}).ok());
  const std::string before = stack_->Strata({"images", "-a", "-q", "--no-trunc"}).output;
  ExpectError({"import", tar, "device:1"}, 1, "\"victim\": a character device 0:0");
  EXPECT_EQ(stack_->Strata({"images", "-a", "-q", "--no-trunc"}).output, before);
}

TEST_F(BadInputTest, BadChangesAndFlags) {
  ASSERT_EQ(stack_->Strata({"create", "--name", "c1", "base", "true"}).exit_code, 0);
  ExpectError({"commit", "-c", "RUN rm -rf /", "c1", "x:1"}, 1, "run is not a valid change command");
  ExpectError({"commit", "c1", "Bad:Tag"}, 1, "lowercase");
  ExpectError({"run", "--bogus", "base"}, 125, "unknown flag: --bogus");
  ExpectError({"create", "--name", "c1", "base", "true"}, 125, "already in use");
  ExpectError({"rmi", "base"}, 1, "(must force) - container ");
  EXPECT_EQ(stack_->Strata({"rm", "c1"}).exit_code, 0);
}

TEST_F(BadInputTest, ServiceDownIsNamed) {
  CommandResult result = RunCommand({stack_->StrataBinary(), "--runtime", "127.0.0.1:1", "ps"},
                                    {.separate_stderr = true})
                             .value();
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(result.error_output, "cannot reach the runtime at 127.0.0.1:1"))
      << result.error_output;
  CommandResult status = RunCommand({stack_->StrataBinary(), "--runtime", "127.0.0.1:1", "status"},
                                    {.env = stack_->Env(), .separate_stderr = true})
                             .value();
  EXPECT_EQ(status.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(status.output, "runtime      127.0.0.1:1")) << status.output;
  EXPECT_TRUE(absl::StrContains(status.output, "DOWN")) << status.output;
}

}  // namespace
}  // namespace strata::e2e
