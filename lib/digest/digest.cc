#include "lib/digest/digest.h"

#include <cstdlib>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace strata {
namespace {

constexpr absl::string_view kPrefix = "sha256:";

std::string Quote(absl::string_view text) {
  // Keep hostile input readable and short in error messages.
  std::string out = "\"";
  for (char c : text.substr(0, 100)) {
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      out.push_back(c);
    } else {
      absl::StrAppend(&out, "\\x", absl::Hex(static_cast<unsigned char>(c), absl::kZeroPad2));
    }
  }
  if (text.size() > 100) out += "...";
  return out + "\"";
}

}  // namespace

bool IsLowerHex(absl::string_view hex) {
  if (hex.empty() || hex.size() > Digest::kHexLength) return false;
  for (char c : hex) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

absl::StatusOr<Digest> Digest::Parse(absl::string_view text) {
  if (text.empty()) return absl::InvalidArgumentError("digest is empty");
  const size_t colon = text.find(':');
  if (colon == absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("digest ", Quote(text), ": expected \"sha256:<64 hex digits>\""));
  }
  if (text.substr(0, colon) != "sha256") {
    return absl::InvalidArgumentError(absl::StrCat("digest ", Quote(text), ": algorithm \"",
                                                   text.substr(0, colon).substr(0, 20),
                                                   "\" is not supported, only sha256"));
  }
  absl::string_view hex = text.substr(colon + 1);
  if (hex.size() != kHexLength) {
    return absl::InvalidArgumentError(absl::StrCat(
        "digest ", Quote(text), ": expected 64 hex digits, got ", hex.size(), " characters"));
  }
  if (!IsLowerHex(hex)) {
    return absl::InvalidArgumentError(
        absl::StrCat("digest ", Quote(text), ": not lowercase hexadecimal"));
  }
  return Digest(std::string(text));
}

absl::StatusOr<Digest> Digest::FromHex(absl::string_view hex) {
  return Parse(absl::StrCat(kPrefix, hex));
}

Digest Digest::Of(absl::string_view data) {
  Sha256 hasher;
  hasher.Update(data);
  return hasher.Finish();
}

absl::string_view Digest::hex() const {
  absl::string_view text = text_;
  if (absl::StartsWith(text, kPrefix)) text.remove_prefix(kPrefix.size());
  return text;
}

Sha256::Sha256() : context_(EVP_MD_CTX_new()) {
  if (context_ == nullptr || EVP_DigestInit_ex(context_, EVP_sha256(), nullptr) != 1) {
    std::abort();  // Only fails when out of memory.
  }
}

Sha256::~Sha256() { EVP_MD_CTX_free(context_); }

void Sha256::Update(const void* data, size_t size) {
  EVP_DigestUpdate(context_, data, size);
  size_ += size;
}

Digest Sha256::Finish() {
  unsigned char raw[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(context_, raw, &length);
  static constexpr char kHexDigits[] = "0123456789abcdef";
  std::string text(kPrefix);
  text.reserve(kPrefix.size() + 2 * length);
  for (unsigned int i = 0; i < length; ++i) {
    text.push_back(kHexDigits[raw[i] >> 4]);
    text.push_back(kHexDigits[raw[i] & 0xf]);
  }
  EVP_DigestInit_ex(context_, EVP_sha256(), nullptr);
  size_ = 0;
  return Digest(std::move(text));
}

}  // namespace strata
