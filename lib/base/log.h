#ifndef STRATA_LIB_BASE_LOG_H_
#define STRATA_LIB_BASE_LOG_H_

// Minimal leveled logging to stderr: one line per message, with time and level, written
// with a single write(2) so lines from several threads never interleave.
//
//   STRATA_LOG(INFO) << "listening on " << address;

#include <sstream>

namespace strata {

enum class LogLevel { kInfo, kWarning, kError };

class LogLine {
 public:
  LogLine(LogLevel level, const char* file, int line);
  ~LogLine();
  LogLine(const LogLine&) = delete;
  LogLine& operator=(const LogLine&) = delete;

  template <typename T>
  LogLine& operator<<(const T& value) {
    stream_ << value;
    return *this;
  }

 private:
  std::ostringstream stream_;
};

}  // namespace strata

#define STRATA_LOG_LEVEL_INFO ::strata::LogLevel::kInfo
#define STRATA_LOG_LEVEL_WARNING ::strata::LogLevel::kWarning
#define STRATA_LOG_LEVEL_ERROR ::strata::LogLevel::kError
#define STRATA_LOG(level) ::strata::LogLine(STRATA_LOG_LEVEL_##level, __FILE__, __LINE__)

#endif  // STRATA_LIB_BASE_LOG_H_
