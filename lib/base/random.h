#ifndef STRATA_LIB_BASE_RANDOM_H_
#define STRATA_LIB_BASE_RANDOM_H_

// Random identifiers (container ids, upload refs) from the kernel's random source.

#include <cstddef>
#include <string>

namespace strata {

// `length` lowercase hex digits.
std::string RandomHex(size_t length);

}  // namespace strata

#endif  // STRATA_LIB_BASE_RANDOM_H_
