#ifndef STRATA_CLI_CORE_PROGRESS_H_
#define STRATA_CLI_CORE_PROGRESS_H_

// How a long workflow (import, commit, ...) tells its caller how far it got: the CLI draws
// progress lines on a terminal, the gRPC gateway streams the messages to its client.

#include "strata/gateway/v1/gateway.pb.h"

namespace strata::gateway {

class ProgressObserver {
 public:
  virtual ~ProgressObserver() = default;
  // Called from the workflow's thread, as often as the workflow makes progress (keep it
  // cheap: implementations rate-limit what they show or send).
  virtual void OnProgress(const v1::Progress& progress) = 0;
};

// Reports nothing.
class NoProgress : public ProgressObserver {
 public:
  void OnProgress(const v1::Progress&) override {}
};

}  // namespace strata::gateway

#endif  // STRATA_CLI_CORE_PROGRESS_H_
