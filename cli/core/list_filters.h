#ifndef STRATA_CLI_CORE_LIST_FILTERS_H_
#define STRATA_CLI_CORE_LIST_FILTERS_H_

// docker's --filter for `images` and `ps`, with the daemon's rules (daemon/images/images.go,
// daemon/list.go): values of one key are alternatives (any may match), different keys must
// all match, and label filters must all match (docker's MatchKVList).
//   images: dangling=true|false, reference=PATTERN (path.Match on "name:tag" or on "name"),
//           before=IMAGE, since=IMAGE (by creation time), label=KEY[=VALUE]
//   ps:     status=created|restarting|running|removing|paused|exited|dead, name=REGEXP
//           (against "/name"), id=PREFIX, ancestor=IMAGE (the image or any image built on
//           it), label=KEY[=VALUE], exited=CODE

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "strata/imagegraph/v1/imagegraph.pb.h"
#include "strata/runtime/v1/runtime.pb.h"

namespace strata::gateway {

// key -> values, in the order given.
using Filters = std::map<std::string, std::vector<std::string>>;

// Parses "--filter key=value" flags; keys outside accepted are refused.
// Errors: INVALID_ARGUMENT in docker's words: "bad format of filter (expected name=value)",
// "invalid filter 'foo'".
absl::StatusOr<Filters> ParseFilters(const std::vector<std::string>& flags,
                                     const std::set<std::string>& accepted);

// Go's path.Match: '*' any run of characters but '/', '?' one, "[a-z]" classes, '\' escapes.
// Errors: INVALID_ARGUMENT "syntax error in pattern".
absl::StatusOr<bool> PathMatch(const std::string& pattern, const std::string& name);

// Finds an image by reference or id. Errors: NOT_FOUND ("No such image: X").
using ImageResolver = std::function<absl::StatusOr<imagegraph::v1::Image>(const std::string&)>;

class ImageFilter {
 public:
  // Errors: INVALID_ARGUMENT ("invalid filter 'dangling=[x]'", a bad pattern), NOT_FOUND
  // (before/since name no image).
  static absl::StatusOr<ImageFilter> Make(const Filters& filters, const ImageResolver& resolve);

  // dangling, before, since, label.
  bool MatchesImage(const imagegraph::v1::Image& image) const;
  // One of the image's references ("repo:tag", "repo@sha256:..."), as docker lists it only
  // when it matches a reference pattern; true without reference filters.
  bool MatchesReference(const std::string& familiar) const;
  bool has_reference() const { return !references_.empty(); }
  std::optional<bool> dangling() const { return dangling_; }

 private:
  std::optional<bool> dangling_;
  std::vector<std::string> references_;
  std::optional<absl::Time> before_;
  std::optional<absl::Time> since_;
  std::vector<std::string> labels_;
};

class ContainerFilter {
 public:
  // parent_of: an image id's parent id ("" at the bottom), to find descendants of ancestor=.
  // Errors: INVALID_ARGUMENT ("Unrecognised filter value for status", a bad regexp),
  // NOT_FOUND (an ancestor that names no image).
  static absl::StatusOr<ContainerFilter> Make(const Filters& filters, const ImageResolver& resolve,
                                              std::function<std::string(const std::string&)> parent_of);

  bool Matches(const runtime::v1::Container& container) const;
  // docker lists stopped containers too when status is filtered.
  bool wants_all() const { return !statuses_.empty() || !exited_.empty(); }

 private:
  std::set<std::string> statuses_;
  std::vector<std::string> names_;
  std::vector<std::string> ids_;
  std::set<std::string> ancestors_;  // image ids
  std::vector<std::string> ancestor_refs_;
  std::vector<std::string> labels_;
  std::set<int> exited_;
  std::function<std::string(const std::string&)> parent_of_;
};

// docker's State.Status word for a container state: created, running, paused, exited.
std::string ContainerStatusWord(const runtime::v1::Container& container);

}  // namespace strata::gateway

#endif  // STRATA_CLI_CORE_LIST_FILTERS_H_
