#include "lib/base/random.h"

#include <sys/random.h>

#include <cerrno>
#include <cstdint>
#include <random>
#include <vector>

namespace strata {

std::string RandomHex(size_t length) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::vector<uint8_t> bytes((length + 1) / 2);
  size_t filled = 0;
  while (filled < bytes.size()) {
    const ssize_t n = ::getrandom(bytes.data() + filled, bytes.size() - filled, 0);
    if (n > 0) {
      filled += static_cast<size_t>(n);
    } else if (n < 0 && errno != EINTR) {
      // No getrandom (an old kernel): the C++ library's source instead.
      std::random_device device;
      for (; filled < bytes.size(); ++filled) bytes[filled] = static_cast<uint8_t>(device());
    }
  }
  std::string out;
  out.reserve(length);
  for (size_t i = 0; i < length; ++i) {
    const uint8_t byte = bytes[i / 2];
    out.push_back(kHex[i % 2 == 0 ? byte >> 4 : byte & 15]);
  }
  return out;
}

}  // namespace strata
