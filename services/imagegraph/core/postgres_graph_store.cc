#include "services/imagegraph/core/postgres_graph_store.h"

#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "lib/base/errors.h"
#include "lib/base/log.h"
#include "lib/digest/digest.h"
#include "lib/reference/reference.h"
#include "nlohmann/json.hpp"
#include "services/imagegraph/core/graph_rules.h"
#include "services/imagegraph/core/postgres_rows.h"
#include "services/imagegraph/core/postgres_sql.h"
#include "services/imagegraph/core/schema.h"

namespace strata::imagegraph {
namespace {

using nlohmann::json;
using pg::Children;
using pg::ExecResolve;
using pg::HasTags;
using pg::ImageFromRow;
using pg::JsonText;
using pg::LayerFromRow;
using pg::LoadImages;
using pg::PickResolved;
using pg::Resolve;
using pg::Resolved;
using pg::Statements;
using pg::Str;
using pg::TimeFrom;
using pg::TimeJson;
using pg::TimeText;

// ListImages stops adding images past this many bytes (the response must stay under the
// 16 MiB message limit).
constexpr size_t kMaxListBytes = 8 << 20;
// Images loaded per round trip while listing.
constexpr size_t kLoadChunk = 256;

// Deletes an image locked FOR UPDATE (its history and layer list go with it), and remembers
// its layers for the layer clean-up.
void DeleteLockedImage(pqxx::transaction_base& tx, const std::string& id, DeleteImageResult& result,
                       std::set<std::string>& freed_layers) {
  for (const pqxx::row& row : tx.exec_prepared("image_chain_ids", id)) {
    freed_layers.insert(Str(row[0]));
  }
  tx.exec_prepared("image_delete", id);
  result.deleted.push_back(id);
}

// Deletes the layers among `candidates` that no image uses any more and that have no child
// layer staying behind (a layer registered on top of them by PutLayer keeps them).
void DeleteUnusedLayers(pqxx::transaction_base& tx, const std::set<std::string>& candidates) {
  if (candidates.empty()) return;
  const std::string array =
      ToArrayLiteral(std::vector<std::string>(candidates.begin(), candidates.end()));
  std::map<std::string, std::string> parent_of;
  std::set<std::string> keep;
  for (const pqxx::row& row : tx.exec_prepared("layers_gc_candidates", array)) {
    parent_of[Str(row[0])] = Str(row[1]);
    if (row[2].as<bool>()) keep.insert(Str(row[0]));
  }
  for (const pqxx::row& row : tx.exec_prepared("layers_with_other_children", array)) {
    keep.insert(Str(row[0]));
  }
  // A layer kept keeps its parent, and so on down.
  std::vector<std::string> pending(keep.begin(), keep.end());
  while (!pending.empty()) {
    std::string chain_id = std::move(pending.back());
    pending.pop_back();
    auto it = parent_of.find(chain_id);
    if (it == parent_of.end() || it->second.empty()) continue;
    if (keep.insert(it->second).second) pending.push_back(it->second);
  }
  std::vector<std::string> doomed;
  for (const auto& [chain_id, parent] : parent_of) {
    if (keep.count(chain_id) == 0) doomed.push_back(chain_id);
  }
  if (!doomed.empty()) tx.exec_prepared("layers_delete", ToArrayLiteral(doomed));
}

// The holders of an image, sorted.
std::vector<std::string> Holders(pqxx::transaction_base& tx, const std::string& id) {
  std::vector<std::string> holders;
  for (const pqxx::row& row : tx.exec_prepared("holds_of_image", id)) {
    holders.push_back(Str(row[0]));
  }
  return holders;
}

// DeleteImage's refusal of a held image, in docker's words (the gateway says "running" or
// "stopped", which only the runtime knows). `reference` is the tag named, if any.
absl::Status HeldError(const std::string& id, const std::string& reference,
                       const std::vector<std::string>& holders) {
  const std::string holder = ShortId(holders.front());
  const std::string more =
      holders.size() > 1 ? absl::StrCat(" (and ", holders.size() - 1, " more)") : "";
  if (!reference.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("conflict: unable to remove repository reference \"", reference,
                     "\" (must force) - container ", holder, more,
                     " is using its referenced image ", ShortId(id)));
  }
  return absl::FailedPreconditionError(absl::StrCat("conflict: unable to delete ", ShortId(id),
                                                    " (must be forced) - image is being used by "
                                                    "container ",
                                                    holder, more));
}

// Rough wire size of an image in a response.
size_t ApproximateSize(const Image& image) {
  size_t size = 256 + image.config.size() + 300 * image.layers.size();
  for (const std::string& tag : image.tags) size += tag.size() + 4;
  return size;
}

}  // namespace

PostgresGraphStore::PostgresGraphStore(DatabaseOptions options)
    : database_([&options]() {
        options.prepared_statements = Statements();
        return std::move(options);
      }()) {}

absl::Status PostgresGraphStore::Migrate() { return EnsureSchema(); }

absl::Status PostgresGraphStore::CheckDatabase() {
  return Run(Access::kSingleStatement, [](pqxx::transaction_base& tx) -> absl::Status {
    tx.exec("SELECT 1");
    return absl::OkStatus();
  });
}

absl::Status PostgresGraphStore::EnsureSchema() {
  if (schema_ready_.load(std::memory_order_acquire)) return absl::OkStatus();
  absl::MutexLock lock(&migrate_mu_);
  if (schema_ready_.load(std::memory_order_acquire)) return absl::OkStatus();
  absl::Status status = MigrateSchema(database_);
  if (!status.ok()) {
    if (status.code() != absl::StatusCode::kUnavailable) {
      STRATA_LOG(ERROR) << "image graph schema: " << status.message();
    }
    return status;
  }
  schema_ready_.store(true, std::memory_order_release);
  STRATA_LOG(INFO) << "image graph database ready, schema version " << LatestSchemaVersion();
  return absl::OkStatus();
}

absl::Status PostgresGraphStore::Run(Access access, const Database::Body& body) {
  RETURN_IF_ERROR(EnsureSchema());
  return database_.RunInTransaction(access, body);
}

absl::StatusOr<PutLayerResult> PostgresGraphStore::PutLayer(const Layer& input) {
  ASSIGN_OR_RETURN(Layer layer, PrepareLayer(input));
  PutLayerResult result;
  RETURN_IF_ERROR(Run(Access::kReadWrite, [&](pqxx::transaction_base& tx) -> absl::Status {
    if (!layer.parent_chain_id.empty() &&
        tx.exec_prepared("layer_key_share", layer.parent_chain_id).empty()) {
      return absl::FailedPreconditionError(absl::StrCat("layer ", layer.chain_id, ": parent layer ",
                                                        layer.parent_chain_id,
                                                        " is not registered"));
    }
    pqxx::result inserted = tx.exec_prepared(
        "layer_insert", layer.chain_id, layer.parent_chain_id, layer.blob.diff_id,
        layer.blob.digest, layer.blob.media_type, layer.blob.size, layer.blob.uncompressed_size,
        layer.created_by, TimeText(layer.created), layer.author, layer.comment);
    pqxx::result stored = tx.exec_prepared("layer_get", layer.chain_id);
    if (stored.empty()) {
      return absl::AbortedError(absl::StrCat("layer ", layer.chain_id, " vanished"));
    }
    result.layer = LayerFromRow(stored[0]);
    result.already_existed = inserted.empty();
    return absl::OkStatus();
  }));
  return result;
}

absl::StatusOr<Layer> PostgresGraphStore::GetLayer(absl::string_view chain_id) {
  absl::StatusOr<Digest> parsed = Digest::Parse(chain_id);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("layer chain id: ", parsed.status().message()));
  }
  Layer layer;
  RETURN_IF_ERROR(Run(Access::kReadOnly, [&](pqxx::transaction_base& tx) -> absl::Status {
    pqxx::result rows = tx.exec_prepared("layer_get", parsed->str());
    if (rows.empty()) {
      return absl::NotFoundError(absl::StrCat("layer ", parsed->str(), ": no such layer"));
    }
    layer = LayerFromRow(rows[0]);
    return absl::OkStatus();
  }));
  return layer;
}

absl::StatusOr<CreateImageResult> PostgresGraphStore::CreateImage(const NewImage& spec) {
  ASSIGN_OR_RETURN(PreparedImage image, PrepareImage(spec));

  json layers = json::array();
  std::vector<std::string> chain_ids;
  for (const Layer& layer : image.layers) {
    chain_ids.push_back(layer.chain_id);
    layers.push_back({{"chain_id", layer.chain_id},
                      {"parent_chain_id",
                       layer.parent_chain_id.empty() ? json(nullptr) : json(layer.parent_chain_id)},
                      {"diff_id", layer.blob.diff_id},
                      {"digest", layer.blob.digest},
                      {"media_type", layer.blob.media_type},
                      {"size", layer.blob.size},
                      {"uncompressed_size", layer.blob.uncompressed_size},
                      {"created_by", layer.created_by},
                      {"created", TimeJson(layer.created)},
                      {"author", layer.author},
                      {"comment", layer.comment}});
  }
  json history = json::array();
  for (size_t i = 0; i < image.history.size(); ++i) {
    const HistoryStep& step = image.history[i];
    history.push_back(
        {{"position", i},
         {"created", TimeJson(step.created)},
         {"created_by", step.created_by},
         {"author", step.author},
         {"comment", step.comment},
         {"empty_layer", step.empty_layer},
         {"chain_id",
          step.layer_index < 0 ? json(nullptr) : json(image.layers[step.layer_index].chain_id)}});
  }
  std::vector<std::string> tag_names;
  std::vector<std::string> tag_tags;
  for (const Reference& tag : image.tags) {
    tag_names.push_back(tag.name);
    tag_tags.push_back(tag.tag);
  }
  std::vector<std::string> digest_names;
  std::vector<std::string> digest_digests;
  for (const std::string& text : spec.repo_digests) {
    ASSIGN_OR_RETURN(Reference reference, ParseRepoDigest(text));
    digest_names.push_back(reference.name);
    digest_digests.push_back(reference.digest);
  }
  const std::string layers_text = JsonText(layers);
  const std::string history_text = JsonText(history);
  CreateImageResult result;
  RETURN_IF_ERROR(Run(Access::kReadWrite, [&](pqxx::transaction_base& tx) -> absl::Status {
    const pqxx::binarystring config(image.config);
    if (!chain_ids.empty()) tx.exec_prepared("layers_insert_many", layers_text);
    // Lock the parent against deletion until we commit.
    if (!image.parent_id.empty() && tx.exec_prepared("image_key_share", image.parent_id).empty()) {
      return absl::NotFoundError(absl::StrCat("parent image ", image.parent_id, ": no such image"));
    }
    const bool inserted = !tx.exec_prepared("image_insert", image.id, config,
                                            TimeText(image.created), image.parent_id, image.size)
                               .empty();
    if (inserted) {
      if (!chain_ids.empty()) {
        tx.exec_prepared("image_layers_insert", image.id, ToArrayLiteral(chain_ids));
      }
      if (!image.history.empty()) tx.exec_prepared("history_insert", image.id, history_text);
    }
    if (!tag_names.empty()) {
      tx.exec_prepared("tags_upsert", ToArrayLiteral(tag_names), ToArrayLiteral(tag_tags),
                       image.id);
    }
    if (!digest_names.empty()) {
      tx.exec_prepared("repo_digests_upsert", ToArrayLiteral(digest_names),
                       ToArrayLiteral(digest_digests), image.id);
    }
    std::vector<Image> loaded = LoadImages(tx, {image.id});
    if (loaded.empty()) return absl::AbortedError(absl::StrCat("image ", image.id, " vanished"));
    result.image = std::move(loaded[0]);
    result.already_existed = !inserted;
    return absl::OkStatus();
  }));
  return result;
}

absl::StatusOr<Image> PostgresGraphStore::GetImage(absl::string_view text) {
  ASSIGN_OR_RETURN(ImageRef ref, ParseImageRef(text));
  Image image;
  // One statement resolves and loads: no transaction block needed.
  RETURN_IF_ERROR(Run(Access::kSingleStatement, [&](pqxx::transaction_base& tx) -> absl::Status {
    pqxx::result rows = ExecResolve(tx, "resolve_images", ref);
    ASSIGN_OR_RETURN(size_t picked, PickResolved(ref, rows));
    image = ImageFromRow(rows[picked], 1);
    return absl::OkStatus();
  }));
  return image;
}

absl::StatusOr<ImagePage> PostgresGraphStore::ListImages(const ListImagesOptions& options) {
  std::string repository;  // Familiar, as tags are stored.
  if (!options.repository.empty()) {
    ASSIGN_OR_RETURN(repository, FamiliarRepositoryName(options.repository));
  }
  if (options.page_size < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("page size ", options.page_size, " is negative"));
  }
  const int page_size = options.page_size == 0 ? kDefaultImagePageSize
                                               : std::min(options.page_size, kMaxImagePageSize);
  std::optional<ImagePageKey> after;
  if (!options.page_token.empty()) {
    ASSIGN_OR_RETURN(after, DecodeImagePageToken(options.page_token));
  }

  // The filters are fixed fragments; every value is a parameter.
  // A repository digest names an image as a tag does (docker lists "repo <none>" for it).
  const std::string has_tag =
      "(EXISTS (SELECT 1 FROM tags t WHERE t.image_id = i.id)"
      " OR EXISTS (SELECT 1 FROM repo_digests r WHERE r.image_id = i.id))";
  const std::string has_child = "EXISTS (SELECT 1 FROM images c WHERE c.parent_id = i.id)";
  const std::string order_key = "coalesce(i.created, '-infinity'::timestamptz)";
  std::vector<std::string> conditions;
  std::vector<std::string> params;
  auto param = [&params](std::string value) {
    params.push_back(std::move(value));
    return absl::StrCat("$", params.size());
  };
  if (!options.repository.empty()) {
    const std::string name = param(repository);
    conditions.push_back(absl::StrCat(
        "(EXISTS (SELECT 1 FROM tags t WHERE t.image_id = i.id AND t.repository = ", name,
        ") OR EXISTS (SELECT 1 FROM repo_digests r WHERE r.image_id = i.id AND r.repository = ",
        name, "))"));
  }
  if (options.dangling.has_value()) {
    conditions.push_back(*options.dangling ? absl::StrCat("NOT ", has_tag, " AND NOT ", has_child)
                                           : has_tag);
  } else if (!options.all) {
    conditions.push_back(absl::StrCat("(", has_tag, " OR NOT ", has_child, ")"));
  }
  if (after) {
    const std::string created =
        after->created_micros ? TimeText(FromMicros(*after->created_micros)) : "-infinity";
    const std::string c = param(created);
    const std::string id = param(after->id);
    conditions.push_back(absl::StrCat(order_key, " <= ", c, "::timestamptz AND (", order_key, " < ",
                                      c, "::timestamptz OR i.id > ", id, ")"));
  }
  std::string sql = absl::StrCat(
      "SELECT i.id, (extract(epoch FROM i.created) * 1000000)::int8 FROM images i",
      conditions.empty() ? "" : " WHERE ", absl::StrJoin(conditions, " AND "), " ORDER BY ",
      order_key, " DESC, i.id LIMIT ", param(absl::StrCat(page_size + 1)));

  ImagePage page;
  RETURN_IF_ERROR(Run(Access::kReadOnly, [&](pqxx::transaction_base& tx) -> absl::Status {
    page = ImagePage();
    std::vector<ImagePageKey> keys;
    for (const pqxx::row& row : tx.exec_params(sql, pqxx::prepare::make_dynamic_params(params))) {
      ImagePageKey key;
      key.id = Str(row[0]);
      if (!row[1].is_null()) key.created_micros = row[1].as<int64_t>();
      keys.push_back(std::move(key));
    }
    const bool more = keys.size() > static_cast<size_t>(page_size);
    if (more) keys.resize(page_size);
    // Load in chunks, and stop early when the response grows too big.
    size_t next = 0;  // Index in keys of the first image not shown.
    size_t bytes = 0;
    while (next < keys.size() && bytes < kMaxListBytes) {
      const size_t end = std::min(keys.size(), next + kLoadChunk);
      std::vector<std::string> ids;
      for (size_t i = next; i < end; ++i) ids.push_back(keys[i].id);
      std::vector<Image> loaded = LoadImages(tx, ids);
      size_t j = 0;
      for (size_t i = next; i < end && bytes < kMaxListBytes; ++i) {
        if (j < loaded.size() && loaded[j].id == keys[i].id) {
          bytes += ApproximateSize(loaded[j]);
          page.images.push_back(std::move(loaded[j++]));
        }
        next = i + 1;
      }
    }
    if (next > 0 && (more || next < keys.size())) {
      page.next_page_token = EncodeImagePageToken(keys[next - 1]);
    }
    return absl::OkStatus();
  }));
  return page;
}

absl::StatusOr<TagResult> PostgresGraphStore::Tag(absl::string_view image_ref,
                                                  absl::string_view target_text) {
  ASSIGN_OR_RETURN(ImageRef ref, ParseImageRef(image_ref));
  ASSIGN_OR_RETURN(Reference target, ParseTagTarget(target_text));
  TagResult result;
  RETURN_IF_ERROR(Run(Access::kReadWrite, [&](pqxx::transaction_base& tx) -> absl::Status {
    ASSIGN_OR_RETURN(Resolved resolved, Resolve(tx, ref));
    pqxx::result rows = tx.exec_prepared("tag_upsert", target.name, target.tag, resolved.id);
    const std::string previous = Str(rows[0][0]);
    result.reference = absl::StrCat(target.name, ":", target.tag);
    result.image_id = resolved.id;
    result.previous_image_id = previous == resolved.id ? "" : previous;
    return absl::OkStatus();
  }));
  return result;
}

absl::StatusOr<UntagResult> PostgresGraphStore::Untag(absl::string_view text) {
  ASSIGN_OR_RETURN(Reference reference, ParseReference(text));
  if (!reference.digest.empty() || reference.tag.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("invalid reference ", Quote(text),
                                                   ": untag needs \"repo[:tag]\", not a "
                                                   "digest"));
  }
  UntagResult result;
  result.reference = absl::StrCat(reference.name, ":", reference.tag);
  RETURN_IF_ERROR(Run(Access::kReadWrite, [&](pqxx::transaction_base& tx) -> absl::Status {
    pqxx::result rows = tx.exec_prepared("tag_delete", reference.name, reference.tag);
    if (rows.empty()) {
      return absl::NotFoundError(absl::StrCat("tag ", Quote(result.reference), ": no such tag"));
    }
    result.image_id = Str(rows[0][0]);
    return absl::OkStatus();
  }));
  return result;
}

absl::StatusOr<DeleteImageResult> PostgresGraphStore::DeleteImage(
    absl::string_view text, const DeleteImageOptions& options) {
  ASSIGN_OR_RETURN(ImageRef ref, ParseImageRef(text));
  DeleteImageResult result;
  RETURN_IF_ERROR(Run(Access::kReadWrite, [&](pqxx::transaction_base& tx) -> absl::Status {
    result = DeleteImageResult();
    ASSIGN_OR_RETURN(Resolved resolved, Resolve(tx, ref));
    const std::string& id = resolved.id;
    const std::string what = absl::StrCat("image ", Quote(ref.text), " (", ShortId(id), ")");
    // Lock the image: no child, tag or delete can slip in until we commit.
    pqxx::result locked = tx.exec_prepared("image_lock", id);
    if (locked.empty()) return absl::AbortedError(absl::StrCat(what, " was deleted meanwhile"));
    std::string parent = Str(locked[0][0]);

    if (resolved.tag || resolved.repo_digest) {
      // By tag (or repository digest): remove that name; the image goes too when that was
      // its last name and no child image depends on it. As docker does, the digests of a
      // repository go with its last tag.
      std::string reference;
      if (resolved.tag) {
        reference = absl::StrCat(resolved.tag->name, ":", resolved.tag->tag);
        if (tx.exec_prepared("tag_delete_of_image", resolved.tag->name, resolved.tag->tag, id)
                .empty()) {
          return absl::AbortedError(absl::StrCat("tag ", reference, " moved meanwhile"));
        }
        result.untagged.push_back(reference);
        for (const pqxx::row& row :
             tx.exec_prepared("repo_digests_delete_untagged_repository", id, resolved.tag->name)) {
          result.untagged.push_back(Str(row[0]));
        }
      } else {
        reference = absl::StrCat(resolved.repo_digest->name, "@", resolved.repo_digest->digest);
        if (tx.exec_prepared("repo_digest_delete_of_image", resolved.repo_digest->name,
                             resolved.repo_digest->digest, id)
                .empty()) {
          return absl::AbortedError(absl::StrCat(reference, " moved meanwhile"));
        }
        result.untagged.push_back(reference);
      }
      if (HasTags(tx, id)) return absl::OkStatus();
      // Its last tag: an image something holds would be left dangling under it, so only
      // when forced (docker's rule, children or not).
      std::vector<std::string> holders = Holders(tx, id);
      if (!holders.empty()) {
        if (!options.force) return HeldError(id, reference, holders);
        result.held_by = std::move(holders);
        return absl::OkStatus();
      }
      if (!Children(tx, id, 1).empty()) return absl::OkStatus();
    } else {
      // By id: never with child images; with several tags only when forced.
      std::vector<std::string> children = Children(tx, id, 4);
      if (!children.empty()) {
        return absl::FailedPreconditionError(
            absl::StrCat("conflict: unable to delete ", ShortId(id),
                         " (cannot be forced) - image has dependent child images (",
                         absl::StrJoin(children, ", "), children.size() > 3 ? ", ..." : "", ")"));
      }
      std::vector<std::string> tags;
      for (const pqxx::row& row : tx.exec_prepared("image_tags", id)) {
        tags.push_back(absl::StrCat(Str(row[0]), ":", Str(row[1])));
      }
      std::sort(tags.begin(), tags.end());
      if (tags.size() > 1 && !options.force) {
        return absl::FailedPreconditionError(
            absl::StrCat("conflict: unable to delete ", ShortId(id),
                         " (must be forced) - image is referenced in multiple repositories (",
                         absl::StrJoin(tags, ", "), ")"));
      }
      std::vector<std::string> holders = Holders(tx, id);
      if (!holders.empty() && !options.force) return HeldError(id, "", holders);
      tx.exec_prepared("image_untag_all", id);
      result.untagged = std::move(tags);
      for (const pqxx::row& row : tx.exec_prepared("image_repo_digests_delete_all", id)) {
        result.untagged.push_back(Str(row[0]));
      }
      if (!holders.empty()) {
        result.held_by = std::move(holders);
        return absl::OkStatus();
      }
    }

    std::set<std::string> freed_layers;
    DeleteLockedImage(tx, id, result, freed_layers);
    // Prune: untagged parents left without children go too.
    while (!options.no_prune && !parent.empty()) {
      pqxx::result parent_row = tx.exec_prepared("image_lock", parent);
      if (parent_row.empty()) break;
      if (HasTags(tx, parent) || !Children(tx, parent, 1).empty() || !Holders(tx, parent).empty()) {
        break;
      }
      std::string grandparent = Str(parent_row[0][0]);
      DeleteLockedImage(tx, parent, result, freed_layers);
      parent = std::move(grandparent);
    }
    DeleteUnusedLayers(tx, freed_layers);
    return absl::OkStatus();
  }));
  return result;
}

absl::StatusOr<std::vector<HistoryEntry>> PostgresGraphStore::History(absl::string_view text) {
  ASSIGN_OR_RETURN(ImageRef ref, ParseImageRef(text));
  auto read = [](const pqxx::result& rows, std::vector<HistoryEntry>& entries) {
    entries.clear();
    for (const pqxx::row& row : rows) {
      HistoryEntry entry;
      entry.image_id = Str(row[0]);
      entry.created = TimeFrom(row[1]);
      entry.created_by = Str(row[2]);
      entry.author = Str(row[3]);
      entry.comment = Str(row[4]);
      entry.size = row[5].as<int64_t>();
      entry.empty_layer = row[6].as<bool>();
      if (!row[7].is_null()) entry.tags = absl::StrSplit(Str(row[7]), '\n');
      entries.push_back(std::move(entry));
    }
  };
  std::vector<HistoryEntry> entries;
  // Usually one statement resolves and reads the history.
  RETURN_IF_ERROR(Run(Access::kSingleStatement, [&](pqxx::transaction_base& tx) -> absl::Status {
    read(ExecResolve(tx, "history_by_ref", ref), entries);
    return absl::OkStatus();
  }));
  if (!entries.empty()) return entries;
  // No rows: unknown, ambiguous, or an image without history. Resolve again to tell which.
  RETURN_IF_ERROR(Run(Access::kReadOnly, [&](pqxx::transaction_base& tx) -> absl::Status {
    ASSIGN_OR_RETURN(Resolved resolved, Resolve(tx, ref));
    read(tx.exec_prepared("history", resolved.id), entries);
    return absl::OkStatus();
  }));
  return entries;
}

absl::StatusOr<std::vector<Image>> PostgresGraphStore::ListChildren(absl::string_view text) {
  ASSIGN_OR_RETURN(ImageRef ref, ParseImageRef(text));
  std::vector<Image> children;
  RETURN_IF_ERROR(Run(Access::kReadOnly, [&](pqxx::transaction_base& tx) -> absl::Status {
    ASSIGN_OR_RETURN(Resolved resolved, Resolve(tx, ref));
    std::vector<std::string> ids;
    for (const pqxx::row& row : tx.exec_prepared("children_ids", resolved.id)) {
      ids.push_back(Str(row[0]));
    }
    children = LoadImages(tx, ids);
    return absl::OkStatus();
  }));
  return children;
}

absl::StatusOr<BlobPage> PostgresGraphStore::ListReferencedBlobs(int page_size,
                                                                 absl::string_view page_token) {
  if (page_size < 0) {
    return absl::InvalidArgumentError(absl::StrCat("page size ", page_size, " is negative"));
  }
  page_size = page_size == 0 ? kDefaultBlobPageSize : std::min(page_size, kMaxBlobPageSize);
  std::string after;
  if (!page_token.empty()) {
    ASSIGN_OR_RETURN(after, DecodeBlobPageToken(page_token));
  }
  BlobPage page;
  RETURN_IF_ERROR(Run(Access::kReadOnly, [&](pqxx::transaction_base& tx) -> absl::Status {
    page = BlobPage();
    for (const pqxx::row& row : tx.exec_prepared("blobs_page", after, page_size + 1)) {
      page.digests.push_back(Str(row[0]));
    }
    if (page.digests.size() > static_cast<size_t>(page_size)) {
      page.digests.resize(page_size);
      page.next_page_token = EncodeBlobPageToken(page.digests.back());
    }
    return absl::OkStatus();
  }));
  return page;
}

}  // namespace strata::imagegraph
