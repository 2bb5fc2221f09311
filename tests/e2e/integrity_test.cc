// Damaged blobs end to end: a layer blob whose bytes change on the layerstore's disk after
// import is never unpacked as if it were whole (run and create fail, naming the damage),
// `strata system check` quarantines it and names the images it breaks, and importing the same
// content again repairs every image that uses it.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "gtest/gtest.h"
#include "lib/base/fs.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/stack.h"

namespace strata::e2e {
namespace {

std::string Ok(Stack& stack, const std::vector<std::string>& args) {
  CommandResult result = stack.Strata(args);
  EXPECT_EQ(result.exit_code, 0) << "strata " << absl::StrJoin(args, " ")
                                 << "\nstdout: " << result.output
                                 << "\nstderr: " << result.error_output;
  return result.output;
}

std::string BlobPath(Stack& stack, const std::string& digest) {
  const std::string hex = digest.substr(strlen("sha256:"));
  return absl::StrCat(stack.dir(), "/layerstore/blobs/sha256/", hex.substr(0, 2), "/", hex);
}

// Flips one bit in the middle of a file, as a failing disk would.
void FlipBit(const std::string& path) {
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0) << path;
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CLOEXEC));
  ASSERT_TRUE(fd.valid());
  const off_t middle = st.st_size / 2;
  char byte;
  ASSERT_EQ(::pread(fd.get(), &byte, 1, middle), 1);
  byte ^= 0x04;
  ASSERT_EQ(::pwrite(fd.get(), &byte, 1, middle), 1);
  ASSERT_EQ(::chmod(path.c_str(), 0444), 0);
}

TEST(IntegrityTest, ADamagedLayerIsRefusedFoundAndRepairedByImportingAgain) {
  auto stack_or = Stack::Start();
  ASSERT_TRUE(stack_or.ok()) << stack_or.status();
  Stack& stack = **stack_or;
  auto tarball = stack.BusyboxTarball("none");
  ASSERT_TRUE(tarball.ok()) << tarball.status();
  const std::string image_id =
      std::string(absl::StripAsciiWhitespace(Ok(stack, {"import", *tarball, "victim"})));
  Ok(stack, {"tag", "victim", "victim:also"});
  const nlohmann::json inspect =
      nlohmann::json::parse(Ok(stack, {"inspect", "--type", "image", "victim"}));
  const std::string layer = inspect[0]["Strata"]["Layers"][0]["Digest"].get<std::string>();
  ASSERT_TRUE(absl::StartsWith(layer, "sha256:")) << layer;

  FlipBit(BlobPath(stack, layer));

  // Never unpacked as whole: run and create fail, and say why.
  CommandResult run = stack.Strata({"run", "--rm", "victim", "cat", "/etc/keep"});
  EXPECT_NE(run.exit_code, 0) << run.output;
  EXPECT_TRUE(absl::StrContains(run.error_output, "damaged")) << run.error_output;
  EXPECT_TRUE(absl::StrContains(run.error_output, layer)) << run.error_output;
  std::cout << "run, damaged: " << run.error_output;
  CommandResult create = stack.Strata({"create", "victim", "true"});
  EXPECT_NE(create.exit_code, 0) << create.output;
  EXPECT_TRUE(absl::StrContains(create.error_output, "damaged")) << create.error_output;

  // The check finds it, names both tags, quarantines it, and fails.
  CommandResult check = stack.Strata({"system", "check"});
  EXPECT_EQ(check.exit_code, 1) << check.output << check.error_output;
  EXPECT_TRUE(absl::StrContains(check.output, "1 damaged")) << check.output;
  EXPECT_TRUE(absl::StrContains(check.output, layer)) << check.output;
  EXPECT_TRUE(absl::StrContains(check.output, "victim:also,victim:latest")) << check.output;
  EXPECT_TRUE(absl::StrContains(check.output, "/quarantine/")) << check.output;
  std::cout << "system check:\n" << check.output << check.error_output;
  EXPECT_FALSE(PathExists(BlobPath(stack, layer)));
  // Nothing damaged is left.
  check = stack.Strata({"system", "check"});
  EXPECT_EQ(check.exit_code, 0) << check.output << check.error_output;
  EXPECT_TRUE(absl::StrContains(check.output, "0 damaged")) << check.output;

  // Importing the same content again stores the layer anew: the first image works again.
  Ok(stack, {"import", *tarball, "again"});
  EXPECT_TRUE(PathExists(BlobPath(stack, layer)));
  EXPECT_EQ(Ok(stack, {"run", "--rm", image_id, "cat", "/etc/keep"}), "keep\n");
  Ok(stack, {"export", "-o", stack.dir() + "/out.tar",
             std::string(absl::StripAsciiWhitespace(Ok(stack, {"create", "victim", "true"})))});
  EXPECT_EQ(Ok(stack, {"run", "--rm", "victim:also", "cat", "/etc/keep"}), "keep\n");
}

TEST(IntegrityTest, ReimportingOntoADamagedBlobRepairsItWithoutACheck) {
  auto stack_or = Stack::Start();
  ASSERT_TRUE(stack_or.ok()) << stack_or.status();
  Stack& stack = **stack_or;
  auto tarball = stack.BusyboxTarball("gzip");
  ASSERT_TRUE(tarball.ok()) << tarball.status();
  Ok(stack, {"import", *tarball, "first"});
  const nlohmann::json inspect =
      nlohmann::json::parse(Ok(stack, {"inspect", "--type", "image", "first"}));
  const std::string layer = inspect[0]["Strata"]["Layers"][0]["Digest"].get<std::string>();
  FlipBit(BlobPath(stack, layer));
  // Before the fix, this said the blob was stored already and the image stayed broken.
  Ok(stack, {"import", *tarball, "second"});
  EXPECT_EQ(Ok(stack, {"run", "--rm", "first", "cat", "/etc/keep"}), "keep\n");
}

}  // namespace
}  // namespace strata::e2e
