#ifndef STRATA_LIB_RPC_ADDRESSES_H_
#define STRATA_LIB_RPC_ADDRESSES_H_

// Where a single host's services listen by default, and so where clients look first: unix
// sockets under /run/strata, mode 0660, owned by root and the `strata` group (docker's model:
// whoever can reach a socket can run root containers, so only root and that group can).
// TCP is for several hosts, and then with TLS (see ServerOptions::insecure).

namespace strata::rpc {

inline constexpr char kSocketDirectory[] = "/run/strata";
inline constexpr char kDefaultLayerstoreAddress[] = "unix:/run/strata/layerstore.sock";
inline constexpr char kDefaultImagegraphAddress[] = "unix:/run/strata/imagegraph.sock";
inline constexpr char kDefaultRuntimeAddress[] = "unix:/run/strata/runtime.sock";
inline constexpr char kDefaultGatewayAddress[] = "unix:/run/strata/gateway.sock";
// The group that may use the sockets, when it exists (deploy/up.sh creates it).
inline constexpr char kDefaultSocketGroup[] = "strata";

}  // namespace strata::rpc

#endif  // STRATA_LIB_RPC_ADDRESSES_H_
