#include "cli/env_file.h"

#include <cstdlib>

#include "gtest/gtest.h"

namespace strata::cli {
namespace {

using Strings = std::vector<std::string>;

TEST(EnvFileTest, ParsesAsDocker) {
  setenv("STRATA_ENV_FILE_TEST", "from shell", 1);
  unsetenv("STRATA_ENV_FILE_UNSET");
  absl::StatusOr<Strings> env = ParseEnvFileText(
      "\xEF\xBB\xBF# comment\n\nA=1\n  B=two words  \nC=\nSTRATA_ENV_FILE_TEST\n"
      "STRATA_ENV_FILE_UNSET\nD=x=y\r\n");
  ASSERT_TRUE(env.ok()) << env.status();
  EXPECT_EQ(*env, (Strings{"A=1", "B=two words  ", "C=", "STRATA_ENV_FILE_TEST=from shell",
                           "D=x=y"}));
  EXPECT_EQ(ParseEnvFileText("=x").status().message(), "no variable name on line '=x'");
  EXPECT_EQ(ParseEnvFileText("a b=1").status().message(), "variable 'a b' contains whitespaces");
  EXPECT_FALSE(ReadEnvFile("/nonexistent/env").ok());
}

}  // namespace
}  // namespace strata::cli
