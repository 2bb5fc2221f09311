// docker's --format for list commands (images, ps, history): its table, json and template
// forms over one JSON object per row (cli/command/formatter/formatter.go).

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "cli/format.h"
#include "cli/template.h"

namespace strata::cli {
namespace {

// A copy of value whose objects list their keys sorted (Go marshals maps so).
Json Sorted(const Json& value) {
  if (value.is_array()) {
    Json out = Json::array();
    for (const Json& item : value) out.push_back(Sorted(item));
    return out;
  }
  if (!value.is_object()) return value;
  std::vector<std::string> keys;
  for (const auto& item : value.items()) keys.push_back(item.key());
  std::sort(keys.begin(), keys.end());
  Json out = Json::object();
  for (const std::string& key : keys) out[key] = Sorted(value[key]);
  return out;
}

}  // namespace

ListFormat ParseListFormat(const std::string& flag) {
  ListFormat format;
  std::string text(absl::StripAsciiWhitespace(flag));
  if (text.empty() || text == "table") {
    format.table = true;
    return format;
  }
  if (text == "json") {
    format.json = true;
    return format;
  }
  if (absl::StartsWith(text, "table ") || absl::StartsWith(text, "table\t") ||
      absl::StartsWith(text, "table\\t")) {
    format.table = true;
    text = std::string(absl::StripAsciiWhitespace(text.substr(5)));
  }
  format.text = absl::StrReplaceAll(text, {{"\\t", "\t"}, {"\\n", "\n"}});
  return format;
}

std::string TabAlign(const std::string& text) {
  std::vector<std::vector<std::string>> lines;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    lines.push_back(absl::StrSplit(line, '\t'));
  }
  // Only tab-terminated cells make columns; the text's lines are joined, not ended, by "\n".
  std::string out = AlignColumns(lines, 10);
  out.pop_back();
  return out;
}

absl::StatusOr<std::string> RenderList(const ListFormat& format, const std::vector<Json>& rows,
                                       const Json& headers, const std::string& type_name) {
  std::string out;
  if (format.json) {
    for (const Json& row : rows) absl::StrAppend(&out, GoJson(Sorted(row)), "\n");
    return out;
  }
  absl::StatusOr<Template> parsed = Template::Parse(format.text);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("template parsing error: ", parsed.status().message()));
  }
  for (const Json& row : rows) {
    absl::StatusOr<std::string> line = parsed->Execute(row, {.type_name = type_name});
    if (!line.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("template parsing error: ", line.status().message()));
    }
    absl::StrAppend(&out, *line, "\n");
  }
  if (!format.table) return out;
  absl::StatusOr<std::string> header = parsed->Execute(headers, {.header = true});
  if (!header.ok()) header = "";
  return TabAlign(absl::StrCat(*header, "\n", out));
}

}  // namespace strata::cli
