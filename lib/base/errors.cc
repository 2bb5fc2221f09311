#include "lib/base/errors.h"

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace strata {

absl::Status ErrnoStatus(int errnum, absl::string_view what) {
  char buffer[256];
  // GNU strerror_r returns the message, which may or may not live in buffer.
  const char* text = ::strerror_r(errnum, buffer, sizeof(buffer));
  std::string message = absl::StrCat(what, ": ", text);
  switch (errnum) {
    case ENOENT:
    case ENOTDIR:
      return absl::NotFoundError(message);
    case EEXIST:
    case ENOTEMPTY:
      return absl::AlreadyExistsError(message);
    case EACCES:
    case EPERM:
      return absl::PermissionDeniedError(message);
    case EINVAL:
    case ENAMETOOLONG:
    case ELOOP:
      return absl::InvalidArgumentError(message);
    case ENOSPC:
    case EDQUOT:
    case EMFILE:
    case ENFILE:
      return absl::ResourceExhaustedError(message);
    case EBUSY:
      return absl::FailedPreconditionError(message);
    default:
      return absl::InternalError(message);
  }
}

absl::Status Annotate(const absl::Status& status, absl::string_view context) {
  if (status.ok()) return status;
  return absl::Status(status.code(), absl::StrCat(context, ": ", status.message()));
}

namespace {

// Moves a cut position back (or forward) off UTF-8 continuation bytes.
size_t BackToCharStart(absl::string_view text, size_t pos) {
  while (pos > 0 && pos < text.size() && (static_cast<unsigned char>(text[pos]) & 0xC0) == 0x80) {
    --pos;
  }
  return pos;
}

size_t ForwardToCharStart(absl::string_view text, size_t pos) {
  while (pos < text.size() && (static_cast<unsigned char>(text[pos]) & 0xC0) == 0x80) ++pos;
  return pos;
}

}  // namespace

std::string ShortenMiddle(absl::string_view text, size_t max_size) {
  if (text.size() <= max_size) return std::string(text);
  constexpr absl::string_view kMarker = "...";
  const size_t keep = max_size > kMarker.size() ? max_size - kMarker.size() : 0;
  const size_t head = BackToCharStart(text, keep - keep / 2);
  const size_t tail_start = ForwardToCharStart(text, text.size() - keep / 2);
  std::string out;
  out.reserve(max_size);
  out.append(text.data(), head);
  out.append(kMarker.data(), kMarker.size());
  out.append(text.data() + tail_start, text.size() - tail_start);
  return out;
}

}  // namespace strata
