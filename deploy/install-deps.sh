#!/usr/bin/env bash
# Installs the Debian 12 packages Strata needs, only those missing (apt-get update first).
#   install-deps.sh          what the stack needs to build and run
#   install-deps.sh --test   also what the tests and benchmarks use (podman, the peer we
#                            compare diff output and speed with; python3-grpcio, a client not
#                            built from our code)
set -euo pipefail

packages=(
  # build
  bazel-bootstrap g++ protobuf-compiler protobuf-compiler-grpc libprotobuf-dev
  libgrpc++-dev libabsl-dev libarchive-dev libpqxx-dev libpq-dev libssl-dev libzstd-dev
  zlib1g-dev libcurl4-openssl-dev nlohmann-json3-dev libcli11-dev libgtest-dev libgmock-dev googletest
  # run
  postgresql runc util-linux procps ca-certificates
)
if [[ "${1:-}" == "--test" ]]; then
  packages+=(python3 python3-grpcio busybox-static zstd bzip2 xz-utils gzip podman
             libarchive-tools)
fi

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed"; then
    missing+=("$package")
  fi
done
if ((${#missing[@]} == 0)); then
  exit 0
fi
echo "installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# A fresh machine's apt-daily may hold the lock for a while: wait for it.
apt-get -o DPkg::Lock::Timeout=600 update -q
apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "${missing[@]}"
# Debian's postgresql package starts a system cluster on port 5432; Strata runs its own.
