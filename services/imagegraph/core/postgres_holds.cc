// PostgresGraphStore's holds: who uses an image (see Hold in graph_store.h). A hold is a row
// of image_holds whose foreign key on images has no cascade, so the database itself refuses
// to delete a held image; HoldImage and DeleteImage serialize on the image's row (KEY SHARE
// against FOR UPDATE), so a hold never lands on an image being deleted.

#include "absl/strings/str_cat.h"
#include "lib/base/errors.h"
#include "services/imagegraph/core/graph_rules.h"
#include "services/imagegraph/core/postgres_graph_store.h"
#include "services/imagegraph/core/postgres_rows.h"

namespace strata::imagegraph {
namespace {

constexpr size_t kMaxHolderBytes = 256;

Hold HoldFromRow(const pqxx::row& row) {
  Hold hold;
  hold.holder = pg::Str(row[0]);
  hold.image_id = pg::Str(row[1]);
  hold.node = pg::Str(row[2]);
  hold.created = pg::TimeFrom(row[3]);
  return hold;
}

absl::Status CheckHolder(absl::string_view holder) {
  if (holder.empty()) return absl::InvalidArgumentError("holder is empty");
  if (holder.size() > kMaxHolderBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("holder ", Quote(holder), " is longer than ", kMaxHolderBytes, " bytes"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Hold> PostgresGraphStore::HoldImage(absl::string_view image_ref,
                                                   absl::string_view holder,
                                                   absl::string_view node) {
  RETURN_IF_ERROR(CheckHolder(holder));
  if (node.size() > kMaxHolderBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("node ", Quote(node), " is longer than ", kMaxHolderBytes, " bytes"));
  }
  ASSIGN_OR_RETURN(ImageRef ref, ParseImageRef(image_ref));
  Hold hold;
  RETURN_IF_ERROR(Run(Access::kReadWrite, [&](pqxx::transaction_base& tx) -> absl::Status {
    ASSIGN_OR_RETURN(pg::Resolved resolved, pg::Resolve(tx, ref));
    // The image must still exist when the hold lands (a delete may have won the race).
    if (tx.exec_prepared("image_key_share", resolved.id).empty()) {
      return absl::AbortedError(absl::StrCat("image ", Quote(ref.text), " was deleted meanwhile"));
    }
    tx.exec_prepared("hold_insert", std::string(holder), resolved.id, std::string(node));
    pqxx::result stored = tx.exec_prepared("hold_get", std::string(holder));
    if (stored.empty()) return absl::AbortedError("the hold was released meanwhile");
    hold = HoldFromRow(stored[0]);
    if (hold.image_id != resolved.id) {
      return absl::AlreadyExistsError(absl::StrCat(Quote(holder), " already holds image ",
                                                   ShortId(hold.image_id), ", not ",
                                                   ShortId(resolved.id)));
    }
    return absl::OkStatus();
  }));
  return hold;
}

absl::StatusOr<bool> PostgresGraphStore::ReleaseImage(absl::string_view holder) {
  if (holder.empty()) return absl::InvalidArgumentError("holder is empty");
  bool released = false;
  RETURN_IF_ERROR(Run(Access::kReadWrite, [&](pqxx::transaction_base& tx) -> absl::Status {
    released = !tx.exec_prepared("hold_delete", std::string(holder)).empty();
    return absl::OkStatus();
  }));
  return released;
}

absl::StatusOr<std::vector<Hold>> PostgresGraphStore::ListHolds(absl::string_view image_ref) {
  std::optional<ImageRef> ref;
  if (!image_ref.empty()) {
    ASSIGN_OR_RETURN(ref, ParseImageRef(image_ref));
  }
  std::vector<Hold> holds;
  RETURN_IF_ERROR(Run(Access::kReadOnly, [&](pqxx::transaction_base& tx) -> absl::Status {
    holds.clear();
    pqxx::result rows;
    if (ref) {
      ASSIGN_OR_RETURN(pg::Resolved resolved, pg::Resolve(tx, *ref));
      rows = tx.exec_prepared("holds_of_image", resolved.id);
    } else {
      rows = tx.exec_prepared("holds_all");
    }
    for (const pqxx::row& row : rows) holds.push_back(HoldFromRow(row));
    return absl::OkStatus();
  }));
  return holds;
}

}  // namespace strata::imagegraph
