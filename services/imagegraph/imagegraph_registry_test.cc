// strata.imagegraph.v1's registry records over gRPC against a real PostgreSQL: repository
// digests (docker's RepoDigests: recorded with an image or added later, resolving, listed, and
// removed as docker's rmi removes them) and blob variants (a layer's blobs by compression).

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "grpcpp/client_context.h"
#include "gtest/gtest.h"
#include "lib/digest/digest.h"
#include "lib/rpc/client.h"
#include "lib/rpc/server.h"
#include "lib/testing/postgres.h"
#include "services/imagegraph/core/postgres_graph_store.h"
#include "services/imagegraph/core/test_images.h"
#include "services/imagegraph/imagegraph_service.h"
#include "strata/imagegraph/v1/imagegraph.grpc.pb.h"

namespace strata::imagegraph {
namespace {

namespace pb = ::strata::imagegraph::v1;
using testing::BaseImage;
using testing::Commit;
using testing::CreateRequest;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using testing::TestImage;
using testing::TestTime;
using ::testing::UnorderedElementsAre;

const std::string kManifest = Digest::Of("manifest").str();
const std::string kOther = Digest::Of("other manifest").str();

class RegistryRecordsTest : public strata::testing::PostgresTest {
 protected:
  void SetUp() override {
    ASSERT_NE(postgres(), nullptr);
    DatabaseOptions options;
    options.connection_string = postgres()->connection_string(NewDatabase("registry"));
    store_ = std::make_unique<PostgresGraphStore>(options);
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

  pb::Image Create(const TestImage& image, const std::vector<std::string>& tags,
                   const std::vector<std::string>& digests, const std::string& parent = "") {
    pb::CreateImageRequest request = CreateRequest(image, parent, tags);
    for (const std::string& digest : digests) request.add_repo_digests(digest);
    grpc::ClientContext context;
    pb::CreateImageResponse response;
    grpc::Status status = stub_->CreateImage(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.image();
  }
  grpc::Status Get(const std::string& ref, pb::Image* image) {
    grpc::ClientContext context;
    pb::GetImageRequest request;
    request.set_ref(ref);
    pb::GetImageResponse response;
    grpc::Status status = stub_->GetImage(&context, request, &response);
    *image = response.image();
    return status;
  }
  grpc::Status AddDigest(const std::string& image, const std::string& digest,
                         pb::AddRepoDigestResponse* response) {
    grpc::ClientContext context;
    pb::AddRepoDigestRequest request;
    request.set_image(image);
    request.set_repo_digest(digest);
    return stub_->AddRepoDigest(&context, request, response);
  }
  grpc::Status Delete(const std::string& ref, pb::DeleteImageResponse* response) {
    grpc::ClientContext context;
    pb::DeleteImageRequest request;
    request.set_ref(ref);
    return stub_->DeleteImage(&context, request, response);
  }
  std::vector<std::string> ListIds(const std::string& repository) {
    grpc::ClientContext context;
    pb::ListImagesRequest request;
    request.set_repository(repository);
    pb::ListImagesResponse response;
    EXPECT_TRUE(stub_->ListImages(&context, request, &response).ok());
    std::vector<std::string> ids;
    for (const pb::Image& image : response.images()) ids.push_back(image.id());
    return ids;
  }
  grpc::Status PutVariant(const pb::BlobVariant& variant) {
    grpc::ClientContext context;
    pb::PutBlobVariantRequest request;
    *request.mutable_variant() = variant;
    pb::PutBlobVariantResponse response;
    return stub_->PutBlobVariant(&context, request, &response);
  }
  grpc::Status ListVariants(const std::string& diff_id, const std::string& digest,
                            pb::ListBlobVariantsResponse* response) {
    grpc::ClientContext context;
    pb::ListBlobVariantsRequest request;
    request.set_diff_id(diff_id);
    request.set_digest(digest);
    return stub_->ListBlobVariants(&context, request, response);
  }

  std::unique_ptr<PostgresGraphStore> store_;
  std::unique_ptr<ImageGraphService> service_;
  std::unique_ptr<rpc::ServiceHost> host_;
  std::unique_ptr<pb::ImageGraph::Stub> stub_;
};

// A pulled image carries its manifest digest, in the familiar form, and resolves by it; the
// digest reference still reads as an image id when no repository digest matches.
TEST_F(RegistryRecordsTest, RepoDigestsAreRecordedResolvedAndListed) {
  TestImage base = BaseImage("base", 1, TestTime(0));
  pb::Image image = Create(base, {"docker.io/library/busybox:1"},
                           {absl::StrCat("docker.io/library/busybox@", kManifest)});
  EXPECT_THAT(image.repo_digests(), ElementsAre(absl::StrCat("busybox@", kManifest)));
  pb::Image got;
  ASSERT_TRUE(Get(absl::StrCat("busybox@", kManifest), &got).ok());
  EXPECT_EQ(got.id(), base.id());
  ASSERT_TRUE(Get(absl::StrCat("index.docker.io/library/busybox:1@", kManifest), &got).ok());
  EXPECT_EQ(got.id(), base.id());
  EXPECT_EQ(Get(absl::StrCat("busybox@", kOther), &got).error_code(), grpc::StatusCode::NOT_FOUND);
  ASSERT_TRUE(Get(absl::StrCat("busybox@", base.id()), &got).ok());  // By id, as before.

  // A push adds another; the same again is no error; a malformed one is refused.
  pb::AddRepoDigestResponse added;
  ASSERT_TRUE(AddDigest("busybox:1", absl::StrCat("localhost:5000/team/bb@", kOther), &added).ok());
  EXPECT_EQ(added.repo_digest(), absl::StrCat("localhost:5000/team/bb@", kOther));
  EXPECT_EQ(added.image_id(), base.id());
  ASSERT_TRUE(AddDigest(base.id(), absl::StrCat("localhost:5000/team/bb@", kOther), &added).ok());
  EXPECT_EQ(AddDigest("busybox:1", "localhost:5000/team/bb:1", &added).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(AddDigest("nothing:1", absl::StrCat("x@", kOther), &added).error_code(),
            grpc::StatusCode::NOT_FOUND);
  ASSERT_TRUE(Get("busybox:1", &got).ok());
  EXPECT_THAT(got.repo_digests(), ElementsAre(absl::StrCat("busybox@", kManifest),
                                              absl::StrCat("localhost:5000/team/bb@", kOther)));
  // Listing a repository finds images named there by digest only.
  EXPECT_THAT(ListIds("localhost:5000/team/bb"), ElementsAre(base.id()));
}

// A pull by digest records no tag: the image is named by its repository digest alone, listed
// (not dangling), and `rmi repo@digest` removes it.
TEST_F(RegistryRecordsTest, AnImageNamedOnlyByDigestIsKeptAndRemovedByIt) {
  TestImage base = BaseImage("only", 1, TestTime(0));
  Create(base, {}, {absl::StrCat("localhost:5000/app@", kManifest)});
  EXPECT_THAT(ListIds(""), ElementsAre(base.id()));
  {
    grpc::ClientContext context;
    pb::ListImagesRequest request;
    request.set_dangling(true);
    pb::ListImagesResponse response;
    ASSERT_TRUE(stub_->ListImages(&context, request, &response).ok());
    EXPECT_THAT(response.images(), IsEmpty());
  }
  pb::DeleteImageResponse deleted;
  ASSERT_TRUE(Delete(absl::StrCat("localhost:5000/app@", kManifest), &deleted).ok());
  EXPECT_THAT(deleted.untagged(), ElementsAre(absl::StrCat("localhost:5000/app@", kManifest)));
  EXPECT_THAT(deleted.deleted(), ElementsAre(base.id()));
}

// docker's rmi: the last tag of a repository takes that repository's digests with it (the
// image stays while other names are left); by id, everything goes.
TEST_F(RegistryRecordsTest, RmiOfTheLastTagOfARepositoryRemovesItsDigests) {
  TestImage base = BaseImage("rmi", 1, TestTime(0));
  Create(base, {"localhost:5000/app:1", "localhost:5000/app:2", "app:1"},
         {absl::StrCat("localhost:5000/app@", kManifest), absl::StrCat("app@", kOther)});
  pb::DeleteImageResponse deleted;
  ASSERT_TRUE(Delete("localhost:5000/app:1", &deleted).ok());
  EXPECT_THAT(deleted.untagged(), ElementsAre("localhost:5000/app:1"));
  ASSERT_TRUE(Delete("localhost:5000/app:2", &deleted).ok());
  EXPECT_THAT(deleted.untagged(),
              ElementsAre("localhost:5000/app:2", absl::StrCat("localhost:5000/app@", kManifest)));
  EXPECT_THAT(deleted.deleted(), IsEmpty());
  pb::Image got;
  ASSERT_TRUE(Get("app:1", &got).ok());
  EXPECT_THAT(got.repo_digests(), ElementsAre(absl::StrCat("app@", kOther)));
  grpc::ClientContext context;
  pb::DeleteImageRequest request;
  request.set_ref(base.id());
  ASSERT_TRUE(stub_->DeleteImage(&context, request, &deleted).ok());
  EXPECT_THAT(deleted.untagged(), UnorderedElementsAre("app:1", absl::StrCat("app@", kOther)));
  EXPECT_THAT(deleted.deleted(), ElementsAre(base.id()));
}

// Blob variants: recorded, listed by diff id or digest, refused when malformed; a kept variant
// of a registered layer is a referenced blob (garbage collection keeps it).
TEST_F(RegistryRecordsTest, BlobVariantsAreRecordedListedAndKeptWhileTheirLayerIs) {
  TestImage base = BaseImage("variant", 1, TestTime(0));
  pb::Image image = Create(base, {"v:1"}, {});
  const std::string diff_id = image.layers(0).diff_id();
  const std::string gzip = Digest::Of("gzip bytes").str();
  pb::BlobVariant kept;
  kept.set_diff_id(diff_id);
  kept.set_digest(gzip);
  kept.set_media_type("application/vnd.oci.image.layer.v1.tar+gzip");
  kept.set_size(10);
  ASSERT_TRUE(PutVariant(kept).ok());
  pb::BlobVariant remote = kept;
  remote.set_repository("localhost:5000/team/app");
  ASSERT_TRUE(PutVariant(remote).ok());
  remote.set_repository("busybox");  // Stored in full.
  ASSERT_TRUE(PutVariant(remote).ok());

  pb::ListBlobVariantsResponse listed;
  ASSERT_TRUE(ListVariants(diff_id, "", &listed).ok());
  std::vector<std::string> repositories;
  for (const pb::BlobVariant& variant : listed.variants()) {
    EXPECT_EQ(variant.digest(), gzip);
    repositories.push_back(variant.repository());
  }
  EXPECT_THAT(repositories,
              UnorderedElementsAre("", "localhost:5000/team/app", "docker.io/library/busybox"));
  ASSERT_TRUE(ListVariants("", gzip, &listed).ok());
  EXPECT_EQ(listed.variants_size(), 3);
  ASSERT_TRUE(ListVariants(diff_id, Digest::Of("nothing").str(), &listed).ok());
  EXPECT_EQ(listed.variants_size(), 0);
  EXPECT_EQ(ListVariants("", "", &listed).error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  pb::BlobVariant bad = kept;
  bad.set_media_type("text/plain");
  EXPECT_EQ(PutVariant(bad).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  bad = kept;
  bad.set_digest("sha256:nothex");
  EXPECT_EQ(PutVariant(bad).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  bad = kept;
  bad.set_repository("Bad/Name");
  EXPECT_EQ(PutVariant(bad).error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  auto referenced = [&]() {
    absl::StatusOr<BlobPage> page = store_->ListReferencedBlobs(0, "");
    EXPECT_TRUE(page.ok());
    return page.ok() ? page->digests : std::vector<std::string>();
  };
  EXPECT_THAT(referenced(), ::testing::Contains(gzip));
  pb::DeleteImageResponse deleted;
  ASSERT_TRUE(Delete("v:1", &deleted).ok());
  EXPECT_THAT(referenced(), ::testing::Not(::testing::Contains(gzip)));
}

}  // namespace
}  // namespace strata::imagegraph
