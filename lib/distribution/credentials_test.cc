// Credential helpers (docker's credsStore / credHelpers) with a tiny helper of the test's own
// that speaks docker-credential-helpers' protocol and keeps what it is given in files.

#include "lib/distribution/credentials.h"

#include <sys/stat.h>

#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/base/fs.h"
#include "lib/testing/temp_dir.h"

namespace strata::distribution {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// get/erase read the server URL on stdin, store a {ServerURL, Username, Secret} JSON; each call
// logs its arguments (which must never hold a secret).
constexpr char kHelper[] = R"sh(#!/bin/sh
dir=$(dirname "$0")/store
mkdir -p "$dir"
echo "$@" >> "$dir/../calls.log"
key() { printf '%s' "$1" | tr '/:' '__'; }
case "$1" in
  get)
    url=$(cat)
    if [ -f "$dir/$(key "$url")" ]; then cat "$dir/$(key "$url")"; exit 0; fi
    echo "credentials not found in native keychain"; exit 1 ;;
  store)
    input=$(cat)
    url=$(printf '%s' "$input" | python3 -c 'import json,sys; print(json.load(sys.stdin)["ServerURL"])')
    printf '%s' "$input" > "$dir/$(key "$url")" ;;
  erase)
    url=$(cat)
    [ -f "$dir/$(key "$url")" ] || { echo "credentials not found in native keychain"; exit 1; }
    rm "$dir/$(key "$url")" ;;
  *) exit 2 ;;
esac
)sh";

class CredentialHelperTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(MakeDirs(dir_.Join("bin")).ok());
    for (const char* name : {"teststore", "other"}) {
      const std::string path = dir_.Join(absl::StrCat("bin/docker-credential-", name));
      ASSERT_TRUE(WriteFileAtomically(path, kHelper).ok());
      ASSERT_EQ(::chmod(path.c_str(), 0755), 0);
    }
    const char* path = std::getenv("PATH");
    old_path_ = path != nullptr ? path : "";
    ::setenv("PATH", absl::StrCat(dir_.Join("bin"), ":", old_path_).c_str(), 1);
    config_ = dir_.Join("config.json");
  }
  void TearDown() override { ::setenv("PATH", old_path_.c_str(), 1); }

  strata::testing::TempDir dir_;
  std::string old_path_;
  std::string config_;
};

TEST_F(CredentialHelperTest, CredsStoreKeepsEveryRegistrysCredentials) {
  ASSERT_TRUE(WriteFileAtomically(config_, R"({"credsStore": "teststore"})").ok());
  EXPECT_FALSE(LookupCredentials("localhost:5000", config_)->has_value());
  ASSERT_TRUE(StoreCredentials("localhost:5000", {"ann", "s3cret"}, config_).ok());
  ASSERT_TRUE(StoreCredentials("docker.io", {"bob", "hub-pass"}, config_).ok());
  auto found = LookupCredentials("localhost:5000", config_);
  ASSERT_TRUE(found.ok() && found->has_value()) << found.status();
  EXPECT_EQ((*found)->username, "ann");
  EXPECT_EQ((*found)->password, "s3cret");
  auto hub = LookupCredentials("docker.io", config_);
  ASSERT_TRUE(hub.ok() && hub->has_value());
  EXPECT_EQ((*hub)->username, "bob");
  // Docker Hub's key is docker's URL.
  EXPECT_TRUE(ReadFile(dir_.Join("bin/store/https___index.docker.io_v1_")).ok());
  // Nothing was written to config.json, and no secret went on a command line.
  EXPECT_THAT(*ReadFile(config_), Not(HasSubstr("auths")));
  EXPECT_THAT(*ReadFile(dir_.Join("bin/calls.log")), Not(HasSubstr("s3cret")));

  ASSERT_TRUE(EraseCredentials("localhost:5000", config_).ok());
  EXPECT_FALSE(LookupCredentials("localhost:5000", config_)->has_value());
  EXPECT_EQ(EraseCredentials("localhost:5000", config_).code(), absl::StatusCode::kNotFound);
}

TEST_F(CredentialHelperTest, CredHelpersPickAHelperPerRegistry) {
  ASSERT_TRUE(WriteFileAtomically(config_, R"({"auths": {"quay.io": {"auth": "cTpy"}},
      "credHelpers": {"registry.example:5000": "other"}, "credsStore": "teststore"})")
                  .ok());
  ASSERT_TRUE(StoreCredentials("registry.example:5000", {"x", "y"}, config_).ok());
  ASSERT_TRUE(StoreCredentials("localhost:5000", {"a", "b"}, config_).ok());
  // Both helpers are one script with one store: the log says which was asked.
  const std::string calls = *ReadFile(dir_.Join("bin/calls.log"));
  EXPECT_EQ(calls, "store\nstore\n");
  auto found = LookupCredentials("registry.example:5000", config_);
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->username, "x");
  // credsStore applies to every registry, the file's auths are not read then (as docker).
  auto quay = LookupCredentials("quay.io", config_);
  ASSERT_TRUE(quay.ok());
  EXPECT_FALSE(quay->has_value());
}

TEST_F(CredentialHelperTest, AMissingOrBrokenHelperIsAClearError) {
  ASSERT_TRUE(WriteFileAtomically(config_, R"({"credsStore": "absent"})").ok());
  absl::StatusOr<std::optional<Credentials>> missing = LookupCredentials("quay.io", config_);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(missing.status().message(), HasSubstr("docker-credential-absent"));
  ASSERT_TRUE(WriteFileAtomically(config_, R"({"credsStore": "../bin/sh"})").ok());
  EXPECT_EQ(LookupCredentials("quay.io", config_).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace strata::distribution
