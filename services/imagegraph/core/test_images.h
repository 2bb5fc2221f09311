#ifndef STRATA_SERVICES_IMAGEGRAPH_CORE_TEST_IMAGES_H_
#define STRATA_SERVICES_IMAGEGRAPH_CORE_TEST_IMAGES_H_

// Image configs and layer descriptors for tests, built the way `docker commit` builds them:
// a base image of n layers, then commits that add a layer (or only a config step).

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "lib/oci/image_config.h"
#include "services/imagegraph/core/graph_store.h"
#include "strata/imagegraph/v1/imagegraph.pb.h"

namespace strata::imagegraph::testing {

struct TestImage {
  oci::ImageConfig config;
  std::vector<LayerDescriptor> layers;

  std::string bytes() const { return config.Serialize(); }
  // "sha256:" + SHA-256 of bytes().
  std::string id() const;
};

// A layer named `name`: digest, diff id and sizes derived from the name.
LayerDescriptor TestLayer(absl::string_view name);

// An image of `layers` layers named "<name>/0", "<name>/1", ...; created at `created`.
TestImage BaseImage(absl::string_view name, int layers, absl::Time created);

// parent plus one step ("RUN <step>") adding the layer "<step>", or a config-only step.
TestImage Commit(const TestImage& parent, absl::string_view step, absl::Time created,
                 bool empty_layer = false);

// The CreateImage request for image.
v1::CreateImageRequest CreateRequest(const TestImage& image, const std::string& parent_id = "",
                                     const std::vector<std::string>& tags = {});

// The same, for the core API.
NewImage ToNewImage(const TestImage& image, const std::string& parent_id = "",
                    const std::vector<std::string>& tags = {});

// A fixed time plus `seconds`.
absl::Time TestTime(int seconds);

}  // namespace strata::imagegraph::testing

#endif  // STRATA_SERVICES_IMAGEGRAPH_CORE_TEST_IMAGES_H_
