#ifndef STRATA_SERVICES_LAYERSTORE_LAYERSTORE_SERVICE_H_
#define STRATA_SERVICES_LAYERSTORE_LAYERSTORE_SERVICE_H_

// The gRPC adapter of strata.layerstore.v1: validates requests (digests go through
// Digest::Parse here, so the store only ever sees well-formed ones), calls a BlobStore, and
// converts its absl::Status to the wire once. Every error code is the one the .proto documents
// for the RPC; the store decides them, the adapter only passes them on. No state is kept
// between calls, so replicas of the service can share one store.

#include "grpcpp/server_context.h"
#include "grpcpp/support/sync_stream.h"
#include "services/layerstore/core/blob_store.h"
#include "strata/layerstore/v1/layerstore.grpc.pb.h"

namespace strata::layerstore {

// Largest chunk a WriteRequest may carry (the .proto's limit; 1 MiB is recommended).
inline constexpr size_t kMaxWriteChunkSize = 4 << 20;

class LayerStoreService final : public v1::LayerStore::Service {
 public:
  // The store is not owned and must outlive the service.
  explicit LayerStoreService(BlobStore* store) : store_(store) {}

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

 private:
  absl::Status DoRead(grpc::ServerContext* context, const v1::ReadRequest& request,
                      grpc::ServerWriter<v1::ReadResponse>* writer);
  absl::Status DoWrite(grpc::ServerContext* context, grpc::ServerReader<v1::WriteRequest>* reader,
                       v1::WriteResponse* response);
  absl::Status DoList(const v1::ListRequest& request, v1::ListResponse* response);

  BlobStore* const store_;
};

}  // namespace strata::layerstore

#endif  // STRATA_SERVICES_LAYERSTORE_LAYERSTORE_SERVICE_H_
