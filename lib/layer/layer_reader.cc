#include "lib/layer/layer_reader.h"

#include "absl/strings/str_cat.h"
#include "lib/base/errors.h"
#include "lib/layer/limits.h"

namespace strata::layer {

const char* EntryPath(archive_entry* entry) {
  const char* path = archive_entry_pathname(entry);
  return path != nullptr ? path : archive_entry_pathname_utf8(entry);
}

const char* EntrySymlink(archive_entry* entry) {
  const char* target = archive_entry_symlink(entry);
  return target != nullptr ? target : archive_entry_symlink_utf8(entry);
}

const char* EntryHardlink(archive_entry* entry) {
  const char* target = archive_entry_hardlink(entry);
  return target != nullptr ? target : archive_entry_hardlink_utf8(entry);
}

namespace {

// Refuses names no file system call can take (and no error message can quote whole).
absl::Status CheckEntryNames(archive_entry* entry) {
  const char* path = EntryPath(entry);
  const char* link = EntrySymlink(entry);
  if (link == nullptr) link = EntryHardlink(entry);
  for (const char* name : {path, link}) {
    if (name == nullptr) continue;
    const absl::string_view text(name);
    if (text.size() <= kMaxEntryPathSize) continue;
    const std::string shown = ShortenMiddle(path != nullptr ? path : "");
    return absl::InvalidArgumentError(absl::StrCat(
        "layer entry \"", shown, "\": path too long (", text.size(), " bytes",
        name == link ? " in its link target" : "", "; PATH_MAX allows ", kMaxEntryPathSize, ")"));
  }
  return absl::OkStatus();
}

}  // namespace

LayerReader::LayerReader(ByteSource* source, ByteSink* tee) : source_(source), tee_(tee) {}

LayerReader::~LayerReader() {
  if (tar_ != nullptr) archive_read_free(tar_);
  if (decompressor_ != nullptr) archive_read_free(decompressor_);
}

la_ssize_t LayerReader::ReadCompressed(struct archive*, void* client, const void** buffer) {
  auto* reader = static_cast<LayerReader*>(client);
  absl::StatusOr<absl::string_view> chunk = reader->source_->Read();
  if (!chunk.ok()) {
    reader->io_status_ = chunk.status();
    return -1;
  }
  *buffer = chunk->data();
  return static_cast<la_ssize_t>(chunk->size());
}

la_ssize_t LayerReader::ReadDecompressed(struct archive*, void* client, const void** buffer) {
  auto* reader = static_cast<LayerReader*>(client);
  if (reader->decompressed_eof_) return 0;
  size_t size = 0;
  la_int64_t offset = 0;
  const int result = archive_read_data_block(reader->decompressor_, buffer, &size, &offset);
  if (result == ARCHIVE_EOF) {
    reader->decompressed_eof_ = true;
    return 0;
  }
  if (result < ARCHIVE_WARN) {
    if (reader->io_status_.ok()) {
      const char* message = archive_error_string(reader->decompressor_);
      reader->io_status_ = absl::InvalidArgumentError(
          absl::StrCat("decompressing: ", message ? message : "corrupt data"));
    }
    return -1;
  }
  absl::string_view data(static_cast<const char*>(*buffer), size);
  reader->hasher_.Update(data);
  reader->uncompressed_size_ += size;
  if (reader->tee_ != nullptr) {
    absl::Status status = reader->tee_->Write(data);
    if (!status.ok()) {
      reader->io_status_ = status;
      return -1;
    }
  }
  return static_cast<la_ssize_t>(size);
}

absl::Status LayerReader::Error(struct archive* which, const char* what) {
  if (!io_status_.ok()) return io_status_;
  const char* message = archive_error_string(which);
  return absl::InvalidArgumentError(
      absl::StrCat("not a valid tar archive (", what, "): ", message ? message : "corrupt"));
}

absl::Status LayerReader::Open() {
  opened_ = true;
  decompressor_ = archive_read_new();
  archive_read_support_filter_gzip(decompressor_);
  archive_read_support_filter_bzip2(decompressor_);
  archive_read_support_filter_xz(decompressor_);
  archive_read_support_filter_zstd(decompressor_);
  archive_read_support_format_raw(decompressor_);
  if (archive_read_open2(decompressor_, this, nullptr, &LayerReader::ReadCompressed, nullptr,
                         nullptr) != ARCHIVE_OK) {
    return Error(decompressor_, "reading");
  }
  archive_entry* raw = nullptr;
  const int result = archive_read_next_header(decompressor_, &raw);
  if (result == ARCHIVE_EOF) return absl::InvalidArgumentError("the stream is empty");
  if (result < ARCHIVE_WARN) return Error(decompressor_, "detecting the compression");
  switch (archive_filter_code(decompressor_, 0)) {
    case ARCHIVE_FILTER_GZIP:
      compression_ = Compression::kGzip;
      break;
    case ARCHIVE_FILTER_BZIP2:
      compression_ = Compression::kBzip2;
      break;
    case ARCHIVE_FILTER_XZ:
      compression_ = Compression::kXz;
      break;
    case ARCHIVE_FILTER_ZSTD:
      compression_ = Compression::kZstd;
      break;
    default:
      compression_ = Compression::kNone;
  }
  tar_ = archive_read_new();
  archive_read_support_format_tar(tar_);
  if (archive_read_open2(tar_, this, nullptr, &LayerReader::ReadDecompressed, nullptr, nullptr) !=
      ARCHIVE_OK) {
    return Error(tar_, "reading");
  }
  return absl::OkStatus();
}

absl::StatusOr<archive_entry*> LayerReader::NextEntry() {
  if (!opened_) RETURN_IF_ERROR(Open());
  archive_entry* entry = nullptr;
  const int result = archive_read_next_header(tar_, &entry);
  if (result == ARCHIVE_EOF) return nullptr;
  if (result < ARCHIVE_WARN) return Error(tar_, "reading an entry header");
  RETURN_IF_ERROR(CheckEntryNames(entry));
  return entry;
}

absl::StatusOr<bool> LayerReader::NextBlock(absl::string_view* data, int64_t* offset) {
  const void* buffer = nullptr;
  size_t size = 0;
  la_int64_t block_offset = 0;
  const int result = archive_read_data_block(tar_, &buffer, &size, &block_offset);
  if (result == ARCHIVE_EOF) return false;
  if (result < ARCHIVE_WARN) return Error(tar_, "reading entry contents");
  *data = absl::string_view(static_cast<const char*>(buffer), size);
  *offset = block_offset;
  return true;
}

absl::Status LayerReader::Finish() {
  if (!opened_) RETURN_IF_ERROR(Open());
  const void* buffer = nullptr;
  while (!decompressed_eof_) {
    if (ReadDecompressed(nullptr, this, &buffer) < 0) return io_status_;
  }
  diff_id_ = hasher_.Finish();
  return absl::OkStatus();
}

}  // namespace strata::layer
