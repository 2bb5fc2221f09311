#ifndef STRATA_SERVICES_LAYERSTORE_LAYERSTORE_SERVICE_H_
#define STRATA_SERVICES_LAYERSTORE_LAYERSTORE_SERVICE_H_

// The gRPC adapter of strata.layerstore.v1: validates requests (digests go through
// Digest::Parse here, so the store only ever sees well-formed ones), calls a BlobStore, and
// converts its absl::Status to the wire once. Every error code is the one the .proto documents
// for the RPC; the store decides them, the adapter only passes them on. No state is kept
// between calls, so replicas of the service can share one store.

#include "grpcpp/server_context.h"
#include "grpcpp/support/sync_stream.h"
#include "services/layerstore/core/blob_gc.h"
#include "services/layerstore/core/blob_store.h"
#include "services/layerstore/core/lease_store.h"
#include "strata/layerstore/v1/layerstore.grpc.pb.h"

namespace strata::layerstore {

// Largest chunk a WriteRequest may carry (the .proto's limit; 1 MiB is recommended).
inline constexpr size_t kMaxWriteChunkSize = 4 << 20;

class LayerStoreService final : public v1::LayerStore::Service {
 public:
  // The stores are not owned and must outlive the service. Without a lease store the lease
  // RPCs are UNIMPLEMENTED and a Write naming a lease FAILED_PRECONDITION; without
  // `referenced` (imagegraph's blobs) CollectGarbage is FAILED_PRECONDITION.
  // gc_defaults: the options of CollectGarbage (upload grace unless the request sets one,
  // min_age).
  explicit LayerStoreService(BlobStore* store, LeaseStore* leases = nullptr,
                             ReferencedBlobs referenced = nullptr,
                             GcOptions gc_defaults = GcOptions())
      : store_(store),
        leases_(leases),
        referenced_(std::move(referenced)),
        gc_defaults_(gc_defaults) {}

  // INVALID_ARGUMENT (malformed digest), NOT_FOUND.
  grpc::Status Stat(grpc::ServerContext* context, const v1::StatRequest* request,
                    v1::StatResponse* response) override;
  // Streams the range in chunks of rpc::kChunkSize. INVALID_ARGUMENT (malformed digest,
  // negative offset or length, offset past the end), NOT_FOUND; stops when the client goes away
  // or its deadline passes.
  grpc::Status Read(grpc::ServerContext* context, const v1::ReadRequest* request,
                    grpc::ServerWriter<v1::ReadResponse>* writer) override;
  // INVALID_ARGUMENT (no ref, malformed expected digest, negative expected size, chunk at the
  // wrong offset or over kMaxWriteChunkSize, size or digest mismatch on commit), ABORTED (the ref
  // is being written), FAILED_PRECONDITION (an expected digest or size differs from the one the
  // upload being resumed has; one it lacks is added). An expected digest that is already stored
  // ends the call at once as committed and already_existed. A stream that ends without commit
  // leaves the upload to be resumed.
  grpc::Status Write(grpc::ServerContext* context, grpc::ServerReader<v1::WriteRequest>* reader,
                     v1::WriteResponse* response) override;
  // INVALID_ARGUMENT (empty ref), NOT_FOUND.
  grpc::Status WriteStatus(grpc::ServerContext* context, const v1::WriteStatusRequest* request,
                           v1::WriteStatusResponse* response) override;
  // INVALID_ARGUMENT (empty ref), NOT_FOUND, ABORTED (being written).
  grpc::Status AbortWrite(grpc::ServerContext* context, const v1::AbortWriteRequest* request,
                          v1::AbortWriteResponse* response) override;
  // INVALID_ARGUMENT (malformed digest), NOT_FOUND.
  grpc::Status Delete(grpc::ServerContext* context, const v1::DeleteRequest* request,
                      v1::DeleteResponse* response) override;
  // Pages of at most page_size (default 1000, capped at 10000) blobs in digest order; the page
  // token is the digest of the last blob of the previous page. INVALID_ARGUMENT (negative page
  // size, malformed page token).
  grpc::Status List(grpc::ServerContext* context, const v1::ListRequest* request,
                    v1::ListResponse* response) override;
  // Scrubs the store (ScrubBlobs): progress about once a second, then the damaged blobs.
  // CANCELLED when the client goes away, storage errors.
  grpc::Status Check(grpc::ServerContext* context, const v1::CheckRequest* request,
                     grpc::ServerWriter<v1::CheckResponse>* writer) override;
  // INVALID_ARGUMENT, NOT_FOUND, UNIMPLEMENTED (no lease store): see the .proto.
  grpc::Status CreateLease(grpc::ServerContext* context, const v1::CreateLeaseRequest* request,
                           v1::CreateLeaseResponse* response) override;
  grpc::Status RenewLease(grpc::ServerContext* context, const v1::RenewLeaseRequest* request,
                          v1::RenewLeaseResponse* response) override;
  grpc::Status DeleteLease(grpc::ServerContext* context, const v1::DeleteLeaseRequest* request,
                           v1::DeleteLeaseResponse* response) override;
  grpc::Status ListLeases(grpc::ServerContext* context, const v1::ListLeasesRequest* request,
                          v1::ListLeasesResponse* response) override;
  // CollectGarbage (blob_gc.h). FAILED_PRECONDITION (backend, no imagegraph), UNAVAILABLE.
  grpc::Status CollectGarbage(grpc::ServerContext* context,
                              const v1::CollectGarbageRequest* request,
                              v1::CollectGarbageResponse* response) override;

 private:
  absl::Status DoRead(grpc::ServerContext* context, const v1::ReadRequest& request,
                      grpc::ServerWriter<v1::ReadResponse>* writer);
  absl::Status DoWrite(grpc::ServerContext* context, grpc::ServerReader<v1::WriteRequest>* reader,
                       v1::WriteResponse* response);
  absl::Status DoList(const v1::ListRequest& request, v1::ListResponse* response);

  // Records under the lease that the writer uses `digest` (before the Write reports it
  // stored), then touches the stored copy so a collection under way keeps it. NOT_FOUND from
  // the touch: the blob is gone (a collector took it).
  absl::Status Protect(const std::string& lease, const Digest& digest);
  absl::StatusOr<LeaseStore*> Leases();

  BlobStore* const store_;
  LeaseStore* const leases_;
  const ReferencedBlobs referenced_;
  const GcOptions gc_defaults_;
};

}  // namespace strata::layerstore

#endif  // STRATA_SERVICES_LAYERSTORE_LAYERSTORE_SERVICE_H_
