#ifndef STRATA_LIB_BASE_VERSION_H_
#define STRATA_LIB_BASE_VERSION_H_

namespace strata {

// The release every binary reports (`strata version`, the services' startup line).
inline constexpr char kVersion[] = "0.1.0";

}  // namespace strata

#endif  // STRATA_LIB_BASE_VERSION_H_
