// strata.imagegraph.v1 end to end in one process: a gRPC client, ImageGraphService, and
// PostgresGraphStore over a real PostgreSQL (a fresh database per test).

#include "services/imagegraph/imagegraph_service.h"

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "gtest/gtest.h"
#include "lib/digest/digest.h"
#include "lib/oci/chain_id.h"
#include "lib/rpc/client.h"
#include "lib/rpc/server.h"
#include "lib/testing/postgres.h"
#include "pqxx/pqxx"
#include "services/imagegraph/core/postgres_graph_store.h"
#include "services/imagegraph/core/schema.h"
#include "services/imagegraph/core/test_images.h"
#include "strata/imagegraph/v1/imagegraph.grpc.pb.h"

namespace strata::imagegraph {
namespace {

namespace pb = ::strata::imagegraph::v1;
using testing::BaseImage;
using testing::Commit;
using testing::CreateRequest;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::TestImage;
using testing::TestTime;
using ::testing::UnorderedElementsAre;

class ImageGraphTest : public strata::testing::PostgresTest {
 protected:
  void SetUp() override {
    ASSERT_NE(postgres(), nullptr);
    database_ = NewDatabase("graph");
    store_ = NewStore();
    service_ = std::make_unique<ImageGraphService>(store_.get());
    auto host = rpc::ServiceHost::Start({.listen = "127.0.0.1:0", .insecure = true},
                                        {{pb::ImageGraph::service_full_name(), service_.get()}});
    ASSERT_TRUE(host.ok()) << host.status();
    host_ = *std::move(host);
    auto channel = rpc::Dial({.address = host_->address()});
    ASSERT_TRUE(channel.ok());
    stub_ = pb::ImageGraph::NewStub(*channel);
  }

  void TearDown() override {
    if (host_) host_->Shutdown(absl::ZeroDuration());
  }

  std::unique_ptr<PostgresGraphStore> NewStore() {
    DatabaseOptions options;
    options.connection_string = postgres()->connection_string(database_);
    options.max_connections = 8;
    return std::make_unique<PostgresGraphStore>(options);
  }

  // A direct connection, to look at the tables.
  pqxx::result Sql(const std::string& sql) {
    pqxx::connection connection(postgres()->connection_string(database_));
    pqxx::work tx(connection);
    pqxx::result result = tx.exec(sql);
    tx.commit();
    return result;
  }

  // The RPCs, returning the status and filling the response.
  grpc::Status Create(const TestImage& image, const std::string& parent,
                      const std::vector<std::string>& tags, pb::CreateImageResponse* response) {
    grpc::ClientContext context;
    return stub_->CreateImage(&context, CreateRequest(image, parent, tags), response);
  }
  // CreateImage that must succeed; returns the id.
  std::string MustCreate(const TestImage& image, const std::string& parent = "",
                         const std::vector<std::string>& tags = {}) {
    pb::CreateImageResponse response;
    grpc::Status status = Create(image, parent, tags, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(response.image().id(), image.id());
    return response.image().id();
  }
  grpc::Status Get(const std::string& ref, pb::Image* image = nullptr) {
    grpc::ClientContext context;
    pb::GetImageRequest request;
    request.set_ref(ref);
    pb::GetImageResponse response;
    grpc::Status status = stub_->GetImage(&context, request, &response);
    if (image != nullptr) *image = response.image();
    return status;
  }
  grpc::Status TagImage(const std::string& image, const std::string& target,
                        pb::TagResponse* response) {
    grpc::ClientContext context;
    pb::TagRequest request;
    request.set_image(image);
    request.set_target(target);
    return stub_->Tag(&context, request, response);
  }
  grpc::Status Untag(const std::string& reference, pb::UntagResponse* response) {
    grpc::ClientContext context;
    pb::UntagRequest request;
    request.set_reference(reference);
    return stub_->Untag(&context, request, response);
  }
  grpc::Status Delete(const std::string& ref, bool force, bool no_prune,
                      pb::DeleteImageResponse* response) {
    grpc::ClientContext context;
    pb::DeleteImageRequest request;
    request.set_ref(ref);
    request.set_force(force);
    request.set_no_prune(no_prune);
    return stub_->DeleteImage(&context, request, response);
  }
  grpc::Status List(pb::ListImagesRequest request, pb::ListImagesResponse* response) {
    grpc::ClientContext context;
    return stub_->ListImages(&context, request, response);
  }
  // Every page of a listing: the ids in order.
  std::vector<std::string> ListAll(pb::ListImagesRequest request) {
    std::vector<std::string> ids;
    for (int pages = 0; pages < 100; ++pages) {
      pb::ListImagesResponse response;
      grpc::Status status = List(request, &response);
      EXPECT_TRUE(status.ok()) << status.error_message();
      if (!status.ok()) break;
      for (const pb::Image& image : response.images()) ids.push_back(image.id());
      if (response.next_page_token().empty()) break;
      request.set_page_token(response.next_page_token());
    }
    return ids;
  }
  grpc::Status History(const std::string& ref, pb::HistoryResponse* response) {
    grpc::ClientContext context;
    pb::HistoryRequest request;
    request.set_ref(ref);
    return stub_->History(&context, request, response);
  }
  grpc::Status GetLayer(const std::string& chain_id, pb::GetLayerResponse* response) {
    grpc::ClientContext context;
    pb::GetLayerRequest request;
    request.set_chain_id(chain_id);
    return stub_->GetLayer(&context, request, response);
  }
  std::vector<std::string> AllBlobs(int page_size) {
    std::vector<std::string> digests;
    pb::ListReferencedBlobsRequest request;
    request.set_page_size(page_size);
    for (int pages = 0; pages < 1000; ++pages) {
      grpc::ClientContext context;
      pb::ListReferencedBlobsResponse response;
      grpc::Status status = stub_->ListReferencedBlobs(&context, request, &response);
      EXPECT_TRUE(status.ok()) << status.error_message();
      if (!status.ok()) break;
      digests.insert(digests.end(), response.digests().begin(), response.digests().end());
      if (response.next_page_token().empty()) break;
      request.set_page_token(response.next_page_token());
    }
    return digests;
  }

  grpc::Status Hold(const std::string& image, const std::string& holder,
                    pb::HoldImageResponse* response = nullptr) {
    grpc::ClientContext context;
    pb::HoldImageRequest request;
    request.set_image(image);
    request.set_holder(holder);
    request.set_node("node-a:7422");
    pb::HoldImageResponse ignored;
    return stub_->HoldImage(&context, request, response != nullptr ? response : &ignored);
  }
  grpc::Status Release(const std::string& holder, bool* released = nullptr) {
    grpc::ClientContext context;
    pb::ReleaseImageRequest request;
    request.set_holder(holder);
    pb::ReleaseImageResponse response;
    grpc::Status status = stub_->ReleaseImage(&context, request, &response);
    if (released != nullptr) *released = response.released();
    return status;
  }
  std::vector<std::string> Holders(const std::string& image) {
    grpc::ClientContext context;
    pb::ListHoldsRequest request;
    request.set_image(image);
    pb::ListHoldsResponse response;
    grpc::Status status = stub_->ListHolds(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    std::vector<std::string> holders;
    for (const pb::Hold& hold : response.holds()) holders.push_back(hold.holder());
    return holders;
  }

  static std::string Short(const std::string& id) { return id.substr(7, 12); }

  std::string database_;
  std::unique_ptr<PostgresGraphStore> store_;
  std::unique_ptr<ImageGraphService> service_;
  std::unique_ptr<rpc::ServiceHost> host_;
  std::unique_ptr<pb::ImageGraph::Stub> stub_;
};

#define EXPECT_CODE(status, code_name) \
  EXPECT_EQ((status).error_code(), grpc::StatusCode::code_name) << (status).error_message()

TEST_F(ImageGraphTest, MigratesAnEmptyDatabaseAndRefusesANewerSchema) {
  EXPECT_TRUE(Sql("SELECT to_regclass('images')")[0][0].is_null());
  ASSERT_TRUE(store_->Migrate().ok());
  EXPECT_EQ(Sql("SELECT max(version) FROM schema_version")[0][0].as<int>(), LatestSchemaVersion());
  for (const char* table : {"layers", "images", "image_layers", "tags", "history"}) {
    EXPECT_FALSE(Sql(absl::StrCat("SELECT to_regclass('", table, "')"))[0][0].is_null()) << table;
  }
  // Again (another replica starting): nothing to do.
  ASSERT_TRUE(NewStore()->Migrate().ok());
  EXPECT_EQ(Sql("SELECT count(*) FROM schema_version")[0][0].as<int>(), LatestSchemaVersion());

  Sql("INSERT INTO schema_version (version, description) VALUES (99, 'from the future')");
  auto newer = NewStore();
  absl::Status refused = newer->Migrate();
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(refused.message(), HasSubstr("version 99"));
  EXPECT_THAT(refused.message(), HasSubstr("newer"));
  EXPECT_EQ(newer->GetImage("app").status().code(), absl::StatusCode::kFailedPrecondition);
}

// Schema v3: tags written before names were normalised are rewritten in docker's familiar
// form; two spellings of one tag keep the one moved last.
TEST_F(ImageGraphTest, MigrationThreeStoresFamiliarNames) {
  const std::string a = MustCreate(BaseImage("a", 1, TestTime(0)));
  const std::string b = MustCreate(BaseImage("b", 1, TestTime(1)));
  Sql(absl::StrCat(
      "INSERT INTO tags (repository, tag, image_id, updated) VALUES "
      "('docker.io/library/busybox', '1', '",
      a,
      "', now() - interval '1 hour'), "
      "('busybox', '1', '",
      b, "', now()), ", "('index.docker.io/team/app', '2', '", a, "', now()), ",
      "('docker.io/library/a/b', 'x', '", a, "', now()), ", "('docker.io/library/c', 'y', '", a,
      "', now()), ", "('localhost:5000/app', '1', '", a, "', now())"));
  Sql("DELETE FROM schema_version WHERE version >= 3");
  ASSERT_TRUE(NewStore()->Migrate().ok());
  EXPECT_EQ(Sql("SELECT max(version) FROM schema_version")[0][0].as<int>(), LatestSchemaVersion());
  std::vector<std::string> tags;
  for (const auto& row : Sql("SELECT repository || ':' || tag || '=' || image_id FROM tags "
                             "ORDER BY repository, tag")) {
    tags.push_back(row[0].as<std::string>());
  }
  EXPECT_THAT(tags, ::testing::ElementsAre("busybox:1=" + b, "c:y=" + a, "library/a/b:x=" + a,
                                           "localhost:5000/app:1=" + a, "team/app:2=" + a));
  // Every spelling finds the tag; a new tag is stored familiar.
  pb::Image image;
  ASSERT_TRUE(Get("docker.io/library/busybox:1", &image).ok());
  EXPECT_EQ(image.id(), b);
  ASSERT_TRUE(Get("index.docker.io/library/busybox:1", &image).ok());
  EXPECT_EQ(image.id(), b);
  ASSERT_TRUE(Get("docker.io/team/app:2", &image).ok());
  EXPECT_EQ(image.id(), a);
  pb::TagResponse response;
  ASSERT_TRUE(TagImage(b, "docker.io/library/fresh", &response).ok());
  EXPECT_EQ(response.reference(), "fresh:latest");
  ASSERT_TRUE(Get("fresh", &image).ok());
  EXPECT_EQ(image.id(), b);
}

TEST_F(ImageGraphTest, PutLayerAndGetLayer) {
  types::v1::LayerDescriptor blob;
  const LayerDescriptor base = testing::TestLayer("base");
  blob.set_digest(base.digest);
  blob.set_diff_id(base.diff_id);
  blob.set_size(base.size);
  blob.set_uncompressed_size(base.uncompressed_size);

  pb::PutLayerRequest request;
  request.mutable_layer()->set_chain_id(base.diff_id);
  *request.mutable_layer()->mutable_blob() = blob;
  request.mutable_layer()->set_created_by("ADD rootfs.tar");
  request.mutable_layer()->mutable_created()->set_seconds(1714564800);
  pb::PutLayerResponse response;
  {
    grpc::ClientContext context;
    ASSERT_TRUE(stub_->PutLayer(&context, request, &response).ok());
  }
  EXPECT_FALSE(response.already_existed());
  EXPECT_EQ(response.layer().blob().media_type(), "application/vnd.oci.image.layer.v1.tar+zstd");
  EXPECT_EQ(response.layer().created().seconds(), 1714564800);
  {
    // Again, with a different blob: the stored record wins.
    pb::PutLayerRequest again = request;
    again.mutable_layer()->mutable_blob()->set_size(1);
    grpc::ClientContext context;
    ASSERT_TRUE(stub_->PutLayer(&context, again, &response).ok());
    EXPECT_TRUE(response.already_existed());
    EXPECT_EQ(response.layer().blob().size(), base.size);
  }

  const LayerDescriptor top = testing::TestLayer("top");
  const std::string chain =
      oci::ChainId(*Digest::Parse(base.diff_id), *Digest::Parse(top.diff_id)).str();
  pb::PutLayerRequest child;
  child.mutable_layer()->set_chain_id(chain);
  child.mutable_layer()->set_parent_chain_id(base.diff_id);
  child.mutable_layer()->mutable_blob()->set_digest(top.digest);
  child.mutable_layer()->mutable_blob()->set_diff_id(top.diff_id);
  {
    grpc::ClientContext context;
    grpc::Status status = stub_->PutLayer(&context, child, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  pb::GetLayerResponse got;
  ASSERT_TRUE(GetLayer(chain, &got).ok());
  EXPECT_EQ(got.layer().parent_chain_id(), base.diff_id);
  EXPECT_EQ(got.layer().blob().digest(), top.digest);

  // A chain id that is not chain(parent, diff id).
  pb::PutLayerRequest wrong = child;
  wrong.mutable_layer()->set_chain_id(top.diff_id);
  {
    grpc::ClientContext context;
    grpc::Status status = stub_->PutLayer(&context, wrong, &response);
    EXPECT_CODE(status, INVALID_ARGUMENT);
    EXPECT_THAT(status.error_message(), HasSubstr("chain(parent, diff id)"));
  }
  // A parent never registered.
  pb::PutLayerRequest orphan = child;
  const std::string unknown_parent = Digest::Of("unknown").str();
  orphan.mutable_layer()->set_parent_chain_id(unknown_parent);
  orphan.mutable_layer()->set_chain_id(
      oci::ChainId(*Digest::Parse(unknown_parent), *Digest::Parse(top.diff_id)).str());
  {
    grpc::ClientContext context;
    grpc::Status status = stub_->PutLayer(&context, orphan, &response);
    EXPECT_CODE(status, FAILED_PRECONDITION);
    EXPECT_THAT(status.error_message(), HasSubstr("is not registered"));
  }
  // Malformed digests; no layer at all.
  pb::PutLayerRequest malformed = request;
  malformed.mutable_layer()->mutable_blob()->set_digest("md5:abc");
  {
    grpc::ClientContext context;
    EXPECT_CODE(stub_->PutLayer(&context, malformed, &response), INVALID_ARGUMENT);
  }
  {
    grpc::ClientContext context;
    EXPECT_CODE(stub_->PutLayer(&context, pb::PutLayerRequest(), &response), INVALID_ARGUMENT);
  }
  EXPECT_CODE(GetLayer("sha256:1234", &got), INVALID_ARGUMENT);
  grpc::Status missing = GetLayer(Digest::Of("nothing").str(), &got);
  EXPECT_CODE(missing, NOT_FOUND);
  EXPECT_THAT(missing.error_message(), HasSubstr(Digest::Of("nothing").str()));
}

TEST_F(ImageGraphTest, CreateImageRegistersLayersImageAndTags) {
  TestImage base = BaseImage("base", 3, TestTime(0));
  TestImage image = Commit(base, "CMD", TestTime(5), /*empty_layer=*/true);
  pb::CreateImageResponse response;
  ASSERT_TRUE(Create(image, "", {"app:1", "app"}, &response).ok());
  const pb::Image& got = response.image();
  EXPECT_FALSE(response.already_existed());
  EXPECT_EQ(got.id(), Digest::Of(image.bytes()).str());
  EXPECT_EQ(got.config(), image.bytes());
  EXPECT_THAT(got.tags(), ElementsAre("app:1", "app:latest"));
  ASSERT_EQ(got.layers_size(), 3);
  ASSERT_EQ(got.chain_ids_size(), 3);
  std::vector<Digest> diff_ids;
  int64_t size = 0;
  for (const LayerDescriptor& layer : image.layers) {
    diff_ids.push_back(*Digest::Parse(layer.diff_id));
    size += layer.uncompressed_size;
  }
  const std::vector<Digest> chain_ids = oci::ChainIds(diff_ids);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(got.chain_ids(i), chain_ids[i].str());
    EXPECT_EQ(got.layers(i).digest(), image.layers[i].digest);
    EXPECT_EQ(got.layers(i).uncompressed_size(), image.layers[i].uncompressed_size);
  }
  EXPECT_EQ(got.size(), size);
  EXPECT_EQ(got.created().seconds(), absl::ToUnixSeconds(TestTime(5)));
  EXPECT_EQ(got.created().nanos(), 123456000);
  EXPECT_EQ(got.parent_id(), "");
  EXPECT_EQ(got.child_count(), 0);

  pb::GetLayerResponse layer;
  ASSERT_TRUE(GetLayer(chain_ids[2].str(), &layer).ok());
  EXPECT_EQ(layer.layer().parent_chain_id(), chain_ids[1].str());
  EXPECT_EQ(layer.layer().created_by(), "/bin/sh -c #(nop) ADD base/2");
  EXPECT_EQ(layer.layer().author(), "base author");

  // A child, linked to its parent.
  TestImage child = Commit(image, "make", TestTime(10));
  pb::CreateImageResponse child_response;
  ASSERT_TRUE(Create(child, got.id(), {}, &child_response).ok());
  EXPECT_EQ(child_response.image().parent_id(), got.id());
  pb::Image parent;
  ASSERT_TRUE(Get(got.id(), &parent).ok());
  EXPECT_EQ(parent.child_count(), 1);
}

TEST_F(ImageGraphTest, CreateImageIsIdempotentEvenConcurrently) {
  TestImage image = BaseImage("same", 4, TestTime(0));
  const std::string id = MustCreate(image, "", {"app:1"});
  pb::CreateImageResponse again;
  ASSERT_TRUE(Create(image, "", {"app:2"}, &again).ok());
  EXPECT_TRUE(again.already_existed());
  EXPECT_EQ(again.image().id(), id);
  EXPECT_THAT(again.image().tags(), ElementsAre("app:1", "app:2"));
  EXPECT_EQ(Sql("SELECT count(*) FROM images")[0][0].as<int>(), 1);
  EXPECT_EQ(Sql("SELECT count(*) FROM image_layers")[0][0].as<int>(), 4);
  EXPECT_EQ(Sql("SELECT count(*) FROM layers")[0][0].as<int>(), 4);

  // Several clients committing the same content at once: one creates it, all succeed.
  TestImage shared = BaseImage("racing", 5, TestTime(1));
  constexpr int kThreads = 6;
  std::vector<grpc::Status> statuses(kThreads);
  std::vector<pb::CreateImageResponse> responses(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back(
        [&, i] { statuses[i] = Create(shared, "", {absl::StrCat("racer:", i)}, &responses[i]); });
  }
  for (std::thread& thread : threads) thread.join();
  int created = 0;
  for (int i = 0; i < kThreads; ++i) {
    EXPECT_TRUE(statuses[i].ok()) << statuses[i].error_message();
    EXPECT_EQ(responses[i].image().id(), shared.id());
    if (!responses[i].already_existed()) ++created;
  }
  EXPECT_EQ(created, 1);
  pb::Image stored;
  ASSERT_TRUE(Get(shared.id(), &stored).ok());
  EXPECT_EQ(stored.tags_size(), kThreads);
  EXPECT_EQ(stored.layers_size(), 5);
}

TEST_F(ImageGraphTest, CreateImageRejectsBadInputAndLeavesNothingBehind) {
  TestImage image = BaseImage("bad", 2, TestTime(0));
  pb::CreateImageResponse response;

  pb::CreateImageRequest not_config = CreateRequest(image);
  not_config.set_config("[1, 2]");
  {
    grpc::ClientContext context;
    EXPECT_CODE(stub_->CreateImage(&context, not_config, &response), INVALID_ARGUMENT);
  }
  pb::CreateImageRequest mismatch = CreateRequest(image);
  mismatch.mutable_layers(1)->set_diff_id(Digest::Of("other").str());
  {
    grpc::ClientContext context;
    grpc::Status status = stub_->CreateImage(&context, mismatch, &response);
    EXPECT_CODE(status, INVALID_ARGUMENT);
    EXPECT_THAT(status.error_message(), HasSubstr("rootfs.diff_ids[1]"));
  }
  EXPECT_CODE(Create(image, "", {"Bad:Tag"}, &response), INVALID_ARGUMENT);
  EXPECT_CODE(Create(image, "sha256:xyz", {}, &response), INVALID_ARGUMENT);

  // The parent is checked inside the transaction, after the layers went in: all of it must
  // roll back.
  const std::string missing_parent = Digest::Of("no such parent").str();
  grpc::Status status = Create(image, missing_parent, {"app:1"}, &response);
  EXPECT_CODE(status, NOT_FOUND);
  EXPECT_THAT(status.error_message(), HasSubstr(missing_parent));
  EXPECT_CODE(Get(image.id()), NOT_FOUND);
  EXPECT_CODE(Get("app:1"), NOT_FOUND);
  pb::GetLayerResponse layer;
  EXPECT_CODE(GetLayer(image.layers[0].diff_id, &layer), NOT_FOUND);
  EXPECT_EQ(Sql("SELECT count(*) FROM layers")[0][0].as<int>(), 0);
}

TEST_F(ImageGraphTest, GetImageResolvesTagThenIdThenPrefix) {
  TestImage a = BaseImage("a", 1, TestTime(0));
  TestImage b = BaseImage("b", 1, TestTime(1));
  const std::string a_id = MustCreate(a, "", {"app:1", "app"});
  const std::string b_id = MustCreate(b);
  const std::string a_hex = a_id.substr(7);

  auto resolves_to = [&](const std::string& ref, const std::string& id) {
    pb::Image image;
    grpc::Status status = Get(ref, &image);
    EXPECT_TRUE(status.ok()) << ref << ": " << status.error_message();
    EXPECT_EQ(image.id(), id) << ref;
  };
  resolves_to("app:1", a_id);
  resolves_to("app", a_id);  // :latest
  resolves_to("app:latest", a_id);
  resolves_to(a_id, a_id);
  resolves_to(a_hex, a_id);
  resolves_to("app@" + a_id, a_id);
  resolves_to("whatever@" + b_id, b_id);
  resolves_to(a_hex.substr(0, 12), a_id);
  resolves_to("sha256:" + a_hex.substr(0, 12), a_id);
  if (a_hex.substr(0, 4) != b_id.substr(7, 4)) resolves_to(a_hex.substr(0, 4), a_id);

  // A tag wins over an id prefix that reads the same.
  pb::TagResponse tagged;
  ASSERT_TRUE(TagImage(b_id, a_hex.substr(0, 10), &tagged).ok());
  resolves_to(a_hex.substr(0, 10), b_id);
  resolves_to(a_hex.substr(0, 11), a_id);

  grpc::Status too_short = Get(a_hex.substr(0, 3));
  EXPECT_CODE(too_short, NOT_FOUND);
  EXPECT_THAT(too_short.error_message(), HasSubstr("at least 4 hex digits"));
  grpc::Status no_tag = Get("app:2");
  EXPECT_CODE(no_tag, NOT_FOUND);
  EXPECT_THAT(no_tag.error_message(), HasSubstr("image \"app:2\": no such tag"));
  grpc::Status no_latest = Get("other");
  EXPECT_THAT(no_latest.error_message(), HasSubstr("no such tag \"other:latest\""));
  grpc::Status no_id = Get(Digest::Of("none").str());
  EXPECT_CODE(no_id, NOT_FOUND);
  EXPECT_THAT(no_id.error_message(), HasSubstr(Digest::Of("none").str()));
  grpc::Status upper = Get("UPPER:1");
  EXPECT_CODE(upper, NOT_FOUND);
  EXPECT_THAT(upper.error_message(), HasSubstr("lowercase"));
  EXPECT_CODE(Get(""), INVALID_ARGUMENT);
  // Hostile references are just unknown.
  EXPECT_CODE(Get("x'; DROP TABLE images; --"), NOT_FOUND);
  EXPECT_CODE(Get(std::string("app\0:1", 6)), NOT_FOUND);
  EXPECT_CODE(Get("%"), NOT_FOUND);
  resolves_to("app:1", a_id);
}

TEST_F(ImageGraphTest, AmbiguousPrefixNamesTheCandidates) {
  // Find two images whose ids share their first 4 hex digits.
  std::map<std::string, TestImage> by_prefix;
  TestImage first, second;
  for (int i = 0;; ++i) {
    ASSERT_LT(i, 100000);
    TestImage image = BaseImage("p", 1, TestTime(i));
    const std::string prefix = image.id().substr(7, 4);
    auto [it, inserted] = by_prefix.emplace(prefix, image);
    if (!inserted) {
      first = it->second;
      second = image;
      break;
    }
  }
  const std::string first_id = MustCreate(first);
  const std::string second_id = MustCreate(second);
  const std::string prefix = first_id.substr(7, 4);
  grpc::Status status = Get(prefix);
  EXPECT_CODE(status, FAILED_PRECONDITION);
  EXPECT_THAT(status.error_message(), HasSubstr("ambiguous"));
  EXPECT_THAT(status.error_message(), HasSubstr(Short(first_id)));
  EXPECT_THAT(status.error_message(), HasSubstr(Short(second_id)));
  pb::Image image;
  ASSERT_TRUE(Get(Short(second_id), &image).ok());
  EXPECT_EQ(image.id(), second_id);
  pb::TagResponse tagged;
  EXPECT_CODE(TagImage(prefix, "app:1", &tagged), FAILED_PRECONDITION);
  pb::HistoryResponse history;
  grpc::Status ambiguous_history = History(prefix, &history);
  EXPECT_CODE(ambiguous_history, FAILED_PRECONDITION);
  EXPECT_THAT(ambiguous_history.error_message(), HasSubstr(Short(first_id)));
  ASSERT_TRUE(History(Short(first_id), &history).ok());
  ASSERT_EQ(history.entries_size(), 1);
  EXPECT_EQ(history.entries(0).image_id(), first_id);
}

TEST_F(ImageGraphTest, TagRejectsBadNamesWithTheRule) {
  const std::string id = MustCreate(BaseImage("names", 1, TestTime(0)), "", {"good:1"});
  const std::pair<std::string, std::string> bad[] = {
      {"UPPER", "must be lowercase"},
      {"App:1", "must be lowercase"},
      {"../x", "registry host"},
      {"app:" + std::string(129, 'a'), "more than 128"},
      {std::string("app\0evil", 8), "invalid reference"},
      {"app\"quoted", "invalid reference"},
      {"app'quoted", "invalid reference"},
      {"x'; DROP TABLE tags; --", "invalid reference"},
      {"app:1'); DELETE FROM images; --", "tag must match"},
      {"app@" + id, "cannot carry a digest"},
      {id.substr(7), "64 hexadecimal"},
      {"", "empty"},
      {" app", "invalid reference"},
  };
  for (const auto& [target, rule] : bad) {
    pb::TagResponse response;
    grpc::Status status = TagImage(id, target, &response);
    EXPECT_CODE(status, INVALID_ARGUMENT) << target;
    EXPECT_THAT(status.error_message(), HasSubstr(rule)) << target;
  }
  pb::TagResponse response;
  ASSERT_TRUE(TagImage(id, "app:" + std::string(128, 'a'), &response).ok());
  // Nothing was harmed.
  EXPECT_EQ(Sql("SELECT count(*) FROM tags")[0][0].as<int>(), 2);
  EXPECT_EQ(Sql("SELECT count(*) FROM images")[0][0].as<int>(), 1);
  ASSERT_TRUE(Get("good:1").ok());
}

TEST_F(ImageGraphTest, TagMovesAndUntagRemoves) {
  const std::string a = MustCreate(BaseImage("a", 1, TestTime(0)));
  const std::string b = MustCreate(BaseImage("b", 1, TestTime(1)));
  pb::TagResponse response;
  ASSERT_TRUE(TagImage(a, "app:1", &response).ok());
  EXPECT_EQ(response.reference(), "app:1");
  EXPECT_EQ(response.image_id(), a);
  EXPECT_EQ(response.previous_image_id(), "");
  ASSERT_TRUE(TagImage(Short(b), "app:1", &response).ok());
  EXPECT_EQ(response.image_id(), b);
  EXPECT_EQ(response.previous_image_id(), a);
  ASSERT_TRUE(TagImage("app:1", "app", &response).ok());
  EXPECT_EQ(response.reference(), "app:latest");
  EXPECT_EQ(response.image_id(), b);
  ASSERT_TRUE(TagImage(b, "app:1", &response).ok());
  EXPECT_EQ(response.previous_image_id(), "");  // Did not move.
  EXPECT_CODE(TagImage("nothing:1", "app:2", &response), NOT_FOUND);

  pb::UntagResponse untagged;
  ASSERT_TRUE(Untag("app:1", &untagged).ok());
  EXPECT_EQ(untagged.reference(), "app:1");
  EXPECT_EQ(untagged.image_id(), b);
  EXPECT_CODE(Untag("app:1", &untagged), NOT_FOUND);
  EXPECT_CODE(Untag("UPPER", &untagged), INVALID_ARGUMENT);
  EXPECT_CODE(Untag("app@" + b, &untagged), INVALID_ARGUMENT);
  // The image stays.
  ASSERT_TRUE(Get(b).ok());
  ASSERT_TRUE(Untag("app", &untagged).ok());
  EXPECT_EQ(untagged.reference(), "app:latest");
}

TEST_F(ImageGraphTest, ConcurrentTagMovesHaveOneWinnerAndLoseNoUpdate) {
  constexpr int kThreads = 8;
  constexpr int kMoves = 25;
  std::vector<std::string> ids;
  for (int i = 0; i < kThreads; ++i) {
    ids.push_back(MustCreate(BaseImage(absl::StrCat("racer", i), 1, TestTime(i))));
  }
  const std::string initial = MustCreate(BaseImage("initial", 1, TestTime(100)), "", {"race:1"});

  absl::Mutex mu;
  std::vector<std::pair<std::string, std::string>> moves;  // (previous, new)
  std::vector<std::string> errors;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int m = 0; m < kMoves; ++m) {
        pb::TagResponse response;
        grpc::Status status = TagImage(ids[t], "race:1", &response);
        absl::MutexLock lock(&mu);
        if (!status.ok()) {
          errors.push_back(status.error_message());
          continue;
        }
        // An empty previous means it already pointed at our image.
        moves.emplace_back(
            response.previous_image_id().empty() ? ids[t] : response.previous_image_id(), ids[t]);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_TRUE(errors.empty()) << errors.front();
  ASSERT_EQ(moves.size(), static_cast<size_t>(kThreads * kMoves));

  pb::Image final_image;
  ASSERT_TRUE(Get("race:1", &final_image).ok());
  // The moves form one chain from the initial image to the final one: every value set was
  // seen as "previous" by exactly one later move, except the final one.
  std::map<std::string, int> balance;
  for (const auto& [previous, next] : moves) {
    --balance[previous];
    ++balance[next];
  }
  ++balance[initial];
  --balance[final_image.id()];
  for (const auto& [id, count] : balance) EXPECT_EQ(count, 0) << id;
  EXPECT_EQ(Sql("SELECT count(*) FROM tags WHERE repository = 'race'")[0][0].as<int>(), 1);
}

TEST_F(ImageGraphTest, ListImagesFiltersOrdersAndPages) {
  TestImage base = BaseImage("base", 2, TestTime(0));
  const std::string base_id = MustCreate(base);  // intermediate
  const std::string app = MustCreate(Commit(base, "app", TestTime(10)), base_id, {"app:1"});
  const std::string dangling = MustCreate(BaseImage("dangling", 1, TestTime(20)));
  const std::string other = MustCreate(BaseImage("other", 1, TestTime(30)), "", {"other:1"});
  // No "created" at all: listed last.
  TestImage undated = BaseImage("undated", 1, TestTime(0));
  nlohmann::json doc = undated.config.document();
  doc.erase("created");
  pb::CreateImageRequest request = CreateRequest(undated);
  request.set_config(doc.dump());
  request.add_tags("undated:1");
  pb::CreateImageResponse undated_response;
  {
    grpc::ClientContext context;
    ASSERT_TRUE(stub_->CreateImage(&context, request, &undated_response).ok());
  }
  const std::string undated_id = undated_response.image().id();
  EXPECT_FALSE(undated_response.image().has_created());

  pb::ListImagesRequest all_request;
  all_request.set_all(true);
  EXPECT_THAT(ListAll(all_request), ElementsAre(other, dangling, app, base_id, undated_id));
  EXPECT_THAT(ListAll(pb::ListImagesRequest()), ElementsAre(other, dangling, app, undated_id));
  pb::ListImagesRequest dangling_request;
  dangling_request.set_dangling(true);
  EXPECT_THAT(ListAll(dangling_request), ElementsAre(dangling));
  pb::ListImagesRequest tagged_request;
  tagged_request.set_dangling(false);
  EXPECT_THAT(ListAll(tagged_request), ElementsAre(other, app, undated_id));
  pb::ListImagesRequest repository_request;
  repository_request.set_repository("app");
  EXPECT_THAT(ListAll(repository_request), ElementsAre(app));

  // Pages of every size give the same listing, even across equal "created" times.
  std::vector<std::string> same_time;
  for (int i = 0; i < 5; ++i) {
    same_time.push_back(MustCreate(BaseImage(absl::StrCat("same", i), 1, TestTime(40)), "",
                                   {absl::StrCat("same:", i)}));
  }
  std::sort(same_time.begin(), same_time.end());
  const std::vector<std::string> everything = ListAll(all_request);
  ASSERT_EQ(everything.size(), 10u);
  EXPECT_EQ(std::vector<std::string>(everything.begin(), everything.begin() + 5), same_time);
  for (int page_size = 1; page_size <= 4; ++page_size) {
    pb::ListImagesRequest paged = all_request;
    paged.set_page_size(page_size);
    EXPECT_EQ(ListAll(paged), everything) << page_size;
  }
  pb::ListImagesRequest one = all_request;
  one.set_page_size(1);
  pb::ListImagesResponse response;
  ASSERT_TRUE(List(one, &response).ok());
  EXPECT_EQ(response.images_size(), 1);
  EXPECT_FALSE(response.next_page_token().empty());
  EXPECT_EQ(response.images(0).tags_size(), 1);
  EXPECT_EQ(response.images(0).layers_size(), 1);

  pb::ListImagesRequest bad = all_request;
  bad.set_page_token("forged");
  EXPECT_CODE(List(bad, &response), INVALID_ARGUMENT);
  bad = all_request;
  bad.set_page_size(-1);
  EXPECT_CODE(List(bad, &response), INVALID_ARGUMENT);
  bad = all_request;
  bad.set_repository("Bad Repo");
  EXPECT_CODE(List(bad, &response), INVALID_ARGUMENT);
}

TEST_F(ImageGraphTest, HistoryIsNewestFirstWithImagesAlongTheParentChain) {
  TestImage base = BaseImage("base", 2, TestTime(0));
  base = Commit(base, "ENV", TestTime(1), /*empty_layer=*/true);  // base: L0, L1, ENV
  const std::string base_id = MustCreate(base, "", {"base:1"});
  TestImage child = Commit(base, "make", TestTime(10));
  const std::string child_id = MustCreate(child, base_id);
  TestImage top = Commit(child, "CMD", TestTime(20), /*empty_layer=*/true);
  const std::string top_id = MustCreate(top, child_id, {"app:1", "app:2"});

  pb::HistoryResponse history;
  ASSERT_TRUE(History("app:1", &history).ok());
  ASSERT_EQ(history.entries_size(), 5);
  const auto& e = history.entries();
  EXPECT_EQ(e[0].image_id(), top_id);
  EXPECT_EQ(e[0].created_by(), "RUN CMD");
  EXPECT_TRUE(e[0].empty_layer());
  EXPECT_EQ(e[0].size(), 0);
  EXPECT_THAT(e[0].tags(), ElementsAre("app:1", "app:2"));
  EXPECT_EQ(e[0].created().seconds(), absl::ToUnixSeconds(TestTime(20)));
  EXPECT_EQ(e[1].image_id(), child_id);
  EXPECT_EQ(e[1].created_by(), "RUN make");
  EXPECT_EQ(e[1].author(), "committer");
  EXPECT_EQ(e[1].comment(), "commit make");
  EXPECT_EQ(e[1].size(), testing::TestLayer("make").uncompressed_size);
  EXPECT_FALSE(e[1].empty_layer());
  EXPECT_EQ(e[1].tags_size(), 0);
  EXPECT_EQ(e[2].image_id(), base_id);
  EXPECT_THAT(e[2].tags(), ElementsAre("base:1"));
  EXPECT_TRUE(e[2].empty_layer());
  EXPECT_EQ(e[3].image_id(), "");  // <missing>
  EXPECT_EQ(e[3].size(), testing::TestLayer("base/1").uncompressed_size);
  EXPECT_EQ(e[4].image_id(), "");
  EXPECT_EQ(e[4].comment(), "imported");

  ASSERT_TRUE(History(base_id, &history).ok());
  ASSERT_EQ(history.entries_size(), 3);
  EXPECT_EQ(history.entries(0).image_id(), base_id);
  EXPECT_EQ(history.entries(1).image_id(), "");
  EXPECT_CODE(History("nothing:1", &history), NOT_FOUND);
  EXPECT_CODE(History(Digest::Of("nothing").str(), &history), NOT_FOUND);

  // An image without layers or history has an empty history.
  const std::string empty = MustCreate(BaseImage("empty", 0, TestTime(30)), "", {"empty:1"});
  ASSERT_TRUE(History("empty:1", &history).ok());
  EXPECT_EQ(history.entries_size(), 0);
  ASSERT_TRUE(History(empty, &history).ok());
}

TEST_F(ImageGraphTest, DeleteImageFollowsDockerRmi) {
  TestImage base = BaseImage("base", 2, TestTime(0));
  TestImage mid = Commit(base, "mid", TestTime(10));
  TestImage top = Commit(mid, "top", TestTime(20));
  const std::string base_id = MustCreate(base);
  const std::string mid_id = MustCreate(mid, base_id, {"app:mid"});
  const std::string top_id = MustCreate(top, mid_id, {"app:1", "app:2"});
  // Another image sharing the base layers keeps them alive.
  const std::string sibling = MustCreate(Commit(base, "sibling", TestTime(30)), "", {"sib:1"});
  pb::DeleteImageResponse response;

  // By tag, with another tag left: only the tag goes.
  ASSERT_TRUE(Delete("app:1", false, false, &response).ok());
  EXPECT_THAT(response.untagged(), ElementsAre("app:1"));
  EXPECT_TRUE(response.deleted().empty());

  // By id, with children: refused, even forced.
  for (bool force : {false, true}) {
    grpc::Status status = Delete(mid_id, force, false, &response);
    EXPECT_CODE(status, FAILED_PRECONDITION);
    EXPECT_THAT(status.error_message(),
                HasSubstr("(cannot be forced) - image has dependent child images"));
    EXPECT_THAT(status.error_message(), HasSubstr(Short(top_id)));
  }
  // By tag, with children: the tag goes, the image stays (now an intermediate image).
  ASSERT_TRUE(Delete("app:mid", false, false, &response).ok());
  EXPECT_THAT(response.untagged(), ElementsAre("app:mid"));
  EXPECT_TRUE(response.deleted().empty());
  ASSERT_TRUE(Get(mid_id).ok());

  // By id, with several tags: only with force.
  pb::TagResponse tagged;
  ASSERT_TRUE(TagImage(top_id, "other:1", &tagged).ok());
  grpc::Status several = Delete(Short(top_id), false, false, &response);
  EXPECT_CODE(several, FAILED_PRECONDITION);
  EXPECT_THAT(
      several.error_message(),
      HasSubstr(
          "(must be forced) - image is referenced in multiple repositories (app:2, other:1)"));
  ASSERT_TRUE(Delete(Short(top_id), true, false, &response).ok());
  EXPECT_THAT(response.untagged(), ElementsAre("app:2", "other:1"));
  // top, then the untagged parents left without children.
  EXPECT_THAT(response.deleted(), ElementsAre(top_id, mid_id, base_id));
  for (const std::string& id : {top_id, mid_id, base_id}) EXPECT_CODE(Get(id), NOT_FOUND);
  ASSERT_TRUE(Get(sibling).ok());

  // Layers only the deleted images used are gone; shared ones stay.
  pb::GetLayerResponse layer;
  pb::Image sibling_image;
  ASSERT_TRUE(Get(sibling, &sibling_image).ok());
  for (const std::string& chain_id : sibling_image.chain_ids()) {
    EXPECT_TRUE(GetLayer(chain_id, &layer).ok()) << chain_id;
  }
  std::vector<Digest> top_diff_ids;
  for (const LayerDescriptor& l : top.layers) top_diff_ids.push_back(*Digest::Parse(l.diff_id));
  const std::vector<Digest> top_chain = oci::ChainIds(top_diff_ids);
  EXPECT_CODE(GetLayer(top_chain[2].str(), &layer), NOT_FOUND);
  EXPECT_CODE(GetLayer(top_chain[3].str(), &layer), NOT_FOUND);
  EXPECT_EQ(Sql("SELECT count(*) FROM layers")[0][0].as<int>(), 3);
  EXPECT_EQ(Sql("SELECT count(*) FROM history")[0][0].as<int>(), 3);

  EXPECT_CODE(Delete(top_id, false, false, &response), NOT_FOUND);
  EXPECT_CODE(Delete("", false, false, &response), INVALID_ARGUMENT);
}

TEST_F(ImageGraphTest, DeleteByLastTagPrunesUnlessAskedNot) {
  TestImage base = BaseImage("base", 1, TestTime(0));
  TestImage mid = Commit(base, "mid", TestTime(10));
  TestImage top = Commit(mid, "top", TestTime(20));
  const std::string base_id = MustCreate(base);
  const std::string mid_id = MustCreate(mid, base_id);
  const std::string top_id = MustCreate(top, mid_id, {"app:1"});
  TestImage other = Commit(mid, "other", TestTime(30));
  const std::string other_id = MustCreate(other, mid_id, {"app:other"});

  pb::DeleteImageResponse response;
  ASSERT_TRUE(Delete("app:1", false, /*no_prune=*/true, &response).ok());
  EXPECT_THAT(response.untagged(), ElementsAre("app:1"));
  EXPECT_THAT(response.deleted(), ElementsAre(top_id));
  // mid still has a child (other): kept either way.
  ASSERT_TRUE(Delete("app:other", false, /*no_prune=*/true, &response).ok());
  EXPECT_THAT(response.deleted(), ElementsAre(other_id));
  ASSERT_TRUE(Get(mid_id).ok());  // no_prune kept the dangling parent.

  // A dangling image by id: deleted, and its untagged parent pruned.
  ASSERT_TRUE(Delete(mid_id, false, false, &response).ok());
  EXPECT_TRUE(response.untagged().empty());
  EXPECT_THAT(response.deleted(), ElementsAre(mid_id, base_id));
  EXPECT_EQ(Sql("SELECT count(*) FROM images")[0][0].as<int>(), 0);
  EXPECT_EQ(Sql("SELECT count(*) FROM layers")[0][0].as<int>(), 0);
  EXPECT_TRUE(AllBlobs(0).empty());
}

TEST_F(ImageGraphTest, HeldImagesAreNeverDeleted) {
  TestImage base = BaseImage("base", 1, TestTime(0));
  TestImage top = Commit(base, "top", TestTime(10));
  const std::string base_id = MustCreate(base);
  const std::string top_id = MustCreate(top, base_id, {"app:1"});
  const std::string container_a(64, 'a');
  const std::string container_b(64, 'b');

  pb::HoldImageResponse held;
  ASSERT_TRUE(Hold("app:1", container_a, &held).ok());
  EXPECT_EQ(held.hold().image_id(), top_id);
  EXPECT_EQ(held.hold().node(), "node-a:7422");
  EXPECT_TRUE(held.hold().has_created());
  ASSERT_TRUE(Hold(top_id, container_a).ok()) << "holding the same image again is fine";
  EXPECT_CODE(Hold(base_id, container_a), ALREADY_EXISTS);
  EXPECT_CODE(Hold("app:1", ""), INVALID_ARGUMENT);
  EXPECT_CODE(Hold("app:1", std::string(300, 'x')), INVALID_ARGUMENT);
  EXPECT_CODE(Hold("nothing:here", container_b), NOT_FOUND);
  // The base is held through its own hold only: a child's hold does not count twice.
  ASSERT_TRUE(Hold(base_id, container_b).ok());
  EXPECT_THAT(Holders(top_id), ElementsAre(container_a));
  EXPECT_THAT(Holders(""), ElementsAre(container_a, container_b));

  // Without force: refused by tag and by id, and nothing changes (the tag stays).
  pb::DeleteImageResponse response;
  grpc::Status by_tag = Delete("app:1", false, false, &response);
  EXPECT_CODE(by_tag, FAILED_PRECONDITION);
  EXPECT_EQ(by_tag.error_message(),
            absl::StrCat("conflict: unable to remove repository reference \"app:1\" (must force)"
                         " - container aaaaaaaaaaaa is using its referenced image ",
                         Short(top_id)));
  grpc::Status by_id = Delete(top_id, false, false, &response);
  EXPECT_CODE(by_id, FAILED_PRECONDITION);
  EXPECT_EQ(by_id.error_message(),
            absl::StrCat("conflict: unable to delete ", Short(top_id),
                         " (must be forced) - image is being used by container aaaaaaaaaaaa"));
  pb::Image image;
  ASSERT_TRUE(Get("app:1", &image).ok());
  // With force: the tags go, the image stays and says who kept it.
  ASSERT_TRUE(Delete("app:1", true, false, &response).ok());
  EXPECT_THAT(response.untagged(), ElementsAre("app:1"));
  EXPECT_TRUE(response.deleted().empty());
  EXPECT_THAT(response.held_by(), ElementsAre(container_a));
  ASSERT_TRUE(Get(top_id).ok());
  // The database refuses it too, whatever the code says.
  EXPECT_THROW(Sql(absl::StrCat("DELETE FROM images WHERE id = '", top_id, "'")),
               pqxx::foreign_key_violation);

  // Released: deleted, and its parent, held by b, is not pruned until b lets go.
  bool released = false;
  ASSERT_TRUE(Release(container_a, &released).ok());
  EXPECT_TRUE(released);
  ASSERT_TRUE(Release(container_a, &released).ok());
  EXPECT_FALSE(released);
  ASSERT_TRUE(Delete(top_id, false, false, &response).ok());
  EXPECT_THAT(response.deleted(), ElementsAre(top_id));
  ASSERT_TRUE(Get(base_id).ok());
  ASSERT_TRUE(Release(container_b).ok());
  ASSERT_TRUE(Delete(base_id, false, false, &response).ok());
  EXPECT_THAT(response.deleted(), ElementsAre(base_id));
  EXPECT_CODE(Release(""), INVALID_ARGUMENT);
}

TEST_F(ImageGraphTest, AHoldAndADeleteRacingNeverLeaveAHoldOnNothing) {
  for (int round = 0; round < 20; ++round) {
    TestImage image = BaseImage(absl::StrCat("race", round), 1, TestTime(round));
    const std::string id = MustCreate(image, "", {absl::StrCat("race:", round)});
    const std::string holder = absl::StrCat("holder-", round);
    grpc::Status held, deleted;
    pb::DeleteImageResponse response;
    std::thread holding([&] { held = Hold(id, holder); });
    std::thread deleting([&] { deleted = Delete(id, false, false, &response); });
    holding.join();
    deleting.join();
    // Exactly one wins: the image is held and kept, or deleted and unheld.
    EXPECT_NE(held.ok(), deleted.ok()) << held.error_message() << " / " << deleted.error_message();
    if (held.ok()) {
      EXPECT_TRUE(Get(id).ok());
    }
  }
  EXPECT_EQ(Sql("SELECT count(*) FROM image_holds h LEFT JOIN images i ON i.id = h.image_id"
                " WHERE i.id IS NULL")[0][0]
                .as<int>(),
            0);
}

TEST_F(ImageGraphTest, ListChildrenShowsTheBranches) {
  TestImage base = BaseImage("base", 1, TestTime(0));
  const std::string base_id = MustCreate(base, "", {"base:1"});
  const std::string left = MustCreate(Commit(base, "left", TestTime(10)), base_id);
  const std::string right = MustCreate(Commit(base, "right", TestTime(20)), base_id);
  grpc::ClientContext context;
  pb::ListChildrenRequest request;
  request.set_ref("base:1");
  pb::ListChildrenResponse response;
  ASSERT_TRUE(stub_->ListChildren(&context, request, &response).ok());
  ASSERT_EQ(response.children_size(), 2);
  EXPECT_EQ(response.children(0).id(), right);  // Newest first.
  EXPECT_EQ(response.children(1).id(), left);
  EXPECT_EQ(response.children(0).parent_id(), base_id);
  pb::Image image;
  ASSERT_TRUE(Get(base_id, &image).ok());
  EXPECT_EQ(image.child_count(), 2);

  grpc::ClientContext leaf_context;
  request.set_ref(left);
  ASSERT_TRUE(stub_->ListChildren(&leaf_context, request, &response).ok());
  EXPECT_EQ(response.children_size(), 0);
  grpc::ClientContext missing_context;
  request.set_ref("nothing:1");
  EXPECT_CODE(stub_->ListChildren(&missing_context, request, &response), NOT_FOUND);
}

TEST_F(ImageGraphTest, ListReferencedBlobsPagesThroughEverythingKept) {
  std::set<std::string> expected;
  TestImage base = BaseImage("base", 3, TestTime(0));
  const std::string base_id = MustCreate(base);
  TestImage child = Commit(base, "child", TestTime(1));
  const std::string child_id = MustCreate(child, base_id, {"app:1"});
  for (const LayerDescriptor& layer : child.layers) expected.insert(layer.digest);
  expected.insert(base_id);
  expected.insert(child_id);

  const std::vector<std::string> all = AllBlobs(0);
  EXPECT_EQ(std::set<std::string>(all.begin(), all.end()), expected);
  EXPECT_TRUE(std::is_sorted(all.begin(), all.end()));
  for (int page_size : {1, 2, 5}) EXPECT_EQ(AllBlobs(page_size), all) << page_size;

  grpc::ClientContext context;
  pb::ListReferencedBlobsRequest bad;
  bad.set_page_token("not a token");
  pb::ListReferencedBlobsResponse response;
  EXPECT_CODE(stub_->ListReferencedBlobs(&context, bad, &response), INVALID_ARGUMENT);

  pb::DeleteImageResponse deleted;
  ASSERT_TRUE(Delete("app:1", false, false, &deleted).ok());
  EXPECT_TRUE(AllBlobs(0).empty());
}

TEST_F(ImageGraphTest, SurvivesAPostgresRestartAndAnswersUnavailableWhileDown) {
  const std::string id = MustCreate(BaseImage("restart", 2, TestTime(0)), "", {"app:1"});
  // Open several pooled connections, so that all of them go stale.
  std::vector<std::thread> readers;
  for (int i = 0; i < 4; ++i) readers.emplace_back([&] { EXPECT_TRUE(Get("app:1").ok()); });
  for (std::thread& reader : readers) reader.join();

  ASSERT_TRUE(postgres()->Restart().ok());
  pb::Image image;
  grpc::Status status = Get("app:1", &image);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(image.id(), id);

  ASSERT_TRUE(postgres()->Stop().ok());
  status = Get("app:1");
  EXPECT_CODE(status, UNAVAILABLE);
  pb::CreateImageResponse created;
  EXPECT_CODE(Create(BaseImage("while down", 1, TestTime(1)), "", {}, &created), UNAVAILABLE);

  ASSERT_TRUE(postgres()->Restart().ok());
  status = Get("app:1", &image);
  ASSERT_TRUE(status.ok()) << status.error_message();
  MustCreate(BaseImage("after", 1, TestTime(2)), "", {"app:2"});
}

}  // namespace
}  // namespace strata::imagegraph
