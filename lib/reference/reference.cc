#include "lib/reference/reference.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "lib/base/errors.h"
#include "lib/digest/digest.h"

namespace strata {
namespace {

constexpr size_t kMaxNameLength = 255;
constexpr size_t kMaxTagLength = 128;
constexpr char kLegacyDefaultDomain[] = "index.docker.io";
constexpr char kOfficialRepoPrefix[] = "library/";

std::string Printable(absl::string_view text) {
  std::string out;
  for (char c : text.substr(0, 300)) {
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      out.push_back(c);
    } else {
      absl::StrAppend(&out, "\\x", absl::Hex(static_cast<unsigned char>(c), absl::kZeroPad2));
    }
  }
  return out;
}

absl::Status Invalid(absl::string_view text, absl::string_view rule) {
  return absl::InvalidArgumentError(
      absl::StrCat("invalid reference \"", Printable(text), "\": ", rule));
}

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool IsAlnum(char c) { return absl::ascii_isalnum(static_cast<unsigned char>(c)); }

// path-component := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
bool IsPathComponent(absl::string_view part) {
  size_t i = 0;
  auto alnum_run = [&]() {
    size_t start = i;
    while (i < part.size() && IsLowerAlnum(part[i])) ++i;
    return i > start;
  };
  if (!alnum_run()) return false;
  while (i < part.size()) {
    if (part[i] == '.') {
      ++i;
    } else if (part[i] == '_') {
      ++i;
      if (i < part.size() && part[i] == '_') ++i;
    } else if (part[i] == '-') {
      while (i < part.size() && part[i] == '-') ++i;
    } else {
      return false;
    }
    if (!alnum_run()) return false;
  }
  return true;
}

bool IsDomainComponent(absl::string_view part) {
  if (part.empty() || !IsAlnum(part.front()) || !IsAlnum(part.back())) return false;
  for (char c : part) {
    if (!IsAlnum(c) && c != '-') return false;
  }
  return true;
}

absl::Status ValidateDomain(absl::string_view text, absl::string_view domain) {
  absl::string_view host = domain;
  const size_t colon = domain.find(':');
  if (colon != absl::string_view::npos) {
    host = domain.substr(0, colon);
    absl::string_view port = domain.substr(colon + 1);
    if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), [](char c) {
          return absl::ascii_isdigit(static_cast<unsigned char>(c));
        })) {
      return Invalid(text,
                     absl::StrCat("registry port \"", Printable(port), "\" must be a number"));
    }
  }
  for (absl::string_view part : absl::StrSplit(host, '.')) {
    if (!IsDomainComponent(part)) {
      return Invalid(text, absl::StrCat("registry host \"", Printable(host),
                                        "\" must be dot-separated letters, digits and inner "
                                        "hyphens"));
    }
  }
  return absl::OkStatus();
}

// Splits a name as docker does: the first component names a registry only when it contains
// "." or ":" or is "localhost"; otherwise the registry is docker.io.
void SplitDomain(absl::string_view name, std::string& domain, std::string& path) {
  const size_t slash = name.find('/');
  absl::string_view first = slash == absl::string_view::npos ? "" : name.substr(0, slash);
  if (slash != absl::string_view::npos &&
      (first.find('.') != absl::string_view::npos || first.find(':') != absl::string_view::npos ||
       first == "localhost")) {
    domain = std::string(first);
    path = std::string(name.substr(slash + 1));
  } else {
    domain = kDefaultDomain;
    path = std::string(name);
  }
  if (domain == kLegacyDefaultDomain) domain = kDefaultDomain;
  if (domain == kDefaultDomain && path.find('/') == std::string::npos) {
    path = absl::StrCat(kOfficialRepoPrefix, path);
  }
}

std::string Familiar(const std::string& domain, const std::string& path) {
  if (domain != kDefaultDomain) return absl::StrCat(domain, "/", path);
  // A first component that reads as a registry ("a.io/x" on docker.io) keeps its domain, so
  // the familiar name parses back to the same repository (found by fuzz/reference_fuzzer).
  const absl::string_view first = absl::string_view(path).substr(0, path.find('/'));
  if (path.find('/') != std::string::npos &&
      (first.find_first_of(".:") != absl::string_view::npos || first == "localhost")) {
    return absl::StrCat(domain, "/", path);
  }
  absl::string_view rest = path;
  if (absl::ConsumePrefix(&rest, kOfficialRepoPrefix) &&
      rest.find('/') == absl::string_view::npos) {
    return std::string(rest);
  }
  return path;
}

absl::Status ValidateName(absl::string_view text, absl::string_view name) {
  if (name.empty()) return Invalid(text, "repository name is empty");
  if (name.size() > kMaxNameLength) {
    return Invalid(text,
                   absl::StrCat("repository name is ", name.size(), " characters, more than 255"));
  }
  std::vector<absl::string_view> parts = absl::StrSplit(name, '/');
  size_t first_path = 0;
  if (parts.size() > 1 &&
      (parts[0].find('.') != absl::string_view::npos ||
       parts[0].find(':') != absl::string_view::npos || parts[0] == "localhost")) {
    auto status = ValidateDomain(text, parts[0]);
    if (!status.ok()) return status;
    first_path = 1;
  }
  for (size_t i = first_path; i < parts.size(); ++i) {
    absl::string_view part = parts[i];
    if (part.empty()) return Invalid(text, "repository name has an empty path component");
    if (std::any_of(part.begin(), part.end(),
                    [](char c) { return absl::ascii_isupper(static_cast<unsigned char>(c)); })) {
      return Invalid(text, "repository name must be lowercase");
    }
    if (!IsPathComponent(part)) {
      return Invalid(text, absl::StrCat("path component \"", Printable(part),
                                        "\" must be lowercase letters and digits separated by "
                                        "\".\", \"_\", \"__\" or dashes"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateTag(absl::string_view text, absl::string_view tag) {
  const std::string rule = "[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}";
  if (tag.empty()) return Invalid(text, absl::StrCat("tag is empty; it must match ", rule));
  if (tag.size() > kMaxTagLength) {
    return Invalid(text, absl::StrCat("tag is ", tag.size(), " characters, more than 128"));
  }
  auto word = [](char c) { return IsAlnum(c) || c == '_'; };
  if (!word(tag[0])) {
    return Invalid(text, absl::StrCat("tag must start with a letter, digit or \"_\" (", rule, ")"));
  }
  for (char c : tag) {
    if (!word(c) && c != '.' && c != '-') {
      return Invalid(text, absl::StrCat("tag must match ", rule));
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::string Reference::FullName() const { return absl::StrCat(domain, "/", path); }

std::string Reference::ToString() const {
  std::string out = name;
  if (!tag.empty()) absl::StrAppend(&out, ":", tag);
  if (!digest.empty()) absl::StrAppend(&out, "@", digest);
  return out;
}

std::string Reference::FullString() const {
  std::string out = FullName();
  if (!tag.empty()) absl::StrAppend(&out, ":", tag);
  if (!digest.empty()) absl::StrAppend(&out, "@", digest);
  return out;
}

absl::Status ValidateRepositoryName(absl::string_view name) { return ValidateName(name, name); }

absl::StatusOr<std::string> FamiliarRepositoryName(absl::string_view name) {
  RETURN_IF_ERROR(ValidateName(name, name));
  std::string domain, path;
  SplitDomain(name, domain, path);
  return Familiar(domain, path);
}

absl::StatusOr<Reference> ParseReference(absl::string_view text) {
  if (text.empty()) return Invalid(text, "reference is empty");
  Reference reference;
  absl::string_view rest = text;
  const size_t at = rest.find('@');
  if (at != absl::string_view::npos) {
    auto digest = Digest::Parse(rest.substr(at + 1));
    if (!digest.ok()) return Invalid(text, digest.status().message());
    reference.digest = digest->str();
    rest = rest.substr(0, at);
  }
  // A ':' after the last '/' starts the tag; one before it belongs to a registry port.
  const size_t slash = rest.rfind('/');
  const size_t colon = rest.rfind(':');
  if (colon != absl::string_view::npos && (slash == absl::string_view::npos || colon > slash)) {
    reference.tag = std::string(rest.substr(colon + 1));
    auto status = ValidateTag(text, reference.tag);
    if (!status.ok()) return status;
    rest = rest.substr(0, colon);
  }
  auto status = ValidateName(text, rest);
  if (!status.ok()) return status;
  SplitDomain(rest, reference.domain, reference.path);
  reference.name = Familiar(reference.domain, reference.path);
  if (reference.FullName().size() > kMaxNameLength) {
    return Invalid(text, absl::StrCat("repository name is ", reference.FullName().size(),
                                      " characters with its registry, more than 255"));
  }
  if (reference.tag.empty() && reference.digest.empty()) reference.tag = "latest";
  return reference;
}

}  // namespace strata
