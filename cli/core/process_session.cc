#include "cli/core/process_session.h"

namespace strata::gateway {
namespace {

class CleanupSession : public ProcessSession {
 public:
  CleanupSession(std::unique_ptr<ProcessSession> session, std::function<void()> on_end)
      : session_(std::move(session)), on_end_(std::move(on_end)) {}
  ~CleanupSession() override {
    session_.reset();
    on_end_();
  }

  absl::StatusOr<std::optional<runtime::v1::ProcessOutput>> Next() override {
    return session_->Next();
  }
  absl::Status SendStdin(absl::string_view data) override { return session_->SendStdin(data); }
  absl::Status CloseStdin() override { return session_->CloseStdin(); }
  absl::Status Resize(uint32_t rows, uint32_t cols) override {
    return session_->Resize(rows, cols);
  }
  void Cancel() override { session_->Cancel(); }

 private:
  std::unique_ptr<ProcessSession> session_;
  std::function<void()> on_end_;
};

}  // namespace

std::unique_ptr<ProcessSession> WithCleanup(std::unique_ptr<ProcessSession> session,
                                            std::function<void()> on_end) {
  return std::make_unique<CleanupSession>(std::move(session), std::move(on_end));
}

}  // namespace strata::gateway
