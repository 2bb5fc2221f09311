#include "cli/core/changes.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "nlohmann/json.hpp"

namespace strata::gateway {
namespace {

absl::Status Invalid(const std::string& change, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat("change \"", change, "\": ", problem));
}

// JSON form ["a", "b"] when the argument parses as a list of strings, else shell form.
std::vector<std::string> CommandForm(const std::string& argument) {
  nlohmann::json parsed = nlohmann::json::parse(argument, nullptr, false);
  if (parsed.is_array() &&
      std::all_of(parsed.begin(), parsed.end(), [](const auto& v) { return v.is_string(); })) {
    return parsed.get<std::vector<std::string>>();
  }
  return {"/bin/sh", "-c", argument};
}

void SetEnv(std::vector<std::string>& env, const std::string& key, const std::string& value) {
  const std::string entry = absl::StrCat(key, "=", value);
  for (std::string& existing : env) {
    if (existing.substr(0, existing.find('=')) == key) {
      existing = entry;
      return;
    }
  }
  env.push_back(entry);
}

// KEY=VALUE pairs (or the legacy "KEY VALUE" with a single pair).
absl::StatusOr<std::vector<std::pair<std::string, std::string>>> Pairs(
    const std::string& change, const std::string& argument) {
  auto words = SplitWords(argument);
  if (!words.ok()) return Invalid(change, words.status().message());
  std::vector<std::pair<std::string, std::string>> pairs;
  if (words->empty()) return Invalid(change, "needs KEY=VALUE");
  if ((*words)[0].find('=') == std::string::npos) {
    if (words->size() < 2) return Invalid(change, "needs KEY=VALUE or KEY VALUE");
    // Legacy form: everything after the key is the value, as written.
    std::string rest = std::string(absl::StripLeadingAsciiWhitespace(
        absl::string_view(argument).substr(argument.find((*words)[0]) + (*words)[0].size())));
    pairs.emplace_back((*words)[0], rest);
    return pairs;
  }
  for (const std::string& word : *words) {
    const size_t equals = word.find('=');
    if (equals == std::string::npos || equals == 0) {
      return Invalid(change, absl::StrCat("\"", word, "\" is not KEY=VALUE"));
    }
    pairs.emplace_back(word.substr(0, equals), word.substr(equals + 1));
  }
  return pairs;
}

// Docker expands $VAR and ${VAR} in these instructions' arguments from the image's
// environment as it stands (not inside single quotes; \$ is a literal dollar).
std::string ExpandVariables(const std::string& text, const std::vector<std::string>& env) {
  auto lookup = [&env](const std::string& name) {
    for (auto it = env.rbegin(); it != env.rend(); ++it) {
      if (it->substr(0, it->find('=')) == name) {
        const size_t equals = it->find('=');
        return equals == std::string::npos ? std::string() : it->substr(equals + 1);
      }
    }
    return std::string();
  };
  auto is_name = [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_';
  };
  std::string out;
  bool single_quoted = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\'') single_quoted = !single_quoted;
    if (single_quoted || c != '$') {
      if (c == '\\' && !single_quoted && i + 1 < text.size() && text[i + 1] == '$') {
        out.push_back('$');
        ++i;
        continue;
      }
      out.push_back(c);
      continue;
    }
    if (i + 1 < text.size() && text[i + 1] == '{') {
      const size_t close = text.find('}', i + 2);
      if (close == std::string::npos) {
        out.push_back(c);
        continue;
      }
      out += lookup(text.substr(i + 2, close - i - 2));
      i = close;
      continue;
    }
    size_t end = i + 1;
    while (end < text.size() && is_name(text[end])) ++end;
    if (end == i + 1) {
      out.push_back(c);
      continue;
    }
    out += lookup(text.substr(i + 1, end - i - 1));
    i = end - 1;
  }
  return out;
}

}  // namespace

absl::StatusOr<std::vector<std::string>> SplitWords(const std::string& text) {
  std::vector<std::string> words;
  std::string current;
  bool in_word = false;
  char quote = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quote != 0) {
      if (c == quote) {
        quote = 0;
      } else if (c == '\\' && quote == '"' && i + 1 < text.size()) {
        current.push_back(text[++i]);
      } else {
        current.push_back(c);
      }
      continue;
    }
    if (c == '\'' || c == '"') {
      quote = c;
      in_word = true;
    } else if (c == '\\' && i + 1 < text.size()) {
      current.push_back(text[++i]);
      in_word = true;
    } else if (absl::ascii_isspace(static_cast<unsigned char>(c))) {
      if (in_word) words.push_back(std::move(current));
      current.clear();
      in_word = false;
    } else {
      current.push_back(c);
      in_word = true;
    }
  }
  if (quote != 0) return absl::InvalidArgumentError("unterminated quote");
  if (in_word) words.push_back(std::move(current));
  return words;
}

absl::Status ApplyChanges(const std::vector<std::string>& changes, oci::RunConfig& config) {
  bool cmd_set = false;
  for (const std::string& change : changes) {
    absl::string_view text = absl::StripAsciiWhitespace(change);
    const size_t space = text.find_first_of(" \t");
    const std::string instruction = absl::AsciiStrToUpper(text.substr(0, space));
    std::string argument = space == absl::string_view::npos
                               ? ""
                               : std::string(absl::StripAsciiWhitespace(text.substr(space)));
    if (instruction != "CMD" && instruction != "ENTRYPOINT" && instruction != "ONBUILD") {
      argument = ExpandVariables(argument, config.env);
    }
    if (instruction == "CMD") {
      if (argument.empty()) return Invalid(change, "CMD needs a command");
      config.cmd = CommandForm(argument);
      cmd_set = true;
    } else if (instruction == "ENTRYPOINT") {
      if (argument.empty()) return Invalid(change, "ENTRYPOINT needs a command");
      config.entrypoint = CommandForm(argument);
      if (!cmd_set) config.cmd.reset();
    } else if (instruction == "ENV") {
      auto pairs = Pairs(change, argument);
      if (!pairs.ok()) return pairs.status();
      for (const auto& [key, value] : *pairs) SetEnv(config.env, key, value);
    } else if (instruction == "LABEL") {
      auto pairs = Pairs(change, argument);
      if (!pairs.ok()) return pairs.status();
      for (const auto& [key, value] : *pairs) config.labels[key] = value;
    } else if (instruction == "WORKDIR") {
      if (argument.empty()) return Invalid(change, "WORKDIR needs a path");
      config.working_dir = argument[0] == '/' || config.working_dir.empty()
                               ? argument
                               : absl::StrCat(config.working_dir, "/", argument);
      if (config.working_dir[0] != '/') config.working_dir = "/" + config.working_dir;
    } else if (instruction == "USER") {
      if (argument.empty()) return Invalid(change, "USER needs a user");
      config.user = argument;
    } else if (instruction == "EXPOSE") {
      auto words = SplitWords(argument);
      if (!words.ok() || words->empty()) return Invalid(change, "EXPOSE needs ports");
      for (std::string port : *words) {
        if (port.find('/') == std::string::npos) port += "/tcp";
        int number = 0;
        const std::string number_part = port.substr(0, port.find('/'));
        const std::string protocol = port.substr(port.find('/') + 1);
        if (!absl::SimpleAtoi(number_part, &number) || number < 1 || number > 65535 ||
            (protocol != "tcp" && protocol != "udp" && protocol != "sctp")) {
          return Invalid(change, absl::StrCat("\"", port, "\" is not PORT[/tcp|udp|sctp]"));
        }
        if (std::find(config.exposed_ports.begin(), config.exposed_ports.end(), port) ==
            config.exposed_ports.end()) {
          config.exposed_ports.push_back(port);
        }
      }
    } else if (instruction == "ONBUILD") {
      // docker keeps the trigger as written after ONBUILD (dockerfile/instructions parseOnBuild).
      const std::string trigger = absl::AsciiStrToUpper(argument.substr(0, argument.find_first_of(" \t")));
      if (argument.empty()) return absl::InvalidArgumentError("ONBUILD requires at least one argument");
      if (trigger == "ONBUILD") {
        return absl::InvalidArgumentError("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
      }
      if (trigger == "FROM" || trigger == "MAINTAINER") {
        return absl::InvalidArgumentError(absl::StrCat(trigger, " isn't allowed as an ONBUILD trigger"));
      }
      config.on_build.push_back(argument);
    } else if (instruction == "STOPSIGNAL") {
      if (argument.empty()) return Invalid(change, "STOPSIGNAL needs a signal");
      config.stop_signal = argument;
    } else if (instruction == "VOLUME") {
      std::vector<std::string> volumes;
      nlohmann::json parsed = nlohmann::json::parse(argument, nullptr, false);
      if (parsed.is_array()) {
        for (const auto& item : parsed) {
          if (!item.is_string()) return Invalid(change, "VOLUME list must hold strings");
          volumes.push_back(item.get<std::string>());
        }
      } else {
        auto words = SplitWords(argument);
        if (!words.ok()) return Invalid(change, words.status().message());
        volumes = *words;
      }
      if (volumes.empty()) return Invalid(change, "VOLUME needs a path");
      for (const std::string& volume : volumes) {
        if (std::find(config.volumes.begin(), config.volumes.end(), volume) ==
            config.volumes.end()) {
          config.volumes.push_back(volume);
        }
      }
    } else {
      // docker's words (builder/dockerfile BuildFromConfig).
      return absl::InvalidArgumentError(
          absl::StrCat(absl::AsciiStrToLower(instruction), " is not a valid change command"));
    }
  }
  return absl::OkStatus();
}

}  // namespace strata::gateway
