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
#include "services/imagegraph/core/schema.h"

namespace strata::imagegraph {
namespace {

using nlohmann::json;

// How many candidates an ambiguous prefix names.
constexpr int kMaxCandidates = 8;
// ListImages stops adding images past this many bytes (the response must stay under the
// 16 MiB message limit).
constexpr size_t kMaxListBytes = 8 << 20;
// Images loaded per round trip while listing.
constexpr size_t kLoadChunk = 256;

// The columns of a whole image, as ImageFromRow reads them. The layers and tags come as JSON
// arrays from correlated subqueries, so one statement loads an image: each subquery is an
// index range scan (and an index lookup per layer).
std::string ImageColumns() {
  return "i.id, i.config, (extract(epoch FROM i.created) * 1000000)::int8,"
         " coalesce(i.parent_id, ''), i.size,"
         " (SELECT count(*) FROM images c WHERE c.parent_id = i.id),"
         " (SELECT json_agg(json_build_array(il.chain_id, l.digest, l.diff_id, l.media_type,"
         " l.size, l.uncompressed_size) ORDER BY il.position)"
         " FROM image_layers il JOIN layers l ON l.chain_id = il.chain_id"
         " WHERE il.image_id = i.id),"
         " (SELECT json_agg(t.repository || ':' || t.tag) FROM tags t WHERE t.image_id = i.id)";
}

std::string ResolveSql(const std::string& columns) {
  return absl::StrCat(
      "SELECT 1, ", columns, " FROM images i WHERE i.id ="
      " (SELECT image_id FROM tags WHERE repository = $1 AND tag = $2)"
      " UNION ALL SELECT 2, ", columns, " FROM images i WHERE i.id = $3"
      " UNION ALL (SELECT 3, ", columns, " FROM images i WHERE i.id >= $4 AND i.id < $5"
      " ORDER BY i.id LIMIT ", kMaxCandidates + 1, ")");
}

// The history of the image in the CTE `target (id)` (zero or one row).
std::string HistorySql(const std::string& target_cte) {
  return absl::StrCat(
      "WITH RECURSIVE ", target_cte, ","
      " steps AS (SELECT count(*) AS n FROM history WHERE image_id = (SELECT id FROM target)),"
      " lineage (id, depth) AS ("
      "   SELECT id, 0 FROM target"
      "   UNION ALL"
      "   SELECT i.parent_id, l.depth + 1 FROM lineage l JOIN images i ON i.id = l.id, steps"
      "   WHERE i.parent_id IS NOT NULL AND l.depth + 1 < steps.n)"
      " SELECT coalesce(l.id, ''), (extract(epoch FROM h.created) * 1000000)::int8,"
      " h.created_by, h.author, h.comment, coalesce(ly.uncompressed_size, 0), h.empty_layer,"
      " (SELECT string_agg(t.repository || ':' || t.tag, E'\\n'"
      "    ORDER BY t.repository, t.tag) FROM tags t WHERE t.image_id = l.id)"
      " FROM history h CROSS JOIN steps"
      " LEFT JOIN layers ly ON ly.chain_id = h.chain_id"
      " LEFT JOIN lineage l ON l.depth = steps.n - 1 - h.position"
      " WHERE h.image_id = (SELECT id FROM target) ORDER BY h.position DESC");
}

// Every statement the store runs, prepared on each connection.
const std::vector<std::pair<std::string, std::string>>& Statements() {
  static const auto* statements = new std::vector<std::pair<std::string, std::string>>{
      // Resolution of a reference in one statement: rank 1 is the tag ($1, $2), rank 2 the
      // full id ($3), rank 3 the ids in the prefix range [$4, $5). Unused readings get ''.
      {"resolve_images", ResolveSql(ImageColumns())},
      {"resolve_ids", ResolveSql("i.id")},
      // Loading images by id.
      {"images_load",
       absl::StrCat("SELECT ", ImageColumns(), " FROM images i WHERE i.id = ANY($1::text[])")},
      // Layers.
      {"layer_get",
       "SELECT chain_id, coalesce(parent_chain_id, ''), diff_id, digest, media_type, size,"
       " uncompressed_size, created_by, (extract(epoch FROM created) * 1000000)::int8, author,"
       " comment FROM layers WHERE chain_id = $1"},
      {"layer_key_share", "SELECT chain_id FROM layers WHERE chain_id = $1 FOR KEY SHARE"},
      {"layer_insert",
       "INSERT INTO layers (chain_id, parent_chain_id, diff_id, digest, media_type, size,"
       " uncompressed_size, created_by, created, author, comment)"
       " VALUES ($1, NULLIF($2, ''), $3, $4, $5, $6, $7, $8, NULLIF($9, '')::timestamptz, $10,"
       " $11) ON CONFLICT (chain_id) DO NOTHING RETURNING chain_id"},
      {"layers_insert_many",
       "INSERT INTO layers (chain_id, parent_chain_id, diff_id, digest, media_type, size,"
       " uncompressed_size, created_by, created, author, comment)"
       " SELECT chain_id, parent_chain_id, diff_id, digest, media_type, size, uncompressed_size,"
       " created_by, created, author, comment FROM json_to_recordset($1::json) AS x("
       "chain_id text, parent_chain_id text, diff_id text, digest text, media_type text,"
       " size bigint, uncompressed_size bigint, created_by text, created timestamptz,"
       " author text, comment text)"
       " ON CONFLICT (chain_id) DO NOTHING"},
      // Creating images.
      {"image_key_share", "SELECT id FROM images WHERE id = $1 FOR KEY SHARE"},
      {"image_insert",
       "INSERT INTO images (id, config, created, parent_id, size)"
       " VALUES ($1, $2, NULLIF($3, '')::timestamptz, NULLIF($4, ''), $5)"
       " ON CONFLICT (id) DO NOTHING RETURNING id"},
      {"image_layers_insert",
       "INSERT INTO image_layers (image_id, position, chain_id)"
       " SELECT $1, u.ord - 1, u.chain_id FROM unnest($2::text[]) WITH ORDINALITY AS u(chain_id,"
       " ord)"},
      {"history_insert",
       "INSERT INTO history (image_id, position, created, created_by, author, comment,"
       " empty_layer, chain_id)"
       " SELECT $1, position, created, created_by, author, comment, empty_layer, chain_id"
       " FROM json_to_recordset($2::json) AS x(position integer, created timestamptz,"
       " created_by text, author text, comment text, empty_layer boolean, chain_id text)"},
      // Tags. A move is this one statement: the row lock of ON CONFLICT serializes movers,
      // and previous_image_id = tags.image_id reads the row as the winner left it.
      {"tag_upsert",
       "INSERT INTO tags (repository, tag, image_id) VALUES ($1, $2, $3)"
       " ON CONFLICT (repository, tag) DO UPDATE SET image_id = EXCLUDED.image_id,"
       " previous_image_id = tags.image_id, updated = now()"
       " RETURNING coalesce(previous_image_id, '')"},
      {"tags_upsert",
       "INSERT INTO tags (repository, tag, image_id)"
       " SELECT u.repository, u.tag, $3 FROM unnest($1::text[], $2::text[]) AS u(repository, tag)"
       " ON CONFLICT (repository, tag) DO UPDATE SET image_id = EXCLUDED.image_id,"
       " previous_image_id = tags.image_id, updated = now()"},
      {"tag_delete", "DELETE FROM tags WHERE repository = $1 AND tag = $2 RETURNING image_id"},
      {"tag_delete_of_image",
       "DELETE FROM tags WHERE repository = $1 AND tag = $2 AND image_id = $3"
       " RETURNING image_id"},
      // Deleting images.
      {"image_lock", "SELECT coalesce(parent_id, '') FROM images WHERE id = $1 FOR UPDATE"},
      {"image_has_tags", "SELECT EXISTS (SELECT 1 FROM tags WHERE image_id = $1)"},
      {"image_children", "SELECT id FROM images WHERE parent_id = $1 ORDER BY id LIMIT $2"},
      {"image_tags", "SELECT repository, tag FROM tags WHERE image_id = $1"},
      {"image_untag_all", "DELETE FROM tags WHERE image_id = $1 RETURNING repository, tag"},
      {"image_chain_ids", "SELECT chain_id FROM image_layers WHERE image_id = $1"},
      {"image_delete", "DELETE FROM images WHERE id = $1"},
      {"layers_gc_candidates",
       "SELECT l.chain_id, coalesce(l.parent_chain_id, ''),"
       " EXISTS (SELECT 1 FROM image_layers il WHERE il.chain_id = l.chain_id)"
       " FROM layers l WHERE l.chain_id = ANY($1::text[])"},
      {"layers_with_other_children",
       "SELECT DISTINCT parent_chain_id FROM layers"
       " WHERE parent_chain_id = ANY($1::text[]) AND NOT (chain_id = ANY($1::text[]))"},
      {"layers_delete", "DELETE FROM layers WHERE chain_id = ANY($1::text[])"},
      // History: the steps newest first; the image of each step found by walking the parent
      // chain (newest step = the image, the next = its parent, ...). By id ($1), or by
      // reference with the resolution in the same statement (no rows unless it resolves).
      {"history", HistorySql("target (id) AS (SELECT $1::text COLLATE \"C\")")},
      {"history_by_ref",
       HistorySql(absl::StrCat(
           "candidates (rank, id) AS (", ResolveSql("i.id"), "),"
           " best AS (SELECT min(rank) AS rank FROM candidates),"
           " target (id) AS (SELECT c.id FROM candidates c JOIN best ON c.rank = best.rank"
           "   WHERE (SELECT count(*) FROM candidates c2 WHERE c2.rank = best.rank) = 1)"))},
      {"children_ids",
       "SELECT id FROM images WHERE parent_id = $1"
       " ORDER BY coalesce(created, '-infinity'::timestamptz) DESC, id"},
      // Blobs still referenced: layer blobs and image configs, sorted, after a key.
      {"blobs_page",
       "SELECT DISTINCT d FROM ("
       " (SELECT DISTINCT digest AS d FROM layers WHERE digest > $1 ORDER BY digest LIMIT $2)"
       " UNION ALL"
       " (SELECT id FROM images WHERE id > $1 ORDER BY id LIMIT $2)) s"
       " ORDER BY d LIMIT $2"},
  };
  return *statements;
}

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

// Runs a statement taking the resolution parameters ($1..$5 of ResolveSql) for ref:
// "resolve_images", "resolve_ids" or "history_by_ref".
pqxx::result ExecResolve(pqxx::transaction_base& tx, const char* statement,
                         const ImageRef& ref) {
  std::string low;
  std::string high;
  if (!ref.prefix.empty()) {
    // With the "C" collation every id starting with the prefix sorts in [prefix, prefix+"g").
    low = absl::StrCat("sha256:", ref.prefix);
    high = absl::StrCat(low, "g");
  }
  return tx.exec_prepared(statement, ref.tag ? ref.tag->name : "", ref.tag ? ref.tag->tag : "",
                          ref.full_id, low, high);
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
    return absl::FailedPreconditionError(absl::StrCat(
        "image ", Quote(ref.text), ": ambiguous id prefix, it matches ",
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

// What a reference resolved to.
struct Resolved {
  std::string id;
  // Set when the reference named an existing tag (and resolved through it).
  std::optional<Reference> tag;
};

// Resolves a reference to an image id. Errors: as PickResolved.
absl::StatusOr<Resolved> Resolve(pqxx::transaction_base& tx, const ImageRef& ref) {
  pqxx::result rows = ExecResolve(tx, "resolve_ids", ref);
  ASSIGN_OR_RETURN(size_t picked, PickResolved(ref, rows));
  Resolved resolved;
  resolved.id = Str(rows[picked][1]);
  if (rows[picked][0].as<int>() == 1) resolved.tag = ref.tag;
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

// Deletes an image locked FOR UPDATE (its history and layer list go with it), and remembers
// its layers for the layer clean-up.
void DeleteLockedImage(pqxx::transaction_base& tx, const std::string& id,
                       DeleteImageResult& result, std::set<std::string>& freed_layers) {
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
      return absl::FailedPreconditionError(
          absl::StrCat("layer ", layer.chain_id, ": parent layer ", layer.parent_chain_id,
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
    return absl::InvalidArgumentError(
        absl::StrCat("layer chain id: ", parsed.status().message()));
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
                      {"parent_chain_id", layer.parent_chain_id.empty()
                                              ? json(nullptr)
                                              : json(layer.parent_chain_id)},
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
    history.push_back({{"position", i},
                       {"created", TimeJson(step.created)},
                       {"created_by", step.created_by},
                       {"author", step.author},
                       {"comment", step.comment},
                       {"empty_layer", step.empty_layer},
                       {"chain_id", step.layer_index < 0
                                        ? json(nullptr)
                                        : json(image.layers[step.layer_index].chain_id)}});
  }
  std::vector<std::string> tag_names;
  std::vector<std::string> tag_tags;
  for (const Reference& tag : image.tags) {
    tag_names.push_back(tag.name);
    tag_tags.push_back(tag.tag);
  }
  const std::string layers_text = JsonText(layers);
  const std::string history_text = JsonText(history);
  CreateImageResult result;
  RETURN_IF_ERROR(Run(Access::kReadWrite, [&](pqxx::transaction_base& tx) -> absl::Status {
    const pqxx::binarystring config(image.config);
    if (!chain_ids.empty()) tx.exec_prepared("layers_insert_many", layers_text);
    // Lock the parent against deletion until we commit.
    if (!image.parent_id.empty() &&
        tx.exec_prepared("image_key_share", image.parent_id).empty()) {
      return absl::NotFoundError(
          absl::StrCat("parent image ", image.parent_id, ": no such image"));
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
  RETURN_IF_ERROR(
      Run(Access::kSingleStatement, [&](pqxx::transaction_base& tx) -> absl::Status {
        pqxx::result rows = ExecResolve(tx, "resolve_images", ref);
        ASSIGN_OR_RETURN(size_t picked, PickResolved(ref, rows));
        image = ImageFromRow(rows[picked], 1);
        return absl::OkStatus();
      }));
  return image;
}

absl::StatusOr<ImagePage> PostgresGraphStore::ListImages(const ListImagesOptions& options) {
  if (!options.repository.empty()) RETURN_IF_ERROR(ValidateRepositoryName(options.repository));
  if (options.page_size < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("page size ", options.page_size, " is negative"));
  }
  const int page_size = options.page_size == 0
                            ? kDefaultImagePageSize
                            : std::min(options.page_size, kMaxImagePageSize);
  std::optional<ImagePageKey> after;
  if (!options.page_token.empty()) {
    ASSIGN_OR_RETURN(after, DecodeImagePageToken(options.page_token));
  }

  // The filters are fixed fragments; every value is a parameter.
  const std::string has_tag = "EXISTS (SELECT 1 FROM tags t WHERE t.image_id = i.id)";
  const std::string has_child = "EXISTS (SELECT 1 FROM images c WHERE c.parent_id = i.id)";
  const std::string order_key = "coalesce(i.created, '-infinity'::timestamptz)";
  std::vector<std::string> conditions;
  std::vector<std::string> params;
  auto param = [&params](std::string value) {
    params.push_back(std::move(value));
    return absl::StrCat("$", params.size());
  };
  if (!options.repository.empty()) {
    conditions.push_back(
        absl::StrCat("EXISTS (SELECT 1 FROM tags t WHERE t.image_id = i.id AND t.repository = ",
                     param(options.repository), ")"));
  }
  if (options.dangling.has_value()) {
    conditions.push_back(*options.dangling
                             ? absl::StrCat("NOT ", has_tag, " AND NOT ", has_child)
                             : has_tag);
  } else if (!options.all) {
    conditions.push_back(absl::StrCat("(", has_tag, " OR NOT ", has_child, ")"));
  }
  if (after) {
    const std::string created =
        after->created_micros ? TimeText(FromMicros(*after->created_micros)) : "-infinity";
    const std::string c = param(created);
    const std::string id = param(after->id);
    conditions.push_back(absl::StrCat(order_key, " <= ", c, "::timestamptz AND (", order_key,
                                      " < ", c, "::timestamptz OR i.id > ", id, ")"));
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
    return absl::InvalidArgumentError(
        absl::StrCat("invalid reference ", Quote(text), ": untag needs \"repo[:tag]\", not a "
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

    if (resolved.tag) {
      // By tag: remove that tag; the image goes too when that was its last tag and no child
      // image depends on it.
      const std::string reference = absl::StrCat(resolved.tag->name, ":", resolved.tag->tag);
      if (tx.exec_prepared("tag_delete_of_image", resolved.tag->name, resolved.tag->tag, id)
              .empty()) {
        return absl::AbortedError(absl::StrCat("tag ", reference, " moved meanwhile"));
      }
      result.untagged.push_back(reference);
      if (HasTags(tx, id) || !Children(tx, id, 1).empty()) return absl::OkStatus();
    } else {
      // By id: never with child images; with several tags only when forced.
      std::vector<std::string> children = Children(tx, id, 4);
      if (!children.empty()) {
        return absl::FailedPreconditionError(
            absl::StrCat(what, ": image has dependent child images (",
                         absl::StrJoin(children, ", "), children.size() > 3 ? ", ..." : "",
                         "); delete them first"));
      }
      std::vector<std::string> tags;
      for (const pqxx::row& row : tx.exec_prepared("image_tags", id)) {
        tags.push_back(absl::StrCat(Str(row[0]), ":", Str(row[1])));
      }
      std::sort(tags.begin(), tags.end());
      if (tags.size() > 1 && !options.force) {
        return absl::FailedPreconditionError(
            absl::StrCat(what, ": image is referenced by ", tags.size(), " tags (",
                         absl::StrJoin(tags, ", "), "); remove them by name, or force"));
      }
      tx.exec_prepared("image_untag_all", id);
      result.untagged = std::move(tags);
    }

    std::set<std::string> freed_layers;
    DeleteLockedImage(tx, id, result, freed_layers);
    // Prune: untagged parents left without children go too.
    while (!options.no_prune && !parent.empty()) {
      pqxx::result parent_row = tx.exec_prepared("image_lock", parent);
      if (parent_row.empty()) break;
      if (HasTags(tx, parent) || !Children(tx, parent, 1).empty()) break;
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
  RETURN_IF_ERROR(
      Run(Access::kSingleStatement, [&](pqxx::transaction_base& tx) -> absl::Status {
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
