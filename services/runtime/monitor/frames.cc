#include "services/runtime/monitor/frames.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "lib/base/errors.h"
#include "lib/base/fs.h"

namespace strata::runtime {
namespace {

void PutBigEndian(std::string* out, uint64_t value, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out->push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

uint64_t GetBigEndian(absl::string_view in, int bytes) {
  uint64_t value = 0;
  for (int i = 0; i < bytes; ++i) value = (value << 8) | static_cast<unsigned char>(in[i]);
  return value;
}

// Reads exactly size bytes; returns false at end of stream before the first byte.
absl::StatusOr<bool> ReadExactly(int fd, char* buffer, size_t size) {
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::read(fd, buffer + done, size - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "read frame");
    }
    if (n == 0) {
      if (done == 0) return false;
      return absl::DataLossError("truncated frame");
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

std::string EncodeFrame(FrameType type, absl::string_view payload) {
  std::string frame;
  frame.reserve(kFrameHeaderSize + payload.size());
  frame.push_back(static_cast<char>(type));
  PutBigEndian(&frame, payload.size(), 4);
  frame.append(payload.data(), payload.size());
  return frame;
}

absl::Status WriteFrame(int fd, FrameType type, absl::string_view payload) {
  const std::string frame = EncodeFrame(type, payload);
  // A peer that went away must be an EPIPE error here, not a SIGPIPE that kills whichever
  // process writes (the runtime service, or a test that links its core): send() with
  // MSG_NOSIGNAL on sockets; the log file takes plain writes.
  absl::string_view rest(frame);
  while (!rest.empty()) {
    const ssize_t n = ::send(fd, rest.data(), rest.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == ENOTSOCK) return WriteAll(fd, rest);
      return ErrnoStatus(errno, "send");
    }
    rest.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<Frame>> FrameReader::Next() {
  char header[kFrameHeaderSize];
  ASSIGN_OR_RETURN(bool more, ReadExactly(fd_, header, sizeof(header)));
  if (!more) return std::nullopt;
  const uint64_t length = GetBigEndian(absl::string_view(header + 1, 4), 4);
  if (length > kMaxFramePayload) {
    return absl::DataLossError(absl::StrCat("frame of ", length, " bytes is too large"));
  }
  Frame frame{static_cast<FrameType>(header[0]), std::string(length, '\0')};
  if (length > 0) {
    ASSIGN_OR_RETURN(bool complete, ReadExactly(fd_, frame.payload.data(), length));
    if (!complete) return absl::DataLossError("truncated frame");
  }
  return frame;
}

std::string EncodeHello(bool wants_stdin, int64_t replay_offset) {
  std::string out(1, wants_stdin ? '\1' : '\0');
  PutBigEndian(&out, static_cast<uint64_t>(replay_offset), 8);
  return out;
}

bool DecodeHello(absl::string_view payload, bool* wants_stdin, int64_t* replay_offset) {
  if (payload.size() != 9) return false;
  *wants_stdin = (payload[0] & 1) != 0;
  *replay_offset = static_cast<int64_t>(GetBigEndian(payload.substr(1), 8));
  return true;
}

std::string EncodeResize(uint16_t rows, uint16_t cols) {
  std::string out;
  PutBigEndian(&out, rows, 2);
  PutBigEndian(&out, cols, 2);
  return out;
}

bool DecodeResize(absl::string_view payload, uint16_t* rows, uint16_t* cols) {
  if (payload.size() != 4) return false;
  *rows = static_cast<uint16_t>(GetBigEndian(payload, 2));
  *cols = static_cast<uint16_t>(GetBigEndian(payload.substr(2), 2));
  return true;
}

std::string EncodeTime(int64_t unix_nanos) {
  std::string out;
  PutBigEndian(&out, static_cast<uint64_t>(unix_nanos), 8);
  return out;
}

bool DecodeTime(absl::string_view payload, int64_t* unix_nanos) {
  if (payload.size() != 8) return false;
  *unix_nanos = static_cast<int64_t>(GetBigEndian(payload, 8));
  return true;
}

std::string EncodeExit(int32_t exit_code, int64_t finished_unix_nanos) {
  std::string out;
  PutBigEndian(&out, static_cast<uint32_t>(exit_code), 4);
  PutBigEndian(&out, static_cast<uint64_t>(finished_unix_nanos), 8);
  return out;
}

bool DecodeExit(absl::string_view payload, int32_t* exit_code, int64_t* finished_unix_nanos) {
  if (payload.size() != 12) return false;
  *exit_code = static_cast<int32_t>(GetBigEndian(payload, 4));
  *finished_unix_nanos = static_cast<int64_t>(GetBigEndian(payload.substr(4), 8));
  return true;
}

}  // namespace strata::runtime
