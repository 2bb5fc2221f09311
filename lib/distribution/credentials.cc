#include "lib/distribution/credentials.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "lib/base/errors.h"
#include "lib/base/fs.h"
#include "lib/base/subprocess.h"
#include "nlohmann/json.hpp"

namespace strata::distribution {
namespace {

using nlohmann::json;

constexpr char kDockerHubKey[] = "https://index.docker.io/v1/";

// "https://registry.example:5000/v1/" -> "registry.example:5000".
std::string HostOfKey(absl::string_view key) {
  absl::ConsumePrefix(&key, "https://");
  absl::ConsumePrefix(&key, "http://");
  key = key.substr(0, key.find('/'));
  if (key == "index.docker.io" || key == "registry-1.docker.io") return "docker.io";
  return std::string(key);
}

absl::StatusOr<json> ReadConfig(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) {
    if (absl::IsNotFound(text.status())) return json::object();
    return text.status();
  }
  json config = json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (!config.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(path, " is not a JSON object"));
  }
  return config;
}

absl::StatusOr<std::optional<Credentials>> LookupIn(const std::string& path,
                                                    absl::string_view domain) {
  ASSIGN_OR_RETURN(json config, ReadConfig(path));
  auto auths = config.find("auths");
  if (auths == config.end() || !auths->is_object()) return std::nullopt;
  for (const auto& item : auths->items()) {
    if (HostOfKey(item.key()) != domain || !item.value().is_object()) continue;
    const json& entry = item.value();
    Credentials credentials;
    if (entry.contains("auth") && entry["auth"].is_string()) {
      std::string decoded;
      if (!absl::Base64Unescape(entry["auth"].get<std::string>(), &decoded) ||
          decoded.find(':') == std::string::npos) {
        return absl::InvalidArgumentError(absl::StrCat(path, ": the \"auth\" of ", item.key(),
                                                       " is not base64 of user:password"));
      }
      credentials.username = decoded.substr(0, decoded.find(':'));
      credentials.password = decoded.substr(decoded.find(':') + 1);
    } else {
      credentials.username = entry.value("username", "");
      credentials.password = entry.value("password", "");
    }
    if (credentials.username.empty() && credentials.password.empty()) continue;
    return credentials;
  }
  return std::nullopt;
}

// The credential helper configured for domain: credHelpers[host], else credsStore; "" for
// none (the "auths" of the file itself).
std::string HelperFor(const json& config, absl::string_view domain) {
  auto helpers = config.find("credHelpers");
  if (helpers != config.end() && helpers->is_object()) {
    for (const auto& item : helpers->items()) {
      if (HostOfKey(item.key()) == domain && item.value().is_string()) {
        return item.value().get<std::string>();
      }
    }
  }
  auto store = config.find("credsStore");
  if (store != config.end() && store->is_string()) return store->get<std::string>();
  return "";
}

// Runs `docker-credential-NAME verb` with input on stdin (docker-credential-helpers' protocol).
// The output is never quoted in errors: it may hold a secret.
absl::StatusOr<CommandResult> RunHelper(const std::string& name, const std::string& verb,
                                        const std::string& input) {
  if (name.empty() || name.find('/') != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("credential helper name \"", name, "\" is not a plain name"));
  }
  const std::string program = absl::StrCat("docker-credential-", name);
  CommandOptions options;
  options.stdin_data = input;
  options.separate_stderr = true;
  ASSIGN_OR_RETURN(CommandResult result, RunCommand({program, verb}, options));
  if (result.exit_code == 127) {
    return absl::FailedPreconditionError(
        absl::StrCat("credential helper ", program, " is not installed (not found in PATH)"));
  }
  return result;
}

bool IsNotFoundAnswer(const CommandResult& result) {
  return absl::StrContains(result.output, "credentials not found");
}

absl::StatusOr<std::optional<Credentials>> HelperGet(const std::string& name,
                                                     absl::string_view domain) {
  ASSIGN_OR_RETURN(CommandResult result, RunHelper(name, "get", CredentialKey(domain)));
  if (result.exit_code != 0) {
    if (IsNotFoundAnswer(result)) return std::nullopt;
    return absl::UnavailableError(absl::StrCat("credential helper docker-credential-", name,
                                               " get failed (exit ", result.exit_code, ")"));
  }
  json answer = json::parse(result.output, nullptr, /*allow_exceptions=*/false);
  if (!answer.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat("credential helper docker-credential-", name,
                                                   " answered something that is not JSON"));
  }
  Credentials credentials;
  credentials.username = answer.value("Username", "");
  credentials.password = answer.value("Secret", "");
  if (credentials.username.empty() && credentials.password.empty()) return std::nullopt;
  return credentials;
}

absl::Status WriteConfig(const std::string& path, const json& config) {
  const std::string dir = path.substr(0, path.rfind('/'));
  if (!dir.empty() && ::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return ErrnoStatus(errno, absl::StrCat("mkdir ", dir));
  }
  const std::string temp = absl::StrCat(path, ".tmp", ::getpid());
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoStatus(errno, absl::StrCat("open ", temp));
  const std::string text = config.dump(1, '\t') + "\n";
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      absl::Status status = ErrnoStatus(errno, absl::StrCat("write ", temp));
      ::close(fd);
      ::unlink(temp.c_str());
      return status;
    }
    done += n;
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(temp.c_str());
    return ErrnoStatus(errno, absl::StrCat("write ", temp));
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    ::unlink(temp.c_str());
    return ErrnoStatus(errno, absl::StrCat("rename ", temp));
  }
  return absl::OkStatus();
}

}  // namespace

std::string DockerConfigPath() {
  if (const char* dir = std::getenv("DOCKER_CONFIG"); dir != nullptr && *dir != '\0') {
    return absl::StrCat(dir, "/config.json");
  }
  const char* home = std::getenv("HOME");
  return absl::StrCat(home != nullptr ? home : "/root", "/.docker/config.json");
}

std::string CredentialKey(absl::string_view domain) {
  return domain == "docker.io" ? kDockerHubKey : std::string(domain);
}

absl::StatusOr<std::optional<Credentials>> LookupCredentials(absl::string_view domain,
                                                             std::string config_path) {
  if (config_path.empty()) config_path = DockerConfigPath();
  ASSIGN_OR_RETURN(json config, ReadConfig(config_path));
  if (const std::string helper = HelperFor(config, domain); !helper.empty()) {
    return HelperGet(helper, domain);
  }
  ASSIGN_OR_RETURN(std::optional<Credentials> found, LookupIn(config_path, domain));
  if (found) return found;
  if (const char* auth_file = std::getenv("REGISTRY_AUTH_FILE");
      auth_file != nullptr && *auth_file != '\0') {
    return LookupIn(auth_file, domain);
  }
  return std::nullopt;
}

absl::Status StoreCredentials(absl::string_view domain, const Credentials& credentials,
                              std::string config_path) {
  if (config_path.empty()) config_path = DockerConfigPath();
  ASSIGN_OR_RETURN(json config, ReadConfig(config_path));
  if (const std::string helper = HelperFor(config, domain); !helper.empty()) {
    const json input = {{"ServerURL", CredentialKey(domain)},
                        {"Username", credentials.username},
                        {"Secret", credentials.password}};
    ASSIGN_OR_RETURN(CommandResult result, RunHelper(helper, "store", input.dump()));
    if (result.exit_code != 0) {
      return absl::UnavailableError(absl::StrCat("credential helper docker-credential-", helper,
                                                 " store failed (exit ", result.exit_code, ")"));
    }
    return absl::OkStatus();
  }
  if (!config.contains("auths") || !config["auths"].is_object()) config["auths"] = json::object();
  json& auths = config["auths"];
  // One entry per registry: drop other spellings of the same key.
  for (auto it = auths.begin(); it != auths.end();) {
    if (HostOfKey(it.key()) == domain) {
      it = auths.erase(it);
    } else {
      ++it;
    }
  }
  auths[CredentialKey(domain)] = {
      {"auth", absl::Base64Escape(absl::StrCat(credentials.username, ":", credentials.password))}};
  return WriteConfig(config_path, config);
}

absl::Status EraseCredentials(absl::string_view domain, std::string config_path) {
  if (config_path.empty()) config_path = DockerConfigPath();
  ASSIGN_OR_RETURN(json config, ReadConfig(config_path));
  if (const std::string helper = HelperFor(config, domain); !helper.empty()) {
    ASSIGN_OR_RETURN(CommandResult result, RunHelper(helper, "erase", CredentialKey(domain)));
    if (result.exit_code != 0) {
      if (IsNotFoundAnswer(result)) {
        return absl::NotFoundError(absl::StrCat("Not logged in to ", domain));
      }
      return absl::UnavailableError(absl::StrCat("credential helper docker-credential-", helper,
                                                 " erase failed (exit ", result.exit_code, ")"));
    }
    return absl::OkStatus();
  }
  bool erased = false;
  if (config.contains("auths") && config["auths"].is_object()) {
    json& auths = config["auths"];
    for (auto it = auths.begin(); it != auths.end();) {
      if (HostOfKey(it.key()) == domain) {
        it = auths.erase(it);
        erased = true;
      } else {
        ++it;
      }
    }
  }
  if (!erased) return absl::NotFoundError(absl::StrCat("Not logged in to ", domain));
  return WriteConfig(config_path, config);
}

}  // namespace strata::distribution
