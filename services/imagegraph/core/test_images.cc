#include "services/imagegraph/core/test_images.h"

#include "absl/strings/str_cat.h"
#include "lib/digest/digest.h"
#include "lib/oci/media_types.h"

namespace strata::imagegraph::testing {

std::string TestImage::id() const { return Digest::Of(bytes()).str(); }

LayerDescriptor TestLayer(absl::string_view name) {
  LayerDescriptor layer;
  layer.digest = Digest::Of(absl::StrCat("blob ", name)).str();
  layer.diff_id = Digest::Of(absl::StrCat("diff ", name)).str();
  layer.media_type = oci::kMediaTypeLayerZstd;
  layer.size = 1000 + 10 * static_cast<int64_t>(name.size());
  layer.uncompressed_size = 4000 + 100 * static_cast<int64_t>(name.size());
  return layer;
}

absl::Time TestTime(int seconds) {
  return absl::FromUnixSeconds(1714564800) + absl::Seconds(seconds) + absl::Microseconds(123456);
}

TestImage BaseImage(absl::string_view name, int layers, absl::Time created) {
  TestImage image;
  image.config.set_created(oci::FormatRfc3339(created));
  for (int i = 0; i < layers; ++i) {
    LayerDescriptor layer = TestLayer(absl::StrCat(name, "/", i));
    oci::History step;
    step.created = oci::FormatRfc3339(created);
    step.created_by = absl::StrCat("/bin/sh -c #(nop) ADD ", name, "/", i);
    step.author = "base author";
    step.comment = i == 0 ? "imported" : "";
    image.config.AddLayer(*Digest::Parse(layer.diff_id), step);
    image.layers.push_back(layer);
  }
  return image;
}

TestImage Commit(const TestImage& parent, absl::string_view step_name, absl::Time created,
                 bool empty_layer) {
  TestImage image = parent;
  image.config.set_created(oci::FormatRfc3339(created));
  oci::History step;
  step.created = oci::FormatRfc3339(created);
  step.created_by = absl::StrCat("RUN ", step_name);
  step.author = "committer";
  step.comment = absl::StrCat("commit ", step_name);
  if (empty_layer) {
    image.config.AddEmptyStep(step);
  } else {
    LayerDescriptor layer = TestLayer(step_name);
    image.config.AddLayer(*Digest::Parse(layer.diff_id), step);
    image.layers.push_back(layer);
  }
  return image;
}

v1::CreateImageRequest CreateRequest(const TestImage& image, const std::string& parent_id,
                                     const std::vector<std::string>& tags) {
  v1::CreateImageRequest request;
  request.set_config(image.bytes());
  for (const LayerDescriptor& layer : image.layers) {
    auto* out = request.add_layers();
    out->set_digest(layer.digest);
    out->set_diff_id(layer.diff_id);
    out->set_media_type(layer.media_type);
    out->set_size(layer.size);
    out->set_uncompressed_size(layer.uncompressed_size);
  }
  request.set_parent_id(parent_id);
  for (const std::string& tag : tags) request.add_tags(tag);
  return request;
}

NewImage ToNewImage(const TestImage& image, const std::string& parent_id,
                    const std::vector<std::string>& tags) {
  NewImage out;
  out.config = image.bytes();
  out.layers = image.layers;
  out.parent_id = parent_id;
  out.tags = tags;
  return out;
}

}  // namespace strata::imagegraph::testing
