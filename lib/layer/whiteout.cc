#include "lib/layer/whiteout.h"

#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "absl/strings/str_cat.h"

namespace strata::layer {

bool IsWhiteoutDevice(const struct stat& st) {
  return S_ISCHR(st.st_mode) && major(st.st_rdev) == 0 && minor(st.st_rdev) == 0;
}

bool IsOpaqueDirectory(const std::string& path) {
  char value[4];
  ssize_t size = ::lgetxattr(path.c_str(), kOverlayOpaqueXattr, value, sizeof(value));
  return size == 1 && value[0] == 'y';
}

std::string WhiteoutPath(absl::string_view path) {
  const size_t slash = path.rfind('/');
  if (slash == absl::string_view::npos) return absl::StrCat(kWhiteoutPrefix, path);
  return absl::StrCat(path.substr(0, slash + 1), kWhiteoutPrefix, path.substr(slash + 1));
}

}  // namespace strata::layer
