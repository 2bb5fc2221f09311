#include "services/imagegraph/imagegraph_service.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "lib/rpc/status.h"
#include "lib/rpc/time.h"

namespace strata::imagegraph {
namespace {

namespace pb = ::strata::imagegraph::v1;

LayerDescriptor FromProto(const strata::types::v1::LayerDescriptor& in) {
  LayerDescriptor out;
  out.digest = in.digest();
  out.diff_id = in.diff_id();
  out.media_type = in.media_type();
  out.size = in.size();
  out.uncompressed_size = in.uncompressed_size();
  return out;
}

void ToProto(const LayerDescriptor& in, strata::types::v1::LayerDescriptor* out) {
  out->set_digest(in.digest);
  out->set_diff_id(in.diff_id);
  out->set_media_type(in.media_type);
  out->set_size(in.size);
  out->set_uncompressed_size(in.uncompressed_size);
}

void ToProto(const Layer& in, pb::Layer* out) {
  out->set_chain_id(in.chain_id);
  out->set_parent_chain_id(in.parent_chain_id);
  ToProto(in.blob, out->mutable_blob());
  out->set_created_by(in.created_by);
  if (in.created) rpc::ToTimestamp(*in.created, out->mutable_created());
  out->set_author(in.author);
  out->set_comment(in.comment);
}

void ToProto(const Image& in, pb::Image* out) {
  out->set_id(in.id);
  out->set_config(in.config);
  for (const LayerDescriptor& layer : in.layers) ToProto(layer, out->add_layers());
  for (const std::string& chain_id : in.chain_ids) out->add_chain_ids(chain_id);
  out->set_parent_id(in.parent_id);
  for (const std::string& tag : in.tags) out->add_tags(tag);
  if (in.created) rpc::ToTimestamp(*in.created, out->mutable_created());
  out->set_size(in.size);
  out->set_child_count(in.child_count);
  for (const std::string& digest : in.repo_digests) out->add_repo_digests(digest);
  if (in.last_tagged) rpc::ToTimestamp(*in.last_tagged, out->mutable_last_tag_time());
}

void ToProto(const BlobVariant& in, pb::BlobVariant* out) {
  out->set_diff_id(in.diff_id);
  out->set_digest(in.digest);
  out->set_media_type(in.media_type);
  out->set_size(in.size);
  out->set_repository(in.repository);
}

void ToProto(const Hold& in, pb::Hold* out) {
  out->set_holder(in.holder);
  out->set_image_id(in.image_id);
  out->set_node(in.node);
  if (in.created) rpc::ToTimestamp(*in.created, out->mutable_created());
}

}  // namespace

grpc::Status ImageGraphService::PutLayer(grpc::ServerContext*, const pb::PutLayerRequest* request,
                                         pb::PutLayerResponse* response) {
  if (!request->has_layer()) {
    return rpc::ToGrpc(absl::InvalidArgumentError("layer is required"));
  }
  if (!request->layer().has_blob()) {
    return rpc::ToGrpc(absl::InvalidArgumentError("layer.blob is required"));
  }
  const pb::Layer& in = request->layer();
  Layer layer;
  layer.chain_id = in.chain_id();
  layer.parent_chain_id = in.parent_chain_id();
  layer.blob = FromProto(in.blob());
  layer.created_by = in.created_by();
  layer.author = in.author();
  layer.comment = in.comment();
  if (in.has_created()) {
    absl::StatusOr<absl::Time> created = rpc::ParseTimestamp(in.created(), "layer.created");
    if (!created.ok()) return rpc::ToGrpc(created.status());
    layer.created = *created;
  }
  absl::StatusOr<PutLayerResult> result = store_->PutLayer(layer);
  if (!result.ok()) return rpc::ToGrpc(result.status());
  ToProto(result->layer, response->mutable_layer());
  response->set_already_existed(result->already_existed);
  return grpc::Status::OK;
}

grpc::Status ImageGraphService::GetLayer(grpc::ServerContext*, const pb::GetLayerRequest* request,
                                         pb::GetLayerResponse* response) {
  absl::StatusOr<Layer> layer = store_->GetLayer(request->chain_id());
  if (!layer.ok()) return rpc::ToGrpc(layer.status());
  ToProto(*layer, response->mutable_layer());
  return grpc::Status::OK;
}

grpc::Status ImageGraphService::CreateImage(grpc::ServerContext*,
                                            const pb::CreateImageRequest* request,
                                            pb::CreateImageResponse* response) {
  NewImage image;
  image.config = request->config();
  for (const auto& layer : request->layers()) image.layers.push_back(FromProto(layer));
  image.parent_id = request->parent_id();
  image.tags.assign(request->tags().begin(), request->tags().end());
  image.repo_digests.assign(request->repo_digests().begin(), request->repo_digests().end());
  absl::StatusOr<CreateImageResult> result = store_->CreateImage(image);
  if (!result.ok()) return rpc::ToGrpc(result.status());
  ToProto(result->image, response->mutable_image());
  response->set_already_existed(result->already_existed);
  return grpc::Status::OK;
}

grpc::Status ImageGraphService::GetImage(grpc::ServerContext*, const pb::GetImageRequest* request,
                                         pb::GetImageResponse* response) {
  absl::StatusOr<Image> image = store_->GetImage(request->ref());
  if (!image.ok()) return rpc::ToGrpc(image.status());
  ToProto(*image, response->mutable_image());
  return grpc::Status::OK;
}

grpc::Status ImageGraphService::ListImages(grpc::ServerContext*,
                                           const pb::ListImagesRequest* request,
                                           pb::ListImagesResponse* response) {
  ListImagesOptions options;
  options.repository = request->repository();
  if (request->has_dangling()) options.dangling = request->dangling();
  options.all = request->all();
  options.page_size = request->page_size();
  options.page_token = request->page_token();
  absl::StatusOr<ImagePage> page = store_->ListImages(options);
  if (!page.ok()) return rpc::ToGrpc(page.status());
  for (const Image& image : page->images) ToProto(image, response->add_images());
  response->set_next_page_token(page->next_page_token);
  return grpc::Status::OK;
}

grpc::Status ImageGraphService::Tag(grpc::ServerContext*, const pb::TagRequest* request,
                                    pb::TagResponse* response) {
  absl::StatusOr<TagResult> result = store_->Tag(request->image(), request->target());
  if (!result.ok()) return rpc::ToGrpc(result.status());
  response->set_reference(result->reference);
  response->set_image_id(result->image_id);
  response->set_previous_image_id(result->previous_image_id);
  return grpc::Status::OK;
}

grpc::Status ImageGraphService::Untag(grpc::ServerContext*, const pb::UntagRequest* request,
                                      pb::UntagResponse* response) {
  absl::StatusOr<UntagResult> result = store_->Untag(request->reference());
  if (!result.ok()) return rpc::ToGrpc(result.status());
  response->set_reference(result->reference);
  response->set_image_id(result->image_id);
  return grpc::Status::OK;
}

grpc::Status ImageGraphService::DeleteImage(grpc::ServerContext*,
                                            const pb::DeleteImageRequest* request,
                                            pb::DeleteImageResponse* response) {
  DeleteImageOptions options;
  options.force = request->force();
  options.no_prune = request->no_prune();
  absl::StatusOr<DeleteImageResult> result = store_->DeleteImage(request->ref(), options);
  if (!result.ok()) return rpc::ToGrpc(result.status());
  for (const std::string& reference : result->untagged) response->add_untagged(reference);
  for (const std::string& id : result->deleted) response->add_deleted(id);
  for (const std::string& holder : result->held_by) response->add_held_by(holder);
  return grpc::Status::OK;
}

grpc::Status ImageGraphService::History(grpc::ServerContext*, const pb::HistoryRequest* request,
                                        pb::HistoryResponse* response) {
  absl::StatusOr<std::vector<HistoryEntry>> entries = store_->History(request->ref());
  if (!entries.ok()) return rpc::ToGrpc(entries.status());
  for (const HistoryEntry& entry : *entries) {
    pb::HistoryEntry* out = response->add_entries();
    out->set_image_id(entry.image_id);
    if (entry.created) rpc::ToTimestamp(*entry.created, out->mutable_created());
    out->set_created_by(entry.created_by);
    out->set_author(entry.author);
    out->set_comment(entry.comment);
    out->set_size(entry.size);
    out->set_empty_layer(entry.empty_layer);
    for (const std::string& tag : entry.tags) out->add_tags(tag);
  }
  return grpc::Status::OK;
}

grpc::Status ImageGraphService::ListChildren(grpc::ServerContext*,
                                             const pb::ListChildrenRequest* request,
                                             pb::ListChildrenResponse* response) {
  absl::StatusOr<std::vector<Image>> children = store_->ListChildren(request->ref());
  if (!children.ok()) return rpc::ToGrpc(children.status());
  for (const Image& child : *children) ToProto(child, response->add_children());
  return grpc::Status::OK;
}

grpc::Status ImageGraphService::ListReferencedBlobs(grpc::ServerContext*,
                                                    const pb::ListReferencedBlobsRequest* request,
                                                    pb::ListReferencedBlobsResponse* response) {
  absl::StatusOr<BlobPage> page =
      store_->ListReferencedBlobs(request->page_size(), request->page_token());
  if (!page.ok()) return rpc::ToGrpc(page.status());
  for (const std::string& digest : page->digests) response->add_digests(digest);
  response->set_next_page_token(page->next_page_token);
  return grpc::Status::OK;
}

grpc::Status ImageGraphService::HoldImage(grpc::ServerContext*, const pb::HoldImageRequest* request,
                                          pb::HoldImageResponse* response) {
  absl::StatusOr<Hold> hold =
      store_->HoldImage(request->image(), request->holder(), request->node());
  if (!hold.ok()) return rpc::ToGrpc(hold.status());
  ToProto(*hold, response->mutable_hold());
  return grpc::Status::OK;
}

grpc::Status ImageGraphService::ReleaseImage(grpc::ServerContext*,
                                             const pb::ReleaseImageRequest* request,
                                             pb::ReleaseImageResponse* response) {
  absl::StatusOr<bool> released = store_->ReleaseImage(request->holder());
  if (!released.ok()) return rpc::ToGrpc(released.status());
  response->set_released(*released);
  return grpc::Status::OK;
}

grpc::Status ImageGraphService::ListHolds(grpc::ServerContext*, const pb::ListHoldsRequest* request,
                                          pb::ListHoldsResponse* response) {
  absl::StatusOr<std::vector<Hold>> holds = store_->ListHolds(request->image());
  if (!holds.ok()) return rpc::ToGrpc(holds.status());
  for (const Hold& hold : *holds) ToProto(hold, response->add_holds());
  return grpc::Status::OK;
}

grpc::Status ImageGraphService::AddRepoDigest(grpc::ServerContext*,
                                              const pb::AddRepoDigestRequest* request,
                                              pb::AddRepoDigestResponse* response) {
  absl::StatusOr<Image> image = store_->GetImage(request->image());
  if (!image.ok()) return rpc::ToGrpc(image.status());
  absl::StatusOr<std::string> stored = store_->AddRepoDigest(image->id, request->repo_digest());
  if (!stored.ok()) return rpc::ToGrpc(stored.status());
  response->set_repo_digest(*stored);
  response->set_image_id(image->id);
  return grpc::Status::OK;
}

grpc::Status ImageGraphService::PutBlobVariant(grpc::ServerContext*,
                                               const pb::PutBlobVariantRequest* request,
                                               pb::PutBlobVariantResponse*) {
  if (!request->has_variant()) {
    return rpc::ToGrpc(absl::InvalidArgumentError("variant is required"));
  }
  const pb::BlobVariant& in = request->variant();
  BlobVariant variant;
  variant.diff_id = in.diff_id();
  variant.digest = in.digest();
  variant.media_type = in.media_type();
  variant.size = in.size();
  variant.repository = in.repository();
  return rpc::ToGrpc(store_->PutBlobVariant(variant));
}

grpc::Status ImageGraphService::ListBlobVariants(grpc::ServerContext*,
                                                 const pb::ListBlobVariantsRequest* request,
                                                 pb::ListBlobVariantsResponse* response) {
  absl::StatusOr<std::vector<BlobVariant>> variants =
      store_->ListBlobVariants(request->diff_id(), request->digest());
  if (!variants.ok()) return rpc::ToGrpc(variants.status());
  for (const BlobVariant& variant : *variants) ToProto(variant, response->add_variants());
  return grpc::Status::OK;
}

}  // namespace strata::imagegraph
