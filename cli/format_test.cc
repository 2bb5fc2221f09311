#include "cli/format.h"

#include "gtest/gtest.h"

namespace strata::cli {
namespace {

TEST(FormatTest, HumanSizeLikeDocker) {
  EXPECT_EQ(HumanSize(0), "0B");
  EXPECT_EQ(HumanSize(512), "512B");
  EXPECT_EQ(HumanSize(4860000), "4.86MB");
  EXPECT_EQ(HumanSize(110000000), "110MB");
  EXPECT_EQ(HumanSize(1234567890), "1.23GB");
  EXPECT_EQ(HumanSize(1000), "1kB");
}

TEST(FormatTest, HumanDurationLikeDocker) {
  EXPECT_EQ(HumanDuration(absl::Milliseconds(10)), "Less than a second");
  EXPECT_EQ(HumanDuration(absl::Seconds(1)), "1 second");
  EXPECT_EQ(HumanDuration(absl::Seconds(45)), "45 seconds");
  EXPECT_EQ(HumanDuration(absl::Seconds(90)), "About a minute");
  EXPECT_EQ(HumanDuration(absl::Minutes(5)), "5 minutes");
  EXPECT_EQ(HumanDuration(absl::Minutes(65)), "About an hour");
  EXPECT_EQ(HumanDuration(absl::Hours(5)), "5 hours");
  EXPECT_EQ(HumanDuration(absl::Hours(24 * 3)), "3 days");
  EXPECT_EQ(HumanDuration(absl::Hours(24 * 20)), "2 weeks");
  EXPECT_EQ(HumanDuration(absl::Hours(24 * 100)), "3 months");
  EXPECT_EQ(HumanDuration(absl::Hours(24 * 365 * 3)), "3 years");
  const absl::Time now = absl::Now();
  EXPECT_EQ(TimeAgo(now - absl::Minutes(2), now), "2 minutes ago");
  EXPECT_EQ(TimeAgo(absl::InfinitePast(), now), "N/A");
}

TEST(FormatTest, EllipsisCutsToTheWidth) {
  EXPECT_EQ(Ellipsis("short", 45), "short");
  const std::string long_text(60, 'x');
  EXPECT_EQ(Ellipsis(long_text, 45), std::string(44, 'x') + "…");
  EXPECT_EQ(Ellipsis("héllo wörld", 6), "héllo…");
}

TEST(FormatTest, TableAlignsColumns) {
  Table table({"A", "LONG HEADER", "C"});
  table.Add({"value", "x", "last"});
  EXPECT_EQ(table.Render(),
            "A       LONG HEADER   C\n"
            "value   x             last\n");
}

TEST(FormatTest, ShortIdAndJoinCommand) {
  EXPECT_EQ(ShortId("sha256:0123456789abcdef0123"), "0123456789ab");
  EXPECT_EQ(JoinCommand({"sh", "-c", "echo hi"}), "sh -c 'echo hi'");
}

}  // namespace
}  // namespace strata::cli
