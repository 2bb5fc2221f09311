#include "cli/core/list_filters.h"

#include <algorithm>
#include <regex>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "lib/rpc/time.h"
#include "nlohmann/json.hpp"

namespace strata::gateway {
namespace {

namespace ig = ::strata::imagegraph::v1;
namespace rt = ::strata::runtime::v1;

// Go's error text for a filter value docker refuses: "invalid filter 'dangling=[x]'".
absl::Status InvalidValue(const std::string& key, const std::vector<std::string>& values) {
  return absl::InvalidArgumentError(
      absl::StrCat("invalid filter '", key, "=[", absl::StrJoin(values, " "), "]'"));
}

// docker's MatchKVList: every "k", "k=v" or "k!=v" holds.
template <typename Labels>
bool LabelsMatch(const std::vector<std::string>& filters, const Labels& labels) {
  for (const std::string& filter : filters) {
    const size_t not_equals = filter.find("!=");
    const size_t equals = filter.find('=');
    if (not_equals != std::string::npos && not_equals < equals) {
      auto found = labels.find(filter.substr(0, not_equals));
      if (found != labels.end() && found->second == filter.substr(not_equals + 2)) return false;
      continue;
    }
    auto found = labels.find(filter.substr(0, equals));
    if (found == labels.end()) return false;
    if (equals != std::string::npos && found->second != filter.substr(equals + 1)) return false;
  }
  return true;
}

// One character class "[...]" at pattern[i] (after '['); sets *end past ']'.
absl::StatusOr<bool> ClassMatch(const std::string& pattern, size_t i, char c, size_t* end) {
  bool negate = false;
  if (i < pattern.size() && pattern[i] == '^') {
    negate = true;
    ++i;
  }
  bool matched = false;
  bool first = true;
  for (;; first = false) {
    if (i >= pattern.size()) return absl::InvalidArgumentError("syntax error in pattern");
    if (pattern[i] == ']' && !first) break;
    auto next = [&](char* out) -> absl::Status {
      if (pattern[i] == '\\') ++i;
      if (i >= pattern.size()) return absl::InvalidArgumentError("syntax error in pattern");
      *out = pattern[i++];
      return absl::OkStatus();
    };
    char low = 0, high = 0;
    if (absl::Status got = next(&low); !got.ok()) return got;
    high = low;
    if (i + 1 < pattern.size() && pattern[i] == '-' && pattern[i + 1] != ']') {
      ++i;
      if (absl::Status got = next(&high); !got.ok()) return got;
    }
    if (low <= c && c <= high) matched = true;
  }
  *end = i + 1;
  return matched != negate;
}

absl::StatusOr<bool> Match(const std::string& pattern, size_t p, const std::string& name,
                           size_t n) {
  while (p < pattern.size()) {
    const char c = pattern[p];
    if (c == '*') {
      while (p < pattern.size() && pattern[p] == '*') ++p;
      // '*' never crosses a '/'.
      for (size_t k = n;; ++k) {
        absl::StatusOr<bool> rest = Match(pattern, p, name, k);
        if (!rest.ok() || *rest) return rest;
        if (k >= name.size() || name[k] == '/') return false;
      }
    }
    if (n >= name.size()) {
      // Still check the rest of the pattern's syntax, as Go does.
      if (c == '[') {
        size_t end = 0;
        absl::StatusOr<bool> checked = ClassMatch(pattern, p + 1, '\0', &end);
        if (!checked.ok()) return checked;
      }
      return false;
    }
    if (c == '?') {
      if (name[n] == '/') return false;
    } else if (c == '[') {
      if (name[n] == '/') return false;
      size_t end = 0;
      absl::StatusOr<bool> matched = ClassMatch(pattern, p + 1, name[n], &end);
      if (!matched.ok() || !*matched) return matched;
      p = end;
      ++n;
      continue;
    } else if (c == '\\') {
      if (++p >= pattern.size()) return absl::InvalidArgumentError("syntax error in pattern");
      if (pattern[p] != name[n]) return false;
    } else if (c != name[n]) {
      return false;
    }
    ++p;
    ++n;
  }
  return n == name.size();
}

absl::StatusOr<absl::Time> CreatedOf(const ImageResolver& resolve, const std::string& ref) {
  absl::StatusOr<ig::Image> image = resolve(ref);
  if (!image.ok()) return image.status();
  return rpc::FromTimestamp(image->created());
}

}  // namespace

absl::StatusOr<Filters> ParseFilters(const std::vector<std::string>& flags,
                                     const std::set<std::string>& accepted) {
  Filters filters;
  for (const std::string& flag : flags) {
    const size_t equals = flag.find('=');
    if (equals == std::string::npos || equals == 0) {
      return absl::InvalidArgumentError("bad format of filter (expected name=value)");
    }
    const std::string key = flag.substr(0, equals);
    if (accepted.count(key) == 0) {
      return absl::InvalidArgumentError(absl::StrCat("invalid filter '", key, "'"));
    }
    filters[key].push_back(flag.substr(equals + 1));
  }
  return filters;
}

absl::StatusOr<bool> PathMatch(const std::string& pattern, const std::string& name) {
  return Match(pattern, 0, name, 0);
}

absl::StatusOr<ImageFilter> ImageFilter::Make(const Filters& filters,
                                              const ImageResolver& resolve) {
  ImageFilter filter;
  for (const auto& [key, values] : filters) {
    if (key == "dangling") {
      // One value, true or false (docker's ExactMatch check).
      std::set<std::string> distinct(values.begin(), values.end());
      if (distinct.size() != 1 || (*distinct.begin() != "true" && *distinct.begin() != "false")) {
        return InvalidValue(key, values);
      }
      filter.dangling_ = *distinct.begin() == "true";
    } else if (key == "reference") {
      for (const std::string& pattern : values) {
        absl::StatusOr<bool> checked = PathMatch(pattern, "");
        if (!checked.ok()) return checked.status();
      }
      filter.references_ = values;
    } else if (key == "before" || key == "since") {
      // docker takes the last one given.
      absl::StatusOr<absl::Time> created = CreatedOf(resolve, values.back());
      if (!created.ok()) return created.status();
      (key == "before" ? filter.before_ : filter.since_) = *created;
    } else if (key == "label") {
      filter.labels_ = values;
    } else {
      return absl::InvalidArgumentError(absl::StrCat("invalid filter '", key, "'"));
    }
  }
  return filter;
}

bool ImageFilter::MatchesImage(const ig::Image& image) const {
  const bool untagged = image.tags().empty();
  if (dangling_.has_value() && *dangling_ != untagged) return false;
  const absl::Time created = rpc::FromTimestamp(image.created());
  if (before_.has_value() && !(created < *before_)) return false;
  if (since_.has_value() && !(created > *since_)) return false;
  if (!labels_.empty()) {
    nlohmann::json config = nlohmann::json::parse(image.config(), nullptr, false);
    std::map<std::string, std::string> labels;
    if (config.is_object() && config.contains("config") && config["config"].is_object() &&
        config["config"].contains("Labels") && config["config"]["Labels"].is_object()) {
      for (const auto& [key, value] : config["config"]["Labels"].items()) {
        if (value.is_string()) labels[key] = value.get<std::string>();
      }
    }
    if (!LabelsMatch(labels_, labels)) return false;
  }
  return true;
}

bool ImageFilter::MatchesReference(const std::string& familiar) const {
  if (references_.empty()) return true;
  // The name alone: "busybox" for "busybox:latest" and "busybox@sha256:...".
  std::string name = familiar.substr(0, familiar.find('@'));
  const size_t colon = name.rfind(':');
  if (colon != std::string::npos && name.find('/', colon) == std::string::npos) {
    name = name.substr(0, colon);
  }
  for (const std::string& pattern : references_) {
    if (PathMatch(pattern, familiar).value_or(false) || PathMatch(pattern, name).value_or(false)) {
      return true;
    }
  }
  return false;
}

std::string ContainerStatusWord(const rt::Container& container) {
  switch (container.state()) {
    case rt::CREATED: return "created";
    case rt::RUNNING: return "running";
    case rt::PAUSED: return "paused";
    case rt::EXITED: return "exited";
    default: return "dead";
  }
}

absl::StatusOr<ContainerFilter> ContainerFilter::Make(
    const Filters& filters, const ImageResolver& resolve,
    std::function<std::string(const std::string&)> parent_of) {
  static const std::set<std::string> kStatuses = {"created", "restarting", "running", "removing",
                                                  "paused",  "exited",     "dead"};
  ContainerFilter filter;
  filter.parent_of_ = std::move(parent_of);
  for (const auto& [key, values] : filters) {
    if (key == "status") {
      for (const std::string& value : values) {
        if (kStatuses.count(value) == 0) {
          return absl::InvalidArgumentError("Unrecognised filter value for status");
        }
        filter.statuses_.insert(value);
      }
    } else if (key == "name") {
      for (const std::string& value : values) {
        try {
          std::regex check(value);
        } catch (const std::regex_error&) {
          return absl::InvalidArgumentError(absl::StrCat("invalid filter 'name=", value, "'"));
        }
      }
      filter.names_ = values;
    } else if (key == "id") {
      filter.ids_ = values;
    } else if (key == "ancestor") {
      for (const std::string& value : values) {
        absl::StatusOr<ig::Image> image = resolve(value);
        if (!image.ok()) return image.status();
        filter.ancestors_.insert(image->id());
        filter.ancestor_refs_.push_back(value);
      }
    } else if (key == "label") {
      filter.labels_ = values;
    } else if (key == "exited") {
      for (const std::string& value : values) {
        int code = 0;
        if (!absl::SimpleAtoi(value, &code)) return InvalidValue(key, values);
        filter.exited_.insert(code);
      }
    } else {
      return absl::InvalidArgumentError(absl::StrCat("invalid filter '", key, "'"));
    }
  }
  return filter;
}

bool ContainerFilter::Matches(const rt::Container& container) const {
  if (!statuses_.empty() && statuses_.count(ContainerStatusWord(container)) == 0) return false;
  if (!exited_.empty() &&
      (container.state() != rt::EXITED || exited_.count(container.exit_code()) == 0)) {
    return false;
  }
  if (!names_.empty()) {
    const std::string name = "/" + container.name();
    bool any = false;
    for (const std::string& pattern : names_) {
      if (std::regex_search(name, std::regex(pattern))) any = true;
    }
    if (!any) return false;
  }
  if (!ids_.empty() && std::none_of(ids_.begin(), ids_.end(), [&](const std::string& id) {
        return absl::StartsWith(container.id(), id);
      })) {
    return false;
  }
  if (!ancestors_.empty()) {
    bool any = std::find(ancestor_refs_.begin(), ancestor_refs_.end(), container.image_ref()) !=
               ancestor_refs_.end();
    // The image itself or any below it in its history (docker's "ancestor").
    std::string image = container.image_id();
    for (int depth = 0; !any && !image.empty() && depth < 10000; ++depth) {
      if (ancestors_.count(image) > 0) any = true;
      image = parent_of_ ? parent_of_(image) : "";
    }
    if (!any) return false;
  }
  if (!labels_.empty() && !LabelsMatch(labels_, container.config().labels())) return false;
  return true;
}

}  // namespace strata::gateway
