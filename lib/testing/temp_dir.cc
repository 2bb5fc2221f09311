#include "lib/testing/temp_dir.h"

#include <stdlib.h>

#include <cstdio>
#include <cstdlib>

#include "lib/base/fs.h"

namespace strata::testing {

TempDir::TempDir(const std::string& prefix) {
  const char* base = std::getenv("TEST_TMPDIR");
  std::string pattern = std::string(base ? base : "/tmp") + "/" + prefix + ".XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    std::perror("mkdtemp");
    std::abort();
  }
  path_ = pattern;
}

TempDir::~TempDir() { (void)RemoveAll(path_); }

}  // namespace strata::testing
