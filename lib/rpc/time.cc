#include "lib/rpc/time.h"

#include <cstdint>

#include "absl/strings/str_cat.h"

namespace strata::rpc {
namespace {

// 9999-12-31T23:59:59Z, the largest time a Timestamp may hold.
constexpr int64_t kMaxSeconds = 253402300799;

}  // namespace

void ToTimestamp(absl::Time time, google::protobuf::Timestamp* out) {
  out->Clear();
  if (time == absl::InfinitePast()) return;
  if (time == absl::InfiniteFuture()) {
    out->set_seconds(kMaxSeconds);
    return;
  }
  const int64_t seconds = absl::ToUnixSeconds(time);
  out->set_seconds(seconds);
  out->set_nanos(
      static_cast<int32_t>((time - absl::FromUnixSeconds(seconds)) / absl::Nanoseconds(1)));
}

absl::Time FromTimestamp(const google::protobuf::Timestamp& timestamp) {
  if (timestamp.seconds() == 0 && timestamp.nanos() == 0) return absl::InfinitePast();
  return absl::FromUnixSeconds(timestamp.seconds()) + absl::Nanoseconds(timestamp.nanos());
}

absl::StatusOr<absl::Time> ParseTimestamp(const google::protobuf::Timestamp& timestamp,
                                          absl::string_view what) {
  if (timestamp.nanos() < 0 || timestamp.nanos() >= 1000000000) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": nanos ", timestamp.nanos(), " is outside 0..999999999"));
  }
  return FromTimestamp(timestamp);
}

}  // namespace strata::rpc
