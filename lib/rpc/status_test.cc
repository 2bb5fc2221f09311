#include "lib/rpc/status.h"

#include "gtest/gtest.h"

namespace strata::rpc {
namespace {

TEST(StatusTest, RoundTripKeepsCodeAndMessage) {
  const absl::Status original = absl::NotFoundError("image \"app:1\": no such tag");
  const grpc::Status wire = ToGrpc(original);
  EXPECT_EQ(wire.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(wire.error_message(), "image \"app:1\": no such tag");
  EXPECT_EQ(FromGrpc(wire), original);
}

TEST(StatusTest, OkStaysOk) {
  EXPECT_TRUE(ToGrpc(absl::OkStatus()).ok());
  EXPECT_TRUE(FromGrpc(grpc::Status::OK).ok());
}

TEST(StatusTest, EveryCodeMapsToTheSameNumber) {
  for (int code = 1; code <= 16; ++code) {
    absl::Status status(static_cast<absl::StatusCode>(code), "x");
    EXPECT_EQ(static_cast<int>(ToGrpc(status).error_code()), code);
  }
}

}  // namespace
}  // namespace strata::rpc
