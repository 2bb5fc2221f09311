#ifndef STRATA_LIB_TESTING_TEMP_DIR_H_
#define STRATA_LIB_TESTING_TEMP_DIR_H_

#include <string>

namespace strata::testing {

// A fresh directory under $TEST_TMPDIR (or /tmp), removed with everything in it when the
// object goes away.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "strata");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // path() + "/" + relative.
  std::string Join(const std::string& relative) const { return path_ + "/" + relative; }

 private:
  std::string path_;
};

}  // namespace strata::testing

#endif  // STRATA_LIB_TESTING_TEMP_DIR_H_
