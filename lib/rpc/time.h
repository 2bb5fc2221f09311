#ifndef STRATA_LIB_RPC_TIME_H_
#define STRATA_LIB_RPC_TIME_H_

// The one conversion between absl::Time (what every core library uses) and
// google.protobuf.Timestamp (what crosses the wire). An unknown time is absl::InfinitePast()
// in code and an unset (zero) Timestamp on the wire.

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/timestamp.pb.h"

namespace strata::rpc {

// Sets out to time; clears it for InfinitePast (unknown). InfiniteFuture is clamped to the
// largest Timestamp.
void ToTimestamp(absl::Time time, google::protobuf::Timestamp* out);

// The time a Timestamp holds; InfinitePast for an unset (all-zero) one.
absl::Time FromTimestamp(const google::protobuf::Timestamp& timestamp);

// Like FromTimestamp, for timestamps a client sent.
// Errors: INVALID_ARGUMENT naming `what` when nanos is outside 0..999999999.
absl::StatusOr<absl::Time> ParseTimestamp(const google::protobuf::Timestamp& timestamp,
                                          absl::string_view what);

}  // namespace strata::rpc

#endif  // STRATA_LIB_RPC_TIME_H_
