#include "lib/archive/tar_stream.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "lib/base/errors.h"
#include "lib/layer/decompression.h"

namespace strata::archive {
namespace {

constexpr size_t kBlock = 512;
// pax and GNU long-name headers: real ones are a few hundred bytes.
constexpr int64_t kMaxExtendedHeader = 1 << 20;

absl::Status Truncated() {
  return absl::InvalidArgumentError(
      "the archive is truncated (it ends inside a member or before its end marker)");
}

// A numeric header field: octal, or base-256 when the top bit of the first byte is set.
absl::StatusOr<int64_t> ParseNumber(const char* field, size_t size, const char* what) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(field);
  if (bytes[0] & 0x80) {
    if (bytes[0] != 0x80) {
      return absl::InvalidArgumentError(absl::StrCat("tar header: negative or huge ", what));
    }
    int64_t value = 0;
    for (size_t i = 1; i < size; ++i) {
      if (value > (INT64_MAX >> 8)) {
        return absl::InvalidArgumentError(absl::StrCat("tar header: ", what, " out of range"));
      }
      value = (value << 8) | bytes[i];
    }
    return value;
  }
  int64_t value = 0;
  size_t i = 0;
  while (i < size && (field[i] == ' ' || field[i] == '\0')) ++i;
  for (; i < size && field[i] >= '0' && field[i] <= '7'; ++i) {
    if (value > (INT64_MAX >> 3)) {
      return absl::InvalidArgumentError(absl::StrCat("tar header: ", what, " out of range"));
    }
    value = value * 8 + (field[i] - '0');
  }
  for (; i < size; ++i) {
    if (field[i] != ' ' && field[i] != '\0') {
      return absl::InvalidArgumentError(absl::StrCat("tar header: bad ", what, " field"));
    }
  }
  return value;
}

std::string Field(const char* field, size_t size) {
  return std::string(field, strnlen(field, size));
}

struct PaxRecords {
  std::string path;
  std::string linkpath;
  std::optional<int64_t> size;
};

absl::Status ParsePax(absl::string_view data, PaxRecords* out) {
  while (!data.empty()) {
    const size_t space = data.find(' ');
    int64_t length = 0;
    if (space == absl::string_view::npos || !absl::SimpleAtoi(data.substr(0, space), &length) ||
        length <= 0 || static_cast<size_t>(length) > data.size() ||
        static_cast<size_t>(length) <= space + 1 || data[length - 1] != '\n') {
      return absl::InvalidArgumentError("tar: malformed pax extended header");
    }
    absl::string_view record = data.substr(space + 1, length - space - 2);
    data.remove_prefix(length);
    const size_t equals = record.find('=');
    if (equals == absl::string_view::npos) {
      return absl::InvalidArgumentError("tar: malformed pax record");
    }
    absl::string_view key = record.substr(0, equals);
    absl::string_view value = record.substr(equals + 1);
    if (key == "path") {
      out->path = std::string(value);
    } else if (key == "linkpath") {
      out->linkpath = std::string(value);
    } else if (key == "size") {
      int64_t size = 0;
      if (!absl::SimpleAtoi(value, &size) || size < 0) {
        return absl::InvalidArgumentError("tar: bad pax size");
      }
      out->size = size;
    } else if (absl::StartsWith(key, "GNU.sparse.")) {
      return absl::InvalidArgumentError(
          "tar: sparse members have no place in an image archive (refused)");
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<absl::string_view> PrefixedSource::Read() {
  if (!head_served_) {
    head_served_ = true;
    if (!head_.empty()) return absl::string_view(head_);
  }
  return source_->Read();
}

absl::StatusOr<std::unique_ptr<layer::ByteSource>> OpenDecompressed(
    layer::ByteSource* source, layer::Compression* compression) {
  std::string head;
  while (head.size() < 8) {
    ASSIGN_OR_RETURN(absl::string_view chunk, source->Read());
    if (chunk.empty()) break;
    head.append(chunk.data(), chunk.size());
  }
  *compression = layer::DetectCompression(head);
  struct Owner : public layer::ByteSource {
    Owner(std::string head, layer::ByteSource* source, layer::Compression compression)
        : prefixed(std::move(head), source),
          decompressed(layer::NewDecompressingSource(compression, &prefixed)) {}
    absl::StatusOr<absl::string_view> Read() override { return decompressed->Read(); }
    PrefixedSource prefixed;
    std::unique_ptr<layer::ByteSource> decompressed;
  };
  return std::unique_ptr<layer::ByteSource>(
      std::make_unique<Owner>(std::move(head), source, *compression));
}

absl::StatusOr<absl::string_view> TarStreamReader::ReadSome(size_t max) {
  if (pending_.empty()) {
    ASSIGN_OR_RETURN(pending_, source_->Read());
    if (pending_.empty()) return absl::string_view();
  }
  absl::string_view out = pending_.substr(0, max);
  pending_.remove_prefix(out.size());
  return out;
}

absl::StatusOr<bool> TarStreamReader::ReadExact(size_t n, std::string* out) {
  out->clear();
  while (out->size() < n) {
    ASSIGN_OR_RETURN(absl::string_view chunk, ReadSome(n - out->size()));
    if (chunk.empty()) {
      if (out->empty()) return false;
      return Truncated();
    }
    out->append(chunk.data(), chunk.size());
  }
  return true;
}

absl::Status TarStreamReader::Skip(int64_t n) {
  while (n > 0) {
    ASSIGN_OR_RETURN(absl::string_view chunk,
                     ReadSome(static_cast<size_t>(std::min<int64_t>(n, 1 << 20))));
    if (chunk.empty()) return Truncated();
    n -= static_cast<int64_t>(chunk.size());
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> TarStreamReader::ReadSmall(int64_t size, const char* what) {
  if (size > kMaxExtendedHeader) {
    return absl::InvalidArgumentError(
        absl::StrCat("tar: a ", what, " of ", size, " bytes (more than 1 MiB: refused)"));
  }
  std::string data;
  ASSIGN_OR_RETURN(bool got, ReadExact(static_cast<size_t>(size), &data));
  if (!got && size > 0) return Truncated();
  RETURN_IF_ERROR(Skip((kBlock - size % kBlock) % kBlock));
  return data;
}

absl::StatusOr<absl::string_view> TarStreamReader::Contents::Read() {
  TarStreamReader& r = *reader_;
  if (r.remaining_ == 0) return absl::string_view();
  ASSIGN_OR_RETURN(absl::string_view chunk,
                   r.ReadSome(static_cast<size_t>(std::min<int64_t>(r.remaining_, 1 << 20))));
  if (chunk.empty()) return Truncated();
  r.remaining_ -= static_cast<int64_t>(chunk.size());
  return chunk;
}

absl::StatusOr<std::optional<TarMember>> TarStreamReader::Next() {
  if (ended_) return std::nullopt;
  RETURN_IF_ERROR(Skip(remaining_ + padding_));
  remaining_ = padding_ = 0;
  std::string long_name, long_link;
  PaxRecords pax;
  for (;;) {
    std::string header;
    ASSIGN_OR_RETURN(bool got, ReadExact(kBlock, &header));
    if (!got) return Truncated();
    if (header.find_first_not_of('\0') == std::string::npos) {
      // The end marker: two zero blocks (one is accepted, as GNU tar does); what follows is
      // block padding.
      ended_ = true;
      return std::nullopt;
    }
    const char* h = header.data();
    absl::StatusOr<int64_t> checksum = ParseNumber(h + 148, 8, "checksum");
    int64_t sum = 0;
    for (size_t i = 0; i < kBlock; ++i) {
      sum += (i >= 148 && i < 156) ? ' ' : static_cast<unsigned char>(h[i]);
    }
    if (!checksum.ok() || sum != *checksum) {
      return absl::InvalidArgumentError(
          "not a tar archive (a header checksum does not match): neither a docker-archive nor "
          "an OCI archive");
    }
    ASSIGN_OR_RETURN(int64_t size, ParseNumber(h + 124, 12, "size"));
    const char type = h[156];
    if (type == 'x') {
      ASSIGN_OR_RETURN(std::string data, ReadSmall(size, "pax header"));
      RETURN_IF_ERROR(ParsePax(data, &pax));
      continue;
    }
    if (type == 'g') {
      ASSIGN_OR_RETURN(std::string ignored, ReadSmall(size, "pax global header"));
      continue;
    }
    if (type == 'L' || type == 'K') {
      ASSIGN_OR_RETURN(std::string data, ReadSmall(size, "GNU long name"));
      data.resize(strnlen(data.data(), data.size()));
      (type == 'L' ? long_name : long_link) = std::move(data);
      continue;
    }
    if (type == 'S') {
      return absl::InvalidArgumentError(
          "tar: sparse members have no place in an image archive (refused)");
    }
    TarMember member;
    std::string name = Field(h, 100);
    if (std::memcmp(h + 257, "ustar", 5) == 0 && h[345] != '\0') {
      name = absl::StrCat(Field(h + 345, 155), "/", name);
    }
    member.path = !pax.path.empty() ? pax.path : !long_name.empty() ? long_name : name;
    member.link = !pax.linkpath.empty() ? pax.linkpath
                  : !long_link.empty()  ? long_link
                                        : Field(h + 157, 100);
    if (pax.size) size = *pax.size;
    switch (type) {
      case '0':
      case '\0':
      case '7':
        member.type = TarMember::Type::kFile;
        break;
      case '5':
        member.type = TarMember::Type::kDirectory;
        break;
      case '2':
        member.type = TarMember::Type::kSymlink;
        break;
      case '1':
        member.type = TarMember::Type::kHardlink;
        break;
      default:
        member.type = TarMember::Type::kOther;
        break;
    }
    // Only regular files carry contents in an image archive; anything else that claims some
    // has them skipped.
    member.size = member.type == TarMember::Type::kFile ? size : 0;
    remaining_ = member.type == TarMember::Type::kFile ? size : 0;
    const int64_t skipped = member.type == TarMember::Type::kFile ? 0 : size;
    padding_ = skipped + (kBlock - size % kBlock) % kBlock;
    return member;
  }
}

absl::Status TarStreamWriter::WriteHeader(const std::string& path, char type, int64_t size,
                                          int mode) {
  char h[kBlock];
  std::memset(h, 0, sizeof(h));
  if (path.size() <= 100) {
    std::memcpy(h, path.data(), path.size());
  } else {
    // ustar: prefix (up to 155) "/" name (up to 100).
    const size_t split = path.rfind('/', 155);
    if (split == std::string::npos || path.size() - split - 1 > 100 || split == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("archive member name too long for a ustar header: ", path));
    }
    std::memcpy(h, path.data() + split + 1, path.size() - split - 1);
    std::memcpy(h + 345, path.data(), split);
  }
  std::snprintf(h + 100, 8, "%07o", mode);
  std::snprintf(h + 108, 8, "%07o", 0);
  std::snprintf(h + 116, 8, "%07o", 0);
  if (size < (int64_t{1} << 33)) {
    std::snprintf(h + 124, 12, "%011llo", static_cast<unsigned long long>(size));
  } else {
    auto* field = reinterpret_cast<unsigned char*>(h + 124);
    field[0] = 0x80;
    uint64_t value = static_cast<uint64_t>(size);
    for (int i = 11; i >= 1; --i) {
      field[i] = static_cast<unsigned char>(value & 0xff);
      value >>= 8;
    }
  }
  std::snprintf(h + 136, 12, "%011o", 0);
  h[156] = type;
  std::memcpy(h + 257, "ustar", 6);
  std::memcpy(h + 263, "00", 2);
  std::memset(h + 148, ' ', 8);
  unsigned sum = 0;
  for (size_t i = 0; i < kBlock; ++i) sum += static_cast<unsigned char>(h[i]);
  std::snprintf(h + 148, 8, "%06o", sum);
  h[155] = ' ';
  return sink_->Write(absl::string_view(h, kBlock));
}

absl::Status TarStreamWriter::Pad(int64_t size) {
  static const char kZeros[kBlock] = {};
  const size_t pad = (kBlock - size % kBlock) % kBlock;
  if (pad == 0) return absl::OkStatus();
  return sink_->Write(absl::string_view(kZeros, pad));
}

absl::Status TarStreamWriter::AddDirectory(const std::string& path) {
  return WriteHeader(path + "/", '5', 0, 0755);
}

absl::Status TarStreamWriter::AddFile(const std::string& path, absl::string_view contents) {
  RETURN_IF_ERROR(WriteHeader(path, '0', static_cast<int64_t>(contents.size()), 0644));
  RETURN_IF_ERROR(sink_->Write(contents));
  return Pad(static_cast<int64_t>(contents.size()));
}

absl::Status TarStreamWriter::AddFile(const std::string& path, int64_t size,
                                      layer::ByteSource* source) {
  RETURN_IF_ERROR(WriteHeader(path, '0', size, 0644));
  int64_t written = 0;
  for (;;) {
    ASSIGN_OR_RETURN(absl::string_view chunk, source->Read());
    if (chunk.empty()) break;
    if (written + static_cast<int64_t>(chunk.size()) > size) {
      return absl::DataLossError(
          absl::StrCat(path, ": more than the ", size, " bytes it was said to have"));
    }
    RETURN_IF_ERROR(sink_->Write(chunk));
    written += static_cast<int64_t>(chunk.size());
  }
  if (written != size) {
    return absl::DataLossError(
        absl::StrCat(path, ": ", written, " bytes, not the ", size, " it was said to have"));
  }
  return Pad(size);
}

absl::Status TarStreamWriter::Finish() {
  static const char kZeros[2 * kBlock] = {};
  return sink_->Write(absl::string_view(kZeros, sizeof(kZeros)));
}

}  // namespace strata::archive
