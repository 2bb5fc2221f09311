#ifndef STRATA_SERVICES_IMAGEGRAPH_CORE_POSTGRES_GRAPH_STORE_H_
#define STRATA_SERVICES_IMAGEGRAPH_CORE_POSTGRES_GRAPH_STORE_H_

// GraphStore over PostgreSQL (libpqxx 6.4). Every operation is one transaction; statements
// are prepared and parameterised; the database's constraints (foreign keys, unique tags,
// id = sha256(config), chain id = sha256(parent + " " + diff id)) back the rules in code.
//
// The store connects lazily: it can be created while PostgreSQL is down, answers UNAVAILABLE
// until the database is reachable, and migrates the schema on the first successful contact.
// It keeps nothing in memory that another replica would need.

#include <atomic>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "services/imagegraph/core/database.h"
#include "services/imagegraph/core/graph_store.h"

namespace strata::imagegraph {

class PostgresGraphStore final : public GraphStore {
 public:
  // Does not connect yet. options.prepared_statements is filled in by the store.
  explicit PostgresGraphStore(DatabaseOptions options);

  // Migrates the schema now (otherwise the first operation does).
  // Errors: UNAVAILABLE (database unreachable), FAILED_PRECONDITION (the database holds a
  // newer schema than this binary knows), INTERNAL.
  absl::Status Migrate();

  // Whether the store can work: the schema is ready (migrated now when it was not) and the
  // database answers a query. What the service's health reports. Takes at most the
  // connection timeout (5 s unless the connection string sets connect_timeout).
  // Errors: as Migrate; UNAVAILABLE (no free connection in time, the database went away).
  absl::Status CheckDatabase();

  absl::StatusOr<PutLayerResult> PutLayer(const Layer& layer) override;
  absl::StatusOr<Layer> GetLayer(absl::string_view chain_id) override;
  absl::StatusOr<CreateImageResult> CreateImage(const NewImage& image) override;
  absl::StatusOr<Image> GetImage(absl::string_view ref) override;
  absl::StatusOr<ImagePage> ListImages(const ListImagesOptions& options) override;
  absl::StatusOr<TagResult> Tag(absl::string_view image_ref, absl::string_view target) override;
  absl::StatusOr<UntagResult> Untag(absl::string_view reference) override;
  absl::StatusOr<DeleteImageResult> DeleteImage(absl::string_view ref,
                                                const DeleteImageOptions& options) override;
  absl::StatusOr<std::vector<HistoryEntry>> History(absl::string_view ref) override;
  absl::StatusOr<std::vector<Image>> ListChildren(absl::string_view ref) override;
  absl::StatusOr<Hold> HoldImage(absl::string_view image_ref, absl::string_view holder,
                                 absl::string_view node) override;
  absl::StatusOr<bool> ReleaseImage(absl::string_view holder) override;
  absl::StatusOr<std::vector<Hold>> ListHolds(absl::string_view image_ref) override;
  absl::StatusOr<BlobPage> ListReferencedBlobs(int page_size,
                                               absl::string_view page_token) override;
  absl::StatusOr<std::string> AddRepoDigest(absl::string_view image_ref,
                                            absl::string_view repo_digest) override;
  absl::Status PutBlobVariant(const BlobVariant& variant) override;
  absl::StatusOr<std::vector<BlobVariant>> ListBlobVariants(absl::string_view diff_id,
                                                            absl::string_view digest) override;

 private:
  // Migrates once per process, on the first call that reaches the database.
  absl::Status EnsureSchema();
  // EnsureSchema, then database_.RunInTransaction.
  absl::Status Run(Access access, const Database::Body& body);

  Database database_;
  std::atomic<bool> schema_ready_{false};
  // Held while migrating (one attempt at a time; others wait for its outcome).
  absl::Mutex migrate_mu_;
};

}  // namespace strata::imagegraph

#endif  // STRATA_SERVICES_IMAGEGRAPH_CORE_POSTGRES_GRAPH_STORE_H_
