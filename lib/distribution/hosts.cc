#include "lib/distribution/hosts.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace strata::distribution {
namespace {

bool Exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

// The first *.crt of dir, ca.crt preferred.
std::string FindCa(const std::string& dir) {
  if (Exists(dir + "/ca.crt")) return dir + "/ca.crt";
  DIR* listing = ::opendir(dir.c_str());
  if (listing == nullptr) return "";
  std::vector<std::string> found;
  while (dirent* entry = ::readdir(listing)) {
    std::string name = entry->d_name;
    if (absl::EndsWith(name, ".crt")) found.push_back(dir + "/" + name);
  }
  ::closedir(listing);
  std::sort(found.begin(), found.end());
  return found.empty() ? "" : found[0];
}

absl::string_view HostWithoutPort(absl::string_view domain) {
  if (absl::StartsWith(domain, "[")) return domain.substr(1, domain.find(']') - 1);
  return domain.substr(
      0, domain.rfind(':') == absl::string_view::npos ? domain.size() : domain.rfind(':'));
}

}  // namespace

bool IsLoopbackRegistry(absl::string_view domain) {
  absl::string_view host = HostWithoutPort(domain);
  if (host == "localhost" || host == "::1") return true;
  std::vector<absl::string_view> octets = absl::StrSplit(host, '.');
  if (octets.size() != 4 || octets[0] != "127") return false;
  for (absl::string_view octet : octets) {
    if (octet.empty() || octet.size() > 3 ||
        !std::all_of(octet.begin(), octet.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return false;
    }
  }
  return true;
}

HostConfig ConfigureHost(absl::string_view domain, const HostOptions& options) {
  HostConfig config;
  config.host = domain == "docker.io" ? "registry-1.docker.io" : std::string(domain);
  config.tls.verify = options.tls_verify;
  const bool listed =
      std::find(options.insecure_registries.begin(), options.insecure_registries.end(), domain) !=
      options.insecure_registries.end();
  config.allow_http = !options.tls_verify || listed || IsLoopbackRegistry(domain);
  for (const std::string& base : options.certs_dirs) {
    const std::string dir = absl::StrCat(base, "/", domain);
    if (!Exists(dir)) continue;
    if (config.tls.ca_file.empty()) config.tls.ca_file = FindCa(dir);
    if (config.tls.cert_file.empty() && Exists(dir + "/client.cert") &&
        Exists(dir + "/client.key")) {
      config.tls.cert_file = dir + "/client.cert";
      config.tls.key_file = dir + "/client.key";
    }
  }
  return config;
}

}  // namespace strata::distribution
