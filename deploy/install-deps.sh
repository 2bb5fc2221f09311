#!/usr/bin/env bash
# Installs the Debian 12 packages Strata needs, only those missing (apt-get update first).
#   install-deps.sh          what the stack needs to build and run
#   install-deps.sh --test   also what the tests and benchmarks use (clang-14 for the fuzz
#                            targets; podman, the peer we
#                            compare diff output and speed with; python3-grpcio and Node.js
#                            with the npm packages of examples/node, clients not built from
#                            our code)
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  # build
  bazel-bootstrap g++ protobuf-compiler protobuf-compiler-grpc libprotobuf-dev
  libgrpc++-dev libabsl-dev libarchive-dev libpqxx-dev libpq-dev libssl-dev libzstd-dev
  zlib1g-dev libdeflate-dev liblzma-dev libbz2-dev libcurl4-openssl-dev nlohmann-json3-dev libcli11-dev libgtest-dev libgmock-dev googletest
  # run
  postgresql runc util-linux procps ca-certificates
)
if [[ "${1:-}" == "--test" ]]; then
  # clang-14 and libclang-rt-14-dev: the libFuzzer targets (fuzz/run.sh).
  packages+=(python3 python3-grpcio busybox-static zstd bzip2 xz-utils gzip podman
             libarchive-tools clang-14 libclang-rt-14-dev docker-registry python3-jwt
             python3-bcrypt openssl skopeo umoci
             # the s3 backend's tests and benchmark: OpenStack Swift with s3api, all in one
             # (tests/objectstore/swift-server.sh), curl for the benchmark's baseline
             swift swift-proxy swift-object swift-container swift-account python3-swift
             memcached curl
             # ss: which layerstore replica carries a transfer (tests/multihost)
             iproute2)
fi

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed"; then
    missing+=("$package")
  fi
done
if ((${#missing[@]} > 0)); then
  echo "installing: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  # A fresh machine's apt-daily may hold the lock for a while: wait for it.
  apt-get -o DPkg::Lock::Timeout=600 update -q
  apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "${missing[@]}"
  # Debian's postgresql package starts a system cluster on port 5432; Strata runs its own.
fi

if [[ "${1:-}" == "--test" ]]; then
  # Node.js for the gateway example (examples/node): Debian's when the machine has none.
  if ! command -v npm >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=600 update -q
    apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends nodejs npm
  fi
  # Its packages, exactly as the lock file says, into a cache the test installs from offline.
  npm_cache=/var/cache/strata/npm
  mkdir -p "$npm_cache"
  (cd examples/node && npm ci --no-audit --no-fund --cache "$npm_cache" >/dev/null)
fi
