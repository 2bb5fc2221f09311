#include "lib/rpc/status.h"

#include <string>

#include "gtest/gtest.h"
#include "lib/base/errors.h"

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

TEST(StatusTest, LongMessagesAreCutInTheMiddle) {
  const std::string path(20000, 'd');
  const absl::Status original = absl::InvalidArgumentError("layer entry \"" + path + "/end\": bad");
  const grpc::Status wire = ToGrpc(original);
  EXPECT_EQ(wire.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_LE(wire.error_message().size(), kMaxErrorMessageSize);
  EXPECT_EQ(wire.error_message().rfind("layer entry \"ddd", 0), 0u);
  EXPECT_NE(wire.error_message().find("..."), std::string::npos);
  const std::string tail = "d/end\": bad";
  EXPECT_EQ(wire.error_message().substr(wire.error_message().size() - tail.size()), tail);
}

TEST(StatusTest, ShortMessagesAreKeptWhole) {
  const std::string message(kMaxErrorMessageSize, 'x');
  EXPECT_EQ(ToGrpc(absl::InternalError(message)).error_message(), message);
}

TEST(ShortenMiddleTest, KeepsHeadAndTailWithinTheBound) {
  EXPECT_EQ(ShortenMiddle("short", 10), "short");
  EXPECT_EQ(ShortenMiddle("abcdefghijklmnop", 9), "abc...nop");
  EXPECT_LE(ShortenMiddle(std::string(5000, 'a'), 256).size(), 256u);
  // Never cut inside a UTF-8 sequence: "é" is two bytes.
  std::string accents;
  for (int i = 0; i < 300; ++i) accents += "\xc3\xa9";
  const std::string cut = ShortenMiddle(accents, 101);
  EXPECT_LE(cut.size(), 101u);
  EXPECT_EQ(cut.substr(0, 2), "\xc3\xa9");
  EXPECT_NE(static_cast<unsigned char>(cut[cut.find("...") - 1]), 0xc3);
  EXPECT_EQ(static_cast<unsigned char>(cut[cut.find("...") + 3]), 0xc3);
}

}  // namespace
}  // namespace strata::rpc
