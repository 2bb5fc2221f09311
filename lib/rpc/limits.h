#ifndef STRATA_LIB_RPC_LIMITS_H_
#define STRATA_LIB_RPC_LIMITS_H_

#include <cstddef>

namespace strata::rpc {

// Streams carry data in chunks of this size: large enough that per-message overhead vanishes,
// small enough that a stream never holds much in memory.
inline constexpr size_t kChunkSize = 1 << 20;

// Largest message a server or client accepts: a chunk plus generous room for metadata, and
// image configs with long histories.
inline constexpr int kMaxMessageSize = 16 << 20;

}  // namespace strata::rpc

#endif  // STRATA_LIB_RPC_LIMITS_H_
