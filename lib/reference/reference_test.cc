#include "lib/reference/reference.h"

#include <string>

#include "gtest/gtest.h"

namespace strata {
namespace {

TEST(ReferenceTest, DefaultsToLatest) {
  auto ref = ParseReference("busybox");
  ASSERT_TRUE(ref.ok()) << ref.status();
  EXPECT_EQ(ref->name, "busybox");
  EXPECT_EQ(ref->tag, "latest");
  EXPECT_EQ(ref->ToString(), "busybox:latest");
}

TEST(ReferenceTest, AcceptsDockerGrammar) {
  for (const char* good : {
           "app:1", "my-app:v1.0", "a__b", "a_b.c-d--e", "team/app:stable",
           "registry.example.com/team/app:1", "localhost:5000/app", "localhost/app",
           "10.0.0.1:5000/a/b/c:_x", "app:" "ABC_abc.1-2",
       }) {
    EXPECT_TRUE(ParseReference(good).ok()) << good << ": " << ParseReference(good).status();
  }
  auto ref = ParseReference("localhost:5000/app:1.2");
  ASSERT_TRUE(ref.ok());
  EXPECT_EQ(ref->name, "localhost:5000/app");
  EXPECT_EQ(ref->tag, "1.2");
}

TEST(ReferenceTest, DigestReference) {
  const std::string digest =
      "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
  auto ref = ParseReference("app@" + digest);
  ASSERT_TRUE(ref.ok()) << ref.status();
  EXPECT_EQ(ref->tag, "");
  EXPECT_EQ(ref->digest, digest);
  EXPECT_FALSE(ParseReference("app@sha256:abc").ok());
}

TEST(ReferenceTest, RejectsWithTheRule) {
  struct Case {
    std::string text;
    std::string rule;
  };
  const Case cases[] = {
      {"", "empty"},
      {"UPPER", "lowercase"},
      {"App:1", "lowercase"},
      {"../x", "registry host"},
      {"a..b", "path component"},
      {"a/", "empty path component"},
      {"-a", "path component"},
      {"a:" + std::string(129, 'x'), "more than 128"},
      {"a:.x", "must start"},
      {"a:x y", "must match"},
      {std::string("a\0b", 3), "path component"},
      {"a'; DROP TABLE tags; --", "lowercase"}, {"a';drop table tags", "path component"},
      {"\"quoted\"", "path component"},
      {std::string(256, 'a'), "more than 255"},
      {"bad_host.:5000/a", "registry host"},
      {"host.com:port/a", "registry port"},
  };
  for (const Case& c : cases) {
    auto ref = ParseReference(c.text);
    ASSERT_FALSE(ref.ok()) << c.text;
    EXPECT_EQ(ref.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(std::string(ref.status().message()).find(c.rule), std::string::npos)
        << c.text << " -> " << ref.status();
  }
}

}  // namespace
}  // namespace strata
