// strata-layerstore: serves strata.layerstore.v1 over a blob directory (--backend fs) or an
// S3-compatible bucket (--backend s3, which replicas on many hosts can share).

#include <memory>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/time/time.h"
#include "lib/base/log.h"
#include "lib/base/malloc_tuning.h"
#include "lib/rpc/addresses.h"
#include "lib/rpc/server.h"
#include "lib/rpc/server_flags.h"
#include "lib/s3/s3_client.h"
#include "lib/rpc/client.h"
#include "services/layerstore/core/fs_blob_store.h"
#include "services/layerstore/core/fs_lease_store.h"
#include "services/layerstore/core/periodic_gc.h"
#include "services/layerstore/imagegraph_references.h"
#include "services/layerstore/core/s3_blob_store.h"
#include "services/layerstore/core/upload_janitor.h"
#include "services/layerstore/layerstore_service.h"

int main(int argc, char** argv) {
  strata::TuneMallocForStreaming();
  strata::rpc::BlockTerminationSignals();
  CLI::App app{"strata-layerstore: content-addressed layer blobs (strata.layerstore.v1)"};
  // A quota keeps gRPC's receive windows from growing: the service's memory stays bounded
  // however many uploads stream at once (a 1 GiB upload peaks ~25 MiB above idle with it).
  strata::rpc::ServerOptions server_options{.listen = strata::rpc::kDefaultLayerstoreAddress,
                                            .grpc_memory_limit = 32 << 20};
  strata::rpc::AddServerFlags(app, server_options);
  std::string root = "/var/lib/strata/layerstore";
  app.add_option("--root", root, "Directory of blobs/ and ingest/")->capture_default_str();
  std::string ingest_max_age = "24h";
  app.add_option("--ingest-max-age", ingest_max_age,
                 "Discard uploads that received nothing for this long (e.g. 30m, 24h)")
      ->capture_default_str();
  std::string backend = "fs";
  app.add_option("--backend", backend, "Where blobs live: fs (--root) or s3 (--s3-*)")
      ->check(CLI::IsMember({"fs", "s3"}))
      ->capture_default_str();
  strata::s3::S3Config s3;
  strata::layerstore::S3BlobStore::Options s3_options;
  std::string s3_credentials_file;
  std::string s3_lease_ttl = "30s";
  app.add_option("--s3-endpoint", s3.endpoint, "S3 endpoint URL, e.g. https://s3.example:443");
  app.add_option("--s3-region", s3.region, "S3 region (signing)")->capture_default_str();
  app.add_option("--s3-bucket", s3.bucket, "S3 bucket");
  app.add_option("--s3-prefix", s3_options.prefix, "Prefix of every key (e.g. layerstore/)");
  app.add_flag("--s3-virtual-host", s3.virtual_host,
               "Virtual-host addressing (bucket.host) instead of path style (host/bucket)");
  app.add_option("--s3-credentials-file", s3_credentials_file,
                 "AWS-style credentials file (default: AWS_ACCESS_KEY_ID and "
                 "AWS_SECRET_ACCESS_KEY from the environment)");
  app.add_option("--s3-ca-file", s3.ca_file, "CA bundle to trust for the S3 endpoint's TLS");
  app.add_option("--s3-part-size", s3_options.part_size,
                 "Bytes per multipart part (S3 needs at least 5 MiB)")
      ->capture_default_str();
  app.add_option("--s3-lease-ttl", s3_lease_ttl,
                 "How long the upload of a replica that died stays locked")
      ->capture_default_str();
  strata::rpc::ClientOptions gc_imagegraph;
  app.add_option("--gc-imagegraph", gc_imagegraph.address,
                 "imagegraph to ask which blobs images need, for CollectGarbage and --gc-interval "
                 "(without it, garbage collection is refused)");
  app.add_option("--gc-imagegraph-tls-ca", gc_imagegraph.tls_ca_file,
                 "PEM CA to verify --gc-imagegraph");
  app.add_option("--gc-imagegraph-tls-cert", gc_imagegraph.tls_cert_file,
                 "PEM client certificate for --gc-imagegraph");
  app.add_option("--gc-imagegraph-tls-key", gc_imagegraph.tls_key_file,
                 "PEM key of --gc-imagegraph-tls-cert");
  app.add_option("--gc-imagegraph-token-file", gc_imagegraph.token_file,
                 "Bearer token for --gc-imagegraph");
  std::string gc_interval = "0";
  app.add_option("--gc-interval", gc_interval,
                 "Collect garbage every this long (e.g. 1h; 0: only when asked)")
      ->capture_default_str();
  std::string gc_min_age = "1m";
  app.add_option("--gc-min-age", gc_min_age,
                 "Garbage collection keeps blobs committed less than this long ago")
      ->capture_default_str();
  std::string gc_upload_grace = "1h";
  app.add_option("--gc-upload-grace", gc_upload_grace,
                 "Garbage collection discards uploads idle for this long")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  absl::Duration max_age;
  if (!absl::ParseDuration(ingest_max_age, &max_age) || max_age <= absl::ZeroDuration()) {
    STRATA_LOG(ERROR) << "--ingest-max-age \"" << ingest_max_age
                      << "\": not a positive duration (e.g. 90s, 30m, 24h)";
    return 1;
  }
  std::unique_ptr<strata::layerstore::BlobStore> store;
  if (backend == "fs") {
    auto fs = strata::layerstore::FsBlobStore::Open(root);
    if (!fs.ok()) {
      STRATA_LOG(ERROR) << "--root: " << fs.status().message();
      return 1;
    }
    store = std::move(*fs);
  } else {
    if (!absl::ParseDuration(s3_lease_ttl, &s3_options.lease_ttl) ||
        s3_options.lease_ttl <= absl::ZeroDuration()) {
      STRATA_LOG(ERROR) << "--s3-lease-ttl \"" << s3_lease_ttl << "\": not a positive duration";
      return 1;
    }
    auto credentials = strata::s3::LoadCredentials(s3_credentials_file);
    if (!credentials.ok()) {
      STRATA_LOG(ERROR) << credentials.status().message();
      return 1;
    }
    s3.credentials = std::move(*credentials);
    auto client = strata::s3::S3Client::Create(s3);
    if (!client.ok()) {
      STRATA_LOG(ERROR) << client.status().message();
      return 1;
    }
    // Opening checks the bucket and the credentials: a mistake shows now, not at a write.
    auto s3_store = strata::layerstore::S3BlobStore::Open(std::move(*client), s3_options);
    if (!s3_store.ok()) {
      STRATA_LOG(ERROR) << s3_store.status().message();
      return 1;
    }
    store = std::move(*s3_store);
  }
  // Leases live beside the blobs (fs); the s3 backend keeps none yet (see the .proto).
  std::unique_ptr<strata::layerstore::LeaseStore> leases;
  if (backend == "fs") {
    auto fs_leases = strata::layerstore::FsLeaseStore::Open(root);
    if (!fs_leases.ok()) {
      STRATA_LOG(ERROR) << "--root: " << fs_leases.status().message();
      return 1;
    }
    leases = std::move(*fs_leases);
  }
  absl::Duration gc_every, upload_grace;
  if (!absl::ParseDuration(gc_interval, &gc_every) || gc_every < absl::ZeroDuration()) {
    STRATA_LOG(ERROR) << "--gc-interval \"" << gc_interval << "\": not a duration (e.g. 1h, 0)";
    return 1;
  }
  if (!absl::ParseDuration(gc_upload_grace, &upload_grace) ||
      upload_grace <= absl::ZeroDuration()) {
    STRATA_LOG(ERROR) << "--gc-upload-grace \"" << gc_upload_grace
                      << "\": not a positive duration";
    return 1;
  }
  absl::Duration min_age;
  if (!absl::ParseDuration(gc_min_age, &min_age) || min_age < absl::ZeroDuration()) {
    STRATA_LOG(ERROR) << "--gc-min-age \"" << gc_min_age << "\": not a duration";
    return 1;
  }
  const strata::layerstore::GcOptions gc_options{.upload_grace = upload_grace,
                                                 .min_age = min_age};
  strata::layerstore::ReferencedBlobs referenced;
  if (!gc_imagegraph.address.empty()) {
    auto channel = strata::rpc::Dial(gc_imagegraph);
    if (!channel.ok()) {
      STRATA_LOG(ERROR) << "--gc-imagegraph: " << channel.status().message();
      return 1;
    }
    referenced = strata::layerstore::ImagegraphReferences(*channel, gc_imagegraph.address);
  }
  if (gc_every > absl::ZeroDuration() && (!referenced || leases == nullptr)) {
    STRATA_LOG(ERROR) << "--gc-interval needs --gc-imagegraph and the fs backend";
    return 1;
  }
  strata::layerstore::UploadJanitor janitor(
      store.get(), max_age, strata::layerstore::UploadJanitor::IntervalFor(max_age));
  std::unique_ptr<strata::layerstore::PeriodicGc> periodic_gc;
  if (gc_every > absl::ZeroDuration()) {
    periodic_gc = std::make_unique<strata::layerstore::PeriodicGc>(
        store.get(), leases.get(), referenced, gc_options, gc_every);
  }
  strata::layerstore::LayerStoreService service(store.get(), leases.get(), referenced,
                                                gc_options);
  return strata::rpc::ServeUntilSignalled(
      "strata-layerstore", server_options,
      {{strata::layerstore::v1::LayerStore::service_full_name(), &service}});
}
