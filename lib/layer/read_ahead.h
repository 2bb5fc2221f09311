#ifndef STRATA_LIB_LAYER_READ_AHEAD_H_
#define STRATA_LIB_LAYER_READ_AHEAD_H_

#include <cstddef>
#include <deque>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "lib/layer/stream.h"

namespace strata::layer {

// A ByteSource that reads another on a thread of its own, up to `depth` chunks ahead, so what
// makes the bytes (a network stream, a decompressor) works while the consumer hashes and
// writes the chunks before: on two cores a copy takes the time of its slower half instead of
// the sum. The inner source's error comes out of Read() after the chunks read before it.
// The inner source is read only by that thread, from construction until destruction (which
// waits for the inner Read() under way, then stops): it must outlive this object.
class ReadAheadSource : public ByteSource {
 public:
  explicit ReadAheadSource(ByteSource* inner, size_t depth = 8);
  ~ReadAheadSource() override;
  ReadAheadSource(const ReadAheadSource&) = delete;
  ReadAheadSource& operator=(const ReadAheadSource&) = delete;

  absl::StatusOr<absl::string_view> Read() override;

 private:
  void Run();

  ByteSource* const inner_;
  const size_t depth_;
  absl::Mutex mu_;
  std::deque<std::string> chunks_ ABSL_GUARDED_BY(mu_);
  bool ended_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status status_ ABSL_GUARDED_BY(mu_);
  std::string current_;  // the consumer's chunk, valid until its next Read()
  std::thread thread_;   // last: started once everything above is set up
};

}  // namespace strata::layer

#endif  // STRATA_LIB_LAYER_READ_AHEAD_H_
