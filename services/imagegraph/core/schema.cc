#include "services/imagegraph/core/schema.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "lib/base/log.h"

namespace strata::imagegraph {
namespace {

struct Migration {
  int version;
  const char* description;
  const char* sql;
};

// Append only: a released migration never changes. Identifiers and digests are text in the
// "C" collation, so that ordering is bytewise and an id prefix is an index range.
constexpr Migration kMigrations[] = {
    {1, "layers, images, image_layers, tags, history", R"sql(
CREATE TABLE layers (
  chain_id          text COLLATE "C" PRIMARY KEY,
  parent_chain_id   text COLLATE "C" REFERENCES layers (chain_id),
  diff_id           text COLLATE "C" NOT NULL,
  digest            text COLLATE "C" NOT NULL,
  media_type        text NOT NULL,
  size              bigint NOT NULL,
  uncompressed_size bigint NOT NULL,
  created_by        text NOT NULL DEFAULT '',
  created           timestamptz,
  author            text NOT NULL DEFAULT '',
  comment           text NOT NULL DEFAULT '',
  CONSTRAINT layers_chain_id_format CHECK (chain_id ~ '^sha256:[0-9a-f]{64}$'),
  CONSTRAINT layers_diff_id_format CHECK (diff_id ~ '^sha256:[0-9a-f]{64}$'),
  CONSTRAINT layers_digest_format CHECK (digest ~ '^sha256:[0-9a-f]{64}$'),
  CONSTRAINT layers_base_is_diff_id CHECK (parent_chain_id IS NOT NULL OR chain_id = diff_id),
  CONSTRAINT layers_chain_id_derived CHECK (parent_chain_id IS NULL OR chain_id =
      'sha256:' || encode(sha256(convert_to(parent_chain_id || ' ' || diff_id, 'UTF8')), 'hex')),
  CONSTRAINT layers_media_type CHECK (media_type <> ''),
  CONSTRAINT layers_sizes CHECK (size >= 0 AND uncompressed_size >= 0)
);
CREATE INDEX layers_parent_chain_id ON layers (parent_chain_id);
CREATE INDEX layers_digest ON layers (digest);

CREATE TABLE images (
  id         text COLLATE "C" PRIMARY KEY,
  config     bytea NOT NULL,
  created    timestamptz,
  parent_id  text COLLATE "C" REFERENCES images (id),
  size       bigint NOT NULL,
  registered timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT images_id_is_config_digest CHECK (id = 'sha256:' || encode(sha256(config), 'hex')),
  CONSTRAINT images_not_own_parent CHECK (parent_id <> id),
  CONSTRAINT images_size CHECK (size >= 0)
);
CREATE INDEX images_parent_id ON images (parent_id);
-- ListImages: newest first, then id; images without "created" last.
CREATE INDEX images_listing ON images ((coalesce(created, '-infinity'::timestamptz)) DESC, id);

CREATE TABLE image_layers (
  image_id text COLLATE "C" NOT NULL REFERENCES images (id) ON DELETE CASCADE,
  position integer NOT NULL CHECK (position >= 0),
  chain_id text COLLATE "C" NOT NULL REFERENCES layers (chain_id),
  PRIMARY KEY (image_id, position)
);
CREATE INDEX image_layers_chain_id ON image_layers (chain_id);

CREATE TABLE tags (
  repository        text COLLATE "C" NOT NULL,
  tag               text COLLATE "C" NOT NULL,
  image_id          text COLLATE "C" NOT NULL REFERENCES images (id),
  -- The image the tag pointed at before its last move (set by the upsert that moved it).
  previous_image_id text COLLATE "C",
  updated           timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (repository, tag),
  CONSTRAINT tags_repository CHECK (repository ~ '^[A-Za-z0-9]' AND length(repository) <= 255),
  CONSTRAINT tags_tag CHECK (tag ~ '^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$')
);
CREATE INDEX tags_image_id ON tags (image_id);

-- The config's history, oldest step first (position 0), with the layer of each step.
CREATE TABLE history (
  image_id    text COLLATE "C" NOT NULL REFERENCES images (id) ON DELETE CASCADE,
  position    integer NOT NULL CHECK (position >= 0),
  created     timestamptz,
  created_by  text NOT NULL DEFAULT '',
  author      text NOT NULL DEFAULT '',
  comment     text NOT NULL DEFAULT '',
  empty_layer boolean NOT NULL,
  chain_id    text COLLATE "C" REFERENCES layers (chain_id),
  PRIMARY KEY (image_id, position),
  CONSTRAINT history_layer CHECK (empty_layer = (chain_id IS NULL))
);
)sql"},
    {2, "image_holds: what uses an image (containers), so that it is never deleted under them",
     R"sql(
CREATE TABLE image_holds (
  holder   text COLLATE "C" PRIMARY KEY,
  -- No ON DELETE CASCADE: a held image cannot be deleted, whatever the code above says.
  image_id text COLLATE "C" NOT NULL REFERENCES images (id),
  node     text NOT NULL DEFAULT '',
  created  timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT image_holds_holder CHECK (holder <> '' AND length(holder) <= 256),
  CONSTRAINT image_holds_node CHECK (length(node) <= 256)
);
CREATE INDEX image_holds_image_id ON image_holds (image_id);
)sql"},
    {3, "tags: repositories in docker's familiar form (docker.io/library/busybox -> busybox)",
     R"sql(
-- Docker's normalisation (lib/reference), in SQL for the rows written before it: the
-- registry index.docker.io is docker.io, docker.io is left out, and so is library/ before a
-- single component. Only a first component with "." or ":" or "localhost" is a registry.
CREATE OR REPLACE FUNCTION pg_temp.familiar(name text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN r LIKE 'library/%' AND strpos(substr(r, 9), '/') = 0 THEN substr(r, 9)
              ELSE r END
  FROM (SELECT regexp_replace(name, '^(index\.)?docker\.io/', '') AS r) AS s
$$;
-- Two spellings of one name (busybox:1 and docker.io/library/busybox:1) are one tag now:
-- the one moved last wins, as if it had been written over the other.
DELETE FROM tags t WHERE EXISTS (
  SELECT 1 FROM tags u
  WHERE u.tag = t.tag AND pg_temp.familiar(u.repository) = pg_temp.familiar(t.repository)
    AND (u.updated, u.repository) > (t.updated, t.repository));
UPDATE tags SET repository = pg_temp.familiar(repository)
  WHERE repository <> pg_temp.familiar(repository);
DROP FUNCTION pg_temp.familiar(text);
)sql"},
    {4, "repo_digests (docker's RepoDigests) and blob_variants (a layer's blobs by compression)",
     R"sql(
-- IF NOT EXISTS: tests re-run migrations from 3 on a database that has these.
-- "repository@digest" names of images: the manifest digest a registry repository holds the
-- image under (recorded by pull and push). Repositories are familiar, as in tags.
CREATE TABLE IF NOT EXISTS repo_digests (
  repository text COLLATE "C" NOT NULL,
  digest     text COLLATE "C" NOT NULL,
  image_id   text COLLATE "C" NOT NULL REFERENCES images (id) ON DELETE CASCADE,
  updated    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (repository, digest),
  CONSTRAINT repo_digests_repository CHECK (repository ~ '^[A-Za-z0-9]' AND length(repository) <= 255),
  CONSTRAINT repo_digests_digest CHECK (digest ~ '^sha256:[0-9a-f]{64}$')
);
CREATE INDEX IF NOT EXISTS repo_digests_image_id ON repo_digests (image_id);

-- Blobs holding a layer's content (diff id) in some compression: kept in layerstore
-- (repository '': a push's gzip conversion of a zstd layer, reused by the next push or save),
-- or held by a registry repository (full name; a source of cross-repository mounts).
CREATE TABLE IF NOT EXISTS blob_variants (
  digest     text COLLATE "C" NOT NULL,
  repository text COLLATE "C" NOT NULL DEFAULT '',
  diff_id    text COLLATE "C" NOT NULL,
  media_type text NOT NULL,
  size       bigint NOT NULL,
  updated    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (digest, repository),
  CONSTRAINT blob_variants_digest CHECK (digest ~ '^sha256:[0-9a-f]{64}$'),
  CONSTRAINT blob_variants_diff_id CHECK (diff_id ~ '^sha256:[0-9a-f]{64}$'),
  CONSTRAINT blob_variants_media_type CHECK (media_type <> ''),
  CONSTRAINT blob_variants_size CHECK (size >= 0),
  CONSTRAINT blob_variants_repository CHECK (length(repository) <= 255)
);
CREATE INDEX IF NOT EXISTS blob_variants_diff_id ON blob_variants (diff_id);
-- The variants kept are referenced while a layer with their diff id is.
CREATE INDEX IF NOT EXISTS layers_diff_id ON layers (diff_id);
)sql"},
};

// Any constant: the key of the advisory lock migrations take.
constexpr int64_t kMigrationLockKey = 0x5374726174614947;  // "StrataIG"

absl::StatusOr<int> ReadVersion(pqxx::transaction_base& tx) {
  pqxx::result exists = tx.exec("SELECT to_regclass('schema_version') IS NOT NULL");
  if (!exists[0][0].as<bool>()) return 0;
  pqxx::result version = tx.exec("SELECT coalesce(max(version), 0) FROM schema_version");
  return version[0][0].as<int>();
}

}  // namespace

int LatestSchemaVersion() { return kMigrations[std::size(kMigrations) - 1].version; }

absl::StatusOr<int> CurrentSchemaVersion(Database& database) {
  int version = 0;
  absl::Status status =
      database.RunInTransaction(Access::kReadOnly, [&](pqxx::transaction_base& tx) -> absl::Status {
        absl::StatusOr<int> read = ReadVersion(tx);
        if (!read.ok()) return read.status();
        version = *read;
        return absl::OkStatus();
      });
  if (!status.ok()) return status;
  return version;
}

absl::Status MigrateSchema(Database& database) {
  int from = 0;
  int to = 0;
  absl::Status status = database.RunInTransaction(
      Access::kReadWrite, [&](pqxx::transaction_base& tx) -> absl::Status {
        tx.exec_params("SELECT pg_advisory_xact_lock($1)", kMigrationLockKey);
        tx.exec(
            "CREATE TABLE IF NOT EXISTS schema_version ("
            " version integer PRIMARY KEY CHECK (version > 0),"
            " description text NOT NULL,"
            " applied timestamptz NOT NULL DEFAULT now())");
        absl::StatusOr<int> current = ReadVersion(tx);
        if (!current.ok()) return current.status();
        from = to = *current;
        if (*current > LatestSchemaVersion()) {
          return absl::FailedPreconditionError(absl::StrCat(
              "the database holds image graph schema version ", *current,
              ", newer than the newest this strata-imagegraph knows (", LatestSchemaVersion(),
              "): refusing to use it; run a newer strata-imagegraph"));
        }
        for (const Migration& migration : kMigrations) {
          if (migration.version <= *current) continue;
          tx.exec(migration.sql);
          tx.exec_params("INSERT INTO schema_version (version, description) VALUES ($1, $2)",
                         migration.version, migration.description);
          to = migration.version;
        }
        return absl::OkStatus();
      });
  if (!status.ok()) return status;
  if (to != from) {
    STRATA_LOG(INFO) << "image graph schema migrated from version " << from << " to " << to;
  }
  return absl::OkStatus();
}

}  // namespace strata::imagegraph
