#include "lib/rpc/time.h"

#include "gtest/gtest.h"

namespace strata::rpc {
namespace {

TEST(TimeTest, RoundTripsWithNanoseconds) {
  const absl::Time time = absl::FromUnixNanos(1700000000123456789);
  google::protobuf::Timestamp timestamp;
  ToTimestamp(time, &timestamp);
  EXPECT_EQ(timestamp.seconds(), 1700000000);
  EXPECT_EQ(timestamp.nanos(), 123456789);
  EXPECT_EQ(FromTimestamp(timestamp), time);
}

TEST(TimeTest, UnknownIsUnset) {
  google::protobuf::Timestamp timestamp;
  timestamp.set_seconds(5);
  ToTimestamp(absl::InfinitePast(), &timestamp);
  EXPECT_EQ(timestamp.seconds(), 0);
  EXPECT_EQ(FromTimestamp(timestamp), absl::InfinitePast());
}

TEST(TimeTest, BeforeTheEpochKeepsPositiveNanos) {
  const absl::Time time = absl::FromUnixMillis(-1500);
  google::protobuf::Timestamp timestamp;
  ToTimestamp(time, &timestamp);
  EXPECT_EQ(timestamp.seconds(), -2);
  EXPECT_EQ(timestamp.nanos(), 500000000);
  EXPECT_EQ(FromTimestamp(timestamp), time);
}

TEST(TimeTest, ParseRefusesOutOfRangeNanos) {
  google::protobuf::Timestamp timestamp;
  timestamp.set_seconds(1);
  timestamp.set_nanos(1000000000);
  absl::StatusOr<absl::Time> parsed = ParseTimestamp(timestamp, "layer.created");
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(parsed.status().message(), "layer.created: nanos 1000000000 is outside 0..999999999");
}

}  // namespace
}  // namespace strata::rpc
