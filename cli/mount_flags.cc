#include "cli/mount_flags.h"

#include <unistd.h>

#include <climits>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace strata::cli {
namespace {

absl::Status Invalid(absl::string_view message) { return absl::InvalidArgumentError(message); }

// docker's RAMInBytes: "64m", "1g", "512k", "1024" (bytes).
absl::StatusOr<int64_t> ParseSize(const std::string& text) {
  std::string number = absl::AsciiStrToLower(text);
  if (absl::EndsWith(number, "b")) number.pop_back();
  int64_t scale = 1;
  if (!number.empty()) {
    switch (number.back()) {
      case 'k':
        scale = int64_t{1} << 10;
        break;
      case 'm':
        scale = int64_t{1} << 20;
        break;
      case 'g':
        scale = int64_t{1} << 30;
        break;
      case 't':
        scale = int64_t{1} << 40;
        break;
      default:
        break;
    }
    if (scale != 1) number.pop_back();
  }
  int64_t value = 0;
  if (!absl::SimpleAtoi(number, &value) || value < 0) {
    return Invalid(absl::StrCat("invalid size: '", text, "'"));
  }
  return value * scale;
}

// The tmpfs defaults docker gives (noexec, nosuid, nodev), unless an option says otherwise.
void AddTmpfsDefaults(types::v1::Mount& mount) {
  std::vector<std::string> options(mount.options().begin(), mount.options().end());
  auto has = [&](const char* option) {
    for (const std::string& o : options) {
      if (o == option) return true;
    }
    return false;
  };
  mount.clear_options();
  for (const char* option : {"noexec", "nosuid", "nodev"}) {
    if (!has(option + 2) && !has(option)) mount.add_options(option);  // "exec" cancels
  }
  for (const std::string& option : options) {
    if (option == "ro") {
      mount.set_readonly(true);
    } else if (option != "rw") {
      mount.add_options(option);
    }
  }
}

}  // namespace

absl::StatusOr<types::v1::Mount> ParseVolumeFlag(const std::string& value) {
  std::vector<std::string> parts = absl::StrSplit(value, ':');
  if (parts.size() == 1) {
    return Invalid(absl::StrCat("anonymous volumes are not supported (-v ", value,
                                "): bind a host directory, -v /host/dir:", value));
  }
  if (parts.size() > 3 || parts[0].empty() || parts[1].empty()) {
    return Invalid(absl::StrCat("invalid volume specification: '", value, "'"));
  }
  types::v1::Mount mount;
  mount.set_type("bind");
  std::string source = parts[0];
  if (source[0] == '.') {
    // docker resolves a relative host path against the working directory.
    char cwd[PATH_MAX];
    if (::getcwd(cwd, sizeof(cwd)) == nullptr) return Invalid("cannot read the working directory");
    source = absl::StrCat(cwd, "/", source);
  }
  if (source[0] != '/') {
    return Invalid(absl::StrCat("named volumes are not supported (\"", parts[0],
                                "\"): give an absolute host path, -v /host/dir:", parts[1]));
  }
  if (parts[1][0] != '/') {
    return Invalid(absl::StrCat("invalid volume specification: '", value,
                                "': invalid mount config for type \"bind\": invalid mount "
                                "path: '",
                                parts[1], "' mount path must be absolute"));
  }
  mount.set_source(source);
  mount.set_target(parts[1]);
  mount.set_create_source(true);
  if (parts.size() == 3) {
    for (absl::string_view mode : absl::StrSplit(parts[2], ',')) {
      if (mode == "ro") {
        mount.set_readonly(true);
      } else if (mode == "rw" || mode == "z" || mode == "Z" || mode == "nocopy" ||
                 mode == "private" || mode == "rprivate" || mode == "shared" || mode == "rshared" ||
                 mode == "slave" || mode == "rslave" || mode == "delegated" || mode == "cached" ||
                 mode == "consistent") {
        // Accepted as docker does; they change nothing here (mounts are rprivate).
      } else {
        return Invalid(absl::StrCat("invalid mode: ", parts[2]));
      }
    }
  }
  return mount;
}

absl::StatusOr<types::v1::Mount> ParseMountFlag(const std::string& value) {
  types::v1::Mount mount;
  std::string type = "volume";  // docker's default
  std::string tmpfs_size, tmpfs_mode;
  for (absl::string_view field : absl::StrSplit(value, ',', absl::SkipEmpty())) {
    std::vector<std::string> kv = absl::StrSplit(field, absl::MaxSplits('=', 1));
    const std::string key = absl::AsciiStrToLower(kv[0]);
    if (kv.size() == 1) {
      if (key == "readonly" || key == "ro") {
        mount.set_readonly(true);
        continue;
      }
      return Invalid(absl::StrCat("invalid field '", field, "' must be a key=value pair"));
    }
    const std::string& val = kv[1];
    if (key == "type") {
      type = val;
    } else if (key == "source" || key == "src") {
      mount.set_source(val);
    } else if (key == "target" || key == "destination" || key == "dst") {
      mount.set_target(val);
    } else if (key == "readonly" || key == "ro") {
      if (val == "1" || val == "true") {
        mount.set_readonly(true);
      } else if (val == "0" || val == "false") {
        mount.set_readonly(false);
      } else {
        return Invalid(absl::StrCat("invalid value for ", key, ": ", val));
      }
    } else if (key == "bind-propagation" || key == "bind-nonrecursive" || key == "consistency") {
      // Accepted; mounts are rprivate and recursive here.
    } else if (key == "tmpfs-size") {
      tmpfs_size = val;
    } else if (key == "tmpfs-mode") {
      tmpfs_mode = val;
    } else {
      return Invalid(absl::StrCat("unexpected key '", key, "' in '", field, "'"));
    }
  }
  if (type != "bind" && type != "tmpfs") {
    return Invalid(absl::StrCat("mount type \"", type,
                                "\" is not supported: use type=bind (a host directory) or "
                                "type=tmpfs"));
  }
  mount.set_type(type);
  if (type == "bind" && (!tmpfs_size.empty() || !tmpfs_mode.empty())) {
    return Invalid("invalid mount config for type \"bind\": tmpfs options are for type=tmpfs");
  }
  if (type == "tmpfs") {
    if (!tmpfs_size.empty()) {
      absl::StatusOr<int64_t> size = ParseSize(tmpfs_size);
      if (!size.ok()) return size.status();
      mount.add_options(absl::StrCat("size=", *size));
    }
    if (!tmpfs_mode.empty()) {
      // Octal, as the kernel reads it.
      if (tmpfs_mode.find_first_not_of("01234567") != std::string::npos || tmpfs_mode.size() > 4) {
        return Invalid(absl::StrCat("invalid value for tmpfs-mode: ", tmpfs_mode));
      }
      mount.add_options(absl::StrCat("mode=", tmpfs_mode));
    }
    AddTmpfsDefaults(mount);
  }
  return mount;
}

absl::StatusOr<types::v1::Mount> ParseTmpfsFlag(const std::string& value) {
  const size_t colon = value.find(':');
  types::v1::Mount mount;
  mount.set_type("tmpfs");
  mount.set_target(value.substr(0, colon));
  if (mount.target().empty() || mount.target()[0] != '/') {
    return Invalid(
        absl::StrCat("invalid mount path: '", mount.target(), "' mount path must be absolute"));
  }
  if (colon != std::string::npos) {
    for (absl::string_view option :
         absl::StrSplit(value.substr(colon + 1), ',', absl::SkipEmpty())) {
      mount.add_options(std::string(option));
    }
  }
  AddTmpfsDefaults(mount);
  return mount;
}

}  // namespace strata::cli
