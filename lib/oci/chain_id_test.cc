#include "lib/oci/chain_id.h"

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace strata::oci {
namespace {

TEST(ChainIdTest, FollowsTheSpec) {
  const Digest a = Digest::Of("a");
  const Digest b = Digest::Of("b");
  const Digest c = Digest::Of("c");
  std::vector<Digest> chain = ChainIds({a, b, c});
  ASSERT_EQ(chain.size(), 3u);
  EXPECT_EQ(chain[0], a);
  EXPECT_EQ(chain[1], Digest::Of(absl::StrCat(a.str(), " ", b.str())));
  EXPECT_EQ(chain[2], Digest::Of(absl::StrCat(chain[1].str(), " ", c.str())));
  EXPECT_EQ(ChainId(Digest(), a), a);
  EXPECT_EQ(ChainId(chain[1], c), chain[2]);
}

}  // namespace
}  // namespace strata::oci
