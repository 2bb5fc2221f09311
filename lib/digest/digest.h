#ifndef STRATA_LIB_DIGEST_DIGEST_H_
#define STRATA_LIB_DIGEST_DIGEST_H_

// Content digests as OCI writes them: "sha256:" followed by 64 lowercase hex digits. Every
// digest that enters Strata from outside goes through Digest::Parse, so a digest held in a
// Digest is always safe to use as a file name.

#include <openssl/evp.h>

#include <cstddef>
#include <ostream>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace strata {

class Digest {
 public:
  static constexpr size_t kHexLength = 64;

  // Accepts exactly "sha256:<64 lowercase hex>".
  // Errors: INVALID_ARGUMENT naming the digest and what is wrong with it.
  static absl::StatusOr<Digest> Parse(absl::string_view text);

  // Accepts "<64 lowercase hex>" (no algorithm), as image ids are often written.
  static absl::StatusOr<Digest> FromHex(absl::string_view hex);

  // The SHA-256 of data.
  static Digest Of(absl::string_view data);

  Digest() = default;

  // "sha256:<hex>"; empty for a default-constructed Digest.
  const std::string& str() const { return text_; }
  // The 64 hex digits.
  absl::string_view hex() const;
  // The first 12 hex digits, as `docker images` shows ids.
  std::string ShortHex() const { return std::string(hex().substr(0, 12)); }
  bool empty() const { return text_.empty(); }

  friend bool operator==(const Digest& a, const Digest& b) { return a.text_ == b.text_; }
  friend bool operator!=(const Digest& a, const Digest& b) { return a.text_ != b.text_; }
  friend bool operator<(const Digest& a, const Digest& b) { return a.text_ < b.text_; }
  friend std::ostream& operator<<(std::ostream& out, const Digest& digest) {
    return out << (digest.text_.empty() ? "<no digest>" : digest.text_);
  }

 private:
  explicit Digest(std::string text) : text_(std::move(text)) {}
  friend class Sha256;

  std::string text_;
};

// True when hex is non-empty lowercase hex of at most 64 digits (an id prefix).
bool IsLowerHex(absl::string_view hex);

// Streaming SHA-256 over OpenSSL's EVP interface.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(const void* data, size_t size);
  void Update(absl::string_view data) { Update(data.data(), data.size()); }
  // Bytes hashed so far.
  uint64_t size() const { return size_; }
  // The digest of everything hashed; the hasher is then reset for reuse.
  Digest Finish();

 private:
  EVP_MD_CTX* context_;
  uint64_t size_ = 0;
};

}  // namespace strata

#endif  // STRATA_LIB_DIGEST_DIGEST_H_
