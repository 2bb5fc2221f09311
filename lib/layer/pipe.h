#ifndef STRATA_LIB_LAYER_PIPE_H_
#define STRATA_LIB_LAYER_PIPE_H_

// An in-process pipe between two threads: one writes a stream into sink(), the other reads it
// from source(), with at most `depth` chunks in between (bounded memory, the writer waits for
// a slow reader). Used where one stream feeds two consumers at once, such as a layer being
// compressed into layerstore while it is uploaded to a registry.

#include <cstddef>
#include <deque>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "lib/layer/stream.h"

namespace strata::layer {

class Pipe {
 public:
  explicit Pipe(size_t depth = 8) : depth_(depth), sink_(this), source_(this) {}
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;

  // The writer's end. Write() copies the chunk in (waiting while the pipe is full); once the
  // reader has gone (CloseRead) writes are dropped and succeed, so a writer that also feeds
  // another consumer goes on. Close() ends the stream.
  ByteSink* sink() { return &sink_; }
  // Ends the stream with an error instead: the reader's next Read() returns it.
  void Fail(absl::Status status);

  // The reader's end: the chunks in order, then an empty chunk (or the writer's error).
  ByteSource* source() { return &source_; }
  // The reader stops reading: a waiting writer is released, later writes are dropped.
  void CloseRead();

 private:
  class Sink : public ByteSink {
   public:
    explicit Sink(Pipe* pipe) : pipe_(pipe) {}
    absl::Status Write(absl::string_view data) override;
    absl::Status Close() override;

   private:
    Pipe* pipe_;
  };
  class Source : public ByteSource {
   public:
    explicit Source(Pipe* pipe) : pipe_(pipe) {}
    absl::StatusOr<absl::string_view> Read() override;

   private:
    Pipe* pipe_;
    std::string current_;  // valid until the next Read()
  };

  const size_t depth_;
  absl::Mutex mu_;
  std::deque<std::string> chunks_ ABSL_GUARDED_BY(mu_);
  bool ended_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status status_ ABSL_GUARDED_BY(mu_);
  bool reader_gone_ ABSL_GUARDED_BY(mu_) = false;
  Sink sink_;
  Source source_;
};

}  // namespace strata::layer

#endif  // STRATA_LIB_LAYER_PIPE_H_
