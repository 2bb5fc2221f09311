#include "services/imagegraph/core/postgres_sql.h"

#include "absl/strings/str_cat.h"

namespace strata::imagegraph::pg {
namespace {

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
         " (SELECT json_agg(t.repository || ':' || t.tag) FROM tags t WHERE t.image_id = i.id),"
         " (SELECT json_agg(r.repository || '@' || r.digest) FROM repo_digests r"
         " WHERE r.image_id = i.id),"
         " (SELECT (extract(epoch FROM max(t.updated)) * 1000000)::int8 FROM tags t"
         " WHERE t.image_id = i.id)";
}

std::string ResolveSql(const std::string& columns) {
  return absl::StrCat("SELECT 1, ", columns,
                      " FROM images i WHERE i.id ="
                      " (SELECT image_id FROM tags WHERE repository = $1 AND tag = $2)"
                      " UNION ALL SELECT 1, ",
                      columns,
                      " FROM images i WHERE i.id ="
                      " (SELECT image_id FROM repo_digests WHERE repository = $1 AND digest = $6)"
                      " UNION ALL SELECT 2, ",
                      columns,
                      " FROM images i WHERE i.id = $3"
                      " UNION ALL (SELECT 3, ",
                      columns,
                      " FROM images i WHERE i.id >= $4 AND i.id < $5"
                      " ORDER BY i.id LIMIT ",
                      kMaxCandidates + 1, ")");
}

// The history of the image in the CTE `target (id)` (zero or one row).
std::string HistorySql(const std::string& target_cte) {
  return absl::StrCat(
      "WITH RECURSIVE ", target_cte,
      ","
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

}  // namespace

const std::vector<std::pair<std::string, std::string>>& Statements() {
  static const auto* statements = new std::vector<std::pair<std::string, std::string>>{
      // Resolution of a reference in one statement: rank 1 is the tag ($1, $2) or the
      // repository digest ($1, $6), rank 2 the
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
      {"image_has_tags",
       "SELECT EXISTS (SELECT 1 FROM tags WHERE image_id = $1)"
       " OR EXISTS (SELECT 1 FROM repo_digests WHERE image_id = $1)"},
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
      // Repository digests (postgres_repo_digests.cc, and DeleteImage).
      {"repo_digests_upsert",
       "INSERT INTO repo_digests (repository, digest, image_id)"
       " SELECT u.repository, u.digest, $3 FROM unnest($1::text[], $2::text[])"
       " AS u(repository, digest)"
       " ON CONFLICT (repository, digest) DO UPDATE SET image_id = EXCLUDED.image_id,"
       " updated = now()"},
      {"repo_digest_delete_of_image",
       "DELETE FROM repo_digests WHERE repository = $1 AND digest = $2 AND image_id = $3"
       " RETURNING digest"},
      // After a tag went: the digests of its repository go when no tag of it is left.
      {"repo_digests_delete_untagged_repository",
       "DELETE FROM repo_digests r WHERE r.image_id = $1 AND r.repository = $2"
       " AND NOT EXISTS (SELECT 1 FROM tags t WHERE t.image_id = $1 AND t.repository = $2)"
       " RETURNING r.repository || '@' || r.digest"},
      {"image_repo_digests_delete_all",
       "DELETE FROM repo_digests WHERE image_id = $1 RETURNING repository || '@' || digest"},
      // Blob variants.
      {"blob_variant_upsert",
       "INSERT INTO blob_variants (digest, repository, diff_id, media_type, size)"
       " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (digest, repository) DO UPDATE SET"
       " diff_id = EXCLUDED.diff_id, media_type = EXCLUDED.media_type, size = EXCLUDED.size,"
       " updated = now()"},
      {"blob_variants_list",
       "SELECT diff_id, digest, media_type, size, repository FROM blob_variants"
       " WHERE ($1 = '' OR diff_id = $1) AND ($2 = '' OR digest = $2)"
       " ORDER BY updated DESC, digest, repository LIMIT 100"},
      // History: the steps newest first; the image of each step found by walking the parent
      // chain (newest step = the image, the next = its parent, ...). By id ($1), or by
      // reference with the resolution in the same statement (no rows unless it resolves).
      {"history", HistorySql("target (id) AS (SELECT $1::text COLLATE \"C\")")},
      {"history_by_ref",
       HistorySql(absl::StrCat(
           "candidates (rank, id) AS (", ResolveSql("i.id"),
           "),"
           " best AS (SELECT min(rank) AS rank FROM candidates),"
           " target (id) AS (SELECT c.id FROM candidates c JOIN best ON c.rank = best.rank"
           "   WHERE (SELECT count(*) FROM candidates c2 WHERE c2.rank = best.rank) = 1)"))},
      {"children_ids",
       "SELECT id FROM images WHERE parent_id = $1"
       " ORDER BY coalesce(created, '-infinity'::timestamptz) DESC, id"},
      // Holds (postgres_holds.cc).
      {"hold_insert",
       "INSERT INTO image_holds (holder, image_id, node) VALUES ($1, $2, $3)"
       " ON CONFLICT (holder) DO NOTHING"},
      {"hold_get",
       "SELECT holder, image_id, node, (extract(epoch FROM created) * 1000000)::int8"
       " FROM image_holds WHERE holder = $1"},
      {"hold_delete", "DELETE FROM image_holds WHERE holder = $1 RETURNING image_id"},
      {"holds_of_image",
       "SELECT holder, image_id, node, (extract(epoch FROM created) * 1000000)::int8"
       " FROM image_holds WHERE image_id = $1 ORDER BY holder"},
      {"holds_all",
       "SELECT holder, image_id, node, (extract(epoch FROM created) * 1000000)::int8"
       " FROM image_holds ORDER BY holder"},
      // Blobs still referenced: layer blobs, image configs and the kept variants of layers
      // still registered, sorted, after a key.
      {"blobs_page",
       "SELECT DISTINCT d FROM ("
       " (SELECT DISTINCT digest AS d FROM layers WHERE digest > $1 ORDER BY digest LIMIT $2)"
       " UNION ALL"
       " (SELECT id FROM images WHERE id > $1 ORDER BY id LIMIT $2)"
       " UNION ALL"
       " (SELECT v.digest FROM blob_variants v WHERE v.repository = '' AND v.digest > $1"
       "  AND EXISTS (SELECT 1 FROM layers l WHERE l.diff_id = v.diff_id)"
       "  ORDER BY v.digest LIMIT $2)) s"
       " ORDER BY d LIMIT $2"},
  };
  return *statements;
}

}  // namespace strata::imagegraph::pg
