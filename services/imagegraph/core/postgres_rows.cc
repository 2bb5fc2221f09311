#include "services/imagegraph/core/postgres_rows.h"

#include <algorithm>
#include <unordered_map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "lib/base/errors.h"
#include "lib/digest/digest.h"
#include "services/imagegraph/core/database.h"
#include "services/imagegraph/core/postgres_sql.h"

namespace strata::imagegraph::pg {

using nlohmann::json;

// Times go to PostgreSQL as RFC 3339 text at its precision (microseconds), and come back as
// microseconds since the epoch.
std::string TimeText(const std::optional<absl::Time>& time) {
  if (!time) return "";
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", *time, absl::UTCTimeZone());
}

std::optional<absl::Time> TimeFrom(const pqxx::field& field) {
  if (field.is_null()) return std::nullopt;
  return FromMicros(field.as<int64_t>());
}

std::string Str(const pqxx::field& field) {
  return field.is_null() ? std::string() : field.as<std::string>();
}

std::string JsonText(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

json TimeJson(const std::optional<absl::Time>& time) {
  if (!time) return nullptr;
  return TimeText(time);
}

Layer LayerFromRow(const pqxx::row& row) {
  Layer layer;
  layer.chain_id = Str(row[0]);
  layer.parent_chain_id = Str(row[1]);
  layer.blob.diff_id = Str(row[2]);
  layer.blob.digest = Str(row[3]);
  layer.blob.media_type = Str(row[4]);
  layer.blob.size = row[5].as<int64_t>();
  layer.blob.uncompressed_size = row[6].as<int64_t>();
  layer.created_by = Str(row[7]);
  layer.created = TimeFrom(row[8]);
  layer.author = Str(row[9]);
  layer.comment = Str(row[10]);
  return layer;
}

// Reads the columns of ImageColumns(), starting at column `first`.
Image ImageFromRow(const pqxx::row& row, int first) {
  Image image;
  image.id = Str(row[first]);
  image.config = pqxx::binarystring(row[first + 1]).str();
  image.created = TimeFrom(row[first + 2]);
  image.parent_id = Str(row[first + 3]);
  image.size = row[first + 4].as<int64_t>();
  image.child_count = row[first + 5].as<int32_t>();
  if (!row[first + 6].is_null()) {
    for (const json& layer : json::parse(Str(row[first + 6]))) {
      image.chain_ids.push_back(layer[0].get<std::string>());
      LayerDescriptor descriptor;
      descriptor.digest = layer[1].get<std::string>();
      descriptor.diff_id = layer[2].get<std::string>();
      descriptor.media_type = layer[3].get<std::string>();
      descriptor.size = layer[4].get<int64_t>();
      descriptor.uncompressed_size = layer[5].get<int64_t>();
      image.layers.push_back(std::move(descriptor));
    }
  }
  if (!row[first + 7].is_null()) {
    for (const json& tag : json::parse(Str(row[first + 7]))) {
      image.tags.push_back(tag.get<std::string>());
    }
    std::sort(image.tags.begin(), image.tags.end());
  }
  if (!row[first + 8].is_null()) {
    for (const json& digest : json::parse(Str(row[first + 8]))) {
      image.repo_digests.push_back(digest.get<std::string>());
    }
    std::sort(image.repo_digests.begin(), image.repo_digests.end());
  }
  if (!row[first + 9].is_null()) image.last_tagged = TimeFrom(row[first + 9]);
  return image;
}

// Loads images by id, in the order given; ids that do not exist are left out.
std::vector<Image> LoadImages(pqxx::transaction_base& tx, const std::vector<std::string>& ids) {
  if (ids.empty()) return {};
  std::unordered_map<std::string, Image> by_id;
  for (const pqxx::row& row : tx.exec_prepared("images_load", ToArrayLiteral(ids))) {
    Image image = ImageFromRow(row, 0);
    std::string id = image.id;
    by_id.emplace(std::move(id), std::move(image));
  }
  std::vector<Image> out;
  out.reserve(ids.size());
  for (const std::string& id : ids) {
    auto it = by_id.find(id);
    if (it == by_id.end()) continue;
    out.push_back(std::move(it->second));
    by_id.erase(it);
  }
  return out;
}

// Runs a statement taking the resolution parameters ($1..$6 of ResolveSql) for ref:
// "resolve_images", "resolve_ids" or "history_by_ref".
pqxx::result ExecResolve(pqxx::transaction_base& tx, const char* statement, const ImageRef& ref) {
  std::string low;
  std::string high;
  if (!ref.prefix.empty()) {
    // With the "C" collation every id starting with the prefix sorts in [prefix, prefix+"g").
    low = absl::StrCat("sha256:", ref.prefix);
    high = absl::StrCat(low, "g");
  }
  const std::string repository =
      ref.tag ? ref.tag->name : (ref.repo_digest ? ref.repo_digest->name : "");
  return tx.exec_prepared(statement, repository, ref.tag ? ref.tag->tag : "", ref.full_id, low,
                          high, ref.repo_digest ? ref.repo_digest->digest : "");
}

// Picks the row a reference resolves to among the rows of a resolution statement (rank in
// column 0, id in column 1), in the documented order: tag, full id, unique prefix.
// Errors: FAILED_PRECONDITION (ambiguous prefix), NOT_FOUND.
absl::StatusOr<size_t> PickResolved(const ImageRef& ref, const pqxx::result& rows) {
  std::vector<size_t> by_rank[4];
  for (size_t i = 0; i < rows.size(); ++i) {
    const int rank = rows[i][0].as<int>();
    if (rank >= 1 && rank <= 3) by_rank[rank].push_back(i);
  }
  if (!by_rank[1].empty()) return by_rank[1][0];
  if (!by_rank[2].empty()) return by_rank[2][0];
  if (by_rank[3].size() == 1) return by_rank[3][0];
  if (by_rank[3].size() > 1) {
    std::vector<std::string> candidates;
    for (size_t i = 0; i < by_rank[3].size() && i < static_cast<size_t>(kMaxCandidates); ++i) {
      candidates.push_back(ShortId(Str(rows[by_rank[3][i]][1])));
    }
    return absl::FailedPreconditionError(
        absl::StrCat("image ", Quote(ref.text), ": ambiguous id prefix, it matches ",
                     absl::StrJoin(candidates, ", "),
                     by_rank[3].size() > static_cast<size_t>(kMaxCandidates) ? " and more" : "",
                     "; give more digits"));
  }
  if (ref.tag && ref.full_id.empty() && ref.prefix.empty()) {
    if (ref.implied_tag) {
      std::string hint;
      if (IsLowerHex(ref.text)) {
        hint = absl::StrCat(" (an id prefix needs at least ", kMinIdPrefix, " hex digits)");
      }
      return absl::NotFoundError(absl::StrCat("image ", Quote(ref.text), ": no such tag \"",
                                              ref.tag->name, ":", ref.tag->tag, "\"", hint));
    }
    return absl::NotFoundError(absl::StrCat("image ", Quote(ref.text), ": no such tag"));
  }
  if (!ref.tag && ref.full_id.empty() && ref.prefix.empty()) {
    return absl::NotFoundError(
        absl::StrCat("image ", Quote(ref.text), ": no such image; ", ref.not_a_reference));
  }
  return absl::NotFoundError(absl::StrCat("image ", Quote(ref.text), ": no such image"));
}

// Resolves a reference to an image id. Errors: as PickResolved.
absl::StatusOr<Resolved> Resolve(pqxx::transaction_base& tx, const ImageRef& ref) {
  pqxx::result rows = ExecResolve(tx, "resolve_ids", ref);
  ASSIGN_OR_RETURN(size_t picked, PickResolved(ref, rows));
  Resolved resolved;
  resolved.id = Str(rows[picked][1]);
  if (rows[picked][0].as<int>() == 1) {
    resolved.tag = ref.tag;
    resolved.repo_digest = ref.repo_digest;
  }
  return resolved;
}

bool HasTags(pqxx::transaction_base& tx, const std::string& id) {
  return tx.exec_prepared("image_has_tags", id)[0][0].as<bool>();
}

std::vector<std::string> Children(pqxx::transaction_base& tx, const std::string& id, int limit) {
  std::vector<std::string> out;
  for (const pqxx::row& row : tx.exec_prepared("image_children", id, limit)) {
    out.push_back(ShortId(Str(row[0])));
  }
  return out;
}

}  // namespace strata::imagegraph::pg
