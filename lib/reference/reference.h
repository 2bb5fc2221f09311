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

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace strata {

struct Reference {
  // "registry.example:5000/team/app" or "app".
  std::string name;
  // Empty only when a digest is given without a tag.
  std::string tag;
  // "sha256:<hex>" or empty.
  std::string digest;

  // name:tag (and @digest when set).
  std::string ToString() const;
};

// Parses and validates a reference; the tag defaults to "latest" unless a digest is given.
// Errors: INVALID_ARGUMENT saying which rule the text broke, e.g.
//   invalid reference "App:1": repository name must be lowercase
absl::StatusOr<Reference> ParseReference(absl::string_view text);

// Validates a repository name alone (no tag, no digest), e.g. for a filter.
absl::Status ValidateRepositoryName(absl::string_view name);

}  // namespace strata

#endif  // STRATA_LIB_REFERENCE_REFERENCE_H_
