#!/usr/bin/env bash
# The test command (README, .ci/run): unit tests, then the root integration and
# compatibility tests against real containers. Run as root.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/berth-target}"
# Integration tests share the machine's cgroups and mounts: run test binaries one at a
# time, each test binary's tests in parallel.
cargo test --workspace --no-fail-fast -- --test-threads=4
