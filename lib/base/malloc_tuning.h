#ifndef STRATA_LIB_BASE_MALLOC_TUNING_H_
#define STRATA_LIB_BASE_MALLOC_TUNING_H_

// glibc malloc settings for processes that stream blobs through ~1 MiB buffers (the layerstore
// service, and its clients: the runtime and the CLI should call this too).
//
// Streaming allocates and frees megabyte buffers all the time (message bytes, gRPC's receive
// slices, chunks in flight). By default glibc serves them from fresh mmaps or trims freed heap
// back to the kernel, so each megabyte costs 256 page faults again and again; under
// virtualisation a fault is expensive (measured here: 6 CPU-seconds per GB uploaded instead of
// 1.5). And with one heap per thread, each of gRPC's and our threads keeps its own freed
// buffers, so the peak memory grows with the number of threads (measured: 100-190 MiB above
// idle during a 1 GiB upload instead of 25-30 MiB). The settings: keep large blocks in the heap,
// trim only big surpluses, and use one heap (the few allocations per megabyte never contend).
//
// Call at the top of main, before any thread starts.

namespace strata {

void TuneMallocForStreaming();

}  // namespace strata

#endif  // STRATA_LIB_BASE_MALLOC_TUNING_H_
