#ifndef STRATA_LIB_REFERENCE_REFERENCE_H_
#define STRATA_LIB_REFERENCE_REFERENCE_H_

// Image references, validated against docker's grammar (distribution/reference):
//
//   reference       := name [ ":" tag ] [ "@" digest ]
//   name            := [ domain "/" ] path-component [ "/" path-component ]*
//   domain          := domain-component [ "." domain-component ]* [ ":" port ]
//   domain-component:= [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]
//   path-component  := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
//   tag             := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
//
// As docker does, the first component is a domain only when it contains "." or ":" or is
// "localhost". The whole name is at most 255 characters. The tag defaults to "latest" when
// neither tag nor digest is given.
//
// Names are normalised as docker does (distribution/reference ParseNormalizedNamed):
// "busybox" is docker.io/library/busybox, "index.docker.io" is docker.io, and the short
// "familiar" name docker shows ("busybox", "team/app", "localhost:5000/app") is how Strata
// stores and displays a repository: it is unique for each normalised name.

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace strata {

inline constexpr char kDefaultDomain[] = "docker.io";

struct Reference {
  // The familiar name: "registry.example:5000/team/app", "team/app" or "app"
  // (for docker.io/library/app). The key of a tag in imagegraph.
  std::string name;
  // The registry: "docker.io", "localhost:5000", "quay.io".
  std::string domain;
  // The repository inside the registry: "library/busybox", "team/app".
  std::string path;
  // Empty only when a digest is given without a tag.
  std::string tag;
  // "sha256:<hex>" or empty.
  std::string digest;

  // domain/path: "docker.io/library/busybox".
  std::string FullName() const;
  // name:tag (and @digest when set), the familiar form docker prints.
  std::string ToString() const;
  // FullName():tag (and @digest when set).
  std::string FullString() const;
};

// Parses and validates a reference; the tag defaults to "latest" unless a digest is given.
// Errors: INVALID_ARGUMENT saying which rule the text broke, e.g.
//   invalid reference "App:1": repository name must be lowercase
absl::StatusOr<Reference> ParseReference(absl::string_view text);

// Validates a repository name alone (no tag, no digest), e.g. for a filter.
absl::Status ValidateRepositoryName(absl::string_view name);

// The familiar form of a repository name: "docker.io/library/busybox" -> "busybox".
// Errors: INVALID_ARGUMENT as ValidateRepositoryName.
absl::StatusOr<std::string> FamiliarRepositoryName(absl::string_view name);

}  // namespace strata

#endif  // STRATA_LIB_REFERENCE_REFERENCE_H_
