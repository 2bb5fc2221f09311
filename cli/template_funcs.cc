// Values as Go prints them, and the functions of docker's templates.

#include "cli/template_funcs.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace strata::cli {
namespace {

// Go's %v of a float64: integral values without a fraction, the shortest form otherwise.
std::string GoFloat(double value) {
  if (std::isfinite(value) && value == std::floor(value) && std::fabs(value) < 1e21) {
    return absl::StrFormat("%.0f", value);
  }
  std::string text = Json(value).dump();
  return text;
}

void AppendJsonString(const std::string& text, std::string* out) {
  out->push_back('"');
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    switch (c) {
      case '"': *out += "\\\""; break;
      case '\\': *out += "\\\\"; break;
      case '\n': *out += "\\n"; break;
      case '\r': *out += "\\r"; break;
      case '\t': *out += "\\t"; break;
      default:
        if (c < 0x20) {
          *out += absl::StrFormat("\\u%04x", c);
        } else if (c == 0xe2 && i + 2 < text.size() && text[i + 1] == '\x80' &&
                   (text[i + 2] == '\xa8' || text[i + 2] == '\xa9')) {
          // Go escapes U+2028 and U+2029 (line and paragraph separators).
          *out += text[i + 2] == '\xa8' ? "\\u2028" : "\\u2029";
          i += 2;
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
  }
  out->push_back('"');
}

void AppendJson(const Json& value, std::string* out) {
  switch (value.type()) {
    case Json::value_t::object: {
      out->push_back('{');
      bool first = true;
      for (const auto& item : value.items()) {
        if (!first) out->push_back(',');
        first = false;
        AppendJsonString(item.key(), out);
        out->push_back(':');
        AppendJson(item.value(), out);
      }
      out->push_back('}');
      return;
    }
    case Json::value_t::array: {
      out->push_back('[');
      for (size_t i = 0; i < value.size(); ++i) {
        if (i > 0) out->push_back(',');
        AppendJson(value[i], out);
      }
      out->push_back(']');
      return;
    }
    case Json::value_t::string:
      AppendJsonString(value.get<std::string>(), out);
      return;
    case Json::value_t::number_float:
      *out += GoFloat(value.get<double>());
      return;
    default:
      *out += value.dump();
  }
}

absl::Status Wrong(const std::string& name, size_t want, size_t got) {
  return absl::InvalidArgumentError(
      absl::StrCat("wrong number of args for ", name, ": want ", want, " got ", got));
}

absl::Status Calling(const std::string& name, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat("error calling ", name, ": ", message));
}

absl::StatusOr<std::string> StringArg(const std::string& name, const Json& value) {
  if (!value.is_string()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "wrong type for value; expected string; got ", template_internal::GoTypeName(value)));
  }
  return value.get<std::string>();
}

absl::StatusOr<int64_t> IntArg(const Json& value) {
  if (value.is_number_integer()) return value.get<int64_t>();
  return absl::InvalidArgumentError(absl::StrCat(
      "wrong type for value; expected int; got ", template_internal::GoTypeName(value)));
}

// Go's basic comparison: numbers by value, strings, bools. Errors: non-comparable types.
absl::StatusOr<int> Compare(const std::string& name, const Json& a, const Json& b) {
  if (a.is_number() && b.is_number()) {
    const double x = a.get<double>(), y = b.get<double>();
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (a.is_string() && b.is_string()) {
    return a.get<std::string>().compare(b.get<std::string>()) < 0   ? -1
           : a.get<std::string>().compare(b.get<std::string>()) > 0 ? 1
                                                                    : 0;
  }
  if (a.is_boolean() && b.is_boolean() && (name == "eq" || name == "ne")) {
    return a.get<bool>() == b.get<bool>() ? 0 : 1;
  }
  if (a.is_null() && b.is_null() && (name == "eq" || name == "ne")) return 0;
  if (a.type() != b.type() && !(a.is_number() && b.is_number())) {
    return Calling(name, "incompatible types for comparison");
  }
  return Calling(name, "invalid type for comparison");
}

// Go's fmt.Sprintf with the verbs templates use: %v %s %d %q %t %%, with a width.
absl::StatusOr<std::string> Printf(const std::vector<Json>& args) {
  absl::StatusOr<std::string> format = StringArg("printf", args[0]);
  if (!format.ok()) return Calling("printf", format.status().message());
  std::string out;
  size_t next = 1;
  for (size_t i = 0; i < format->size(); ++i) {
    const char c = (*format)[i];
    if (c != '%' || i + 1 >= format->size()) {
      out.push_back(c);
      continue;
    }
    size_t j = i + 1;
    const bool left = (*format)[j] == '-';
    if (left) ++j;
    int width = 0;
    while (j < format->size() && absl::ascii_isdigit((*format)[j])) {
      width = width * 10 + ((*format)[j++] - '0');
    }
    if (j >= format->size()) break;
    const char verb = (*format)[j];
    i = j;
    if (verb == '%') {
      out.push_back('%');
      continue;
    }
    if (next >= args.size()) {
      absl::StrAppend(&out, "%!", std::string(1, verb), "(MISSING)");
      continue;
    }
    const Json& arg = args[next++];
    std::string text;
    if (verb == 'q') {
      text = GoJson(arg.is_string() ? arg : Json(GoPrint(arg)));
    } else {
      text = GoPrint(arg);
    }
    if (static_cast<int>(text.size()) < width) {
      const std::string pad(width - text.size(), ' ');
      text = left ? text + pad : pad + text;
    }
    out += text;
  }
  return out;
}

}  // namespace

std::string GoPrint(const Json& value) {
  switch (value.type()) {
    case Json::value_t::string:
      return value.get<std::string>();
    case Json::value_t::null:
      return "<nil>";
    case Json::value_t::array: {
      std::vector<std::string> items;
      for (const Json& item : value) items.push_back(GoPrint(item));
      return absl::StrCat("[", absl::StrJoin(items, " "), "]");
    }
    case Json::value_t::object: {
      std::vector<std::pair<std::string, std::string>> items;
      for (const auto& item : value.items()) {
        // docker's sets (map[string]struct{}: ExposedPorts, Volumes) hold empty structs: "{}".
        const bool empty_struct = item.value().is_object() && item.value().empty();
        items.push_back({item.key(), empty_struct ? "{}" : GoPrint(item.value())});
      }
      std::sort(items.begin(), items.end());  // fmt prints maps sorted by key
      std::vector<std::string> pairs;
      for (const auto& [key, text] : items) pairs.push_back(absl::StrCat(key, ":", text));
      return absl::StrCat("map[", absl::StrJoin(pairs, " "), "]");
    }
    case Json::value_t::number_float:
      return GoFloat(value.get<double>());
    default:
      return value.dump();
  }
}

std::string GoJson(const Json& value) {
  std::string out;
  AppendJson(value, &out);
  return out;
}

namespace template_internal {

bool Truth(const Json& value) {
  switch (value.type()) {
    case Json::value_t::null: return false;
    case Json::value_t::boolean: return value.get<bool>();
    case Json::value_t::string: return !value.get<std::string>().empty();
    case Json::value_t::array:
    case Json::value_t::object: return !value.empty();
    case Json::value_t::number_float: return value.get<double>() != 0;
    default: return value.is_number() ? value.get<int64_t>() != 0 : true;
  }
}

std::string GoTypeName(const Json& value) {
  switch (value.type()) {
    case Json::value_t::string: return "string";
    case Json::value_t::boolean: return "bool";
    case Json::value_t::array: return "[]interface {}";
    case Json::value_t::object: return "map[string]interface {}";
    case Json::value_t::null: return "<nil>";
    case Json::value_t::number_float: return "float64";
    default: return "int";
  }
}

absl::StatusOr<Json> CallFunction(const std::string& name, const std::vector<Json>& args,
                                  bool header) {
  static const char* kDocker[] = {"json", "split", "join", "title", "lower", "upper", "pad",
                                  "truncate"};
  if (header && std::find(std::begin(kDocker), std::end(kDocker), name) != std::end(kDocker)) {
    return args.empty() ? Json("") : args[0];
  }
  auto want = [&](size_t count) -> absl::Status {
    return args.size() == count ? absl::OkStatus() : Wrong(name, count, args.size());
  };
  if (name == "json") {
    if (absl::Status ok = want(1); !ok.ok()) return ok;
    return Json(GoJson(args[0]));
  }
  if (name == "lower" || name == "upper" || name == "title") {
    if (absl::Status ok = want(1); !ok.ok()) return ok;
    absl::StatusOr<std::string> text = StringArg(name, args[0]);
    if (!text.ok()) return Calling(name, text.status().message());
    if (name == "lower") return Json(absl::AsciiStrToLower(*text));
    if (name == "upper") return Json(absl::AsciiStrToUpper(*text));
    std::string titled = *text;
    for (size_t i = 0; i < titled.size(); ++i) {
      if (i == 0 || !absl::ascii_isalnum(titled[i - 1])) titled[i] = absl::ascii_toupper(titled[i]);
    }
    return Json(titled);
  }
  if (name == "split") {
    if (absl::Status ok = want(2); !ok.ok()) return ok;
    absl::StatusOr<std::string> text = StringArg(name, args[0]);
    absl::StatusOr<std::string> separator = StringArg(name, args[1]);
    if (!text.ok() || !separator.ok()) return Calling(name, "wrong type for value; expected string");
    Json parts = Json::array();
    if (separator->empty()) {
      for (char c : *text) parts.push_back(std::string(1, c));
    } else {
      for (absl::string_view part : absl::StrSplit(*text, *separator)) parts.push_back(std::string(part));
    }
    return parts;
  }
  if (name == "join") {
    if (absl::Status ok = want(2); !ok.ok()) return ok;
    if (!args[0].is_array() && !args[0].is_null()) {
      return Calling(name, absl::StrCat("wrong type for value; expected []string; got ",
                                        GoTypeName(args[0])));
    }
    std::vector<std::string> parts;
    for (const Json& part : args[0].is_null() ? Json::array() : args[0]) parts.push_back(GoPrint(part));
    absl::StatusOr<std::string> separator = StringArg(name, args[1]);
    if (!separator.ok()) return Calling(name, separator.status().message());
    return Json(absl::StrJoin(parts, *separator));
  }
  if (name == "pad") {
    if (absl::Status ok = want(3); !ok.ok()) return ok;
    absl::StatusOr<std::string> text = StringArg(name, args[0]);
    absl::StatusOr<int64_t> before = IntArg(args[1]), after = IntArg(args[2]);
    if (!text.ok() || !before.ok() || !after.ok()) return Calling(name, "wrong type for value");
    if (text->empty()) return Json("");
    return Json(std::string(std::max<int64_t>(*before, 0), ' ') + *text +
                std::string(std::max<int64_t>(*after, 0), ' '));
  }
  if (name == "truncate") {
    if (absl::Status ok = want(2); !ok.ok()) return ok;
    absl::StatusOr<std::string> text = StringArg(name, args[0]);
    absl::StatusOr<int64_t> length = IntArg(args[1]);
    if (!text.ok() || !length.ok()) return Calling(name, "wrong type for value");
    if (static_cast<int64_t>(text->size()) < *length) return Json(*text);
    return Json(text->substr(0, std::max<int64_t>(*length, 0)));
  }
  if (name == "index") {
    if (args.empty()) return Wrong(name, 1, 0);
    if (header) return Json("");
    Json value = args[0];
    for (size_t i = 1; i < args.size(); ++i) {
      if (value.is_object()) {
        if (!args[i].is_string()) return Calling(name, "value has type int; should be string");
        auto found = value.find(args[i].get<std::string>());
        // A missing key is the map's zero value (docker's maps are of strings).
        value = found == value.end() ? Json("") : Json(*found);
      } else if (value.is_array() || value.is_string()) {
        absl::StatusOr<int64_t> index = IntArg(args[i]);
        if (!index.ok()) return Calling(name, "cannot index slice/array with type string");
        const int64_t size = value.is_array() ? value.size() : value.get<std::string>().size();
        if (*index < 0 || *index >= size) {
          return Calling(name, absl::StrCat("index out of range: ", *index));
        }
        value = value.is_array() ? Json(value[*index])
                                 : Json(static_cast<int>(
                                       static_cast<unsigned char>(value.get<std::string>()[*index])));
      } else if (value.is_null()) {
        return Calling(name, "index of untyped nil");
      } else {
        return Calling(name, absl::StrCat("can't index item of type ", GoTypeName(value)));
      }
    }
    return value;
  }
  if (name == "slice") {
    if (args.empty()) return Wrong(name, 1, 0);
    const Json& value = args[0];
    if (!value.is_array() && !value.is_string()) {
      return Calling(name, absl::StrCat("can't slice item of type ", GoTypeName(value)));
    }
    const int64_t size = value.is_array() ? value.size() : value.get<std::string>().size();
    int64_t from = 0, to = size;
    if (args.size() > 1) from = IntArg(args[1]).value_or(-1);
    if (args.size() > 2) to = IntArg(args[2]).value_or(-1);
    if (from < 0 || to < from || to > size) return Calling(name, "index out of range");
    if (value.is_string()) return Json(value.get<std::string>().substr(from, to - from));
    Json out = Json::array();
    for (int64_t i = from; i < to; ++i) out.push_back(value[i]);
    return out;
  }
  if (name == "len") {
    if (absl::Status ok = want(1); !ok.ok()) return ok;
    if (args[0].is_array() || args[0].is_object()) return Json(args[0].size());
    if (args[0].is_string()) return Json(args[0].get<std::string>().size());
    if (args[0].is_null()) return Json(0);
    return Calling(name, absl::StrCat("len of type ", GoTypeName(args[0])));
  }
  if (name == "print" || name == "println") {
    std::string out;
    for (size_t i = 0; i < args.size(); ++i) {
      // Sprint puts spaces between operands when neither is a string; Sprintln always.
      if (i > 0 && (name == "println" || (!args[i - 1].is_string() && !args[i].is_string()))) {
        out += " ";
      }
      out += GoPrint(args[i]);
    }
    if (name == "println") out += "\n";
    return Json(out);
  }
  if (name == "printf") {
    if (args.empty()) return Wrong(name, 1, 0);
    absl::StatusOr<std::string> text = Printf(args);
    if (!text.ok()) return text.status();
    return Json(*text);
  }
  if (name == "not") {
    if (absl::Status ok = want(1); !ok.ok()) return ok;
    return Json(!Truth(args[0]));
  }
  if (name == "and" || name == "or") {
    if (args.empty()) return Wrong(name, 1, 0);
    for (const Json& arg : args) {
      if (Truth(arg) != (name == "and")) return arg;
    }
    return args.back();
  }
  if (name == "eq") {
    if (args.size() < 2) return Calling(name, "missing argument for comparison");
    for (size_t i = 1; i < args.size(); ++i) {
      absl::StatusOr<int> order = Compare(name, args[0], args[i]);
      if (!order.ok()) return order.status();
      if (*order == 0) return Json(true);
    }
    return Json(false);
  }
  if (name == "ne" || name == "lt" || name == "le" || name == "gt" || name == "ge") {
    if (absl::Status ok = want(2); !ok.ok()) return ok;
    absl::StatusOr<int> order = Compare(name, args[0], args[1]);
    if (!order.ok()) return order.status();
    if (name == "ne") return Json(*order != 0);
    if (name == "lt") return Json(*order < 0);
    if (name == "le") return Json(*order <= 0);
    if (name == "gt") return Json(*order > 0);
    return Json(*order >= 0);
  }
  return absl::InvalidArgumentError(absl::StrCat("function \"", name, "\" not defined"));
}

}  // namespace template_internal
}  // namespace strata::cli
