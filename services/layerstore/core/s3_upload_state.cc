#include "services/layerstore/core/s3_upload_state.h"

#include <cstring>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

// SHA256_Init and friends are deprecated in OpenSSL 3 in favour of EVP, whose state cannot be
// saved; they remain, and are what a resumable hash needs.
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

namespace strata::layerstore {

ResumableSha256::ResumableSha256() { SHA256_Init(&context_); }

void ResumableSha256::Update(const void* data, size_t size) {
  SHA256_Update(&context_, data, size);
}

Digest ResumableSha256::Finish() const {
  SHA256_CTX copy = context_;
  unsigned char out[SHA256_DIGEST_LENGTH];
  SHA256_Final(out, &copy);
  return *Digest::FromHex(
      absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(out), sizeof(out))));
}

std::string ResumableSha256::Save() const {
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(&context_), sizeof(context_)));
}

absl::Status ResumableSha256::Restore(const std::string& hex) {
  const std::string bytes = absl::HexStringToBytes(hex);
  if (bytes.size() != sizeof(context_) || hex.size() != 2 * sizeof(context_)) {
    return absl::DataLossError("upload state: the saved hash state is damaged");
  }
  std::memcpy(&context_, bytes.data(), sizeof(context_));
  return absl::OkStatus();
}

std::string EncodeUploadState(const S3UploadState& state) {
  nlohmann::json parts = nlohmann::json::array();
  for (const S3Part& part : state.parts) parts.push_back({part.number, part.etag, part.size});
  nlohmann::json json = {{"ref_hex", absl::BytesToHexString(state.ref)},
                         {"started_unix_nanos", absl::ToUnixNanos(state.started)},
                         {"updated_unix_nanos", absl::ToUnixNanos(state.updated)},
                         {"mpu_key", state.mpu_key},
                         {"upload_id", state.upload_id},
                         {"parts", parts},
                         {"parts_bytes", state.parts_bytes},
                         {"parts_hash", state.parts_hash},
                         {"tail_size", state.tail_size},
                         {"holder", state.holder},
                         {"lease_until_unix_nanos", state.lease_until == absl::InfinitePast()
                                                        ? int64_t{0}
                                                        : absl::ToUnixNanos(state.lease_until)}};
  if (state.expected.digest) json["expected_digest"] = state.expected.digest->str();
  if (state.expected.size) json["expected_size"] = *state.expected.size;
  return json.dump();
}

absl::StatusOr<S3UploadState> DecodeUploadState(const std::string& text) {
  const nlohmann::json json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  const auto damaged = [](absl::string_view what) {
    return absl::DataLossError(absl::StrCat("upload state is damaged: ", what));
  };
  if (!json.is_object()) return damaged("not a JSON object");
  try {
    S3UploadState state;
    const std::string ref_hex = json.at("ref_hex").get<std::string>();
    if (ref_hex.size() % 2 != 0) return damaged("ref is not hex");
    state.ref = absl::HexStringToBytes(ref_hex);
    state.started = absl::FromUnixNanos(json.at("started_unix_nanos").get<int64_t>());
    state.updated = absl::FromUnixNanos(json.at("updated_unix_nanos").get<int64_t>());
    state.mpu_key = json.at("mpu_key").get<std::string>();
    state.upload_id = json.at("upload_id").get<std::string>();
    for (const nlohmann::json& part : json.at("parts")) {
      state.parts.push_back(
          S3Part{part.at(0).get<int>(), part.at(1).get<std::string>(), part.at(2).get<int64_t>()});
    }
    state.parts_bytes = json.at("parts_bytes").get<int64_t>();
    state.parts_hash = json.at("parts_hash").get<std::string>();
    state.tail_size = json.at("tail_size").get<int64_t>();
    state.holder = json.at("holder").get<std::string>();
    const int64_t lease = json.at("lease_until_unix_nanos").get<int64_t>();
    state.lease_until = lease == 0 ? absl::InfinitePast() : absl::FromUnixNanos(lease);
    if (auto digest = json.find("expected_digest"); digest != json.end()) {
      absl::StatusOr<Digest> parsed = Digest::Parse(digest->get<std::string>());
      if (!parsed.ok()) return damaged(parsed.status().message());
      state.expected.digest = *parsed;
    }
    if (auto size = json.find("expected_size"); size != json.end()) {
      state.expected.size = size->get<int64_t>();
    }
    return state;
  } catch (const nlohmann::json::exception& e) {
    return damaged(e.what());
  }
}

}  // namespace strata::layerstore
