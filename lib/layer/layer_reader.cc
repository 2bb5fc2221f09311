#include "lib/layer/layer_reader.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "lib/base/errors.h"
#include "lib/layer/decompression.h"
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

// Serves `head` (already read from source), then the rest of source.
class HeadThenRest : public ByteSource {
 public:
  HeadThenRest(std::string head, ByteSource* source) : head_(std::move(head)), source_(source) {}
  absl::StatusOr<absl::string_view> Read() override {
    if (!head_served_) {
      head_served_ = true;
      if (!head_.empty()) return absl::string_view(head_);
    }
    return source_->Read();
  }

 private:
  std::string head_;
  ByteSource* source_;
  bool head_served_ = false;
};

// libarchive's tar reader warns (ARCHIVE_WARN) when a name cannot be converted to the
// locale's charset; EntryPath and friends then use the UTF-8 form, so nothing is lost.
// Every other warning means the archive is damaged.
bool IsCharsetWarning(struct archive* tar) {
  const char* message = archive_error_string(tar);
  return message != nullptr && absl::StrContains(message, "can't be converted");
}

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

absl::Status ValidateLayerEntry(archive_entry* entry) {
  if (archive_entry_filetype(entry) == AE_IFCHR && archive_entry_rdev(entry) == 0) {
    const char* path = EntryPath(entry);
    return absl::InvalidArgumentError(absl::StrCat(
        "layer entry \"", absl::string_view(path != nullptr ? path : "").substr(0, 200),
        "\": a character device 0:0 is an overlay whiteout, not a file; layers delete files "
        "with \".wh.\" entries (OCI image spec)"));
  }
  return absl::OkStatus();
}

LayerReader::LayerReader(ByteSource* source, ByteSink* tee) : source_(source), tee_(tee) {}

LayerReader::~LayerReader() {
  if (tar_ != nullptr) archive_read_free(tar_);
}

la_ssize_t LayerReader::ReadDecompressed(struct archive*, void* client, const void** buffer) {
  auto* reader = static_cast<LayerReader*>(client);
  if (reader->decompressed_eof_) return 0;
  absl::StatusOr<absl::string_view> chunk = reader->decompressed_->Read();
  if (!chunk.ok()) {
    if (reader->io_status_.ok()) reader->io_status_ = chunk.status();
    return -1;
  }
  if (chunk->empty()) {
    reader->decompressed_eof_ = true;
    return 0;
  }
  reader->hasher_.Update(*chunk);
  reader->uncompressed_size_ += chunk->size();
  if (reader->tee_ != nullptr) {
    absl::Status status = reader->tee_->Write(*chunk);
    if (!status.ok()) {
      reader->io_status_ = status;
      return -1;
    }
  }
  *buffer = chunk->data();
  return static_cast<la_ssize_t>(chunk->size());
}

absl::Status LayerReader::Error(const char* what) {
  if (!io_status_.ok()) return io_status_;
  const char* message = archive_error_string(tar_);
  return absl::InvalidArgumentError(
      absl::StrCat("not a valid tar archive (", what, "): ", message ? message : "corrupt"));
}

absl::Status LayerReader::Open() {
  if (opened_) return open_status_;
  opened_ = true;
  open_status_ = OpenOnce();
  return open_status_;
}

absl::Status LayerReader::OpenOnce() {
  // Enough bytes to tell every compression apart (the source may hand out tiny chunks).
  std::string head;
  while (head.size() < 6) {
    ASSIGN_OR_RETURN(absl::string_view chunk, source_->Read());
    if (chunk.empty()) break;
    head.append(chunk.data(), chunk.size());
  }
  if (head.empty()) return absl::InvalidArgumentError("the stream is empty");
  compression_ = DetectCompression(head);
  head_and_rest_ = std::make_unique<HeadThenRest>(std::move(head), source_);
  decompressed_ = NewDecompressingSource(compression_, head_and_rest_.get());
  tar_ = archive_read_new();
  archive_read_support_format_tar(tar_);
  if (archive_read_open2(tar_, this, nullptr, &LayerReader::ReadDecompressed, nullptr, nullptr) !=
      ARCHIVE_OK) {
    return Error("reading");
  }
  return absl::OkStatus();
}

absl::StatusOr<archive_entry*> LayerReader::NextEntry() {
  RETURN_IF_ERROR(Open());
  archive_entry* entry = nullptr;
  const int result = archive_read_next_header(tar_, &entry);
  if (result == ARCHIVE_EOF) return nullptr;
  // ARCHIVE_RETRY is a header that failed its checksum: never an entry.
  if (result != ARCHIVE_OK && !(result == ARCHIVE_WARN && IsCharsetWarning(tar_))) {
    return Error("reading an entry header");
  }
  RETURN_IF_ERROR(CheckEntryNames(entry));
  return entry;
}

absl::StatusOr<bool> LayerReader::NextBlock(absl::string_view* data, int64_t* offset) {
  const void* buffer = nullptr;
  size_t size = 0;
  la_int64_t block_offset = 0;
  const int result = archive_read_data_block(tar_, &buffer, &size, &block_offset);
  if (result == ARCHIVE_EOF) return false;
  if (result != ARCHIVE_OK) return Error("reading entry contents");
  *data = absl::string_view(static_cast<const char*>(buffer), size);
  *offset = block_offset;
  return true;
}

absl::Status LayerReader::Finish() {
  RETURN_IF_ERROR(Open());
  // The rest of the stream (end-of-archive blocks, padding) and the compressed trailers,
  // which the decoder checks as it reaches them.
  const void* buffer = nullptr;
  while (!decompressed_eof_) {
    if (ReadDecompressed(nullptr, this, &buffer) < 0) return io_status_;
  }
  diff_id_ = hasher_.Finish();
  return absl::OkStatus();
}

}  // namespace strata::layer
