#include "cli/env_file.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace strata::cli {

absl::StatusOr<std::vector<std::string>> ParseEnvFileText(const std::string& input) {
  std::string text = input;
  if (absl::StartsWith(text, "\xEF\xBB\xBF")) text = text.substr(3);  // a UTF-8 BOM
  std::vector<std::string> env;
  for (absl::string_view raw : absl::StrSplit(text, '\n')) {
    if (absl::EndsWith(raw, "\r")) raw.remove_suffix(1);
    const std::string line(absl::StripLeadingAsciiWhitespace(raw));
    if (line.empty() || line[0] == '#') continue;
    const size_t equals = line.find('=');
    const std::string name = line.substr(0, equals);
    if (name.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("no variable name on line '", line, "'"));
    }
    if (name.find_first_of(" \t\n\v\f\r") != std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("variable '", name, "' contains whitespaces"));
    }
    if (equals != std::string::npos) {
      env.push_back(line);
    } else if (const char* value = std::getenv(name.c_str())) {
      env.push_back(absl::StrCat(name, "=", value));
    }
  }
  return env;
}

absl::StatusOr<std::vector<std::string>> ReadEnvFile(const std::string& path) {
  std::ifstream file(path);
  if (!file) {
    return absl::NotFoundError(absl::StrCat("open ", path, ": ", std::strerror(errno)));
  }
  std::stringstream text;
  text << file.rdbuf();
  return ParseEnvFileText(text.str());
}

}  // namespace strata::cli
