#include "lib/layer/overlay_diff.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <optional>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "lib/base/errors.h"
#include "lib/base/fs.h"
#include "lib/layer/safe_fs.h"
#include "lib/layer/tree_walker.h"
#include "lib/layer/whiteout.h"

namespace strata::layer {
namespace {

// What one lower layer says about a path.
enum class LayerVerdict {
  kPresent,  // the layer has it
  kGone,     // the layer deletes it, or hides it (a whiteout, an opaque or non-directory parent)
  kSilent,   // the layer says nothing: look further down
};

struct Lookup {
  LayerVerdict verdict = LayerVerdict::kSilent;
  struct stat st {};
  bool opaque = false;  // kPresent directories: carries the opaque marker in this layer
};

// Looks a path ("a/b/c", relative) up in one layer, component by component, never following
// symlinks: a symlink in the middle of the path hides what is below it, as in the merged view.
absl::StatusOr<Lookup> LookInLayer(int layer_fd, const std::vector<std::string>& components) {
  Lookup result;
  UniqueFd dir;
  int dir_fd = layer_fd;
  bool parent_opaque = false;
  for (size_t i = 0; i < components.size(); ++i) {
    const std::string& name = components[i];
    struct stat st;
    if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno != ENOENT) return ErrnoStatus(errno, absl::StrCat("stat ", name));
      result.verdict = parent_opaque ? LayerVerdict::kGone : LayerVerdict::kSilent;
      return result;
    }
    if (IsWhiteoutDevice(st)) {
      result.verdict = LayerVerdict::kGone;
      return result;
    }
    const bool last = i + 1 == components.size();
    const bool opaque = S_ISDIR(st.st_mode) && IsOpaqueDirectory(ProcFdPath(dir_fd, name));
    if (last) {
      result.verdict = LayerVerdict::kPresent;
      result.st = st;
      result.opaque = opaque;
      return result;
    }
    if (!S_ISDIR(st.st_mode)) {
      result.verdict = LayerVerdict::kGone;
      return result;
    }
    UniqueFd next(::openat(dir_fd, name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!next.valid()) return ErrnoStatus(errno, absl::StrCat("open ", name));
    dir = std::move(next);
    dir_fd = dir.get();
    parent_opaque = opaque;
  }
  result.verdict = LayerVerdict::kPresent;  // the root itself
  return result;
}

class DiffBuilder {
 public:
  explicit DiffBuilder(std::vector<UniqueFd> lower_fds) : lower_fds_(std::move(lower_fds)) {}

  // The path as the lower layers merged together show it, or nullopt when absent there.
  absl::StatusOr<std::optional<struct stat>> Below(const std::string& relative) {
    std::vector<std::string> components = absl::StrSplit(relative, '/');
    for (const UniqueFd& layer : lower_fds_) {
      ASSIGN_OR_RETURN(Lookup lookup, LookInLayer(layer.get(), components));
      if (lookup.verdict == LayerVerdict::kPresent) return lookup.st;
      if (lookup.verdict == LayerVerdict::kGone) return std::nullopt;
    }
    return std::nullopt;
  }

  // Names inside the directory `relative` as the merged lower layers show it.
  absl::StatusOr<std::set<std::string>> ChildrenBelow(const std::string& relative) {
    std::vector<std::string> components = absl::StrSplit(relative, '/');
    std::set<std::string> present;
    std::set<std::string> decided;
    for (const UniqueFd& layer : lower_fds_) {
      ASSIGN_OR_RETURN(Lookup lookup, LookInLayer(layer.get(), components));
      if (lookup.verdict == LayerVerdict::kGone) break;
      if (lookup.verdict == LayerVerdict::kSilent) continue;
      if (!S_ISDIR(lookup.st.st_mode)) break;
      absl::StatusOr<UniqueFd> dir = OpenInRoot(layer.get(), relative, O_RDONLY | O_DIRECTORY);
      if (!dir.ok()) return dir.status();
      RETURN_IF_ERROR(WalkTree(dir->get(), [&](const TreeEntry& entry) -> absl::StatusOr<Visit> {
        if (decided.insert(entry.name).second && !IsWhiteoutDevice(entry.st)) {
          present.insert(entry.name);
        }
        return Visit::kSkipChildren;
      }));
      if (lookup.opaque) break;
    }
    return present;
  }

  absl::StatusOr<Visit> OnEntry(const TreeEntry& entry) {
    const std::string path = "/" + entry.path;
    if (IsWhiteoutDevice(entry.st)) {
      Record(path, ChangeKind::kDeleted);
      return Visit::kContinue;
    }
    const bool is_dir = S_ISDIR(entry.st.st_mode);
    // Below a directory the lower layers lack, nothing is there either: no lookup, so a deep
    // tree the container made costs one lookup per entry, not one per path component.
    std::optional<struct stat> below;
    const size_t depth = static_cast<size_t>(entry.depth);
    const bool parent_absent =
        depth > 1 && depth - 1 < absent_below_.size() && absent_below_[depth - 1];
    if (!parent_absent) {
      ASSIGN_OR_RETURN(below, Below(entry.path));
    }
    if (is_dir) {
      if (absent_below_.size() <= depth) absent_below_.resize(depth + 1);
      absent_below_[depth] = !below.has_value();
    }
    ChangeKind kind = below ? ChangeKind::kChanged : ChangeKind::kAdded;
    if (is_dir && IsOpaqueDirectory(ProcFdPath(entry.parent_fd, entry.name))) {
      if (below && S_ISDIR(below->st_mode)) {
        ASSIGN_OR_RETURN(std::set<std::string> lost, ChildrenBelow(entry.path));
        // Relative to the directory itself: its path is never resolved again by name, so a
        // running container swapping it for a symlink cannot point us anywhere else.
        UniqueFd dir(::openat(entry.parent_fd, entry.name.c_str(),
                              O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        for (const std::string& child : lost) {
          struct stat st;
          if (!dir.valid() || ::fstatat(dir.get(), child.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
            deleted_in_opaque_.push_back(absl::StrCat(path, "/", child));
          }
        }
      }
    } else if (below && is_dir && S_ISDIR(below->st_mode) && below->st_mode == entry.st.st_mode &&
               below->st_size == entry.st.st_size &&
               below->st_mtim.tv_sec == entry.st.st_mtim.tv_sec &&
               below->st_mtim.tv_nsec == entry.st.st_mtim.tv_nsec) {
      // Copied up only because something inside changed.
      return Visit::kContinue;
    }
    Record(path, kind);
    return Visit::kContinue;
  }

  std::vector<Change> Finish() {
    for (const std::string& path : deleted_in_opaque_) Record(path, ChangeKind::kDeleted);
    std::vector<Change> out;
    out.reserve(changes_.size());
    for (const auto& [path, kind] : changes_) out.push_back({kind, path});
    return out;
  }

 private:
  void Record(const std::string& path, ChangeKind kind) {
    changes_[path] = kind;
    if (kind == ChangeKind::kChanged) return;
    // Every ancestor of an addition or deletion is listed (as changed, unless it is listed
    // already). The climb stops at the first ancestor done before, whose own ancestors are
    // then done too: each directory is climbed through once, however deep the tree.
    for (size_t slash = path.rfind('/'); slash != std::string::npos && slash > 0;
         slash = path.rfind('/', slash - 1)) {
      std::string ancestor = path.substr(0, slash);
      if (!ancestors_listed_.insert(ancestor).second) break;
      changes_.emplace(std::move(ancestor), ChangeKind::kChanged);
    }
  }

  std::vector<UniqueFd> lower_fds_;
  std::map<std::string, ChangeKind> changes_;
  // Directories listed together with all their ancestors.
  std::set<std::string> ancestors_listed_;
  // By depth: whether the directory last visited at that depth is absent below (in a
  // pre-order walk, the directory last visited one level up is the entry's parent).
  std::vector<bool> absent_below_;
  std::vector<std::string> deleted_in_opaque_;
};

}  // namespace

char ChangeLetter(ChangeKind kind) {
  switch (kind) {
    case ChangeKind::kAdded:
      return 'A';
    case ChangeKind::kChanged:
      return 'C';
    case ChangeKind::kDeleted:
      return 'D';
  }
  return '?';
}

absl::StatusOr<std::vector<Change>> OverlayChanges(const std::string& upper_dir,
                                                   const std::vector<std::string>& lower_dirs) {
  UniqueFd upper(::open(upper_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!upper.valid()) return ErrnoStatus(errno, absl::StrCat("open ", upper_dir));
  std::vector<UniqueFd> lowers;
  for (const std::string& lower : lower_dirs) {
    UniqueFd fd(::open(lower.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!fd.valid()) return ErrnoStatus(errno, absl::StrCat("open ", lower));
    lowers.push_back(std::move(fd));
  }
  DiffBuilder builder(std::move(lowers));
  RETURN_IF_ERROR(
      WalkTree(upper.get(), [&builder](const TreeEntry& entry) { return builder.OnEntry(entry); }));
  return builder.Finish();
}

}  // namespace strata::layer
