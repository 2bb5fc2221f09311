#ifndef STRATA_CLI_TEMPLATE_H_
#define STRATA_CLI_TEMPLATE_H_

// The subset of Go's text/template that docker's --format and inspect -f take, evaluated over
// JSON values (the same objects `strata inspect` prints, or one row of a list):
//   {{.Field.Sub}}  {{$}}  {{$v := .X}}  {{.X | json}}  {{(index .M "k").Sub}}
//   {{if PIPE}}..{{else if PIPE}}..{{else}}..{{end}}  {{range [$i, $v :=] PIPE}}..{{else}}..{{end}}
//   {{with PIPE}}..{{end}}  {{/* comments */}}  {{- and -}} trim markers
// Functions: docker's (json, split, join, title, lower, upper, pad, truncate) and Go's
// (index, len, print, printf, println, eq, ne, lt, le, gt, ge, and, or, not, slice).
// Values print as Go prints them: slices "[a b c]", maps "map[k:v]" (keys sorted).
// Errors carry Go's words ("template: :1:2: executing \"\" at <.Foo>: map has no entry for
// key \"Foo\""), so scripts that match them keep working.

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace strata::cli {

// Objects keep their keys in the order they were made: docker prints its structs' fields in
// declaration order (json, inspect), and maps sorted (lists are built so).
using Json = nlohmann::ordered_json;

namespace template_internal {
struct Node;
}  // namespace template_internal

struct TemplateOptions {
  // Names the data's Go type in docker's "can't evaluate field X in type T" error for a field
  // the root lacks ("*formatter.imageContext"); empty: the root is a map and a missing key
  // is "map has no entry for key".
  std::string type_name;
  // Table headers: a missing field is empty and docker's functions return their argument
  // (docker's HeaderFunctions), so "{{.Size | upper}}" heads its column with "SIZE".
  bool header = false;
};

class Template {
 public:
  // Errors: INVALID_ARGUMENT with Go's parse error ("template: :1: function \"foo\" not
  // defined", "template: :1: unclosed action", "template: :1: unexpected EOF").
  static absl::StatusOr<Template> Parse(absl::string_view text);

  // Errors: INVALID_ARGUMENT with Go's execution error.
  absl::StatusOr<std::string> Execute(const Json& data, const TemplateOptions& options = {}) const;

 private:
  std::string text_;
  std::shared_ptr<const template_internal::Node> root_;
};

// How Go's fmt prints a value decoded from JSON: strings bare, "[a b]", "map[k:v]", null
// as "<nil>".
std::string GoPrint(const Json& value);

// Go's encoding/json Marshal without HTML escaping (docker's {{json}}): compact.
std::string GoJson(const Json& value);

// docker's --format for lists: "table" alone is the command's default table, "table X" a
// table whose header comes from the fields X names, "json" one JSON object per line, else a
// template for each row. Literal \t and \n in the flag are tabs and newlines (docker's rule).
struct ListFormat {
  bool table = false;
  bool json = false;
  std::string text;  // the template, empty for the default table
};
ListFormat ParseListFormat(const std::string& flag);

// Renders rows with format.text (as a Go template), a header row first in a table; cells
// align like docker's tabwriter (minimum width 10, padding 3). headers maps field names
// ("Repository") to column titles ("REPOSITORY"). Errors: INVALID_ARGUMENT ("template
// parsing error: ...", docker's words).
absl::StatusOr<std::string> RenderList(const ListFormat& format, const std::vector<Json>& rows,
                                       const Json& headers, const std::string& type_name);

// docker's tabwriter (minwidth 10, tabwidth 1, padding 3, padded with spaces): each
// tab-terminated cell is padded to its column's width; text after the last tab is not.
std::string TabAlign(const std::string& text);

}  // namespace strata::cli

#endif  // STRATA_CLI_TEMPLATE_H_
