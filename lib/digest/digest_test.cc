#include "lib/digest/digest.h"

#include "gtest/gtest.h"

namespace strata {
namespace {

constexpr char kEmptySha256[] =
    "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

TEST(DigestTest, OfKnownValues) {
  EXPECT_EQ(Digest::Of("").str(), kEmptySha256);
  EXPECT_EQ(Digest::Of("abc").str(),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(DigestTest, StreamingEqualsOneShot) {
  Sha256 hasher;
  hasher.Update("a");
  hasher.Update("bc");
  EXPECT_EQ(hasher.size(), 3u);
  EXPECT_EQ(hasher.Finish(), Digest::Of("abc"));
  // Reusable after Finish.
  EXPECT_EQ(hasher.Finish().str(), kEmptySha256);
}

TEST(DigestTest, ParseAcceptsCanonical) {
  auto digest = Digest::Parse(kEmptySha256);
  ASSERT_TRUE(digest.ok());
  EXPECT_EQ(digest->hex().size(), 64u);
  EXPECT_EQ(digest->ShortHex(), "e3b0c44298fc");
  EXPECT_EQ(Digest::FromHex(digest->hex())->str(), kEmptySha256);
}

TEST(DigestTest, ParseRejectsEverythingElse) {
  for (const char* bad : {
           "",
           "sha256",
           "sha256:",
           "md5:e3b0c44298fc1c149afbf4c8996fb924",
           "sha512:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
           "sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
           "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85",
           "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b8555",
           "sha256:../../../../etc/passwd",
           "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b8/5",
           "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
       }) {
    auto digest = Digest::Parse(bad);
    EXPECT_EQ(digest.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_FALSE(Digest::Parse(std::string("sha256:e3b0\0", 12)).ok());
}

TEST(DigestTest, IsLowerHex) {
  EXPECT_TRUE(IsLowerHex("abc123"));
  EXPECT_FALSE(IsLowerHex(""));
  EXPECT_FALSE(IsLowerHex("ABC"));
  EXPECT_FALSE(IsLowerHex("xyz"));
}

}  // namespace
}  // namespace strata
