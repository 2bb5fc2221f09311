#include "cli/core/docker_words.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "lib/reference/reference.h"

namespace strata::gateway {
namespace {

bool Is64Hex(absl::string_view text) {
  return text.size() == 64 && std::all_of(text.begin(), text.end(), [](char c) {
           return absl::ascii_isdigit(c) || (c >= 'a' && c <= 'f');
         });
}

}  // namespace

absl::Status CheckTagTarget(const std::string& target) {
  if (Is64Hex(target)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Error parsing reference: \"", target, "\" is not a valid repository/tag: invalid ",
        "repository name (", target, "), cannot specify 64-byte hexadecimal strings"));
  }
  absl::StatusOr<Reference> reference = ParseReference(target);
  if (!reference.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("Error parsing reference: \"", target,
                     "\" is not a valid repository/tag: invalid reference format: ",
                     reference.status().message()));
  }
  if (!reference->digest.empty()) {
    return absl::InvalidArgumentError("refusing to create a tag with a digest reference");
  }
  if (Is64Hex(reference->name)) {
    return absl::InvalidArgumentError(absl::StrCat("invalid repository name (", reference->name,
                                                   "), cannot specify 64-byte hexadecimal strings"));
  }
  if (reference->name == "sha256") {
    return absl::InvalidArgumentError(
        "refusing to create an ambiguous tag using digest algorithm as name");
  }
  return absl::OkStatus();
}

std::string ImageNameForError(const std::string& ref) {
  if (absl::StartsWith(ref, "sha256:") || Is64Hex(ref)) return ref;
  absl::StatusOr<Reference> reference = ParseReference(ref);
  if (!reference.ok() || ref.find('@') != std::string::npos) return ref;
  const size_t slash = ref.rfind('/');
  const bool has_tag = ref.find(':', slash == std::string::npos ? 0 : slash) != std::string::npos;
  return has_tag ? ref : absl::StrCat(ref, ":latest");
}

std::string DockerConflict(const std::string& message) {
  for (const char* phrase :
       {" - image has dependent child images", " - image is referenced in multiple repositories"}) {
    const size_t found = message.find(phrase);
    if (found != std::string::npos) return message.substr(0, found + std::string(phrase).size());
  }
  return message;
}

absl::Status EmptyNameError(const std::string& kind) {
  return absl::InvalidArgumentError(absl::StrCat("invalid ", kind, " name or ID: value is empty"));
}

}  // namespace strata::gateway
