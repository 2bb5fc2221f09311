#ifndef STRATA_SERVICES_RUNTIME_MONITOR_FRAMES_H_
#define STRATA_SERVICES_RUNTIME_MONITOR_FRAMES_H_

// The little protocol between the runtime service and a process monitor, over the monitor's
// unix socket, and the format of a container's log file (a sequence of output frames, so a
// replay from any frame boundary is a plain copy of bytes).
//
// A frame is: type (1 byte), payload length (4 bytes, big endian), payload.

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace strata::runtime {

enum class FrameType : uint8_t {
  // client -> monitor, first frame: [flags: 1 byte, bit 0 = wants stdin][replay offset: 8
  // bytes, big endian, -1 = live output only].
  kHello = 'H',
  kStdin = 'I',
  kCloseStdin = 'C',
  // [rows: 2 bytes][cols: 2 bytes], big endian.
  kResize = 'R',
  // monitor -> client (and the log file).
  kStdout = 'O',
  kStderr = 'E',
  // [unix nanoseconds: 8 bytes, big endian]: when the next output frame was read (logs -t,
  // --since). Sent before every output frame, in the log and to clients alike, so log
  // offsets and live streams agree.
  kTime = 'T',
  // [exit code: 4 bytes][finished, unix nanoseconds: 8 bytes], big endian. The last frame.
  kExit = 'Z',
};

inline constexpr size_t kFrameHeaderSize = 5;
// Largest payload accepted: output is read in smaller pieces than this anyway.
inline constexpr uint32_t kMaxFramePayload = 1 << 20;

struct Frame {
  FrameType type;
  std::string payload;
};

std::string EncodeFrame(FrameType type, absl::string_view payload);

// Writes a whole frame, retrying short writes. Errors: from errno.
absl::Status WriteFrame(int fd, FrameType type, absl::string_view payload);

// Reads frames from a blocking descriptor.
class FrameReader {
 public:
  explicit FrameReader(int fd) : fd_(fd) {}
  // The next frame; nullopt at a clean end of stream.
  // Errors: DATA_LOSS for a truncated or oversized frame, errno-based for read errors.
  absl::StatusOr<std::optional<Frame>> Next();

 private:
  int fd_;
};

// Frame payload helpers.
std::string EncodeHello(bool wants_stdin, int64_t replay_offset);
bool DecodeHello(absl::string_view payload, bool* wants_stdin, int64_t* replay_offset);
std::string EncodeResize(uint16_t rows, uint16_t cols);
bool DecodeResize(absl::string_view payload, uint16_t* rows, uint16_t* cols);
std::string EncodeTime(int64_t unix_nanos);
bool DecodeTime(absl::string_view payload, int64_t* unix_nanos);
std::string EncodeExit(int32_t exit_code, int64_t finished_unix_nanos);
bool DecodeExit(absl::string_view payload, int32_t* exit_code, int64_t* finished_unix_nanos);

}  // namespace strata::runtime

#endif  // STRATA_SERVICES_RUNTIME_MONITOR_FRAMES_H_
