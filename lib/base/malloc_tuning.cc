#include "lib/base/malloc_tuning.h"

#include <malloc.h>

namespace strata {

void TuneMallocForStreaming() {
  mallopt(M_ARENA_MAX, 1);
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
}

}  // namespace strata
