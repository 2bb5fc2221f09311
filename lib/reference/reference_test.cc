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
           "app:1",
           "my-app:v1.0",
           "a__b",
           "a_b.c-d--e",
           "team/app:stable",
           "registry.example.com/team/app:1",
           "localhost:5000/app",
           "localhost/app",
           "10.0.0.1:5000/a/b/c:_x",
           "app:"
           "ABC_abc.1-2",
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
      {"a'; DROP TABLE tags; --", "lowercase"},
      {"a';drop table tags", "path component"},
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

// docker's own cases (distribution/reference normalize_test.go, TestParseRepositoryInfo):
// input -> familiar name, full name.
TEST(ReferenceTest, NormalisesAsDocker) {
  struct Case {
    std::string input, familiar, full, domain, path;
  };
  const Case cases[] = {
      {"fooo/bar", "fooo/bar", "docker.io/fooo/bar", "docker.io", "fooo/bar"},
      {"library/ubuntu", "ubuntu", "docker.io/library/ubuntu", "docker.io", "library/ubuntu"},
      {"nonlibrary/ubuntu", "nonlibrary/ubuntu", "docker.io/nonlibrary/ubuntu", "docker.io",
       "nonlibrary/ubuntu"},
      {"ubuntu", "ubuntu", "docker.io/library/ubuntu", "docker.io", "library/ubuntu"},
      {"other/library", "other/library", "docker.io/other/library", "docker.io", "other/library"},
      {"127.0.0.1:8000/private/moonbase", "127.0.0.1:8000/private/moonbase",
       "127.0.0.1:8000/private/moonbase", "127.0.0.1:8000", "private/moonbase"},
      {"127.0.0.1:8000/privatebase", "127.0.0.1:8000/privatebase", "127.0.0.1:8000/privatebase",
       "127.0.0.1:8000", "privatebase"},
      {"example.com/private/moonbase", "example.com/private/moonbase",
       "example.com/private/moonbase", "example.com", "private/moonbase"},
      {"example.com/privatebase", "example.com/privatebase", "example.com/privatebase",
       "example.com", "privatebase"},
      {"example.com:8000/private/moonbase", "example.com:8000/private/moonbase",
       "example.com:8000/private/moonbase", "example.com:8000", "private/moonbase"},
      {"localhost:8000/privatebase", "localhost:8000/privatebase", "localhost:8000/privatebase",
       "localhost:8000", "privatebase"},
      {"localhost/privatebase", "localhost/privatebase", "localhost/privatebase", "localhost",
       "privatebase"},
      {"index.docker.io/fooo/bar", "fooo/bar", "docker.io/fooo/bar", "docker.io", "fooo/bar"},
      {"docker.io/ubuntu", "ubuntu", "docker.io/library/ubuntu", "docker.io", "library/ubuntu"},
      {"docker.io/library/ubuntu", "ubuntu", "docker.io/library/ubuntu", "docker.io",
       "library/ubuntu"},
      {"index.docker.io/library/ubuntu", "ubuntu", "docker.io/library/ubuntu", "docker.io",
       "library/ubuntu"},
      {"ubuntu-12.04-base", "ubuntu-12.04-base", "docker.io/library/ubuntu-12.04-base", "docker.io",
       "library/ubuntu-12.04-base"},
      {"docker.io/ubuntu-12.04-base", "ubuntu-12.04-base", "docker.io/library/ubuntu-12.04-base",
       "docker.io", "library/ubuntu-12.04-base"},
      {"index.docker.io/ubuntu-12.04-base", "ubuntu-12.04-base",
       "docker.io/library/ubuntu-12.04-base", "docker.io", "library/ubuntu-12.04-base"},
      // TestNormalizedSplitHostname: "test_com" has no "." or ":", so it is a path.
      {"test_com/foo", "test_com/foo", "docker.io/test_com/foo", "docker.io", "test_com/foo"},
      {"test-com:8080/foo", "test-com:8080/foo", "test-com:8080/foo", "test-com:8080", "foo"},
      {"xn--n3h.com:18080/foo", "xn--n3h.com:18080/foo", "xn--n3h.com:18080/foo",
       "xn--n3h.com:18080", "foo"},
      {"docker/migrator", "docker/migrator", "docker.io/docker/migrator", "docker.io",
       "docker/migrator"},
  };
  for (const Case& c : cases) {
    auto ref = ParseReference(c.input);
    ASSERT_TRUE(ref.ok()) << c.input << ": " << ref.status();
    EXPECT_EQ(ref->name, c.familiar) << c.input;
    EXPECT_EQ(ref->FullName(), c.full) << c.input;
    EXPECT_EQ(ref->domain, c.domain) << c.input;
    EXPECT_EQ(ref->path, c.path) << c.input;
    EXPECT_EQ(ref->ToString(), c.familiar + ":latest") << c.input;
    EXPECT_EQ(ref->FullString(), c.full + ":latest") << c.input;
    auto familiar = FamiliarRepositoryName(c.input);
    ASSERT_TRUE(familiar.ok()) << c.input;
    EXPECT_EQ(*familiar, c.familiar);
  }
}

// TestValidateReferenceName.
TEST(ReferenceTest, DockerValidAndInvalidNames) {
  for (const char* good : {
           "docker/docker",
           "library/debian",
           "debian",
           "docker.io/docker/docker",
           "docker.io/library/debian",
           "docker.io/debian",
           "index.docker.io/docker/docker",
           "index.docker.io/library/debian",
           "index.docker.io/debian",
           "127.0.0.1:5000/docker/docker",
           "127.0.0.1:5000/library/debian",
           "127.0.0.1:5000/debian",
           "192.168.0.1",
           "192.168.0.1:80",
           "192.168.0.1:8/debian",
           "192.168.0.2:25000/debian",
           "thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev",
           "docker.io/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a",
       }) {
    EXPECT_TRUE(ParseReference(good).ok()) << good << ": " << ParseReference(good).status();
  }
  for (const char* bad : {
           "https://github.com/docker/docker",
           "docker/Docker",
           "-docker",
           "-docker/docker",
           "-docker.io/docker/docker",
           "docker///docker",
           "docker.io/docker/Docker",
           "docker.io/docker///docker",
       }) {
    EXPECT_FALSE(ParseReference(bad).ok()) << bad;
  }
}

TEST(ReferenceTest, TagAndDigestTogether) {
  const std::string digest =
      "sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa";
  auto ref = ParseReference("busybox:latest@" + digest);
  ASSERT_TRUE(ref.ok()) << ref.status();
  EXPECT_EQ(ref->name, "busybox");
  EXPECT_EQ(ref->tag, "latest");
  EXPECT_EQ(ref->digest, digest);
  EXPECT_EQ(ref->ToString(), "busybox:latest@" + digest);
  EXPECT_EQ(ref->FullString(), "docker.io/library/busybox:latest@" + digest);
  auto by_digest = ParseReference("localhost:5000/app@" + digest);
  ASSERT_TRUE(by_digest.ok());
  EXPECT_EQ(by_digest->FullString(), "localhost:5000/app@" + digest);
}

}  // namespace
}  // namespace strata
