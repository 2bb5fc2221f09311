#ifndef STRATA_SERVICES_LAYERSTORE_CORE_BLOB_STORE_CONFORMANCE_H_
#define STRATA_SERVICES_LAYERSTORE_CORE_BLOB_STORE_CONFORMANCE_H_

// The behaviour every BlobStore implementation must have, as a value-parameterized GoogleTest
// suite. A backend runs it by giving a factory for a harness around a fresh, empty store:
//
//   INSTANTIATE_TEST_SUITE_P(
//       Fs, BlobStoreConformanceTest,
//       ::testing::Values(BlobStoreConformanceParam{"default", [] { return MakeMyHarness(); }}),
//       BlobStoreConformanceTest::ParamName);
//
// Link the test with //services/layerstore/core:conformance (alwayslink, so the TEST_Ps
// register).

#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "gtest/gtest.h"
#include "services/layerstore/core/blob_store.h"

namespace strata::layerstore {

// A store under test together with its storage.
class BlobStoreHarness {
 public:
  virtual ~BlobStoreHarness() = default;
  virtual BlobStore& store() = 0;
  // Drops the store and opens a new one over the same storage, as a service restart does.
  virtual void Restart() = 0;
  // Another store over the same storage, as a second replica of the service would open it.
  virtual std::unique_ptr<BlobStore> OpenReplica() = 0;
};

struct BlobStoreConformanceParam {
  // Names the instantiation in test names: letters, digits and underscores.
  std::string name;
  // Returns a harness around an empty store.
  std::function<std::unique_ptr<BlobStoreHarness>()> factory;
};

inline void PrintTo(const BlobStoreConformanceParam& param, std::ostream* out) {
  *out << param.name;
}

class BlobStoreConformanceTest : public ::testing::TestWithParam<BlobStoreConformanceParam> {
 public:
  static std::string ParamName(const ::testing::TestParamInfo<BlobStoreConformanceParam>& info) {
    return info.param.name;
  }

 protected:
  void SetUp() override { harness_ = GetParam().factory(); }
  BlobStore& store() { return harness_->store(); }

  std::unique_ptr<BlobStoreHarness> harness_;
};

}  // namespace strata::layerstore

#endif  // STRATA_SERVICES_LAYERSTORE_CORE_BLOB_STORE_CONFORMANCE_H_
