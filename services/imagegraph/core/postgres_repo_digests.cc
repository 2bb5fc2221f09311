// PostgresGraphStore's registry records: repository digests (docker's RepoDigests: the
// manifest digest a registry repository holds an image under) and blob variants (the blobs
// that hold a layer's content in some compression, kept in layerstore or held by a registry
// repository). Pull and push write them; push reads them to reuse a conversion and to mount a
// blob from another repository of the same registry.

#include "absl/strings/str_cat.h"
#include "lib/base/errors.h"
#include "lib/digest/digest.h"
#include "services/imagegraph/core/graph_rules.h"
#include "services/imagegraph/core/postgres_graph_store.h"
#include "services/imagegraph/core/postgres_rows.h"

namespace strata::imagegraph {

absl::StatusOr<std::string> PostgresGraphStore::AddRepoDigest(absl::string_view image_ref,
                                                              absl::string_view repo_digest) {
  ASSIGN_OR_RETURN(ImageRef ref, ParseImageRef(image_ref));
  ASSIGN_OR_RETURN(Reference digest, ParseRepoDigest(repo_digest));
  RETURN_IF_ERROR(Run(Access::kReadWrite, [&](pqxx::transaction_base& tx) -> absl::Status {
    ASSIGN_OR_RETURN(pg::Resolved resolved, pg::Resolve(tx, ref));
    // Lock the image against deletion until we commit.
    if (tx.exec_prepared("image_key_share", resolved.id).empty()) {
      return absl::AbortedError(absl::StrCat("image ", resolved.id, " was deleted meanwhile"));
    }
    tx.exec_prepared("repo_digests_upsert", ToArrayLiteral({digest.name}),
                     ToArrayLiteral({digest.digest}), resolved.id);
    return absl::OkStatus();
  }));
  return absl::StrCat(digest.name, "@", digest.digest);
}

absl::Status PostgresGraphStore::PutBlobVariant(const BlobVariant& input) {
  BlobVariant variant = input;
  RETURN_IF_ERROR(NormalizeBlobVariant(variant));
  return Run(Access::kReadWrite, [&](pqxx::transaction_base& tx) -> absl::Status {
    tx.exec_prepared("blob_variant_upsert", variant.digest, variant.repository, variant.diff_id,
                     variant.media_type, variant.size);
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<BlobVariant>> PostgresGraphStore::ListBlobVariants(
    absl::string_view diff_id, absl::string_view digest) {
  if (diff_id.empty() && digest.empty()) {
    return absl::InvalidArgumentError("blob variants: give a diff id or a digest");
  }
  std::string diff_id_text;
  std::string digest_text;
  if (!diff_id.empty()) {
    absl::StatusOr<Digest> parsed = Digest::Parse(diff_id);
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("diff id: ", parsed.status().message()));
    }
    diff_id_text = parsed->str();
  }
  if (!digest.empty()) {
    absl::StatusOr<Digest> parsed = Digest::Parse(digest);
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("digest: ", parsed.status().message()));
    }
    digest_text = parsed->str();
  }
  std::vector<BlobVariant> variants;
  RETURN_IF_ERROR(Run(Access::kSingleStatement, [&](pqxx::transaction_base& tx) -> absl::Status {
    variants.clear();
    for (const pqxx::row& row : tx.exec_prepared("blob_variants_list", diff_id_text, digest_text)) {
      BlobVariant variant;
      variant.diff_id = pg::Str(row[0]);
      variant.digest = pg::Str(row[1]);
      variant.media_type = pg::Str(row[2]);
      variant.size = row[3].as<int64_t>();
      variant.repository = pg::Str(row[4]);
      variants.push_back(std::move(variant));
    }
    return absl::OkStatus();
  }));
  return variants;
}

}  // namespace strata::imagegraph
