#ifndef STRATA_SERVICES_LAYERSTORE_CORE_TEST_BLOBS_H_
#define STRATA_SERVICES_LAYERSTORE_CORE_TEST_BLOBS_H_

// Blob contents for layerstore tests: reproducible pseudo-random bytes, so that every blob of a
// test is distinct and a mixed-up byte changes the digest.

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>

namespace strata::layerstore {

inline std::string RandomBytes(size_t size, uint64_t seed) {
  std::mt19937_64 generator(seed);
  std::string bytes(size, '\0');
  size_t at = 0;
  while (at < size) {
    const uint64_t word = generator();
    const size_t n = std::min(sizeof(word), size - at);
    std::memcpy(&bytes[at], &word, n);
    at += n;
  }
  return bytes;
}

}  // namespace strata::layerstore

#endif  // STRATA_SERVICES_LAYERSTORE_CORE_TEST_BLOBS_H_
