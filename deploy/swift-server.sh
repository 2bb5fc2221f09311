#!/usr/bin/env bash
# A single-host OpenStack Swift with s3api for trying `strata-layerstore --backend s3` out:
# the tests' server (tests/objectstore/swift-server.sh, same arguments). Not for production.
exec "$(dirname "$0")/../tests/objectstore/swift-server.sh" "$@"
